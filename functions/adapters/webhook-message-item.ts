import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod/mini';
import { EventType } from '../../protocol/events.ts';
import { MessageFailure, MessageStatus } from '../../protocol/webhooks.ts';
import '../../protocol/zod-locale.ts';
import { webhookMessageSkPrefix } from './tenancy-items.ts';

// A webhook message's item, apart from its store: the publisher reads messages off the stream
// (some changes are events) and need not bundle the store.

const MessageItem = z.object({
  resellerId: z.string(),
  endpointId: z.string(),
  messageId: z.string(),
  eventId: z.string(),
  eventType: EventType,
  /** Null for a test (`webhook.test`): it is about no site. */
  siteId: z.nullable(z.string()),
  /** The body as rendered once: every try and replay sends these bytes under the same webhook-id. */
  payload: z.string(),
  status: MessageStatus,
  failure: z.nullable(MessageFailure),
  attempts: z.number(),
  round: z.number(),
  createdAt: z.number(),
  nextAttemptAt: z.nullable(z.number()),
  lastStatus: z.nullable(z.number()),
  lastAttemptAt: z.nullable(z.number()),
  disabledEndpoint: z.nullable(z.enum(['gone', 'failing'])),
});
export type MessageRecord = z.infer<typeof MessageItem>;

export const messageFromItem = (item: Record<string, unknown>): MessageRecord => MessageItem.parse(item);
/** A stream image of a webhook message (the publisher turns some changes into events). */
export const messageFromImage = (image: Parameters<typeof unmarshall>[0]): MessageRecord => MessageItem.parse(unmarshall(image));
export const isWebhookMessageSk = (sk: string | undefined): boolean => sk?.startsWith(webhookMessageSkPrefix) ?? false;
