import { DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoredEvent } from '../../protocol/events.ts';
import { AuditTrail } from '../../functions/adapters/audit-trail.ts';
import { documentClient, localDynamoClientConfig, witnessConfigFromEnv } from '../../functions/adapters/config.ts';
import { parseRetentionEnv, retentionFromEnv } from '../../functions/adapters/retention.ts';
import { deliveryAttemptSk, eventSk, sitePk, webhookPk } from '../../functions/adapters/tenancy-items.ts';
import { newWebhookSecret } from '../../functions/adapters/webhook-endpoint-store.ts';
import { WebhookMessageStore } from '../../functions/adapters/webhook-message-store.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

// Audit events and the webhook delivery log expire (`expiresAt`, the table's TTL) after their
// retention; DynamoDB deletes expired items only later (DynamoDB Local never), so the lists leave
// them out themselves. The real writers on DynamoDB Local, the lists through the API.

const day = 86_400_000;
let api: TestApi;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let reseller: Awaited<ReturnType<typeof setUpReseller>>;

function event(id: string, at: number): StoredEvent {
  return {
    id,
    type: 'node.lost',
    timestamp: new Date(at).toISOString(),
    data: { resellerId: reseller.resellerId, siteId: reseller.siteId, severity: 'warning', nodeId: 'node-b' },
  };
}

const rawItem = async (pk: string, sk: string) =>
  (await doc.send(new GetCommand({ TableName: api.tableName, Key: { pk, sk }, ConsistentRead: true }))).Item;

beforeAll(async () => {
  api = await startApi();
  client = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
  doc = documentClient(client);
  reseller = await setUpReseller(api);
});
afterAll(async () => {
  client.destroy();
  await api.close();
});

describe('the local table', () => {
  it('has TTL on expiresAt, as the stack’s table has', async () => {
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: api.tableName }));
    expect(TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });
});

describe('the audit trail', () => {
  it('writes each event with expiresAt its time + the retention (400 days unless set), in epoch seconds', async () => {
    const at = api.clock.now() - 5 * day;
    await api.api.trail.appendEvent(event('kept-400', at));
    expect((await rawItem(sitePk(reseller.resellerId, reseller.siteId), eventSk(new Date(at).toISOString(), 'kept-400')))?.expiresAt).toBe(
      (at + 400 * day) / 1000,
    );

    const short = new AuditTrail(doc, api.tableName, 7);
    await short.appendEvent(event('kept-7', at + 1));
    expect(
      (await rawItem(sitePk(reseller.resellerId, reseller.siteId), eventSk(new Date(at + 1).toISOString(), 'kept-7')))?.expiresAt,
    ).toBe(Math.ceil((at + 1 + 7 * day) / 1000));
  });

  it('GET /v1/sites/{siteId}/events leaves out an event whose expiresAt has passed, though DynamoDB has not deleted it yet', async () => {
    const now = api.clock.now();
    const events = async () =>
      ((await api.call('GET', `/v1/sites/${reseller.siteId}/events`, reseller.key)).body as { items: { id: string }[] }).items.map(
        (e) => e.id,
      );
    // As DynamoDB may return it: expired a second ago, still there.
    const expired = event('expired', now - 2 * day);
    await doc.send(
      new PutCommand({
        TableName: api.tableName,
        Item: {
          pk: sitePk(reseller.resellerId, reseller.siteId),
          sk: eventSk(expired.timestamp, expired.id),
          ...expired,
          expiresAt: Math.floor(now / 1000) - 1,
        },
      }),
    );
    expect(await events()).not.toContain('expired');
    expect(await events()).toEqual(expect.arrayContaining(['kept-400', 'kept-7']));

    // 7 days after kept-7 was made (5 days ago), it is gone; kept-400 stays.
    api.clock.advance(3 * day);
    expect(await events()).toContain('kept-400');
    expect(await events()).not.toContain('kept-7');
    api.clock.ms = now;
  });
});

