import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { computeSlaReport, type MaintenanceWindow, type SiteSla, type SlaReportInput } from '../../functions/domain/sla-report.ts';
import type { EventType, StoredEvent } from '../../protocol/events.ts';
import { trailOf } from '../support/trail-events.ts';

// The figures a customer is shown cannot be gamed: only what has happened is judged (up to now,
// from the go-live), maintenance forgives downtime inside windows declared in advance and nothing
// more, and the figures do not depend on how the trail was delivered. First the three wrong
// figures issue 15 found, then properties over random audit trails.

const s = 1000;
const min = 60 * s;
const h = 60 * min;
const day = 24 * h;
const resellerId = 'r-1';
const siteId = 'site-p';
const targets = { availability: 0.999, timeToAcknowledgeMs: 15 * min };
const today = Date.parse('2026-12-03T00:00:00Z');

const event = trailOf(resellerId, siteId);

const grant = (
  id: string,
  at: number,
  nodeId: string,
  epoch: number,
  previous: { node: string; leaseEndedAt: number | null } | null = null,
) =>
  event(id, 'failover.granted', at, {
    nodeId,
    epoch,
    previousPrimary: previous?.node ?? null,
    previousLeaseEndedAt: previous?.leaseEndedAt ?? null,
  });

function siteReport(events: StoredEvent[], maintenance: MaintenanceWindow[], period: Pick<SlaReportInput, 'from' | 'to' | 'now'>): SiteSla {
  const [site] = computeSlaReport({ resellerId, ...period, targets, sites: [{ siteId, events, maintenance }] }).sites;
  if (!site) throw new Error('the site is missing from its report');
  return site;
}

