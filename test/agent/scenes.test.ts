/**
 * Hand-written schedules through the simulation: the scenes of `bin/demo.ts` on virtual time,
 * with every rule checked at every step, and the one schedule that reached a bug.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { scheduleArb } from './schedules.ts';
import {
  boundsProblems,
  type Fault,
  type LinkQuality,
  profiles,
  type Schedule,
  type SimResult,
  simulate,
  witnessSettings,
} from './simulation.ts';

const calm: LinkQuality = { minMs: 2, maxMs: 20, slow: 0, slowMaxMs: 20, drop: 0, duplicate: 0 };

function scene(faults: Fault[], over: Partial<Schedule> = {}): Schedule {
  return {
    profile: 'demo',
    seed: 1,
    clocks: { 'node-a': { offset: 1_000_000, rate: 1 }, 'node-b': { offset: 5_000_000, rate: 1 } },
    // node-a starts first and wins: the scenes know who the first primary is. (The start-up
    // window of the demo's witness, 2000 ms, closes before a starting agent may claim, a peer
    // lease and its margin after it starts: the preferred node would not matter.)
    startMs: { 'node-a': 0, 'node-b': 500 },
    policy: 'prefer-a',
    witnessJitterMs: 0,
    requestTimeoutMs: 800,
    witnessLink: calm,
    peerLink: calm,
    hooks: { promoteMs: [30, 60], demoteMs: [30, 60], promoteFailure: 0, demoteFailure: 0 },
    faults,
    healAtMs: 40_000,
    tailMs: 10_000,
    ...over,
  };
}

function run(schedule: Schedule): SimResult {
  const result = simulate(schedule);
  if (result.violation !== null) throw new Error(`${result.violation}\n${simulate(schedule, { trace: true }).trace.slice(-30).join('\n')}`);
  return result;
}

/** The demo's failover target: one witness lease, its skew margin and one fast heartbeat. */
const failoverTargetMs = witnessSettings.leaseMs + witnessSettings.skewMarginMs + witnessSettings.fastHeartbeatMs;

describe('the scenes of the demo, on virtual time', () => {
  test('start: node-a, up first, becomes the one primary; node-b follows its epoch', () => {
    const result = run(scene([]));
    expect(result.intervals.map((i) => [i.node, i.epoch])).toEqual([['node-a', 1]]);
    expect(result.intervals[0]!.from).toBeLessThan(3_000);
    expect(result.final['node-b']).toMatchObject({ role: 'secondary', epoch: 1 });
  });

  test('the primary is killed: the other promotes within a witness lease, its skew and one fast heartbeat', () => {
    const killedAt = 10_000;
    const result = run(scene([{ kind: 'crash', node: 'node-a', atMs: killedAt, downMs: 60_000, clockOffset: 0 }]));
    const [first, second] = result.intervals;
    expect(first).toMatchObject({ node: 'node-a', epoch: 1, to: killedAt });
    expect(second).toMatchObject({ node: 'node-b', epoch: 2 });
    expect(second!.from - killedAt).toBeLessThanOrEqual(failoverTargetMs);
  });

  test('the old primary comes back: it stays secondary and learns the new epoch', () => {
    const result = run(scene([{ kind: 'crash', node: 'node-a', atMs: 10_000, downMs: 5_000, clockOffset: 42 }]));
    expect(result.intervals.map((i) => [i.node, i.epoch])).toEqual([
      ['node-a', 1],
      ['node-b', 2],
    ]);
    expect(result.final['node-a']).toMatchObject({ role: 'secondary', epoch: 2, incarnation: 2 });
  });

  test('the link between the agents is cut while both reach the witness: the primary keeps its role', () => {
    const result = run(scene([{ kind: 'cut', link: 'peer', direction: 'both', atMs: 10_000, forMs: 3 * witnessSettings.leaseMs }]));
    expect(result.intervals.map((i) => [i.node, i.epoch])).toEqual([['node-a', 1]]);
    expect(result.claims).toBeGreaterThan(2); // node-b asked, and was refused while node-a held the lease
  });

  test('the primary loses the witness and its peer: it fences before the other promotes', () => {
    const isolatedAt = 10_000;
    const result = run(
      scene([
        { kind: 'cut', link: 'witness-a', direction: 'both', atMs: isolatedAt, forMs: 10_000 },
        { kind: 'cut', link: 'peer', direction: 'both', atMs: isolatedAt, forMs: 10_000 },
      ]),
    );
    const [first, second] = result.intervals;
    expect(first).toMatchObject({ node: 'node-a', epoch: 1 });
    expect(second).toMatchObject({ node: 'node-b', epoch: 2 });
    expect(first!.to).toBeLessThan(second!.from);
    expect(second!.from - isolatedAt).toBeLessThanOrEqual(failoverTargetMs + 1_000);
  });
});

