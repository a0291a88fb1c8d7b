import { randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { HookAction, type HookAuth } from '../../protocol/webhooks.ts';
import '../../protocol/zod-locale.ts';
import { type Alert, alertSubject } from '../domain/alert-events.ts';
import type { WithdrawnSubject } from '../domain/incidents.ts';
import { alertFromItem, alertKey } from './alert-item.ts';
import { sha256 } from './credentials.ts';
import { conditionFailed, failedConditions, retryingConflicts, unlessConditionFails } from './conditions.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import {
  inboundSeenSk,
  integrationAlertsSkPrefix,
  integrationConfigSk,
  integrationPk,
  integrationSk,
  resellerPk,
  sitePk,
  siteListingSk,
  ttlSeconds,
} from './tenancy-items.ts';

/** How far a hook's webhook-timestamp may be from the server's clock, either way (Standard Webhooks: 5 minutes). */
export const hookToleranceMs = 5 * 60_000;
/** A received webhook-id is remembered this long past the last instant its hook could still pass the window. */
export const seenRetentionMs = 10 * 60_000;

/** `int_` and 22 base64url characters (128 random bits): the id is in the hook's URL, so it must not be guessable. */
export const newIntegrationId = () => `int_${randomBytes(16).toString('base64url')}`;
/** A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes. */
export const newIntegrationSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** A bearer token: `tbh_` and base64url of 32 random bytes (256 bits: a plain SHA-256 of it is kept, as of API keys). */
export const newHookToken = () => `tbh_${randomBytes(32).toString('base64url')}`;

/** What the service keeps of a bearer token: its SHA-256, base64url, as of an API key (credentials.ts). */
export const hookTokenHash = (token: string) => sha256(token).toString('base64url');

/** What a hook is checked against: the secret itself (verifying an HMAC needs the key), or a bearer token's hash. Never listed. */
export type IntegrationCredential = { auth: 'signature'; secret: string } | { auth: 'bearer'; tokenHash: string };

/** A new credential of `auth`'s kind: what is stored, and what the answer shows once. */
export function newCredential(auth: HookAuth): { stored: IntegrationCredential; shown: { secret: string } | { token: string } } {
  if (auth === 'signature') {
    const secret = newIntegrationSecret();
    return { stored: { auth, secret }, shown: { secret } };
  }
  const token = newHookToken();
  return { stored: { auth, tokenHash: hookTokenHash(token) }, shown: { token } };
}

const integrationFields = {
  integrationId: z.string(),
  resellerId: z.string(),
  siteId: z.string(),
  name: z.string(),
  mapping: z.record(z.string(), HookAction),
  createdAt: z.number(),
};
const IntegrationItem = z.union([
  z.object({ ...integrationFields, auth: z.literal('bearer'), tokenHash: z.string() }),
  // Integrations made before bearer tokens existed have no `auth`: they are signed.
  z.object({ ...integrationFields, auth: z._default(z.literal('signature'), 'signature'), secret: z.string() }),
]);
export type IntegrationRecord = z.infer<typeof IntegrationItem>;

/** One verified hook, as the integration's mapping reads it. */
export interface InboundNews {
  webhookId: string;
  /** ms: the webhook-timestamp. */
  at: number;
  type: string;
  /** What the mapping says the type does; undefined: an unmapped type, recorded as seen and nothing else. */
  action: HookAction | undefined;
  summary?: string | undefined;
}

/** `stale`: older than the news the alert already has, so it changed nothing (but its webhook-id is spent). */
export type ReceiveOutcome = 'stored' | 'stale' | 'replayed';

/**
 * Inbound integrations: listed in the reseller's partition, and found by id (the hook's URL names
 * only the id) in a lookup item of their own; both hold the same fields, written and removed together.
 */
