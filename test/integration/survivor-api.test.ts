/**
 * Survivor mode through the reseller API (DESIGN.md, "Survivor mode"): a real site is brought into
 * survivor mode by its nodes' own requests (heartbeats and claims at the witness, on the test
 * clock), then the status tells it, force-primary is refused for every reason it must be and
 * accepted once, readmit sends the survivor its command and the acknowledgement readmits the
 * node. The table's stream runs into the publisher, so the audit trail tells who forced what.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteStore } from '../../functions/adapters/site-store.ts';
import { newSite } from '../../functions/domain/site-state.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { siteStatus } from '../../functions/http/api/sites.ts';
import { ErrorBody } from '../../protocol/errors.ts';
import { ForcedFailover, ReadmitPending, SiteStatus } from '../../protocol/reseller.ts';
import { type Answer, enrolledAgents, setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;

beforeAll(async () => {
  api = await startApi({ events: true });
});
afterAll(async () => {
  await api.close();
});

/**
 * A site whose node-a is primary at epoch 1 (granted at `t0`, both nodes heard then, reporting
 * each other reachable), with a read-write and a read-only key.
 */
async function healthySite() {
  const { resellerId, key, siteId, codes } = await setUpReseller(api);
  const { a, b } = await enrolledAgents(api, codes);
  const keys = (await api.call('GET', '/v1/api-keys', key)).body as { items: { keyId: string }[] };
  const readOnly = (await api.call('POST', '/v1/api-keys', key, { name: 'dashboard', scope: 'read-only' })).body as { secret: string };
  const t0 = api.clock.now();
  await a.beat(0, 'secondary', true);
  await b.beat(0, 'secondary', true);
  expect(await a.claim(0, 'startup')).toMatchObject({ granted: true, epoch: 1 });
  await a.beat(1, 'primary', true, ['1-promote-node-a']);
  return { resellerId, key, keyId: keys.items[0]!.keyId, roKey: readOnly.secret, siteId, a, b, t0 };
}

/** node-b goes dark; node-a, losing its peer, heartbeats on the fast cadence until the witness excludes node-b. Answers when. */
async function loseNodeB(site: Awaited<ReturnType<typeof healthySite>>): Promise<number> {
  for (let beats = 0; beats < 30; beats++) {
    api.clock.advance(defaultSettings.fastHeartbeatMs);
    const answer = await site.a.beat(1, 'primary', false);
    if (answer.standalone) {
      expect(answer.standalone).toEqual({ leaseMs: null });
      return api.clock.now();
    }
  }
  throw new Error('node-b was never excluded');
}

/** Every item of the table once the publisher has caught up (its audit-trail writes are not the API's). */
async function settledSnapshot(): Promise<unknown[]> {
  await api.drainEvents();
  return api.snapshot();
}

const status = async (site: { key: string; siteId: string }) => {
  const answer = await api.call('GET', `/v1/sites/${site.siteId}`, site.key);
  expect(answer.status).toBe(200);
  expect(SiteStatus.safeParse(answer.body).success, answer.text).toBe(true);
  return answer.body as SiteStatus;
};

const iso = (ms: number) => new Date(ms).toISOString();

function expectRefusal(answer: Answer, status: number, code: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(ErrorBody.safeParse(answer.body).success, answer.text).toBe(true);
  expect((answer.body as ErrorBody).error.code).toBe(code);
}

async function trail(site: { key: string; siteId: string }) {
  await api.drainEvents();
  const answer = await api.call('GET', `/v1/sites/${site.siteId}/events`, site.key);
  return (answer.body as { items: { type: string; timestamp: string; data: Record<string, unknown> }[] }).items;
}

