import type { EventType, Severity, StoredEvent } from '../../protocol/events.ts';
import type { IncidentKind, IncidentState } from '../../protocol/incidents.ts';
import type { EscalationPolicy, EscalationTarget } from '../../protocol/reseller.ts';
import { alertWords } from './alert-events.ts';

/**
 * Incidents (DESIGN.md, "Incidents and escalation"), pure. Each (site, kind) has one tracker: what
 * it knows of each subject (a node, the link, the site) and its current or last incident. The
 * tracker is the unit of every conditional write, so two incidents for one thing can never be
 * open at once; and it merges what it hears per subject by time (the latest raise against the
 * latest clear), so events that arrive twice or out of order leave it as the true order would.
 */

/** What one event says of a condition: raised or cleared, for which subject, when. */
export interface ConditionChange {
  kind: IncidentKind;
  subject: string;
  phase: 'raised' | 'cleared';
  at: number;
  /** A raise's own severity (an inbound alert's, from its integration's mapping); absent: its kind's. */
  severity?: Severity;
  /** A raise's words for people (an inbound alert's summary and names: alertWords); absent: the subject says it. */
  label?: string;
}

/** Per subject, the latest time it was raised and the latest time it was cleared. */
export interface SubjectMarks {
  raisedAt: number;
  clearedAt: number;
  /** The latest raise's own severity, when it carried one (an inbound alert). */
  severity?: Severity;
  /** The latest raise's words for people, when it carried them (an inbound alert). */
  label?: string;
}

export interface IncidentRecord {
  incidentId: string;
  state: IncidentState;
  openedAt: number;
  openingEventId: string;
  /** What its steps page as: the highest of its subjects' while it is open, never lowered. Absent on incidents stored before it was kept: their kind's. */
  severity?: Severity;
  /** Set while every subject is clear: the incident resolves once that has held for the settle time. */
  recoveredAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  /** Escalation steps taken; the next step's index. */
  stepsTaken: number;
  lastEscalatedAt: number | null;
  /** Everyone told of it: each hears of its acknowledgement and resolution, whatever the policy says by then. */
  notified: EscalationTarget[];
  /** The policy as it was at the opening: the incident escalates by it to the end. */
  policy: EscalationPolicy;
}

export interface Tracker {
  resellerId: string;
  siteId: string;
  kind: IncidentKind;
  subjects: Record<string, SubjectMarks>;
  incident: IncidentRecord | null;
  /** Bumped by every write: the write's condition. */
  version: number;
}

export interface IncidentSettings {
  /** How long every subject must stay clear before recovery resolves the incident: a flapping link keeps one incident. */
  settleMs: number;
}

export const defaultIncidentSettings: IncidentSettings = { settleMs: 120_000 };

/** With no policy set: the reseller's service queue, at once, once. */
export const defaultPolicy: EscalationPolicy = {
  levels: [{ afterMs: 0, targets: [{ type: 'service-queue' }] }],
  repeatLast: { times: 0, everyMs: 3_600_000 },
};

/** A condition's own severity; an inbound alert's raise carries its mapping's instead (`critical` when the mapping says none). */
export const severityOf = (kind: IncidentKind): Severity =>
  kind === 'node.lost' || kind === 'site.down' || kind === 'alert.raised' ? 'critical' : 'warning';

const rank: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const highest = (severities: Severity[]): Severity => severities.reduce<Severity>((a, b) => (rank[b] > rank[a] ? b : a), 'info');

/** What an incident's steps page as. */
export const incidentSeverity = (tracker: Pick<Tracker, 'kind' | 'incident'>): Severity =>
  tracker.incident?.severity ?? severityOf(tracker.kind);

/** `node.lost` → `node-lost-<ms>`: the id names its kind, so the tracker it lives on is found from it. */
export const incidentIdOf = (kind: IncidentKind, openedAt: number) => `${kind.replace('.', '-')}-${String(openedAt)}`;

