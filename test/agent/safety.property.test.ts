/**
 * A1–A4 on the pure agent core (DESIGN.md, "Testing the contract"): random fault schedules run
 * through the discrete-event simulation of `simulation.ts` (two agents on drifting clocks, the
 * pure witness rules, lossy and duplicating links, partitions, crashes, restarts, shutdowns, slow
 * and failing hooks), every step of each agent checked against the rules, and the ground truth
 * (when each node's workloads may run) checked for overlaps.
 *
 * Schedules are plain data; a failure shrinks to a short list of faults, and its message carries
 * the rule broken and the end of the run's trace. The seed is fixed: every run is the same run.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { AgentInput } from '../../agent/core/messages.ts';
import { initialAgentState } from '../../agent/core/state.ts';
import { step } from '../../agent/core/step.ts';
import { livenessBoundMs, scheduleArb } from './schedules.ts';
import { type Core, profiles, type Schedule, type SimOptions, type SimResult, simulate } from './simulation.ts';

const seed = 0x7eb4eac;

/** Runs a schedule; on a violation, throws with the rule broken and the end of the trace. */
function run(schedule: Schedule, options: SimOptions = {}): SimResult {
  const result = simulate(schedule, options);
  if (result.violation !== null) {
    const { trace } = simulate(schedule, { ...options, trace: true });
    throw new Error(`${result.violation}\n--- the last steps (real ms, node, input → role; actions):\n${trace.slice(-40).join('\n')}`);
  }
  return result;
}

/** After the faults heal, exactly one node runs as primary within the bound, and keeps doing so to the end. */
function expectOnePrimary(schedule: Schedule, result: SimResult): void {
  if (result.orphaned) return; // workloads left running by an agent that exited after its demote hook failed
  const from = result.stablePrimaryFrom;
  const bound = livenessBoundMs(profiles[schedule.profile]);
  if (from === null || from > schedule.healAtMs + bound) {
    const { trace } = simulate(schedule, { trace: true });
    throw new Error(
      `no single primary ${bound} ms after the faults healed at ${schedule.healAtMs} ms (stable from ${String(from)}, ${String(result.stablePrimary)})\n${trace.slice(-40).join('\n')}`,
    );
  }
}

/** What the schedules of one property reached, by kind (`SimResult.stats`), over all its runs. */
function tally(): { add: (result: SimResult) => void; runs: Record<string, number> } {
  const runs: Record<string, number> = {};
  return {
    runs,
    add: (result) => {
      for (const kind of Object.keys(result.stats)) runs[kind] = (runs[kind] ?? 0) + 1;
      if (result.intervals.some((i) => i.epoch >= 2)) runs.failover = (runs.failover ?? 0) + 1;
    },
  };
}

const long = 180_000;

describe('the agent core in a simulated site', () => {
  test(
    'no two nodes run workloads at once, every step keeps A1–A4, and one primary runs soon after the faults heal',
    { timeout: long },
    () => {
      const seen = tally();
      fc.assert(
        fc.property(scheduleArb({ demoteFailure: fc.constant(0) }), (schedule) => {
          const result = run(schedule);
          seen.add(result);
          expect(result.excusedOverlaps + result.excusedA1).toBe(0);
          expectOnePrimary(schedule, result);
        }),
        { numRuns: 8_000, seed },
      );
      // The schedules reach what the rules are about: failovers, self-fences, refused and retried claims.
      expect(seen.runs.failover).toBeGreaterThan(500);
      expect(seen.runs['demote: leases run out: self-fence']).toBeGreaterThan(500);
    },
  );

  test(
    'with demote hooks that fail, workloads overlap only where a failed demote left them running past the lease',
    { timeout: long },
    () => {
      // The agent can only retry a failed demote (hookRetryMs later), and beyond the lease end its
      // workloads run on nothing: that is the watchdog's case (`agent/io/watchdog.ts`). Every other
      // way to two primaries is still a failure.
      const seen = tally();
      fc.assert(
        fc.property(scheduleArb({ demoteFailure: fc.constantFrom(0.1, 0.3, 0.6) }), (schedule) => {
          const result = run(schedule);
          seen.add(result);
          expectOnePrimary(schedule, result);
        }),
        { numRuns: 2_500, seed: seed + 1 },
      );
      expect(seen.runs['demote hook failed']).toBeGreaterThan(200);
      expect(seen.runs['excused: overlap']).toBeGreaterThan(0);
    },
  );

  for (const [profile, numRuns] of [
    ['shortest', 1_000],
    ['default', 250],
  ] as const) {
    test(`with the ${profile} timings too: no overlap, A1–A4 at every step, one primary after the heal`, { timeout: long }, () => {
      fc.assert(
        fc.property(scheduleArb({ profile, demoteFailure: fc.constantFrom(0, 0, 0.3) }), (schedule) => {
          expectOnePrimary(schedule, run(schedule));
        }),
        { numRuns, seed: seed + 3 },
      );
    });
  }

  test(
    'out of bounds (clocks drifting by up to 30 %, hooks of up to 3 s), every agent still keeps the rules it keeps alone',
    { timeout: long },
    () => {
      // What each core guarantees by itself (A1 on its own lease belief, A2's arithmetic, A3's
      // claim and grant discipline, A4's epochs) must not depend on the environment keeping its
      // bounds. Overlaps and leases outliving their voters' commitments are expected here, and
      // only counted.
      const seen = tally();
      fc.assert(
        fc.property(scheduleArb({ demoteFailure: fc.constantFrom(0, 0.1), drift: 0.3, promoteMaxMs: 3_000, demoteMaxMs: 3_000 }), (schedule) => {
          seen.add(run(schedule, { groundTruth: false }));
        }),
        { numRuns: 1_500, seed: seed + 2 },
      );
      // The bounds matter: outside them, the ground truth does break.
      expect(seen.runs['out of bounds: SPLIT BRAIN']).toBeGreaterThan(0);
    },
  );
});

