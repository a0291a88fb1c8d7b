/**
 * The fleet view's status of a site (functions/domain/site-health.ts): examples of each word, then
 * properties over arbitrary states and times, stated against the witness's own rules (the lease,
 * the silence detector, survivor mode's "heard lately").
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SiteHealth, siteHealthWorstFirst } from '../../protocol/reseller.ts';
import { holds } from '../../functions/domain/plan.ts';
import { defaultSettings, type WitnessSettings } from '../../functions/domain/settings.ts';
import { judgeSite, siteHealth } from '../../functions/domain/site-health.ts';
import { isSilent, lastContact } from '../../functions/domain/silence.ts';
import { activeExclusion, leaseHeld, newSite, type NodeState, type SiteState } from '../../functions/domain/site-state.ts';
import { heardLately } from '../../functions/domain/survivor.ts';

const settings = defaultSettings;
const t0 = 1_800_000_000_000;
const s = 1_000;

/** node-a primary at epoch 1 since `t0`, lease renewed at `t0`, both nodes heard at `t0` reporting each other reachable, healthy. */
function liveSite(): SiteState {
  const site = newSite({ resellerId: 'r', siteId: 's', nodeIds: ['node-a', 'node-b'] });
  const heard = (role: 'primary' | 'secondary'): Partial<NodeState> => ({
    lastSeenAt: t0,
    role,
    reportedEpoch: 1,
    health: 100,
    peerReachable: true,
  });
  return {
    ...site,
    rev: 9,
    epoch: 1,
    primary: 'node-a',
    leaseExpiresAt: t0 + settings.leaseMs,
    firstContactAt: t0 - 60 * s,
    nodes: { 'node-a': { ...site.nodes['node-a']!, ...heard('primary') }, 'node-b': { ...site.nodes['node-b']!, ...heard('secondary') } },
  };
}

const withNode = (state: SiteState, nodeId: string, change: Partial<NodeState>): SiteState => ({
  ...state,
  nodes: { ...state.nodes, [nodeId]: { ...state.nodes[nodeId]!, ...change } },
});

