/**
 * The webhook path of the cost bench's event path (`event-path.ts`), measured the same way: the
 * real router and deliverer handlers (`functions/handlers/webhook-router.ts`,
 * `webhook-deliverer.ts`) built from `webhookDeps` with counted clients (`RequestCounter`,
 * `CapacityMeter`, `MessagingMeter` of their own, so that the incidents path's figures stay its
 * own), fed by the local queue poller (`startQueuePoller`) as Lambda's SQS event source mappings
 * feed them, each invocation run alone under the replay's lock with its wall time and log lines.
 *
 * Since the webhook pipeline, the outbox takes every event of the events topic (lib/webhook-queues.ts:
 * raw delivery, no filter), so every site pays for its router, whether its reseller has an
 * endpoint or not. Two variants, replayed side by side on the same events (each its own outbox,
 * subscribed to the topic as the stack subscribes it, and its own deliveries queue):
 * - `none`: a reseller with no endpoints. The router reads the reseller's endpoints (one Query,
 *   through its 2 s cache) and finds none. Its table is an empty one of its own, so that the other
 *   variant's endpoint is not seen: the same Query, the same answer as the site table without one.
 * - `endpoint`: a reseller with one endpoint (the conditions and incident steps, template
 *   `generic`) at a local HTTP receiver on 127.0.0.1 that answers 204 at once; the router stores a
 *   message per matching event and schedules its try, the deliverer sends it and records it. The
 *   message items' changes (`MSG#`) pass the stream's filter into the publisher: they go through a
 *   publisher on this variant's clients, so that what they cost is this variant's.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { documentClient, localDynamoClientConfig } from '../functions/adapters/dynamo-clients.ts';
import { localSnsClient, localSqsClient } from '../functions/adapters/messaging-clients.ts';
import { publisherDeps } from '../functions/adapters/publisher-config.ts';
import { RequestCounter } from '../functions/adapters/request-counter.ts';
import { ensureTable } from '../functions/adapters/table.ts';
import { webhookMessageSkPrefix, webhookPkPrefix } from '../functions/adapters/tenancy-items.ts';
import { type WebhookDeps, webhookDeps } from '../functions/adapters/webhook-config.ts';
import { newWebhookSecret, WebhookEndpointStore } from '../functions/adapters/webhook-endpoint-store.ts';
import type { WitnessSettings } from '../functions/domain/settings.ts';
import type { EndpointEventType } from '../protocol/events.ts';
import { lambdaContext } from '../local/api-gateway-event.ts';
import { type LocalQueue, localQueue, webhookOutboxName } from '../local/local-queue.ts';
import { type QueuePoller, startQueuePoller } from '../local/sqs-poller.ts';
import { CapacityMeter } from './ddb-meter.ts';
import type { HandlerRun } from './event-path.ts';
import { MessagingMeter } from './messaging-meter.ts';

export type WebhookVariant = 'none' | 'endpoint';

/** The endpoint of the `endpoint` variant: the conditions and the incident steps. */
export const endpointEventTypes: EndpointEventType[] = [
  'node.lost',
  'site.down',
  'link.lost',
  'node.degraded',
  'failover.granted',
  'incident.opened',
  'incident.escalated',
  'incident.acknowledged',
  'incident.resolved',
];
const endpointId = 'cost-endpoint';

/** The webhook functions as the stack deploys them (lib/witness-stack.ts functionSpecs, lib/webhook-queues.ts), or the fallbacks. */
export interface WebhookFunctionFacts {
  routerTimeoutSeconds: number;
  delivererTimeoutSeconds: number;
  maxReceiveCount: number;
  source: string;
}

export async function webhookFunctionFacts(): Promise<WebhookFunctionFacts> {
  try {
    const { functionSpecs } = await import('../lib/witness-stack.ts');
    const { webhookMaxReceiveCount } = await import('../lib/webhook-queues.ts');
    return {
      routerTimeoutSeconds: functionSpecs.webhookRouter.timeoutSeconds,
      delivererTimeoutSeconds: functionSpecs.webhookDeliverer.timeoutSeconds,
      maxReceiveCount: webhookMaxReceiveCount,
      source: 'lib/witness-stack.ts functionSpecs (timeoutSeconds; no memory of their own: lib/witness-function.ts memorySizeMb, as every function)',
    };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { routerTimeoutSeconds: 30, delivererTimeoutSeconds: 60, maxReceiveCount: 10, source: `assumed 30 s and 60 s (lib/witness-stack.ts did not load: ${why})` };
  }
}

