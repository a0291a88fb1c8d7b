import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, test, vi } from 'vitest';
import { witnessDeps } from '../../functions/adapters/config.ts';
import { logger } from '../../functions/adapters/logger.ts';
import { signNodeToken } from '../../functions/adapters/node-token.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { newSite } from '../../functions/domain/site-state.ts';
import { handler as claim } from '../../functions/handlers/claim.ts';
import { handler as heartbeat } from '../../functions/handlers/heartbeat.ts';
import { createLocalServer, listen, type LocalServer } from '../../local/http-server.ts';
import { freshTable } from '../support/dynamo.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.ts';

/**
 * The Lambda exports themselves (`handler`, deps from the environment), configured as the CDK
 * stack configures them: the signing key in a secret named by TIEBREAK_TOKEN_KEY_SECRET_ARN, read
 * through the real SDK (Powertools Parameters) from a stand-in Secrets Manager.
 */
const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:TokenKeySecret-AbCdEf';
// As the stack generates it: 64 letters and digits, which read as base64 are 48 bytes.
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const secretValue = Array.from(randomBytes(64), (b) => alphabet[b % alphabet.length]).join('');
const tokenKey = Buffer.from(secretValue, 'base64');

let secrets: FakeSecretsManager;
let server: LocalServer;
let tokenA: string;
let seq = 0;

beforeAll(async () => {
  secrets = await startFakeSecretsManager();
  secrets.secrets.set(secretArn, secretValue);
  const { client, tableName } = await freshTable('secret-key');
  await witnessDeps({ tableName, tokenKey, settings: defaultSettings, dynamo: client }).store.create(
    newSite({ resellerId: 'reseller-1', siteId: 'site-1', nodeIds: ['node-a', 'node-b'] }),
  );
  client.destroy();
  tokenA = signNodeToken(tokenKey, { resellerId: 'reseller-1', siteId: 'site-1', nodeId: 'node-a', tokenVersion: 1 });
  Object.assign(process.env, {
    TIEBREAK_TABLE: tableName,
    TIEBREAK_TOKEN_KEY_SECRET_ARN: secretArn,
    TIEBREAK_DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  delete process.env.TIEBREAK_TOKEN_KEY;
  server = await listen(
    createLocalServer({
      'POST /v1/node/heartbeat': { functionName: 'tiebreak-heartbeat', handler: heartbeat },
      'POST /v1/node/claim': { functionName: 'tiebreak-claim', handler: claim },
    }),
    0,
  );
});
afterAll(async () => {
  await server.close();
  await secrets.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenA}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const heartbeatBody = () => ({ incarnation: 1, seq: ++seq, epoch: 0, role: 'secondary', peer: { reachable: true } });

test('a failed read of the signing key answers 500 without detail, logs the cause, and the next request reads it again', async () => {
  secrets.failNext = 1;
  const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
  const failed = await post('/v1/node/heartbeat', heartbeatBody());
  expect(failed).toEqual({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
  expect(logged).toHaveBeenCalledWith(
    'request failed',
    expect.objectContaining({ message: "Secrets Manager can't find the specified secret." }),
  );
  logged.mockRestore();
  expect(secrets.reads).toEqual([secretArn]);

  const retried = await post('/v1/node/heartbeat', heartbeatBody());
  expect(retried.status).toBe(200);
  expect(secrets.reads).toEqual([secretArn, secretArn]);
});

test('the signing key is read from its secret once per cold start: later heartbeats and claims verify tokens from memory', async () => {
  expect((await post('/v1/node/heartbeat', heartbeatBody())).status).toBe(200);
  const reads = secrets.reads.length;
  expect(reads).toBeGreaterThan(0);
  expect((await post('/v1/node/claim', { incarnation: 1, seq: ++seq, epoch: 0, reason: 'startup' })).body).toEqual({
    granted: true,
    epoch: 1,
    leaseMs: defaultSettings.leaseMs,
    standalone: null,
  });
  expect((await post('/v1/node/heartbeat', { ...heartbeatBody(), role: 'primary', epoch: 1 })).status).toBe(200);
  expect(secrets.reads.length).toBe(reads);
});

test('a token signed with another key is refused with 401', async () => {
  const other = signNodeToken(randomBytes(32), { resellerId: 'reseller-1', siteId: 'site-1', nodeId: 'node-a', tokenVersion: 1 });
  const response = await fetch(`${server.url}/v1/node/heartbeat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${other}` },
    body: JSON.stringify(heartbeatBody()),
  });
  expect(response.status).toBe(401);
});
