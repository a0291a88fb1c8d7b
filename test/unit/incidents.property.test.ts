/**
 * Incidents as properties (DESIGN.md, "Incidents and escalation"): random scripts of condition
 * changes (late, duplicated, inside maintenance windows) interleaved with escalation and settle
 * timers and people acknowledging and resolving, all through the pure rules of
 * `functions/domain/incidents.ts`, and the incident events `incident-events.ts` derives from each
 * write. Steps are plain data, so a failure shrinks to a short script.
 *
 * Time is one clock that only moves forward: a change is heard at or after it happened (`lag`),
 * never before, and a person or a timer acts at the clock's time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { incidentEventsOf } from '../../functions/domain/incident-events.ts';
import {
  acknowledge,
  activeSubjects,
  applyChange,
  type ChangeOutcome,
  type ConditionChange,
  conditionChangesOf,
  escalate,
  type IncidentRecord,
  type IncidentSettings,
  kindOfIncidentId,
  resolve,
  settle,
  stepCount,
  stepDueAt,
  stepLevel,
  stepTargets,
  timersFor,
  type Tracker,
} from '../../functions/domain/incidents.ts';
import { type EventType, StoredEvent, WitnessEvent } from '../../protocol/events.ts';
import type { IncidentKind } from '../../protocol/incidents.ts';
import { EscalationPolicy, type EscalationTarget } from '../../protocol/reseller.ts';

const numRuns = 500;
const site = { resellerId: 'reseller-1', siteId: 'site-1' };
const settings: IncidentSettings = { settleMs: 120_000 };
/** 2025-11-29T10:00:00Z: event times are real epoch milliseconds, so events carry real timestamps. */
const t0 = 1_764_410_400_000;

const kinds: readonly IncidentKind[] = ['node.lost', 'site.down', 'link.lost', 'node.degraded', 'command.unacknowledged'];
const subjects = ['node-a', 'node-b', 'node-c'] as const;
type Subject = (typeof subjects)[number];

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const kindArb = fc.constantFrom(...kinds);
const subjectArb = fc.constantFrom(...subjects);

/** Few distinct targets, so levels name the same one often: the union must deduplicate. */
const targetArb: fc.Arbitrary<EscalationTarget> = fc.oneof(
  fc.constant({ type: 'service-queue' as const }),
  fc.constantFrom('ops@example.com', 'lead@example.com').map((address) => ({ type: 'email' as const, address })),
  fc.constantFrom('+14155550100', '+14155550101').map((phoneNumber) => ({ type: 'sms' as const, phoneNumber })),
  fc.constantFrom('hook-1', 'hook-2').map((endpointId) => ({ type: 'webhook' as const, endpointId })),
);

/** A valid policy: 1–4 levels with rising afterMs, the last repeated 0–3 times, every ≥ 1 minute. Parsed, so it is one the API would store. */
const policyArb: fc.Arbitrary<EscalationPolicy> = fc
  .record({
    firstAfterMs: fc.integer({ min: 0, max: 600_000 }),
    levels: fc.array(
      fc.record({ gapMs: fc.integer({ min: 1, max: 900_000 }), targets: fc.array(targetArb, { minLength: 1, maxLength: 3 }) }),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
    times: fc.integer({ min: 0, max: 3 }),
    everyMs: fc.integer({ min: 60_000, max: 3_600_000 }),
  })
  .map(({ firstAfterMs, levels, times, everyMs }) => {
    let afterMs = firstAfterMs;
    const built = levels.map((level, i) => {
      if (i > 0) afterMs += level.gapMs;
      return { afterMs, targets: level.targets };
    });
    return EscalationPolicy.parse({ levels: built, repeatLast: { times, everyMs } });
  });

type Step =
  /** A condition change heard now, having happened `lagMs` ago (late news arrives out of order). */
  | { do: 'change'; subject: Subject; phase: 'raised' | 'cleared'; lagMs: number; inMaintenance: boolean }
  /** One of the changes heard before, heard again verbatim (`back: 0` is the last one): at-least-once delivery. */
  | { do: 'repeat'; back: number }
  /** The escalation timer for the next step (+ offset), fired at its due time (`wait`) or now; `stale`: for the last incident resolved. */
  | { do: 'escalate'; offset: -1 | 0 | 1; wait: boolean; stale: boolean }
  | { do: 'settle'; wait: boolean; stale: boolean }
  | { do: 'acknowledge'; stale: boolean }
  | { do: 'resolve'; stale: boolean }
  | { do: 'advance'; ms: number };

/** Timers mostly fire when due and for the incident they were armed for: otherwise few incidents get far. */
const often = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const seldom = often.map((b) => !b);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      do: fc.constant('change' as const),
      subject: subjectArb,
      phase: fc.constantFrom('raised' as const, 'cleared' as const),
      lagMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600_000 })),
      inMaintenance: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ do: fc.constant('repeat' as const), back: fc.nat({ max: 5 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      do: fc.constant('escalate' as const),
      offset: fc.oneof(
        { weight: 4, arbitrary: fc.constant(0 as const) },
        { weight: 1, arbitrary: fc.constantFrom(-1 as const, 1 as const) },
      ),
      wait: often,
      stale: seldom,
    }),
  },
  { weight: 3, arbitrary: fc.record({ do: fc.constant('settle' as const), wait: often, stale: seldom }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('acknowledge' as const), stale: seldom }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('resolve' as const), stale: seldom }) },
  { weight: 2, arbitrary: fc.record({ do: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 900_000 }) }) },
);

