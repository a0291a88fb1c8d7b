import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AddressPolicy } from '../functions/adapters/address-policy.ts';
import { type ApiDeps, defaultChannelPrefix } from '../functions/adapters/api-config.ts';
import { apiDeps } from '../functions/adapters/api-deps.ts';
import { type WitnessConfig, witnessDeps, type WitnessDeps } from '../functions/adapters/config.ts';
import { detectorDeps } from '../functions/adapters/detector-config.ts';
import { documentClient, dynamoClient } from '../functions/adapters/dynamo-clients.ts';
import { IncidentLinkSigner } from '../functions/adapters/incident-links.ts';
import { localSnsClient, localSqsClient } from '../functions/adapters/messaging-clients.ts';
import { signNodeToken } from '../functions/adapters/node-token.ts';
import { publisherDeps } from '../functions/adapters/publisher-config.ts';
import type { RetentionSettings } from '../functions/adapters/retention.ts';
import { ensureTable } from '../functions/adapters/table.ts';
import type { IncidentSettings } from '../functions/domain/incidents.ts';
import type { RateLimit } from '../functions/domain/rate-limit.ts';
import { defaultSettings, type WitnessSettings } from '../functions/domain/settings.ts';
import { newSite, type SitePolicy } from '../functions/domain/site-state.ts';
import { detectorHandler } from '../functions/handlers/detector.ts';
import { publisherHandler } from '../functions/handlers/publisher.ts';
import type { ApiFunctionName } from '../protocol/api-routes.ts';
import { apiRoutesFor } from './api-routes.ts';
import { consoleRoutes } from './console-routes.ts';
import { startDetectorTimer } from './detector-timer.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { createLocalServer, listen, type LocalServerOptions, type Routes } from './http-server.ts';
import { type IncidentRuntime, startIncidentRuntime } from './incident-runtime.ts';
import { localQueue } from './local-queue.ts';
import { ensureEventTopic, startSnsSqs } from './sns-sqs.ts';
import type { QueueHandler } from './sqs-poller.ts';
import { type StreamHandler, type StreamPoller, startStreamPoller, streamsClient } from './stream-poller.ts';
import { startWebhookRuntime, type WebhookRuntime } from './webhook-runtime.ts';
import { witnessRoutes } from './witness-routes.ts';

/** An engine already running (its endpoint), or one started now: in memory, or kept under `dataDir`. */
export type EngineChoice = { endpoint: string } | { dataDir?: string; detached?: boolean };

