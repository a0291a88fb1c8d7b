import { randomInt } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import type { WitnessEvent } from '../../protocol/events.ts';
import '../../protocol/zod-locale.ts';
import { defaultWebhookSettings, type WebhookSettings } from '../domain/webhook-delivery.ts';
import { type AddressPolicy, addressPolicyFromEnv } from './address-policy.ts';
import { documentClient, localDynamoClientConfig } from './dynamo-clients.ts';
import { loadOnce } from './load-once.ts';
import { messagingClients } from './messaging-clients.ts';
import { ResellerChannels } from './reseller-channels.ts';
import { defaultRetention, retentionFromEnv, type RetentionSettings } from './retention.ts';
import { DeliveryJobs } from './webhook-jobs.ts';
import type { MessageRecord } from './webhook-message-item.ts';
import { type EndpointRecord, WebhookStore } from './webhook-store.ts';
import { WebhookSender } from './webhook-sender.ts';

/** Where a message whose tries ran out is kept for people to look at (the delivery log and replay are the usual way back). */
export class WebhookDeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: MessageRecord): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ kind: 'webhook-exhausted', ...message }),
        MessageAttributes: {
          resellerId: { DataType: 'String', StringValue: message.resellerId },
          endpointId: { DataType: 'String', StringValue: message.endpointId },
          messageId: { DataType: 'String', StringValue: message.messageId },
        },
      }),
    );
  }
}

/** How many endpoints (and resellers' endpoint lists) a warm function keeps, each: far more than one batch of jobs names. */
export const defaultEndpointCacheEntries = 1000;

/**
 * A map that holds at most `maxEntries`, dropping the least recently used first: a Map keeps its
 * keys in insertion order, and a read moves its key to the end.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`an LRU map holds at least 1 entry, not ${String(maxEntries)}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value without making it recently used. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const value = this.map.get(key) as V;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.map.delete(key);
  }
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/**
 * Endpoints read through a short cache: a batch of jobs for one endpoint reads it once. A change is
 * seen within `ttlMs`. Bounded (least recently used out first): a warm function serves every
 * reseller's endpoints, and an entry past its `ttlMs` is only replaced when read again.
 */
export class EndpointCache {
  private readonly entries: LruMap<string, Cached<EndpointRecord | undefined>>;
  private readonly lists: LruMap<string, Cached<EndpointRecord[]>>;

  constructor(
    private readonly store: Pick<WebhookStore, 'getEndpoint' | 'allEndpoints'>,
    private readonly ttlMs: number,
    maxEntries: number = defaultEndpointCacheEntries,
  ) {
    this.entries = new LruMap(maxEntries);
    this.lists = new LruMap(maxEntries);
  }

  /** Endpoints and lists held now (each at most the bound). */
  get size(): { endpoints: number; lists: number } {
    return { endpoints: this.entries.size, lists: this.lists.size };
  }

  get(resellerId: string, endpointId: string, now: number): Promise<EndpointRecord | undefined> {
    return this.cached(this.entries, `${resellerId}/${endpointId}`, now, () => this.store.getEndpoint(resellerId, endpointId));
  }

  all(resellerId: string, now: number): Promise<EndpointRecord[]> {
    return this.cached(this.lists, resellerId, now, () => this.store.allEndpoints(resellerId));
  }

  private cached<T>(map: LruMap<string, Cached<T>>, key: string, now: number, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = load();
    // A failed read is not cached: the next job reads again (unless a newer read took its place).
    value.catch(() => {
      if (map.peek(key)?.value === value) map.delete(key);
    });
    map.set(key, { at: now, value });
    return value;
  }
}

/** News of a failing webhook on the reseller's service queue: the failing endpoint may be how they would have heard. */
export class ServiceQueueNotices {
  constructor(
    private readonly sqs: SQSClient,
    private readonly channels: ResellerChannels,
  ) {}

