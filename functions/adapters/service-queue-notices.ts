import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WitnessEvent } from '../../protocol/events.ts';
import type { ResellerChannels } from './reseller-channels.ts';

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
        MessageAttributes: {
          type: { DataType: 'String', StringValue: event.type },
          messageId: { DataType: 'String', StringValue: event.id },
        },
      }),
    );
  }
}
