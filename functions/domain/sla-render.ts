import type { DurationStats, Failover, SiteSla, SlaReport } from './sla-report.ts';

// The SLA report as a reseller downloads it. Pure: the report in, a string out.

export type SlaFormat = 'json' | 'csv' | 'html';

export function renderSlaReport(report: SlaReport, format: SlaFormat): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'csv':
      return renderCsv(report);
    case 'html':
      return renderHtml(report);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// JSON: the report as computed, each time in ms with its ISO form beside it (`start`, `startIso`).

const timeKeys = new Set(['from', 'to', 'start', 'end', 'at', 'openedAt', 'acknowledgedAt', 'resolvedAt', 'previousLeaseEndedAt']);

function withIsoTimes(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    out[key] = field;
    if (timeKeys.has(key)) out[`${key}Iso`] = typeof field === 'number' ? iso(field) : null;
  }
  return out;
}

function renderJson(report: SlaReport): string {
  return `${JSON.stringify(report, withIsoTimes, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180): one row per site, then the reseller's row.

type Cell = string | number | boolean | null;

const csvColumns = [
  'row',
  'reseller_id',
  'site_id',
  'customer_id',
  'name',
  'period_start',
  'period_end',
  'period_ms',
  'held_ms',
  'downtime_ms',
  'availability',
  'maintenance_ms',
  'downtime_in_maintenance_ms',
  'availability_excluding_maintenance',
  'availability_target',
  'availability_met',
  'failovers',
  'failover_downtime_ms',
  'incidents',
  'tta_count',
  'tta_mean_ms',
  'tta_max_ms',
  'ttr_count',
  'ttr_mean_ms',
  'ttr_max_ms',
  'tta_target_ms',
  'tta_met',
  'tta_missed',
  'sites',
  'sites_meeting_availability',
  'sites_meeting_tta',
  // Added with survivor mode: at the end, so that a reader by position keeps working.
  'forced_failovers',
  'survivor_mode_ms',
] as const;

type CsvRow = Record<(typeof csvColumns)[number], Cell>;

/**
 * A text cell a spreadsheet would read as a formula gets a leading `'` (tab and CR too, which
 * some spreadsheets skip before a formula); numbers are never touched. Then RFC 4180 quoting.
 */
export function csvField(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell !== 'string') return String(cell);
  const text = /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function siteRow(report: SlaReport, site: SiteSla): CsvRow {
  return {
    row: 'site',
    reseller_id: report.resellerId,
    site_id: site.siteId,
    customer_id: site.customerId,
    name: site.name,
    period_start: iso(report.from),
    period_end: iso(report.to),
    period_ms: site.periodMs,
    held_ms: site.heldMs,
    downtime_ms: site.downtimeMs,
    availability: site.availability,
    maintenance_ms: site.maintenanceMs,
    downtime_in_maintenance_ms: site.downtimeInMaintenanceMs,
    availability_excluding_maintenance: site.availabilityExcludingMaintenance,
    availability_target: site.targets.availability.target,
    availability_met: site.targets.availability.met,
    failovers: site.failovers.length,
    failover_downtime_ms: site.failovers.reduce((sum, f) => sum + f.durationMs, 0),
    forced_failovers: site.failovers.filter((f) => f.forced !== null).length,
    survivor_mode_ms: site.survivorModeMs,
    incidents: site.incidents.length,
    ...statCells(site.timeToAcknowledge, site.timeToResolve),
    tta_target_ms: site.targets.timeToAcknowledge.targetMs,
    tta_met: site.targets.timeToAcknowledge.met,
    tta_missed: site.targets.timeToAcknowledge.missedEventIds.length,
    sites: null,
    sites_meeting_availability: null,
    sites_meeting_tta: null,
  };
}

function statCells(tta: DurationStats, ttr: DurationStats): Pick<CsvRow, `${'tta' | 'ttr'}_${'count' | 'mean_ms' | 'max_ms'}`> {
  return { tta_count: tta.count, tta_mean_ms: tta.meanMs, tta_max_ms: tta.maxMs, ttr_count: ttr.count, ttr_mean_ms: ttr.meanMs, ttr_max_ms: ttr.maxMs };
}