/** Cores with one rule broken, each by a small change: the checks must catch every one. */
const broken: { name: string; rule: RegExp; outOfBounds?: boolean; core: Core }[] = [
  {
    name: 'a primary that counts its peer lease from the reply, not from the hello',
    rule: /^A2/,
    core: {
      initialAgentState,
      step: (state, input, now) => {
        const next = step(state, input, now);
        if (input.type === 'peer-reply' && next.state.peerLeaseEnd > state.peerLeaseEnd && input.reply.leaseMs !== null) {
          next.state.peerLeaseEnd = now + input.reply.leaseMs - state.timings.driftMarginMs;
        }
        return next;
      },
    },
  },
  {
    name: 'a core with no drift margin',
    rule: /^A2|^A3|^SPLIT/,
    core: {
      initialAgentState,
      step: (state, input, now) => {
        const next = step({ ...state, timings: { ...state.timings, driftMarginMs: 0 } }, input, now);
        return { ...next, state: { ...next.state, timings: state.timings } };
      },
    },
  },
  {
    name: 'a secondary that keeps granting peer leases after deciding to claim',
    rule: /^A3/,
    core: {
      initialAgentState,
      step: (state, input, now) => step(input.type === 'peer-hello' ? { ...state, claiming: false } : state, input, now),
    },
  },
  {
    name: 'a restarted node that does not wait one peer lease',
    rule: /^A3/,
    core: { step, initialAgentState: (...args) => ({ ...initialAgentState(...args), grantedUntil: 0 }) },
  },
  {
    name: 'a primary that fences only when its lease has ended',
    rule: /^A1/,
    core: {
      initialAgentState,
      step: (state, input, now) => {
        const next = step({ ...state, timings: { ...state.timings, fenceLeadMs: 0 } }, input, now);
        return { ...next, state: { ...next.state, timings: state.timings } };
      },
    },
  },
  {
    name: 'a primary deaf to the epochs its peer reports',
    rule: /^A4/,
    outOfBounds: true,
    core: {
      initialAgentState,
      step: (state, input, now) => {
        const deaf: AgentInput =
          input.type === 'peer-hello'
            ? { ...input, hello: { ...input.hello, epoch: Math.min(input.hello.epoch, state.epoch) } }
            : input.type === 'peer-reply'
              ? { ...input, reply: { ...input.reply, epoch: Math.min(input.reply.epoch, state.epoch) } }
              : input;
        return step(state, deaf, now);
      },
    },
  },
];

describe('the checks catch a broken core', () => {
  for (const { name, rule, core, outOfBounds } of broken) {
    test(name, { timeout: long }, () => {
      const arb = outOfBounds
        ? scheduleArb({ demoteFailure: fc.constant(0.1), drift: 0.3, promoteMaxMs: 3_000, demoteMaxMs: 3_000 })
        : scheduleArb({ demoteFailure: fc.constant(0) });
      const violations = fc
        .sample(arb, { numRuns: outOfBounds ? 400 : 60, seed })
        .map((schedule) => simulate(schedule, { core, groundTruth: !outOfBounds }).violation)
        .filter((v) => v !== null);
      expect(violations.length).toBeGreaterThan(0);
      expect(violations.some((v) => rule.test(v))).toBe(true);
    });
  }
});
