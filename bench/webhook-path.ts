/**
 * The webhook path of the cost bench's event path (`event-path.ts`), measured the same way: the
 * local stack's webhook runtime (`startLocalStack` with `run.webhooks`: the real router and
 * deliverer handlers on fauxqs queues, fed by the local queue poller as Lambda's SQS event source
 * mappings feed them), one stack per variant on the replay's clock, each on counted clients of its
 * own (`RequestCounter`, `CapacityMeter`, `MessagingMeter`), so that the incidents path's figures
 * stay its own; each invocation runs alone under the replay's lock with its wall time and log lines.
 *
 * Since the webhook pipeline, the outbox takes every event of the events topic (lib/webhook-queues.ts:
 * raw delivery, no filter), so every site pays for its router, whether its reseller has an
 * endpoint or not. Two variants, replayed side by side on the same events (each stack its own
 * outbox subscribed to the topic, and its own deliveries queue):
 * - `none`: a reseller with no endpoints. The router reads the reseller's endpoints (one Query,
 *   through its 2 s cache) and finds none. Its stack's table is an empty one of its own, so that
 *   the other variant's endpoint is not seen: the same Query, the same answer as the site table
 *   without one.
 * - `endpoint`: a reseller with one endpoint (the conditions and incident steps, template
 *   `generic`) at a local HTTP receiver on 127.0.0.1 that answers 204 at once; the router stores a
 *   message per matching event and schedules its try, the deliverer sends it and records it. The
 *   message items' changes (`MSG#`) pass the stream's filter into the publisher: they go through
 *   the publisher of this variant's stack (its clients), so that what they cost is this variant's.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { documentClient } from '../functions/adapters/dynamo-clients.ts';
import { webhookMessageSkPrefix, webhookPkPrefix } from '../functions/adapters/tenancy-items.ts';
import { newWebhookSecret, WebhookEndpointStore } from '../functions/adapters/webhook-endpoint-store.ts';
import type { EndpointEventType } from '../protocol/events.ts';
import type { LocalStack } from '../local/local-stack.ts';
import type { QueueHandler } from '../local/sqs-poller.ts';
import type { StreamHandler } from '../local/stream-poller.ts';
import { lambdaContext } from '../local/api-gateway-event.ts';
import type { HandlerRun } from './event-path.ts';
import type { MeteredClients } from './metered-clients.ts';
import type { CapacityMeter } from './ddb-meter.ts';
import type { MessagingMeter } from './messaging-meter.ts';
import type { RequestCounter } from '../functions/adapters/request-counter.ts';

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
      source:
        'lib/witness-stack.ts functionSpecs (timeoutSeconds; no memory of their own: lib/witness-function.ts memorySizeMb, as every function)',
    };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      routerTimeoutSeconds: 30,
      delivererTimeoutSeconds: 60,
      maxReceiveCount: 10,
      source: `assumed 30 s and 60 s (lib/witness-stack.ts did not load: ${why})`,
    };
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
      for (let i = 0; i + 1 < request.rawHeaders.length; i += 2)
        bytes += Buffer.byteLength(`${request.rawHeaders[i] ?? ''}: ${request.rawHeaders[i + 1] ?? ''}\r\n`);
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

/** One variant's table and receiver, set up before the day (uncounted, on the bench's own client). */
export class WebhookPath {
  private constructor(
    readonly variant: WebhookVariant,
    /** The table the variant's stack reads its endpoints from. */
    readonly tableName: string,
    private readonly receiver: Receiver | undefined,
  ) {}

  static async setUp(o: {
    variant: WebhookVariant;
    dynamo: DynamoDBClient;
    tableName: string;
    resellerId: string;
    now: number;
  }): Promise<WebhookPath> {
    if (o.variant === 'none') return new WebhookPath(o.variant, `${o.tableName}-no-endpoints`, undefined);
    const receiver = await Receiver.start();
    const store = new WebhookEndpointStore(documentClient(o.dynamo), o.tableName);
    const created = await store.createEndpoint(
      o.resellerId,
      endpointId,
      { url: receiver.url, eventTypes: endpointEventTypes, template: 'generic', enabled: true },
      newWebhookSecret(),
      o.now,
    );
    if (!created) throw new Error('the bench endpoint exists already');
    return new WebhookPath(o.variant, o.tableName, receiver);
  }

  receiverCounts(): ReceiverCounts | undefined {
    return this.receiver ? { ...this.receiver.counts, statuses: { ...this.receiver.counts.statuses } } : undefined;
  }

  async stop(): Promise<void> {
    await this.receiver?.close();
  }
}

function webhookKind(record: DynamoDBRecord): string {
  const sk = record.dynamodb?.Keys?.sk?.S ?? '';
  return sk.startsWith(webhookMessageSkPrefix) ? 'webhook message' : 'webhook delivery log';
}

