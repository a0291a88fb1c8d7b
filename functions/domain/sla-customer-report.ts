import type { EventType } from '../../protocol/events.ts';
import type { CustomerReportView, CustomerSiteView, Verdict } from './sla-customer-view.ts';
import type { DeclaredBy, Incident, SiteSla, SlaReport } from './sla-report.ts';
import { formatDuration, isLocalMidnight, localDate, localDateTime } from './time-words.ts';

// The SLA report in a customer's words (sla-customer-view.ts): names instead of ids, local times,
// one verdict per target, what happened in plain sentences. Pure.

export interface CustomerContext {
  resellerName: string;
  /** The customer the report is scoped to; null for all the reseller's customers. */
  customerName: string | null;
  /** Every customer's name by id, for the sites' headings. */
  customerNames: Readonly<Record<string, string>>;
  /** When the report was made. */
  now: number;
}

/** At most this many lines of timeline per site: the rest is in the CSV and JSON. */
export const timelineLimit = 12;

/** 0.99953 → "99.95 %": rounded down, so a figure just under its target never reads as meeting it. */
export function percentDown(ratio: number): string {
  const thousandths = Math.floor(ratio * 100_000) / 1000;
  return `${thousandths.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 3 })} %`;
}

const targetPercent = (ratio: number): string =>
  `${(Math.round(ratio * 100_000) / 1000).toLocaleString('en-GB', { maximumFractionDigits: 3 })} %`;

const incidentWords: Partial<Record<EventType, string>> = {
  'node.lost': 'A server stopped answering',
  'site.down': 'The whole site could not be reached',
  'link.lost': 'The link between the two servers was cut',
  'node.degraded': 'A server reported poor health',
  'command.unacknowledged': 'A server did not carry out an instruction',
  'alert.raised': 'An alert from equipment on site (UPS, monitoring)',
};

export function customerView(report: SlaReport, context: CustomerContext): CustomerReportView {
  const zone = report.timeZone;
  const { from, to, observedUntil, partial } = report.period;
  const dayBounds = isLocalMidnight(from, zone) && isLocalMidnight(to, zone);
  const periodLabel = dayBounds
    ? `${localDate(from, zone)} – ${localDate(to - 1, zone)} (times in ${zone})`
    : `${localDateTime(from, zone)} – ${localDateTime(to, zone)} (times in ${zone})`;
  const who = context.customerName ?? context.resellerName;
  return {
    title: `Service report — ${who}`,
    resellerName: context.resellerName,
    customerName: context.customerName,
    periodLabel,
    partialNote: partial
      ? `Measured up to ${localDateTime(observedUntil, zone)}: the period is not over, so these figures are so far.`
      : null,
    generatedAt: `${localDateTime(context.now, zone)} (${zone})`,
    sites: report.sites.map((site) => siteView(report, site, context)),
    howMeasured: howMeasured(report),
  };
}

function siteView(report: SlaReport, site: SiteSla, context: CustomerContext): CustomerSiteView {
  const zone = report.timeZone;
  const when = (ms: number): string => localDateTime(ms, zone);
  return {
    siteName: site.name ?? site.siteId,
    customerName: (site.customerId === null ? undefined : context.customerNames[site.customerId]) ?? '—',
    liveNote: liveNote(report, site, when),
    verdicts: verdicts(site),
    figures: figures(site),
    ...timeline(report, site, when),
    incidents: site.incidents.map((i) => ({
      what: (i.kind === null ? undefined : incidentWords[i.kind]) ?? 'Another condition',
      opened: when(i.openedAt),
      acknowledged: i.acknowledgedAt === null ? '—' : when(i.acknowledgedAt),
      resolved: i.resolvedAt === null ? 'not yet' : when(i.resolvedAt),
      timeToAcknowledge: acknowledgement(i, site.targets.timeToAcknowledge.targetMs),
    })),
    maintenance: site.maintenanceWindows.map((w) => ({
      from: when(w.start),
      to: when(w.end),
      reason: w.reason,
      declared:
        (w.declaredAt === null ? 'not recorded' : `${when(w.declaredAt)} by ${declarer(w.declaredBy)}`) +
        (w.countedFrom > w.start ? ' (counts from then)' : ''),
    })),
    // The retention and the silent survivor say what the figures cannot know; a forced failover is on the timeline.
    notes: site.notes.filter((n) => n.kind !== 'forced-failover').map((n) => n.text),
  };
}

