import type { EventType, StoredEvent } from '../../protocol/events.ts';

// A reseller's SLA report, computed from each site's audit trail (DESIGN.md, "Events" and
// "Incidents and escalation"). Pure: the period comes in as [from, to) in ms and the present as
// `now`; nothing reads a clock. Only what has happened is judged: a period is observed up to
// min(to, now), and a site from its go-live (its first grant). Every interval, failover and
// incident keeps the ids of the events it came from (`eventIds`), so each figure can be checked
// against the trail.

/** Who declared a maintenance window: a reseller's API key, the operator's admin key, or a site's agent. */
export type DeclaredBy = { kind: 'api-key'; keyId: string } | { kind: 'admin' } | { kind: 'node'; nodeId: string };

export interface MaintenanceWindow {
  start: number;
  end: number;
  reason: string;
  /** When it was declared; absent for windows stored before declarations were recorded. */
  declaredAt?: number | null | undefined;
  declaredBy?: DeclaredBy | null | undefined;
}

export interface SlaSiteInput {
  siteId: string;
  /** When the site was created: a site created after the period is left out. Its figures start at its go-live (first grant). */
  activeFrom?: number;
  customerId?: string;
  name?: string;
  /** The site's audit trail, in any order; may start before `from` and run past `to`. */
  events: readonly StoredEvent[];
  maintenance: readonly MaintenanceWindow[];
}

/** The contract. */
export interface SlaTargets {
  /** Judged on `availabilityExcludingMaintenance`, e.g. 0.999. */
  availability: number;
  timeToAcknowledgeMs: number;
}

export interface SlaReportInput {
  resellerId: string;
  /** The period is [from, to), ms since the Unix epoch. */
  from: number;
  to: number;
  /** The present: nothing after it has happened, so the period is observed up to min(to, now). */
  now: number;
  /** IANA time zone the reseller reads times in (carried to the renderings; the figures do not depend on it). */
  timeZone?: string;
  sites: readonly SlaSiteInput[];
  targets: SlaTargets;
  /**
   * How long the audit trail keeps events (`days`), and so the earliest instant whose events are
   * surely still there (`since`: now − retention). A period starting before it gets a note.
   */
  auditRetention?: { days: number; since: number };
}

/** A primary held the role over [start, end), clipped to the period. */
export interface HeldInterval {
  nodeId: string | null;
  start: number;
  end: number;
  durationMs: number;
  /**
   * The grant that started it; when the same primary took the role up again after its lease ran
   * out, the return that told its renewal (after the event that had ended it, if the lease had
   * not run out after all); then the event that ended it (none when still held at `to`).
   */
  eventIds: string[];
}

/** No primary over [start, end), clipped to the period. */
export interface DowntimeInterval {
  start: number;
  end: number;
  durationMs: number;
  inMaintenanceMs: number;
  /** What ended the previous hold: its primary stopped being heard (`node.lost`), the whole site did (`site.down`); null when no loss was reported (only the next grant told the lease end). */
  cause: 'node.lost' | 'site.down' | null;
  /** The event that ended the previous hold and the grant (or the same primary's renewal) that ended the gap, when there are. */
  eventIds: string[];
}

/**
 * A declared window as the report counts it: from its start or its declaration, whichever is later
 * (a window declared after the fact excuses nothing before it was declared), clipped to the
 * observed period; `countedMs` 0 when none of it falls there.
 */
export interface MaintenanceRecord {
  start: number;
  end: number;
  reason: string;
  declaredAt: number | null;
  declaredBy: DeclaredBy | null;
  countedFrom: number;
  countedMs: number;
}

/** Maintenance windows (as counted) merged where they overlap, clipped to the observed period. */
export interface MaintenancePeriod {
  start: number;
  end: number;
  durationMs: number;
  reasons: string[];
}

export interface Failover {
  at: number;
  fromNode: string;
  toNode: string | null;
  epoch: number | null;
  previousLeaseEndedAt: number | null;
  /** No primary → primary again: `at − previousLeaseEndedAt`, 0 when the role passed without a gap. */
  durationMs: number;
  /**
   * Set when an operator forced it (survivor mode's override, `failover.forced`): who, and what
   * they declared. The previous primary counts as holding the role until the force: the witness
   * cannot tell when it really stopped.
   */
  forced: ForcedBy | null;
  eventIds: string[];
}

