import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { Identifier } from '../../protocol/ids.ts';
import { EndpointId } from '../../protocol/webhooks.ts';
import '../../protocol/zod-locale.ts';
import { DelayedQueue } from './delayed-queue.ts';
import type { MessageRecord } from './webhook-message-item.ts';

/** One try of one message, as a (possibly delayed) message on the deliveries queue. */
export const DeliveryJob = z.object({
  resellerId: Identifier,
  endpointId: EndpointId,
  messageId: z.string(),
  round: z.number(),
  attempt: z.number(),
  dueAt: z.number(),
});
export type DeliveryJob = z.infer<typeof DeliveryJob>;

/** The job of a pending message's next try. */
export const nextJob = (message: MessageRecord): DeliveryJob => ({
  resellerId: message.resellerId,
  endpointId: message.endpointId,
  messageId: message.messageId,
  round: message.round,
  attempt: message.attempts + 1,
  dueAt: message.nextAttemptAt ?? message.createdAt,
});

/** The deliveries queue: every try is a job on it, so retries survive restarts and deploys. */
export class DeliveryJobs {
  private readonly queue: DelayedQueue<DeliveryJob>;

  constructor(sqs: SQSClient, queueUrl: string) {
    this.queue = new DelayedQueue(sqs, queueUrl);
  }

  async schedule(job: DeliveryJob, now: number): Promise<void> {
    await this.queue.send(job, job.dueAt, now);
  }
}
