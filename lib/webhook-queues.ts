import { Duration, Validations } from 'aws-cdk-lib';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { WitnessFunction } from './witness-function.ts';

/** A job or outbox message a function failed this many times (a fault of its own, not a failed try) goes to the dead-letter queue (alarmed). */
export const webhookMaxReceiveCount = 10;

/** A function a queue feeds, and its timeout: a message stays invisible six times as long while it is handled, as AWS advises. */
export interface QueueTarget {
  target: WitnessFunction;
  timeoutSeconds: number;
}

export interface WebhookQueuesProps {
  /** The events topic the publisher publishes on. */
  events: ITopic;
  /** The webhook router (functionSpecs: `fedBy: 'webhook-outbox'`). */
  router: QueueTarget;
  /** The webhook deliverer (functionSpecs: `fedBy: 'webhook-deliveries'`). */
  deliverer: QueueTarget;
}

const encrypted = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;

/**
 * The outbound webhook path. The outbox takes every event of the events topic (raw delivery, no
 * filter: each endpoint picks its event types) and the incident steps the incidents function sends
 * to named endpoints; it feeds the webhook router, which stores a message per endpoint and sends
 * its first try to the deliveries queue. The deliveries queue feeds the webhook deliverer: each
 * message is one try, delayed by its backoff, and the deliverer sends the next one there.
 *
 * One dead-letter queue for both: what either function keeps failing (redrive), and the messages
 * whose tries ran out, which the deliverer sends there itself.
 */
export class WebhookQueues extends Construct {
  readonly outbox: Queue;
  readonly deliveries: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WebhookQueuesProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', { ...encrypted, retentionPeriod: Duration.days(14) });
    Validations.of(this.deadLetterQueue.node.defaultChild ?? this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the webhook outbox and deliveries queues, and where the webhook deliverer ' +
        'leaves the messages whose tries ran out. Nothing consumes it automatically; its visible messages are alarmed.',
    });
    // SQS ages a message from its first send, also in the dead-letter queue: a shorter life here
    // leaves a dead letter 10 days to be looked at. A try due later than SQS's 15 min delay is sent
    // again on arrival, so 4 days is per hop, not per message.
    const feeding = ({ timeoutSeconds }: QueueTarget) => ({
      ...encrypted,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(6 * timeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: webhookMaxReceiveCount },
    });

    this.outbox = new Queue(this, 'Outbox', feeding(props.router));
    props.events.addSubscription(new SqsSubscription(this.outbox, { rawMessageDelivery: true }));
    this.deliveries = new Queue(this, 'Deliveries', feeding(props.deliverer));

    const source = (queue: Queue) => new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true });
    props.router.target.function.addEventSource(source(this.outbox));
    props.deliverer.target.function.addEventSource(source(this.deliveries));
  }
}
