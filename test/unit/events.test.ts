import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { WitnessEvent } from '../../protocol/events.ts';
import { WitnessEvent as EventSchema } from '../../protocol/events.ts';
import { eventsOf } from '../../functions/domain/events.ts';
import { applyUpdates, holds } from '../../functions/domain/plan.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { checkSilence, isSilent } from '../../functions/domain/silence.ts';
import { newSite, type SiteState } from '../../functions/domain/site-state.ts';
import { PureWitness } from '../support/pure-witness.ts';

const settings = defaultSettings;
const t0 = 1_800_000_000_000;
const callers = {
  a: { resellerId: 'r', siteId: 's', nodeId: 'node-a', tokenVersion: 1 },
  b: { resellerId: 'r', siteId: 's', nodeId: 'node-b', tokenVersion: 1 },
};

/** Runs requests through the pure witness, collecting the events of every change as the publisher would. */
class Recorder {
  readonly witness = new PureWitness(newSite({ resellerId: 'r', siteId: 's', nodeIds: ['node-a', 'node-b'] }), settings);
  readonly events: WitnessEvent[] = [];
  seq = 0;

  step(apply: (w: PureWitness, seq: number) => unknown): void {
    const before: SiteState = this.witness.state;
    apply(this.witness, ++this.seq);
    if (this.witness.state !== before) this.events.push(...eventsOf(before, this.witness.state, settings));
  }

  heartbeat(node: 'a' | 'b', at: number, epoch: number, role: 'primary' | 'secondary', peer: boolean, extra: { acks?: string[]; health?: number } = {}): void {
    this.step((w, seq) =>
      w.heartbeat(
        callers[node],
        { incarnation: 1, seq, epoch, role, peer: { reachable: peer }, ...(extra.acks ? { acks: extra.acks } : {}), ...(extra.health === undefined ? {} : { health: { score: extra.health } }) },
        at,
      ),
    );
  }

  claim(node: 'a' | 'b', at: number, epoch: number): void {
    this.step((w, seq) => w.claim(callers[node], { incarnation: 1, seq, epoch, reason: epoch === 0 ? 'startup' : 'peer-lost' }, at));
  }

  /** The silence detector reading the site's bucket at `at`, as its run does: the write only if its guard holds. */
  detect(at: number): void {
    this.step((w) => {
      if (w.state.due === undefined) return;
      const check = checkSilence(w.state, w.state.due, at, settings);
      if (check.kind === 'write' && holds(check.plan.guard, w.state)) w.state = applyUpdates(w.state, check.plan.updates);
    });
  }
}

