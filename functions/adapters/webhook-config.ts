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

/** Endpoints read through a short cache: a batch of jobs for one endpoint reads it once. A change is seen within `ttlMs`. */
export class EndpointCache {
  private readonly entries = new Map<string, { at: number; value: Promise<EndpointRecord | undefined> }>();
  private readonly lists = new Map<string, { at: number; value: Promise<EndpointRecord[]> }>();

  constructor(
    private readonly store: WebhookStore,
    private readonly ttlMs: number,
  ) {}

  get(resellerId: string, endpointId: string, now: number): Promise<EndpointRecord | undefined> {
    return this.cached(this.entries, `${resellerId}/${endpointId}`, now, () => this.store.getEndpoint(resellerId, endpointId));
  }

  all(resellerId: string, now: number): Promise<EndpointRecord[]> {
    return this.cached(this.lists, resellerId, now, () => this.store.allEndpoints(resellerId));
  }

  private cached<T>(map: Map<string, { at: number; value: Promise<T> }>, key: string, now: number, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = load();
    // A failed read is not cached: the next job reads again.
    value.catch(() => map.delete(key));
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
  /** Per try (default 15 s). */
  timeoutMs?: number;
  now?: () => number;
}

/** How long an endpoint's settings may be cached: a disabled or edited endpoint is seen within this. */
const endpointCacheMs = 2000;

export function webhookDeps(wiring: WebhookWiring): WebhookDeps {
  const store = new WebhookStore(documentClient(wiring.dynamo), wiring.tableName);
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
  };
}

export const webhookDepsFromEnv: () => Promise<WebhookDeps> = loadOnce(() => Promise.resolve(webhookDeps(webhookWiringFromEnv())));