describe('survivor mode as the reseller sees it', () => {
  it('a healthy site shows no survivor mode, and neither override applies', async () => {
    const site = await healthySite();
    const shown = await status(site);
    expect(shown.survivor).toBeNull();
    expect(shown.leaseExpiresAt).toBe(iso(site.t0 + defaultSettings.leaseMs));
    expect(shown.nodes.map((n) => [n.nodeId, n.excluded])).toEqual([
      ['node-a', false],
      ['node-b', false],
    ]);
    const before = await settledSnapshot();
    const force = await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-b/force-primary`, site.key, {
      confirm: 'node-a is powered off',
      reason: 'test',
    });
    expectRefusal(force, 409, 'not-in-survivor-mode');
    expectRefusal(await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-b/readmit`, site.key), 409, 'not-excluded');
    expect(await settledSnapshot()).toEqual(before);
  });

  it('the node the witness no longer hears is excluded: the status names survivor, excluded node and since when; the lease has no end', async () => {
    const site = await healthySite();
    const excludedAt = await loseNodeB(site);
    // node-b last heard at t0 on the slow cadence: excluded 30 s beyond 60 s, at the first fast heartbeat from then on.
    expect(excludedAt - site.t0).toBeGreaterThanOrEqual(defaultSettings.exclusionMs + defaultSettings.slowHeartbeatMs);
    expect(excludedAt - site.t0).toBeLessThanOrEqual(
      defaultSettings.exclusionMs + defaultSettings.slowHeartbeatMs + defaultSettings.fastHeartbeatMs,
    );
    const shown = await status(site);
    expect(shown).toMatchObject({ epoch: 1, primary: 'node-a', leaseExpiresAt: null });
    expect(shown.survivor).toEqual({
      node: 'node-a',
      excludedNode: 'node-b',
      since: iso(excludedAt),
      excludedLastSeenAt: iso(site.t0),
      standaloneLeaseMs: null,
      leaseEndsAt: null,
      ending: null,
    });
    expect(shown.nodes.map((n) => [n.nodeId, n.excluded])).toEqual([
      ['node-a', false],
      ['node-b', true],
    ]);
    // A day later (a witness outage, say), still the same.
    api.clock.advance(24 * 3_600_000);
    expect((await status(site)).survivor?.excludedNode).toBe('node-b');
  });
});

