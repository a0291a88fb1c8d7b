import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { verifyNodeToken } from '../../functions/adapters/node-token.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

interface Printed {
  witnessUrl: string | null;
  resellerId: string;
  siteId: string;
  created: boolean;
  nodes: { nodeId: string; tokenVersion: number; token: string }[];
}

const tokenKey = randomBytes(32);
let tableName: string;
let witness: LocalStack;
let secrets: FakeSecretsManager;
let dir: string;

/** `npm run provision-site -- …`, as a process of its own, against this run's DynamoDB Local. */
async function provision(args: string[], env: Record<string, string> = {}): Promise<Printed> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/provision-site.ts', ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      TIEBREAK_DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
      POWERTOOLS_LOG_LEVEL: 'WARN',
      ...env,
    },
  });
  return JSON.parse(stdout) as Printed;
}

beforeAll(async () => {
  tableName = `provision-${randomBytes(6).toString('hex')}`;
  witness = await startLocalStack({ dynamodb: { endpoint: inject('dynamoEndpoint') }, tableName, tokenKey });
  secrets = await startFakeSecretsManager();
  dir = await mkdtemp(join(tmpdir(), 'tiebreak-provision-'));
});
afterAll(async () => {
  await witness.stop();
  await secrets.close();
});

test('creates a site and prints one token per node, which the witness accepts', async () => {
  const out = join(dir, 'sites', 'site.json');
  const printed = await provision(['--reseller', 'acme', '--site', 'dental-office', '--url', witness.url, '--out', out], {
    TIEBREAK_TABLE: tableName,
    TIEBREAK_TOKEN_KEY: tokenKey.toString('base64'),
  });
  expect(printed).toMatchObject({ witnessUrl: witness.url, resellerId: 'acme', siteId: 'dental-office', created: true });
  expect(printed.nodes.map((n) => [n.nodeId, n.tokenVersion])).toEqual([
    ['node-a', 1],
    ['node-b', 1],
  ]);
  expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(printed);
  expect((await stat(out)).mode & 0o777).toBe(0o600);

  for (const node of printed.nodes) {
    expect(verifyNodeToken(tokenKey, node.token)).toEqual({
      resellerId: 'acme',
      siteId: 'dental-office',
      nodeId: node.nodeId,
      tokenVersion: 1,
    });
    const response = await fetch(`${witness.url}/v1/node/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ incarnation: 1, seq: 1, epoch: 0, role: 'secondary' }),
    });
    expect(response.status).toBe(200);
  }
});

test('run again for the same site, it changes nothing and prints the same tokens', async () => {
  const env = { TIEBREAK_TABLE: tableName, TIEBREAK_TOKEN_KEY: tokenKey.toString('base64') };
  const first = await provision(['--reseller', 'acme', '--site', 'branch-office'], env);
  const again = await provision(['--reseller', 'acme', '--site', 'branch-office'], env);
  expect(first.created).toBe(true);
  expect(again).toEqual({ ...first, created: false });
});

test('with the outputs file of `cdk deploy`, the table and the key come from the deployment (the key from its secret)', async () => {
  const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:TokenKeySecret-XyZ';
  secrets.secrets.set(secretArn, tokenKey.toString('base64'));
  const outputs = join(dir, 'cdk-outputs.json');
  await writeFile(
    outputs,
    JSON.stringify({
      Tiebreak: {
        ApiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/',
        TableName: tableName,
        TokenKeySecretArn: secretArn,
        EventTopicArn: 'x',
      },
    }),
  );
  const printed = await provision(['--outputs', outputs, '--reseller', 'acme', '--site', 'head-office', '--nodes', 'srv-1,srv-2'], {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  expect(secrets.reads).toEqual([secretArn]);
  expect(printed).toMatchObject({ witnessUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/', siteId: 'head-office', created: true });
  expect(printed.nodes.map((n) => verifyNodeToken(tokenKey, n.token)?.nodeId)).toEqual(['srv-1', 'srv-2']);
});

test('bad ids, one node, or an existing site with other nodes are refused with a message', async () => {
  const env = { TIEBREAK_TABLE: tableName, TIEBREAK_TOKEN_KEY: tokenKey.toString('base64') };
  // Bad input is exit 2, as for every command; a site it may not change, exit 1.
  await expect(provision(['--reseller', 'Acme!', '--site', 'x'], env)).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--reseller: lowercase letters, digits and dashes') as unknown,
  });
  await expect(provision(['--reseller', 'acme', '--site', 'x', '--nodes', 'node-a'], env)).rejects.toMatchObject({
    stderr: expect.stringContaining('a site has two nodes') as unknown,
  });
  await expect(provision(['--reseller', 'acme', '--site', 'dental-office', '--nodes', 'srv-1,srv-2'], env)).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('exists with nodes node-a, node-b; this tool does not change a site') as unknown,
  });
});
