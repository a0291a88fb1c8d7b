/**
 * A1–A4 on the pure agent core (DESIGN.md, "Testing the contract"): random fault schedules run
 * through the discrete-event simulation of `simulation.ts` (two agents on drifting clocks, the
 * pure witness rules, lossy and duplicating links, partitions, crashes, restarts, shutdowns, slow
 * and failing hooks), every step of each agent checked against the rules, and the ground truth
 * (when each node's workloads may run) checked for overlaps.
 *
 * Survivor mode (W5, A5): schedules with survivor episodes (a node dead for several exclusion
 * times, the survivor then cut off from the witness for several leases, the dead node's return,
 * sometimes the survivor's own death and an operator's forced failover) check, besides the above,
 * that a survivor told its lease is standalone never stops its workloads while the witness holds
 * that lease (`survivorOutageMs` = 0).
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
          expect(result.survivorOutageMs).toBe(0);
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
        fc.property(
          scheduleArb({ demoteFailure: fc.constantFrom(0, 0.1), drift: 0.3, promoteMaxMs: 3_000, demoteMaxMs: 3_000 }),
          (schedule) => {
            seen.add(run(schedule, { groundTruth: false }));
          },
        ),
        { numRuns: 1_500, seed: seed + 2 },
      );
      // The bounds matter: outside them, the ground truth does break.
      expect(seen.runs['out of bounds: SPLIT BRAIN']).toBeGreaterThan(0);
    },
  );
});

/** What the survivor-mode runs of one property reached, summed: printed, and checked to be reached. */
function survivorTally() {
  const seen = tally();
  const totals = { runs: 0, survivorOutageMs: 0, excusedSurvivorOutageMs: 0, pendingEndOutageMs: 0, splitBrain: 0 };
  return {
    runs: seen.runs,
    totals,
    add: (result: SimResult) => {
      seen.add(result);
      totals.runs++;
      totals.survivorOutageMs += result.survivorOutageMs;
      totals.excusedSurvivorOutageMs += result.excusedSurvivorOutageMs;
      totals.pendingEndOutageMs += result.pendingEndOutageMs;
      if (result.violation?.startsWith('SPLIT BRAIN')) totals.splitBrain++;
    },
    print: (name: string) => {
      const r = (kind: string) => seen.runs[kind] ?? 0;
      console.log(
        `survivor mode, ${name}: ${totals.runs} runs; a node excluded in ${r('witness excluded a node')}, a survivor ran on past a witness lease with no answer in ${r(
          'survivor ran on past a witness lease with no answer',
        )}, readmitted in ${r('witness readmitted a node')}, operator force in ${r(
          'operator forced failover',
        )}, claims refused as excluded in ${r('claim refused: excluded')}; split brain ${totals.splitBrain}; survivor outage ${Math.round(
          totals.survivorOutageMs,
        )} ms; apart: after failed promote hooks ${Math.round(totals.excusedSurvivorOutageMs)} ms in ${r(
          'excused: survivor outage, promote hook failed',
        )} runs, after an ordinary grant while the end was pending (the witness's gap) ${Math.round(totals.pendingEndOutageMs)} ms in ${r(
          'survivor outage after an ordinary grant while the end was pending (witness gap)',
        )} runs`,
      );
    },
  };
}

