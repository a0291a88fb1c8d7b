import { describe, expect, it } from 'vitest';
import {
  countByStatus,
  filterFleet,
  fleetCounts,
  type SiteState,
  type SiteSummary,
  sortWorstFirst,
  worstFirst,
} from '../../console/fleet.ts';
import { nextDelay, maxBackoffMs } from '../../console/poll.ts';

function site(siteId: string, status: SiteState, extra: Partial<SiteSummary> = {}): SiteSummary {
  return {
    siteId,
    customerId: 'dental',
    name: siteId,
    nodeIds: ['node-a', 'node-b'],
    createdAt: '2026-11-01T00:00:00.000Z',
    status,
    epoch: 1,
    primary: 'node-a',
    leaseExpiresAt: null,
    nodes: [],
    survivor: null,
    openIncidents: { critical: 0, warning: 0, info: 0 },
    inMaintenance: false,
    ...extra,
  };
}

describe('the console’s fleet: statuses worst first, counted and filtered', () => {
  it('orders down, failing-over, survivor, degraded, not-live, healthy; then more critical incidents; then by name', () => {
    const sites = [
      site('h', 'healthy'),
      site('n', 'not-live'),
      site('d2', 'degraded'),
      site('d1', 'degraded', { openIncidents: { critical: 2, warning: 0, info: 0 } }),
      site('s', 'survivor'),
      site('f', 'failing-over'),
      site('x', 'down'),
    ];
    expect(sortWorstFirst(sites).map((s) => s.siteId)).toEqual(['x', 'f', 's', 'd1', 'd2', 'n', 'h']);
    expect(worstFirst).toEqual(['down', 'failing-over', 'survivor', 'degraded', 'not-live', 'healthy']);
  });

  it('counts every status (0 when none) here when the service gives no counts, and takes the service’s when it does', () => {
    const sites = [site('a', 'healthy'), site('b', 'healthy'), site('c', 'down')];
    expect(countByStatus(sites)).toEqual({ down: 1, 'failing-over': 0, survivor: 0, degraded: 0, 'not-live': 0, healthy: 2 });
    expect(fleetCounts(sites, null)).toEqual(countByStatus(sites));
    expect(fleetCounts(sites, { healthy: 900, down: 100 })).toMatchObject({ healthy: 900, down: 100, survivor: 0 });
  });

  it('a status this console does not know (a newer service) is listed last and not counted', () => {
    const sites = [site('new', 'rebooting' as SiteState), site('a', 'healthy')];
    expect(sortWorstFirst(sites).map((s) => s.siteId)).toEqual(['a', 'new']);
    expect(countByStatus(sites).healthy).toBe(1);
  });

  it('filters by customer and by status', () => {
    const sites = [site('a', 'healthy'), site('b', 'down', { customerId: 'bakery' }), site('c', 'down')];
    expect(filterFleet(sites, { customerId: 'bakery', status: null }).map((s) => s.siteId)).toEqual(['b']);
    expect(filterFleet(sites, { customerId: 'dental', status: 'down' }).map((s) => s.siteId)).toEqual(['c']);
    expect(filterFleet(sites, { customerId: null, status: null })).toHaveLength(3);
  });

  it('refreshes at its interval, and backs off on errors, doubling up to a minute', () => {
    expect([0, 1, 2, 3, 10].map((failures) => nextDelay(5_000, failures))).toEqual([5_000, 10_000, 20_000, 40_000, maxBackoffMs]);
  });
});

describe('the console’s order is the API’s', () => {
  it('worst first as protocol/reseller.ts says it (the console copies it to keep the schemas out of its bundle)', async () => {
    const { siteHealthWorstFirst } = await import('../../protocol/reseller.ts');
    expect(worstFirst).toEqual(siteHealthWorstFirst);
  });
});
