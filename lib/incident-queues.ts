import { Duration, Validations } from 'aws-cdk-lib';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { SubscriptionFilter } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { incidentQueueEventTypes } from '../functions/domain/incidents.ts';
import type { WitnessFunction } from './witness-function.ts';

/** A message the incidents function failed this many times goes to the dead-letter queue (alarmed). */
export const incidentsMaxReceiveCount = 10;

export interface IncidentQueuesProps {
  /** The events topic the publisher publishes on. */
  events: ITopic;
  /** The incidents function (functionSpecs: `fedBy: 'incidents-queue'`). */
  target: WitnessFunction;
  /** The function's timeout: a message stays invisible six times as long while it is handled, as AWS advises. */
  timeoutSeconds: number;
}

const queueDefaults = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) } as const;

/**
 * The incidents side of the event path: the incidents queue, subscribed to the events topic with a
 * filter on `type` (conditions, recoveries and incident steps: one subscription for the whole
 * deployment, raw delivery), feeding the incidents function; the function's escalation timers are
 * delayed messages on the same queue. A message the function keeps failing goes to the dead-letter
 * queue. (The steps meant for webhook endpoints go to the webhook outbox: lib/webhook-queues.ts.)
 */
export class IncidentQueues extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: IncidentQueuesProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', queueDefaults);
    Validations.of(this.deadLetterQueue.node.defaultChild ?? this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the incidents queue; its visible messages are alarmed.',
    });
    this.queue = new Queue(this, 'Queue', {
      ...queueDefaults,
      // SQS ages a message from its first send, also in the dead-letter queue: a shorter life here
      // leaves a dead letter 10 days to be looked at. (The longest timer waits 15 min a round.)
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(6 * props.timeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: incidentsMaxReceiveCount },
    });
    props.events.addSubscription(
      new SqsSubscription(this.queue, {
        rawMessageDelivery: true,
        filterPolicy: { type: SubscriptionFilter.stringFilter({ allowlist: [...incidentQueueEventTypes] }) },
      }),
    );
    props.target.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
  }
}