export interface LocalStackOptions {
  /** The one clock, server ms; default real time. */
  clock?: () => number;
  /** The witness's timings; those unset are the defaults. */
  settings?: Partial<WitnessSettings>;
  /** Default `tiebreak`. */
  tableName?: string;
  /** Signs node tokens; default a random key. */
  tokenKey?: Buffer;
  /** The operator's key (creates resellers); default a random key. */
  adminKey?: string;
  retention?: RetentionSettings;
  /** The incidents' settle time; unset, the default. */
  incidents?: IncidentSettings;
  /** DynamoDB Local; default one started now, in memory. */
  dynamodb?: EngineChoice;
  /** The DynamoDB client every function uses, with the caller's meters on it (the caller destroys it); default one made now. */
  dynamo?: DynamoDBClient;
  /** fauxqs (SNS and SQS); default none (no resellers' channels, events, incidents or webhooks). */
  snsSqs?: EngineChoice;
  /** The SQS and SNS clients the background functions use, with the caller's meters on them (the caller destroys them); default ones made now. */
  sqs?: SQSClient;
  sns?: SNSClient;
  /** Names the local queues and topics, as the stack's prefix does in AWS; default `tiebreak`. */
  channelPrefix?: string;
  /** Which addresses webhooks may reach; default public addresses only. */
  addressPolicy?: AddressPolicy;
  /** Inbound hooks' bearer tokens accepted over plain HTTP; default true: this server speaks HTTP (AWS: HTTPS only). */
  allowHttpHooks?: boolean;
  /** The reseller API's limit per key; default the API's own. */
  rateLimit?: RateLimit;
  /** What the server serves besides the node protocol: the reseller API (with its OpenAPI document) and the console. */
  serve?: { api?: boolean; console?: 'now' | 'on-first-request' };
  /**
   * The background work, as AWS runs it: the table's stream to the publisher, the incidents queue,
   * the webhook queues (each needs `snsSqs`), and the silence detector every minute.
   */
  run?: { events?: boolean; incidents?: boolean; webhooks?: boolean; detector?: boolean };
  /** The events topic's name; default `npm start`'s. Tests sharing one fauxqs give each stack its own. */
  eventTopicName?: string;
  /** Router and deliverer batches in flight at once, each; default the webhook runtime's. */
  webhookConcurrency?: number;
  /** Wraps the background functions' handlers (the caller times each invocation, or feeds the publisher itself). */
  wrap?: { stream?: (handler: StreamHandler) => StreamHandler; queue?: (functionName: string, handler: QueueHandler) => QueueHandler };
  /** Default 0: a free port. */
  port?: number;
  /**
   * Each witness function its own deps (its own memory of sites), and each of the API's functions
   * its own (its own rate limits; `api` those the stack answers), as separate Lambda functions have.
   */
  depsPerFunction?: boolean;
  onInvocation?: LocalServerOptions['onInvocation'];
  /** Requests answer 503 (starting) until `markReady()` rather than as soon as the stack has started. */
  holdReady?: boolean;
  /** Ends start-up between steps (a signal during `npm start`): what had started is stopped, and the promise rejects. */
  signal?: AbortSignal;
}

export interface LocalStack {
  url: string;
  tableName: string;
  tokenKey: Buffer;
  adminKey: string;
  settings: WitnessSettings;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  dynamoEndpoint: string;
  snsSqsEndpoint: string | undefined;
  topicArn: string | undefined;
  /** The witness functions' deps (with `depsPerFunction`, those of set-up calls). */
  witness: WitnessDeps;
  api: ApiDeps;
  incidents: IncidentRuntime | undefined;
  webhooks: WebhookRuntime | undefined;
  /** The table's stream to the publisher (with `run.events`): `drain()` resolves once every record written before has been handed on. */
  events: Pick<StreamPoller, 'drain'> | undefined;
  routes: Routes;
  /** Creates a site with the given nodes (reseller `harness` unless given) and answers each node's token. */
  createSite(
    siteId: string,
    nodeIds: readonly string[],
    options?: { resellerId?: string; policy?: SitePolicy },
  ): Promise<Record<string, string>>;
  markReady(): void;
  /** Stops in reverse order of start: the server, the pollers and timers, then the engines started here. */
  stop(): Promise<void>;
}