  async send(event: WitnessEvent): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: await this.channels.queueUrl(event.data.resellerId),
        MessageBody: JSON.stringify(event),
        MessageAttributes: { type: { DataType: 'String', StringValue: event.type }, messageId: { DataType: 'String', StringValue: event.id } },
      }),
    );
  }
}

/** What the webhook router and deliverer need, built once per cold start (ports: tests put faults in their place). */
export interface WebhookDeps {
  store: WebhookStore;
  endpoints: EndpointCache;
  jobs: Pick<DeliveryJobs, 'schedule'>;
  deadLetters: Pick<WebhookDeadLetters, 'send'>;
  notices: Pick<ServiceQueueNotices, 'send'>;
  sender: WebhookSender;
  settings: WebhookSettings;
  now: () => number;
  /** In [0, 1): the retry jitter. */
  random: () => number;
}

export interface WebhookWiring {
  tableName: string;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  sns: SNSClient;
  deliveriesQueueUrl: string;
  deadLettersQueueUrl: string;
  channelPrefix: string;
  policy: AddressPolicy;
  settings?: WebhookSettings;
  /** How long messages and their delivery log are kept (unset: the defaults). */
  retention?: RetentionSettings;
  /** Per try (default 15 s). */
  timeoutMs?: number;
  now?: () => number;
}

/** How long an endpoint's settings may be cached: a disabled or edited endpoint is seen within this. */
const endpointCacheMs = 2000;

export function webhookDeps(wiring: WebhookWiring): WebhookDeps {
  const store = new WebhookStore(documentClient(wiring.dynamo), wiring.tableName, (wiring.retention ?? defaultRetention).deliveryLogDays);
  return {
    store,
    endpoints: new EndpointCache(store, endpointCacheMs),
    jobs: new DeliveryJobs(wiring.sqs, wiring.deliveriesQueueUrl),
    deadLetters: new WebhookDeadLetters(wiring.sqs, wiring.deadLettersQueueUrl),
    notices: new ServiceQueueNotices(wiring.sqs, new ResellerChannels(wiring.sqs, wiring.sns, wiring.channelPrefix)),
    sender: new WebhookSender({ policy: wiring.policy, ...(wiring.timeoutMs ? { timeoutMs: wiring.timeoutMs } : {}) }),
    settings: wiring.settings ?? defaultWebhookSettings,
    now: wiring.now ?? (() => Date.now()),
    random: () => randomInt(1_000_000) / 1_000_000,
  };
}

const Env = z.object({
  TIEBREAK_TABLE: z.string().check(z.minLength(3)),
  TIEBREAK_WEBHOOK_DELIVERIES_URL: z.url(),
  TIEBREAK_WEBHOOK_DEAD_LETTERS_URL: z.url(),
  TIEBREAK_CHANNEL_PREFIX: z.string().check(z.regex(/^[A-Za-z0-9-]{1,20}$/)),
  TIEBREAK_DYNAMODB_ENDPOINT: z.optional(z.url()),
  TIEBREAK_SNS_ENDPOINT: z.optional(z.url()),
  TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: z.optional(z.enum(['true', 'false'])),
});

export function webhookWiringFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookWiring {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(`webhook configuration is invalid: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  const e = parsed.data;
  return {
    tableName: e.TIEBREAK_TABLE,
    dynamo: new DynamoDBClient(e.TIEBREAK_DYNAMODB_ENDPOINT ? localDynamoClientConfig(e.TIEBREAK_DYNAMODB_ENDPOINT) : {}),
    ...messagingClients(e.TIEBREAK_SNS_ENDPOINT),
    deliveriesQueueUrl: e.TIEBREAK_WEBHOOK_DELIVERIES_URL,
    deadLettersQueueUrl: e.TIEBREAK_WEBHOOK_DEAD_LETTERS_URL,
    channelPrefix: e.TIEBREAK_CHANNEL_PREFIX,
    policy: addressPolicyFromEnv(env),
    retention: retentionFromEnv(env),
  };
}

export const webhookDepsFromEnv: () => Promise<WebhookDeps> = loadOnce(() => Promise.resolve(webhookDeps(webhookWiringFromEnv())));