describe('each status, by example', () => {
  test('not-live: a site never granted, even with both nodes heartbeating', () => {
    const site = newSite({ resellerId: 'r', siteId: 's', nodeIds: ['node-a', 'node-b'] });
    expect(siteHealth(site, 0, t0, settings)).toBe('not-live');
    expect(siteHealth({ ...site, nodes: liveSite().nodes, firstContactAt: t0 }, 2, t0, settings)).toBe('not-live');
  });

  test('healthy: the primary on the slow cadence, its witness lease long expired, runs on its peer lease: healthy until a node is unheard', () => {
    const site = liveSite();
    expect(siteHealth(site, 0, t0, settings)).toBe('healthy');
    // 59 s later, the lease ran out 44 s ago: the next slow heartbeat is due, nothing is wrong.
    expect(siteHealth(site, 0, t0 + 59 * s, settings)).toBe('healthy');
    // exclusionMs beyond the slow cadence: not heard lately (from that very ms, as W5 counts it).
    expect(siteHealth(site, 0, t0 + (30 + 60) * s - 1, settings)).toBe('healthy');
    expect(siteHealth(site, 0, t0 + (30 + 60) * s, settings)).toBe('degraded');
  });

  test('degraded: the secondary silent, the link reported cut, a health under the threshold, or an open incident', () => {
    const now = t0 + 100 * s;
    const site = withNode(liveSite(), 'node-a', { lastSeenAt: now });
    expect(judgeSite(site, 0, now, settings)).toEqual({ status: 'degraded', reason: 'node-b is not heard lately' });
    const cut = withNode(liveSite(), 'node-a', { peerReachable: false, peerLostSince: t0 });
    expect(judgeSite(cut, 0, t0 + s, settings).reason).toBe('node-a reports its peer unreachable');
    const weak = {
      ...withNode(liveSite(), 'node-b', { health: 40 }),
      policy: { tieBreak: 'keep-primary' as const, preferredNode: null, healthThreshold: 50 },
    };
    expect(judgeSite(weak, 0, t0, settings).reason).toBe('node-b reports a health under the threshold 50');
    expect(judgeSite(liveSite(), 1, t0, settings)).toEqual({ status: 'degraded', reason: '1 unresolved incident(s)' });
  });

  test('failing-over: the peer reports the primary lost and the lease ran out; then the grant, until the new primary acknowledges its promote', () => {
    // node-b lost node-a at t0 + 1 s and reports it on the fast cadence; node-a is never heard again.
    let site = withNode(liveSite(), 'node-b', { lastSeenAt: t0 + 20 * s, peerReachable: false, peerLostSince: t0 + s });
    expect(judgeSite(site, 0, t0 + 20 * s, settings)).toEqual({
      status: 'failing-over',
      reason: 'node-a holds no lease and lost the role (its peer reports it lost)',
    });
    // While node-a's lease still holds, it is not failing over yet: degraded (the link is reported cut).
    expect(siteHealth(site, 0, t0 + 10 * s, settings)).toBe('degraded');
    // node-b is granted epoch 2: its promote is pending, and node-a owes a demote it cannot hear.
    const grantedAt = t0 + 21 * s;
    const promote = { id: '2-promote-node-b', type: 'promote' as const, epoch: 2, issuedAt: grantedAt, reason: 'failover' };
    const demote = { id: '2-demote-node-a', type: 'demote' as const, epoch: 2, issuedAt: grantedAt, reason: 'failover' };
    site = {
      ...withNode(site, 'node-b', { commands: { [promote.id]: promote } }),
      epoch: 2,
      primary: 'node-b',
      leaseExpiresAt: grantedAt + settings.leaseMs,
    };
    site = withNode(site, 'node-a', { commands: { [demote.id]: demote } });
    expect(judgeSite(site, 0, grantedAt, settings).reason).toBe('node-b has not acknowledged its promote command yet');
    // Acknowledged: the failover is over. node-a, unheard since the grant, owes its demote: not a failover in progress.
    site = withNode(site, 'node-b', { commands: {}, lastSeenAt: grantedAt + 5 * s });
    expect(judgeSite(site, 0, grantedAt + 5 * s, settings)).toEqual({ status: 'degraded', reason: 'node-b reports its peer unreachable' });
    expect(judgeSite(site, 0, t0 + 90 * s, settings)).toEqual({ status: 'degraded', reason: 'node-a is not heard lately' });
    // node-a comes back still acting as primary: heard, owing its demote: failing over until it steps down.
    site = withNode(site, 'node-a', { lastSeenAt: grantedAt + 6 * s, role: 'primary' });
    expect(judgeSite(site, 0, grantedAt + 6 * s, settings).reason).toBe('node-a is heard but has not acknowledged its demote command yet');
  });

  test('failing-over: a lapse recorded (the site fell silent, then a node spoke) until the primary renews', () => {
    const back = t0 + 400 * s;
    const site = withNode({ ...liveSite(), lapsed: { primary: 'node-a', epoch: 1, leaseEndedAt: t0 + settings.leaseMs } }, 'node-b', {
      lastSeenAt: back,
    });
    expect(siteHealth(site, 0, back, settings)).toBe('failing-over');
  });

  test('down: no lease and no node heard for silenceMs, exactly when the silence detector calls the site silent', () => {
    const site = liveSite();
    expect(siteHealth(site, 0, t0 + settings.silenceMs - 1, settings)).toBe('degraded');
    expect(siteHealth(site, 0, t0 + settings.silenceMs, settings)).toBe('down');
    expect(isSilent(site, t0 + settings.silenceMs, settings)).toBe(true);
  });

  test('survivor: a node excluded; a survivor silent for any time still holds its standalone lease (it may be running): survivor, not down', () => {
    const excluded = {
      ...withNode(liveSite(), 'node-a', { peerReachable: false, peerLostSince: t0 }),
      exclusion: { nodeId: 'node-b', at: t0, lastSeenAt: t0 - 40 * s },
    };
    expect(judgeSite(excluded, 1, t0, settings)).toEqual({ status: 'survivor', reason: 'node-b is excluded: node-a runs alone' });
    expect(siteHealth(excluded, 1, t0 + 3_600 * s, settings)).toBe('survivor');
    // With a bounded standalone lease, it lapses with the lease: then a silent site is down.
    const bounded: WitnessSettings = { ...settings, standaloneLeaseMs: 60 * s };
    expect(siteHealth({ ...excluded, leaseExpiresAt: t0 + 60 * s }, 1, t0 + 30 * s, bounded)).toBe('survivor');
    expect(siteHealth({ ...excluded, leaseExpiresAt: t0 + 60 * s }, 1, t0 + settings.silenceMs, bounded)).toBe('down');
  });

  test('the worst-first order names every status once, down first and healthy last', () => {
    expect([...siteHealthWorstFirst].sort()).toEqual([...SiteHealth.options].sort());
    expect(siteHealthWorstFirst[0]).toBe('down');
    expect(siteHealthWorstFirst.at(-1)).toBe('healthy');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const nodeIds = ['node-a', 'node-b'] as const;
const time = fc.integer({ min: t0 - 400 * s, max: t0 });

const nodeArb = fc.record({
  lastSeenAt: fc.option(time, { nil: null }),
  role: fc.constantFrom(null, 'primary' as const, 'secondary' as const, 'fenced' as const),
  health: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
  peerReachable: fc.constantFrom(null, true, false),
  peerLostSince: fc.option(time, { nil: undefined }),
  owes: fc.constantFrom(undefined, 'promote' as const, 'demote' as const, 'resync' as const),
});

/** Any state of a two-node site the witness could hold, around `t0`. */
const stateArb: fc.Arbitrary<SiteState> = fc
  .record({
    epoch: fc.integer({ min: 0, max: 4 }),
    primary: fc.constantFrom(...nodeIds),
    leaseExpiresAt: fc.integer({ min: t0 - 400 * s, max: t0 + 60 * s }),
    nodes: fc.tuple(nodeArb, nodeArb),
    threshold: fc.integer({ min: 0, max: 100 }),
    lapsed: fc.boolean(),
    excluded: fc.boolean(),
  })
  .map(({ epoch, primary, leaseExpiresAt, nodes, threshold, lapsed, excluded }) => {
    const site = newSite({ resellerId: 'r', siteId: 's', nodeIds: [...nodeIds] });
    const state: SiteState = {
      ...site,
      rev: 3,
      epoch,
      primary: epoch === 0 ? null : primary,
      leaseExpiresAt: epoch === 0 ? 0 : leaseExpiresAt,
      firstContactAt: t0 - 500 * s,
      policy: { tieBreak: 'keep-primary', preferredNode: null, healthThreshold: threshold },
    };
    for (const [i, nodeId] of nodeIds.entries()) {
      const { owes, peerLostSince, ...report } = nodes[i]!;
      const command = owes && { id: `${String(epoch)}-${owes}-${nodeId}`, type: owes, epoch, issuedAt: t0 - 10 * s, reason: 'test' };
      state.nodes[nodeId] = {
        ...state.nodes[nodeId]!,
        ...report,
        ...(peerLostSince === undefined ? {} : { peerLostSince }),
        commands: command ? { [command.id]: command } : {},
      };
    }
    const other = nodeIds.find((id) => id !== state.primary);
    if (state.primary !== null && lapsed) state.lapsed = { primary: state.primary, epoch, leaseEndedAt: state.leaseExpiresAt };
    if (state.primary !== null && excluded && other) state.exclusion = { nodeId: other, at: t0 - 100 * s, lastSeenAt: null };
    return state;
  });

/** States of a site heard lately at `t0`, mostly well (each defect at random): enough of them healthy at `t0`. */
const calmStateArb: fc.Arbitrary<SiteState> = fc
  .record({
    state: stateArb,
    ages: fc.tuple(fc.nat(60 * s), fc.nat(60 * s)),
    flags: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  })
  .map(({ state, ages, flags }) => {
    const calm: SiteState = { ...state, epoch: Math.max(1, state.epoch), primary: state.primary ?? 'node-a', nodes: { ...state.nodes } };
    if (!flags[0]) delete calm.lapsed;
    if (!flags[1]) delete calm.exclusion;
    for (const [i, nodeId] of nodeIds.entries()) {
      const node = { ...calm.nodes[nodeId]! };
      node.lastSeenAt = t0 - ages[i]!;
      if (!flags[2]) node.peerReachable = true;
      if (!flags[3]) node.commands = {};
      calm.nodes[nodeId] = node;
    }
    return calm;
  });

const nowArb = fc.integer({ min: t0, max: t0 + 400 * s });
const incidentsArb = fc.integer({ min: 0, max: 3 });
const settingsArb = fc.constantFrom<WitnessSettings>(defaultSettings, { ...defaultSettings, standaloneLeaseMs: 60 * s });

describe('properties', () => {
  test('not-live exactly when no primary was ever granted', () => {
    fc.assert(
      fc.property(stateArb, incidentsArb, nowArb, settingsArb, (state, incidents, now, set) => {
        expect(siteHealth(state, incidents, now, set) === 'not-live').toBe(state.epoch === 0);
      }),
    );
  });

  test('down exactly when a live site holds no lease and the silence detector would call it silent', () => {
    fc.assert(
      fc.property(stateArb, incidentsArb, nowArb, settingsArb, (state, incidents, now, set) => {
        fc.pre(state.epoch > 0 && lastContact(state) !== null);
        const silent = isSilent(state, now, set);
        expect(siteHealth(state, incidents, now, set) === 'down').toBe(!leaseHeld(state, now, set) && silent);
      }),
    );
  });

  test('an incident never changes a status but healthy, which it makes degraded', () => {
    fc.assert(
      fc.property(stateArb, fc.integer({ min: 1, max: 5 }), nowArb, settingsArb, (state, incidents, now, set) => {
        const without = siteHealth(state, 0, now, set);
        expect(siteHealth(state, incidents, now, set)).toBe(without === 'healthy' ? 'degraded' : without);
      }),
    );
  });

  test('a node excluded (survivor mode holding): survivor, or failing-over while a promote or demote is owed; never down, degraded or healthy', () => {
    fc.assert(
      fc.property(stateArb, incidentsArb, nowArb, settingsArb, (state, incidents, now, set) => {
        fc.pre(state.epoch > 0 && activeExclusion(state, now, set) !== undefined);
        expect(['survivor', 'failing-over']).toContain(siteHealth(state, incidents, now, set));
      }),
    );
  });

  test('healthy means: a primary, no node excluded, every node heard lately (as W5 counts it), the link up, every health at the threshold, nothing owed, no incident', () => {
    let healthy = 0;
    fc.assert(
      fc.property(calmStateArb, settingsArb, (state, set) => {
        const now = t0;
        if (siteHealth(state, 0, now, set) !== 'healthy') return;
        healthy++;
        expect(state.primary).not.toBeNull();
        expect(activeExclusion(state, now, set)).toBeUndefined();
        for (const [nodeId, node] of Object.entries(state.nodes)) {
          expect(holds(heardLately(nodeId, now, set), state)).toBe(true);
          expect(node.peerReachable).not.toBe(false);
          if (node.health !== null) expect(node.health).toBeGreaterThanOrEqual(state.policy.healthThreshold);
        }
        expect(Object.values(state.nodes[state.primary ?? '']?.commands ?? {}).some((c) => c.type === 'promote')).toBe(false);
        expect(siteHealth(state, 1, now, set)).toBe('degraded');
      }),
      { numRuns: 500 },
    );
    expect(healthy, 'healthy states met').toBeGreaterThan(20);
  });

  test('time passing without a word from the site never heals it: healthy later means healthy before, and down stays down', () => {
    fc.assert(
      fc.property(stateArb, incidentsArb, nowArb, fc.integer({ min: 0, max: 600 * s }), (state, incidents, now, later) => {
        const before = siteHealth(state, incidents, now, defaultSettings);
        const after = siteHealth(state, incidents, now + later, defaultSettings);
        if (after === 'healthy') expect(before).toBe('healthy');
        if (before === 'down') expect(after).toBe('down');
      }),
    );
  });

  test('every state and time gets one of the six words, and the same again', () => {
    fc.assert(
      fc.property(stateArb, incidentsArb, nowArb, settingsArb, (state, incidents, now, set) => {
        const status = siteHealth(state, incidents, now, set);
        expect(SiteHealth.options).toContain(status);
        expect(siteHealth(structuredClone(state), incidents, now, set)).toBe(status);
      }),
    );
  });
});