export function kindOfIncidentId(incidentId: string): IncidentKind | undefined {
  const match = /^([a-z]+)-([a-z]+)-\d+$/.exec(incidentId);
  const kind = match ? `${match[1] ?? ''}.${match[2] ?? ''}` : '';
  const kinds: readonly string[] = ['node.lost', 'site.down', 'link.lost', 'node.degraded', 'command.unacknowledged', 'alert.raised'];
  return kinds.includes(kind) ? (kind as IncidentKind) : undefined;
}

/**
 * The event types the incidents queue subscribes to (its SNS filter policy): the conditions and
 * their recoveries, and the incident steps it delivers to the reseller's targets.
 */
export const incidentQueueEventTypes = [
  'node.lost',
  'node.recovered',
  'node.excluded',
  'node.readmitted',
  'node.degraded',
  'site.down',
  'site.recovered',
  'link.lost',
  'link.restored',
  'command.unacknowledged',
  'command.acknowledged',
  'alert.raised',
  'alert.cleared',
  'incident.escalated',
  'incident.acknowledged',
  'incident.resolved',
] as const satisfies readonly EventType[];

/** The `node.lost` subject of a node the witness excludes (survivor mode), beside the node's own. */
export const excludedSubject = (nodeId: string) => `excluded:${nodeId}`;

/**
 * The condition changes an event of the catalogue carries; none for the others. `failover.forced`
 * carries none: it is an operator's act, not a condition that lasts, and a person did it (the audit
 * trail and the webhooks tell it, with the key that did it); the exclusion it ends is cleared by
 * the `node.readmitted` of the same change.
 */
export function conditionChangesOf(event: StoredEvent): ConditionChange[] {
  const at = Date.parse(event.timestamp);
  const node = event.data.nodeId ?? 'node';
  const change = (kind: IncidentKind, subject: string, phase: ConditionChange['phase']): ConditionChange[] => [
    { kind, subject, phase, at },
  ];
  switch (event.type) {
    case 'node.lost':
      return change('node.lost', node, 'raised');
    case 'node.recovered':
      // Heard again, or healthy again: the event says which.
      return change(event.data.recoveredFrom === 'node.degraded' ? 'node.degraded' : 'node.lost', node, 'cleared');
    // Survivor mode (W5): the witness excluded a node it no longer hears, and the site runs on one
    // server. That is a node lost until the node is readmitted, whatever else is heard of it
    // meanwhile: a subject of its own, which only the readmission clears (a `node.recovered` of the
    // excluded node, heard again but still refused its claims, clears its other subject only).
    case 'node.excluded':
      return change('node.lost', excludedSubject(node), 'raised');
    case 'node.readmitted':
      return change('node.lost', excludedSubject(node), 'cleared');
    case 'node.degraded':
      return change('node.degraded', node, 'raised');
    case 'site.down':
      return change('site.down', 'site', 'raised');
    case 'site.recovered':
      return change('site.down', 'site', 'cleared');
    case 'link.lost':
      return change('link.lost', 'link', 'raised');
    case 'link.restored':
      return change('link.lost', 'link', 'cleared');
    // One subject per command: acknowledged late, or superseded by a grant, it is no longer awaited.
    case 'command.unacknowledged':
    case 'command.acknowledged': {
      const commandId = typeof event.data.commandId === 'string' ? event.data.commandId : node;
      return change('command.unacknowledged', commandId, event.type === 'command.unacknowledged' ? 'raised' : 'cleared');
    }
    case 'alert.raised':
    case 'alert.cleared': {
      // One tracker per site for every inbound alert; each (integration, alert) is a subject of it.
      if (typeof event.data.subject !== 'string') return [];
      if (event.type === 'alert.cleared') return change('alert.raised', event.data.subject, 'cleared');
      // The mapping's severity rides on the raise: a `warning` must not page as critical; and the
      // tool's summary with it, what messages about the incident show for this subject.
      const { alert, integrationName, summary } = event.data;
      const label =
        typeof alert === 'string' && typeof integrationName === 'string'
          ? alertWords({ alert, integrationName, summary: typeof summary === 'string' ? summary : undefined })
          : undefined;
      return [
        {
          kind: 'alert.raised',
          subject: event.data.subject,
          phase: 'raised',
          at,
          severity: event.data.severity,
          ...(label === undefined ? {} : { label }),
        },
      ];
    }
    default:
      return [];
  }
}

