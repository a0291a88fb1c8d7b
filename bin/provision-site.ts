#!/usr/bin/env node
/**
 * `npm run provision-site`: creates a site in a witness's table and prints its node tokens, for the
 * agents' `witness.token`. The interim way to enroll a site, until the reseller API and enrollment.
 *
 *   npm run provision-site -- --outputs .tiebreak/cdk-outputs.json --reseller acme --site dental-office [--nodes node-a,node-b] [--out FILE]
 *
 * Where the witness is: `--outputs`, the file `cdk deploy --outputs-file` wrote (the table, the
 * key's secret, the API URL), or the witness's own variables (TIEBREAK_TABLE with
 * TIEBREAK_TOKEN_KEY_SECRET_ARN, or TIEBREAK_TOKEN_KEY and TIEBREAK_DYNAMODB_ENDPOINT for a local
 * witness). AWS credentials and region come from the usual places (AWS_PROFILE, AWS_REGION, …):
 * it reads the secret (secretsmanager:GetSecretValue) and writes the table (dynamodb:PutItem, and
 * GetItem when the site exists already).
 *
 * A site that exists is left as it is; its nodes' tokens are printed at their current version.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';
import { loadWitnessConfig, witnessDeps } from '../functions/adapters/config.ts';
import { dynamoClient } from '../functions/adapters/dynamo-clients.ts';
import { signNodeToken } from '../functions/adapters/node-token.ts';
import { newSite } from '../functions/domain/site-state.ts';
import { Identifier } from '../protocol/ids.ts';
import { parseCommand } from './cli/command.ts';

const usage = `usage: npm run provision-site -- --reseller R --site S [--nodes A,B] [--outputs FILE [--stack NAME]] [--url URL] [--out FILE]

Creates site R/S in a witness's table directly (no reseller API) and prints its two nodes' tokens
as JSON, signed with the witness's key. A site that exists is left as it is; its tokens are printed.

  --reseller R      the reseller's id (required)
  --site S          the site's id (required)
  --nodes A,B       the two nodes' ids (default node-a,node-b)
  --outputs FILE    the file cdk deploy --outputs-file wrote: the table, the key's secret, the API URL;
                    without it, TIEBREAK_TABLE with TIEBREAK_TOKEN_KEY_SECRET_ARN (or TIEBREAK_TOKEN_KEY
                    and TIEBREAK_DYNAMODB_ENDPOINT for a local witness)
  --stack NAME      the stack in --outputs (default Tiebreak)
  --url URL         the witness URL printed for the agents (default: the outputs' ApiUrl)
  --out FILE        also write the JSON to FILE, readable by you only
  -h, --help        this text

It uses the usual AWS credentials: secretsmanager:GetSecretValue, dynamodb:PutItem and GetItem.`;

const { values, refuse, fail } = parseCommand({
  name: 'provision-site',
  usage,
  help: 'npm run provision-site -- --help',
  options: {
    reseller: { type: 'string' },
    site: { type: 'string' },
    nodes: { type: 'string', default: 'node-a,node-b' },
    outputs: { type: 'string' },
    stack: { type: 'string', default: 'Tiebreak' },
    url: { type: 'string' },
    out: { type: 'string' },
  },
});

const Args = z.object({
  reseller: Identifier,
  site: Identifier,
  nodes: z.array(Identifier).length(2, 'a site has two nodes'),
});
const args = Args.safeParse({ reseller: values.reseller, site: values.site, nodes: values.nodes.split(',').map((n) => n.trim()) });
const {
  reseller: resellerId,
  site: siteId,
  nodes: nodeIds,
} = args.success ? args.data : refuse(args.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
if (nodeIds[0] === nodeIds[1]) refuse('--nodes: the two nodes need different ids');

// `cdk deploy --outputs-file` writes { "<stack>": { "ApiUrl": …, "TableName": …, "TokenKeySecretArn": … } }.
const StackOutputs = z.object({ ApiUrl: z.string(), TableName: z.string(), TokenKeySecretArn: z.string() });
let env: NodeJS.ProcessEnv = process.env;
let witnessUrl = values.url;
if (values.outputs) {
  const file = values.outputs;
  const all = await readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as unknown)
    .catch(() => fail(`cannot read ${file} as JSON`));
  const stack = StackOutputs.safeParse((all as Record<string, unknown> | null)?.[values.stack]);
  const outputs = stack.success
    ? stack.data
    : fail(`${file} has no outputs of stack ${values.stack} (ApiUrl, TableName, TokenKeySecretArn)`);
  env = { ...process.env, TIEBREAK_TABLE: outputs.TableName, TIEBREAK_TOKEN_KEY_SECRET_ARN: outputs.TokenKeySecretArn };
  witnessUrl ??= outputs.ApiUrl;
}

const config = await loadWitnessConfig(env).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
const client = dynamoClient(config.endpoints ?? {});
try {
  const { store } = witnessDeps({ ...config, dynamo: client });
  const created = await store.create(newSite({ resellerId, siteId, nodeIds }));
  const state = created ? undefined : await store.load({ resellerId, siteId });
  if (state) {
    const existing = Object.keys(state.nodes).sort();
    if (existing.join(',') !== [...nodeIds].sort().join(',')) {
      fail(`site ${resellerId}/${siteId} exists with nodes ${existing.join(', ')}; this tool does not change a site`);
    }
  }
  const site = {
    witnessUrl: witnessUrl ?? null,
    resellerId,
    siteId,
    created,
    nodes: nodeIds.map((nodeId) => {
      const tokenVersion = state?.nodes[nodeId]?.tokenVersion ?? 1;
      return { nodeId, tokenVersion, token: signNodeToken(config.tokenKey, { resellerId, siteId, nodeId, tokenVersion }) };
    }),
  };
  const json = `${JSON.stringify(site, null, 2)}\n`;
  if (values.out) {
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, json, { mode: 0o600 });
  }
  process.stdout.write(json);
} finally {
  client.destroy();
}
