import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localSnsClient, localSqsClient } from '../../functions/adapters/messaging-clients.ts';
import { localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { EventBus } from '../../functions/adapters/event-bus.ts';
import { publisherDeps } from '../../functions/adapters/publisher-config.ts';
import { ResellerChannels } from '../../functions/adapters/reseller-channels.ts';
import { WebhookSender } from '../../functions/adapters/webhook-sender.ts';
import { messageIdOf } from '../../functions/adapters/webhook-message-store.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import type { WebhookSettings } from '../../functions/domain/webhook-delivery.ts';
import { publisherHandler } from '../../functions/handlers/publisher.ts';
import { ensureEventTopic, type LocalSnsSqs, startSnsSqs } from '../../local/sns-sqs.ts';
import { type StreamPoller, startStreamPoller, streamsClient } from '../../local/stream-poller.ts';
import { startWebhookRuntime, type WebhookRuntime } from '../../local/webhook-runtime.ts';
import { type StoredEvent, WebhookTestEvent } from '../../protocol/events.ts';
import type { ServiceQueueMessage } from '../../protocol/incidents.ts';
import { type DeliveryAttempt, type WebhookMessage, WebhookTestAccepted } from '../../protocol/webhooks.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

// End to end on DynamoDB Local and a fauxqs of this file's own (kept in a folder, so that it can be
// restarted while retries wait): events on the topic and incident steps in the outbox → router →
// messages → delayed tries on the deliveries queue → deliverer → a real HTTP receiver that checks
// every signature with the standardwebhooks library and with the specification's algorithm.
// The stream publisher runs too, so `webhook.failed` and `webhook.disabled` become events.

/** The default schedule's shape, in a few seconds: 8 tries. */
const settings: WebhookSettings = {
  retryDelaysMs: [250, 500, 1000, 1500, 2000, 2000, 2000],
  jitter: 0.2,
  disableAfterFailingMs: 24 * 3_600_000,
};
const tryTimeoutMs = 400;
const channelPrefix = 'wh-e2e';

let api: TestApi;
let dataDir: string;
let snsSqs: LocalSnsSqs;
let topicArn: string;
let bus: EventBus;
let sqs: SQSClient;
let dynamo: DynamoDBClient;
let runtime: WebhookRuntime;
let stream: StreamPoller;

async function startPipeline(): Promise<void> {
  snsSqs = await startSnsSqs({ dataDir });
  sqs = localSqsClient(snsSqs.endpoint);
  const sns = localSnsClient(snsSqs.endpoint);
  topicArn = await ensureEventTopic(snsSqs.endpoint, `events-${api.tableName}`);
  bus = new EventBus(sns, topicArn);
  stream = await startStreamPoller({
    client: dynamo,
    streams: streamsClient(inject('dynamoEndpoint')),
    tableName: api.tableName,
    intervalMs: 50,
    handler: publisherHandler(() => publisherDeps({ tableName: api.tableName, settings: defaultSettings, dynamo, sns, topicArn })),
  });
  runtime = await startWebhookRuntime({
    snsSqsEndpoint: snsSqs.endpoint,
    topicArn,
    dynamo,
    tableName: api.tableName,
    channelPrefix,
    policy: { allowLoopback: true },
    settings,
    timeoutMs: tryTimeoutMs,
    retryAfterSeconds: 1,
  });
  api.api.webhookJobs = runtime.deps.jobs;
  api.api.channels = new ResellerChannels(sqs, sns, channelPrefix);
}

async function stopPipeline(): Promise<void> {
  await runtime.stop();
  await stream.stop();
  sqs.destroy();
  await snsSqs.stop();
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tiebreak-webhooks-'));
  api = await startApi();
  api.api.now = () => Date.now();
  dynamo = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
  await startPipeline();
});