describe('force-primary: the excluded node back as primary, when a person says the survivor is off', () => {
  it('is refused for the survivor, a wrong confirmation, a read-only key, an unknown node and a bad body, changing nothing', async () => {
    const site = await healthySite();
    await loseNodeB(site);
    const path = (node: string) => `/v1/sites/${site.siteId}/nodes/${node}/force-primary`;
    const body = { confirm: 'node-a is powered off', reason: 'node-a does not start' };
    const before = await settledSnapshot();

    // node-a was heard just now: it is not off, whatever the words say; nor is it a slow heartbeat and the exclusion time later.
    const heard = await api.call('POST', path('node-b'), site.key, body);
    expectRefusal(heard, 409, 'survivor-heard');
    expect((heard.body as ErrorBody).error.message).toMatch(
      /the witness heard node-a 0 s ago: it is not powered off\. If it runs, readmit node-b instead/,
    );
    api.clock.advance(defaultSettings.slowHeartbeatMs + defaultSettings.exclusionMs - 1);
    expectRefusal(await api.call('POST', path('node-b'), site.key, body), 409, 'survivor-heard');
    api.clock.advance(1);

    expectRefusal(await api.call('POST', path('node-a'), site.key, body), 409, 'not-excluded');
    const wrong = await api.call('POST', path('node-b'), site.key, { ...body, confirm: 'node-b is powered off' });
    expectRefusal(wrong, 409, 'confirmation-mismatch');
    expect((wrong.body as ErrorBody).error.message).toContain('"node-a is powered off"');
    expectRefusal(
      await api.call('POST', path('node-b'), site.key, { ...body, confirm: 'node-a is powered off.' }),
      409,
      'confirmation-mismatch',
    );
    expectRefusal(await api.call('POST', path('node-b'), site.roKey, body), 403, 'forbidden');
    expectRefusal(await api.call('POST', path('node-z'), site.key, body), 404, 'not-found');
    expectRefusal(await api.call('POST', path('node-b'), site.key, { confirm: body.confirm }), 400, 'invalid-body');
    expectRefusal(await api.call('POST', path('node-b'), site.key, { ...body, reason: 'x'.repeat(501) }), 400, 'invalid-body');
    expectRefusal(await api.call('POST', path('node-b'), site.key, { ...body, reason: '' }), 400, 'invalid-body');
    expectRefusal(await api.call('POST', path('node-b'), site.key, { ...body, epoch: 9 }), 400, 'invalid-body');
    expect(await settledSnapshot()).toEqual(before);
  });

  it('accepted: epoch + 1, the forced node is primary and promotes on its claim, the survivor is told to demote; the trail names the key, the words and the reason', async () => {
    const site = await healthySite();
    const excludedAt = await loseNodeB(site);
    // node-a dies too; node-b boots, cannot reach it, and is refused: it is excluded.
    api.clock.advance(600_000);
    expect(await site.b.beat(1, 'secondary', false)).toMatchObject({ excluded: true });
    expect(await site.b.claim(1, 'peer-lost')).toMatchObject({ granted: false, reason: 'excluded' });

    const forcedAt = api.clock.now();
    const body = { confirm: 'node-a is powered off', reason: 'node-a has no power; seen on site by the technician' };
    const answer = await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-b/force-primary`, site.key, body);
    expect(answer.status, answer.text).toBe(200);
    expect(ForcedFailover.safeParse(answer.body).success, answer.text).toBe(true);
    const forced = answer.body as ForcedFailover;
    expect(forced).toMatchObject({ epoch: 2, primary: 'node-b', previousPrimary: 'node-a', forcedAt: iso(forcedAt), keyId: site.keyId });
    expect(forced.message).toContain('node-a');
    expect(forced.site).toMatchObject({
      epoch: 2,
      primary: 'node-b',
      survivor: null,
      leaseExpiresAt: iso(forcedAt + defaultSettings.leaseMs),
    });
    expect(forced.site.nodes.every((n) => !n.excluded)).toBe(true);

    // node-b is told at its next heartbeat, promotes once its claim is granted, and acknowledges.
    api.clock.advance(1_000);
    const told = await site.b.beat(1, 'secondary', false);
    expect(told).toMatchObject({ epoch: 2, primary: 'node-b', excluded: false });
    expect(told.commands.map((c) => c.id)).toEqual(['2-promote-node-b']);
    expect(await site.b.claim(2, 'operator')).toMatchObject({ granted: true, epoch: 2 });
    api.clock.advance(1_000);
    await site.b.beat(2, 'primary', false, ['2-promote-node-b']);
    // Were node-a running after all, it would be told to demote the moment it is heard.
    const old = await site.a.beat(1, 'primary', false);
    expect(old.commands.map((c) => c.id)).toContain('2-demote-node-a');

    // node-b now runs alone, reporting node-a unreachable, and node-a was unheard far longer than
    // the exclusion time: the witness excludes it (W5) in the same write. node-b is the survivor.
    const shown = await status(site);
    expect(shown.survivor).toMatchObject({ node: 'node-b', excludedNode: 'node-a' });
    const again = await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-b/force-primary`, site.key, body);
    expectRefusal(again, 409, 'not-excluded');

    const events = await trail(site);
    const ofSurvivorMode = events.filter((e) =>
      ['node.excluded', 'node.readmitted', 'failover.forced', 'failover.completed'].includes(e.type),
    );
    expect(ofSurvivorMode.map((e) => [e.type, e.data.nodeId])).toEqual([
      ['failover.completed', 'node-a'],
      ['node.excluded', 'node-b'],
      ['failover.forced', 'node-b'],
      ['node.readmitted', 'node-b'],
      ['node.excluded', 'node-a'],
      ['failover.completed', 'node-b'],
    ]);
    expect(ofSurvivorMode[1]).toMatchObject({
      timestamp: iso(excludedAt),
      data: { survivor: 'node-a', epoch: 1, lastSeenAt: site.t0, severity: 'critical' },
    });
    expect(ofSurvivorMode[2]).toMatchObject({
      timestamp: iso(forcedAt),
      data: {
        epoch: 2,
        previousPrimary: 'node-a',
        previousLeaseEndedAt: forcedAt,
        keyId: site.keyId,
        confirm: body.confirm,
        reason: body.reason,
        severity: 'warning',
      },
    });
    expect(ofSurvivorMode[3]).toMatchObject({ timestamp: iso(forcedAt), data: { by: 'force', survivor: 'node-a', excludedAt } });
  });
});