/**
 * One variant's functions running in the replay: the router and the deliverer its stack's queues
 * feed (each invocation through `measured`), and its stack's publisher on its message records.
 */
export class WebhookRun {
  readonly routerRuns: HandlerRun[] = [];
  readonly delivererRuns: HandlerRun[] = [];
  readonly #publisherRuns: HandlerRun[] = [];
  readonly #streamRecords: Record<string, number> = {};
  readonly failures: string[] = [];
  #publisherRecords = 0;
  #invocation = 0;
  #stack: LocalStack | undefined;
  #publisher: StreamHandler | undefined;
  #finished: Promise<WebhookPathResult> | undefined;

  constructor(
    readonly path: WebhookPath,
    readonly clients: MeteredClients,
    /** Runs a handler alone (the replay's lock), measures it and keeps the inner count of work in flight. */
    private readonly exclusive: <T>(fn: () => Promise<T>) => Promise<{ result: T; run: HandlerRun }>,
    private readonly rawSqs: SQSClient,
  ) {}

  /** The stack's options for this variant: its queue handlers measured, its publisher kept for its own records (the stream itself is read by the main stack). */
  get wrap(): { stream: (handler: StreamHandler) => StreamHandler; queue: (functionName: string, handler: QueueHandler) => QueueHandler } {
    return {
      stream: (handler) => {
        this.#publisher = handler;
        return () => Promise.resolve({ batchItemFailures: [] });
      },
      queue: (functionName, handler) => {
        const runs = functionName === 'tiebreak-webhook-router' ? this.routerRuns : this.delivererRuns;
        return async (event, context) => {
          const { result, run } = await this.exclusive(() => handler(event, context));
          runs.push({ ...run, items: event.Records.length });
          for (const f of result.batchItemFailures)
            this.failures.push(`${functionName} (${this.path.variant}) failed message ${f.itemIdentifier}`);
          return result;
        };
      },
    };
  }

  started(stack: LocalStack): void {
    this.#stack = stack;
  }

  /** A stream record of this variant's webhook items (only the `endpoint` variant writes any). */
  owns(record: DynamoDBRecord): boolean {
    return this.path.variant === 'endpoint' && (record.dynamodb?.Keys?.pk?.S ?? '').startsWith(webhookPkPrefix);
  }

  count(record: DynamoDBRecord): void {
    const kind = webhookKind(record);
    this.#streamRecords[kind] = (this.#streamRecords[kind] ?? 0) + 1;
  }

  /** The variant's message records that the stream's filter hands the publisher, through its stack's publisher. */
  async publish(records: DynamoDBRecord[]): Promise<void> {
    if (records.length === 0) return;
    const publisher = this.#publisher;
    if (!publisher) throw new Error(`the ${this.path.variant} variant's stack runs no publisher`);
    const context = lambdaContext('tiebreak-publisher', `bench-webhook-${this.path.variant}-${String(++this.#invocation)}`);
    const { result, run } = await this.exclusive(() => publisher({ Records: records }, context));
    this.#publisherRuns.push({ ...run, items: records.length });
    this.#publisherRecords += records.length;
    for (const f of result.batchItemFailures) this.failures.push(`publisher (${this.path.variant}) handed back record ${f.itemIdentifier}`);
  }

  /** Messages on the variant's queues, visible, in flight or delayed (asked on the bench's own client: not counted). */
  async depth(): Promise<number> {
    let total = 0;
    for (const url of [this.#runtime.outboxUrl, this.#runtime.deliveriesUrl]) {
      const { Attributes = {} } = await this.rawSqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      );
      total += Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
    }
    return total;
  }

  get #runtime(): NonNullable<LocalStack['webhooks']> {
    const runtime = this.#stack?.webhooks;
    if (!runtime) throw new Error(`the ${this.path.variant} variant's stack runs no webhooks`);
    return runtime;
  }

  /** Stops the variant's stack and closes its clients (once: again answers the same). */
  finish(): Promise<WebhookPathResult> {
    this.#finished ??= this.#finish();
    return this.#finished;
  }

  async #finish(): Promise<WebhookPathResult> {
    const runtime = this.#stack?.webhooks;
    await this.#stack?.stop();
    this.clients.destroy();
    return {
      variant: this.path.variant,
      routerRuns: this.routerRuns,
      delivererRuns: this.delivererRuns,
      publisherRuns: this.#publisherRuns,
      publisherRecords: this.#publisherRecords,
      streamRecords: this.#streamRecords,
      requests: this.clients.requests,
      capacity: this.clients.capacity,
      messaging: this.clients.messaging,
      outboxUrl: runtime?.outboxUrl ?? '',
      deliveriesUrl: runtime?.deliveriesUrl ?? '',
      receiver: this.path.receiverCounts(),
      failures: this.failures,
    };
  }
}