describe('the events of a change', () => {
  test('a failover, told as it happened: granted, completed, the peer lost, granted to the other, completed', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0 + 100, 0, 'secondary', true);
    r.claim('a', t0 + 200, 0);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    // node-a dies after its renewal at t0 + 1 s (lease to t0 + 16 s); node-b notices at its next fast
    // heartbeat, t0 + 5 s, and still does not reach it a freshness window later, at t0 + 20 s: lost.
    r.heartbeat('b', t0 + 5_000, 1, 'secondary', false);
    r.heartbeat('b', t0 + 5_000 + settings.freshnessMs, 1, 'secondary', false);
    r.claim('b', t0 + 20_100, 1);
    r.heartbeat('b', t0 + 21_000, 2, 'primary', false, { acks: ['2-promote-node-b'] });

    expect(r.events.map((e) => `${e.type} ${e.data.nodeId ?? ''}`)).toEqual([
      'failover.granted node-a',
      'failover.completed node-a',
      'node.lost node-a',
      'failover.granted node-b',
      'failover.completed node-b',
    ]);
    const [first, , lost, second] = r.events;
    expect(first?.data).toMatchObject({ epoch: 1, previousPrimary: null, previousLeaseEndedAt: null, severity: 'info' });
    expect(lost?.data).toMatchObject({ severity: 'critical', reportedBy: 'node-b', leaseEndedAt: t0 + 16_000 });
    expect(lost?.timestamp).toBe(new Date(t0 + 20_000).toISOString());
    expect(second?.data).toMatchObject({ epoch: 2, previousPrimary: 'node-a', previousLeaseEndedAt: t0 + 16_000, severity: 'warning' });
    expect(second?.timestamp).toBe(new Date(t0 + 20_100).toISOString());
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('a cut link while both nodes report: lost, then restored; a node under the threshold: degraded once', () => {
    const r = new Recorder();
    r.witness.state = { ...r.witness.state, policy: { ...r.witness.state.policy, healthThreshold: 50 } };
    r.heartbeat('a', t0, 0, 'secondary', true, { health: 90 });
    r.heartbeat('b', t0 + 10, 0, 'secondary', true, { health: 90 });
    r.heartbeat('a', t0 + 1_000, 0, 'secondary', false, { health: 40 });
    r.heartbeat('b', t0 + 1_010, 0, 'secondary', false, { health: 90 });
    r.heartbeat('a', t0 + 2_000, 0, 'secondary', false, { health: 30 });
    r.heartbeat('a', t0 + 3_000, 0, 'secondary', true, { health: 30 });
    expect(r.events.map((e) => `${e.type} ${e.data.nodeId ?? ''}`)).toEqual(['node.degraded node-a', 'link.lost ', 'link.restored ']);
  });

  test('a site silent for silenceMs is down once, however often the detector looks, and recovered at the next contact', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.claim('a', t0 + 100, 0);
    r.heartbeat('b', t0 + 200, 1, 'secondary', true);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    // Both fall silent (the office lost power); the detector looks before, at and after the silence.
    r.detect(t0 + 1_000 + settings.silenceMs - 1);
    r.detect(t0 + 1_000 + settings.silenceMs);
    r.detect(t0 + 1_000 + settings.silenceMs + 60_000);
    r.heartbeat('b', t0 + 900_000, 1, 'secondary', true);
    r.detect(t0 + 900_001);
    expect(r.events.map((e) => e.type)).toEqual(['failover.granted', 'failover.completed', 'site.down', 'site.recovered']);
    const [, , down, recovered] = r.events;
    expect(down).toMatchObject({
      id: `r/s/site.down/${String(t0 + 1_000 + settings.silenceMs)}`,
      timestamp: new Date(t0 + 1_000 + settings.silenceMs).toISOString(),
      data: { severity: 'critical', lastSeenAt: t0 + 1_000, nodeIds: ['node-a', 'node-b'], leaseEndedAt: t0 + 1_000 + settings.leaseMs },
    });
    expect(recovered).toMatchObject({
      id: `r/s/site.recovered/${String(t0 + 1_000 + settings.silenceMs)}`,
      timestamp: new Date(t0 + 900_000).toISOString(),
      data: { severity: 'info', downSince: t0 + 1_000 },
    });
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('a primary whose lease lapsed in a silence renews in a later change than the return: node.recovered tells the renewal', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.claim('a', t0 + 100, 0);
    r.heartbeat('b', t0 + 200, 1, 'secondary', true);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    const leaseEnd = t0 + 1_000 + settings.leaseMs;
    r.detect(t0 + 1_000 + settings.silenceMs);
    expect(r.witness.state.lapsed).toEqual({ primary: 'node-a', epoch: 1, leaseEndedAt: leaseEnd });
    // The power comes back: both reboot, heartbeat as secondaries, then node-a's start-up claim renews.
    r.heartbeat('b', t0 + 900_000, 1, 'secondary', true);
    r.heartbeat('a', t0 + 900_500, 1, 'secondary', true);
    expect(r.witness.state.lapsed).toEqual({ primary: 'node-a', epoch: 1, leaseEndedAt: leaseEnd });
    const rev = r.witness.state.rev + 1;
    r.claim('a', t0 + 901_000, 1);
    expect(r.witness.state.lapsed).toBeUndefined();
    // Renewing again tells nothing more.
    r.heartbeat('a', t0 + 902_000, 1, 'primary', true);
    expect(r.events.map((e) => e.type)).toEqual(['failover.granted', 'failover.completed', 'site.down', 'site.recovered', 'node.recovered']);
    expect(r.events[3]?.data).toMatchObject({ primary: 'node-a', epoch: 1, leaseRenewedAt: null });
    expect(r.events[4]).toEqual({
      id: `r/s/node.recovered/node-a/renewed/${String(rev)}`,
      type: 'node.recovered',
      timestamp: new Date(t0 + 901_000).toISOString(),
      data: {
        resellerId: 'r',
        siteId: 's',
        severity: 'info',
        nodeId: 'node-a',
        primary: 'node-a',
        epoch: 1,
        leaseRenewedAt: t0 + 901_000,
        previousLeaseEndedAt: leaseEnd,
        recoveredFrom: 'site.down',
      },
    });
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('a lapse ended by the return itself, or by a grant, tells nothing more', () => {
    const running = (): Recorder => {
      const r = new Recorder();
      r.heartbeat('a', t0, 0, 'secondary', true);
      r.claim('a', t0 + 100, 0);
      r.heartbeat('b', t0 + 200, 1, 'secondary', true);
      r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
      r.detect(t0 + 1_000 + settings.silenceMs);
      return r;
    };
    // The primary's own heartbeat ends the silence: site.recovered tells the renewal.
    const back = running();
    back.heartbeat('a', t0 + 900_000, 1, 'primary', true);
    expect(back.witness.state.lapsed).toBeUndefined();
    expect(back.events.slice(2).map((e) => [e.type, e.data.leaseRenewedAt])).toEqual([
      ['site.down', undefined],
      ['site.recovered', t0 + 900_000],
    ]);
    // The secondary takes over: the grant removes the lapse, and failover.granted tells it.
    // node-b is back first, not reaching node-a; still not a freshness window later: node-a is lost.
    const over = running();
    over.heartbeat('b', t0 + 900_000, 1, 'secondary', false);
    over.heartbeat('b', t0 + 900_000 + settings.freshnessMs, 1, 'secondary', false);
    over.claim('b', t0 + 900_100 + settings.freshnessMs, 1);
    expect(over.witness.state.lapsed).toBeUndefined();
    over.heartbeat('a', t0 + 900_200 + settings.freshnessMs, 1, 'primary', true);
    expect(over.events.slice(2).map((e) => `${e.type} ${e.data.nodeId ?? ''}`)).toEqual([
      'site.down ',
      'site.recovered ',
      'node.lost node-a',
      'failover.granted node-b',
      'node.recovered node-a',
    ]);
    expect(over.events.at(-1)?.data).toMatchObject({ leaseRenewedAt: null });
  });

  test('a site down with no primary says so: its lease ended nowhere', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.detect(t0 + settings.silenceMs);
    expect(r.events).toEqual([expect.objectContaining({ type: 'site.down', data: expect.objectContaining({ leaseEndedAt: null, lastSeenAt: t0 }) as unknown })]);
  });

  test('a lost node is recovered when it is heard again, or when its peer reaches it again', () => {
    const heard = new Recorder();
    heard.heartbeat('a', t0, 0, 'secondary', true);
    heard.heartbeat('b', t0 + 100, 0, 'secondary', true);
    heard.heartbeat('b', t0 + 30_000, 0, 'secondary', false);
    heard.heartbeat('b', t0 + 35_000, 0, 'secondary', false);
    heard.heartbeat('b', t0 + 30_000 + settings.freshnessMs, 0, 'secondary', false);
    heard.heartbeat('a', t0 + 50_000, 0, 'secondary', true);
    expect(heard.events.map((e) => `${e.type} ${e.data.nodeId ?? ''} ${e.timestamp}`)).toEqual([
      `node.lost node-a ${new Date(t0 + 30_000 + settings.freshnessMs).toISOString()}`,
      `node.recovered node-a ${new Date(t0 + 50_000).toISOString()}`,
    ]);

    const reached = new Recorder();
    reached.heartbeat('a', t0, 0, 'secondary', true);
    reached.heartbeat('b', t0 + 100, 0, 'secondary', true);
    reached.heartbeat('b', t0 + 30_000, 0, 'secondary', false);
    reached.heartbeat('b', t0 + 30_000 + settings.freshnessMs, 0, 'secondary', false);
    reached.heartbeat('b', t0 + 31_000 + settings.freshnessMs, 0, 'secondary', true);
    expect(reached.events.map((e) => `${e.type} ${e.data.nodeId ?? ''}`)).toEqual(['node.lost node-a', 'node.recovered node-a']);
    expect(reached.events[1]?.data).toMatchObject({ severity: 'info', reportedBy: 'node-b' });
    expect(reached.events[1]?.timestamp).toBe(new Date(t0 + 31_000 + settings.freshnessMs).toISOString());
  });

  test('a link lost while the peer is on the slow cadence is not a lost node', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0 + 10_000, 0, 'secondary', true);
    // Both on the slow cadence: node-b's last heartbeat is 50 s old when node-a loses the link.
    r.heartbeat('a', t0 + 60_000, 0, 'secondary', false);
    expect(t0 + 60_000 - (r.witness.state.nodes['node-b']?.lastSeenAt ?? 0)).toBeGreaterThan(settings.freshnessMs);
    expect(r.events).toEqual([]);
    // node-b, alive, is heard within seconds on the fast cadence, not reaching node-a either.
    r.heartbeat('b', t0 + 64_000, 0, 'secondary', false);
    // A freshness window and more after the first report, each side has been heard since: nobody is lost.
    r.heartbeat('a', t0 + 60_000 + settings.freshnessMs, 0, 'secondary', false);
    r.heartbeat('b', t0 + 64_000 + settings.freshnessMs, 0, 'secondary', false);
    r.heartbeat('a', t0 + 60_000 + 2 * settings.freshnessMs, 0, 'secondary', false);
    expect(r.events.map((e) => e.type)).toEqual(['link.lost']);
    expect(r.events[0]).toMatchObject({ timestamp: new Date(t0 + 64_000).toISOString(), data: { severity: 'warning' } });
    expect(r.events.filter((e) => e.type === 'node.lost')).toEqual([]);
  });

  test('a peer silent for the freshness window after the first unreachable report is lost exactly once', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0 + 100, 0, 'secondary', true);
    // node-a falls silent; node-b reports it unreachable from t0 + 5 s, every 5 s.
    const first = t0 + 5_000;
    r.heartbeat('b', first, 0, 'secondary', false);
    r.heartbeat('b', first + 5_000, 0, 'secondary', false);
    r.heartbeat('b', first + settings.freshnessMs - 1, 0, 'secondary', false);
    expect(r.events).toEqual([]);
    const rev = r.witness.state.rev + 1;
    r.heartbeat('b', first + settings.freshnessMs, 0, 'secondary', false);
    r.heartbeat('b', first + settings.freshnessMs + 5_000, 0, 'secondary', false);
    r.heartbeat('b', first + 10 * settings.freshnessMs, 0, 'secondary', false);
    expect(r.events).toEqual([
      {
        id: `r/s/node.lost/node-a/${String(rev)}`,
        type: 'node.lost',
        timestamp: new Date(first + settings.freshnessMs).toISOString(),
        data: { resellerId: 'r', siteId: 's', severity: 'critical', nodeId: 'node-a', reportedBy: 'node-b', leaseEndedAt: null },
      },
    ]);
    for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
  });

  test('no change, no event; a site removed, no event', () => {
    const site = newSite({ resellerId: 'r', siteId: 's', nodeIds: ['node-a', 'node-b'] });
    expect(eventsOf(site, site, settings)).toEqual([]);
    expect(eventsOf(site, undefined, settings)).toEqual([]);
  });
});

