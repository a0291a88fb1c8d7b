/**
 * Inbound hooks (DESIGN.md, "Webhooks"): another tool signs events with its integration's secret
 * (Standard Webhooks, signed here with the `standardwebhooks` package as a sender would), and the
 * integration's mapping raises or clears an alert on the site. The real stream publisher runs on
 * DynamoDB Local, so an alert's change is followed to its event in the site's audit trail, and
 * the pure incident rules show what the incidents queue makes of that event.
 */
import { localSnsClient, localSqsClient } from '../../functions/adapters/messaging-clients.ts';
import type { SQSRecord } from 'aws-lambda';
import { type IncidentDeps, incidentDeps } from '../../functions/adapters/incident-config.ts';
import { incidentsHandler } from '../../functions/handlers/incidents.ts';
import { lambdaContext } from '../../local/api-gateway-event.ts';
import { localQueue } from '../../local/local-queue.ts';
import type { Incident } from '../../protocol/incidents.ts';
import { createHash, randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { documentClient, localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { IntegrationStore } from '../../functions/adapters/integration-store.ts';
import { alertSk, sitePk } from '../../functions/adapters/tenancy-items.ts';
import { applyChange, conditionChangesOf, defaultPolicy } from '../../functions/domain/incidents.ts';
import type { WitnessEvent } from '../../protocol/events.ts';
import { maxInboundHookBytes } from '../../protocol/webhooks.ts';
import { type Answer, setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { conflictLikeDynamoDb } from '../support/transaction-conflicts.ts';

let api: TestApi;
let incidents: IncidentDeps;
let reseller: Awaited<ReturnType<typeof setUpReseller>>;
let other: Awaited<ReturnType<typeof setUpReseller>>;

const mapping = {
  'ups.on-battery': { action: 'raise', alert: 'ups-power', severity: 'warning' },
  'ups.on-mains': { action: 'clear', alert: 'ups-power' },
  'rmm.disk-failed': { action: 'raise', alert: 'disk' },
};

interface Created {
  integration: { integrationId: string; siteId: string; name: string; mapping: unknown; auth: string; createdAt: string };
  secret: string;
  url: string;
}

interface CreatedBearer {
  integration: Created['integration'];
  token: string;
  url: string;
}

beforeAll(async () => {
  api = await startApi({ events: true });
  api.clock.ms = Date.parse('2027-02-01T09:00:00Z');
  const client = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
  const sns = localSnsClient(inject('snsSqsEndpoint'));
  // The incidents function on the same table, fed below by hand with the events the trail recorded.
  const sqs = localSqsClient(inject('snsSqsEndpoint'));
  const prefix = `ih-${randomBytes(4).toString('hex')}`;
  const [queue, outbox] = await Promise.all([localQueue(sqs, `${prefix}-incidents`), localQueue(sqs, `${prefix}-webhook-outbox`)]);
  incidents = incidentDeps({
    tableName: api.tableName,
    dynamo: client,
    sqs,
    sns,
    incidentsQueueUrl: queue.url,
    webhookOutboxUrl: outbox.url,
    channelPrefix: prefix,
  });
  reseller = await setUpReseller(api);
  other = await setUpReseller(api);
});
afterAll(async () => {
  await api.close();
});

async function createIntegration(key = reseller.key, siteId = reseller.siteId): Promise<Created> {
  const answer = await api.call('POST', '/v1/integrations', key, { siteId, name: 'APC UPS', mapping });
  expect(answer.status, answer.text).toBe(201);
  return answer.body as Created;
}

/** The Standard Webhooks headers a sender puts on `body`: signed with `secret`, at `atMs` (default: the server's now). */
function signedHeaders(secret: string, body: string, options: { id?: string; atMs?: number } = {}): Record<string, string> {
  const id = options.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const at = new Date(options.atMs ?? api.clock.now());
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

const hookBody = (type: string, data: Record<string, unknown> = {}) =>
  JSON.stringify({ type, timestamp: new Date(api.clock.now()).toISOString(), data });

function post(integrationId: string, body: string, headers: Record<string, string>): Promise<Answer> {
  return api.call('POST', `/v1/hooks/${integrationId}`, undefined, body, headers);
}

/** Posts a validly signed hook now. */
function send(created: Created, body: string, options: { id?: string; atMs?: number } = {}): Promise<Answer> {
  return post(created.integration.integrationId, body, signedHeaders(created.secret, body, options));
}

async function alertItem(created: Created, alert: string): Promise<Record<string, unknown> | undefined> {
  const items = (await api.snapshot()) as Record<string, unknown>[];
  return items.find(
    (item) => item.pk === sitePk(reseller.resellerId, reseller.siteId) && item.sk === alertSk(created.integration.integrationId, alert),
  );
}

let deliveries = 0;
/** Hands an event to the real incidents handler, as its queue would. */
async function toIncidents(event: WitnessEvent): Promise<void> {
  const record = {
    messageId: `m-${String(++deliveries)}`,
    body: JSON.stringify(event),
    attributes: { ApproximateReceiveCount: '1' },
  } as SQSRecord;
  const result = await incidentsHandler(() => incidents)({ Records: [record] }, lambdaContext('incidents', String(deliveries)));
  expect(result.batchItemFailures).toEqual([]);
}

/** The site's alert incident, through the API. */
async function alertIncident(incidentId: string): Promise<Incident> {
  const answer = await api.call('GET', `/v1/sites/${reseller.siteId}/incidents/${incidentId}`, reseller.key);
  expect(answer.status, answer.text).toBe(200);
  return answer.body as Incident;
}

async function trail(): Promise<WitnessEvent[]> {
  await api.drainEvents();
  const answer = await api.call('GET', `/v1/sites/${reseller.siteId}/events?from=2027-01-01T00:00:00Z&limit=100`, reseller.key);
  expect(answer.status, answer.text).toBe(200);
  return (answer.body as { items: WitnessEvent[] }).items;
}

/** Sends a request that must be refused, and checks that the table is exactly as before (the publisher's trail settled first). */
async function expectRefusedUnchanged(status: number, request: () => Promise<Answer>): Promise<Answer> {
  await api.drainEvents();
  const before = await api.snapshot();
  const answer = await request();
  expect(answer.status, answer.text).toBe(status);
  await api.drainEvents();
  expect(await api.snapshot()).toEqual(before);
  return answer;
}

describe('managing integrations', () => {
  test('without a configured public URL (behind API Gateway), the hook URL is https on the host the request came to', async () => {
    const configured = api.api.publicUrl;
    api.api.publicUrl = undefined;
    try {
      const created = await createIntegration();
      expect(created.url).toBe(`https://${new URL(api.url).host}/v1/hooks/${created.integration.integrationId}`);
    } finally {
      api.api.publicUrl = configured;
    }
  });

  test('creating one answers its hook URL and a whsec_ secret once; the list shows it without the secret', async () => {
    const created = await createIntegration();
    expect(created.integration.auth).toBe('signature');
    expect(created.integration.integrationId).toMatch(/^int_[A-Za-z0-9_-]{22}$/);
    expect(created.url).toBe(`${api.url}/v1/hooks/${created.integration.integrationId}`);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.integration.mapping).toMatchObject({ 'rmm.disk-failed': { action: 'raise', alert: 'disk', severity: 'critical' } });
    const list = await api.call('GET', '/v1/integrations?limit=100', reseller.key);
    expect(list.status).toBe(200);
    expect((list.body as { items: unknown[] }).items).toContainEqual(created.integration);
    expect(list.text).not.toContain(created.secret.slice('whsec_'.length));
  });

  test('an integration on a site the reseller does not have is refused (404) and stores nothing', async () => {
    await expectRefusedUnchanged(404, () =>
      api.call('POST', '/v1/integrations', reseller.key, { siteId: 'no-such-site', name: 'x', mapping }),
    );
  });

  test("another reseller's key neither lists nor deletes the integration", async () => {
    const created = await createIntegration();
    const theirs = await api.call('GET', '/v1/integrations?limit=100', other.key);
    expect(theirs.status).toBe(200);
    expect(theirs.text).not.toContain(created.integration.integrationId);
    await expectRefusedUnchanged(404, () => api.call('DELETE', `/v1/integrations/${created.integration.integrationId}`, other.key));
    expect((await send(created, hookBody('ups.on-battery'))).status).toBe(200);
  });

  test('a deleted integration’s hooks are answered 404, even validly signed', async () => {
    const created = await createIntegration();
    expect((await api.call('DELETE', `/v1/integrations/${created.integration.integrationId}`, reseller.key)).status).toBe(204);
    await expectRefusedUnchanged(404, () => send(created, hookBody('ups.on-battery')));
    expect((await api.call('DELETE', `/v1/integrations/${created.integration.integrationId}`, reseller.key)).status).toBe(404);
  });
});

describe('a signed hook', () => {
  test('raises the alert on the site, the trail records alert.raised, and the incident rules open an alert incident', async () => {
    const created = await createIntegration();
    const answer = await send(created, hookBody('ups.on-battery', { summary: 'UPS on battery: 38 min left' }));
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ action: 'raised', alert: 'ups-power' });
    const at = Math.floor(api.clock.now() / 1000) * 1000;
    expect(await alertItem(created, 'ups-power')).toMatchObject({
      resellerId: reseller.resellerId,
      siteId: reseller.siteId,
      integrationId: created.integration.integrationId,
      integrationName: 'APC UPS',
      raised: true,
      severity: 'warning',
      at,
      type: 'ups.on-battery',
      summary: 'UPS on battery: 38 min left',
    });

    const subject = `${created.integration.integrationId}/ups-power`;
    const raised = (await trail()).find((e) => e.type === 'alert.raised' && e.data.subject === subject);
    expect(raised?.data).toMatchObject({
      severity: 'warning',
      alert: 'ups-power',
      integrationId: created.integration.integrationId,
      summary: 'UPS on battery: 38 min left',
    });
    const changes = conditionChangesOf(raised!);
    // With the words messages show for it: the tool's summary, the alert's name and the integration's.
    const label = 'UPS on battery: 38 min left (ups-power from APC UPS)';
    expect(changes).toEqual([{ kind: 'alert.raised', subject, phase: 'raised', at, severity: 'warning', label }]);
    const site = { resellerId: reseller.resellerId, siteId: reseller.siteId };
    const { tracker, outcome } = applyChange(undefined, site, changes[0]!, {
      eventId: raised!.id,
      inMaintenance: false,
      policy: defaultPolicy,
    });
    expect(outcome).toBe('opened');
    expect(tracker.incident?.incidentId).toBe(`alert-raised-${String(at)}`);
  });

  test('of the clearing type clears it, and the trail records alert.cleared', async () => {
    const created = await createIntegration();
    expect((await send(created, hookBody('ups.on-battery'))).status).toBe(200);
    api.clock.advance(60_000);
    const answer = await send(created, hookBody('ups.on-mains'));
    expect(answer.body).toEqual({ action: 'cleared', alert: 'ups-power' });
    expect(await alertItem(created, 'ups-power')).toMatchObject({
      raised: false,
      type: 'ups.on-mains',
      at: Math.floor(api.clock.now() / 1000) * 1000,
    });
    const cleared = (await trail()).find(
      (e) => e.type === 'alert.cleared' && e.data.subject === `${created.integration.integrationId}/ups-power`,
    );
    expect(cleared?.data.severity).toBe('info');
    expect(conditionChangesOf(cleared!)).toMatchObject([{ kind: 'alert.raised', phase: 'cleared' }]);
  });

  test('older than the news the alert has (out of order) is accepted but changes nothing', async () => {
    const created = await createIntegration();
    const raisedAt = api.clock.now();
    api.clock.advance(30_000);
    expect((await send(created, hookBody('ups.on-mains'))).body).toEqual({ action: 'cleared', alert: 'ups-power' });
    const late = await send(created, hookBody('ups.on-battery'), { atMs: raisedAt });
    expect(late.status).toBe(200);
    expect(late.body).toEqual({ action: 'ignored', alert: 'ups-power' });
    expect(await alertItem(created, 'ups-power')).toMatchObject({ raised: false, type: 'ups.on-mains' });
  });

  test('of a type the mapping does not name is accepted and ignored', async () => {
    const created = await createIntegration();
    for (const type of ['ups.self-test', 'constructor']) {
      const answer = await send(created, hookBody(type));
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual({ action: 'ignored', alert: null });
    }
    const items = (await api.snapshot()) as { sk: string }[];
    expect(items.filter((item) => item.sk.startsWith(`ALERT#${created.integration.integrationId}`))).toEqual([]);
  });

  test('sent again with the same webhook-id is refused (409) and changes nothing', async () => {
    const created = await createIntegration();
    const body = hookBody('rmm.disk-failed');
    const headers = signedHeaders(created.secret, body);
    expect((await post(created.integration.integrationId, body, headers)).status).toBe(200);
    const again = await expectRefusedUnchanged(409, () => post(created.integration.integrationId, body, headers));
    expect(again.body).toMatchObject({ error: { code: 'conflict', message: 'this webhook-id was already received' } });
  });

  test('whose JSON is not an inbound event is refused (400) and stores nothing', async () => {
    const created = await createIntegration();
    await expectRefusedUnchanged(400, () => send(created, '{"type":'));
    await expectRefusedUnchanged(400, () => send(created, JSON.stringify({ type: 'bad type with spaces' })));
  });
});

describe('the incident an inbound alert opens', () => {
  test('carries the severity its mapping gives: a warning pages as a warning, not as critical', async () => {
    const created = await createIntegration();
    expect((await send(created, hookBody('ups.on-battery'))).status).toBe(200);
    const subject = `${created.integration.integrationId}/ups-power`;
    const raised = (await trail()).find((e) => e.type === 'alert.raised' && e.data.subject === subject)!;
    await toIncidents(raised);
    const incidentId = `alert-raised-${String(Date.parse(raised.timestamp))}`;
    expect(await alertIncident(incidentId)).toMatchObject({ kind: 'alert.raised', state: 'open', severity: 'warning' });
    // Its steps, as the stream publishes them (and PagerDuty, SNS filters and templates read them).
    const steps = (await trail()).filter((e) => e.data.incidentId === incidentId);
    expect(steps.map((e) => [e.type, e.data.severity])).toEqual([['incident.opened', 'warning']]);
    // Cleared and resolved by hand, so that the next tests start with no alert raised or incident open on the site.
    api.clock.advance(1_000);
    expect((await send(created, hookBody('ups.on-mains'))).status).toBe(200);
    await toIncidents((await trail()).find((e) => e.type === 'alert.cleared' && e.data.subject === subject)!);
    expect((await api.call('POST', `/v1/sites/${reseller.siteId}/incidents/${incidentId}/resolve`, reseller.key)).status).toBe(200);
  });
});

describe('deleting an integration', () => {
  /** Raises `type` through `created`'s hook and hands the trail's alert.raised to the incidents handler: the site's alert incident id. */
  async function raiseToIncident(created: Created, type: string, alert: string): Promise<string> {
    expect((await send(created, hookBody(type))).status).toBe(200);
    const subject = `${created.integration.integrationId}/${alert}`;
    const raised = (await trail()).find((e) => e.type === 'alert.raised' && e.data.subject === subject)!;
    await toIncidents(raised);
    const answer = await api.call('GET', '/v1/incidents?state=unresolved', reseller.key);
    const open = (answer.body as { items: Incident[] }).items.filter((i) => i.siteId === reseller.siteId && i.kind === 'alert.raised');
    expect(open).toHaveLength(1);
    return open[0]!.incidentId;
  }

  test('clears its raised alerts and resolves the incident they opened, saying the integration was deleted', async () => {
    api.clock.advance(3_600_000);
    const created = await createIntegration();
    const incidentId = await raiseToIncident(created, 'ups.on-battery', 'ups-power');
    api.clock.advance(60_000);
    expect((await api.call('DELETE', `/v1/integrations/${created.integration.integrationId}`, reseller.key)).status).toBe(204);

    expect(await alertItem(created, 'ups-power')).toBeUndefined();
    const by = `integration-deleted:${created.integration.integrationId}`;
    expect(await alertIncident(incidentId)).toMatchObject({
      state: 'resolved',
      resolvedBy: by,
      resolvedAt: new Date(api.clock.now()).toISOString(),
    });
    // The reseller is told: the trail records the resolution (its targets hear of it from there), and the alert's clearing.
    const told = await trail();
    expect(told.filter((e) => e.type === 'incident.resolved' && e.data.incidentId === incidentId).map((e) => e.data.by)).toEqual([by]);
    const cleared = told.filter((e) => e.type === 'alert.cleared' && e.data.subject === `${created.integration.integrationId}/ups-power`);
    expect(cleared).toHaveLength(1);
    // The events still on their way to the incidents queue change nothing: no incident opens again.
    for (const event of [
      ...cleared,
      ...told.filter((e) => e.type === 'alert.raised' && e.data.integrationId === created.integration.integrationId),
    ])
      await toIncidents(event);
    expect(await alertIncident(incidentId)).toMatchObject({ state: 'resolved', resolvedBy: by });
    const unresolved = await api.call('GET', '/v1/incidents?state=unresolved', reseller.key);
    expect(
      (unresolved.body as { items: Incident[] }).items.filter((i) => i.siteId === reseller.siteId && i.kind === 'alert.raised'),
    ).toEqual([]);
  });

  test("leaves open an incident another integration's alert still keeps raised", async () => {
    api.clock.advance(3_600_000);
    const ups = await createIntegration();
    const incidentId = await raiseToIncident(ups, 'ups.on-battery', 'ups-power');
    const rmm = await createIntegration();
    expect((await send(rmm, hookBody('rmm.disk-failed'))).status).toBe(200);
    const subject = `${rmm.integration.integrationId}/disk`;
    await toIncidents((await trail()).find((e) => e.type === 'alert.raised' && e.data.subject === subject)!);
    api.clock.advance(60_000);
    expect((await api.call('DELETE', `/v1/integrations/${ups.integration.integrationId}`, reseller.key)).status).toBe(204);
    expect(await alertItem(ups, 'ups-power')).toBeUndefined();
    expect(await alertItem(rmm, 'disk')).toMatchObject({ raised: true });
    expect(await alertIncident(incidentId)).toMatchObject({ state: 'open', resolvedBy: null, recoveredAt: null });
    // Deleting the other one too ends it.
    expect((await api.call('DELETE', `/v1/integrations/${rmm.integration.integrationId}`, reseller.key)).status).toBe(204);
    expect(await alertIncident(incidentId)).toMatchObject({
      state: 'resolved',
      resolvedBy: `integration-deleted:${rmm.integration.integrationId}`,
    });
  });
});

describe('hooks on one alert at the same instant', () => {
  test('are each answered 2xx, never 5xx, and raise the alert once (20 racing pairs)', async () => {
    // The API's integrations on a client that cancels overlapping transactions as DynamoDB does.
    const client = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
    const conflicts = conflictLikeDynamoDb(client);
    const stores = api.api.integrations;
    api.api.integrations = new IntegrationStore(documentClient(client), api.tableName);
    try {
      for (let pair = 0; pair < 20; pair++) {
        const created = await createIntegration();
        // Two senders (or one retrying at once) with the same news: the same second, two webhook-ids.
        const answers = await Promise.all([send(created, hookBody('ups.on-battery')), send(created, hookBody('ups.on-battery'))]);
        for (const answer of answers) expect(answer.status, answer.text).toBe(200);
        expect(answers.map((a) => (a.body as { action: string }).action).sort()).toEqual(['ignored', 'raised']);
        expect(await alertItem(created, 'ups-power')).toMatchObject({ raised: true, severity: 'warning' });
        const subject = `${created.integration.integrationId}/ups-power`;
        expect((await trail()).filter((e) => e.type === 'alert.raised' && e.data.subject === subject)).toHaveLength(1);
      }
      // The race happened: some pair overlapped, and its loser was cancelled at least once.
      expect(conflicts.cancelled()).toBeGreaterThan(0);
    } finally {
      api.api.integrations = stores;
      client.destroy();
    }
  });
});

describe('a hook that is not what the integration signed', () => {
  let created: Created;
  beforeAll(async () => {
    created = await createIntegration();
  });

  const refusedFor = async (reason: RegExp, request: () => Promise<Answer>) => {
    const answer = await expectRefusedUnchanged(401, request);
    expect(answer.body).toMatchObject({ error: { code: 'unauthorized', message: expect.stringMatching(reason) as unknown } });
  };

  test('with a tampered body is refused (401) and stores nothing', async () => {
    const body = hookBody('ups.on-mains');
    const headers = signedHeaders(created.secret, body);
    await refusedFor(/signature/, () => post(created.integration.integrationId, body.replace('ups.on-mains', 'ups.on-battery'), headers));
  });

  test('signed with another secret is refused (401)', async () => {
    const body = hookBody('ups.on-battery');
    await refusedFor(/signature/, () =>
      post(created.integration.integrationId, body, signedHeaders(`whsec_${randomBytes(32).toString('base64')}`, body)),
    );
  });

  test('stamped 6 minutes ago, or 6 minutes ahead, is refused (401) as outside the window', async () => {
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      await refusedFor(/5 minutes/, () => send(created, hookBody('ups.on-battery'), { atMs: api.clock.now() + offset }));
    }
  });

  test('without any one of the three headers is refused (401)', async () => {
    const body = hookBody('ups.on-battery');
    for (const missing of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers = Object.fromEntries(Object.entries(signedHeaders(created.secret, body)).filter(([name]) => name !== missing));
      await refusedFor(/headers are required/, () => post(created.integration.integrationId, body, headers));
    }
  });

  test('for an integration that does not exist is answered 404', async () => {
    const body = hookBody('ups.on-battery');
    await expectRefusedUnchanged(404, () =>
      post(`int_${randomBytes(16).toString('base64url')}`, body, signedHeaders(created.secret, body)),
    );
  });

  test(`over ${String(maxInboundHookBytes / 1024)} KiB is refused (413) before anything else`, async () => {
    const body = hookBody('ups.on-battery', { pad: 'x'.repeat(65 * 1024) });
    await expectRefusedUnchanged(413, () => send(created, body));
  });
});

