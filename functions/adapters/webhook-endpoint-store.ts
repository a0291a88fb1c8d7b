import { randomBytes } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { EndpointEventType } from '../../protocol/events.ts';
import { type PutEndpointRequest, type WebhookEndpoint, WebhookTemplate } from '../../protocol/webhooks.ts';
import '../../protocol/zod-locale.ts';
import { unlessConditionFails } from './conditions.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import { iso, resellerPk, webhookEndpointSk, webhookEndpointSkPrefix } from './tenancy-items.ts';

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

const endpointKey = (resellerId: string, endpointId: string) => ({ pk: resellerPk(resellerId), sk: webhookEndpointSk(endpointId) });

/** Webhook endpoints, in their reseller's partition: its settings, its secrets and whether it is failing or disabled. */
export class WebhookEndpointStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Registers an endpoint; false if the id is taken. */
  async createEndpoint(
    resellerId: string,
    endpointId: string,
    settings: PutEndpointRequest,
    secret: string,
    now: number,
  ): Promise<EndpointRecord | undefined> {
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
    const item = { ...endpointKey(resellerId, endpointId), ...stored, ...(disabledReason ? { disabledReason } : {}) };
    const put = new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' });
    return (await unlessConditionFails(this.doc.send(put))) && endpointFromItem(item);
  }

  async getEndpoint(resellerId: string, endpointId: string): Promise<EndpointRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: endpointKey(resellerId, endpointId), ConsistentRead: true }),
    );
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
          ExpressionAttributeValues: { ':pk': resellerPk(resellerId), ':prefix': webhookEndpointSkPrefix },
          ExclusiveStartKey: cursor,
        }),
      );
      records.push(...(page.Items ?? []).map(endpointFromItem));
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return records;
  }

  async listEndpoints(resellerId: string, request: PageRequest): Promise<Page<EndpointRecord>> {
    const page = await queryPage(this.doc, this.tableName, resellerPk(resellerId), webhookEndpointSkPrefix, request);
    return { items: page.items.map(endpointFromItem), nextCursor: page.nextCursor };
  }

  /**
   * Changes an endpoint's settings. Enabling a disabled endpoint clears why it was disabled and its
   * failing streak; disabling it records that the reseller did (unless Tiebreak had disabled it
   * already, whose reason stays). Undefined if there is no such endpoint.
   */
  async updateEndpoint(
    resellerId: string,
    endpointId: string,
    settings: PutEndpointRequest,
    now: number,
  ): Promise<EndpointRecord | undefined> {
    const state = settings.enabled
      ? 'REMOVE disabledReason SET failingSince = :null, '
      : 'SET disabledReason = if_not_exists(disabledReason, :byReseller), ';
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: endpointKey(resellerId, endpointId),
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
      new DeleteCommand({ TableName: this.tableName, Key: endpointKey(resellerId, endpointId), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  }

  /** Replaces the secrets (after a rotation), conditional on the ones read: two rotations at once cannot lose a secret. */
  async replaceSecrets(
    resellerId: string,
    endpointId: string,
    read: readonly StoredSecret[],
    secrets: readonly StoredSecret[],
    now: number,
  ): Promise<boolean> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: endpointKey(resellerId, endpointId),
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
        Key: endpointKey(resellerId, endpointId),
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
        Key: endpointKey(resellerId, endpointId),
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
        Key: endpointKey(resellerId, endpointId),
        UpdateExpression: 'SET enabled = :false, disabledReason = :reason, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND enabled = :true',
        ExpressionAttributeValues: { ':false': false, ':true': true, ':reason': reason, ':now': now },
      }),
    );
  }

  /** A write whose condition says it is already done (or moot): a failed condition is no error. */
  private async ignoringCondition(command: UpdateCommand): Promise<void> {
    await unlessConditionFails(this.doc.send(command));
  }
}
