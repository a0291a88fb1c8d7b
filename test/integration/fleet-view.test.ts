/**
 * The fleet view (`GET /v1/sites`) on DynamoDB Local: every site with its status, as real nodes'
 * heartbeats and claims at the witness make it (on the API's test clock): not live, failing over
 * through the first grant, healthy, degraded, failing over, healthy again, survivor; down; the
 * incidents and maintenance windows it counts; its filters; and what a page costs in DynamoDB
 * requests, which does not grow with the page's sites (no read per site).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { documentClient, localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { resellerPk, siteListingSk } from '../../functions/adapters/tenancy-items.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { FleetPage, type SiteHealth, type SiteSummary } from '../../protocol/reseller.ts';
import { enrolledAgents, setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { openIncident } from '../support/hostile-tenants.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const s = 1_000;
const min = 60 * s;
const iso = (ms: number) => new Date(ms).toISOString();

async function fleet(key: string, query = ''): Promise<FleetPage> {
  const answer = await api.call('GET', `/v1/sites${query}`, key);
  expect(answer.status, answer.text).toBe(200);
  const parsed = FleetPage.safeParse(answer.body);
  expect(parsed.success, answer.text).toBe(true);
  return answer.body as FleetPage;
}

async function summaryOf(key: string, siteId: string): Promise<SiteSummary> {
  const page = await fleet(key, '?limit=100');
  const site = page.items.find((item) => item.siteId === siteId);
  if (!site) throw new Error(`${siteId} is not in the fleet`);
  return site;
}

/** A client of the table beside the service's (its requests are not counted). */
const rawDoc = () => documentClient(new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint'))));
const listingKey = (site: { resellerId: string; siteId: string }) => ({ pk: resellerPk(site.resellerId), sk: siteListingSk(site.siteId) });

const statusOf = async (key: string, siteId: string): Promise<SiteHealth> => (await summaryOf(key, siteId)).status;

/** A reseller with its site main-office (customer dental), both nodes enrolled. */
async function enrolledSite() {
  const site = await setUpReseller(api);
  return { ...site, ...(await enrolledAgents(api, site.codes)) };
}

/** Both nodes heard, node-a granted epoch 1 and its promote acknowledged. */
async function liveSite() {
  const site = await enrolledSite();
  await site.a.beat(0, 'secondary', true);
  await site.b.beat(0, 'secondary', true);
  expect(await site.a.claim(0, 'startup')).toMatchObject({ granted: true, epoch: 1 });
  await site.a.beat(1, 'primary', true, ['1-promote-node-a']);
  return site;
}

describe('a site through its life, as the fleet view tells it', () => {
  it('not-live → failing-over (the first grant, until its promote is acknowledged) → healthy → degraded (secondary silent) → failing-over → healthy → survivor', async () => {
    const site = await enrolledSite();
    const { key, siteId, a, b } = site;
    expect(await summaryOf(key, siteId)).toMatchObject({
      siteId,
      customerId: 'dental',
      name: 'Main office',
      nodeIds: ['node-a', 'node-b'],
      status: 'not-live',
      epoch: 0,
      primary: null,
      leaseExpiresAt: null,
      survivor: null,
      openIncidents: { critical: 0, warning: 0, info: 0 },
      inMaintenance: false,
    });

    // Both nodes speak: still not live until a grant.
    await a.beat(0, 'secondary', true);
    await b.beat(0, 'secondary', true);
    expect(await statusOf(key, siteId)).toBe('not-live');
    expect(await a.claim(0, 'startup')).toMatchObject({ granted: true, epoch: 1 });
    expect(await statusOf(key, siteId)).toBe('failing-over');
    await a.beat(1, 'primary', true, ['1-promote-node-a']);
    const healthy = await summaryOf(key, siteId);
    expect(healthy).toMatchObject({
      status: 'healthy',
      epoch: 1,
      primary: 'node-a',
      leaseExpiresAt: iso(api.clock.now() + defaultSettings.leaseMs),
    });
    expect(healthy.nodes).toEqual([
      { nodeId: 'node-a', role: 'primary', lastSeenAt: iso(api.clock.now()), peerReachable: true, health: null, excluded: false },
      { nodeId: 'node-b', role: 'secondary', lastSeenAt: iso(api.clock.now()), peerReachable: true, health: null, excluded: false },
    ]);

    // node-b falls silent (its internet link, say); node-a still hears it on the local link and beats slowly.
    const bLast = api.clock.now();
    // 50 s on, node-a's witness lease (15 s) ran out long ago: it runs on its peer lease, healthy.
    api.clock.advance(50 * s);
    expect(await statusOf(key, siteId)).toBe('healthy');
    api.clock.advance(defaultSettings.slowHeartbeatMs - 50 * s);
    for (let beat = 0; beat < 2; beat++) {
      await a.beat(1, 'primary', true);
      api.clock.advance(defaultSettings.slowHeartbeatMs);
    }
    await a.beat(1, 'primary', true);
    // Past exclusionMs (30 s) beyond the slow cadence (60 s) since node-b's last report: not heard lately.
    expect(api.clock.now() - bLast).toBeGreaterThanOrEqual(90 * s);
    expect(await statusOf(key, siteId)).toBe('degraded');

    // node-a dies; node-b is back and reports it unreachable, on the fast cadence, until it claims.
    api.clock.advance(20 * s);
    for (let beat = 0; beat < 4; beat++) {
      await b.beat(1, 'secondary', false);
      if (beat < 3) api.clock.advance(defaultSettings.fastHeartbeatMs);
    }
    expect(await statusOf(key, siteId)).toBe('failing-over');
    expect(await b.claim(1, 'peer-lost')).toMatchObject({ granted: true, epoch: 2 });
    expect(await summaryOf(key, siteId)).toMatchObject({ status: 'failing-over', epoch: 2, primary: 'node-b' });
    api.clock.advance(defaultSettings.fastHeartbeatMs);
    await b.beat(2, 'primary', false, ['2-promote-node-b']);
    // The failover is over; node-b reports its peer unreachable.
    expect(await statusOf(key, siteId)).toBe('degraded');

    // node-a returns, still acting as primary at epoch 1: told to demote, failing over until it does.
    api.clock.advance(defaultSettings.fastHeartbeatMs);
    const told = await a.beat(1, 'primary', true);
    expect(told.commands.map((c) => c.id)).toEqual(['2-demote-node-a']);
    expect(await statusOf(key, siteId)).toBe('failing-over');
    api.clock.advance(defaultSettings.fastHeartbeatMs);
    await a.beat(2, 'secondary', true, ['2-demote-node-a']);
    await b.beat(2, 'primary', true);
    expect(await summaryOf(key, siteId)).toMatchObject({ status: 'healthy', epoch: 2, primary: 'node-b' });

    // node-a goes dark for good; node-b, losing its peer, beats fast until the witness excludes node-a.
    let excludedAt: number | undefined;
    for (let beat = 0; beat < 30 && excludedAt === undefined; beat++) {
      api.clock.advance(defaultSettings.fastHeartbeatMs);
      if ((await b.beat(2, 'primary', false)).standalone) excludedAt = api.clock.now();
    }
    if (excludedAt === undefined) throw new Error('node-a was never excluded');
    const survivor = await summaryOf(key, siteId);
    expect(survivor).toMatchObject({
      status: 'survivor',
      primary: 'node-b',
      leaseExpiresAt: null,
      survivor: { node: 'node-b', excludedNode: 'node-a', since: iso(excludedAt) },
    });
    expect(survivor.nodes.find((n) => n.nodeId === 'node-a')?.excluded).toBe(true);
    expect(survivor.nodes.find((n) => n.nodeId === 'node-b')?.excluded).toBe(false);

    // The survivor itself falls silent for an hour: its standalone lease has no end (it may be running): still survivor.
    api.clock.advance(3_600 * s);
    expect(await statusOf(key, siteId)).toBe('survivor');
  });

  it('down: no node heard for silenceMs, the lease long gone; a heartbeat brings it back', async () => {
    const { key, siteId, a, b } = await liveSite();
    api.clock.advance(defaultSettings.silenceMs - 1);
    expect(await statusOf(key, siteId)).toBe('degraded');
    api.clock.advance(1);
    expect(await statusOf(key, siteId)).toBe('down');
    await b.beat(1, 'secondary', true);
    await a.beat(1, 'primary', true);
    expect(await statusOf(key, siteId)).toBe('healthy');
  });

  it('a health under the site policy’s threshold is degraded', async () => {
    const { key, siteId, a } = await liveSite();
    expect(
      (await api.call('PUT', `/v1/sites/${siteId}/policy`, key, { tieBreak: 'keep-primary', preferredNode: null, healthThreshold: 50 }))
        .status,
    ).toBe(200);
    const answer = await api.call('POST', '/v1/node/heartbeat', a.token, {
      incarnation: 2,
      seq: 1,
      epoch: 1,
      role: 'primary',
      peer: { reachable: true },
      health: { score: 30, checks: {} },
    });
    expect(answer.status, answer.text).toBe(200);
    expect(await summaryOf(key, siteId)).toMatchObject({
      status: 'degraded',
      nodes: [expect.objectContaining({ nodeId: 'node-a', health: 30 }), expect.anything()],
    });
  });
});

describe('incidents and maintenance windows on the fleet view', () => {
  it('an unresolved incident is counted by severity and makes a healthy site degraded; resolved, it is not counted', async () => {
    const site = await liveSite();
    await openIncident(api, site, 'node-b', api.clock.now());
    expect(await summaryOf(site.key, site.siteId)).toMatchObject({
      status: 'degraded',
      openIncidents: { critical: 1, warning: 0, info: 0 },
    });
    const incident = (await api.call('GET', '/v1/incidents?state=unresolved', site.key)).body as { items: { incidentId: string }[] };
    const incidentId = incident.items[0]?.incidentId ?? '';
    expect((await api.call('POST', `/v1/sites/${site.siteId}/incidents/${incidentId}/acknowledge`, site.key)).status).toBe(200);
    expect((await summaryOf(site.key, site.siteId)).openIncidents).toEqual({ critical: 1, warning: 0, info: 0 });
    // The listing names the kinds the site has trackers of: the fleet view reads those only.
    expect((await api.api.sites.getListing(site.resellerId, site.siteId))?.incidentKinds).toEqual({ 'node.lost': true });
    expect((await api.call('POST', `/v1/sites/${site.siteId}/incidents/${incidentId}/resolve`, site.key)).status).toBe(200);
    expect(await summaryOf(site.key, site.siteId)).toMatchObject({
      status: 'healthy',
      openIncidents: { critical: 0, warning: 0, info: 0 },
    });
  });

  it('a listing from before its record of tracker kinds: every kind’s tracker is read, so its incidents still count', async () => {
    const site = await liveSite();
    await openIncident(api, site, 'node-b', api.clock.now());
    await rawDoc().send(new UpdateCommand({ TableName: api.tableName, Key: listingKey(site), UpdateExpression: 'REMOVE incidentKinds' }));
    expect(await summaryOf(site.key, site.siteId)).toMatchObject({
      status: 'degraded',
      openIncidents: { critical: 1, warning: 0, info: 0 },
    });
  });

  it('inMaintenance while a window covers now: declared by a key or by an agent, moved, ended early, cancelled', async () => {
    const site = await liveSite();
    const path = `/v1/sites/${site.siteId}/maintenance`;
    const now = () => api.clock.now();
    const later = (
      await api.call('POST', path, site.key, { start: iso(now() + 60 * min), end: iso(now() + 120 * min), reason: 'firmware' })
    ).body as { windowId: string };
    expect((await summaryOf(site.key, site.siteId)).inMaintenance).toBe(false);
    api.clock.advance(60 * min);
    await site.a.beat(1, 'primary', true);
    await site.b.beat(1, 'secondary', true);
    expect(await summaryOf(site.key, site.siteId)).toMatchObject({ status: 'healthy', inMaintenance: true });
    // Ended early (DELETE of a running window): not in maintenance from then on.
    expect((await api.call('DELETE', `${path}/${later.windowId}`, site.key)).status).toBe(204);
    expect((await summaryOf(site.key, site.siteId)).inMaintenance).toBe(false);

    // An agent declares one from now.
    const declared = await api.call('POST', '/v1/node/maintenance', site.a.token, { minutes: 30, reason: 'replacing a disk' });
    expect(declared.status, declared.text).toBe(200);
    expect((await summaryOf(site.key, site.siteId)).inMaintenance).toBe(true);
    api.clock.advance(30 * min);
    expect((await summaryOf(site.key, site.siteId)).inMaintenance).toBe(false);

    // A window moved to start now covers now; cancelled before it starts, it is forgotten.
    const next = (await api.call('POST', path, site.key, { start: iso(now() + 60 * min), end: iso(now() + 90 * min), reason: 'ups' }))
      .body as { windowId: string };
    expect((await api.call('PATCH', `${path}/${next.windowId}`, site.key, { start: iso(now()), end: iso(now() + 10 * min) })).status).toBe(
      200,
    );
    expect((await summaryOf(site.key, site.siteId)).inMaintenance).toBe(true);
    const future = (await api.call('POST', path, site.key, { start: iso(now() + 60 * min), end: iso(now() + 90 * min), reason: 'later' }))
      .body as { windowId: string };
    expect((await api.call('DELETE', `${path}/${future.windowId}`, site.key)).status).toBe(204);

    // The listing keeps only the windows not yet ended, by id.
    const listing = await api.api.sites.getListing(site.resellerId, site.siteId);
    expect(Object.keys(listing?.maintenance ?? {})).toEqual([next.windowId]);
    api.clock.advance(10 * min);
    expect((await summaryOf(site.key, site.siteId)).inMaintenance).toBe(false);
  });

  it('a listing from before the record of windows gets it whole at its next window write, older windows included', async () => {
    const site = await liveSite();
    const path = `/v1/sites/${site.siteId}/maintenance`;
    const now = api.clock.now();
    const running = (await api.call('POST', path, site.key, { start: iso(now), end: iso(now + 60 * min), reason: 'old' })).body as {
      windowId: string;
    };
    await rawDoc().send(new UpdateCommand({ TableName: api.tableName, Key: listingKey(site), UpdateExpression: 'REMOVE maintenance' }));
    expect((await summaryOf(site.key, site.siteId)).inMaintenance).toBe(false);
    const other = (await api.call('POST', path, site.key, { start: iso(now + 120 * min), end: iso(now + 180 * min), reason: 'new' }))
      .body as { windowId: string };
    expect((await api.api.sites.getListing(site.resellerId, site.siteId))?.maintenance).toEqual({
      [running.windowId]: { start: now, end: now + 60 * min },
      [other.windowId]: { start: now + 120 * min, end: now + 180 * min },
    });
    expect((await summaryOf(site.key, site.siteId)).inMaintenance).toBe(true);
  });
});

describe('filters', () => {
  it('customerId: that customer’s sites only; status: those statuses only (comma-separated, or the parameter repeated); a bad one is 400', async () => {
    const { key } = await setUpReseller(api);
    expect((await api.call('POST', '/v1/customers', key, { customerId: 'bakery', name: 'Bakery' })).status).toBe(201);
    for (const siteId of ['bakery-1', 'bakery-2']) {
      expect(
        (await api.call('POST', '/v1/sites', key, { siteId, customerId: 'bakery', name: siteId, nodeIds: ['node-a', 'node-b'] })).status,
      ).toBe(201);
    }
    const ids = (page: FleetPage) => page.items.map((item) => item.siteId);
    expect(ids(await fleet(key))).toEqual(['bakery-1', 'bakery-2', 'main-office']);
    expect(ids(await fleet(key, '?customerId=bakery'))).toEqual(['bakery-1', 'bakery-2']);
    expect(ids(await fleet(key, '?customerId=dental'))).toEqual(['main-office']);
    expect(ids(await fleet(key, '?customerId=nobody'))).toEqual([]);
    expect(ids(await fleet(key, '?status=not-live'))).toEqual(['bakery-1', 'bakery-2', 'main-office']);
    expect(ids(await fleet(key, '?status=down,healthy'))).toEqual([]);
    expect(ids(await fleet(key, '?status=down&status=not-live&customerId=dental'))).toEqual(['main-office']);
    expect((await fleet(key)).counts).toBeNull();
    for (const bad of ['?status=', '?status=broken', '?status=down,,healthy', '?customerId=Bakery', '?limit=101', '?status=HEALTHY']) {
      expect((await api.call('GET', `/v1/sites${bad}`, key)).status, bad).toBe(400);
    }
  });

  it('a filtered page may hold fewer sites than the limit, even none, with a next cursor: following it reaches every match', async () => {
    const { key } = await setUpReseller(api);
    expect((await api.call('POST', '/v1/customers', key, { customerId: 'bakery', name: 'Bakery' })).status).toBe(201);
    for (const siteId of ['a-1', 'a-2', 'a-3', 'b-1']) {
      expect(
        (
          await api.call('POST', '/v1/sites', key, {
            siteId,
            customerId: siteId.startsWith('b') ? 'bakery' : 'dental',
            name: siteId,
            nodeIds: ['node-a', 'node-b'],
          })
        ).status,
      ).toBe(201);
    }
    const first = await fleet(key, '?customerId=bakery&limit=2');
    expect(first.items).toEqual([]);
    expect(first.nextCursor).not.toBeNull();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: FleetPage = await fleet(key, `?customerId=bakery&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.siteId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['b-1']);
  });
});

describe('what a page costs', () => {
  it('at most 8 DynamoDB requests (1 Query, ceil(keys / 100) BatchGetItems, keys: a state item a site and its trackers), besides the API key’s read, whatever the page size and the filters', async () => {
    const { key, resellerId } = await setUpReseller(api);
    const sites = 150;
    const siteIds = Array.from({ length: sites }, (_, i) => `s-${String(i).padStart(3, '0')}`);
    await Promise.all(
      siteIds.map(async (siteId) => {
        const created = await api.call('POST', '/v1/sites', key, {
          siteId,
          customerId: 'dental',
          name: siteId,
          nodeIds: ['node-a', 'node-b'],
        });
        expect(created.status, created.text).toBe(201);
      }),
    );
    const cost = async (query: string) => {
      api.requests.reset();
      const page = await fleet(key, query);
      return { items: page.items.length, byCommand: Object.fromEntries(api.requests.byCommand), total: api.requests.total() };
    };
    const K = 8;
    const auth = { GetItemCommand: 1 };
    const expectCost = async (query: string, items: number, batches: number) => {
      const measured = await cost(query);
      expect(measured, query).toEqual({ items, byCommand: { ...auth, QueryCommand: 1, BatchGetItemCommand: batches }, total: 2 + batches });
      expect(measured.total - 1).toBeLessThanOrEqual(K);
    };
    // No site has a tracker: one key a site.
    await expectCost('?limit=100', 100, 1);
    await expectCost('?limit=30', 30, 1);
    await expectCost('', 50, 1);
    // 30 of the first 100 sites get a tracker (an incident opened): 130 keys.
    for (const siteId of siteIds.slice(0, 30)) await openIncident(api, { resellerId, siteId }, 'node-b', api.clock.now());
    await expectCost('?limit=100', 100, 2);
    // Filters read the same (what they leave out is dropped from the page, not read again).
    await expectCost('?limit=100&status=down,survivor&customerId=dental', 0, 2);
    // The most: listings from before their record of tracker kinds, every kind read: 7 keys a site.
    const doc = rawDoc();
    await Promise.all(
      siteIds.map((siteId) =>
        doc.send(
          new UpdateCommand({
            TableName: api.tableName,
            Key: listingKey({ resellerId, siteId }),
            UpdateExpression: 'REMOVE incidentKinds',
          }),
        ),
      ),
    );
    await expectCost('?limit=100', 100, 7);
    await expectCost('?limit=30', 30, 3);
    await expectCost('?limit=5', 5, 1);
  });
});
