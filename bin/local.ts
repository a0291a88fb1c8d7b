#!/usr/bin/env node
/**
 * `npm start`: the whole witness on this machine. DynamoDB Local (state kept in the data folder),
 * the table, the same handlers Lambda runs behind http://127.0.0.1:8787, and a demo site.
 * Options: --port N (or TIEBREAK_PORT), --data DIR (or TIEBREAK_DATA_DIR); timings from TIEBREAK_* (see README).
 */
import { localSnsClient } from '../functions/adapters/messaging-clients.ts';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { apiDeps, apiRateLimit, defaultChannelPrefix } from '../functions/adapters/api-config.ts';
import { incidentSettingsFromEnv } from '../functions/adapters/incident-config.ts';
import { IncidentLinkSigner } from '../functions/adapters/incident-links.ts';
import { startIncidentRuntime } from '../local/incident-runtime.ts';
import { startWebhookRuntime } from '../local/webhook-runtime.ts';
import { addressPolicyFromEnv } from '../functions/adapters/address-policy.ts';
import { publisherDeps } from '../functions/adapters/publisher-config.ts';
import { publisherHandler } from '../functions/handlers/publisher.ts';
import { localDynamoClientConfig, witnessConfigFromEnv, witnessDeps } from '../functions/adapters/config.ts';
import { ensureTable } from '../functions/adapters/table.ts';
import { provisionDemoSite } from '../local/demo-site.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { createLocalServer, listen, type Routes } from '../local/http-server.ts';
import { localSecret } from '../local/local-secret.ts';
import { apiRoutesFor } from '../local/api-routes.ts';
import { consoleRoutes } from '../local/console-routes.ts';
import { consolePath } from '../protocol/console-routes.ts';
import { ensureEventTopic, startSnsSqs } from '../local/sns-sqs.ts';
import { startStreamPoller, streamsClient } from '../local/stream-poller.ts';
import { detectorDeps } from '../functions/adapters/detector-config.ts';
import { detectorHandler } from '../functions/handlers/detector.ts';
import { dueShards, localDueShards } from '../functions/adapters/site-item.ts';
import { startDetectorTimer } from '../local/detector-timer.ts';
import { witnessRoutes } from '../local/witness-routes.ts';

const { values } = parseArgs({
  options: { port: { type: 'string' }, data: { type: 'string' } },
});
const port = Number(values.port ?? process.env.TIEBREAK_PORT ?? 8787);
const dataDir = resolve(values.data ?? process.env.TIEBREAK_DATA_DIR ?? '.tiebreak/local');
/** Names the local queues and topics (`tiebreak-incidents`, `tiebreak-svc-<reseller>`, …), as the stack's prefix does in AWS. */
const channelPrefix = process.env.TIEBREAK_CHANNEL_PREFIX ?? defaultChannelPrefix;

function fail(message: string): never {
  console.error(`tiebreak: ${message}`);
  process.exit(1);
}

if (!Number.isInteger(port) || port < 1 || port > 65_535) fail(`--port must be a port number, not ${String(values.port)}`);
// The engine here has no partition limit, and a detector run reads every shard of a bucket: fewer
// shards than in AWS, unless set (functions/adapters/site-item.ts has the reasoning).
process.env.TIEBREAK_DUE_SHARDS ??= String(localDueShards);
try {
  dueShards();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

// Take the port first: a second `npm start` stops here, before it touches the engine's files.
// Routes are filled in once the engine is up; until then every request answers 503 (starting).
let ready = false;
const routes: Routes = {};
const server = createLocalServer(routes, { isReady: () => ready });
const local = await listen(server, port).catch((error: unknown) => {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    fail(`port ${port} is taken: is another \`npm start\` running? (choose another with --port)`);
  }
  throw error;
});

/** What has started, stopped in reverse: the pollers and timers before the engines they use. */
const stoppers: (() => Promise<void> | void)[] = [];
/** Ends start-up when a signal came during it: stop() stops what had started. */
class Stopping extends Error {}
// An object, not a `let`: start-up reads what stop() writes later.
const stopping = { begun: false };
function started<T>(what: T, stopper: (what: T) => Promise<void> | void): T {
  stoppers.push(() => stopper(what));
  if (stopping.begun) throw new Stopping();
  return what;
}

