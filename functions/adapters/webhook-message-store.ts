import { createHash } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { WebhookMessage } from '../../protocol/webhooks.ts';
import type { MessageAfterAttempt } from '../domain/webhook-delivery.ts';
import { unlessConditionFails } from './conditions.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import { dayMs, defaultRetention } from './retention.ts';
import { iso, ttlSeconds, webhookMessageSk, webhookMessageSkPrefix, webhookPk } from './tenancy-items.ts';
import { type AttemptLine, deliveryLogItem } from './webhook-delivery-log.ts';
import { messageFromImage, messageFromItem, type MessageRecord } from './webhook-message-item.ts';

/** Messages and their delivery log are kept this long by default (a replay starts the clock again): `TIEBREAK_DELIVERY_LOG_RETENTION_DAYS`. */
export const webhookRetentionMs = defaultRetention.deliveryLogDays * dayMs;

/** Base 36 of the ms, 9 digits: ids sort by the time of their event until the year 5138. */
const sortableTime = (ms: number) => ms.toString(36).padStart(9, '0');

/**
 * The same event for the same endpoint always gets the same id (a message handed twice is stored
 * once, and the receiver sees one `webhook-id`), and ids sort by the event's time, so "failed
 * since" is a key range.
 */
export function messageIdOf(eventId: string, endpointId: string, eventAt: number): string {
  const digest = createHash('sha256').update(`${eventId}\n${endpointId}`).digest('hex').slice(0, 16);
  return `msg_${sortableTime(eventAt)}${digest}`;
}

export function messageView(record: MessageRecord): WebhookMessage {
  return {
    messageId: record.messageId,
    endpointId: record.endpointId,
    eventId: record.eventId,
    eventType: record.eventType,
    siteId: record.siteId,
    status: record.status,
    failure: record.failure,
    attempts: record.attempts,
    round: record.round,
    createdAt: iso(record.createdAt),
    nextAttemptAt: record.nextAttemptAt === null ? null : iso(record.nextAttemptAt),
    lastStatus: record.lastStatus,
  };
}

/** What a new message needs; the store adds its state. */
export type NewMessage = Pick<
  MessageRecord,
  'resellerId' | 'endpointId' | 'messageId' | 'eventId' | 'eventType' | 'siteId' | 'payload' | 'createdAt'
>;

const messageKey = (resellerId: string, endpointId: string, messageId: string) => ({
  pk: webhookPk(resellerId, endpointId),
  sk: webhookMessageSk(messageId),
});

/**
 * Per endpoint, its messages (in a partition of its own, beside its delivery log). Every change of
 * a message's delivery state is conditional on the round and try it follows, so duplicate or late
 * queue messages change nothing. Messages and tries expire `retentionDays` after they were made (a
 * message: after its latest replay).
 */