describe('an integration with a bearer token', () => {
  async function createBearer(): Promise<CreatedBearer> {
    const answer = await api.call('POST', '/v1/integrations', reseller.key, {
      siteId: reseller.siteId,
      name: 'APC UPS',
      mapping,
      auth: 'bearer',
    });
    expect(answer.status, answer.text).toBe(201);
    return answer.body as CreatedBearer;
  }

  /** A hook as a tool that can only add a header sends it: no signature, the token as a bearer credential. */
  function postBearer(created: CreatedBearer, body: string, headers: Record<string, string> = {}, token: string | null = created.token) {
    return post(created.integration.integrationId, body, { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers });
  }

  test('shows its token once (tbh_…, no secret); the service keeps only its SHA-256, and the list shows neither', async () => {
    const created = await createBearer();
    expect(created.integration.auth).toBe('bearer');
    expect(created.token).toMatch(/^tbh_[A-Za-z0-9_-]{43}$/);
    expect(created).not.toHaveProperty('secret');
    expect(created.url).toBe(`${api.url}/v1/hooks/${created.integration.integrationId}`);
    const stored = JSON.stringify(await api.snapshot());
    expect(stored).not.toContain(created.token);
    expect(stored).toContain(createHash('sha256').update(created.token).digest('base64url'));
    const list = await api.call('GET', '/v1/integrations?limit=100', reseller.key);
    expect((list.body as { items: unknown[] }).items).toContainEqual(created.integration);
    expect(list.text).not.toContain(created.token);
  });

  test('the right token raises the alert, with the summary the tool sent, and the next clears it', async () => {
    const created = await createBearer();
    const raised = await postBearer(created, hookBody('ups.on-battery', { summary: 'UPS on battery, 38 min left' }));
    expect(raised.status, raised.text).toBe(200);
    expect(raised.body).toEqual({ action: 'raised', alert: 'ups-power' });
    expect(await alertItem(created as unknown as Created, 'ups-power')).toMatchObject({
      raised: true,
      severity: 'warning',
      summary: 'UPS on battery, 38 min left',
      at: api.clock.now(),
    });
    api.clock.advance(1_000);
    const cleared = await postBearer(created, hookBody('ups.on-mains'));
    expect(cleared.body).toEqual({ action: 'cleared', alert: 'ups-power' });
    expect(await alertItem(created as unknown as Created, 'ups-power')).toMatchObject({ raised: false, type: 'ups.on-mains' });
  });

  test('a wrong token, none, or a signature instead is refused (401) and stores nothing', async () => {
    const created = await createBearer();
    const body = hookBody('ups.on-battery');
    for (const token of [`tbh_${randomBytes(32).toString('base64url')}`, created.token.slice(0, -1), 'x', null]) {
      const answer = await expectRefusedUnchanged(401, () => postBearer(created, body, {}, token));
      expect(answer.body).toMatchObject({ error: { code: 'unauthorized' } });
    }
    const whsec = `whsec_${randomBytes(32).toString('base64')}`;
    await expectRefusedUnchanged(401, () => postBearer(created, body, signedHeaders(whsec, body), null));
  });

  test('rotating answers a new token: the old one is refused at once (401), the new one accepted', async () => {
    const created = await createBearer();
    const rotated = await api.call('POST', `/v1/integrations/${created.integration.integrationId}/rotate`, reseller.key);
    expect(rotated.status, rotated.text).toBe(200);
    const fresh = rotated.body as CreatedBearer;
    expect(fresh.token).toMatch(/^tbh_/);
    expect(fresh.token).not.toBe(created.token);
    expect(fresh.url).toBe(created.url);
    expect(fresh.integration).toEqual(created.integration);
    await expectRefusedUnchanged(401, () => postBearer(created, hookBody('rmm.disk-failed')));
    expect((await postBearer(fresh, hookBody('rmm.disk-failed'))).body).toEqual({ action: 'raised', alert: 'disk' });
  });

  test('rotating needs a read-write key of its reseller', async () => {
    const created = await createBearer();
    const path = `/v1/integrations/${created.integration.integrationId}/rotate`;
    const readOnly = await api.call('POST', '/v1/api-keys', reseller.key, { name: 'ro', scope: 'read-only' });
    await expectRefusedUnchanged(403, () => api.call('POST', path, (readOnly.body as { secret: string }).secret));
    await expectRefusedUnchanged(404, () => api.call('POST', path, other.key));
    expect((await postBearer(created, hookBody('ups.on-battery'))).status).toBe(200);
  });

  test('over plain HTTP where the setting does not allow it (AWS), is refused (403) before its token is looked at, and stores nothing', async () => {
    const created = await createBearer();
    const body = hookBody('ups.on-battery');
    api.api.allowHttpHooks = false;
    try {
      const schemes: Record<string, string>[] = [{}, { 'x-forwarded-proto': 'http' }, { 'x-forwarded-proto': 'https, http' }];
      for (const headers of schemes) {
        const answer = await expectRefusedUnchanged(403, () => postBearer(created, body, headers));
        expect(answer.body).toMatchObject({ error: { code: 'https-required', message: expect.stringMatching(/HTTPS only/) as unknown } });
      }
      await expectRefusedUnchanged(403, () => postBearer(created, body, {}, 'wrong'));
      // As API Gateway passes an HTTPS request on.
      expect((await postBearer(created, body, { 'x-forwarded-proto': 'https' })).body).toEqual({ action: 'raised', alert: 'ups-power' });
    } finally {
      api.api.allowHttpHooks = true;
    }
  });

  test('signed integrations are not affected by the HTTPS rule (their signature cannot be reused)', async () => {
    const created = await createIntegration();
    api.api.allowHttpHooks = false;
    try {
      expect((await send(created, hookBody('ups.on-battery'))).status).toBe(200);
    } finally {
      api.api.allowHttpHooks = true;
    }
  });

  test('an idempotency-key sent twice is applied once (409 the second time); without one, a repeated raise changes nothing new', async () => {
    const created = await createBearer();
    const body = hookBody('ups.on-battery');
    expect((await postBearer(created, body, { 'idempotency-key': 'nut-42' })).status).toBe(200);
    const again = await expectRefusedUnchanged(409, () => postBearer(created, body, { 'idempotency-key': 'nut-42' }));
    expect(again.body).toMatchObject({ error: { code: 'conflict', message: 'this idempotency key was already received' } });
    await expectRefusedUnchanged(400, () => postBearer(created, body, { 'idempotency-key': 'has spaces' }));
    const subject = `${created.integration.integrationId}/ups-power`;
    api.clock.advance(1_000);
    expect((await postBearer(created, body)).body).toEqual({ action: 'raised', alert: 'ups-power' });
    expect((await trail()).filter((e) => e.type === 'alert.raised' && e.data.subject === subject).length).toBeGreaterThanOrEqual(1);
    expect(await alertItem(created as unknown as Created, 'ups-power')).toMatchObject({ raised: true });
  });
});

describe('rotating a signed integration', () => {
  test('answers a new whsec_ secret: hooks signed with the old one are refused at once', async () => {
    const created = await createIntegration();
    const rotated = await api.call('POST', `/v1/integrations/${created.integration.integrationId}/rotate`, reseller.key);
    expect(rotated.status, rotated.text).toBe(200);
    const fresh = rotated.body as Created;
    expect(fresh.secret).toMatch(/^whsec_/);
    expect(fresh).not.toHaveProperty('token');
    await expectRefusedUnchanged(401, () => send(created, hookBody('ups.on-battery')));
    expect((await send(fresh, hookBody('ups.on-battery'))).status).toBe(200);
  });
});