export class IntegrationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores a new integration; undefined if the reseller has no such site. */
  async create(record: IntegrationRecord): Promise<IntegrationRecord | undefined> {
    const put = (pk: string, sk: string) => ({
      Put: { TableName: this.tableName, Item: { pk, sk, ...record }, ConditionExpression: 'attribute_not_exists(pk)' },
    });
    const write = new TransactWriteCommand({
      TransactItems: [
        {
          ConditionCheck: {
            TableName: this.tableName,
            Key: { pk: resellerPk(record.resellerId), sk: siteListingSk(record.siteId) },
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
        put(resellerPk(record.resellerId), integrationSk(record.integrationId)),
        put(integrationPk(record.integrationId), integrationConfigSk),
      ],
    });
    // The ids are 128 random bits: a failed condition is the missing site.
    return (await unlessConditionFails(this.doc.send(write))) && record;
  }

  async list(resellerId: string, request: PageRequest): Promise<Page<IntegrationRecord>> {
    const page = await queryPage(this.doc, this.tableName, resellerPk(resellerId), integrationSk(''), request);
    return { items: page.items.map((item) => IntegrationItem.parse(item)), nextCursor: page.nextCursor };
  }

  /** One of the reseller's integrations, strongly consistent; undefined if it has no such one. */
  async get(resellerId: string, integrationId: string): Promise<IntegrationRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: resellerPk(resellerId), sk: integrationSk(integrationId) },
        ConsistentRead: true,
      }),
    );
    return Item ? IntegrationItem.parse(Item) : undefined;
  }

  /** Removes both items; false if the reseller has no such integration. Its alerts are `withdrawAlerts`'s. */
  async remove(resellerId: string, integrationId: string): Promise<boolean> {
    const write = new TransactWriteCommand({
      TransactItems: [
        {
          Delete: {
            TableName: this.tableName,
            Key: { pk: resellerPk(resellerId), sk: integrationSk(integrationId) },
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
        { Delete: { TableName: this.tableName, Key: { pk: integrationPk(integrationId), sk: integrationConfigSk } } },
      ],
    });
    return (await unlessConditionFails(this.doc.send(write))) !== undefined;
  }

  /**
   * Ends the alerts of an integration being deleted, which no news will clear any more: each
   * raised one is first cleared (the stream tells `alert.cleared`, as a clearing hook would), then
   * every one is deleted. Answers what each was, for its incident tracker. Safe to run again.
   */
  async withdrawAlerts(
    integration: Pick<IntegrationRecord, 'resellerId' | 'siteId' | 'integrationId'>,
    now: number,
  ): Promise<WithdrawnSubject[]> {
    const withdrawn: WithdrawnSubject[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': sitePk(integration.resellerId, integration.siteId),
            ':prefix': integrationAlertsSkPrefix(integration.integrationId),
          },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const alert = alertFromItem(item);
        if (alert.raised) {
          // Cleared no earlier than its latest news (a hook's timestamp may run up to 5 minutes ahead).
          const at = Math.max(alert.at, now);
          await this.doc.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: alertKey(alert),
              UpdateExpression: 'SET #raised = :false, #severity = :info, #at = :at, #type = :type REMOVE #summary',
              ExpressionAttributeNames: {
                '#raised': 'raised',
                '#severity': 'severity',
                '#at': 'at',
                '#type': 'type',
                '#summary': 'summary',
              },
              ExpressionAttributeValues: { ':false': false, ':info': 'info', ':at': at, ':type': 'integration.deleted' },
            }),
          );
        }
        await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: alertKey(alert) }));
        withdrawn.push({ subject: alertSubject(alert), raisedAt: alert.raised ? alert.at : 0, lastNewsAt: alert.at });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return withdrawn;
  }

  /**
   * Replaces the integration's credential in both its items (its kind stays): the old one stops
   * working at once. False if the reseller has no such integration (deleted meanwhile).
   */
  async rotate(resellerId: string, integrationId: string, credential: IntegrationCredential): Promise<boolean> {
    const [field, value] = credential.auth === 'signature' ? ['secret', credential.secret] : ['tokenHash', credential.tokenHash];
    const update = (pk: string, sk: string) => ({
      Update: {
        TableName: this.tableName,
        Key: { pk, sk },
        UpdateExpression: 'SET #field = :value',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#field': field },
        ExpressionAttributeValues: { ':value': value },
      },
    });
    const write = new TransactWriteCommand({
      TransactItems: [
        update(resellerPk(resellerId), integrationSk(integrationId)),
        update(integrationPk(integrationId), integrationConfigSk),
      ],
    });
    return (await unlessConditionFails(this.doc.send(write))) !== undefined;
  }

  /** The integration a hook's URL names, strongly consistent (a removed one must stop accepting at once). */
  async getById(integrationId: string): Promise<IntegrationRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: integrationPk(integrationId), sk: integrationConfigSk },
        ConsistentRead: true,
      }),
    );
    return Item ? IntegrationItem.parse(Item) : undefined;
  }

  /**
   * Records a verified hook in one transaction: its webhook-id as seen (a replay fails there and
   * stores nothing), and for a raise or a clear the alert's new state, only if the alert has no
   * news yet, older news, or news of the same second that says the opposite (webhook timestamps
   * are whole seconds: of two in one second, the later arrival wins). Older news changes nothing,
   * but its webhook-id is still recorded, so that it cannot be replayed either.
   */
  async receive(integration: IntegrationRecord, news: InboundNews, now: number): Promise<ReceiveOutcome> {
    const seen = {
      Put: {
        TableName: this.tableName,
        Item: {
          pk: integrationPk(integration.integrationId),
          sk: inboundSeenSk(news.webhookId),
          integrationId: integration.integrationId,
          resellerId: integration.resellerId,
          webhookId: news.webhookId,
          type: news.type,
          receivedAt: now,
          expiresAt: ttlSeconds(Math.max(news.at, now) + hookToleranceMs + seenRetentionMs),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    const update = news.action ? this.#alertUpdate(integration, news, news.action) : undefined;
    try {
      // Hooks on one alert at once (two senders, a sender's quick retry) meet in DynamoDB: the one
      // cancelled by the conflict tries again, and its conditions then decide (stale or replayed).
      await retryingConflicts(() => this.doc.send(new TransactWriteCommand({ TransactItems: update ? [seen, update] : [seen] })));
      return 'stored';
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      if (failedConditions(error).includes(0)) return 'replayed';
    }
    // Only the alert's condition failed: older news. Its webhook-id is spent all the same.
    return (await unlessConditionFails(retryingConflicts(() => this.doc.send(new PutCommand(seen.Put))))) ? 'stale' : 'replayed';
  }

  #alertUpdate(integration: IntegrationRecord, news: InboundNews, action: HookAction) {
    const alert: Alert = {
      resellerId: integration.resellerId,
      siteId: integration.siteId,
      integrationId: integration.integrationId,
      integrationName: integration.name,
      alert: action.alert,
      raised: action.action === 'raise',
      severity: action.action === 'raise' ? action.severity : 'info',
      at: news.at,
      webhookId: news.webhookId,
      type: news.type,
      summary: news.summary,
    };
    // Every field by placeholder (`at`, `type` and others are reserved words); a summary the news lacks is removed.
    const { summary, ...fields } = alert;
    const names = Object.keys(fields);
    const set = [...names, ...(summary === undefined ? [] : ['summary'])].map((name) => `#${name} = :${name}`);
    return {
      Update: {
        TableName: this.tableName,
        Key: alertKey(alert),
        UpdateExpression: `SET ${set.join(', ')}${summary === undefined ? ' REMOVE #summary' : ''}`,
        ConditionExpression: 'attribute_not_exists(pk) OR #at < :at OR (#at = :at AND #raised <> :raised)',
        ExpressionAttributeNames: Object.fromEntries([...names, 'summary'].map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: Object.fromEntries(
          Object.entries(summary === undefined ? fields : { ...fields, summary }).map(([name, value]) => [`:${name}`, value]),
        ),
      },
    };
  }
}
