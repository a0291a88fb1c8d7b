import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { localSnsClient, localSqsClient } from '../functions/adapters/messaging-clients.ts';
import { type IncidentDeps, incidentDeps, type IncidentLinks } from '../functions/adapters/incident-config.ts';
import { incidentQueueEventTypes, type IncidentSettings } from '../functions/domain/incidents.ts';
import { incidentsHandler } from '../functions/handlers/incidents.ts';
import { localQueue, webhookOutboxName } from './local-queue.ts';
import { type QueueHandler, startQueuePoller } from './sqs-poller.ts';

export interface IncidentRuntime {
  deps: IncidentDeps;
  incidentsQueueUrl: string;
  webhookOutboxUrl: string;
  stop(): Promise<void>;
}

/**
 * The incidents side of the stack on fauxqs: the incidents queue (with its dead-letter queue),
 * subscribed to the events topic with the stack's filter, the webhook outbox queue, and the same
 * incidents handler fed from the queue as Lambda's event source mapping would. The queues live in
 * fauxqs's data folder: pending escalation timers survive a restart.
 */
export async function startIncidentRuntime(options: {
  snsSqsEndpoint: string;
  topicArn: string;
  dynamo: DynamoDBClient;
  tableName: string;
  /** Names the queues (`<prefix>-incidents`, …) and the resellers' channels. */
  channelPrefix: string;
  settings?: IncidentSettings;
  links?: IncidentLinks;
  /** How long a failed message waits before it is tried again. */
  retryAfterSeconds?: number;
  /** The one clock; default real time. */
  now?: () => number;
  /** Caller-owned clients (the caller's meters on them; the caller destroys them); default ones made now. */
  sqs?: SQSClient;
  sns?: SNSClient;
  /** Wraps the handler the queue feeds (the caller times each invocation). */
  wrap?: (functionName: string, handler: QueueHandler) => QueueHandler;
}): Promise<IncidentRuntime> {
  const sqs = options.sqs ?? localSqsClient(options.snsSqsEndpoint);
  const sns = options.sns ?? localSnsClient(options.snsSqsEndpoint);
  const queue = (name: string, attributes?: Record<string, string>) => localQueue(sqs, name, attributes);
  const deadLetters = await queue(`${options.channelPrefix}-incidents-dlq`);
  const incidents = await queue(`${options.channelPrefix}-incidents`, {
    VisibilityTimeout: String(options.retryAfterSeconds ?? 5),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetters.arn, maxReceiveCount: 10 }),
  });
  const outbox = await queue(webhookOutboxName(options.channelPrefix));
  // Subscribing the same queue again answers the existing subscription: a restart adds none.
  await sns.send(
    new SubscribeCommand({
      TopicArn: options.topicArn,
      Protocol: 'sqs',
      Endpoint: incidents.arn,
      Attributes: { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify({ type: [...incidentQueueEventTypes] }) },
    }),
  );
  const deps = incidentDeps({
    tableName: options.tableName,
    dynamo: options.dynamo,
    sqs,
    sns,
    incidentsQueueUrl: incidents.url,
    webhookOutboxUrl: outbox.url,
    channelPrefix: options.channelPrefix,
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.links ? { links: options.links } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const functionName = 'tiebreak-incidents';
  const handler = incidentsHandler(() => deps);
  const poller = startQueuePoller({
    sqs,
    queueUrl: incidents.url,
    queueArn: incidents.arn,
    handler: options.wrap?.(functionName, handler) ?? handler,
    functionName,
  });
  return {
    deps,
    incidentsQueueUrl: incidents.url,
    webhookOutboxUrl: outbox.url,
    async stop() {
      await poller.stop();
      if (!options.sqs) sqs.destroy();
      if (!options.sns) sns.destroy();
    },
  };
}