export class WebhookMessageStore {
  private readonly retentionMs: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    readonly retentionDays: number = defaultRetention.deliveryLogDays,
  ) {
    this.retentionMs = retentionDays * dayMs;
  }

  /**
   * Stores a new message, pending (or failed at once when its endpoint is disabled: kept for a
   * replay). Answers what is stored: the message already there when the same event came before.
   */
  async addMessage(message: NewMessage, status: 'pending' | 'failed'): Promise<{ created: boolean; record: MessageRecord }> {
    const record: MessageRecord = {
      ...message,
      status,
      failure: status === 'failed' ? 'endpoint-disabled' : null,
      attempts: 0,
      round: 0,
      nextAttemptAt: status === 'pending' ? message.createdAt : null,
      lastStatus: null,
      lastAttemptAt: null,
      disabledEndpoint: null,
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...messageKey(message.resellerId, message.endpointId, message.messageId),
            ...record,
            expiresAt: ttlSeconds(message.createdAt + this.retentionMs),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true, record };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) return { created: false, record: messageFromImage(error.Item) };
      throw error;
    }
  }

  async getMessage(resellerId: string, endpointId: string, messageId: string): Promise<MessageRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: messageKey(resellerId, endpointId, messageId), ConsistentRead: true }),
    );
    return Item ? messageFromItem(Item) : undefined;
  }

  /**
   * Records try `attempt` of `round` and its outcome: written only if the message is still pending
   * in that round with the try before it recorded. Undefined when another worker got there first.
   * The message and the delivery log's line are one transaction: a write that fails leaves neither,
   * so the job's retry tries again and records both (two writes could leave the message ahead of
   * its log, and the retry, seeing the try recorded, would never write the line).
   */
  async recordAttempt(
    message: MessageRecord,
    round: number,
    after: MessageAfterAttempt,
    /** The delivery log's line; null when nothing was sent (the endpoint is disabled). */
    log: AttemptLine | null,
  ): Promise<MessageRecord | undefined> {
    // A transaction returns no item: the record is worked out, and the condition (still pending in
    // this round, after the try before) pins the fields the write does not set.
    const recorded: MessageRecord = {
      ...message,
      status: after.status,
      failure: after.failure,
      attempts: after.attempts,
      nextAttemptAt: after.nextAttemptAt,
      lastStatus: log?.status ?? message.lastStatus,
      lastAttemptAt: after.lastAttemptAt,
      disabledEndpoint: after.disabledEndpoint,
    };
    const update = {
      TableName: this.tableName,
      Key: messageKey(message.resellerId, message.endpointId, message.messageId),
      UpdateExpression:
        'SET #status = :status, failure = :failure, attempts = :attempts, nextAttemptAt = :next, lastStatus = :lastStatus, lastAttemptAt = :at, disabledEndpoint = :disabled',
      ConditionExpression: '#status = :pending AND round = :round AND attempts = :previous',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': recorded.status,
        ':failure': recorded.failure,
        ':attempts': recorded.attempts,
        ':next': recorded.nextAttemptAt,
        ':lastStatus': recorded.lastStatus,
        ':disabled': recorded.disabledEndpoint,
        ':at': recorded.lastAttemptAt,
        ':pending': 'pending',
        ':round': round,
        ':previous': after.attempts - 1,
      },
    };
    if (!log) {
      const updated = await unlessConditionFails(this.doc.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_NEW' })));
      return updated && messageFromItem(updated.Attributes ?? {});
    }
    const line = {
      TableName: this.tableName,
      Item: deliveryLogItem(message, round, log, this.retentionMs),
      // Never a second line under one key (the message's condition already rules it out).
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    const write = new TransactWriteCommand({ TransactItems: [{ Update: update }, { Put: line }] });
    return (await unlessConditionFails(this.doc.send(write))) && recorded;
  }

  /** Starts a new round of tries (a replay): the same id and bytes, tries counted from 1 again. Undefined if there is no such message. */
  async replay(resellerId: string, endpointId: string, messageId: string, now: number): Promise<MessageRecord | undefined> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: messageKey(resellerId, endpointId, messageId),
      UpdateExpression:
        'SET #status = :pending, failure = :null, attempts = :zero, nextAttemptAt = :now, disabledEndpoint = :null, expiresAt = :ttl ADD round :one',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':pending': 'pending',
        ':null': null,
        ':zero': 0,
        ':now': now,
        ':one': 1,
        ':ttl': ttlSeconds(now + this.retentionMs),
      },
      ReturnValues: 'ALL_NEW',
    });
    const replayed = await unlessConditionFails(this.doc.send(update));
    return replayed && messageFromItem(replayed.Attributes ?? {});
  }

  /** The endpoint's messages, newest first; those expired at `now` are left out (DynamoDB deletes them only later). */
  async listMessages(
    resellerId: string,
    endpointId: string,
    request: PageRequest & { status?: string | undefined },
    now: number,
  ): Promise<Page<MessageRecord>> {
    const page = await queryPage(this.doc, this.tableName, webhookPk(resellerId, endpointId), webhookMessageSkPrefix, request, undefined, {
      newestFirst: true,
      liveAt: now,
      ...(request.status ? { where: { status: request.status } } : {}),
    });
    return { items: page.items.map(messageFromItem), nextCursor: page.nextCursor };
  }

  /** The ids of the endpoint's failed messages whose event came at `since` or later, oldest first, at most `limit`. */
  async failedSince(resellerId: string, endpointId: string, since: number, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          FilterExpression: '#status = :failed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pk': webhookPk(resellerId, endpointId),
            ':from': webhookMessageSk(`msg_${sortableTime(since)}`),
            ':to': webhookMessageSk('msg_~'),
            ':failed': 'failed',
          },
          ProjectionExpression: 'messageId',
          ExclusiveStartKey: cursor,
          ConsistentRead: true,
        }),
      );
      ids.push(...(page.Items ?? []).map((item) => String(item.messageId)));
      cursor = page.LastEvaluatedKey;
    } while (cursor && ids.length < limit);
    return ids.slice(0, limit);
  }
}