export interface ForcedBy {
  /** The API key that forced it. */
  keyId: string | null;
  /** The words the operator sent (`<survivor> is powered off`). */
  confirm: string | null;
  reason: string | null;
}

/**
 * Survivor mode (W5) over [start, end), clipped to the period: one node ran alone on a standalone
 * lease while the witness excluded the other. The site had a primary (it counts as held), but no
 * failover was possible without an operator.
 */
export interface SurvivorInterval {
  /** The survivor, whose lease was standalone. */
  nodeId: string | null;
  /** The node the witness excluded. */
  excludedNode: string | null;
  start: number;
  end: number;
  durationMs: number;
  /** What ended it (`node.readmitted`'s `by`: survivor, operator, force, lapsed); null if it lasted past the trail. */
  endedBy: string | null;
  /** The `node.excluded` that began it, then the event that ended it when there is one. */
  eventIds: string[];
}

/** Something the figures cannot tell, said in words, with the events it is about. */
export interface ReportNote {
  /** `retention`: the period starts before the trail's retention; `silent-survivor`, `forced-failover`: see notesOf. */
  kind: 'retention' | 'silent-survivor' | 'forced-failover';
  at: number;
  text: string;
  eventIds: string[];
}

/**
 * How an incident stands against the time-to-acknowledge target: `met`/`missed` once acknowledged;
 * `not-required` when resolved without acknowledgement (auto-resolved on recovery); while
 * unacknowledged, `missed` if open at the end of the observed period longer than the target, else `pending`.
 */
export type AcknowledgementStanding = 'met' | 'missed' | 'not-required' | 'pending';

export interface Incident {
  incidentId: string | null;
  kind: EventType | null;
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  timeToAcknowledgeMs: number | null;
  timeToResolveMs: number | null;
  acknowledgement: AcknowledgementStanding;
  /** The opening event, then the acknowledgement and the resolution when there are. */
  eventIds: string[];
}

export interface DurationStats {
  count: number;
  meanMs: number | null;
  maxMs: number | null;
}

export interface SiteTargets {
  /** `actual` and `met` are null while the site has no observed time since its go-live (nothing to judge). */
  availability: { target: number; actual: number | null; met: boolean | null };
  timeToAcknowledge: {
    targetMs: number;
    met: boolean;
    /** Opening event ids of the incidents that missed it. */
    missedEventIds: string[];
  };
}

export interface SiteSla {
  siteId: string;
  customerId: string | null;
  name: string | null;
  /** The site's first grant (in the trail), when it went live; null if it never has. */
  goLiveAt: number | null;
  /** The judged part of the period: [judgedFrom, observedUntil), from the later of `from` and the go-live; null when none (not yet live). */
  judgedFrom: number | null;
  /** Length of the judged part; 0 when the site was not live in the observed period. */
  periodMs: number;
  heldMs: number;
  downtimeMs: number;
  /** held ÷ judged time; null when there is no judged time. */
  availability: number | null;
  maintenanceMs: number;
  downtimeInMaintenanceMs: number;
  /** Downtime outside maintenance: what the contract counts. */
  unplannedDowntimeMs: number;
  /** 1 − unplanned downtime ÷ judged time: downtime inside a maintenance window is forgiven, never more; null when nothing is judged. */
  availabilityExcludingMaintenance: number | null;
  held: HeldInterval[];
  downtime: DowntimeInterval[];
  /** Each declared window, with who declared it and when, and what of it counts. */
  maintenanceWindows: MaintenanceRecord[];
  maintenance: MaintenancePeriod[];
  failovers: Failover[];
  /** Time in survivor mode: a primary, but a single node, and no automatic failover. */
  survivorModeMs: number;
  survivorMode: SurvivorInterval[];
  incidents: Incident[];
  timeToAcknowledge: DurationStats;
  timeToResolve: DurationStats;
  targets: SiteTargets;
  /** What the witness could not know, and how the figures count it (e.g. a survivor's standalone lease while the site was silent). */
  notes: ReportNote[];
  /** Events in the site's trail that belong to another site (or have no readable time): skipped. */
  ignoredEventIds: string[];
}