/** A script over 1–3 subjects: with fewer, every subject is clear (recovery) more often. */
const scriptArb = fc
  .record({
    kind: kindArb,
    policy: policyArb,
    subjectCount: fc.integer({ min: 1, max: subjects.length }),
    steps: fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }),
  })
  .map(({ kind, policy, subjectCount, steps }) => ({
    kind,
    policy,
    steps: steps.map((step): Step =>
      step.do === 'change' ? { ...step, subject: subjects[subjects.indexOf(step.subject) % subjectCount]! } : step,
    ),
  }));

// ---------------------------------------------------------------------------------------------
// Helpers.

const live = (tracker: Tracker | undefined): IncidentRecord | undefined =>
  tracker?.incident && tracker.incident.state !== 'resolved' ? tracker.incident : undefined;

/** Targets as a comparable set: one canonical string each, sorted, duplicates kept (so a duplicate shows). */
const targetKeys = (targets: readonly unknown[]) => targets.map((t) => JSON.stringify(t)).sort();
const uniqueTargetKeys = (targets: readonly unknown[]) => [...new Set(targetKeys(targets))].sort();

const context = (policy: EscalationPolicy, inMaintenance = false, eventId = 'event-1') => ({ eventId, inMaintenance, policy });

/** Applies changes in order from a fresh tracker, nothing else in between. */
function applyAll(changes: readonly ConditionChange[], policy: EscalationPolicy): Tracker | undefined {
  let tracker: Tracker | undefined;
  for (const change of changes) tracker = applyChange(tracker, site, change, context(policy)).tracker;
  return tracker;
}

interface Run {
  /** The tracker after each step, starting from "no tracker yet". */
  trackers: (Tracker | undefined)[];
  /** The last record seen of every incident ever opened, by id. */
  incidents: Map<string, IncidentRecord>;
}

/**
 * Runs a script and checks, after every step, what must hold whatever happened before: one
 * incident per tracker, a resolved incident never changes again, a new incident opens only after
 * the last one resolved, recovering means every subject is clear, and the timers asked for are
 * the ones the state needs.
 */
