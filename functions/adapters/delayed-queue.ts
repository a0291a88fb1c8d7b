import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS delays a message by at most 15 minutes: a message due later is sent again on arrival for the rest. */
export const maxDelaySeconds = 900;

/**
 * Timers as delayed SQS messages: they outlive any process, and the queue retries them until they
 * are handled. No in-memory timeout anywhere. Whoever receives one before its `dueAt` sends it again.
 */
export class DelayedQueue<T> {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(body: T, dueAt: number, now: number): Promise<void> {
    const delaySeconds = Math.min(maxDelaySeconds, Math.max(0, Math.ceil((dueAt - now) / 1000)));
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(body), DelaySeconds: delaySeconds }));
  }
}