export interface ResellerTotals {
  sites: number;
  /** Sites without a grant before the end of the observed period: listed, not judged. */
  sitesNotYetLive: number;
  /** Sums over the sites: site-periods, not wall-clock time. */
  periodMs: number;
  heldMs: number;
  downtimeMs: number;
  maintenanceMs: number;
  downtimeInMaintenanceMs: number;
  unplannedDowntimeMs: number;
  /** Sum held ÷ sum judged time; null when no site was live. */
  availability: number | null;
  /** 1 − sum unplanned downtime ÷ sum judged time; null when no site was live. */
  availabilityExcludingMaintenance: number | null;
  failovers: number;
  /** Of the failovers, those an operator forced. */
  forcedFailovers: number;
  survivorModeMs: number;
  incidents: number;
  timeToAcknowledge: DurationStats;
  timeToResolve: DurationStats;
  sitesMeetingAvailabilityTarget: number;
  sitesMeetingTimeToAcknowledgeTarget: number;
}

/** The period asked for, and the part of it that has happened. */
export interface ReportPeriod {
  from: number;
  to: number;
  /** min(to, now), and never before `from`: figures stop here. */
  observedUntil: number;
  /** observedUntil − from. */
  observedMs: number;
  /** The period is not over: its figures are so far. */
  partial: boolean;
}

export interface SlaReport {
  resellerId: string;
  period: ReportPeriod;
  /** IANA zone the renderings print times in (UTC unless the reseller chose one). */
  timeZone: string;
  targets: SlaTargets;
  sites: SiteSla[];
  totals: ResellerTotals;
}

export function computeSlaReport(input: SlaReportInput): SlaReport {
  const { from, to, now } = input;
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) throw new RangeError(`empty or invalid period [${from}, ${to})`);
  if (!Number.isFinite(now)) throw new RangeError(`invalid now ${now}`);
  const observedUntil = Math.max(from, Math.min(to, now));
  const period: ReportPeriod = { from, to, observedUntil, observedMs: observedUntil - from, partial: observedUntil < to };
  const sites = input.sites
    .filter((site) => (site.activeFrom ?? from) < to)
    .map((site) => siteSla(site, period, input.targets, input.auditRetention));
  return { resellerId: input.resellerId, period, timeZone: input.timeZone ?? 'UTC', targets: input.targets, sites, totals: totals(sites) };
}

// ---------------------------------------------------------------------------------------------
// The trail

interface Entry {
  event: StoredEvent;
  at: number;
}