/** What the endpoint's receiver saw: the POSTs and their bytes on the wire (request line, headers, body; TLS aside). */
export interface ReceiverCounts {
  posts: number;
  bytesOut: number;
  statuses: Record<string, number>;
}

/** An HTTP receiver on 127.0.0.1 that answers 204 at once and counts what reaches it. */
class Receiver {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    readonly counts: ReceiverCounts,
  ) {}

  static async start(): Promise<Receiver> {
    const counts: ReceiverCounts = { posts: 0, bytesOut: 0, statuses: {} };
    const server = http.createServer((request: IncomingMessage, response: ServerResponse) => {
      let bytes = Buffer.byteLength(`${request.method ?? ''} ${request.url ?? ''} HTTP/${request.httpVersion}\r\n\r\n`);
      for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) bytes += Buffer.byteLength(`${request.rawHeaders[i] ?? ''}: ${request.rawHeaders[i + 1] ?? ''}\r\n`);
      request.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      request.on('end', () => {
        counts.posts++;
        counts.bytesOut += bytes;
        counts.statuses['204'] = (counts.statuses['204'] ?? 0) + 1;
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new Receiver(server, `http://127.0.0.1:${String(port)}/hook`, counts);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}

/** What the replay gives a variant while it runs. */
export interface WebhookRunContext {
  dynamoEndpoint: string;
  snsSqsEndpoint: string;
  topicArn: string;
  settings: WitnessSettings;
  /** The replay's clock (witness ms): the handlers' `now`. */
  now: () => number;
  /** Runs a handler alone (the replay's lock) and measures its time and log lines. */
  exclusive: <T>(fn: () => Promise<T>) => Promise<{ result: T; run: HandlerRun }>;
}

/** What one variant measured, for `event-path-usage.ts` to price. */
export interface WebhookPathResult {
  variant: WebhookVariant;
  routerRuns: HandlerRun[];
  delivererRuns: HandlerRun[];
  /** The publisher's runs on the variant's message records (`MSG#`), and how many records. */
  publisherRuns: HandlerRun[];
  publisherRecords: number;
  /** Stream records of the variant's own items (messages, delivery log lines), by kind. */
  streamRecords: Record<string, number>;
  requests: RequestCounter;
  capacity: CapacityMeter;
  messaging: MessagingMeter;
  outboxUrl: string;
  deliveriesUrl: string;
  /** The receiver's counts (`endpoint`), or none. */
  receiver: ReceiverCounts | undefined;
  failures: string[];
}

interface Queues {
  outbox: LocalQueue;
  deliveries: LocalQueue;
  deadLetters: LocalQueue;
}

/** One variant's queues, table and receiver, set up before the day (uncounted, on the bench's own clients). */
export class WebhookPath {
  private constructor(
    readonly variant: WebhookVariant,
    private readonly o: { tableName: string; channelPrefix: string; facts: WebhookFunctionFacts },
    private readonly rawSqs: SQSClient,
    readonly queues: Queues,
    private readonly receiver: Receiver | undefined,
  ) {}

  static async setUp(o: {
    variant: WebhookVariant;
    sqs: SQSClient;
    sns: SNSClient;
    dynamo: DynamoDBClient;
    topicArn: string;
    tableName: string;
    channelPrefix: string;
    resellerId: string;
    facts: WebhookFunctionFacts;
    now: number;
  }): Promise<WebhookPath> {
    const queues = await webhookQueues(o.sqs, o.channelPrefix, o.variant, o.facts);
    // As lib/webhook-queues.ts subscribes the outbox: raw delivery, no filter.
    await o.sns.send(new SubscribeCommand({ TopicArn: o.topicArn, Protocol: 'sqs', Endpoint: queues.outbox.arn, Attributes: { RawMessageDelivery: 'true' } }));
    if (o.variant === 'none') {
      const tableName = `${o.tableName}-no-endpoints`;
      await ensureTable(o.dynamo, tableName);
      return new WebhookPath(o.variant, { tableName, channelPrefix: o.channelPrefix, facts: o.facts }, o.sqs, queues, undefined);
    }
    const receiver = await Receiver.start();
    const store = new WebhookEndpointStore(documentClient(o.dynamo), o.tableName);
    const created = await store.createEndpoint(o.resellerId, endpointId, { url: receiver.url, eventTypes: endpointEventTypes, template: 'generic', enabled: true }, newWebhookSecret(), o.now);
    if (!created) throw new Error('the bench endpoint exists already');
    return new WebhookPath(o.variant, { tableName: o.tableName, channelPrefix: o.channelPrefix, facts: o.facts }, o.sqs, queues, receiver);
  }

  /** Starts the variant's functions for the replay (the handlers load now: after the bench set the logger's level). */
  async run(ctx: WebhookRunContext): Promise<WebhookRun> {
    const { webhookRouterHandler } = await import('../functions/handlers/webhook-router.ts');
    const { webhookDelivererHandler } = await import('../functions/handlers/webhook-deliverer.ts');
    const { publisherHandler } = await import('../functions/handlers/publisher.ts');
    const clients = countedClients(ctx);
    const deps = webhookDeps({
      tableName: this.o.tableName,
      dynamo: clients.dynamo,
      sqs: clients.sqs,
      sns: clients.sns,
      deliveriesQueueUrl: this.queues.deliveries.url,
      deadLettersQueueUrl: this.queues.deadLetters.url,
      channelPrefix: this.o.channelPrefix,
      // The receiver is on loopback: the local runtime's policy for it.
      policy: { allowLoopback: true },
      now: ctx.now,
    });
    const publisher = publisherHandler(() => publisherDeps({ tableName: this.o.tableName, settings: ctx.settings, dynamo: clients.dynamo, sns: clients.sns, topicArn: ctx.topicArn }));
    return new WebhookRun(this, ctx, clients, deps, { router: webhookRouterHandler(() => deps), deliverer: webhookDelivererHandler(() => deps), publisher });
  }

  /** Messages on the variant's queues, visible, in flight or delayed (asked on the bench's own client: not counted). */
  async depth(): Promise<number> {
    let total = 0;
    for (const queue of [this.queues.outbox, this.queues.deliveries]) {
      const { Attributes = {} } = await this.rawSqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      );
      total += Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
    }
    return total;
  }

  receiverCounts(): ReceiverCounts | undefined {
    return this.receiver ? { ...this.receiver.counts, statuses: { ...this.receiver.counts.statuses } } : undefined;
  }

  get facts(): WebhookFunctionFacts {
    return this.o.facts;
  }

  async stop(): Promise<void> {
    await this.receiver?.close();
  }
}

/** The outbox, deliveries and dead-letter queues, as lib/webhook-queues.ts sets them (visibility six times the function's timeout). */
async function webhookQueues(sqs: SQSClient, prefix: string, variant: WebhookVariant, facts: WebhookFunctionFacts): Promise<Queues> {
  // The `none` variant's outbox is the one the incidents function is given (its steps to named endpoints).
  const base = variant === 'none' ? webhookOutboxName(prefix) : `${prefix}-webhook-${variant}-outbox`;
  const deadLetters = await localQueue(sqs, `${prefix}-webhook-${variant}-dlq`);
  const redrive = JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: facts.maxReceiveCount });
  const feeding = (timeoutSeconds: number) => ({ VisibilityTimeout: String(6 * timeoutSeconds), RedrivePolicy: redrive });
  const outbox = await localQueue(sqs, base, feeding(facts.routerTimeoutSeconds));
  const deliveries = await localQueue(sqs, `${prefix}-webhook-${variant}-deliveries`, feeding(facts.delivererTimeoutSeconds));
  return { outbox, deliveries, deadLetters };
}

