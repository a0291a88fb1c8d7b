import { randomInt } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import { defaultWebhookSettings, type WebhookSettings } from '../domain/webhook-delivery.ts';
import { type AddressPolicy, addressPolicyFromEnv } from './address-policy.ts';
import { documentClient, localDynamoClientConfig } from './dynamo-clients.ts';
import { EndpointCache } from './endpoint-cache.ts';
import { loadOnce } from './load-once.ts';
import { defaultRetention, retentionFromEnv, type RetentionSettings } from './retention.ts';
import { sqsClient } from './sqs-client.ts';
import { DeliveryJobs } from './webhook-jobs.ts';
import type { MessageRecord } from './webhook-message-item.ts';
import { WebhookSender } from './webhook-sender.ts';
import { WebhookEndpointStore } from './webhook-endpoint-store.ts';
import { WebhookMessageStore } from './webhook-message-store.ts';

// What the webhook deliverer needs, apart from the router's (webhook-config.ts): the deliverer uses
// DynamoDB and SQS only, and must not bundle the SNS client the router's reseller channels bring.

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

/** What the webhook deliverer needs, built once per cold start (ports: tests put faults in their place). */
export interface DelivererDeps {
  messages: WebhookMessageStore;
  /** Where a try's outcome marks the endpoint failing, recovered or disabled; reads go through `endpoints`. */
  endpointStore: WebhookEndpointStore;
  endpoints: EndpointCache;
  jobs: Pick<DeliveryJobs, 'schedule'>;
  deadLetters: Pick<WebhookDeadLetters, 'send'>;
  sender: WebhookSender;
  settings: WebhookSettings;
  now: () => number;
  /** In [0, 1): the retry jitter. */
  random: () => number;
}

export interface DelivererWiring {
  tableName: string;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  deliveriesQueueUrl: string;
  deadLettersQueueUrl: string;
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

export function delivererDeps(wiring: DelivererWiring): DelivererDeps {
  const doc = documentClient(wiring.dynamo);
  const endpointStore = new WebhookEndpointStore(doc, wiring.tableName);
  return {
    messages: new WebhookMessageStore(doc, wiring.tableName, (wiring.retention ?? defaultRetention).deliveryLogDays),
    endpointStore,
    endpoints: new EndpointCache(endpointStore, endpointCacheMs),
    jobs: new DeliveryJobs(wiring.sqs, wiring.deliveriesQueueUrl),
    deadLetters: new WebhookDeadLetters(wiring.sqs, wiring.deadLettersQueueUrl),
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
  TIEBREAK_DYNAMODB_ENDPOINT: z.optional(z.url()),
  TIEBREAK_SNS_ENDPOINT: z.optional(z.url()),
  TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: z.optional(z.enum(['true', 'false'])),
});

export function delivererWiringFromEnv(env: NodeJS.ProcessEnv = process.env): DelivererWiring {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(`webhook configuration is invalid: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  const e = parsed.data;
  return {
    tableName: e.TIEBREAK_TABLE,
    dynamo: new DynamoDBClient(e.TIEBREAK_DYNAMODB_ENDPOINT ? localDynamoClientConfig(e.TIEBREAK_DYNAMODB_ENDPOINT) : {}),
    sqs: sqsClient(e.TIEBREAK_SNS_ENDPOINT),
    deliveriesQueueUrl: e.TIEBREAK_WEBHOOK_DELIVERIES_URL,
    deadLettersQueueUrl: e.TIEBREAK_WEBHOOK_DEAD_LETTERS_URL,
    policy: addressPolicyFromEnv(env),
    retention: retentionFromEnv(env),
  };
}

export const delivererDepsFromEnv: () => Promise<DelivererDeps> = loadOnce(() => Promise.resolve(delivererDeps(delivererWiringFromEnv())));
