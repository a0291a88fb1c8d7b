#!/usr/bin/env node
/**
 * `npm start`: the whole witness on this machine. DynamoDB Local (state kept in the data folder),
 * the table, the same handlers Lambda runs behind http://127.0.0.1:8787, and a demo site.
 * Options: --port N (or TIEBREAK_PORT), --data DIR (or TIEBREAK_DATA_DIR); timings from TIEBREAK_* (see README).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { apiChannelsFromEnv } from '../functions/adapters/api-config.ts';
import { witnessConfigFromEnv } from '../functions/adapters/config.ts';
import { incidentSettingsFromEnv } from '../functions/adapters/incident-config.ts';
import { dueShards, localDueShards } from '../functions/adapters/site-item.ts';
import { provisionDemoSite } from '../local/demo-site.ts';
import { type LocalStack, startLocalStack } from '../local/local-stack.ts';
import { localSecret } from '../local/local-secret.ts';
import { withLocalDefaults } from '../local/local-env-defaults.ts';
import { consolePath } from '../protocol/console-routes.ts';
import { parseCommand } from './cli/command.ts';

const usage = `usage: npm start [-- --port N] [--data DIR]

Runs the whole witness on this machine: DynamoDB Local and fauxqs (their state kept in the data
folder), the same handlers Lambda runs, the reseller API and console, and a demo site whose
tokens and API key it prints (and writes to DIR/demo-site.json). Ctrl-C stops everything.

  --port N      the port (else TIEBREAK_PORT, else 8787)
  --data DIR    the data folder (else TIEBREAK_DATA_DIR, else .tiebreak/local)
  -h, --help    this text

Timings and the rest come from TIEBREAK_* variables: docs/settings.md.`;
const { values, refuse } = parseCommand({
  name: 'tiebreak',
  usage,
  help: 'npm start -- --help',
  options: { port: { type: 'string' }, data: { type: 'string' } },
});
const port = Number(values.port ?? process.env.TIEBREAK_PORT ?? 8787);
const dataDir = resolve(values.data ?? process.env.TIEBREAK_DATA_DIR ?? '.tiebreak/local');

function fail(message: string): never {
  console.error(`tiebreak: ${message}`);
  process.exit(1);
}

if (!Number.isInteger(port) || port < 1 || port > 65_535) refuse(`--port must be a port number, not ${String(values.port)}`);
// The engine here has no partition limit, and a detector run reads every shard of a bucket: fewer
// shards than in AWS, unless set (functions/adapters/site-item.ts has the reasoning).
process.env.TIEBREAK_DUE_SHARDS ??= String(localDueShards);
try {
  dueShards();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

/** Ends start-up when a signal came during it: the stack stops what had started. */
class Stopping extends Error {}
/** Stops start-up between its steps. */
const aborting = new AbortController();
let stack: LocalStack | undefined;
// An object, not a `let`: start-up reads what stop() writes later.
const stopping = { begun: false };

