import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { StoredEvent } from '../../protocol/events.ts';

/** SNS takes at most this many messages in one PublishBatch. */
const batchSize = 10;

/**
 * Publishes events on the SNS topic, each as DESIGN.md's envelope, with the attributes
 * subscriptions filter on (`type`, `severity`, `resellerId`, `siteId`) so that they need not read
 * bodies. At least once: a failed entry fails the call, and the stream hands the change again;
 * subscribers deduplicate by the event's id.
 */
export class EventBus {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(events: readonly StoredEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += batchSize) {
      const batch = events.slice(i, i + batchSize);
      const { Failed = [] } = await this.sns.send(
        new PublishBatchCommand({
          TopicArn: this.topicArn,
          PublishBatchRequestEntries: batch.map((event, n) => ({
            Id: String(n),
            Message: JSON.stringify(event),
            MessageAttributes: {
              type: { DataType: 'String', StringValue: event.type },
              severity: { DataType: 'String', StringValue: event.data.severity },
              resellerId: { DataType: 'String', StringValue: event.data.resellerId },
              siteId: { DataType: 'String', StringValue: event.data.siteId },
            },
          })),
        }),
      );
      if (Failed.length > 0)
        throw new Error(`SNS refused ${Failed.length} of ${batch.length} events: ${Failed.map((f) => f.Code ?? '?').join(', ')}`);
    }
  }
}