describe('survivor mode (W5, A5) in a simulated site', () => {
  // With bounded standalone leases, an exclusion lapses soon after the survivor dies: an operator
  // rarely finds one to force (and needs none: the other node takes over by itself).
  for (const [profile, numRuns, why, forced] of [
    ['demo', 1_500, 'leases without end', 0.03],
    ['bounded', 600, 'standalone leases bounded to 2 × leaseMs', 0],
    ['shortest', 200, 'the shortest timings', 0.03],
    ['default', 100, 'the default timings', 0.03],
  ] as const) {
    test(
      `with ${why}: a survivor told its lease is standalone never stops its workloads while the witness holds it, no two nodes run workloads at once, and one primary runs soon after the heal`,
      { timeout: long },
      () => {
        const seen = survivorTally();
        fc.assert(
          fc.property(scheduleArb({ profile, demoteFailure: fc.constant(0), survivorEpisodes: 2, alwaysSurvivor: true }), (schedule) => {
            const result = run(schedule);
            seen.add(result);
            expect(result.excusedOverlaps + result.excusedA1).toBe(0);
            expect(result.survivorOutageMs).toBe(0);
            // A claim from the survivor readmits its peer while an end is pending (claim.ts): no gap.
            expect(result.pendingEndOutageMs).toBe(0);
            expectOnePrimary(schedule, result);
          }),
          { numRuns, seed: seed + 10 },
        );
        seen.print(profile);
        // The schedules reach what survivor mode is about.
        const reached = (kind: string) => (seen.runs[kind] ?? 0) / numRuns;
        expect(reached('witness excluded a node')).toBeGreaterThan(0.9);
        expect(reached('survivor ran on past a witness lease with no answer')).toBeGreaterThan(0.5);
        expect(reached('witness readmitted a node')).toBeGreaterThan(0.5);
        if (forced > 0) expect(reached('operator forced failover')).toBeGreaterThan(forced);
      },
    );
  }
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

/** The survivor-mode checks, against cores broken in survivor mode. */
describe('the survivor-mode checks catch a broken core', () => {
  const episodes = (profile: 'demo' | 'bounded' = 'demo') =>
    fc.sample(scheduleArb({ profile, demoteFailure: fc.constant(0), survivorEpisodes: 1, alwaysSurvivor: true }), { numRuns: 60, seed });

  test(
    'a core deaf to `standalone` (it fences when the ordinary lease ends) stops the survivor: the outage measure sees it',
    { timeout: long },
    () => {
      const deaf: Core = {
        initialAgentState,
        step: (state, input, now) =>
          step(
            state,
            input.type === 'witness-heartbeat-ok' || (input.type === 'witness-claim-ok' && input.body.granted)
              ? ({ ...input, body: { ...input.body, standalone: null } } as AgentInput)
              : input,
            now,
          ),
      };
      const results = episodes().map((schedule) => simulate(schedule, { core: deaf }));
      expect(results.filter((r) => r.survivorOutageMs > 0).length).toBeGreaterThan(30);
      // It breaks no other rule: stopping is safe, only not what survivor mode promises.
      expect(results.filter((r) => r.violation !== null)).toEqual([]);
    },
  );

  // Keeps its lease without end through `end-standalone` (and acknowledges it all the same).
  const deafToTheEnd: Core = {
    initialAgentState,
    step: (state, input, now) => {
      const next = step(state, input, now);
      if (state.standalone && state.witnessLeaseEnd === Infinity && !next.state.standalone && input.type === 'witness-heartbeat-ok') {
        return { ...next, state: { ...next.state, standalone: true, witnessLeaseEnd: Infinity } };
      }
      return next;
    },
  };

  test('a core that keeps its lease without end after `end-standalone` is caught at its next answer (A5)', { timeout: long }, () => {
    const violations = episodes()
      .map((schedule) => simulate(schedule, { core: deafToTheEnd }).violation)
      .filter((v) => v !== null);
    expect(violations.length).toBeGreaterThan(30);
    expect(violations.every((v) => v.startsWith('A5 (standalone lease)'))).toBe(true);
  });

  test(
    'without the agent checks, the ground truth catches it too: the readmitted node takes over beside the old survivor (split brain)',
    { timeout: long },
    () => {
      const violations = episodes()
        .map((schedule) => simulate(schedule, { core: deafToTheEnd, agentChecks: false }).violation)
        .filter((v) => v !== null);
      expect(violations.length).toBeGreaterThan(5);
      expect(violations.every((v) => v.startsWith('SPLIT BRAIN'))).toBe(true);
    },
  );

  test('a core deaf to `excluded` claims in vain: the witness refuses it every time, and nothing breaks', { timeout: long }, () => {
    const deaf: Core = {
      initialAgentState,
      step: (state, input, now) => {
        const next = step({ ...state, excluded: false }, input, now);
        return { ...next, state: { ...next.state, excluded: false } };
      },
    };
    const refusals = (core?: Core) =>
      episodes().reduce((sum, schedule) => {
        const result = simulate(schedule, core ? { core } : {});
        expect(result.violation).toBeNull();
        expect(result.survivorOutageMs).toBe(0);
        return sum + (result.stats['claim refused: excluded'] ?? 0);
      }, 0);
    const [real, broken] = [refusals(), refusals(deaf)];
    expect(broken).toBeGreaterThan(5 * Math.max(real, 1));
  });

  test('a flat drift margin on a bounded standalone lease makes the node outlive the witness’s count (A2)', { timeout: long }, () => {
    // The margin the brief first asked for: `sentAt + leaseMs − driftMarginMs`, whatever the length.
    const flat: Core = {
      initialAgentState,
      step: (state, input, now) => {
        const next = step(state, input, now);
        const standalone =
          input.type === 'witness-heartbeat-ok'
            ? input.body.standalone
            : input.type === 'witness-claim-ok' && input.body.granted
              ? input.body.standalone
              : null;
        const bound = standalone?.leaseMs;
        const sentAt = state.witnessInflight?.sentAt;
        if (typeof bound === 'number' && sentAt !== undefined && next.state.standalone) {
          return { ...next, state: { ...next.state, witnessLeaseEnd: sentAt + bound - state.timings.driftMarginMs } };
        }
        return next;
      },
    };
    const violations = fc
      .sample(scheduleArb({ profile: 'bounded', demoteFailure: fc.constant(0), survivorEpisodes: 1, alwaysSurvivor: true }), {
        numRuns: 400,
        seed,
      })
      .map((schedule) => simulate(schedule, { core: flat, agentChecks: false }).violation)
      .filter((v) => v !== null);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.every((v) => v.startsWith('A2 (witness lease)'))).toBe(true);
  });
});

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