function runScript(kind: IncidentKind, policy: EscalationPolicy, steps: readonly Step[]): Run {
  let now = t0;
  let tracker: Tracker | undefined;
  const heard: ConditionChange[] = [];
  const trackers: (Tracker | undefined)[] = [undefined];
  const incidents = new Map<string, IncidentRecord>();
  const resolvedRecords = new Map<string, IncidentRecord>();
  let lastResolvedId = `${kind.replace('.', '-')}-1`;

  steps.forEach((step, index) => {
    const why = `step ${index}: ${JSON.stringify(step)}`;
    const before = tracker;
    const incident = live(before);
    let outcome: ChangeOutcome | undefined;

    const hear = (change: ConditionChange, inMaintenance: boolean) => {
      const result = applyChange(before, site, change, context(policy, inMaintenance, `event-${index}`));
      outcome = result.outcome;
      tracker = result.tracker;
      if (result.outcome === 'unchanged')
        expect(result.tracker, `${why}: an unchanged outcome returns the tracker as it was`).toBe(before ?? result.tracker);
      if (inMaintenance) expect(result.outcome, `${why}: nothing opens inside a maintenance window`).not.toBe('opened');
    };

    switch (step.do) {
      case 'change': {
        const change: ConditionChange = { kind, subject: step.subject, phase: step.phase, at: Math.max(1, now - step.lagMs) };
        heard.push(change);
        hear(change, step.inMaintenance);
        break;
      }
      case 'repeat': {
        const change = heard[heard.length - 1 - Math.min(step.back, heard.length - 1)];
        if (change) hear(change, false);
        break;
      }
      case 'escalate': {
        const id = step.stale || !incident ? lastResolvedId : incident.incidentId;
        const k = (incident?.stepsTaken ?? 0) + step.offset;
        if (step.wait && incident && k >= 0) now = Math.max(now, stepDueAt(incident, k));
        const result = before && k >= 0 ? escalate(before, id, k, now) : undefined;
        const allowed =
          incident?.incidentId === id &&
          incident.state === 'open' &&
          (incident.recoveredAt === null || stepDueAt(incident, k) <= incident.recoveredAt) &&
          k === incident.stepsTaken &&
          k < stepCount(incident.policy) &&
          now >= stepDueAt(incident, k);
        expect(
          result !== undefined,
          `${why}: escalate succeeds exactly for the next due step of an open incident, unrecovered or recovered after that step came due`,
        ).toBe(allowed);
        if (result && incident) {
          expect(result.incident?.stepsTaken).toBe(k + 1);
          expect(result.incident?.lastEscalatedAt).toBe(now);
          expect(result.subjects, `${why}: escalation touches no subject`).toBe(before?.subjects);
        }
        if (result) tracker = result;
        break;
      }
      case 'settle': {
        const id = step.stale || !incident ? lastResolvedId : incident.incidentId;
        if (step.wait && incident?.recoveredAt != null) now = Math.max(now, incident.recoveredAt + settings.settleMs);
        const result = before ? settle(before, id, now, settings) : undefined;
        if (result) {
          expect(incident?.incidentId, `${why}: only the live incident settles`).toBe(id);
          expect(activeSubjects(result), `${why}: settles only with every subject clear`).toEqual([]);
          expect(now, `${why}: settles only after the settle time`).toBeGreaterThanOrEqual(
            (incident?.recoveredAt ?? Infinity) + settings.settleMs,
          );
          expect(result.incident).toMatchObject({ state: 'resolved', resolvedBy: 'recovery', resolvedAt: incident?.recoveredAt });
          tracker = result;
        } else if (incident?.incidentId === id && incident.recoveredAt !== null && now >= incident.recoveredAt + settings.settleMs) {
          expect.fail(`${why}: a recovered incident past its settle time must settle`);
        }
        break;
      }
      case 'acknowledge': {
        const id = step.stale || !before?.incident ? lastResolvedId : before.incident.incidentId;
        const result = acknowledge(before, id, 'api-key:k1', now);
        if (typeof result !== 'string') tracker = result;
        else if (before?.incident?.incidentId === id)
          expect(result, `${why}: only a resolved incident refuses an acknowledgement`).toBe('resolved');
        break;
      }
      case 'resolve': {
        const id = step.stale || !before?.incident ? lastResolvedId : before.incident.incidentId;
        const result = resolve(before, id, 'api-key:k1', now);
        if (typeof result !== 'string') tracker = result;
        else expect(before?.incident?.incidentId, `${why}: resolve refuses only an unknown id`).not.toBe(id);
        break;
      }
      case 'advance':
        now += step.ms;
        break;
    }

    const after = tracker;
    trackers.push(after);
    if (before?.incident) expect(after?.incident, `${why}: an incident never vanishes from its tracker`).toBeTruthy();
    const record = after?.incident;
    if (record) {
      const id = record.incidentId;
      expect(kindOfIncidentId(id), `${why}: the id names its tracker's kind`).toBe(kind);
      const resolvedBefore = resolvedRecords.get(id);
      // Once resolved, an incident is history: not reopened, not escalated, not touched.
      if (resolvedBefore) expect(record, `${why}: ${id} changed after it was resolved`).toEqual(resolvedBefore);
      if (!incidents.has(id)) {
        // A new incident: only once the previous one (if any) was resolved, and only by a raise newer than that.
        expect(outcome, `${why}: a new incident is opened by a raise`).toBe('opened');
        const previous = before?.incident;
        if (previous) {
          expect(previous.state, `${why}: ${id} opened while ${previous.incidentId} was unresolved`).toBe('resolved');
          expect(record.openedAt, `${why}: a new incident opens only after the last resolution`).toBeGreaterThan(
            previous.resolvedAt ?? -Infinity,
          );
        }
        expect(record.state).toBe('open');
      }
      incidents.set(id, record);
      if (record.state === 'resolved' && !resolvedBefore) {
        resolvedRecords.set(id, record);
        lastResolvedId = id;
      }
      const unresolved = [...incidents.keys()].filter((known) => !resolvedRecords.has(known));
      expect(unresolved.length, `${why}: more than one unresolved incident: ${unresolved.join(', ')}`).toBeLessThanOrEqual(1);
    }

    // Recovering is "every subject clear": the settle timer then runs from the last clear.
    const open = live(after);
    if (after && open) {
      const clear = activeSubjects(after).length === 0;
      expect(open.recoveredAt !== null, `${why}: recovering exactly when every subject is clear`).toBe(clear);
      if (clear) expect(open.recoveredAt).toBe(Math.max(...Object.values(after.subjects).map((m) => m.clearedAt)));
    }

    // The timers asked for are exactly what the state needs next: the step owed (due while open,
    // or before the recovery however late it is heard), else the settle check while recovering.
    const timers = after ? timersFor(after, settings) : [];
    const owed = (o: IncidentRecord) =>
      o.state === 'open' && o.stepsTaken < stepCount(o.policy) && (o.recoveredAt === null || stepDueAt(o, o.stepsTaken) <= o.recoveredAt);
    if (!open) expect(timers, `${why}: no timer without a live incident`).toEqual([]);
    else if (owed(open)) {
      expect(timers).toEqual([
        { type: 'escalate', incidentId: open.incidentId, step: open.stepsTaken, dueAt: stepDueAt(open, open.stepsTaken) },
      ]);
    } else if (open.recoveredAt !== null)
      expect(timers).toEqual([{ type: 'settle', incidentId: open.incidentId, dueAt: open.recoveredAt + settings.settleMs }]);
    else expect(timers, `${why}: acknowledged or out of steps: nothing to escalate`).toEqual([]);
  });
  return { trackers, incidents };
}