interface Clients {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  sns: SNSClient;
  requests: RequestCounter;
  capacity: CapacityMeter;
  messaging: MessagingMeter;
}

function countedClients(ctx: WebhookRunContext): Clients {
  const dynamo = new DynamoDBClient(localDynamoClientConfig(ctx.dynamoEndpoint));
  const sqs = localSqsClient(ctx.snsSqsEndpoint);
  const sns = localSnsClient(ctx.snsSqsEndpoint);
  const messaging = new MessagingMeter().attachSqs(sqs).attachSns(sns);
  return { dynamo, sqs, sns, requests: new RequestCounter().attach(dynamo), capacity: new CapacityMeter().attach(dynamo), messaging };
}

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

function webhookKind(record: DynamoDBRecord): string {
  const sk = record.dynamodb?.Keys?.sk?.S ?? '';
  return sk.startsWith(webhookMessageSkPrefix) ? 'webhook message' : 'webhook delivery log';
}

/** One variant's functions running in the replay: the router and the deliverer on their queues, the publisher on its message records. */
export class WebhookRun {
  readonly #routerRuns: HandlerRun[] = [];
  readonly #delivererRuns: HandlerRun[] = [];
  readonly #publisherRuns: HandlerRun[] = [];
  readonly #streamRecords: Record<string, number> = {};
  readonly #failures: string[] = [];
  readonly #pollers: QueuePoller[];
  #inFlight = 0;
  #publisherRecords = 0;
  #invocation = 0;
  #finished: Promise<WebhookPathResult> | undefined;