const active = (marks: SubjectMarks) => marks.raisedAt > marks.clearedAt;
/** The incident still open or acknowledged, if there is one. */
const liveIncident = (tracker: Tracker): IncidentRecord | undefined =>
  tracker.incident !== null && tracker.incident.state !== 'resolved' ? tracker.incident : undefined;

export function activeSubjects(tracker: Tracker): string[] {
  return Object.keys(tracker.subjects)
    .filter((s) => active(tracker.subjects[s] ?? { raisedAt: 0, clearedAt: 0 }))
    .sort();
}

/** Subjects in the words people read: an inbound alert's label (its tool's summary and its names), any other subject as it is. */
export const affectedWords = (tracker: Pick<Tracker, 'subjects'>, subjects: readonly string[]): string[] =>
  subjects.map((s) => tracker.subjects[s]?.label ?? s);

export type ChangeOutcome = 'opened' | 'updated' | 'recovering' | 'reraised' | 'recorded' | 'suppressed' | 'unchanged';

export interface ChangeContext {
  eventId: string;
  /** The change falls in one of the site's maintenance windows: recorded, but opens nothing. */
  inMaintenance: boolean;
  policy: EscalationPolicy;
}

/** A tracker's next state after one condition change, and what that meant. */
export function applyChange(
  tracker: Tracker | undefined,
  site: { resellerId: string; siteId: string },
  change: ConditionChange,
  context: ChangeContext,
): { tracker: Tracker; outcome: ChangeOutcome } {
  const base: Tracker = tracker ?? { ...site, kind: change.kind, subjects: {}, incident: null, version: 0 };
  const marks = base.subjects[change.subject] ?? { raisedAt: 0, clearedAt: 0 };
  // The latest raise's severity is the subject's (of two in one instant, the higher: any order gives the same).
  const severity =
    change.phase !== 'raised' || change.severity === undefined || change.at < marks.raisedAt
      ? marks.severity
      : change.at > marks.raisedAt
        ? change.severity
        : highest([marks.severity ?? change.severity, change.severity]);
  // The latest raise's words likewise (of two in one instant, the greater: any order gives the same).
  const label =
    change.phase !== 'raised' || change.label === undefined || change.at < marks.raisedAt
      ? marks.label
      : change.at > marks.raisedAt || marks.label === undefined || change.label > marks.label
        ? change.label
        : marks.label;
  const merged: SubjectMarks =
    change.phase === 'raised'
      ? { ...marks, raisedAt: Math.max(marks.raisedAt, change.at) }
      : { ...marks, clearedAt: Math.max(marks.clearedAt, change.at) };
  if (severity !== undefined) merged.severity = severity;
  if (label !== undefined) merged.label = label;
  // A repeat, or older news than the tracker already has.
  if (
    merged.raisedAt === marks.raisedAt &&
    merged.clearedAt === marks.clearedAt &&
    merged.severity === marks.severity &&
    merged.label === marks.label
  )
    return { tracker: base, outcome: 'unchanged' };

  const subjects = { ...base.subjects, [change.subject]: merged };
  const anyActive = Object.values(subjects).some(active);
  const next: Tracker = { ...base, subjects };
  const incident = liveIncident(base);
  // The highest of the subjects raised now (and of the one this change raised, for an incident that opens already recovering).
  const subjectSeverity = (m: SubjectMarks) => m.severity ?? severityOf(change.kind);
  const raisedSeverity = highest(
    Object.values(subjects)
      .filter((m) => active(m) || (change.phase === 'raised' && m === merged))
      .map(subjectSeverity),
  );

  if (incident) {
    if (anyActive) {
      // A critical alert joining a warning incident makes it critical; nothing lowers it while it lasts.
      next.incident = { ...incident, recoveredAt: null, severity: highest([incidentSeverity(base), raisedSeverity]) };
      return { tracker: next, outcome: incident.recoveredAt === null ? 'updated' : 'reraised' };
    }
    const recoveredAt = Math.max(...Object.values(subjects).map((m) => m.clearedAt));
    next.incident = { ...incident, recoveredAt };
    return { tracker: next, outcome: 'recovering' };
  }

  // Nothing open: a raise newer than the last resolution opens one. If its clear came first (the
  // queue does not keep order), the incident opens already recovering, as the true order would
  // have left it: it resolves after the settle time.
  const lastResolvedAt = base.incident?.resolvedAt ?? null;
  const newer = lastResolvedAt === null || change.at > lastResolvedAt;
  if (change.phase === 'raised' && merged.raisedAt !== marks.raisedAt && newer) {
    if (context.inMaintenance) return { tracker: next, outcome: 'suppressed' };
    next.incident = {
      incidentId: incidentIdOf(change.kind, change.at),
      state: 'open',
      openedAt: change.at,
      openingEventId: context.eventId,
      severity: raisedSeverity,
      recoveredAt: anyActive ? null : Math.max(...Object.values(subjects).map((m) => m.clearedAt)),
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      stepsTaken: 0,
      lastEscalatedAt: null,
      notified: [],
      policy: context.policy,
    };
    return { tracker: next, outcome: 'opened' };
  }
  return { tracker: next, outcome: 'recorded' };
}