// ---------------------------------------------------------------------------------------------
// Properties.

describe('one incident per (site, kind)', () => {
  it('never two unresolved, a resolved incident never changes again, and a new one opens only after the last resolved', () => {
    fc.assert(
      fc.property(scriptArb, ({ kind, policy, steps }) => {
        runScript(kind, policy, steps);
      }),
      { numRuns },
    );
  });
});

/** A multiset of changes for one kind, and two orders of it. */
const permutedChangesArb = fc
  .record({
    kind: kindArb,
    changes: fc.array(
      fc.record({
        subject: subjectArb,
        phase: fc.constantFrom('raised' as const, 'cleared' as const),
        at: fc.integer({ min: 1, max: 50 }),
      }),
      { minLength: 1, maxLength: 12 },
    ),
    policy: policyArb,
  })
  .chain(({ kind, changes, policy }) => {
    const full: ConditionChange[] = changes.map((c) => ({ kind, subject: c.subject, phase: c.phase, at: t0 + c.at * 1000 }));
    const order = fc.shuffledSubarray(full, { minLength: full.length, maxLength: full.length });
    return fc.record({ policy: fc.constant(policy), first: order, second: order });
  });

describe('order independence: changes heard late or twice leave the tracker as the true order would', () => {
  it('any two orders of the same changes leave the same marks and the same active subjects', () => {
    fc.assert(
      fc.property(permutedChangesArb, ({ policy, first, second }) => {
        const a = applyAll(first, policy);
        const b = applyAll(second, policy);
        expect(a?.subjects).toEqual(b?.subjects);
        expect(a ? activeSubjects(a) : []).toEqual(b ? activeSubjects(b) : []);
      }),
      { numRuns },
    );
  });

  // A raise heard after its own (newer) clear opens the incident the true order would have opened,
  // already recovering: the order the queue hands events in does not matter.
  it('any two orders of the same changes agree on whether an incident is live', () => {
    fc.assert(
      fc.property(permutedChangesArb, ({ policy, first, second }) => {
        const a = applyAll(first, policy);
        const b = applyAll(second, policy);
        expect(live(a) !== undefined, `first order ${JSON.stringify(first)}, second ${JSON.stringify(second)}`).toBe(live(b) !== undefined);
      }),
      { numRuns },
    );
  });

  it('hearing a change twice in a row changes nothing the second time', () => {
    fc.assert(
      fc.property(scriptArb, permutedChangesArb, ({ kind, policy, steps }, { first }) => {
        // From any reachable tracker, not just a fresh one.
        const { trackers } = runScript(kind, policy, steps);
        let tracker = trackers[trackers.length - 1];
        for (const change of first) {
          const once = applyChange(tracker, site, { ...change, kind }, context(policy)).tracker;
          const twice = applyChange(once, site, { ...change, kind }, context(policy));
          expect(twice.outcome).toBe('unchanged');
          expect(twice.tracker).toBe(once);
          tracker = once;
        }
      }),
      { numRuns },
    );
  });
});