describe('the webhook delivery log', () => {
  it('writes each try with expiresAt its time + 30 days, and GET …/attempts leaves it out once that has passed', async () => {
    const { webhookEndpoints, webhookMessages } = api.api;
    const now = api.clock.now();
    const { resellerId } = reseller;
    await webhookEndpoints.createEndpoint(
      resellerId,
      'ops',
      { url: 'https://hooks.example.com/x', eventTypes: ['node.lost'], template: 'generic', enabled: true },
      newWebhookSecret(),
      now,
    );
    const { record } = await webhookMessages.addMessage(
      {
        resellerId,
        endpointId: 'ops',
        messageId: 'msg_1',
        eventId: 'e1',
        eventType: 'node.lost',
        siteId: reseller.siteId,
        payload: '{}',
        createdAt: now,
      },
      'pending',
    );
    const after = {
      status: 'delivered',
      failure: null,
      attempts: 1,
      nextAttemptAt: null,
      lastAttemptAt: now,
      disabledEndpoint: null,
    } as const;
    const line = { messageId: 'msg_1', round: 0, attempt: 1, at: now, status: 204, latencyMs: 12, response: '', error: null };
    expect(await webhookMessages.recordAttempt(record, 0, after, line)).toBeDefined();
    const attemptItem = await rawItem(webhookPk(resellerId, 'ops'), deliveryAttemptSk(new Date(now).toISOString(), 'msg_1', 0, 1));
    expect(attemptItem?.expiresAt).toBe(Math.ceil((now + 30 * day) / 1000));

    const attempts = async () =>
      ((await api.call('GET', '/v1/webhooks/ops/attempts', reseller.key)).body as { items: { messageId: string }[] }).items;
    const messages = async () =>
      ((await api.call('GET', '/v1/webhooks/ops/messages', reseller.key)).body as { items: { messageId: string }[] }).items;
    expect(await attempts()).toHaveLength(1);
    expect(await messages()).toHaveLength(1);
    api.clock.advance(30 * day);
    expect(await attempts()).toEqual([]);
    expect(await messages()).toEqual([]);
    api.clock.ms = now;
  });

  it('keeps tries as long as the store is told (TIEBREAK_DELIVERY_LOG_RETENTION_DAYS)', async () => {
    const store = new WebhookMessageStore(doc, api.tableName, 90);
    const now = api.clock.now();
    const { record } = await store.addMessage(
      {
        resellerId: reseller.resellerId,
        endpointId: 'ops',
        messageId: 'msg_2',
        eventId: 'e2',
        eventType: 'node.lost',
        siteId: reseller.siteId,
        payload: '{}',
        createdAt: now,
      },
      'pending',
    );
    const after = {
      status: 'delivered',
      failure: null,
      attempts: 1,
      nextAttemptAt: null,
      lastAttemptAt: now,
      disabledEndpoint: null,
    } as const;
    await store.recordAttempt(record, 0, after, {
      messageId: 'msg_2',
      round: 0,
      attempt: 1,
      at: now,
      status: 204,
      latencyMs: 1,
      response: '',
      error: null,
    });
    const item = await rawItem(webhookPk(reseller.resellerId, 'ops'), deliveryAttemptSk(new Date(now).toISOString(), 'msg_2', 0, 1));
    expect(item?.expiresAt).toBe(Math.ceil((now + 90 * day) / 1000));
  });
});

describe('the SLA report', () => {
  const notes = async (from: string, to: string) => {
    const answer = await api.call('GET', `/v1/reports/sla?from=${from}&to=${to}`, reseller.key);
    expect(answer.status).toBe(200);
    return (answer.body as { sites: { notes: { at: string; text: string }[] }[] }).sites.flatMap((s) => s.notes.map((n) => n.text));
  };

  it('says when its period starts before the audit trail’s retention (now − 400 days), in JSON and HTML; a later period says nothing of it', async () => {
    const saved = api.clock.ms;
    // The site was made at the test clock's start; two years on, a report of its first year starts before the retention.
    api.clock.advance(2 * 365 * day);
    const first = new Date(saved).toISOString().slice(0, 10);
    const yearOn = new Date(saved + 365 * day).toISOString().slice(0, 10);
    const [note, ...more] = await notes(first, yearOn);
    expect(more).toEqual([]);
    expect(note).toMatch(/before the audit trail's retention: events are kept 400 days, so those before .* may have been deleted/);
    const html = await api.call('GET', `/v1/reports/sla?from=${first}&to=${yearOn}&format=html`, reseller.key);
    expect(html.text).toContain('before the audit trail&#39;s retention');

    const recent = new Date(api.clock.ms - 30 * day).toISOString().slice(0, 10);
    const today = new Date(api.clock.ms).toISOString().slice(0, 10);
    expect((await notes(recent, today)).filter((n) => n.includes('retention'))).toEqual([]);
    api.clock.ms = saved;
  });
});

describe('the retention settings', () => {
  it('default to 400 and 30 days, take whole days from 1 to 3653, and name the variable at fault', () => {
    expect(retentionFromEnv({})).toEqual({ auditTrailDays: 400, deliveryLogDays: 30 });
    expect(retentionFromEnv({ TIEBREAK_AUDIT_RETENTION_DAYS: '731', TIEBREAK_DELIVERY_LOG_RETENTION_DAYS: '7' })).toEqual({
      auditTrailDays: 731,
      deliveryLogDays: 7,
    });
    for (const bad of ['0', '-1', '1.5', 'a year', '3654']) {
      const parsed = parseRetentionEnv({ TIEBREAK_AUDIT_RETENTION_DAYS: bad });
      expect(parsed.ok ? [] : parsed.problems.map((p) => p.name), bad).toEqual(['TIEBREAK_AUDIT_RETENTION_DAYS']);
    }
    expect(() => retentionFromEnv({ TIEBREAK_DELIVERY_LOG_RETENTION_DAYS: '0' })).toThrow(
      'TIEBREAK_DELIVERY_LOG_RETENTION_DAYS: at least 1 day',
    );
    const env = { TIEBREAK_TABLE: 'tiebreak', TIEBREAK_TOKEN_KEY: Buffer.alloc(32, 7).toString('base64') };
    expect(witnessConfigFromEnv({ ...env, TIEBREAK_AUDIT_RETENTION_DAYS: '500' }).retention).toEqual({
      auditTrailDays: 500,
      deliveryLogDays: 30,
    });
    expect(() => witnessConfigFromEnv({ ...env, TIEBREAK_AUDIT_RETENTION_DAYS: 'forever' })).toThrow(
      'TIEBREAK_AUDIT_RETENTION_DAYS: a whole number of days',
    );
  });
});
