import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import type { DeliveryAttempt } from '../../protocol/webhooks.ts';
import '../../protocol/zod-locale.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import { deliveryAttemptSk, deliveryAttemptSkPrefix, iso, ttlSeconds, webhookPk } from './tenancy-items.ts';

const AttemptItem = z.object({
  messageId: z.string(),
  round: z.number(),
  attempt: z.number(),
  at: z.number(),
  status: z.nullable(z.number()),
  latencyMs: z.number(),
  response: z.string(),
  error: z.nullable(z.string()),
});
export type AttemptLine = z.infer<typeof AttemptItem>;

/**
 * One line of an endpoint's delivery log: one try of one message, in the endpoint's partition by
 * time. The message store writes it in the transaction that records the try on the message
 * (webhook-message-store.ts), so the two never disagree; it expires `retentionMs` after the try.
 */
export function deliveryLogItem(
  message: { resellerId: string; endpointId: string; messageId: string },
  round: number,
  line: AttemptLine,
  retentionMs: number,
): Record<string, unknown> {
  return {
    pk: webhookPk(message.resellerId, message.endpointId),
    sk: deliveryAttemptSk(iso(line.at), message.messageId, round, line.attempt),
    ...line,
    expiresAt: ttlSeconds(line.at + retentionMs),
  };
}

/** Per endpoint, its delivery log: every try of its messages, what was answered and how fast. */
export class WebhookDeliveryLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The endpoint's delivery log, newest first; tries expired at `now` are left out (DynamoDB deletes them only later). */
  async listAttempts(resellerId: string, endpointId: string, request: PageRequest, now: number): Promise<Page<DeliveryAttempt>> {
    const page = await queryPage(this.doc, this.tableName, webhookPk(resellerId, endpointId), deliveryAttemptSkPrefix, request, undefined, {
      newestFirst: true,
      liveAt: now,
    });
    return {
      items: page.items.map((item) => {
        const line = AttemptItem.parse(item);
        return { ...line, at: iso(line.at) };
      }),
      nextCursor: page.nextCursor,
    };
  }
}