describe('a flapping condition', () => {
  const flapsArb = fc.record({
    kind: kindArb,
    policy: policyArb,
    start: fc.integer({ min: 0, max: 1_000_000 }),
    // Each flap: raised, cleared `downMs` later, raised again `upMs` after that; all shorter than the settle time.
    flaps: fc.array(
      fc.record({
        downMs: fc.integer({ min: 1, max: settings.settleMs - 1 }),
        upMs: fc.integer({ min: 1, max: settings.settleMs - 1 }),
        probe: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
    lateMs: fc.integer({ min: 0, max: 3_600_000 }),
  });

  it('keeps one incident, which resolves by recovery at the last clear once that clear has held for the settle time', () => {
    fc.assert(
      fc.property(flapsArb, ({ kind, policy, start, flaps, lateMs }) => {
        let tracker: Tracker | undefined;
        let at = t0 + start;
        let lastClear = at;
        const ids = new Set<string>();
        flaps.forEach((flap, i) => {
          if (i > 0) at += flaps[i - 1]!.upMs;
          tracker = applyChange(tracker, site, { kind, subject: 'link', phase: 'raised', at }, context(policy)).tracker;
          ids.add(tracker.incident!.incidentId);
          at += flap.downMs;
          lastClear = at;
          tracker = applyChange(tracker, site, { kind, subject: 'link', phase: 'cleared', at }, context(policy)).tracker;
          ids.add(tracker.incident!.incidentId);
          // A settle timer that fires before the next raise: the clear has not held long enough.
          const probeAt = at + Math.floor(flap.probe * (flap.upMs - 1));
          expect(settle(tracker, tracker.incident!.incidentId, probeAt, settings)).toBeUndefined();
        });
        expect(ids.size, 'a flapping condition opens one incident').toBe(1);
        const id = [...ids][0]!;
        expect(settle(tracker!, id, lastClear + settings.settleMs - 1, settings), 'one ms early').toBeUndefined();
        const settled = settle(tracker!, id, lastClear + settings.settleMs + lateMs, settings);
        expect(settled?.incident).toMatchObject({ incidentId: id, state: 'resolved', resolvedBy: 'recovery', resolvedAt: lastClear });
        expect(timersFor(settled!, settings)).toEqual([]);
      }),
      { numRuns },
    );
  });
});

describe('escalation', () => {
  const walkArb = fc.record({
    kind: kindArb,
    policy: policyArb,
    openedAt: fc.integer({ min: 1, max: 1_000_000 }),
    /** How late each timer fires, after its due time. */
    lateness: fc.array(fc.integer({ min: 0, max: 59_999 }), { minLength: 7, maxLength: 7 }),
  });

  it('steps one at a time, each when due, and reaches every target of every level once', () => {
    fc.assert(
      fc.property(walkArb, ({ kind, policy, openedAt, lateness }) => {
        let tracker = applyChange(
          undefined,
          site,
          { kind, subject: 'node-a', phase: 'raised', at: t0 + openedAt },
          context(policy),
        ).tracker;
        const incident = tracker.incident!;
        const count = stepCount(policy);
        expect(count).toBe(policy.levels.length + policy.repeatLast.times);
        let previousDue = -Infinity;
        let now = 0;
        for (let k = 0; k < count; k++) {
          const due = stepDueAt(incident, k);
          expect(due, 'steps fall due in order').toBeGreaterThan(previousDue);
          expect(due).toBeGreaterThanOrEqual(incident.openedAt);
          previousDue = due;
          expect(stepLevel(policy, k)).toBe(Math.min(k + 1, policy.levels.length));
          expect(timersFor(tracker, settings)).toEqual([{ type: 'escalate', incidentId: incident.incidentId, step: k, dueAt: due }]);
          expect(escalate(tracker, incident.incidentId, k, due - 1), `step ${k} one ms early`).toBeUndefined();
          expect(escalate(tracker, incident.incidentId, k + 1, due + 10 * 86_400_000), `step ${k + 1} before step ${k}`).toBeUndefined();
          if (k > 0) expect(escalate(tracker, incident.incidentId, k - 1, due), `step ${k - 1} again`).toBeUndefined();
          expect(escalate(tracker, 'link-lost-1', k, due), 'a stale incident id').toBeUndefined();
          now = due + (lateness[k % lateness.length] ?? 0);
          const next = escalate(tracker, incident.incidentId, k, now);
          expect(next?.incident?.stepsTaken, `step ${k} when due`).toBe(k + 1);
          tracker = next!;
        }
        expect(escalate(tracker, incident.incidentId, count, now + 86_400_000), 'no step past the last').toBeUndefined();
        expect(timersFor(tracker, settings), 'nothing left to arm').toEqual([]);
        const everyTarget = policy.levels.flatMap((level) => level.targets);
        expect(targetKeys(tracker.incident!.notified), 'every target once').toEqual(uniqueTargetKeys(everyTarget));
      }),
      { numRuns },
    );
  });

  it('stops at an acknowledgement, and pauses while every subject is clear', () => {
    fc.assert(
      fc.property(walkArb, fc.nat({ max: 6 }), fc.boolean(), ({ kind, policy, openedAt }, ackAfter, recover) => {
        let tracker = applyChange(
          undefined,
          site,
          { kind, subject: 'node-a', phase: 'raised', at: t0 + openedAt },
          context(policy),
        ).tracker;
        const id = tracker.incident!.incidentId;
        const taken = Math.min(ackAfter, stepCount(policy));
        for (let k = 0; k < taken; k++) tracker = escalate(tracker, id, k, stepDueAt(tracker.incident!, k))!;
        const far = t0 + 30 * 86_400_000;
        if (recover) {
          tracker = applyChange(
            tracker,
            site,
            { kind, subject: 'node-a', phase: 'cleared', at: t0 + openedAt + 1 },
            context(policy),
          ).tracker;
          // Recovering: escalation waits, but a step that came due before the recovery is still owed.
          const dueBefore = taken < stepCount(policy) && stepDueAt(tracker.incident!, taken) <= t0 + openedAt + 1;
          if (dueBefore) {
            expect(timersFor(tracker, settings)).toEqual([
              { type: 'escalate', incidentId: id, step: taken, dueAt: stepDueAt(tracker.incident!, taken) },
            ]);
            expect(escalate(tracker, id, taken, far)?.incident?.stepsTaken).toBe(taken + 1);
          } else {
            expect(timersFor(tracker, settings)).toEqual([
              { type: 'settle', incidentId: id, dueAt: t0 + openedAt + 1 + settings.settleMs },
            ]);
            expect(escalate(tracker, id, taken, far)).toBeUndefined();
          }
        }
        const acked = acknowledge(tracker, id, 'api-key:k1', far - 1);
        if (typeof acked === 'string') return expect.fail(`acknowledge refused: ${acked}`);
        for (let k = 0; k <= stepCount(policy); k++)
          expect(escalate(acked, id, k, far), `step ${k} after the acknowledgement`).toBeUndefined();
        expect(acknowledge(acked, id, 'api-key:k2', far), 'acknowledging twice is acknowledging once').toBe(acked);
        expect(timersFor(acked, settings)).toEqual(
          recover ? [{ type: 'settle', incidentId: id, dueAt: t0 + openedAt + 1 + settings.settleMs }] : [],
        );
      }),
      { numRuns },
    );
  });

  it('after a resolution, only a newer raise changes anything, and it opens a new incident', () => {
    const afterwardsArb = fc.array(
      fc.record({
        subject: subjectArb,
        phase: fc.constantFrom('raised' as const, 'cleared' as const),
        at: fc.integer({ min: -600_000, max: 600_000 }),
      }),
      { minLength: 1, maxLength: 10 },
    );
    fc.assert(
      fc.property(scriptArb, afterwardsArb, fc.boolean(), ({ kind, policy, steps }, afterwards, byRecovery) => {
        const { trackers } = runScript(kind, policy, steps);
        let tracker = trackers[trackers.length - 1];
        const open = live(tracker);
        if (!tracker || !open) return;
        const now = t0 + 100 * 86_400_000;
        if (byRecovery) {
          for (const subject of activeSubjects(tracker))
            tracker = applyChange(tracker, site, { kind, subject, phase: 'cleared', at: now }, context(policy)).tracker;
          tracker = settle(tracker, open.incidentId, now + settings.settleMs, settings);
        } else {
          const resolved = resolve(tracker, open.incidentId, 'api-key:k1', now);
          tracker = typeof resolved === 'string' ? undefined : resolved;
        }
        expect(tracker?.incident?.state).toBe('resolved');
        const resolved = tracker!.incident!;
        const resolvedAt = resolved.resolvedAt!;
        for (const change of afterwards) {
          const at = resolvedAt + change.at;
          const before: Tracker = tracker!;
          // Timers and people first: none of them may touch a resolved incident.
          expect(escalate(before, resolved.incidentId, resolved.stepsTaken, at + 86_400_000)).toBeUndefined();
          expect(settle(before, resolved.incidentId, at + 86_400_000, settings)).toBeUndefined();
          if (before.incident === resolved) {
            expect(acknowledge(before, resolved.incidentId, 'api-key:k2', at)).toBe('resolved');
            expect(resolve(before, resolved.incidentId, 'api-key:k2', at)).toBe(before);
          }
          const { tracker: after, outcome } = applyChange(
            before,
            site,
            { kind, subject: change.subject, phase: change.phase, at },
            context(policy),
          );
          tracker = after;
          if (before.incident !== resolved) continue; // a new incident is open: the rest is the other properties' business
          if (outcome === 'opened') {
            expect(change.phase).toBe('raised');
            expect(at, 'only a raise newer than the resolution opens a new incident').toBeGreaterThan(resolvedAt);
            expect(after.incident?.incidentId).not.toBe(resolved.incidentId);
          } else {
            expect(after.incident, `${change.phase} at resolution ${change.at >= 0 ? '+' : ''}${change.at} ms (${outcome})`).toBe(resolved);
            const newerRaise =
              change.phase === 'raised' && at > resolvedAt && activeSubjects(after).includes(change.subject) && outcome !== 'unchanged';
            expect(newerRaise, 'a newer raise that leaves its subject active opens one').toBe(false);
          }
        }
      }),
      { numRuns },
    );
  });
});

describe('maintenance windows', () => {
  it('a raise inside a window opens nothing, from any state without a live incident', () => {
    fc.assert(
      fc.property(scriptArb, subjectArb, fc.integer({ min: 0, max: 1_200_000 }), ({ kind, policy, steps }, subject, lagMs) => {
        const { trackers } = runScript(kind, policy, steps);
        const tracker = trackers[trackers.length - 1];
        if (live(tracker)) return;
        const at = t0 + lagMs;
        const { tracker: after, outcome } = applyChange(tracker, site, { kind, subject, phase: 'raised', at }, context(policy, true));
        expect(['suppressed', 'recorded', 'unchanged']).toContain(outcome);
        expect(after.incident).toEqual(tracker?.incident ?? null);
        expect(timersFor(after, settings)).toEqual([]);
        // From nothing at all, the answer is 'suppressed' (what the handler logs as "nobody paged").
        expect(applyChange(undefined, site, { kind, subject, phase: 'raised', at }, context(policy, true)).outcome).toBe('suppressed');
      }),
      { numRuns },
    );
  });
});

describe('incident events', () => {
  const eventsOfRun = (trackers: readonly (Tracker | undefined)[]) =>
    trackers.slice(1).flatMap((after, i) => {
      const before = trackers[i];
      const events = incidentEventsOf(before, after);
      // Stable: the stream may hand the same change twice.
      expect(incidentEventsOf(before, after)).toEqual(events);
      return events;
    });

  it('one opened, steps 1..n escalated once each, at most one acknowledged, one resolved that reaches everyone told', () => {
    fc.assert(
      fc.property(scriptArb, ({ kind, policy, steps }) => {
        const { trackers, incidents } = runScript(kind, policy, steps);
        const events = eventsOfRun(trackers);
        const ids = events.map((e) => e.id);
        expect(new Set(ids).size, 'event ids are unique').toBe(ids.length);
        for (const event of events) expect(WitnessEvent.safeParse(event).success, JSON.stringify(event)).toBe(true);
        expect(new Set(events.map((e) => e.data.incidentId))).toEqual(new Set(incidents.keys()));

        for (const [id, last] of incidents) {
          const of = (type: string) => events.filter((e) => e.type === type && e.data.incidentId === id);
          expect(of('incident.opened').length, `${id} opened once`).toBe(1);
          const escalated = of('incident.escalated');
          const steps = escalated.map((e) => e.data.step);
          expect(steps, `${id}: steps 1..${last.stepsTaken} in order`).toEqual(Array.from({ length: last.stepsTaken }, (_, i) => i + 1));
          expect(escalated.map((e) => e.id)).toEqual(
            steps.map((s) => `${site.resellerId}/${site.siteId}/incident.escalated/${id}/${String(s)}`),
          );
          for (const [i, e] of escalated.entries()) {
            // Step i+1 is the policy's level for it, with that level's targets, as the policy stood at the opening.
            expect(e.data.level).toBe(stepLevel(last.policy, i));
            expect(e.data.targets).toEqual(stepTargets(last.policy, i));
          }
          expect(of('incident.acknowledged').length).toBe(last.acknowledgedAt === null ? 0 : 1);
          const resolved = of('incident.resolved');
          expect(resolved.length).toBe(last.state === 'resolved' ? 1 : 0);
          const toldOfIt = escalated.flatMap((e) => e.data.targets as unknown[]);
          for (const done of [...of('incident.acknowledged'), ...resolved]) {
            expect(targetKeys(done.data.notified as unknown[]), `${done.type} of ${id} reaches every target told of it, once`).toEqual(
              uniqueTargetKeys(toldOfIt),
            );
          }
          // The story reads in order: opened first, resolved last.
          const mine = events.filter((e) => e.data.incidentId === id);
          expect(mine[0]?.type).toBe('incident.opened');
          if (resolved.length > 0) expect(mine[mine.length - 1]?.type).toBe('incident.resolved');
        }
      }),
      { numRuns },
    );
  });

  // An event id is `<resellerId>/<siteId>/<type>/<incidentId>[/<step>]`, with reseller and site ids
  // of up to 48 each: every one must be a valid envelope, or the incidents queue would refuse it.
  it('every incident event is a valid WitnessEvent, whatever the (valid) reseller and site ids', () => {
    // Any length up to the 48 an Identifier allows (not only the short strings fast-check prefers).
    const identifierArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,47}$/, { size: 'max' });
    fc.assert(
      fc.property(identifierArb, identifierArb, kindArb, policyArb, (resellerId, siteId, kind, policy) => {
        const where = { resellerId, siteId };
        const opened = applyChange(undefined, where, { kind, subject: 'node-a', phase: 'raised', at: t0 }, context(policy)).tracker;
        const id = opened.incident!.incidentId;
        const escalated = escalate(opened, id, 0, stepDueAt(opened.incident!, 0))!;
        const acked = acknowledge(escalated, id, 'api-key:k1', t0 + 86_400_000) as Tracker;
        const resolved = resolve(acked, id, 'api-key:k1', t0 + 86_400_000) as Tracker;
        const chain = [undefined, opened, escalated, acked, resolved];
        for (const event of chain.slice(1).flatMap((after, i) => incidentEventsOf(chain[i], after))) {
          expect(WitnessEvent.safeParse(event).success, `${event.id} (${String(event.id.length)} characters)`).toBe(true);
        }
      }),
      { numRuns },
    );
  });
});

// Survivor mode (W5): `node.excluded` raises `node.lost` for a subject of its own, which only
// `node.readmitted` clears; what is heard of the node itself (`node.lost`, `node.recovered`) meanwhile
// is the node's own subject. Real events, through `conditionChangesOf`, in any order and repeated.
describe('survivor mode: the exclusion is a subject of its own', () => {
  const survivorEventArb = fc.array(
    fc.record({
      type: fc.constantFrom<EventType>('node.excluded', 'node.readmitted', 'node.lost', 'node.recovered'),
      minute: fc.integer({ min: 0, max: 120 }),
    }),
    { minLength: 1, maxLength: 25 },
  );
  const eventOf = ({ type, minute }: { type: EventType; minute: number }, i: number): StoredEvent =>
    StoredEvent.parse({
      id: `e-${String(i)}`,
      type,
      timestamp: new Date(t0 + minute * 60_000).toISOString(),
      data: { ...site, severity: 'info', nodeId: 'node-b' },
    });

  it('the excluded subject is active exactly when the latest exclusion is newer than the latest readmission, whatever the order and repeats', () => {
    fc.assert(
      fc.property(
        survivorEventArb.chain((raws) => {
          const events = raws.map(eventOf);
          return fc.record({
            events: fc.constant(events),
            heard: fc.shuffledSubarray([...events, ...events], { minLength: events.length }),
          });
        }),
        policyArb,
        ({ events, heard }, policy) => {
          const tracker = applyAll(heard.flatMap(conditionChangesOf), policy);
          const latest = (type: EventType) =>
            Math.max(0, ...events.filter((e) => e.type === type && heard.includes(e)).map((e) => Date.parse(e.timestamp)));
          const excluded = latest('node.excluded') > latest('node.readmitted');
          expect(tracker ? activeSubjects(tracker).includes('excluded:node-b') : false).toBe(excluded);
          // node-b's own subject never stands for the exclusion.
          const lost = latest('node.lost') > latest('node.recovered');
          expect(tracker ? activeSubjects(tracker).includes('node-b') : false).toBe(lost);
          // And an incident is live while either is.
          if (excluded || lost) expect(tracker?.incident).toMatchObject({ state: 'open', recoveredAt: null });
        },
      ),
      { numRuns },
    );
  });
});