function liveNote(report: SlaReport, site: SiteSla, when: (ms: number) => string): string | null {
  if (site.goLiveAt === null) return 'Not yet live: no server has run as primary yet, so there is nothing to measure.';
  if (site.judgedFrom === null) return `Not yet live in this period: it went live ${when(site.goLiveAt)}.`;
  if (site.goLiveAt > report.period.from) return `Went live ${when(site.goLiveAt)}; measured from then.`;
  return null;
}

function verdicts(site: SiteSla): Verdict[] {
  const { availability, timeToAcknowledge } = site.targets;
  const availabilityVerdict: Verdict =
    availability.actual === null || availability.met === null
      ? { text: `Availability — not measured (not yet live); target ${targetPercent(availability.target)}`, met: null }
      : {
          text: `Availability ${percentDown(availability.actual)} — target ${targetPercent(availability.target)} ${availability.met ? 'met' : 'missed'}`,
          met: availability.met,
        };
  const target = formatDuration(timeToAcknowledge.targetMs);
  const acknowledged = site.incidents.filter((i) => i.timeToAcknowledgeMs !== null);
  const pending = site.incidents.filter((i) => i.acknowledgement === 'pending').length;
  const late = timeToAcknowledge.missedEventIds.length;
  let text: string;
  if (site.incidents.length === 0) text = `Time to acknowledge — no incident in this period; target ${target} met`;
  else if (acknowledged.length === 0)
    text = `Time to acknowledge — no incident needed acknowledging; target ${target} ${late > 0 ? 'missed' : 'met'}`;
  else
    text = `Time to acknowledge: longest ${formatDuration(site.timeToAcknowledge.maxMs)} — target ${target} ${late > 0 ? 'missed' : 'met'}`;
  if (late > 0) text += ` (${plural(late, 'incident')} not acknowledged in time)`;
  else if (pending > 0) text += ` so far (${plural(pending, 'incident')} awaiting acknowledgement)`;
  return [availabilityVerdict, { text, met: timeToAcknowledge.met }];
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function figures(site: SiteSla): { label: string; value: string }[] {
  if (site.judgedFrom === null) return [{ label: 'Time measured', value: 'none (not yet live)' }];
  const forced = site.failovers.filter((f) => f.forced !== null).length;
  const longest = site.failovers.reduce((max, f) => Math.max(max, f.durationMs), 0);
  return [
    { label: 'Time measured', value: formatDuration(site.periodMs) },
    { label: 'Downtime (no server running as primary)', value: site.downtimeMs === 0 ? 'none' : formatDuration(site.downtimeMs) },
    {
      label: 'of which in planned maintenance',
      value: site.downtimeInMaintenanceMs === 0 ? 'none' : formatDuration(site.downtimeInMaintenanceMs),
    },
    { label: 'Planned maintenance', value: site.maintenanceMs === 0 ? 'none' : formatDuration(site.maintenanceMs) },
    {
      label: 'Failovers (the standby took over)',
      value:
        site.failovers.length === 0
          ? 'none'
          : `${site.failovers.length}${forced > 0 ? ` (${forced} forced by an operator)` : ''}, the longest ${formatDuration(longest)} without a primary`,
    },
    { label: 'Running on one server (survivor mode)', value: site.survivorModeMs === 0 ? 'never' : formatDuration(site.survivorModeMs) },
    { label: 'Incidents', value: String(site.incidents.length) },
  ];
}

function acknowledgement(i: Incident, targetMs: number): string {
  const target = formatDuration(targetMs);
  switch (i.acknowledgement) {
    case 'met':
      return `${formatDuration(i.timeToAcknowledgeMs)} (target ${target} met)`;
    case 'missed':
      return i.timeToAcknowledgeMs === null
        ? `not acknowledged (target ${target} missed)`
        : `${formatDuration(i.timeToAcknowledgeMs)} (target ${target} missed)`;
    case 'not-required':
      return 'not needed: resolved on its own';
    case 'pending':
      return 'awaiting acknowledgement';
  }
}

function declarer(by: DeclaredBy | null): string {
  if (by === null) return 'unknown';
  switch (by.kind) {
    case 'api-key':
      return 'your service provider';
    case 'admin':
      return 'the service operator';
    case 'node':
      return `the agent on server ${by.nodeId}`;
  }
}

interface Line {
  at: number;
  text: string;
}

function timeline(report: SlaReport, site: SiteSla, when: (ms: number) => string): Pick<CustomerSiteView, 'timeline' | 'timelineOmitted'> {
  const { from, observedUntil } = report.period;
  const lines: Line[] = [];
  if (site.goLiveAt !== null && site.goLiveAt >= from && site.goLiveAt < observedUntil) {
    const first = site.held[0];
    lines.push({ at: site.goLiveAt, text: `The service went live${first?.nodeId ? `: server ${first.nodeId} became the primary` : ''}.` });
  }
  for (const f of site.failovers) {
    const text =
      f.forced !== null
        ? `An operator declared server ${f.fromNode} powered off and made server ${f.toNode ?? 'the other'} the primary.`
        : f.toNode === f.fromNode
          ? `Server ${f.fromNode} took up the primary role again after ${formatDuration(f.durationMs)} without a primary.`
          : f.durationMs === 0
            ? `The primary role passed from server ${f.fromNode} to server ${f.toNode ?? 'the other'} without interruption.`
            : `Server ${f.fromNode} stopped; server ${f.toNode ?? 'the other'} took over in ${formatDuration(f.durationMs)}.`;
    lines.push({ at: f.at, text });
  }
  const failoverAt = new Set(site.failovers.map((f) => f.at));
  for (const d of site.downtime) {
    // A gap a failover closed is told by the failover; the time before go-live is not downtime.
    if (failoverAt.has(d.end)) continue;
    const why =
      d.cause === 'site.down'
        ? 'the site could not be reached'
        : d.cause === 'node.lost'
          ? 'the primary server stopped answering'
          : 'no server held the role';
    const ongoing = d.end >= observedUntil && report.period.partial;
    const planned = d.inMaintenanceMs === d.durationMs ? ', during planned maintenance' : '';
    lines.push({
      at: d.start,
      text: ongoing
        ? `No server has been running as primary since then (${why}${planned}).`
        : `No server ran as primary for ${formatDuration(d.durationMs)}, until ${when(d.end)} (${why}${planned}).`,
    });
  }
  for (const v of site.survivorMode) {
    lines.push({
      at: v.start,
      text: `Server ${v.excludedNode ?? 'one'} could not be reached; server ${v.nodeId ?? 'the other'} kept running alone (survivor mode), so no automatic failover was possible${v.endedBy === null ? '' : ` for ${formatDuration(v.durationMs)}`}.`,
    });
    if (v.endedBy !== null && v.end < observedUntil) {
      const how = v.endedBy === 'force' ? 'after the forced failover' : v.endedBy === 'operator' ? 'readmitted by an operator' : 'back';
      lines.push({
        at: v.end,
        text: `Server ${v.excludedNode ?? 'the other'} ${how === 'back' ? 'was back' : `rejoined, ${how}`}: both servers protect the service again.`,
      });
    }
  }
  for (const w of site.maintenance)
    lines.push({ at: w.start, text: `Planned maintenance for ${formatDuration(w.durationMs)}: ${w.reasons.join('; ')}.` });
  lines.sort((a, b) => a.at - b.at);
  return {
    timeline: lines.slice(0, timelineLimit).map((l) => ({ at: when(l.at), text: l.text })),
    timelineOmitted: Math.max(0, lines.length - timelineLimit),
  };
}

function howMeasured(report: SlaReport): string[] {
  const target = report.targets;
  return [
    'Availability is the share of the measured time in which one of the two servers ran as primary, as recorded by the cloud witness that grants that role. ' +
      'A site is measured from its go-live (its first primary), and never past the moment this report was made.',
    'Downtime is time with no server running as primary: from the moment the last primary’s lease ran out until a server took over, or the same one came back.',
    `Planned maintenance forgives downtime inside a window declared in advance, nothing more: the figure judged against the ${targetPercent(target.availability)} target is ` +
      '1 − (downtime outside maintenance ÷ measured time), so it is never below plain availability. A window counts only from when it was declared, and none can be declared for time that has passed.',
    `Time to acknowledge runs from an incident’s opening to your service provider’s first acknowledgement (target ${formatDuration(target.timeToAcknowledgeMs)}). An incident that resolved on its own needed none.`,
    'In survivor mode one server has been unreachable for a while and the other runs alone: the service counts as available, but no automatic failover was possible until both were back.',
    'Every figure comes from the witness’s recorded events; your service provider can give you the detailed report (CSV or JSON) that names each one.',
  ];
}
