import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { MessageRecord } from './webhook-message-item.ts';

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