describe('force-primary while the witness hears the survivor', () => {
  // node-a, the survivor, heartbeats one second before the force, reporting node-b reachable
  // again (its readmission pending): the witness has proof that "node-a is powered off" is false.
  // Granting node-b then would overlap node-a's lease (W1): refused.
  it('is refused when the survivor was heard a second ago', async () => {
    const site = await healthySite();
    await loseNodeB(site);
    await site.b.beat(1, 'secondary', true);
    await site.a.beat(1, 'primary', true);
    api.clock.advance(1_000);
    const answer = await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-b/force-primary`, site.key, {
      confirm: 'node-a is powered off',
      reason: 'it is not',
    });
    expectRefusal(answer, 409, 'survivor-heard');
  });
});

describe('readmit: the survivor is told to end its standalone lease; its acknowledgement readmits the node', () => {
  it('202 pending with the command; asked again, the same; the acknowledgement readmits; then there is nothing to readmit', async () => {
    const site = await healthySite();
    const commandId = `end-standalone-${String(await loseNodeB(site))}-node-a`;
    const path = (node: string) => `/v1/sites/${site.siteId}/nodes/${node}/readmit`;
    expectRefusal(await api.call('POST', path('node-a'), site.key), 409, 'not-excluded');
    expectRefusal(await api.call('POST', path('node-b'), site.roKey), 403, 'forbidden');
    expectRefusal(await api.call('POST', path('node-z'), site.key), 404, 'not-found');
    expectRefusal(await api.call('POST', path('node-b'), site.key, { reason: 'back' }), 400, 'invalid-body');

    const askedAt = api.clock.now();
    const asked = await api.call('POST', path('node-b'), site.key);
    expect(asked.status, asked.text).toBe(202);
    expect(ReadmitPending.safeParse(asked.body).success, asked.text).toBe(true);
    expect(asked.body).toMatchObject({
      status: 'pending',
      nodeId: 'node-b',
      survivor: 'node-a',
      commandId,
      requestedAt: iso(askedAt),
      requestedBy: 'operator',
    });
    expect((asked.body as ReadmitPending).message).toMatch(
      /node-b is readmitted once node-a acknowledges .*; if node-a is off too, use force-primary/,
    );
    expect((await status(site)).survivor?.ending).toEqual({ requestedAt: iso(askedAt), by: 'operator', keyId: site.keyId, commandId });

    // Asked again: the pending one, nothing written.
    api.clock.advance(1_000);
    const before = await settledSnapshot();
    const again = await api.call('POST', path('node-b'), site.key);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(asked.body);
    expect(await settledSnapshot()).toEqual(before);

    // Still excluded until the survivor acknowledges.
    expect(await site.b.claim(1, 'peer-lost')).toMatchObject({ granted: false, reason: 'excluded' });
    const told = await site.a.beat(1, 'primary', false);
    expect(told.commands.map((c) => [c.id, c.type])).toEqual([[commandId, 'end-standalone']]);
    expect(told.standalone).toBeNull();
    expect((await status(site)).nodes.find((n) => n.nodeId === 'node-b')?.excluded).toBe(true);

    await site.a.beat(1, 'primary', false, [commandId]);
    const shown = await status(site);
    expect(shown.survivor).toBeNull();
    expect(shown.nodes.every((n) => !n.excluded)).toBe(true);
    expectRefusal(await api.call('POST', path('node-b'), site.key), 409, 'not-excluded');

    const readmitted = (await trail(site)).filter((e) => e.type === 'node.readmitted');
    expect(readmitted).toHaveLength(1);
    expect(readmitted[0]?.data).toMatchObject({ nodeId: 'node-b', survivor: 'node-a', by: 'operator' });
  });
});

describe('who readmitted a node, in the audit trail', () => {
  it('node.readmitted by an operator names the key', async () => {
    const site = await healthySite();
    const excludedAt = await loseNodeB(site);
    expect((await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-b/readmit`, site.key)).status).toBe(202);
    await site.a.beat(1, 'primary', false, [`end-standalone-${String(excludedAt)}-node-a`]);
    const readmitted = (await trail(site)).find((e) => e.type === 'node.readmitted');
    expect(readmitted?.data).toMatchObject({ by: 'operator', keyId: site.keyId });
  });
});

