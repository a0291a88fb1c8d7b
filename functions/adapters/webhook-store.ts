import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { EndpointEventType } from '../../protocol/events.ts';
import {
  type DeliveryAttempt,
  type PutEndpointRequest,
  type WebhookEndpoint,
  type WebhookMessage,
  WebhookTemplate,
} from '../../protocol/webhooks.ts';
import '../../protocol/zod-locale.ts';
import type { MessageAfterAttempt } from '../domain/webhook-delivery.ts';
import { unlessConditionFails } from './conditions.ts';
import { messageFromImage, messageFromItem, type MessageRecord } from './webhook-message-item.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import { dayMs, defaultRetention } from './retention.ts';
import {
  deliveryAttemptSk,
  iso,
  resellerPk,
  ttlSeconds,
  webhookEndpointSk,
  webhookMessageSk,
  webhookMessageSkPrefix,
  webhookPk,
} from './tenancy-items.ts';

/** Messages and their delivery log are kept this long by default (a replay starts the clock again): `TIEBREAK_DELIVERY_LOG_RETENTION_DAYS`. */
export const webhookRetentionMs = defaultRetention.deliveryLogDays * dayMs;

const Secret = z.object({ secret: z.string(), createdAt: z.number(), expiresAt: z.nullable(z.number()) });
export type StoredSecret = z.infer<typeof Secret>;