function resellerRow(report: SlaReport): CsvRow {
  const t = report.totals;
  return {
    row: 'reseller',
    reseller_id: report.resellerId,
    site_id: null,
    customer_id: null,
    name: null,
    period_start: iso(report.from),
    period_end: iso(report.to),
    period_ms: t.periodMs,
    held_ms: t.heldMs,
    downtime_ms: t.downtimeMs,
    availability: t.availability,
    maintenance_ms: t.maintenanceMs,
    downtime_in_maintenance_ms: t.downtimeInMaintenanceMs,
    availability_excluding_maintenance: t.availabilityExcludingMaintenance,
    availability_target: report.targets.availability,
    availability_met: null,
    failovers: t.failovers,
    failover_downtime_ms: report.sites.reduce((sum, s) => sum + s.failovers.reduce((n, f) => n + f.durationMs, 0), 0),
    forced_failovers: t.forcedFailovers,
    survivor_mode_ms: t.survivorModeMs,
    incidents: t.incidents,
    ...statCells(t.timeToAcknowledge, t.timeToResolve),
    tta_target_ms: report.targets.timeToAcknowledgeMs,
    tta_met: null,
    tta_missed: report.sites.reduce((sum, s) => sum + s.targets.timeToAcknowledge.missedEventIds.length, 0),
    sites: t.sites,
    sites_meeting_availability: t.sitesMeetingAvailabilityTarget,
    sites_meeting_tta: t.sitesMeetingTimeToAcknowledgeTarget,
  };
}