// Escalation: step i is level i+1 while there are levels, then the last level again, `repeatLast.times` times.

export const stepCount = (policy: EscalationPolicy) => policy.levels.length + policy.repeatLast.times;

export function stepDueAt(incident: IncidentRecord, step: number): number {
  const { levels, repeatLast } = incident.policy;
  const last = levels.length - 1;
  if (step <= last) return incident.openedAt + (levels[step]?.afterMs ?? 0);
  return incident.openedAt + (levels[last]?.afterMs ?? 0) + (step - last) * repeatLast.everyMs;
}

export function stepLevel(policy: EscalationPolicy, step: number): number {
  return Math.min(step, policy.levels.length - 1) + 1;
}

export function stepTargets(policy: EscalationPolicy, step: number): EscalationTarget[] {
  return policy.levels[stepLevel(policy, step) - 1]?.targets ?? [];
}

const sameTarget = (a: EscalationTarget, b: EscalationTarget) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The next escalation step still to take, or null: while the incident is open, and while it is
 * recovering if the step came due before the recovery. A step due while the condition held is owed
 * however late its timer runs: a link that flaps faster than the queue delivers must still page.
 */
function owedStep(incident: IncidentRecord): number | null {
  if (incident.state !== 'open' || incident.stepsTaken >= stepCount(incident.policy)) return null;
  if (incident.recoveredAt !== null && stepDueAt(incident, incident.stepsTaken) > incident.recoveredAt) return null;
  return incident.stepsTaken;
}

/** Takes escalation step `step` if it is the one owed and due; undefined when it is not to be taken (stale, early, stopped). */
export function escalate(tracker: Tracker, incidentId: string, step: number, now: number): Tracker | undefined {
  const incident = liveIncident(tracker);
  if (incident?.incidentId !== incidentId || owedStep(incident) !== step) return undefined;
  if (now < stepDueAt(incident, step)) return undefined;
  return { ...tracker, incident: takeStep(incident, step, now) };
}

function takeStep(incident: IncidentRecord, step: number, now: number): IncidentRecord {
  const notified = [...incident.notified];
  for (const target of stepTargets(incident.policy, step)) if (!notified.some((t) => sameTarget(t, target))) notified.push(target);
  return { ...incident, stepsTaken: step + 1, lastEscalatedAt: now, notified };
}

/**
 * Resolves an incident whose subjects have all stayed clear for the settle time. A step still owed
 * (its timer late behind the settle check) is taken in the same write: nothing is skipped.
 */
export function settle(tracker: Tracker, incidentId: string, now: number, settings: IncidentSettings): Tracker | undefined {
  let incident = liveIncident(tracker);
  if (incident?.incidentId !== incidentId || incident.recoveredAt === null) return undefined;
  if (activeSubjects(tracker).length > 0 || now < incident.recoveredAt + settings.settleMs) return undefined;
  for (let step = owedStep(incident); step !== null; step = owedStep(incident)) incident = takeStep(incident, step, now);
  return { ...tracker, incident: { ...incident, state: 'resolved', resolvedAt: incident.recoveredAt, resolvedBy: 'recovery' } };
}