const EndpointItem = z.object({
  resellerId: z.string(),
  endpointId: z.string(),
  url: z.string(),
  eventTypes: z.array(EndpointEventType),
  template: WebhookTemplate,
  routingKey: z.nullable(z.string()),
  enabled: z.boolean(),
  /** Absent while enabled (so that disabling by hand can keep Tiebreak's reason with `if_not_exists`). */
  disabledReason: z._default(z.nullable(z.enum(['gone', 'failing', 'by-reseller'])), null),
  failingSince: z.nullable(z.number()),
  description: z.nullable(z.string()),
  secrets: z.array(Secret),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type EndpointRecord = z.infer<typeof EndpointItem>;

export const endpointFromItem = (item: Record<string, unknown>): EndpointRecord => EndpointItem.parse(item);

/** `whsec_` and base64 of 32 random bytes, as Standard Webhooks secrets are written. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

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

export function endpointView(record: EndpointRecord): WebhookEndpoint {
  return {
    endpointId: record.endpointId,
    url: record.url,
    eventTypes: record.eventTypes,
    template: record.template,
    routingKey: record.routingKey,
    enabled: record.enabled,
    disabledReason: record.disabledReason,
    failingSince: record.failingSince === null ? null : iso(record.failingSince),
    description: record.description,
    secrets: record.secrets.map((s) => ({ createdAt: iso(s.createdAt), expiresAt: s.expiresAt === null ? null : iso(s.expiresAt) })),
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
  };
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

/** What a new message needs; the store adds its state. */
export type NewMessage = Pick<MessageRecord, 'resellerId' | 'endpointId' | 'messageId' | 'eventId' | 'eventType' | 'siteId' | 'payload' | 'createdAt'>;

/**
 * Webhook endpoints (in their reseller's partition), and per endpoint its messages and delivery
 * log (a partition of its own). Every change of a message's delivery state is conditional on the
 * round and try it follows, so duplicate or late queue messages change nothing. Messages and tries
 * expire `retentionDays` after they were made (a message: after its latest replay).
 */
export class WebhookStore {
  private readonly retentionMs: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    readonly retentionDays: number = defaultRetention.deliveryLogDays,
  ) {
    this.retentionMs = retentionDays * dayMs;
  }

  private endpointKey(resellerId: string, endpointId: string) {
    return { pk: resellerPk(resellerId), sk: webhookEndpointSk(endpointId) };
  }

  private messageKey(resellerId: string, endpointId: string, messageId: string) {
    return { pk: webhookPk(resellerId, endpointId), sk: webhookMessageSk(messageId) };
  }

  /** Registers an endpoint; false if the id is taken. */
  async createEndpoint(resellerId: string, endpointId: string, settings: PutEndpointRequest, secret: string, now: number): Promise<EndpointRecord | undefined> {
    const { disabledReason, ...stored }: EndpointRecord = {
      resellerId,
      endpointId,
      url: settings.url,
      eventTypes: settings.eventTypes,
      template: settings.template,
      routingKey: settings.routingKey ?? null,
      enabled: settings.enabled,
      disabledReason: settings.enabled ? null : 'by-reseller',
      failingSince: null,
      description: settings.description ?? null,
      secrets: [{ secret, createdAt: now, expiresAt: null }],
      createdAt: now,
      updatedAt: now,
    };
    const item = { ...this.endpointKey(resellerId, endpointId), ...stored, ...(disabledReason ? { disabledReason } : {}) };
    const put = new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' });
    return (await unlessConditionFails(this.doc.send(put))) && endpointFromItem(item);
  }

  async getEndpoint(resellerId: string, endpointId: string): Promise<EndpointRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.endpointKey(resellerId, endpointId), ConsistentRead: true }));
    return Item ? endpointFromItem(Item) : undefined;
  }

  /** All the reseller's endpoints (a reseller has a handful: one query, no paging). */
  async allEndpoints(resellerId: string): Promise<EndpointRecord[]> {
    const records: EndpointRecord[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': resellerPk(resellerId), ':prefix': webhookEndpointSk('') },
          ExclusiveStartKey: cursor,
        }),
      );
      records.push(...(page.Items ?? []).map(endpointFromItem));
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return records;
  }

  async listEndpoints(resellerId: string, request: PageRequest): Promise<Page<EndpointRecord>> {
    const page = await queryPage(this.doc, this.tableName, resellerPk(resellerId), webhookEndpointSk(''), request);
    return { items: page.items.map(endpointFromItem), nextCursor: page.nextCursor };
  }

  /**
   * Changes an endpoint's settings. Enabling a disabled endpoint clears why it was disabled and its
   * failing streak; disabling it records that the reseller did (unless Tiebreak had disabled it
   * already, whose reason stays). Undefined if there is no such endpoint.
   */
  async updateEndpoint(resellerId: string, endpointId: string, settings: PutEndpointRequest, now: number): Promise<EndpointRecord | undefined> {
    const state = settings.enabled ? 'REMOVE disabledReason SET failingSince = :null, ' : 'SET disabledReason = if_not_exists(disabledReason, :byReseller), ';
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: this.endpointKey(resellerId, endpointId),
      UpdateExpression: `${state}#url = :url, eventTypes = :types, template = :template, routingKey = :routingKey, description = :description, enabled = :enabled, updatedAt = :now`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#url': 'url' },
      ExpressionAttributeValues: {
        ':url': settings.url,
        ':types': settings.eventTypes,
        ':template': settings.template,
        ':routingKey': settings.routingKey ?? null,
        ':description': settings.description ?? null,
        ':enabled': settings.enabled,
        ':now': now,
        ...(settings.enabled ? { ':null': null } : { ':byReseller': 'by-reseller' }),
      },
      ReturnValues: 'ALL_NEW',
    });
    const updated = await unlessConditionFails(this.doc.send(update));
    return updated && endpointFromItem(updated.Attributes ?? {});
  }

  async deleteEndpoint(resellerId: string, endpointId: string): Promise<boolean> {
    const { Attributes } = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: this.endpointKey(resellerId, endpointId), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }

  /** Replaces the secrets (after a rotation), conditional on the ones read: two rotations at once cannot lose a secret. */
  async replaceSecrets(resellerId: string, endpointId: string, read: readonly StoredSecret[], secrets: readonly StoredSecret[], now: number): Promise<boolean> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: this.endpointKey(resellerId, endpointId),
      UpdateExpression: 'SET secrets = :secrets, updatedAt = :now',
      ConditionExpression: 'secrets = :read',
      ExpressionAttributeValues: { ':secrets': secrets, ':read': read, ':now': now },
    });
    return (await unlessConditionFails(this.doc.send(update))) !== undefined;
  }

  /** Marks the endpoint failing from `since`, unless it already is (the streak's start is kept). */
  async markFailing(resellerId: string, endpointId: string, since: number): Promise<void> {
    await this.ignoringCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.endpointKey(resellerId, endpointId),
        UpdateExpression: 'SET failingSince = :since',
        ConditionExpression: 'attribute_exists(pk) AND failingSince = :null',
        ExpressionAttributeValues: { ':since': since, ':null': null },
      }),
    );
  }

  /** Ends a failing streak (a delivery succeeded). */
  async clearFailing(resellerId: string, endpointId: string): Promise<void> {
    await this.ignoringCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.endpointKey(resellerId, endpointId),
        UpdateExpression: 'SET failingSince = :null',
        ConditionExpression: 'attribute_exists(pk) AND failingSince <> :null',
        ExpressionAttributeValues: { ':null': null },
      }),
    );
  }

  /** Disables the endpoint for Tiebreak's reason, unless it is already disabled. */
  async disable(resellerId: string, endpointId: string, reason: 'gone' | 'failing', now: number): Promise<void> {
    await this.ignoringCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.endpointKey(resellerId, endpointId),
        UpdateExpression: 'SET enabled = :false, disabledReason = :reason, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND enabled = :true',
        ExpressionAttributeValues: { ':false': false, ':true': true, ':reason': reason, ':now': now },
      }),
    );
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
          Item: { ...this.messageKey(message.resellerId, message.endpointId, message.messageId), ...record, expiresAt: ttlSeconds(message.createdAt + this.retentionMs) },
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
      new GetCommand({ TableName: this.tableName, Key: this.messageKey(resellerId, endpointId, messageId), ConsistentRead: true }),
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
      Key: this.messageKey(message.resellerId, message.endpointId, message.messageId),
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
      Item: {
        pk: webhookPk(message.resellerId, message.endpointId),
        sk: deliveryAttemptSk(iso(log.at), message.messageId, round, log.attempt),
        ...log,
        expiresAt: ttlSeconds(log.at + this.retentionMs),
      },
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
      Key: this.messageKey(resellerId, endpointId, messageId),
      UpdateExpression: 'SET #status = :pending, failure = :null, attempts = :zero, nextAttemptAt = :now, disabledEndpoint = :null, expiresAt = :ttl ADD round :one',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending', ':null': null, ':zero': 0, ':now': now, ':one': 1, ':ttl': ttlSeconds(now + this.retentionMs) },
      ReturnValues: 'ALL_NEW',
    });
    const replayed = await unlessConditionFails(this.doc.send(update));
    return replayed && messageFromItem(replayed.Attributes ?? {});
  }

  /** The endpoint's messages, newest first; those expired at `now` are left out (DynamoDB deletes them only later). */
  async listMessages(resellerId: string, endpointId: string, request: PageRequest & { status?: string | undefined }, now: number): Promise<Page<MessageRecord>> {
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

  /** The endpoint's delivery log, newest first; tries expired at `now` are left out (DynamoDB deletes them only later). */
  async listAttempts(resellerId: string, endpointId: string, request: PageRequest, now: number): Promise<Page<DeliveryAttempt>> {
    const page = await queryPage(this.doc, this.tableName, webhookPk(resellerId, endpointId), 'ATTEMPT#', request, undefined, { newestFirst: true, liveAt: now });
    return {
      items: page.items.map((item) => {
        const line = AttemptItem.parse(item);
        return { ...line, at: iso(line.at) };
      }),
      nextCursor: page.nextCursor,
    };
  }

  /** A write whose condition says it is already done (or moot): a failed condition is no error. */
  private async ignoringCondition(command: UpdateCommand): Promise<void> {
    await unlessConditionFails(this.doc.send(command));
  }
}