function renderCsv(report: SlaReport): string {
  const rows = [...report.sites.map((site) => siteRow(report, site)), resellerRow(report)];
  const lines = [csvColumns.join(','), ...rows.map((row) => csvColumns.map((column) => csvField(row[column])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML: one page, no scripts, no external assets (the CSP says so too).

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

const percent = (ratio: number): string => `${(ratio * 100).toFixed(4)} %`;
const orNone = (value: string | null): string => value ?? '—';
const at = (ms: number | null): string => (ms === null ? '—' : iso(ms));
const yesNo = (met: boolean): string => (met ? 'met' : 'missed');

/** 3725000 → "1 h 2 min 5 s" (ms kept when under a second). */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'min'],
    [seconds % 60, 's'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}`)
    .join(' ');
}

function table(caption: string, head: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.length === 0 ? `<tr><td colspan="${head.length}">none</td></tr>` : rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<section>\n<h2>${escapeHtml(caption)}</h2>\n<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>\n</section>`;
}

/** Who forced a failover and what they declared, or a dash. */
const forcedBy = (f: Failover): string =>
  f.forced === null ? '—' : `key ${orNone(f.forced.keyId)}: "${f.forced.confirm ?? ''}" (${f.forced.reason ?? 'no reason given'})`;

const siteLabel = (site: SiteSla): string => (site.name === null ? site.siteId : `${site.name} (${site.siteId})`);
const ids = (eventIds: readonly string[]): string => eventIds.join(' ');

function renderHtml(report: SlaReport): string {
  const t = report.totals;
  const sections = [
    table(
      'Reseller totals',
      [
        'Sites',
        'Availability',
        'Excl. maintenance',
        'Maintenance',
        'Downtime',
        'In maintenance',
        'Failovers',
        'Forced',
        'Survivor mode',
        'Incidents',
        'Mean / max TTA',
        'Mean / max TTR',
        'Sites meeting availability',
        'Sites meeting TTA',
      ],
      [
        [
          String(t.sites),
          percent(t.availability),
          percent(t.availabilityExcludingMaintenance),
          formatDuration(t.maintenanceMs),
          formatDuration(t.downtimeMs),
          formatDuration(t.downtimeInMaintenanceMs),
          String(t.failovers),
          String(t.forcedFailovers),
          formatDuration(t.survivorModeMs),
          String(t.incidents),
          `${formatDuration(t.timeToAcknowledge.meanMs)} / ${formatDuration(t.timeToAcknowledge.maxMs)}`,
          `${formatDuration(t.timeToResolve.meanMs)} / ${formatDuration(t.timeToResolve.maxMs)}`,
          `${t.sitesMeetingAvailabilityTarget} of ${t.sites}`,
          `${t.sitesMeetingTimeToAcknowledgeTarget} of ${t.sites}`,
        ],
      ],
    ),
    table(
      'Sites',
      ['Site', 'Customer', 'Availability', 'Excl. maintenance', 'Availability target', 'Downtime', 'In maintenance', 'Maintenance', 'Failovers', 'Survivor mode', 'Incidents', 'Max TTA', 'TTA target'],
      report.sites.map((s) => [
        siteLabel(s),
        orNone(s.customerId),
        percent(s.availability),
        percent(s.availabilityExcludingMaintenance),
        `${percent(s.targets.availability.target)}: ${yesNo(s.targets.availability.met)}`,
        formatDuration(s.downtimeMs),
        formatDuration(s.downtimeInMaintenanceMs),
        formatDuration(s.maintenanceMs),
        String(s.failovers.length),
        formatDuration(s.survivorModeMs),
        String(s.incidents.length),
        formatDuration(s.timeToAcknowledge.maxMs),
        `${formatDuration(s.targets.timeToAcknowledge.targetMs)}: ${yesNo(s.targets.timeToAcknowledge.met)}`,
      ]),
    ),
    table(
      'Downtime (no primary)',
      ['Site', 'From', 'To', 'Duration', 'In maintenance', 'Events'],
      report.sites.flatMap((s) => s.downtime.map((d) => [siteLabel(s), iso(d.start), iso(d.end), formatDuration(d.durationMs), formatDuration(d.inMaintenanceMs), ids(d.eventIds)])),
    ),
    table(
      'Maintenance',
      ['Site', 'From', 'To', 'Duration', 'Reasons'],
      report.sites.flatMap((s) => s.maintenance.map((m) => [siteLabel(s), iso(m.start), iso(m.end), formatDuration(m.durationMs), m.reasons.join('; ')])),
    ),
    table(
      'Failovers',
      ['Site', 'At', 'From node', 'To node', 'Epoch', 'Without primary', 'Forced by', 'Events'],
      report.sites.flatMap((s) =>
        s.failovers.map((f) => [
          siteLabel(s),
          iso(f.at),
          f.fromNode,
          orNone(f.toNode),
          f.epoch === null ? '—' : String(f.epoch),
          formatDuration(f.durationMs),
          forcedBy(f),
          ids(f.eventIds),
        ]),
      ),
    ),
    table(
      'Survivor mode (one node on a standalone lease, the other excluded)',
      ['Site', 'Survivor', 'Excluded node', 'From', 'To', 'Duration', 'Ended by', 'Events'],
      report.sites.flatMap((s) =>
        s.survivorMode.map((v) => [siteLabel(s), orNone(v.nodeId), orNone(v.excludedNode), iso(v.start), iso(v.end), formatDuration(v.durationMs), orNone(v.endedBy), ids(v.eventIds)]),
      ),
    ),
    table(
      'Incidents',
      ['Site', 'Kind', 'Opened', 'Acknowledged', 'Resolved', 'TTA', 'TTR', 'Against TTA target', 'Events'],
      report.sites.flatMap((s) =>
        s.incidents.map((i) => [
          siteLabel(s),
          orNone(i.kind),
          iso(i.openedAt),
          at(i.acknowledgedAt),
          at(i.resolvedAt),
          formatDuration(i.timeToAcknowledgeMs),
          formatDuration(i.timeToResolveMs),
          i.acknowledgement,
          ids(i.eventIds),
        ]),
      ),
    ),
    table(
      'Primary held the role',
      ['Site', 'Node', 'From', 'To', 'Duration', 'Events'],
      report.sites.flatMap((s) => s.held.map((h) => [siteLabel(s), orNone(h.nodeId), iso(h.start), iso(h.end), formatDuration(h.durationMs), ids(h.eventIds)])),
    ),
    table(
      'Notes',
      ['Site', 'At', 'Note', 'Events'],
      report.sites.flatMap((s) => s.notes.map((n) => [siteLabel(s), iso(n.at), n.text, ids(n.eventIds)])),
    ),
  ];
  const title = `SLA report — ${report.resellerId} — ${iso(report.from)} to ${iso(report.to)}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 2rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Targets: availability ${escapeHtml(percent(report.targets.availability))} excluding maintenance; time to acknowledge ${escapeHtml(formatDuration(report.targets.timeToAcknowledgeMs))}.</p>
${sections.join('\n')}
</body>
</html>
`;
}