describe('survivor mode (W5, A5), on virtual time', () => {
  const long = { healAtMs: 90_000, tailMs: 20_000 };
  const diedAt = 10_000;

  test('the secondary dies; the survivor loses the witness for three leases and keeps running; the dead node returns as secondary and is readmitted once the survivor acknowledges', () => {
    const cutAt = 25_000;
    const returnAt = 55_000;
    const schedule = scene(
      [
        { kind: 'crash', node: 'node-b', atMs: diedAt, downMs: returnAt - diedAt, clockOffset: 42 },
        { kind: 'cut', link: 'witness-a', direction: 'both', atMs: cutAt, forMs: 3 * witnessSettings.leaseMs },
      ],
      long,
    );
    const result = run(schedule);
    // node-a runs from its start to the end: no demote hook, through the cut and the return.
    expect(result.intervals.map((i) => [i.node, i.epoch, i.to])).toEqual([['node-a', 1, result.endMs]]);
    expect(result.stats['demote: leases run out: self-fence']).toBeUndefined();
    expect(result.stats['survivor ran on past a witness lease with no answer']).toBe(1);
    expect(result.survivorOutageMs).toBe(0);
    expect(result.final['node-a']).toMatchObject({ role: 'primary', standalone: false, epoch: 1 });
    expect(result.final['node-b']).toMatchObject({ role: 'secondary', excluded: false, epoch: 1, incarnation: 2 });

    const { trace } = simulate(schedule, { trace: true });
    const at = (line: string) => Number(line.trim().split(' ')[0]);
    const witnessLines = trace.filter((l) => l.includes('witness ← node-a heartbeat'));
    const excluded = witnessLines.find((l) => l.includes('excluded=node-b'))!;
    // The witness excludes node-b once unheard for its slow cadence and the exclusion time (it may
    // have died just after a heartbeat), at node-a's next heartbeat.
    expect(at(excluded) - diedAt).toBeGreaterThan(witnessSettings.exclusionMs);
    expect(at(excluded) - diedAt).toBeLessThan(
      witnessSettings.slowHeartbeatMs + witnessSettings.exclusionMs + witnessSettings.fastHeartbeatMs,
    );
    expect(at(excluded)).toBeLessThan(cutAt);
    // node-b, back, learns it is excluded and claims nothing; it grants node-a peer leases.
    expect(trace.some((l) => l.includes('node-b ← heartbeat') && l.includes('"excluded":true'))).toBe(true);
    expect(trace.some((l) => l.includes('node-b') && l.includes('CLAIM'))).toBe(false);
    // The command that ends the standalone lease, then its acknowledgement, then the readmission.
    const ending = trace.findIndex((l) => l.includes('node-a ← heartbeat') && l.includes('end-standalone@1'));
    const ack = trace.findIndex(
      (l) => l.includes('witness ← node-a heartbeat') && at(l) >= at(trace[ending]!) && !l.includes('excluded=node-b'),
    );
    const readmitted = witnessLines.findLast((l) => l.includes('excluded=node-b'))!;
    expect(ending).toBeGreaterThan(0);
    expect(at(trace[ending]!)).toBeGreaterThan(returnAt);
    expect(trace[ending]).toMatch(/heartbeat #\d+ \(primary e1, peer up, acks [^)]*end-standalone/);
    expect(at(readmitted)).toBeLessThan(at(trace[ack]!));
    expect(at(trace[ack]!) - returnAt).toBeLessThan(2 * witnessSettings.slowHeartbeatMs);
  });

  test('the survivor dies too: nothing promotes by itself; the operator, once the witness allows, forces the excluded node back', () => {
    const survivorDiesAt = 30_000;
    const forceAt = 50_000;
    const result = run(
      scene(
        [
          { kind: 'crash', node: 'node-b', atMs: diedAt, downMs: 30_000, clockOffset: 42 },
          { kind: 'crash', node: 'node-a', atMs: survivorDiesAt, downMs: 50_000, clockOffset: 7 },
          { kind: 'force', atMs: forceAt },
        ],
        long,
      ),
    );
    const [first, second] = result.intervals;
    expect(first).toMatchObject({ node: 'node-a', epoch: 1, to: survivorDiesAt });
    // node-b is back at 40 s, excluded: it waits for the operator, and promotes on its own claim after the force.
    expect(second).toMatchObject({ node: 'node-b', epoch: 2 });
    expect(second!.from).toBeGreaterThan(forceAt);
    expect(result.intervals).toHaveLength(2);
    expect(result.stats['operator forced failover']).toBe(1);
    expect(result.final['node-a']).toMatchObject({ role: 'secondary', epoch: 2 });
  });
});

describe('a grant that arrives after a newer epoch', () => {
  // node-b's clock runs 30 % slow (far outside the drift margin's 5 %): the lease arithmetic
  // cannot tell that its epoch-2 grant, 3.5 s late, is out of date. node-a has meanwhile won
  // epoch 3, promoted and said so. Only the epoch can stop node-b: it must not promote.
  const lateGrant = scene(
    [
      { kind: 'cut', link: 'peer', direction: 'both', atMs: 10_000, forMs: 9_070 },
      { kind: 'cut', link: 'witness-a', direction: 'both', atMs: 12_000, forMs: 4_000 },
      { kind: 'slow', link: 'witness-b', direction: 'back', atMs: 15_600, forMs: 300, extraMs: 3_460 },
    ],
    {
      clocks: { 'node-a': { offset: 0, rate: 1 }, 'node-b': { offset: 0, rate: 0.7 } },
      startMs: { 'node-a': 0, 'node-b': 0 },
      requestTimeoutMs: 4_000,
      witnessLink: { ...calm, minMs: 5, maxMs: 10 },
      peerLink: { ...calm, minMs: 5, maxMs: 10 },
      hooks: { promoteMs: [50, 50], demoteMs: [50, 50], promoteFailure: 0, demoteFailure: 0 },
    },
  );

  test('is out of date: the node promotes on no epoch it did not win', () => {
    const result = simulate(lateGrant, { groundTruth: false });
    expect(result.violation).toBeNull();
    expect(result.stats['out of bounds: SPLIT BRAIN'] ?? 0).toBe(0);
    expect(result.intervals.filter((i) => i.epoch === 3).map((i) => i.node)).toEqual(['node-a']);
  });

  test('reaches that path: node-b hears of epoch 3 before its grant for epoch 2 arrives', () => {
    const { trace } = simulate(lateGrant, { groundTruth: false, trace: true });
    const heard = trace.findIndex((line) => line.includes('node-b ← hello') && line.includes('"epoch":3'));
    const grant = trace.findIndex((line) => line.includes('node-b ← claim') && line.includes('"granted":true,"epoch":2'));
    expect(heard).toBeGreaterThan(0);
    expect(grant).toBeGreaterThan(heard);
    expect(trace[grant]).not.toContain('PROMOTE');
  });
});

describe('the simulation itself', () => {
  test('each profile’s environment keeps the bounds its margins allow', () => {
    for (const [name, profile] of Object.entries(profiles)) expect([name, boundsProblems(profile)]).toEqual([name, []]);
  });

  test('is deterministic: a schedule always runs the same way', () => {
    for (const schedule of fc.sample(scheduleArb({ demoteFailure: fc.constantFrom(0, 0.3) }), { numRuns: 20, seed: 11 })) {
      const [first, second] = [simulate(schedule, { trace: true }), simulate(schedule, { trace: true })];
      expect(second.trace).toEqual(first.trace);
      expect(second.intervals).toEqual(first.intervals);
    }
  });
});