describe('properties over random request sequences', () => {
  const stepArb = fc.record({
    node: fc.constantFrom<'a' | 'b'>('a', 'b'),
    kind: fc.constantFrom<'heartbeat' | 'claim'>('heartbeat', 'claim'),
    advanceMs: fc.integer({ min: 0, max: 20_000 }),
    role: fc.constantFrom<'primary' | 'secondary'>('primary', 'secondary'),
    peer: fc.boolean(),
    ack: fc.boolean(),
    // The silence detector looks now and then; long advances let sites fall silent.
    detect: fc.boolean(),
    silentMs: fc.constantFrom(0, 0, 0, settings.silenceMs, 2 * settings.silenceMs),
  });

  test('every grant is told once, with the epoch it made; a site is down once per silence; every event is valid; the same change always tells the same', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 30 }), (steps) => {
        const r = new Recorder();
        let at = t0;
        const epochs: number[] = [];
        for (const s of steps) {
          at += s.advanceMs;
          const epoch = r.witness.state.epoch;
          const before = r.witness.state;
          if (s.kind === 'claim') r.claim(s.node, at, epoch);
          else r.heartbeat(s.node, at, epoch, s.role, s.peer, s.ack ? { acks: [`${epoch}-promote-node-${s.node}`] } : {});
          if (r.witness.state.epoch > before.epoch) epochs.push(r.witness.state.epoch);
          if (s.detect) {
            at += s.silentMs;
            const silent = isSilent(r.witness.state, at, settings);
            const seen = r.events.length;
            r.detect(at);
            // A site is marked exactly when it is silent.
            expect(r.events.slice(seen).map((e) => e.type)).toEqual(silent ? ['site.down'] : []);
          }
          // Deterministic: the publisher may see a change twice and must say the same.
          expect(eventsOf(before, r.witness.state, settings)).toEqual(eventsOf(before, r.witness.state, settings));
        }
        const grants = r.events.filter((e) => e.type === 'failover.granted').map((e) => e.data.epoch);
        expect(grants).toEqual(epochs);
        // Down and recovered alternate, down first.
        const silences = r.events.filter((e) => e.type === 'site.down' || e.type === 'site.recovered').map((e) => e.type);
        silences.forEach((type, i) => {
          expect(type).toBe(i % 2 === 0 ? 'site.down' : 'site.recovered');
        });
        const ids = r.events.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});
