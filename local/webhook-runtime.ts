import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { localSnsClient, localSqsClient } from '../functions/adapters/messaging-clients.ts';
import type { AddressPolicy } from '../functions/adapters/address-policy.ts';
import type { IncidentLinks } from '../functions/adapters/incident-config.ts';
import { type WebhookDeps, webhookDeps } from '../functions/adapters/webhook-config.ts';
import type { RetentionSettings } from '../functions/adapters/retention.ts';
import type { WebhookSettings } from '../functions/domain/webhook-delivery.ts';
import { webhookDelivererHandler } from '../functions/handlers/webhook-deliverer.ts';
import { webhookRouterHandler } from '../functions/handlers/webhook-router.ts';
import { localQueue, webhookOutboxName } from './local-queue.ts';
import { type QueueHandler, startQueuePoller } from './sqs-poller.ts';

export interface WebhookRuntime {
  deps: WebhookDeps;
  outboxUrl: string;
  deliveriesUrl: string;
  deadLettersUrl: string;
  stop(): Promise<void>;
}

/** A job the deliverer failed this many times (not a failed try: a fault of its own) goes to the dead letters. */
export const deliveryMaxReceiveCount = 10;

/**
 * The webhook side of the stack on fauxqs: the outbox (subscribed to the events topic, every type,
 * and fed by escalation steps), the deliveries queue whose delayed messages are the tries, and the
 * dead letters; the same router and deliverer handlers fed from them as Lambda's event source
 * mappings would. Everything pending lives in fauxqs's data folder: retries survive a restart.
 */
export async function startWebhookRuntime(options: {
  snsSqsEndpoint: string;
  topicArn: string;
  dynamo: DynamoDBClient;
  tableName: string;
  channelPrefix: string;
  /** The local runtime reaches loopback receivers only when told to. */
  policy: AddressPolicy;
  settings?: WebhookSettings;
  /** How long messages and their delivery log are kept (unset: the defaults). */
  retention?: RetentionSettings | undefined;
  /** Per try (default 15 s). */
  timeoutMs?: number;
  /** How long a job whose handler failed waits before it is tried again (default 30 s, beyond a try's 15 s timeout). */
  retryAfterSeconds?: number;
  /** Router and deliverer batches in flight at once, each (default 4: Lambda runs several instances). */
  concurrency?: number;
  /** Signs the one-click links of `incident.*` messages (the stack's, as the incidents runtime's); unset, none. */
  links?: IncidentLinks;
  /** The one clock; default real time. */
  now?: () => number;
  /** Caller-owned clients (the caller's meters on them; the caller destroys them); default ones made now. */
  sqs?: SQSClient;
  sns?: SNSClient;
  /** Wraps the handlers the queues feed (the caller times each invocation). */
  wrap?: (functionName: string, handler: QueueHandler) => QueueHandler;
}): Promise<WebhookRuntime> {
  const sqs = options.sqs ?? localSqsClient(options.snsSqsEndpoint);
  const sns = options.sns ?? localSnsClient(options.snsSqsEndpoint);
  const wrapped = (functionName: string, handler: QueueHandler) => ({
    functionName,
    handler: options.wrap?.(functionName, handler) ?? handler,
  });
  const retryAfter = String(options.retryAfterSeconds ?? 30);
  const deadLetters = await localQueue(sqs, `${options.channelPrefix}-webhook-dead-letters`);
  const redrive = JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: deliveryMaxReceiveCount });
  const outbox = await localQueue(sqs, webhookOutboxName(options.channelPrefix), { VisibilityTimeout: retryAfter, RedrivePolicy: redrive });
  const deliveries = await localQueue(sqs, `${options.channelPrefix}-webhook-deliveries`, {
    VisibilityTimeout: retryAfter,
    RedrivePolicy: redrive,
  });
  // Subscribing the same queue again answers the existing subscription: a restart adds none.
  await sns.send(
    new SubscribeCommand({ TopicArn: options.topicArn, Protocol: 'sqs', Endpoint: outbox.arn, Attributes: { RawMessageDelivery: 'true' } }),
  );
  const deps = webhookDeps({
    tableName: options.tableName,
    dynamo: options.dynamo,
    sqs,
    sns,
    deliveriesQueueUrl: deliveries.url,
    deadLettersQueueUrl: deadLetters.url,
    channelPrefix: options.channelPrefix,
    policy: options.policy,
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.retention ? { retention: options.retention } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.links ? { links: options.links } : {}),
  });
  const pollers = [
    startQueuePoller({
      sqs,
      queueUrl: outbox.url,
      queueArn: outbox.arn,
      ...wrapped(
        'tiebreak-webhook-router',
        webhookRouterHandler(() => deps),
      ),
      concurrency: options.concurrency ?? 4,
    }),
    startQueuePoller({
      sqs,
      queueUrl: deliveries.url,
      queueArn: deliveries.arn,
      ...wrapped(
        'tiebreak-webhook-deliverer',
        webhookDelivererHandler(() => deps),
      ),
      concurrency: options.concurrency ?? 4,
    }),
  ];
  return {
    deps,
    outboxUrl: outbox.url,
    deliveriesUrl: deliveries.url,
    deadLettersUrl: deadLetters.url,
    async stop() {
      await Promise.all(pollers.map((p) => p.stop()));
      deps.sender.close();
      if (!options.sqs) sqs.destroy();
      if (!options.sns) sns.destroy();
    },
  };
}