afterAll(async () => {
  await stopPipeline();
  dynamo.destroy();
  await api.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A reseller (its service queue made) with an endpoint at a fresh receiver that knows the endpoint's secret. */
async function endpointAt(id: string, body: Record<string, unknown> = {}) {
  const reseller = await setUpReseller(api, id);
  const receiver = await startWebhookReceiver({ secret: `whsec_${Buffer.alloc(32).toString('base64')}` });
  const created = await api.call('POST', '/v1/webhooks', reseller.key, {
    endpointId: 'ops',
    url: receiver.url,
    eventTypes: ['node.lost'],
    ...body,
  });
  expect(created.status, created.text).toBe(201);
  const { secret } = (created.body as { secret: { secret: string } }).secret;
  receiver.setSecrets([secret]);
  return { ...reseller, receiver, secret };
}

const event = (resellerId: string, n: number, type: StoredEvent['type'] = 'node.lost'): StoredEvent => ({
  id: `${resellerId}/main-office/${type}/${String(n)}`,
  type,
  timestamp: new Date(Date.now() - 1000 + n).toISOString(),
  data: { resellerId, siteId: 'main-office', nodeId: `node-${String(n)}`, severity: 'critical' },
});

async function messagesOf(key: string, endpointId = 'ops'): Promise<WebhookMessage[]> {
  const answer = await api.call('GET', `/v1/webhooks/${endpointId}/messages?limit=100`, key);
  expect(answer.status, answer.text).toBe(200);
  return (answer.body as { items: WebhookMessage[] }).items;
}

/** The endpoint's whole delivery log, page by page. */
async function attemptsOf(key: string, endpointId = 'ops'): Promise<DeliveryAttempt[]> {
  const all: DeliveryAttempt[] = [];
  let cursor: string | null = null;
  do {
    const answer = await api.call('GET', `/v1/webhooks/${endpointId}/attempts?limit=100${cursor ? `&cursor=${cursor}` : ''}`, key);
    const page = answer.body as { items: DeliveryAttempt[]; nextCursor: string | null };
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(value).slice(0, 600)}`);
    await sleep(100);
  }
}

/** Everything on a queue now (by name), read and left to expire: a test's own view. */
async function drain(queueName: string): Promise<string[]> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300 }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
  }
}

describe('outbound webhooks, end to end', () => {
  it('through an outage (refused, then 500s, then timeouts) every message arrives once per webhook-id, signed, none lost', async () => {
    const site = await endpointAt('outage');
    const count = 20;
    // Each phase of the outage lasts until the delivery log shows it, not a fixed time: on a busy
    // machine a first try may come seconds late, and a test that slept would end the outage first.
    await site.receiver.setMode('refuse');
    await bus.publish(Array.from({ length: count }, (_, n) => event(site.resellerId, n)));
    await until(
      'every first try refused',
      () => messagesOf(site.key),
      (all) => all.length === count && all.every((m) => m.attempts >= 1),
    );
    await site.receiver.setMode('error');
    const answered = site.receiver.requests;
    await until(
      'a 500 in the log',
      () => attemptsOf(site.key),
      (log) => site.receiver.requests > answered && log.some((a) => a.status === 500),
    );
    const hangingFrom = Date.now();
    await site.receiver.setMode('hang');
    await until(
      'a try timed out',
      () => attemptsOf(site.key),
      (log) => log.some((a) => a.status === null && Date.parse(a.at) >= hangingFrom),
    );
    await site.receiver.setMode('ok');
    await site.receiver.waitFor(count, 40_000);

    expect(site.receiver.badSignatures).toBe(0);
    const bodies = [...site.receiver.unique.values()].map((d) => JSON.parse(d.body) as StoredEvent);
    expect(bodies.map((e) => e.id).sort()).toEqual(Array.from({ length: count }, (_, n) => event(site.resellerId, n).id).sort());
    const messages = await until(
      'all delivered',
      () => messagesOf(site.key),
      (all) => all.length === count && all.every((m) => m.status === 'delivered'),
    );
    expect(messages.every((m) => m.attempts >= 2 && m.attempts <= 8)).toBe(true);
    // The delivery log shows the outage: tries without a status (refused, timed out) and 500s.
    const log = await attemptsOf(site.key);
    expect(log.some((a) => a.status === null && a.error !== null)).toBe(true);
    expect(log.some((a) => a.status === 500 && a.response.includes('database unavailable'))).toBe(true);
    expect(log.length).toBe(messages.reduce((sum, m) => sum + m.attempts, 0));
    await site.receiver.close();
  });

  it('a message whose tries all fail goes to the dead-letter queue, and the reseller hears webhook.failed; a replay after the fix delivers it with the same id', async () => {
    const site = await endpointAt('dead');
    await site.receiver.setMode('error');
    await bus.publish([event(site.resellerId, 1)]);
    const [failed] = await until(
      'exhausted',
      () => messagesOf(site.key),
      (all) => all[0]?.status === 'failed',
      40_000,
    );
    expect(failed).toMatchObject({ status: 'failed', failure: 'exhausted', attempts: 8, lastStatus: 500 });

    const dead = await until(
      'dead-lettered',
      () => drain(`${channelPrefix}-webhook-dead-letters`),
      (all) => all.length > 0,
    );
    expect(dead.map((b) => (JSON.parse(b) as { messageId: string }).messageId)).toContain(failed?.messageId);
    const notices = await until(
      'told on the service queue',
      () => drain(`${channelPrefix}-svc-${site.resellerId}`),
      (all) => all.some((b) => (JSON.parse(b) as StoredEvent).type === 'webhook.failed'),
    );
    expect(notices.map((b) => JSON.parse(b) as StoredEvent).find((e) => e.type === 'webhook.failed')?.data).toMatchObject({
      endpointId: 'ops',
      messageId: failed?.messageId,
    });

    await site.receiver.setMode('ok');
    const replay = await api.call('POST', '/v1/webhooks/ops/replay', site.key, { since: new Date(Date.now() - 3_600_000).toISOString() });
    expect(replay.body).toEqual({ replayed: 1, more: false });
    await site.receiver.waitFor(1, 10_000);
    expect([...site.receiver.unique.keys()]).toEqual([failed?.messageId]);
    await site.receiver.close();
  });

  it('a replay of a delivered message arrives again with the same webhook-id', async () => {
    const site = await endpointAt('replay');
    await bus.publish([event(site.resellerId, 1)]);
    await site.receiver.waitFor(1, 10_000);
    const [message] = await messagesOf(site.key);
    const again = await api.call('POST', `/v1/webhooks/ops/messages/${message?.messageId ?? ''}/replay`, site.key);
    expect(again.body).toMatchObject({ messageId: message?.messageId, round: 1, status: 'pending' });
    await until(
      'received twice',
      () => Promise.resolve(site.receiver.duplicates),
      (n) => n === 1,
    );
    expect([...site.receiver.unique.keys()]).toEqual([message?.messageId]);
    await site.receiver.close();
  });

  it('410 Gone disables the endpoint at once (webhook.disabled); later events are kept, not sent, and re-enabling plus a replay delivers them', async () => {
    const site = await endpointAt('gone');
    await site.receiver.setMode('gone');
    await bus.publish([event(site.resellerId, 1)]);
    const endpoint = await until(
      'disabled',
      async () => (await api.call('GET', '/v1/webhooks/ops', site.key)).body as { enabled: boolean; disabledReason: string | null },
      (e) => !e.enabled,
    );
    expect(endpoint.disabledReason).toBe('gone');
    const trail = await until(
      'webhook.disabled in the audit trail',
      async () => ((await api.call('GET', '/v1/sites/main-office/events?limit=100', site.key)).body as { items: StoredEvent[] }).items,
      (items) => items.some((e) => e.type === 'webhook.disabled'),
    );
    expect(trail.find((e) => e.type === 'webhook.disabled')?.data).toMatchObject({
      endpointId: 'ops',
      reason: 'gone',
      severity: 'critical',
    });

    // Workers cache an endpoint's settings for 2 s: after that, nothing more is sent to it.
    await sleep(2500);
    await bus.publish([event(site.resellerId, 2)]);
    const kept = await until(
      'kept',
      () => messagesOf(site.key),
      (all) => all.length === 2 && all.every((m) => m.status === 'failed'),
    );
    expect(kept.map((m) => m.failure).sort()).toEqual(['endpoint-disabled', 'gone']);
    expect(site.receiver.unique.size).toBe(0);

    const early = await api.call('POST', '/v1/webhooks/ops/replay', site.key, { since: new Date(Date.now() - 3_600_000).toISOString() });
    expect(early.status, 'a replay to a disabled endpoint is refused').toBe(409);
    await site.receiver.setMode('ok');
    const enabled = await api.call('PUT', '/v1/webhooks/ops', site.key, {
      url: site.receiver.url,
      eventTypes: ['node.lost'],
      enabled: true,
    });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });
    await api.call('POST', '/v1/webhooks/ops/replay', site.key, { since: new Date(Date.now() - 3_600_000).toISOString() });
    await site.receiver.waitFor(2, 10_000);
    await site.receiver.close();
  });

  it('retries waiting on the queue survive a restart of the engine and the workers', async () => {
    const site = await endpointAt('restart');
    await site.receiver.setMode('error');
    await bus.publish([event(site.resellerId, 1), event(site.resellerId, 2)]);
    await until(
      'tried once',
      () => messagesOf(site.key),
      (all) => all.length === 2 && all.every((m) => m.attempts >= 1),
    );
    await stopPipeline();
    await site.receiver.setMode('ok');
    await startPipeline();
    await site.receiver.waitFor(2, 20_000);
    expect(site.receiver.badSignatures).toBe(0);
    await site.receiver.close();
  });

  it('an incident step an escalation policy sends to a PagerDuty endpoint triggers, then resolves, the same dedup_key', async () => {
    const site = await endpointAt('pager', { template: 'pagerduty', routingKey: 'R'.repeat(32), eventTypes: [] });
    const outbox = runtime.outboxUrl;
    const step = (kind: 'opened' | 'resolved'): ServiceQueueMessage => ({
      messageId: `${site.resellerId}/main-office/incident/node-lost-1/${kind}`,
      step: kind,
      level: kind === 'opened' ? 1 : null,
      at: new Date().toISOString(),
      incident: {
        incidentId: 'node-lost-1',
        kind: 'node.lost',
        state: kind === 'opened' ? 'open' : 'resolved',
        openedAt: new Date().toISOString(),
        subjects: ['node-a'],
        acknowledgedBy: null,
        resolvedBy: kind === 'opened' ? null : 'recovery',
      },
      site: { siteId: 'main-office', name: 'Main office' },
      customer: null,
      links: null,
    });
    for (const kind of ['opened', 'resolved'] as const) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: outbox,
          MessageBody: JSON.stringify({ resellerId: site.resellerId, endpointId: 'ops', message: step(kind) }),
        }),
      );
    }
    await site.receiver.waitFor(2, 10_000);
    const bodies = [...site.receiver.unique.values()].map(
      (d) => JSON.parse(d.body) as { event_action: string; dedup_key: string; routing_key: string },
    );
    expect(bodies.map((b) => b.event_action).sort()).toEqual(['resolve', 'trigger']);
    expect(new Set(bodies.map((b) => b.dedup_key))).toEqual(new Set(['main-office/node-lost-1']));
    await site.receiver.close();
  });

  it('in cloud mode, loopback, private, link-local and metadata URLs are refused at registration', async () => {
    const { key } = await setUpReseller(api, 'ssrf');
    api.api.addressPolicy = { allowLoopback: false };
    try {
      for (const url of [
        'http://127.0.0.1:8080/hook',
        'https://[::1]/hook',
        'https://10.0.0.7/hook',
        'https://169.254.169.254/latest/meta-data',
        'https://[fd00:ec2::254]/',
        'https://0.0.0.0/',
      ]) {
        const answer = await api.call('POST', '/v1/webhooks', key, { endpointId: 'ops', url, eventTypes: ['node.lost'] });
        expect(answer.status, `${url}: ${answer.text}`).toBe(400);
        expect(answer.body).toMatchObject({ error: { code: 'invalid-body', details: [{ path: 'url' }] } });
      }
      expect(((await api.call('GET', '/v1/webhooks', key)).body as { items: unknown[] }).items).toEqual([]);
    } finally {
      api.api.addressPolicy = { allowLoopback: true };
    }
  });

  it('the address is checked again at delivery: a worker in cloud mode never connects to a loopback endpoint', async () => {
    const site = await endpointAt('ssrf-delivery');
    const sender = runtime.deps.sender;
    runtime.deps.sender = new WebhookSender({ policy: { allowLoopback: false } });
    try {
      await bus.publish([event(site.resellerId, 1)]);
      const log = await until(
        'refused',
        () => attemptsOf(site.key, 'ops'),
        (items) => items.length > 0,
      );
      expect(log[0]).toMatchObject({ status: null, error: expect.stringContaining('address not allowed') as unknown });
      expect(site.receiver.requests).toBe(0);
    } finally {
      runtime.deps.sender.close();
      runtime.deps.sender = sender;
    }
    await site.receiver.close();
  });

  it('during a secret rotation both secrets sign: a receiver that knows only the old one, or only the new one, verifies', async () => {
    const site = await endpointAt('rotation');
    const rotated = await api.call('POST', '/v1/webhooks/ops/rotate-secret', site.key, { overlapSeconds: 3600 });
    expect(rotated.status, rotated.text).toBe(200);
    const { secret: fresh, previousExpiresAt } = rotated.body as { secret: string; previousExpiresAt: string };
    expect(Date.parse(previousExpiresAt) - Date.now()).toBeGreaterThan(3_500_000);
    // The workers cache the endpoint's settings for 2 s.
    await sleep(2500);
    site.receiver.setSecrets([site.secret]);
    await bus.publish([event(site.resellerId, 1)]);
    await site.receiver.waitFor(1, 10_000);
    site.receiver.setSecrets([fresh]);
    await bus.publish([event(site.resellerId, 2)]);
    await site.receiver.waitFor(2, 10_000);
    expect(site.receiver.badSignatures).toBe(0);
    expect([...site.receiver.unique.values()].map((d) => d.headers['webhook-signature']?.split(' ').length)).toEqual([2, 2]);
    await site.receiver.close();
  });

  it('replaying failed messages since a time goes 200 a call, says when there are more, and in the end delivers every one', async () => {
    const site = await endpointAt('replay-many');
    // The product's own try timeout (15 s): with the suite's 400 ms, a receiver slowed by a busy
    // machine answers after the try gave up, and the retry is a true duplicate (at least once).
    const sender = runtime.deps.sender;
    runtime.deps.sender = new WebhookSender({ policy: { allowLoopback: true } });
    const count = 205;
    const at = Date.now() - 60_000;
    for (let n = 0; n < count; n++) {
      const eventId = `${site.resellerId}/main-office/node.lost/${String(n)}`;
      const message = {
        resellerId: site.resellerId,
        endpointId: 'ops',
        messageId: messageIdOf(eventId, 'ops', at + n),
        eventId,
        eventType: 'node.lost',
        siteId: 'main-office',
        payload: '{}',
        createdAt: at + n,
      } as const;
      await api.api.webhookMessages.addMessage(message, 'failed');
    }
    const since = new Date(at - 1000).toISOString();
    const first = await api.call('POST', '/v1/webhooks/ops/replay', site.key, { since });
    expect(first.body).toEqual({ replayed: 200, more: true });
    const second = await api.call('POST', '/v1/webhooks/ops/replay', site.key, { since });
    expect(second.body).toEqual({ replayed: 5, more: false });
    try {
      await site.receiver.waitFor(count, 60_000);
      expect(site.receiver.duplicates).toBe(0);
    } finally {
      runtime.deps.sender.close();
      runtime.deps.sender = sender;
    }
    await site.receiver.close();
  });
});

describe('POST /v1/webhooks/{endpointId}/test', () => {
  /** The id of the reseller's first key (the one setUpReseller made, which the tests call with). */
  async function keyIdOf(key: string): Promise<string> {
    const keys = await api.call('GET', '/v1/api-keys', key);
    return (keys.body as { items: { keyId: string }[] }).items[0]!.keyId;
  }

  it('sends the endpoint a signed webhook.test through the real pipeline: 202, received and verified, then delivered with one try in the messages and the delivery log', async () => {
    const site = await endpointAt('test-ok');
    const keyId = await keyIdOf(site.key);
    const answer = await api.call('POST', '/v1/webhooks/ops/test', site.key);
    expect(answer.status, answer.text).toBe(202);
    const accepted = WebhookTestAccepted.parse(answer.body);
    expect(accepted).toMatchObject({ endpointId: 'ops', eventType: 'webhook.test', status: 'pending' });
    expect(accepted.message).toContain('GET /v1/webhooks/ops/messages');
    expect(accepted.message).toContain('GET /v1/webhooks/ops/attempts');

    await site.receiver.waitFor(1, 10_000);
    const delivery = site.receiver.unique.get(accepted.messageId);
    expect(delivery, 'the webhook-id is the message id').toBeDefined();
    expect(site.receiver.badSignatures).toBe(0);
    // Verified here too, with the library and the endpoint's secret, on the bytes as received.
    const verified = new Webhook(site.secret).verify(delivery!.body, delivery!.headers);
    const event = WebhookTestEvent.parse(verified);
    expect(event).toEqual({
      id: accepted.eventId,
      type: 'webhook.test',
      timestamp: expect.any(String) as unknown,
      data: {
        resellerId: site.resellerId,
        test: true,
        severity: 'info',
        endpointId: 'ops',
        keyId,
        message: expect.stringContaining('no action is needed') as unknown,
      },
    });
    expect(event.data).not.toHaveProperty('siteId');

    const [message] = await until(
      'delivered',
      () => messagesOf(site.key),
      (all) => all[0]?.status === 'delivered',
    );
    expect(message).toMatchObject({
      messageId: accepted.messageId,
      endpointId: 'ops',
      eventId: accepted.eventId,
      eventType: 'webhook.test',
      siteId: null,
      status: 'delivered',
      failure: null,
      attempts: 1,
      round: 0,
      lastStatus: 204,
    });
    const log = await attemptsOf(site.key);
    expect(log.map((a) => [a.messageId, a.round, a.attempt, a.status])).toEqual([[accepted.messageId, 0, 1, 204]]);
    // Each test is a message of its own.
    const again = await api.call('POST', '/v1/webhooks/ops/test', site.key);
    expect(again.status, again.text).toBe(202);
    expect(WebhookTestAccepted.parse(again.body).messageId).not.toBe(accepted.messageId);
    await site.receiver.waitFor(2, 10_000);
    await site.receiver.close();
  });

  it('reaches an endpoint whose eventTypes name other types, in its template (Slack); no other endpoint of the reseller gets it', async () => {
    const site = await endpointAt('test-filtered', { eventTypes: ['site.down'], template: 'slack' });
    const other = await startWebhookReceiver({ secret: site.secret });
    const created = await api.call('POST', '/v1/webhooks', site.key, {
      endpointId: 'everything',
      url: other.url,
      eventTypes: ['site.down', 'node.lost', 'webhook.failed'],
    });
    expect(created.status, created.text).toBe(201);
    other.setSecrets([(created.body as { secret: { secret: string } }).secret.secret]);

    const answer = await api.call('POST', '/v1/webhooks/ops/test', site.key);
    expect(answer.status, answer.text).toBe(202);
    await site.receiver.waitFor(1, 10_000);
    expect(site.receiver.badSignatures).toBe(0);
    const body = JSON.parse([...site.receiver.unique.values()][0]!.body) as { text: string };
    expect(body.text).toBe('Test event from Tiebreak for endpoint ops');
    await until(
      'delivered',
      () => messagesOf(site.key),
      (all) => all[0]?.status === 'delivered',
    );
    expect(await messagesOf(site.key, 'everything')).toEqual([]);
    expect(other.requests).toBe(0);
    await other.close();
    await site.receiver.close();
  });

  it('is retried as any message: a failing receiver is tried again, and the delivery log shows each try', async () => {
    const site = await endpointAt('test-retry');
    await site.receiver.setMode('error');
    const answer = await api.call('POST', '/v1/webhooks/ops/test', site.key);
    expect(answer.status, answer.text).toBe(202);
    await until(
      'a 500 in the log',
      () => attemptsOf(site.key),
      (log) => log.some((a) => a.status === 500),
    );
    await site.receiver.setMode('ok');
    await site.receiver.waitFor(1, 10_000);
    const [message] = await until(
      'delivered',
      () => messagesOf(site.key),
      (all) => all[0]?.status === 'delivered',
    );
    expect(message?.attempts).toBeGreaterThanOrEqual(2);
    const statuses = (await attemptsOf(site.key)).reverse().map((a) => a.status);
    expect(statuses.at(-1)).toBe(204);
    expect(statuses.slice(0, -1).every((s) => s === 500)).toBe(true);
    await site.receiver.close();
  });

  it('refuses a disabled endpoint (409 endpoint-disabled, saying how to enable it), and stores and sends nothing', async () => {
    const site = await endpointAt('test-disabled', { enabled: false });
    const answer = await api.call('POST', '/v1/webhooks/ops/test', site.key);
    expect(answer.status, answer.text).toBe(409);
    expect(answer.body).toMatchObject({
      error: { code: 'endpoint-disabled', message: expect.stringContaining('PUT /v1/webhooks/ops') as unknown },
    });
    expect((answer.body as { error: { message: string } }).error.message).toContain('"enabled": true');
    expect(await messagesOf(site.key)).toEqual([]);
    await sleep(500);
    expect(site.receiver.requests).toBe(0);
    await site.receiver.close();
  });

  it("answers 404 for another reseller's endpoint and for an unknown one, and 503 without a deliveries queue; nothing is stored", async () => {
    const owner = await endpointAt('test-owner');
    const stranger = await setUpReseller(api, 'test-stranger');
    const foreign = await api.call('POST', '/v1/webhooks/ops/test', stranger.key);
    expect(foreign.status, foreign.text).toBe(404);
    expect(foreign.body).toMatchObject({ error: { code: 'not-found' } });
    const unknown = await api.call('POST', '/v1/webhooks/nobody/test', owner.key);
    expect(unknown.status, unknown.text).toBe(404);

    const jobs = api.api.webhookJobs;
    api.api.webhookJobs = undefined;
    try {
      const unavailable = await api.call('POST', '/v1/webhooks/ops/test', owner.key);
      expect(unavailable.status, unavailable.text).toBe(503);
      expect(unavailable.body).toMatchObject({ error: { code: 'unavailable' } });
    } finally {
      api.api.webhookJobs = jobs;
    }
    expect(await messagesOf(owner.key)).toEqual([]);
    await sleep(500);
    expect(owner.receiver.requests).toBe(0);
    await owner.receiver.close();
  });

  it('is not an event type an endpoint can ask for: eventTypes naming webhook.test are refused (400)', async () => {
    const { key } = await setUpReseller(api, 'test-filter');
    const answer = await api.call('POST', '/v1/webhooks', key, {
      endpointId: 'ops',
      url: 'http://127.0.0.1:9/hook',
      eventTypes: ['node.lost', 'webhook.test'],
    });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'invalid-body' } });
  });
});