/**
 * The whole service on this machine, assembled one way: the same per-function assembly the Lambda
 * handlers use (functions/adapters/*-config.ts), given settings instead of the environment, behind
 * the local HTTP server and the pollers that stand in for API Gateway, event source mappings and
 * schedules. `npm start`, the chaos harness, the tests and the benchmarks all start it here.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const clock = options.clock ?? (() => Date.now());
  const stoppers: (() => Promise<void> | void)[] = [];
  let closeServer: (() => Promise<void>) | undefined;
  // The server first (no request starts on a stopping stack), then the rest in reverse order of start.
  const stopAll = async () => {
    const close = closeServer;
    closeServer = undefined;
    await close?.();
    for (const stopper of stoppers.splice(0).reverse()) await stopper();
  };
  function started<T>(what: T, stopper: (what: T) => Promise<void> | void): T {
    stoppers.push(() => stopper(what));
    options.signal?.throwIfAborted();
    return what;
  }
  let ready = false;
  const routes: Routes = {};
  try {
    // The port first: a second `npm start` stops here, before it touches the engine's files.
    const server = await listen(
      createLocalServer(routes, { isReady: () => ready, ...(options.onInvocation ? { onInvocation: options.onInvocation } : {}) }),
      options.port ?? 0,
    );
    closeServer = () => server.close();
    options.signal?.throwIfAborted();
    const dynamoChoice = options.dynamodb ?? {};
    const dynamoEndpoint =
      'endpoint' in dynamoChoice
        ? dynamoChoice.endpoint
        : started(await startDynamoDbLocal(dynamoChoice), (engine) => engine.stop()).endpoint;
    const dynamo =
      options.dynamo ??
      started(dynamoClient({ dynamodb: dynamoEndpoint }), (client) => {
        client.destroy();
      });
    const tableName = options.tableName ?? 'tiebreak';
    await ensureTable(dynamo, tableName);
    const snsSqsChoice = options.snsSqs;
    const snsSqsEndpoint =
      snsSqsChoice === undefined
        ? undefined
        : 'endpoint' in snsSqsChoice
          ? snsSqsChoice.endpoint
          : started(await startSnsSqs(snsSqsChoice.dataDir ? { dataDir: snsSqsChoice.dataDir } : {}), (engine) => engine.stop()).endpoint;
    const run = options.run ?? {};
    const needsTopic = [run.events, run.incidents, run.webhooks].some(Boolean);
    if (needsTopic && !snsSqsEndpoint) throw new Error('startLocalStack: events, incidents and webhooks need snsSqs');
    const topicArn = needsTopic && snsSqsEndpoint ? await ensureEventTopic(snsSqsEndpoint, options.eventTopicName) : undefined;
    const channelPrefix = options.channelPrefix ?? defaultChannelPrefix;
    const addressPolicy = options.addressPolicy ?? { allowLoopback: false };
    const settings = { ...defaultSettings, ...options.settings };
    const config: WitnessConfig = {
      tableName,
      tokenKey: options.tokenKey ?? randomBytes(32),
      settings,
      endpoints: { dynamodb: dynamoEndpoint, snsSqs: snsSqsEndpoint },
      ...(options.retention ? { retention: options.retention } : {}),
    };
    const adminKey = options.adminKey ?? randomBytes(32).toString('base64url');

    // Webhooks: the outbox (the topic's events and the incidents' webhook steps) → router → delayed tries → deliverer.
    const messaging = { ...(options.sqs ? { sqs: options.sqs } : {}), ...(options.sns ? { sns: options.sns } : {}) };
    const wrapQueue = options.wrap?.queue ? { wrap: options.wrap.queue } : {};
    const webhooks =
      run.webhooks && snsSqsEndpoint && topicArn
        ? started(
            await startWebhookRuntime({
              snsSqsEndpoint,
              topicArn,
              dynamo,
              tableName,
              channelPrefix,
              policy: addressPolicy,
              retention: config.retention,
              links: new IncidentLinkSigner(config.tokenKey, server.url),
              now: clock,
              ...(options.webhookConcurrency ? { concurrency: options.webhookConcurrency } : {}),
              ...messaging,
              ...wrapQueue,
            }),
            (webhooks) => webhooks.stop(),
          )
        : undefined;
    // Replays and endpoint tests are scheduled on the deliveries queue, drained or not.
    const webhookDeliveriesUrl =
      webhooks?.deliveriesUrl ?? (snsSqsEndpoint ? await deliveriesQueue(snsSqsEndpoint, channelPrefix) : undefined);

    const newWitnessDeps = () => witnessDeps({ ...config, dynamo, now: clock });
    const witness = newWitnessDeps();
    const newApiDeps = () =>
      apiDeps({
        ...config,
        dynamo,
        adminKey,
        channelPrefix,
        webhookDeliveriesUrl,
        addressPolicy,
        publicUrl: server.url,
        allowHttpHooks: options.allowHttpHooks ?? true,
        now: clock,
        ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      });
    const api = newApiDeps();
    // With depsPerFunction, the api function answers with `api` (the stack's own) and each other function with its own.
    const apiDepsOf = (name: ApiFunctionName) => (name === 'api' ? api : newApiDeps());
    Object.assign(
      routes,
      options.depsPerFunction ? routesWithDepsPerFunction(newWitnessDeps) : witnessRoutes(witness),
      options.serve?.api ? apiRoutesFor(api, options.depsPerFunction ? { depsOf: apiDepsOf } : {}) : {},
      options.serve?.console ? await consoleRoutes({ build: options.serve.console }) : {},
    );

    // The table's stream feeds the event publisher, as the event source mapping does in AWS.
    let events: StreamPoller | undefined;
    if (run.events && snsSqsEndpoint && topicArn) {
      const sns =
        options.sns ??
        started(localSnsClient(snsSqsEndpoint), (sns) => {
          sns.destroy();
        });
      const publisher = publisherDeps({ ...config, topicArn, dynamo, sns });
      const handler = publisherHandler(() => publisher);
      events = started(
        await startStreamPoller({
          client: dynamo,
          streams: streamsClient(dynamoEndpoint),
          tableName,
          handler: options.wrap?.stream?.(handler) ?? handler,
        }),
        (poller) => poller.stop(),
      );
    }
    // Incidents: the queue subscribed to the topic, fed to the incidents handler; timers are delayed messages on it.
    const incidents =
      run.incidents && snsSqsEndpoint && topicArn
        ? started(
            await startIncidentRuntime({
              snsSqsEndpoint,
              topicArn,
              dynamo,
              tableName,
              channelPrefix,
              links: new IncidentLinkSigner(config.tokenKey, server.url),
              now: clock,
              ...(options.incidents ? { settings: options.incidents } : {}),
              ...messaging,
              ...wrapQueue,
            }),
            (incidents) => incidents.stop(),
          )
        : undefined;
    // The silence detector, every minute, as the EventBridge schedule runs it in AWS.
    if (run.detector) {
      const detector = detectorDeps({ ...config, dynamo, now: clock });
      started(startDetectorTimer({ handler: detectorHandler(() => detector) }), (timer) => timer.stop());
    }
    if (!options.holdReady) ready = true;

    const resellerOf = 'harness';
    return {
      url: server.url,
      tableName,
      tokenKey: config.tokenKey,
      adminKey,
      settings,
      dynamo,
      doc: documentClient(dynamo),
      dynamoEndpoint,
      snsSqsEndpoint,
      topicArn,
      witness,
      api,
      incidents,
      webhooks,
      events,
      routes,
      async createSite(siteId, nodeIds, site = {}) {
        const resellerId = site.resellerId ?? resellerOf;
        await witness.store.create(newSite({ resellerId, siteId, nodeIds, ...(site.policy ? { policy: site.policy } : {}) }));
        return Object.fromEntries(
          nodeIds.map((nodeId) => [nodeId, signNodeToken(config.tokenKey, { resellerId, siteId, nodeId, tokenVersion: 1 })]),
        );
      },
      markReady() {
        ready = true;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The deliveries queue replays are scheduled on, where no deliverer drains it. */
async function deliveriesQueue(snsSqsEndpoint: string, channelPrefix: string): Promise<string> {
  const sqs = localSqsClient(snsSqsEndpoint);
  try {
    return (await localQueue(sqs, `${channelPrefix}-webhook-deliveries`)).url;
  } finally {
    sqs.destroy();
  }
}

/** Each function its own deps (its own memory of sites), as separate Lambda functions have. */
function routesWithDepsPerFunction(newDeps: () => WitnessDeps): Routes {
  const routes: Routes = {};
  const probe = witnessRoutes(newDeps());
  const byFunction = new Map<string, Routes>();
  for (const [key, { functionName }] of Object.entries(probe)) {
    let own = byFunction.get(functionName);
    if (!own) {
      own = witnessRoutes(newDeps());
      byFunction.set(functionName, own);
    }
    const route = own[key];
    if (route) routes[key] = route;
  }
  return routes;
}
