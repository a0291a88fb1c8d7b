import type { FleetPage, SiteHealth, SiteSummary } from '../protocol/reseller.ts';

/**
 * The fleet as `GET /v1/sites` lists it (each site with its status: protocol/reseller.ts), and the
 * rules the Sites view shows it by: worst first, counted by status. Pure.
 */

export type { FleetPage, SiteSummary };
export type SiteState = SiteHealth;

/**
 * Worst first: what needs a person now comes first. The API's own order (`siteHealthWorstFirst`),
 * written out here: the console takes only types from protocol/, never its schemas' code.
 */
export const worstFirst: readonly SiteState[] = ['down', 'failing-over', 'survivor', 'degraded', 'not-live', 'healthy'];

/** What each status is called, and its shape: status is never told by colour alone. */
export const statusLabels: Record<SiteState, { label: string; icon: string; meaning: string }> = {
  down: { label: 'Down', icon: '✖', meaning: 'no node heard: nothing runs as primary' },
  'failing-over': { label: 'Failing over', icon: '⇄', meaning: 'the role is passing to the other node' },
  survivor: { label: 'Survivor', icon: '◐', meaning: 'one node runs alone; the other is excluded' },
  degraded: { label: 'Degraded', icon: '▲', meaning: 'a primary runs, but a node, its health or the link is not right' },
  'not-live': { label: 'Not live', icon: '○', meaning: 'no primary granted yet' },
  healthy: { label: 'Healthy', icon: '●', meaning: 'a primary runs and both nodes report' },
};

const rank = new Map(worstFirst.map((state, i) => [state, i]));

/** Worst status first, then more critical incidents first, then by name. */
export function sortWorstFirst(sites: readonly SiteSummary[]): SiteSummary[] {
  return [...sites].sort(
    (a, b) =>
      (rank.get(a.status) ?? worstFirst.length) - (rank.get(b.status) ?? worstFirst.length) ||
      b.openIncidents.critical - a.openIncidents.critical ||
      a.name.localeCompare(b.name) ||
      a.siteId.localeCompare(b.siteId),
  );
}

/** Sites per status, every status present (0 when none). */
export function countByStatus(sites: readonly SiteSummary[]): Record<SiteState, number> {
  const counts = Object.fromEntries(worstFirst.map((state) => [state, 0])) as Record<SiteState, number>;
  // A status this console does not know (a newer service) is listed, not counted.
  for (const site of sites) if (Object.hasOwn(counts, site.status)) counts[site.status] += 1;
  return counts;
}

/** The service's counts when it gave them, else counted here. */
export function fleetCounts(sites: readonly SiteSummary[], served: Partial<Record<SiteState, number>> | null): Record<SiteState, number> {
  if (served === null) return countByStatus(sites);
  return Object.fromEntries(worstFirst.map((state) => [state, served[state] ?? 0])) as Record<SiteState, number>;
}

export interface FleetFilter {
  customerId: string | null;
  status: SiteState | null;
}

export function filterFleet(sites: readonly SiteSummary[], filter: FleetFilter): SiteSummary[] {
  return sites.filter(
    (site) =>
      (filter.customerId === null || site.customerId === filter.customerId) && (filter.status === null || site.status === filter.status),
  );
}

export function isSiteState(value: string | null | undefined): value is SiteState {
  return value !== null && value !== undefined && (worstFirst as readonly string[]).includes(value);
}
