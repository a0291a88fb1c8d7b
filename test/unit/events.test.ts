import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { WitnessEvent } from '../../protocol/events.ts';
import { WitnessEvent as EventSchema } from '../../protocol/events.ts';
import { eventsOf } from '../../functions/domain/events.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
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
}

describe('the events of a change', () => {
  test('a failover, told as it happened: granted, completed, the peer lost, granted to the other, completed', () => {
    const r = new Recorder();
    r.heartbeat('a', t0, 0, 'secondary', true);
    r.heartbeat('b', t0 + 100, 0, 'secondary', true);
    r.claim('a', t0 + 200, 0);
    r.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
    // node-a dies after its renewal at t0 + 1 s (lease to t0 + 16 s); node-b notices at t0 + 20 s.
    r.heartbeat('b', t0 + 20_000, 1, 'secondary', false);
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
  });

  test('every grant is told once, with the epoch it made; every event is valid; the same change always tells the same', () => {
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
          // Deterministic: the publisher may see a change twice and must say the same.
          expect(eventsOf(before, r.witness.state, settings)).toEqual(eventsOf(before, r.witness.state, settings));
        }
        const grants = r.events.filter((e) => e.type === 'failover.granted').map((e) => e.data.epoch);
        expect(grants).toEqual(epochs);
        const ids = r.events.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const e of r.events) expect(EventSchema.safeParse(e).success).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});