  constructor(
    private readonly path: WebhookPath,
    private readonly ctx: WebhookRunContext,
    private readonly clients: Clients,
    private readonly deps: WebhookDeps,
    private readonly handlers: { router: QueueHandler; deliverer: QueueHandler; publisher: StreamHandler },
  ) {
    const { outbox, deliveries } = path.queues;
    this.#pollers = [
      startQueuePoller({ sqs: clients.sqs, queueUrl: outbox.url, queueArn: outbox.arn, handler: this.#fed(handlers.router, this.#routerRuns, 'webhook router'), functionName: 'tiebreak-webhook-router' }),
      startQueuePoller({ sqs: clients.sqs, queueUrl: deliveries.url, queueArn: deliveries.arn, handler: this.#fed(handlers.deliverer, this.#delivererRuns, 'webhook deliverer'), functionName: 'tiebreak-webhook-deliverer' }),
    ];
  }

  #fed(handler: QueueHandler, runs: HandlerRun[], what: string): QueueHandler {
    return (event, context) => {
      this.#inFlight++;
      return this.ctx
        .exclusive(() => handler(event, context))
        .then(({ result, run }) => {
          runs.push({ ...run, items: event.Records.length });
          for (const f of result.batchItemFailures) this.#failures.push(`${what} (${this.path.variant}) failed message ${f.itemIdentifier}`);
          return result;
        })
        .finally(() => {
          this.#inFlight--;
        });
    };
  }

  /** A stream record of this variant's webhook items (only the `endpoint` variant writes any). */
  owns(record: DynamoDBRecord): boolean {
    return this.path.variant === 'endpoint' && (record.dynamodb?.Keys?.pk?.S ?? '').startsWith(webhookPkPrefix);
  }

  count(record: DynamoDBRecord): void {
    const kind = webhookKind(record);
    this.#streamRecords[kind] = (this.#streamRecords[kind] ?? 0) + 1;
  }

  /** The variant's message records that the stream's filter hands the publisher, through a publisher on its clients. */
  async publish(records: DynamoDBRecord[]): Promise<void> {
    if (records.length === 0) return;
    const context = lambdaContext('tiebreak-publisher', `bench-webhook-${this.path.variant}-${String(++this.#invocation)}`);
    const { result, run } = await this.ctx.exclusive(() => this.handlers.publisher({ Records: records }, context));
    this.#publisherRuns.push({ ...run, items: records.length });
    this.#publisherRecords += records.length;
    for (const f of result.batchItemFailures) this.#failures.push(`publisher (${this.path.variant}) handed back record ${f.itemIdentifier}`);
  }

  /** Anything left to do: a function running, a message on its queues. */
  async busy(): Promise<boolean> {
    return this.#inFlight > 0 || (await this.path.depth()) > 0;
  }

  /** Stops the pollers and closes the clients (once: again answers the same). */
  finish(): Promise<WebhookPathResult> {
    this.#finished ??= this.#finish();
    return this.#finished;
  }

  async #finish(): Promise<WebhookPathResult> {
    await Promise.all(this.#pollers.map((p) => p.stop()));
    this.deps.sender.close();
    this.clients.dynamo.destroy();
    this.clients.sqs.destroy();
    this.clients.sns.destroy();
    return {
      variant: this.path.variant,
      routerRuns: this.#routerRuns,
      delivererRuns: this.#delivererRuns,
      publisherRuns: this.#publisherRuns,
      publisherRecords: this.#publisherRecords,
      streamRecords: this.#streamRecords,
      requests: this.clients.requests,
      capacity: this.clients.capacity,
      messaging: this.clients.messaging,
      outboxUrl: this.path.queues.outbox.url,
      deliveriesUrl: this.path.queues.deliveries.url,
      receiver: this.path.receiverCounts(),
      failures: this.#failures,
    };
  }
}
