import type { DurationStats, SiteSla, SlaReport } from './sla-report.ts';

// The SLA report as data, with every event id: JSON as computed, CSV a row per site. Pure: the
// report in, a string out. What a customer reads (HTML, PDF) is sla-customer-view.ts's.

export type SlaDataFormat = 'json' | 'csv';

export function renderSlaData(report: SlaReport, format: SlaDataFormat): string {
  return format === 'json' ? renderJson(report) : renderCsv(report);
}

const iso = (ms: number): string => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// JSON: the report as computed, each time in ms with its ISO form beside it (`start`, `startIso`).

const timeKeys = new Set([
  'from',
  'to',
  'observedUntil',
  'goLiveAt',
  'judgedFrom',
  'start',
  'end',
  'at',
  'openedAt',
  'acknowledgedAt',
  'resolvedAt',
  'previousLeaseEndedAt',
  'declaredAt',
  'countedFrom',
]);

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
  // Added with the observed period and go-live: `period_ms` is the judged time (from the go-live, up to now).
  'observed_until',
  'go_live',
  'unplanned_downtime_ms',
  'sites_not_yet_live',
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
    period_start: iso(report.period.from),
    period_end: iso(report.period.to),
    observed_until: iso(report.period.observedUntil),
    go_live: site.goLiveAt === null ? null : iso(site.goLiveAt),
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
    unplanned_downtime_ms: site.unplannedDowntimeMs,
    incidents: site.incidents.length,
    ...statCells(site.timeToAcknowledge, site.timeToResolve),
    tta_target_ms: site.targets.timeToAcknowledge.targetMs,
    tta_met: site.targets.timeToAcknowledge.met,
    tta_missed: site.targets.timeToAcknowledge.missedEventIds.length,
    sites: null,
    sites_meeting_availability: null,
    sites_meeting_tta: null,
    sites_not_yet_live: null,
  };
}

function statCells(tta: DurationStats, ttr: DurationStats): Pick<CsvRow, `${'tta' | 'ttr'}_${'count' | 'mean_ms' | 'max_ms'}`> {
  return {
    tta_count: tta.count,
    tta_mean_ms: tta.meanMs,
    tta_max_ms: tta.maxMs,
    ttr_count: ttr.count,
    ttr_mean_ms: ttr.meanMs,
    ttr_max_ms: ttr.maxMs,
  };
}

function resellerRow(report: SlaReport): CsvRow {
  const t = report.totals;
  return {
    row: 'reseller',
    reseller_id: report.resellerId,
    site_id: null,
    customer_id: null,
    name: null,
    period_start: iso(report.period.from),
    period_end: iso(report.period.to),
    observed_until: iso(report.period.observedUntil),
    go_live: null,
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
    unplanned_downtime_ms: t.unplannedDowntimeMs,
    incidents: t.incidents,
    ...statCells(t.timeToAcknowledge, t.timeToResolve),
    tta_target_ms: report.targets.timeToAcknowledgeMs,
    tta_met: null,
    tta_missed: report.sites.reduce((sum, s) => sum + s.targets.timeToAcknowledge.missedEventIds.length, 0),
    sites: t.sites,
    sites_meeting_availability: t.sitesMeetingAvailabilityTarget,
    sites_meeting_tta: t.sitesMeetingTimeToAcknowledgeTarget,
    sites_not_yet_live: t.sitesNotYetLive,
  };
}

function renderCsv(report: SlaReport): string {
  const rows = [...report.sites.map((site) => siteRow(report, site)), resellerRow(report)];
  const lines = [csvColumns.join(','), ...rows.map((row) => csvColumns.map((column) => csvField(row[column])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
