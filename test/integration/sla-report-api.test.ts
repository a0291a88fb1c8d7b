import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WitnessEvent } from '../../protocol/events.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;
let reseller: Awaited<ReturnType<typeof setUpReseller>>;
const day = Date.parse('2026-11-10T00:00:00Z');
const h = 3_600_000;

function event(id: string, type: WitnessEvent['type'], at: number, data: Partial<WitnessEvent['data']> = {}): WitnessEvent {
  return {
    id,
    type,
    timestamp: new Date(at).toISOString(),
    data: { resellerId: reseller.resellerId, siteId: reseller.siteId, severity: 'info', ...data },
  };
}

beforeAll(async () => {
  api = await startApi();
  // The site exists from October: the report judges a site from its creation on.
  api.clock.ms = Date.parse('2026-10-01T00:00:00Z');
  reseller = await setUpReseller(api);
  // The synthetic trail of November: node-a primary since before the month; on the 10th it is
  // lost at 10:00 (lease ended 10:00) and node-b is granted at 10:00:30; an incident opened at
  // 10:00:10 is acknowledged at 10:05:10 and resolved at 10:30:10.
  const trail = [
    event('e1', 'failover.granted', Date.parse('2026-10-20T08:00:00Z'), { nodeId: 'node-a', epoch: 1, previousPrimary: null, previousLeaseEndedAt: null }),
    event('e2', 'node.lost', day + 10 * h, { nodeId: 'node-a', leaseEndedAt: day + 10 * h, severity: 'critical' }),
    event('e3', 'incident.opened', day + 10 * h + 10_000, { incidentId: 'i1', kind: 'node.lost' }),
    event('e4', 'failover.granted', day + 10 * h + 30_000, { nodeId: 'node-b', epoch: 2, previousPrimary: 'node-a', previousLeaseEndedAt: day + 10 * h }),
    event('e5', 'incident.acknowledged', day + 10 * h + 310_000, { incidentId: 'i1' }),
    event('e6', 'incident.resolved', day + 10 * h + 1_810_000, { incidentId: 'i1' }),
  ];
  // Delivered twice (at least once): the trail keeps one of each.
  for (const e of [...trail, ...trail]) await api.api.trail.appendEvent(e);
});
afterAll(() => api.close());

describe('the SLA report, from the audit trail', () => {
  it('GET /v1/reports/sla answers the figures of the period, each traced to its events', async () => {
    const answer = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01', reseller.key);
    expect(answer.status).toBe(200);
    const report = answer.body as {
      sites: {
        heldMs: number;
        downtimeMs: number;
        availability: number;
        failovers: { durationMs: number; eventIds: string[] }[];
        incidents: { timeToAcknowledgeMs: number; timeToResolveMs: number }[];
        targets: { availability: { met: boolean }; timeToAcknowledge: { met: boolean } };
      }[];
    };
    const [site] = report.sites;
    // 30 days = 2,592,000 s; no primary for 30 s (10:00:00 to 10:00:30 on the 10th).
    expect(site?.downtimeMs).toBe(30_000);
    expect(site?.heldMs).toBe(30 * 24 * h - 30_000);
    expect(site?.availability).toBeCloseTo(1 - 30 / 2_592_000, 12);
    expect(site?.failovers).toEqual([expect.objectContaining({ durationMs: 30_000, eventIds: expect.arrayContaining(['e4']) as unknown })]);
    // Acknowledged after 300 s (within the default 15 min), resolved after 1,800 s.
    expect(site?.incidents).toEqual([expect.objectContaining({ timeToAcknowledgeMs: 300_000, timeToResolveMs: 1_800_000 })]);
    expect(site?.targets.availability.met).toBe(true);
    expect(site?.targets.timeToAcknowledge.met).toBe(true);
  });

  it('serves CSV and HTML too, and lists the trail itself at /v1/sites/{siteId}/events', async () => {
    const csv = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01&format=csv', reseller.key);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text).toContain(reseller.siteId);
    const html = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01&format=html', reseller.key);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.text).toContain('<table');
    const events = await api.call('GET', `/v1/sites/${reseller.siteId}/events?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z`, reseller.key);
    expect((events.body as { items: { id: string }[] }).items.map((e) => e.id)).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
  });

  it('refuses a period that ends before it starts, and a site that is not the caller’s', async () => {
    expect((await api.call('GET', '/v1/reports/sla?from=2026-12-01&to=2026-11-01', reseller.key)).status).toBe(400);
    const other = await setUpReseller(api);
    const foreign = await api.call('GET', `/v1/reports/sla?from=2026-11-01&to=2026-12-01&siteId=${reseller.siteId}`, other.key);
    // The other reseller's site of that name has an empty trail: its report holds no figure of ours.
    // Quoted: a random reseller id such as "r-306ce4" may hold the bare letters.
    expect(foreign.status).toBe(200);
    expect(foreign.text).not.toContain('"e4"');
    const [site] = (foreign.body as { sites: { failovers: unknown[] }[] }).sites;
    expect(site?.failovers ?? []).toEqual([]);
  });

  it('`npm run report` prints the same report', async () => {
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'bin/report.ts', '--reseller', reseller.resellerId, '--from', '2026-11-01', '--to', '2026-12-01', '--format', 'csv', '--url', api.url, '--key', reseller.key],
      { timeout: 30_000 },
    );
    const served = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01&format=csv', reseller.key);
    expect(stdout.trimEnd()).toBe(served.text.trimEnd());
  });
});