/** The site's own events, by time then id, each id once (delivery is at least once). */
function trailOf(site: SlaSiteInput): { trail: Entry[]; ignoredEventIds: string[] } {
  const entries: Entry[] = [];
  const ignored = new Set<string>();
  for (const event of site.events) {
    const at = Date.parse(event.timestamp);
    if (event.data.siteId !== site.siteId || Number.isNaN(at)) ignored.add(event.id);
    else entries.push({ event, at });
  }
  // Plain comparison, not localeCompare: the order must not depend on the runtime's locale.
  entries.sort((a, b) => a.at - b.at || compare(a.event.id, b.event.id));
  const seen = new Set<string>();
  const trail: Entry[] = [];
  for (const entry of entries) {
    if (seen.has(entry.event.id)) continue;
    seen.add(entry.event.id);
    trail.push(entry);
  }
  return { trail, ignoredEventIds: [...ignored].filter((id) => !seen.has(id)).sort(compare) };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// Who held the role, and when nobody did

interface Span {
  start: number;
  end: number;
}

interface OpenHold {
  nodeId: string | null;
  /** The epoch it was granted at, when the grant tells it. */
  epoch: number | null;
  start: number;
  /** The latest moment it is known to have held the role (its start, or the last renewal told): it ends no earlier. */
  heldAt: number;
  /** The event it began with: its grant, or the return that told the same primary's renewal. */
  startId: string;
  /** What the figure came from, before the event that ends it (HeldInterval.eventIds). */
  sourceIds: string[];
}

interface Hold extends OpenHold, Span {
  endId: string | null;
  /** What ended it, when a loss did (not a grant). */
  endCause: 'node.lost' | 'site.down' | null;
}

/** The site's primary `nodeId`, at `epoch`, renewed its lease at `at` (a return tells it: events.ts). */
interface Renewal {
  nodeId: string;
  epoch: number;
  at: number;
}

/**
 * `primary`, `epoch`, `leaseRenewedAt` of a return (`node.recovered`, `site.recovered`): the
 * envelope's schema lets them through unchecked, so they are checked here. The renewal is told by
 * the event at or after it, never before (a return's time is its contact, or the latest contact).
 */
function renewalOf(event: StoredEvent, at: number): Renewal | null {
  if (event.type !== 'node.recovered' && event.type !== 'site.recovered') return null;
  const { primary, epoch, leaseRenewedAt } = event.data;
  if (typeof primary !== 'string' || typeof epoch !== 'number' || typeof leaseRenewedAt !== 'number' || !Number.isFinite(leaseRenewedAt))
    return null;
  return { nodeId: primary, epoch, at: Math.min(leaseRenewedAt, at) };
}

/**
 * Holds from the whole trail, unclipped; the last one runs on (end = +∞) if nothing ended it.
 *
 * A grant starts a hold and ends the one before; so does an operator's forced failover (the
 * previous primary, the survivor declared powered off, held the role until the force). A survivor
 * whose standalone lease has no end is not down when its site falls silent (`site.down` without
 * `leaseEndedAt`): the witness cannot tell whether it still runs, so its hold goes on. A primary that stops being heard (`node.lost` of
 * it, `site.down`) held the role until its lease ran out. If that same primary then renews its
 * lease at the epoch its grant told (no grant in between: nobody else was granted), it holds the
 * role again from the renewal; else the site would count as having no primary until the next
 * failover. A node heard again without renewing (the secondary, or the primary not yet acting as
 * one) takes nothing up again.
 */
function holdsOf(trail: readonly Entry[]): Hold[] {
  const holds: Hold[] = [];
  let current: OpenHold | undefined;
  // The last hold, if its primary's lease ran out and no grant came since: the one a renewal takes up.
  let lapsed: Hold | undefined;
  const close = (end: number, endId: string, endCause: Hold['endCause'] = null): Hold | undefined => {
    if (!current) return undefined;
    const hold = { ...current, end: Math.max(end, current.heldAt), endId, endCause };
    holds.push(hold);
    current = undefined;
    return hold;
  };
  // A lease end told again, earlier, after the hold was closed (the grant that follows a loss tells
  // it too): the earliest report stands, so that a report more can only shorten a hold.
  const trim = (hold: Hold | undefined, reportedEnd: number | null | undefined): void => {
    if (hold && reportedEnd != null && reportedEnd < hold.end) hold.end = Math.max(reportedEnd, hold.heldAt);
  };
  for (const { event, at } of trail) {
    const d = event.data;
    if (event.type === 'failover.granted' || event.type === 'failover.forced') {
      if (!current) trim(lapsed, d.previousLeaseEndedAt);
      // previousLeaseEndedAt null: the role passed without a gap.
      close(d.previousLeaseEndedAt ?? at, event.id);
      lapsed = undefined;
      current = { nodeId: d.nodeId ?? null, epoch: d.epoch ?? null, start: at, heldAt: at, startId: event.id, sourceIds: [event.id] };
    } else if (event.type === 'node.lost' && current && d.nodeId === current.nodeId && d.leaseEndedAt != null) {
      lapsed = close(d.leaseEndedAt, event.id, 'node.lost');
    } else if (event.type === 'site.down' && current && d.leaseEndedAt != null) {
      lapsed = close(d.leaseEndedAt, event.id, 'site.down');
    } else if ((event.type === 'site.down' || (event.type === 'node.lost' && d.nodeId === lapsed?.nodeId)) && !current) {
      trim(lapsed, d.leaseEndedAt);
    } else {
      const renewal = renewalOf(event, at);
      if (!lapsed || renewal?.nodeId !== lapsed.nodeId || renewal.epoch !== lapsed.epoch) continue;
      const { endId, end, ...held } = lapsed;
      if (renewal.at <= end) {
        // Renewed before the lease it was thought to have lost ran out: the hold never ended (and
        // held at least to that lease end). It is the last one pushed (only a grant pushes
        // another, and a grant clears `lapsed`).
        holds.pop();
        current = { ...held, heldAt: end, sourceIds: unique([...held.sourceIds, ...(endId === null ? [] : [endId]), event.id]) };
      } else {
        // Its grant, then the return that told the renewal.
        current = {
          ...held,
          start: renewal.at,
          heldAt: renewal.at,
          startId: event.id,
          sourceIds: [held.sourceIds[0] ?? event.id, event.id],
        };
      }
      lapsed = undefined;
    }
  }
  if (current) holds.push({ ...current, end: Number.POSITIVE_INFINITY, endId: null, endCause: null });
  // One primary at a time: a lease end reported past the next grant is cut at that grant.
  return holds.map((hold, i) => {
    const next = holds[i + 1];
    return next && next.start < hold.end ? { ...hold, end: Math.max(hold.start, next.start) } : hold;
  });
}

type Gap = Span & { eventIds: string[]; cause: Hold['endCause'] };

/** The complement of the holds over the whole line, each gap naming the events around it. */
function gapsOf(holds: readonly Hold[]): Gap[] {
  const gaps: Gap[] = [];
  let start = Number.NEGATIVE_INFINITY;
  let endedBy: string | null = null;
  let cause: Hold['endCause'] = null;
  for (const hold of [...holds, null]) {
    const end = hold ? hold.start : Number.POSITIVE_INFINITY;
    const ids = [endedBy, hold?.startId ?? null].filter((id): id is string => id !== null);
    const last = gaps.at(-1);
    if (end > start) {
      // A zero-length hold between two gaps does not split them.
      if (last?.end === start) {
        last.end = end;
        last.eventIds = unique([...last.eventIds, ...ids]);
      } else gaps.push({ start, end, eventIds: unique(ids), cause });
    }
    if (!hold) break;
    start = Math.max(start, hold.end);
    endedBy = hold.endId;
    cause = hold.endCause;
  }
  return gaps;
}

const unique = (ids: readonly string[]): string[] => [...new Set(ids)];

function clip<T extends Span>(spans: readonly T[], from: number, to: number): T[] {
  return spans
    .map((span) => ({ ...span, start: Math.max(span.start, from), end: Math.min(span.end, to) }))
    .filter((span) => span.end > span.start);
}

/** Total length of the intersection of two lists of disjoint spans. */
function overlapMs(a: readonly Span[], b: readonly Span[]): number {
  let total = 0;
  for (const x of a) for (const y of b) total += Math.max(0, Math.min(x.end, y.end) - Math.max(x.start, y.start));
  return total;
}

const lengthMs = (spans: readonly Span[]): number => spans.reduce((sum, span) => sum + (span.end - span.start), 0);

/**
 * Each window as declared, and as counted: from its start or its declaration, whichever is later,
 * within the judged span (`span`, null when nothing is judged).
 */
function maintenanceRecordsOf(windows: readonly MaintenanceWindow[], span: Span | null): MaintenanceRecord[] {
  return windows
    .map((w) => {
      const declaredAt = w.declaredAt ?? null;
      const countedFrom = Math.max(w.start, declaredAt ?? w.start);
      const counted = span ? Math.min(w.end, span.end) - Math.max(countedFrom, span.start) : 0;
      return {
        start: w.start,
        end: w.end,
        reason: w.reason,
        declaredAt,
        declaredBy: w.declaredBy ?? null,
        countedFrom,
        countedMs: Math.max(0, counted),
      };
    })
    .sort((a, b) => a.start - b.start || a.end - b.end || compare(a.reason, b.reason));
}

/** The counted parts of the windows, merged where they overlap, within the judged span. */
function mergeMaintenance(records: readonly MaintenanceRecord[], span: Span | null): MaintenancePeriod[] {
  if (!span) return [];
  const counted = records.map((r) => ({ start: r.countedFrom, end: r.end, reason: r.reason }));
  const sorted = clip(counted, span.start, span.end).sort((a, b) => a.start - b.start || a.end - b.end || compare(a.reason, b.reason));
  const merged: MaintenancePeriod[] = [];
  for (const w of sorted) {
    const last = merged.at(-1);
    if (last && w.start <= last.end) {
      last.end = Math.max(last.end, w.end);
      last.durationMs = last.end - last.start;
      if (!last.reasons.includes(w.reason)) last.reasons.push(w.reason);
    } else merged.push({ start: w.start, end: w.end, durationMs: w.end - w.start, reasons: [w.reason] });
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Failovers and incidents

function failoversOf(trail: readonly Entry[], from: number, to: number): Failover[] {
  const failovers: Failover[] = [];
  for (const { event, at } of trail) {
    const d = event.data;
    const forced = event.type === 'failover.forced';
    if ((event.type !== 'failover.granted' && !forced) || at < from || at >= to || d.previousPrimary == null) continue;
    const previousLeaseEndedAt = d.previousLeaseEndedAt ?? null;
    failovers.push({
      at,
      fromNode: d.previousPrimary,
      toNode: d.nodeId ?? null,
      epoch: d.epoch ?? null,
      previousLeaseEndedAt,
      durationMs: previousLeaseEndedAt === null ? 0 : Math.max(0, at - previousLeaseEndedAt),
      forced: forced ? { keyId: text(d.keyId), confirm: text(d.confirm), reason: text(d.reason) } : null,
      eventIds: [event.id],
    });
  }
  return failovers;
}

/** A field the envelope's schema lets through unchecked, if it is text. */
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

// ---------------------------------------------------------------------------------------------
// Survivor mode, and what the witness cannot tell of it

/**
 * From each `node.excluded` to the `node.readmitted` that ended it (found by the node and the
 * exclusion's time, `excludedAt`), unclipped; one still on runs to +∞. A site has one exclusion at
 * a time: a `node.excluded` while another is on (its end missing from the trail) ends that one.
 */
function survivorModeOf(trail: readonly Entry[]): (SurvivorInterval & Span)[] {
  const intervals: (SurvivorInterval & Span)[] = [];
  let current: (SurvivorInterval & Span) | undefined;
  for (const { event, at } of trail) {
    const d = event.data;
    if (event.type === 'node.excluded') {
      if (current) current.end = at;
      current = {
        nodeId: text(d.survivor),
        excludedNode: d.nodeId ?? null,
        start: at,
        end: Number.POSITIVE_INFINITY,
        durationMs: 0,
        endedBy: null,
        eventIds: [event.id],
      };
      intervals.push(current);
    } else if (
      event.type === 'node.readmitted' &&
      current?.excludedNode === (d.nodeId ?? null) &&
      (typeof d.excludedAt !== 'number' || d.excludedAt === current.start)
    ) {
      current.end = at;
      current.endedBy = text(d.by);
      current.eventIds.push(event.id);
      current = undefined;
    }
  }
  return intervals;
}

/**
 * What the report counts without the witness knowing it: a survivor on a standalone lease without
 * end when its site fell silent (counted as holding the role: it may have run on, cut off), and the
 * survivor of a forced failover (counted as holding the role until the force).
 */
function notesOf(trail: readonly Entry[], holds: readonly Hold[], from: number, to: number): ReportNote[] {
  const holderAt = (at: number): string | null | undefined => holds.find((h) => h.start <= at && at < h.end)?.nodeId;
  const notes: ReportNote[] = [];
  for (const { event, at } of trail) {
    if (at < from || at >= to) continue;
    const d = event.data;
    const holder = holderAt(at);
    if (event.type === 'site.down' && d.leaseEndedAt == null && holder != null) {
      notes.push({
        kind: 'silent-survivor',
        at,
        text:
          `The site fell silent while ${holder} ran on a standalone lease (survivor mode): the witness cannot tell whether ${holder} kept running, ` +
          `so the report counts it as holding the role through the silence.`,
        eventIds: [event.id],
      });
    } else if (event.type === 'failover.forced' && typeof d.previousPrimary === 'string') {
      notes.push({
        kind: 'forced-failover',
        at,
        text:
          `${d.nodeId ?? 'A node'} was forced primary by an operator (key ${text(d.keyId) ?? 'unknown'}), who declared "${text(d.confirm) ?? ''}". ` +
          `The report counts ${d.previousPrimary} as holding the role until then: the witness cannot tell when it really stopped.`,
        eventIds: [event.id],
      });
    }
  }
  return notes;
}

/**
 * The period starts before the trail's retention: its early events may have been deleted, so the
 * figures up to then (who held the role, failovers, incidents) may be missing some.
 */
function retentionNote(from: number, retention: { days: number; since: number }): ReportNote {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return {
    kind: 'retention',
    at: from,
    text:
      `The period starts (${day(from)}) before the audit trail's retention: events are kept ${String(retention.days)} days, so those before ` +
      `${new Date(retention.since).toISOString()} may have been deleted, and the figures up to then may miss failovers, incidents and downtime.`,
    eventIds: [],
  };
}

interface OpenIncident {
  incidentId: string | null;
  kind: EventType | null;
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  eventIds: string[];
}

/**
 * Incidents opened in the period, matched by `incidentId` with their acknowledgement and
 * resolution wherever those fall in the trail (after `to` too). An `incident.opened` for an id
 * already open updates it and opens nothing; after its resolution the same id may open again.
 */
function incidentsOf(trail: readonly Entry[], from: number, to: number, targetMs: number): Incident[] {
  const all: OpenIncident[] = [];
  const open = new Map<string, OpenIncident>();
  for (const { event, at } of trail) {
    const id = event.data.incidentId ?? null;
    const incident = id === null ? undefined : open.get(id);
    if (event.type === 'incident.opened' && !incident) {
      const opened: OpenIncident = {
        incidentId: id,
        kind: event.data.kind ?? null,
        openedAt: at,
        acknowledgedAt: null,
        resolvedAt: null,
        eventIds: [event.id],
      };
      all.push(opened);
      if (id !== null) open.set(id, opened);
    } else if (event.type === 'incident.acknowledged' && incident?.acknowledgedAt === null) {
      incident.acknowledgedAt = at;
      incident.eventIds.push(event.id);
    } else if (event.type === 'incident.resolved' && incident && id !== null) {
      incident.resolvedAt = at;
      incident.eventIds.push(event.id);
      open.delete(id);
    }
  }
  return all.filter((i) => i.openedAt >= from && i.openedAt < to).map((i) => standing(i, to, targetMs));
}

function standing(i: OpenIncident, to: number, targetMs: number): Incident {
  const since = (t: number | null): number | null => (t === null ? null : Math.max(0, t - i.openedAt));
  const timeToAcknowledgeMs = since(i.acknowledgedAt);
  const acknowledgement: AcknowledgementStanding =
    timeToAcknowledgeMs !== null
      ? timeToAcknowledgeMs <= targetMs
        ? 'met'
        : 'missed'
      : i.resolvedAt !== null
        ? 'not-required'
        : to - i.openedAt > targetMs
          ? 'missed'
          : 'pending';
  return { ...i, timeToAcknowledgeMs, timeToResolveMs: since(i.resolvedAt), acknowledgement };
}

function stats(durations: readonly (number | null)[]): DurationStats {
  const known = durations.filter((d): d is number => d !== null);
  if (known.length === 0) return { count: 0, meanMs: null, maxMs: null };
  return { count: known.length, meanMs: known.reduce((a, b) => a + b, 0) / known.length, maxMs: Math.max(...known) };
}

// ---------------------------------------------------------------------------------------------
// Per site, per reseller

/** The site's first grant (forced or not): it is live from then on. */
function goLiveOf(trail: readonly Entry[]): Entry | undefined {
  return trail.find(({ event }) => event.type === 'failover.granted' || event.type === 'failover.forced');
}

function siteSla(site: SlaSiteInput, period: ReportPeriod, targets: SlaTargets, retention?: SlaReportInput['auditRetention']): SiteSla {
  const { from, observedUntil } = period;
  const { trail, ignoredEventIds } = trailOf(site);
  const goLiveAt = goLiveOf(trail)?.at ?? null;
  // Judged from the later of `from` and the go-live, up to what has happened; before its go-live a
  // site is not yet live, not down.
  const judgedFrom = goLiveAt === null || Math.max(from, goLiveAt) >= observedUntil ? null : Math.max(from, goLiveAt);
  const span: Span | null = judgedFrom === null ? null : { start: judgedFrom, end: observedUntil };
  const within = <T extends Span>(spans: readonly T[]): T[] => (span ? clip(spans, span.start, span.end) : []);
  const periodMs = span ? span.end - span.start : 0;
  const holds = holdsOf(trail);
  const held: HeldInterval[] = within(holds).map((h) => ({
    nodeId: h.nodeId,
    start: h.start,
    end: h.end,
    durationMs: h.end - h.start,
    eventIds: unique(h.endId === null ? h.sourceIds : [...h.sourceIds, h.endId]),
  }));
  const maintenanceWindows = maintenanceRecordsOf(site.maintenance, span);
  const maintenance = mergeMaintenance(maintenanceWindows, span);
  const downtime: DowntimeInterval[] = within(gapsOf(holds)).map((g) => ({
    start: g.start,
    end: g.end,
    durationMs: g.end - g.start,
    inMaintenanceMs: overlapMs([g], maintenance),
    cause: g.cause,
    eventIds: g.eventIds,
  }));
  const heldMs = lengthMs(held);
  const downtimeMs = lengthMs(downtime);
  const downtimeInMaintenanceMs = downtime.reduce((sum, g) => sum + g.inMaintenanceMs, 0);
  const unplannedDowntimeMs = downtimeMs - downtimeInMaintenanceMs;
  const availability = ratio(heldMs, periodMs);
  // Maintenance forgives downtime inside it and nothing else: the contract figure is never below
  // the plain one (taking held time in a window out of the period would lower it).
  const availabilityExcludingMaintenance = ratio(periodMs - unplannedDowntimeMs, periodMs);
  const survivorMode: SurvivorInterval[] = within(survivorModeOf(trail)).map((v) => ({ ...v, durationMs: v.end - v.start }));
  const incidents = incidentsOf(trail, from, observedUntil, targets.timeToAcknowledgeMs);
  const missedEventIds = incidents.filter((i) => i.acknowledgement === 'missed').map((i) => i.eventIds[0] ?? '');
  return {
    siteId: site.siteId,
    customerId: site.customerId ?? null,
    name: site.name ?? null,
    goLiveAt,
    judgedFrom,
    periodMs,
    heldMs,
    downtimeMs,
    availability,
    maintenanceMs: lengthMs(maintenance),
    downtimeInMaintenanceMs,
    unplannedDowntimeMs,
    availabilityExcludingMaintenance,
    held,
    downtime,
    maintenanceWindows,
    maintenance,
    failovers: failoversOf(trail, from, observedUntil),
    survivorModeMs: lengthMs(survivorMode),
    survivorMode,
    incidents,
    timeToAcknowledge: stats(incidents.map((i) => i.timeToAcknowledgeMs)),
    timeToResolve: stats(incidents.map((i) => i.timeToResolveMs)),
    targets: {
      availability: {
        target: targets.availability,
        actual: availabilityExcludingMaintenance,
        met: availabilityExcludingMaintenance === null ? null : availabilityExcludingMaintenance >= targets.availability,
      },
      timeToAcknowledge: { targetMs: targets.timeToAcknowledgeMs, met: missedEventIds.length === 0, missedEventIds },
    },
    // A site made after the retention's start has lost nothing to it.
    notes: [
      ...(retention && Math.max(from, site.activeFrom ?? from) < retention.since ? [retentionNote(from, retention)] : []),
      ...notesOf(trail, holds, from, observedUntil),
    ],
    ignoredEventIds,
  };
}

/** Nothing judged (no live site, no observed time): no figure rather than a made-up 100 %. */
const ratio = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

function totals(sites: readonly SiteSla[]): ResellerTotals {
  const sum = (figure: (site: SiteSla) => number): number => sites.reduce((total, site) => total + figure(site), 0);
  const incidents = sites.flatMap((s) => s.incidents);
  const periodMs = sum((s) => s.periodMs);
  const heldMs = sum((s) => s.heldMs);
  const unplannedDowntimeMs = sum((s) => s.unplannedDowntimeMs);
  return {
    sites: sites.length,
    sitesNotYetLive: sites.filter((s) => s.judgedFrom === null).length,
    periodMs,
    heldMs,
    downtimeMs: sum((s) => s.downtimeMs),
    maintenanceMs: sum((s) => s.maintenanceMs),
    downtimeInMaintenanceMs: sum((s) => s.downtimeInMaintenanceMs),
    unplannedDowntimeMs,
    availability: ratio(heldMs, periodMs),
    availabilityExcludingMaintenance: ratio(periodMs - unplannedDowntimeMs, periodMs),
    failovers: sum((s) => s.failovers.length),
    forcedFailovers: sum((s) => s.failovers.filter((f) => f.forced !== null).length),
    survivorModeMs: sum((s) => s.survivorModeMs),
    incidents: incidents.length,
    timeToAcknowledge: stats(incidents.map((i) => i.timeToAcknowledgeMs)),
    timeToResolve: stats(incidents.map((i) => i.timeToResolveMs)),
    sitesMeetingAvailabilityTarget: sites.filter((s) => s.targets.availability.met === true).length,
    sitesMeetingTimeToAcknowledgeTarget: sites.filter((s) => s.targets.timeToAcknowledge.met).length,
  };
}