// Ctrl-C reaches this process alone (DynamoDB Local runs detached), which stops everything in
// order: the server, then the pollers and timers (a read under way is cut short), then the engines.
async function stop(): Promise<void> {
  if (stopping.begun) return;
  stopping.begun = true;
  aborting.abort();
  // The start-up step under way, if any, finishes; no other begins.
  await startup.catch(() => undefined);
  await stack?.stop();
  console.log('\nTiebreak witness (local) stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
// A closed terminal: the detached engine must not outlive this process.
process.on('SIGHUP', () => void stop());

// Signals come between the steps below at the earliest: stop() finds `startup` set.
const startup = (async () => {
  await mkdir(dataDir, { recursive: true });
  // The settings as the functions read them (the same schema), the keys kept in the data folder.
  const tokenKey = process.env.TIEBREAK_TOKEN_KEY ?? (await localSecret(resolve(dataDir, 'token-key')));
  const config = witnessConfigFromEnv({
    ...process.env,
    TIEBREAK_TABLE: process.env.TIEBREAK_TABLE ?? 'tiebreak',
    TIEBREAK_TOKEN_KEY: tokenKey,
  });
  const adminKey = process.env.TIEBREAK_ADMIN_KEY ?? (await localSecret(resolve(dataDir, 'admin-key')));
  // Queues and topics are named by TIEBREAK_CHANNEL_PREFIX (default `tiebreak`), as the stack's prefix does in AWS.
  // npm start allows loopback webhook receivers and bearer hooks over its plain HTTP unless told not to (local/local-env-defaults.ts).
  const { channelPrefix, addressPolicy, allowHttpHooks } = apiChannelsFromEnv(withLocalDefaults(process.env));
  stack = await startLocalStack({
    port,
    tableName: config.tableName,
    tokenKey: config.tokenKey,
    adminKey,
    settings: config.settings,
    ...(config.retention ? { retention: config.retention } : {}),
    incidents: incidentSettingsFromEnv(),
    // DynamoDB Local and fauxqs, their data kept in the data folder: state and pending timers survive a restart.
    dynamodb: { dataDir: resolve(dataDir, 'dynamodb'), detached: true },
    snsSqs: { dataDir: resolve(dataDir, 'sns-sqs') },
    channelPrefix,
    addressPolicy,
    allowHttpHooks: allowHttpHooks === true,
    // The reseller console, built now by esbuild into memory, served by the console function's handler as in AWS.
    serve: { api: true, console: 'now' },
    run: { events: true, incidents: true, webhooks: true, detector: true },
    holdReady: true,
    signal: aborting.signal,
  }).catch((error: unknown) => {
    if (aborting.signal.aborted) throw new Stopping();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      fail(`port ${port} is taken: is another \`npm start\` running? (choose another with --port)`);
    }
    fail(error instanceof Error ? error.message : String(error));
  });
  const { api, routes, incidents, webhooks, topicArn } = stack;
  const local = { url: stack.url };
  const engine = { endpoint: stack.dynamoEndpoint };
  const snsSqs = { endpoint: stack.snsSqsEndpoint };
  const settings = stack.settings;

  const demoFile = resolve(dataDir, 'demo-site.json');
  const { site, created } = await provisionDemoSite(api, local.url, demoFile);
  const [first, second] = site.nodes;
  if (stopping.begun) return;
  stack.markReady();

  console.log(`Tiebreak witness (local) listening on ${local.url}
  node protocol:  POST /v1/node/heartbeat, POST /v1/node/claim, POST /v1/node/enroll, POST /v1/node/maintenance
  events:         the table's stream → the publisher → each site's audit trail (GET /v1/sites/{siteId}/events)
                  and the SNS topic ${topicArn} on ${snsSqs.endpoint} (fauxqs)
  incidents:      the queue ${incidents?.incidentsQueueUrl} → trackers, escalation timers, deliveries
                  to each reseller's service queue (GET /v1/reseller/service-queue) and alerts topic
  webhooks:       the outbox ${webhooks?.outboxUrl} → signed deliveries with retries (POST /v1/webhooks);
                  loopback receivers ${addressPolicy.allowLoopback ? 'allowed (TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK=false refuses them, as AWS does)' : 'refused (TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK is set, not true)'};
                  inbound hooks on POST /v1/hooks/{integrationId} (POST /v1/integrations)
  silence:        the detector runs every minute: site.down after ${settings.silenceMs} ms with no node heard
  reseller API:   ${Object.keys(routes).filter((r) => r.includes(' /v1/') && !r.includes('/v1/node/')).length} routes under /v1/, described by ${local.url}/openapi.json
  console:        ${local.url}${consolePath} (sign in with the demo reseller's API key below)
  DynamoDB Local: ${engine.endpoint} (table ${config.tableName}, data in ${resolve(dataDir, 'dynamodb')})
  demo site:      ${site.resellerId}/${site.siteId} ${created ? '(created now)' : '(kept from the last start)'}
  lease ${settings.leaseMs} ms, heartbeats ${settings.fastHeartbeatMs} ms fast / ${settings.slowHeartbeatMs} ms slow
  survivor mode:  a node unheard ${settings.exclusionMs} ms beyond its cadence is excluded; standalone leases last ${settings.standaloneLeaseMs === null ? 'until readmission' : `${settings.standaloneLeaseMs} ms after each renewal`}

  ${first?.nodeId} token: ${first?.token}
  ${second?.nodeId} token: ${second?.token}
  demo reseller's API key: ${site.apiKey}
  admin key (creates resellers): in ${resolve(dataDir, 'admin-key')}
  (witness URL, ids, tokens and the API key are in ${demoFile})

Send a heartbeat as ${first?.nodeId}:
  curl -s ${local.url}/v1/node/heartbeat -H 'authorization: Bearer ${first?.token}' \\
    -H 'content-type: application/json' \\
    -d "{\\"incarnation\\":$(date +%s),\\"seq\\":$(date +%s%3N),\\"epoch\\":0,\\"role\\":\\"secondary\\",\\"peer\\":{\\"reachable\\":false}}"

Ctrl-C stops everything.`);
})();
startup.catch((error: unknown) => {
  if (error instanceof Stopping) return;
  console.error('tiebreak: start-up failed', error);
  process.exit(1);
});