describe('one conditional write, decided again when it loses a race', () => {
  /** The API's store of state items, with a heartbeat of node-a slipped in before each of the first `races` writes. */
  function racing(
    site: Awaited<ReturnType<typeof healthySite>>,
    races: number,
    beat: () => Promise<unknown> = () => site.a.beat(1, 'primary', false),
  ): { restore: () => void; lost: () => number } {
    const real = api.api.siteStates;
    let lost = 0;
    const store: SiteStore = {
      load: (key) => real.load(key),
      recent: (key) => real.recent(key),
      create: (state) => real.create(state),
      apply: async (key, plan) => {
        if (lost < races) {
          lost++;
          await beat();
        }
        return real.apply(key, plan);
      },
    };
    api.api.siteStates = store;
    return { restore: () => (api.api.siteStates = real), lost: () => lost };
  }

  it('a heartbeat between the read and the write: the readmission is decided again on the state it lost to, and written', async () => {
    const site = await healthySite();
    await loseNodeB(site);
    const race = racing(site, 1);
    try {
      const asked = await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-b/readmit`, site.key);
      expect(asked.status, asked.text).toBe(202);
      expect(race.lost()).toBe(1);
    } finally {
      race.restore();
    }
    expect((await status(site)).survivor?.ending?.by).toBe('operator');
  });

  it('a write lost five times over is 503 with Retry-After, and the force did not happen', async () => {
    const site = await healthySite();
    await loseNodeB(site);
    // node-a falls silent long enough to be declared off; node-b's heartbeats win every race.
    api.clock.advance(defaultSettings.slowHeartbeatMs + defaultSettings.exclusionMs);
    const race = racing(site, 5, () => site.b.beat(1, 'secondary', false));
    try {
      const answer = await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-b/force-primary`, site.key, {
        confirm: 'node-a is powered off',
        reason: 'gone',
      });
      expectRefusal(answer, 503, 'unavailable');
      expect(answer.headers.get('retry-after')).toBe('1');
    } finally {
      race.restore();
    }
    expect(await status(site)).toMatchObject({ epoch: 1, primary: 'node-a', survivor: { excludedNode: 'node-b' } });
  });
});

describe('the status with a bounded standalone lease (TIEBREAK_STANDALONE_LEASE_MS)', () => {
  const settings = { ...defaultSettings, standaloneLeaseMs: 600_000 };
  const at = Date.parse('2026-11-29T10:00:00Z');
  const listing = {
    siteId: 'main-office',
    customerId: 'dental',
    name: 'Main office',
    nodeIds: ['node-a', 'node-b'],
    createdAt: at - 86_400_000,
    enrolledVersion: {},
  };
  const state = {
    ...newSite({ resellerId: 'r-1', siteId: 'main-office', nodeIds: ['node-a', 'node-b'] }),
    epoch: 3,
    primary: 'node-a',
    leaseExpiresAt: at + 600_000,
    exclusion: { nodeId: 'node-b', at: at - 60_000, lastSeenAt: null },
  };

  it('tells when the standalone lease ends, as the lease itself', () => {
    const shown = siteStatus(listing, state, at, settings);
    expect(shown.leaseExpiresAt).toBe(iso(at + 600_000));
    expect(shown.survivor).toMatchObject({
      node: 'node-a',
      excludedNode: 'node-b',
      excludedLastSeenAt: null,
      standaloneLeaseMs: 600_000,
      leaseEndsAt: iso(at + 600_000),
    });
    expect(SiteStatus.safeParse(shown).success).toBe(true);
  });

  it('once it has lapsed unrenewed (past the skew margin), survivor mode is over: nobody is excluded', () => {
    const shown = siteStatus(listing, state, at + 600_000 + settings.skewMarginMs + 1, settings);
    expect(shown.survivor).toBeNull();
    expect(shown.nodes.map((n) => n.excluded)).toEqual([false, false]);
  });
});