// Ctrl-C reaches this process alone (DynamoDB Local runs detached), which stops everything in
// order: the server, then the pollers and timers (a read under way is cut short), then the engines.
async function stop(): Promise<void> {
  if (stopping.begun) return;
  stopping.begun = true;
  await local.close();
  // The start-up step under way, if any, finishes; no other begins.
  await startup.catch(() => undefined);
  for (const stopper of stoppers.reverse()) await stopper();
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
  const engine = started(
    await startDynamoDbLocal({ dataDir: resolve(dataDir, 'dynamodb'), detached: true }).catch((error: unknown) => {
      fail(error instanceof Error ? error.message : String(error));
    }),
    (engine) => engine.stop(),
  );
  process.env.TIEBREAK_TABLE ??= 'tiebreak';
  process.env.TIEBREAK_TOKEN_KEY ??= await localSecret(resolve(dataDir, 'token-key'));
  const adminKey = process.env.TIEBREAK_ADMIN_KEY ?? (await localSecret(resolve(dataDir, 'admin-key')));
  process.env.TIEBREAK_DYNAMODB_ENDPOINT = engine.endpoint;
  const config = witnessConfigFromEnv();
  const client = started(new DynamoDBClient(localDynamoClientConfig(engine.endpoint)), (client) => {
    client.destroy();
  });
  await ensureTable(client, config.tableName);
  // SNS and SQS (fauxqs), kept beside DynamoDB Local's data: the events topic, the incidents and
  // webhook queues, and each reseller's service queue and alerts topic.
  const snsSqs = started(await startSnsSqs({ dataDir: resolve(dataDir, 'sns-sqs') }), (snsSqs) => snsSqs.stop());
  const topicArn = await ensureEventTopic(snsSqs.endpoint);
  const deps = witnessDeps(config, client);
  // Webhook endpoints may be loopback addresses only when asked (TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK=true): a receiver on this machine.
  const addressPolicy = addressPolicyFromEnv();
  const api = {
    ...apiDeps(config, adminKey, client, apiRateLimit, { snsSqsEndpoint: snsSqs.endpoint, channelPrefix, allowLoopbackWebhooks: addressPolicy.allowLoopback }),
    publicUrl: local.url,
  };
  // The reseller console, built now by esbuild into memory, served by the console function's handler as in AWS.
  Object.assign(routes, witnessRoutes(deps), apiRoutesFor(api), await consoleRoutes({ build: 'now' }));
  // The table's stream feeds the event publisher, as the event source mapping does in AWS.
  started(
    await startStreamPoller({
      client,
      streams: streamsClient(engine.endpoint),
      tableName: config.tableName,
      handler: publisherHandler(() => publisherDeps(config.tableName, config.settings, client, localSnsClient(snsSqs.endpoint), topicArn, config.retention)),
    }),
    (poller) => poller.stop(),
  );
  // Incidents: the queue subscribed to the topic, fed to the incidents handler; timers are delayed messages on it.
  const incidents = started(
    await startIncidentRuntime({
      snsSqsEndpoint: snsSqs.endpoint,
      topicArn,
      dynamo: client,
      tableName: config.tableName,
      channelPrefix,
      settings: incidentSettingsFromEnv(),
      links: new IncidentLinkSigner(config.tokenKey, local.url),
    }),
    (incidents) => incidents.stop(),
  );
  // Webhooks: the outbox (the topic's events and the incidents' webhook steps) → router → delayed tries → deliverer.
  const webhooks = started(
    await startWebhookRuntime({ snsSqsEndpoint: snsSqs.endpoint, topicArn, dynamo: client, tableName: config.tableName, channelPrefix, policy: addressPolicy, retention: config.retention }),
    (webhooks) => webhooks.stop(),
  );
  api.webhookJobs = webhooks.deps.jobs;
  // The silence detector, every minute, as the EventBridge schedule runs it in AWS.
  started(startDetectorTimer({ handler: detectorHandler(() => detectorDeps(config.tableName, config.settings, client)) }), (detector) => detector.stop());

  const demoFile = resolve(dataDir, 'demo-site.json');
  const { site, created } = await provisionDemoSite(api, local.url, demoFile);
  const [first, second] = site.nodes;
  if (stopping.begun) return;
  ready = true;

  console.log(`Tiebreak witness (local) listening on ${local.url}
  node protocol:  POST /v1/node/heartbeat, POST /v1/node/claim, POST /v1/node/enroll, POST /v1/node/maintenance
  events:         the table's stream → the publisher → each site's audit trail (GET /v1/sites/{siteId}/events)
                  and the SNS topic ${topicArn} on ${snsSqs.endpoint} (fauxqs)
  incidents:      the queue ${incidents.incidentsQueueUrl} → trackers, escalation timers, deliveries
                  to each reseller's service queue (GET /v1/reseller/service-queue) and alerts topic
  webhooks:       the outbox ${webhooks.outboxUrl} → signed deliveries with retries (POST /v1/webhooks);
                  loopback receivers ${addressPolicy.allowLoopback ? 'allowed' : 'refused (TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK=true allows them)'};
                  inbound hooks on POST /v1/hooks/{integrationId} (POST /v1/integrations)
  silence:        the detector runs every minute: site.down after ${config.settings.silenceMs} ms with no node heard
  reseller API:   ${Object.keys(routes).filter((r) => r.includes(' /v1/') && !r.includes('/v1/node/')).length} routes under /v1/, described by ${local.url}/openapi.json
  console:        ${local.url}${consolePath} (sign in with the demo reseller's API key below)
  DynamoDB Local: ${engine.endpoint} (table ${config.tableName}, data in ${resolve(dataDir, 'dynamodb')})
  demo site:      ${site.resellerId}/${site.siteId} ${created ? '(created now)' : '(kept from the last start)'}
  lease ${config.settings.leaseMs} ms, heartbeats ${config.settings.fastHeartbeatMs} ms fast / ${config.settings.slowHeartbeatMs} ms slow
  survivor mode:  a node unheard ${config.settings.exclusionMs} ms beyond its cadence is excluded; standalone leases last ${config.settings.standaloneLeaseMs === null ? 'until readmission' : `${config.settings.standaloneLeaseMs} ms after each renewal`}

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
