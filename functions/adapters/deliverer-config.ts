import { randomInt } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { defaultWebhookSettings, type WebhookSettings } from '../domain/webhook-delivery.ts';
import type { AddressPolicy } from './address-policy.ts';
import { documentClient, dynamoClient } from './dynamo-clients.ts';
import { addressPolicyPiece, type Env, endpointsPiece, readEnv, retentionPiece, tablePiece, urlPiece } from './env-settings.ts';
import { EndpointCache } from './endpoint-cache.ts';
import { loadOnce } from './load-once.ts';
import { defaultRetention, type RetentionSettings } from './retention.ts';
import { sqsClient } from './sqs-client.ts';
import { DeliveryJobs } from './webhook-jobs.ts';
import { WebhookDeadLetters } from './webhook-dead-letters.ts';
import { WebhookSender } from './webhook-sender.ts';
import { WebhookEndpointStore } from './webhook-endpoint-store.ts';
import { WebhookMessageStore } from './webhook-message-store.ts';

// What the webhook deliverer needs, apart from the router's (webhook-config.ts): the deliverer uses
// DynamoDB and SQS only, and must not bundle the SNS client the router's reseller channels bring.

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

/** The deliverer's settings schema, from the shared pieces (the router's adds the channel prefix). */
export const delivererEnv = {
  tableName: tablePiece,
  deliveriesQueueUrl: urlPiece('TIEBREAK_WEBHOOK_DELIVERIES_URL'),
  deadLettersQueueUrl: urlPiece('TIEBREAK_WEBHOOK_DEAD_LETTERS_URL'),
  endpoints: endpointsPiece,
  policy: addressPolicyPiece,
  retention: retentionPiece,
};

export function delivererWiringFromEnv(env: Env = process.env): DelivererWiring {
  const { endpoints, ...settings } = readEnv('webhook', env, delivererEnv);
  return { ...settings, dynamo: dynamoClient(endpoints), sqs: sqsClient(endpoints) };
}

export const delivererDepsFromEnv: () => Promise<DelivererDeps> = loadOnce(() => Promise.resolve(delivererDeps(delivererWiringFromEnv())));