describe('the wrong figures of issue 15', () => {
  const period = { from: today, to: today + day, now: today + 13 * h + 45 * min };

  test('a report for today made at 13:45 counts up to 13:45, and says the period is partial', () => {
    const report = computeSlaReport({
      resellerId,
      ...period,
      targets,
      sites: [{ siteId, events: [grant('g', today - day, 'node-a', 1)], maintenance: [] }],
    });
    expect(report.period).toEqual({
      from: today,
      to: today + day,
      observedUntil: period.now,
      observedMs: 13 * h + 45 * min,
      partial: true,
    });
    // Held from midnight to 13:45, not to midnight: the afternoon has not happened.
    expect(report.sites[0]).toMatchObject({ periodMs: 13 * h + 45 * min, heldMs: 13 * h + 45 * min, downtimeMs: 0, availability: 1 });
    expect(report.sites[0]!.held.at(-1)!.end).toBe(period.now);
  });

  test('a site that never had a primary is not yet live: no downtime that has not happened, no ratio', () => {
    const site = siteReport([], [], period);
    expect(site).toMatchObject({
      goLiveAt: null,
      judgedFrom: null,
      periodMs: 0,
      downtimeMs: 0,
      availability: null,
      availabilityExcludingMaintenance: null,
    });
    expect(site.targets.availability).toEqual({ target: 0.999, actual: null, met: null });
    expect(site.downtime).toEqual([]);
  });

  test('a site live from 09:00 today is judged from 09:00: the night before it was not down', () => {
    const site = siteReport([grant('g', today + 9 * h, 'node-a', 1)], [], period);
    expect(site).toMatchObject({
      goLiveAt: today + 9 * h,
      judgedFrom: today + 9 * h,
      periodMs: 4 * h + 45 * min,
      downtimeMs: 0,
      availability: 1,
    });
  });

  test('a future window lowers nothing: excl. maintenance equals availability (was 98.28 % against 98.45 %)', () => {
    // 10 min without a primary this morning; a window tonight, after now.
    const events = [
      grant('g1', today - day, 'node-a', 1),
      event('l', 'node.lost', today + 8 * h + 10 * s, { nodeId: 'node-a', leaseEndedAt: today + 8 * h }),
      grant('g2', today + 8 * h + 10 * min, 'node-b', 2, { node: 'node-a', leaseEndedAt: today + 8 * h }),
    ];
    const site = siteReport(events, [{ start: today + 20 * h, end: today + 22 * h, reason: 'upgrade', declaredAt: today }], period);
    expect(site.availability).toBeCloseTo(1 - (10 * min) / (13 * h + 45 * min), 12);
    expect(site.availabilityExcludingMaintenance).toBe(site.availability);
    expect(site.maintenanceMs).toBe(0);
  });

  test('a window declared after an outage forgives none of it; declared before, it forgives all', () => {
    const events = [
      grant('g1', today - day, 'node-a', 1),
      event('d', 'site.down', today + 8 * h + 30 * s, { leaseEndedAt: today + 8 * h }),
      grant('g2', today + 9 * h, 'node-b', 2, { node: 'node-a', leaseEndedAt: today + 8 * h }),
    ];
    const window = { start: today + 7 * h, end: today + 10 * h, reason: 'said to be planned' };
    const late = siteReport(events, [{ ...window, declaredAt: today + 9 * h + 30 * min }], period);
    expect(late.downtimeInMaintenanceMs).toBe(0);
    expect(late.availabilityExcludingMaintenance).toBe(late.availability);
    expect(late.maintenanceWindows).toEqual([
      expect.objectContaining({
        start: window.start,
        declaredAt: today + 9 * h + 30 * min,
        countedFrom: today + 9 * h + 30 * min,
        countedMs: 30 * min,
      }),
    ]);
    const planned = siteReport(events, [{ ...window, declaredAt: today }], period);
    expect(planned.downtimeInMaintenanceMs).toBe(h);
    expect(planned.availabilityExcludingMaintenance).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Random trails: grants (some forced), losses of a node or the site, returns that tell a renewal,
// over a day, reported on at a random `now`.

const from = today;
const to = today + day;
const instant = fc.integer({ min: -6 * 60, max: 30 * 60 }).map((m) => from + m * min);
const node = fc.constantFrom('node-a', 'node-b');

const rawEvent = fc.record({
  type: fc.constantFrom<EventType>(
    'failover.granted',
    'failover.granted',
    'failover.forced',
    'node.lost',
    'site.down',
    'node.recovered',
    'site.recovered',
  ),
  at: instant,
  nodeId: node,
  epoch: fc.nat(3),
  previousPrimary: fc.constantFrom(null, 'node-a', 'node-b'),
  leaseBeforeMin: fc.option(fc.nat(20), { nil: null }),
  renewedBeforeMin: fc.integer({ min: -2, max: 20 }),
});

const trail = fc.array(rawEvent, { maxLength: 25 }).map((raws) =>
  raws.map((r, i) => {
    const leaseEndedAt = r.leaseBeforeMin === null ? null : r.at - r.leaseBeforeMin * min;
    const renewal = { primary: r.nodeId, epoch: r.epoch, leaseRenewedAt: r.at - r.renewedBeforeMin * min };
    switch (r.type) {
      case 'failover.granted':
      case 'failover.forced':
        return event(`e-${i}`, r.type, r.at, {
          nodeId: r.nodeId,
          epoch: r.epoch,
          previousPrimary: r.previousPrimary,
          previousLeaseEndedAt: leaseEndedAt,
        });
      case 'node.lost':
        return event(`e-${i}`, r.type, r.at, { nodeId: r.nodeId, leaseEndedAt });
      case 'site.down':
        return event(`e-${i}`, r.type, r.at, { leaseEndedAt });
      default:
        return event(`e-${i}`, r.type, r.at, { nodeId: r.nodeId, ...renewal });
    }
  }),
);

const window = fc
  .record({
    start: instant,
    lengthMin: fc.integer({ min: 1, max: 6 * 60 }),
    declaredAt: fc.option(instant, { nil: undefined }),
    reason: fc.constantFrom('patch', 'move'),
  })
  .map(({ start, lengthMin, declaredAt, reason }): MaintenanceWindow => ({ start, end: start + lengthMin * min, reason, declaredAt }));
const windows = fc.array(window, { maxLength: 3 });
const now = fc.integer({ min: -2 * 60, max: 30 * 60 }).map((m) => from + m * min);

/** A trail's loss of the primary: the site falls silent at `at`, its lease ended `leaseBeforeMin` earlier. */
const siteDown = fc
  .record({ at: instant, leaseBeforeMin: fc.nat(20) })
  .map(({ at, leaseBeforeMin }) => event('x-down', 'site.down', at, { leaseEndedAt: at - leaseBeforeMin * min }));

const figures = (site: SiteSla) => ({
  periodMs: site.periodMs,
  heldMs: site.heldMs,
  downtimeMs: site.downtimeMs,
  availability: site.availability,
  availabilityExcludingMaintenance: site.availabilityExcludingMaintenance,
  failovers: site.failovers.length,
  survivorModeMs: site.survivorModeMs,
});

describe('properties of the figures over random audit trails', () => {
  test('bounded by the observed period, from the go-live; held + downtime = judged time; never past now', () => {
    fc.assert(
      fc.property(trail, windows, now, (events, maintenance, at) => {
        const site = siteReport(events, maintenance, { from, to, now: at });
        const observedUntil = Math.max(from, Math.min(to, at));
        if (site.judgedFrom === null) {
          expect([site.periodMs, site.heldMs, site.downtimeMs, site.maintenanceMs]).toEqual([0, 0, 0, 0]);
          expect([site.availability, site.availabilityExcludingMaintenance]).toEqual([null, null]);
          return;
        }
        expect(site.judgedFrom).toBe(Math.max(from, site.goLiveAt!));
        expect(site.periodMs).toBe(observedUntil - site.judgedFrom);
        expect(site.heldMs + site.downtimeMs).toBe(site.periodMs);
        for (const span of [...site.held, ...site.downtime, ...site.maintenance, ...site.survivorMode]) {
          expect(span.start).toBeGreaterThanOrEqual(site.judgedFrom);
          expect(span.end).toBeLessThanOrEqual(observedUntil);
        }
        expect(site.availability).toBeGreaterThanOrEqual(0);
        expect(site.availability).toBeLessThanOrEqual(1);
        expect(site.downtimeInMaintenanceMs).toBeLessThanOrEqual(Math.min(site.downtimeMs, site.maintenanceMs));
      }),
      { numRuns: 400 },
    );
  });

  test('excluding maintenance is never lower than availability, and equal without maintenance', () => {
    fc.assert(
      fc.property(trail, windows, now, (events, maintenance, at) => {
        const site = siteReport(events, maintenance, { from, to, now: at });
        if (site.availability === null) return;
        expect(site.availabilityExcludingMaintenance!).toBeGreaterThanOrEqual(site.availability);
        expect(siteReport(events, [], { from, to, now: at }).availabilityExcludingMaintenance).toBe(site.availability);
      }),
      { numRuns: 400 },
    );
  });

  test('invariant to the order of the trail and to events delivered twice', () => {
    fc.assert(
      fc.property(
        trail.chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray([...events, ...events], { minLength: 2 * events.length })),
        ),
        windows,
        now,
        ([events, redelivered], maintenance, at) => {
          expect(siteReport(redelivered, [...maintenance].reverse(), { from, to, now: at })).toEqual(
            siteReport(events, maintenance, { from, to, now: at }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test('monotone: losing the primary once more never raises availability, nor the contract figure', () => {
    fc.assert(
      fc.property(trail, siteDown, windows, now, (events, down, maintenance, at) => {
        const before = siteReport(events, maintenance, { from, to, now: at });
        const after = siteReport([...events, down], maintenance, { from, to, now: at });
        if (before.availability === null) return;
        expect(after.availability!).toBeLessThanOrEqual(before.availability);
        expect(after.availabilityExcludingMaintenance!).toBeLessThanOrEqual(before.availabilityExcludingMaintenance!);
      }),
      { numRuns: 400 },
    );
  });

  test('a window changes no figure but the contract one, which it never lowers; nothing counts before its declaration', () => {
    fc.assert(
      fc.property(trail, windows, window, now, (events, maintenance, extra, at) => {
        const before = siteReport(events, maintenance, { from, to, now: at });
        const after = siteReport(events, [...maintenance, extra], { from, to, now: at });
        expect({ ...figures(after), availabilityExcludingMaintenance: null }).toEqual({
          ...figures(before),
          availabilityExcludingMaintenance: null,
        });
        if (before.availability === null) return;
        expect(after.availabilityExcludingMaintenance!).toBeGreaterThanOrEqual(before.availabilityExcludingMaintenance!);
        // Declared at d, it counts as the same window started at d and declared in advance.
        if (extra.declaredAt != null && extra.declaredAt > extra.start && extra.declaredAt < extra.end) {
          const honest = siteReport(events, [...maintenance, { ...extra, start: extra.declaredAt, declaredAt: undefined }], {
            from,
            to,
            now: at,
          });
          expect(honest.availabilityExcludingMaintenance).toBe(after.availabilityExcludingMaintenance);
        }
      }),
      { numRuns: 400 },
    );
  });
});