/** A subject no news will come for any more (its integration was deleted): its latest raise, and its latest news of any kind. */
export interface WithdrawnSubject {
  subject: string;
  /** 0 when it was not raised. */
  raisedAt: number;
  lastNewsAt: number;
}

/**
 * Subjects withdrawn (an inbound integration deleted: its alerts get no more news): each is
 * cleared now, and no earlier than its latest news, so that news of it still on its way to the
 * queue is older news and opens nothing; an incident that only they kept raised is resolved at
 * once, `by` saying why. Undefined when nothing is withdrawn.
 */
export function withdraw(
  tracker: Tracker | undefined,
  site: { resellerId: string; siteId: string; kind: IncidentKind },
  withdrawn: readonly WithdrawnSubject[],
  now: number,
  by: string,
): Tracker | undefined {
  if (withdrawn.length === 0) return undefined;
  const base: Tracker = tracker ?? { ...site, subjects: {}, incident: null, version: 0 };
  const subjects = { ...base.subjects };
  for (const w of withdrawn) {
    const marks = subjects[w.subject] ?? { raisedAt: 0, clearedAt: 0 };
    const raisedAt = Math.max(marks.raisedAt, w.raisedAt);
    subjects[w.subject] = { ...marks, raisedAt, clearedAt: Math.max(marks.clearedAt, raisedAt, w.lastNewsAt, now) };
  }
  const next: Tracker = { ...base, subjects };
  const incident = liveIncident(base);
  const concerned = withdrawn.some((w) => w.subject in base.subjects);
  if (incident && concerned && activeSubjects(next).length === 0) {
    next.incident = { ...incident, state: 'resolved', recoveredAt: incident.recoveredAt ?? now, resolvedAt: now, resolvedBy: by };
  }
  return next;
}

export type ActionRefusal = 'not-found' | 'resolved';

/** A person acknowledges: escalation stops. Acknowledging twice is acknowledging once. */
export function acknowledge(tracker: Tracker | undefined, incidentId: string, by: string, now: number): Tracker | ActionRefusal {
  const incident = tracker?.incident;
  if (!tracker || incident?.incidentId !== incidentId) return 'not-found';
  if (incident.state === 'resolved') return 'resolved';
  if (incident.state === 'acknowledged') return tracker;
  return { ...tracker, incident: { ...incident, state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: by } };
}

/** A person resolves it (even while the condition lasts: a new raise opens a new incident). Twice is once. */
export function resolve(tracker: Tracker | undefined, incidentId: string, by: string, now: number): Tracker | ActionRefusal {
  const incident = tracker?.incident;
  if (!tracker || incident?.incidentId !== incidentId) return 'not-found';
  if (incident.state === 'resolved') return tracker;
  return { ...tracker, incident: { ...incident, state: 'resolved', resolvedAt: now, resolvedBy: by } };
}

export type Timer =
  { type: 'escalate'; incidentId: string; step: number; dueAt: number } | { type: 'settle'; incidentId: string; dueAt: number };

/**
 * The timers a tracker needs armed: the step owed, else the settle check while recovering. Armed after every write and on every retry, whether or not the write changed
 * anything, so a timer lost between a write and its arming is armed again; a timer that fires
 * twice is refused the second time by `escalate`/`settle`.
 */
export function timersFor(tracker: Tracker, settings: IncidentSettings): Timer[] {
  const incident = liveIncident(tracker);
  if (!incident) return [];
  const step = owedStep(incident);
  if (step !== null) return [{ type: 'escalate', incidentId: incident.incidentId, step, dueAt: stepDueAt(incident, step) }];
  if (incident.recoveredAt !== null)
    return [{ type: 'settle', incidentId: incident.incidentId, dueAt: incident.recoveredAt + settings.settleMs }];
  return [];
}
