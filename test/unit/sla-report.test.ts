/**
 * The SLA report on a hand-made audit trail: three sites over one day (2026-11-29, 86,400 s),
 * every expected figure worked out by hand in the comments. Then properties over random trails,
 * then the renderers.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type EventData, type EventType, WitnessEvent } from '../../protocol/events.ts';
import { renderSlaReport, csvField } from '../../functions/domain/sla-render.ts';
import { computeSlaReport, type MaintenanceWindow, type SlaReportInput, type SlaSiteInput } from '../../functions/domain/sla-report.ts';

const resellerId = 'reseller-1';
/** ms of a UTC time on the report's day (or another day). */
const t = (hms: string, date = '2026-11-29'): number => Date.parse(`${date}T${hms}Z`);
const from = t('00:00:00');
const to = t('00:00:00', '2026-11-30');
const s = 1000;
const targets = { availability: 0.999, timeToAcknowledgeMs: 900 * s }; // 99.9 %, 15 min

type Fields = Omit<Partial<EventData>, 'resellerId' | 'severity'>;

/** An event of `siteId`, checked against the envelope's schema so the trail is one the publisher could write. */
function eventOf(siteId: string) {
  return (id: string, type: EventType, at: number, data: Fields = {}): WitnessEvent =>
    WitnessEvent.parse({ id, type, timestamp: new Date(at).toISOString(), data: { resellerId, siteId, severity: 'info', ...data } });
}

// ---------------------------------------------------------------------------------------------
// Site A: primary granted the day before; a failover with a 20 s gap inside maintenance; a
// switchover without a gap; an acknowledged incident; a lost secondary; another site's event.
const a = eventOf('site-a');
const siteA: SlaSiteInput = {
  siteId: 'site-a',
  customerId: 'cust-1',
  name: 'Alpha',
  events: [
    a('a-01', 'failover.granted', t('23:00:00', '2026-11-28'), { nodeId: 'node-a', epoch: 7, previousPrimary: null, previousLeaseEndedAt: null }),
    a('a-02', 'failover.granted', t('09:00:00'), { nodeId: 'node-b', epoch: 8, previousPrimary: 'node-a', previousLeaseEndedAt: t('08:59:40') }),
    a('a-03', 'failover.granted', t('14:00:00'), { nodeId: 'node-a', epoch: 9, previousPrimary: 'node-b', previousLeaseEndedAt: null }),
    // The secondary is lost: no leaseEndedAt, the primary's hold goes on.
    a('a-04', 'node.lost', t('16:00:00'), { nodeId: 'node-b', leaseEndedAt: null }),
    a('a-05', 'link.lost', t('18:00:00'), { nodeId: 'node-a' }),
    a('a-06', 'incident.opened', t('18:00:00'), { incidentId: 'inc-a1', kind: 'link.lost' }),
    a('a-07', 'incident.acknowledged', t('18:04:00'), { incidentId: 'inc-a1' }),
    a('a-08', 'incident.resolved', t('18:30:00'), { incidentId: 'inc-a1' }),
    a('a-09', 'link.restored', t('18:30:00'), { nodeId: 'node-a' }),
    // Another site's event in this trail: counted, it would end node-b's hold at 12:00.
    eventOf('site-z')('z-01', 'site.down', t('12:00:00'), { leaseEndedAt: t('12:00:00') }),
  ],
  maintenance: [{ start: t('08:30:00'), end: t('09:30:00'), reason: 'firmware <v2>' }],
};

// Site B: the primary is lost at 06:00 and nobody is granted until 07:00; two overlapping
// maintenance windows cover half of that gap; the incident is never acknowledged.
const b = eventOf('site-b');
const siteB: SlaSiteInput = {
  siteId: 'site-b',
  events: [
    b('b-01', 'failover.granted', t('12:00:00', '2026-11-28'), { nodeId: 'node-a', epoch: 3, previousPrimary: null }),
    b('b-02', 'node.lost', t('06:00:10'), { nodeId: 'node-a', leaseEndedAt: t('06:00:00') }),
    b('b-03', 'incident.opened', t('06:00:10'), { incidentId: 'inc-b1', kind: 'node.lost' }),
    b('b-04', 'failover.granted', t('07:00:00'), { nodeId: 'node-b', epoch: 4, previousPrimary: 'node-a', previousLeaseEndedAt: t('06:00:00') }),
  ],
  maintenance: [
    { start: t('07:00:00'), end: t('08:00:00'), reason: 'UPS swap, extended' },
    { start: t('06:30:00'), end: t('07:30:00'), reason: 'UPS swap' },
    { start: t('02:00:00', '2026-11-30'), end: t('03:00:00', '2026-11-30'), reason: 'next day' },
  ],
};

// Site C: first grant exactly at `from`; an incident opened the day before (not reported); one
// auto-resolved; the site goes down 30 s before midnight and its incident is acknowledged late,
// after `to`; the next grant comes after `to`.
const c = eventOf('site-c');
const siteC: SlaSiteInput = {
  siteId: 'site-c',
  customerId: 'cust-2',
  events: [
    c('c-01', 'incident.opened', t('23:30:00', '2026-11-28'), { incidentId: 'inc-c0', kind: 'node.degraded' }),
    c('c-02', 'failover.granted', t('00:00:00'), { nodeId: 'node-a', epoch: 1, previousPrimary: null, previousLeaseEndedAt: null }),
    c('c-03', 'incident.acknowledged', t('00:10:00'), { incidentId: 'inc-c0' }),
    c('c-04', 'incident.resolved', t('00:20:00'), { incidentId: 'inc-c0' }),
    c('c-05', 'incident.opened', t('20:00:00'), { incidentId: 'inc-c1', kind: 'link.lost' }),
    c('c-06', 'incident.resolved', t('20:05:00'), { incidentId: 'inc-c1' }),
    c('c-07', 'site.down', t('23:59:40'), { leaseEndedAt: t('23:59:30') }),
    c('c-08', 'incident.opened', t('23:59:40'), { incidentId: 'inc-c2', kind: 'site.down' }),
    c('c-09', 'incident.acknowledged', t('00:20:00', '2026-11-30'), { incidentId: 'inc-c2' }),
    c('c-10', 'failover.granted', t('00:30:00', '2026-11-30'), { nodeId: 'node-a', epoch: 2, previousPrimary: 'node-a', previousLeaseEndedAt: t('23:59:30') }),
  ],
  maintenance: [],
};

const input: SlaReportInput = { resellerId, from, to, sites: [siteA, siteB, siteC], targets };
const report = computeSlaReport(input);
const [reportA, reportB, reportC] = report.sites;

describe('site A: a grant before the period, a failover with a gap, a switchover without', () => {
  test('held 00:00–08:59:40, 09:00–14:00 and 14:00–24:00, each traced to its grant and its end', () => {
    expect(reportA!.held).toEqual([
      // node-a granted the day before: held from the period's start.
      { nodeId: 'node-a', start: from, end: t('08:59:40'), durationMs: 32_380 * s, eventIds: ['a-01', 'a-02'] },
      { nodeId: 'node-b', start: t('09:00:00'), end: t('14:00:00'), durationMs: 18_000 * s, eventIds: ['a-02', 'a-03'] },
      { nodeId: 'node-a', start: t('14:00:00'), end: to, durationMs: 36_000 * s, eventIds: ['a-03'] },
    ]);
    // 32,380 + 18,000 + 36,000 = 86,380 s of 86,400
    expect(reportA!.heldMs).toBe(86_380 * s);
    expect(reportA!.availability).toBe(86_380 / 86_400);
  });

  test('the 20 s without a primary fall inside maintenance, so the contract figure is 100 %', () => {
    expect(reportA!.downtime).toEqual([{ start: t('08:59:40'), end: t('09:00:00'), durationMs: 20 * s, inMaintenanceMs: 20 * s, eventIds: ['a-02'] }]);
    expect(reportA!.downtimeMs).toBe(20 * s);
    expect(reportA!.maintenanceMs).toBe(3600 * s);
    expect(reportA!.downtimeInMaintenanceMs).toBe(20 * s);
    // held outside maintenance: 86,380 − (3,600 − 20) = 82,800 s; period − maintenance = 82,800 s
    expect(reportA!.heldOutsideMaintenanceMs).toBe(82_800 * s);
    expect(reportA!.availabilityExcludingMaintenance).toBe(1);
    expect(reportA!.maintenance).toEqual([{ start: t('08:30:00'), end: t('09:30:00'), durationMs: 3600 * s, reasons: ['firmware <v2>'] }]);
  });

  test('failovers: 20 s from the lease end to the grant, and 0 s for a switchover', () => {
    expect(reportA!.failovers).toEqual([
      { at: t('09:00:00'), fromNode: 'node-a', toNode: 'node-b', epoch: 8, previousLeaseEndedAt: t('08:59:40'), durationMs: 20 * s, eventIds: ['a-02'] },
      { at: t('14:00:00'), fromNode: 'node-b', toNode: 'node-a', epoch: 9, previousLeaseEndedAt: null, durationMs: 0, eventIds: ['a-03'] },
    ]);
  });

  test('incident acknowledged after 4 min, resolved after 30 min: targets met', () => {
    expect(reportA!.incidents).toEqual([
      {
        incidentId: 'inc-a1',
        kind: 'link.lost',
        openedAt: t('18:00:00'),
        acknowledgedAt: t('18:04:00'),
        resolvedAt: t('18:30:00'),
        timeToAcknowledgeMs: 240 * s, // 18:00 → 18:04
        timeToResolveMs: 1800 * s, // 18:00 → 18:30
        acknowledgement: 'met', // 240 s ≤ 900 s
        eventIds: ['a-06', 'a-07', 'a-08'],
      },
    ]);
    expect(reportA!.targets).toEqual({
      availability: { target: 0.999, actual: 1, met: true },
      timeToAcknowledge: { targetMs: 900 * s, met: true, missedEventIds: [] },
    });
  });

  test("another site's event is skipped and named", () => {
    expect(reportA!.ignoredEventIds).toEqual(['z-01']);
  });
});

describe('site B: primary lost, no grant for an hour, overlapping maintenance', () => {
  test('held 00:00–06:00 (lease end of the lost node) and 07:00–24:00', () => {
    expect(reportB!.held).toEqual([
      { nodeId: 'node-a', start: from, end: t('06:00:00'), durationMs: 21_600 * s, eventIds: ['b-01', 'b-02'] },
      { nodeId: 'node-b', start: t('07:00:00'), end: to, durationMs: 61_200 * s, eventIds: ['b-04'] },
    ]);
    // 21,600 + 61,200 = 82,800 s of 86,400
    expect(reportB!.heldMs).toBe(82_800 * s);
    expect(reportB!.availability).toBe(82_800 / 86_400);
  });

  test('maintenance 06:30–07:30 and 07:00–08:00 merge to 06:30–08:00; half the outage is inside it', () => {
    expect(reportB!.maintenance).toEqual([{ start: t('06:30:00'), end: t('08:00:00'), durationMs: 5400 * s, reasons: ['UPS swap', 'UPS swap, extended'] }]);
    // downtime 06:00–07:00, of which 06:30–07:00 in maintenance
    expect(reportB!.downtime).toEqual([{ start: t('06:00:00'), end: t('07:00:00'), durationMs: 3600 * s, inMaintenanceMs: 1800 * s, eventIds: ['b-02', 'b-04'] }]);
    expect(reportB!.downtimeMs).toBe(3600 * s);
    expect(reportB!.downtimeInMaintenanceMs).toBe(1800 * s);
    // held 07:00–08:00 in maintenance: 82,800 − 3,600 = 79,200 s outside; 86,400 − 5,400 = 81,000 s
    expect(reportB!.heldOutsideMaintenanceMs).toBe(79_200 * s);
    expect(reportB!.availabilityExcludingMaintenance).toBe(79_200 / 81_000); // 97.78 %
  });

  test('the failover took an hour without a primary (06:00 → 07:00)', () => {
    expect(reportB!.failovers).toEqual([
      { at: t('07:00:00'), fromNode: 'node-a', toNode: 'node-b', epoch: 4, previousLeaseEndedAt: t('06:00:00'), durationMs: 3600 * s, eventIds: ['b-04'] },
    ]);
  });

  test('the incident never acknowledged, open at `to` for 64,790 s > 900 s, misses the target', () => {
    expect(reportB!.incidents).toEqual([
      {
        incidentId: 'inc-b1',
        kind: 'node.lost',
        openedAt: t('06:00:10'),
        acknowledgedAt: null,
        resolvedAt: null,
        timeToAcknowledgeMs: null,
        timeToResolveMs: null,
        acknowledgement: 'missed',
        eventIds: ['b-03'],
      },
    ]);
    expect(reportB!.timeToAcknowledge).toEqual({ count: 0, meanMs: null, maxMs: null });
    expect(reportB!.targets).toEqual({
      availability: { target: 0.999, actual: 79_200 / 81_000, met: false },
      timeToAcknowledge: { targetMs: 900 * s, met: false, missedEventIds: ['b-03'] },
    });
  });
});

describe('site C: grant at `from`, site down before midnight, late and auto-resolved incidents', () => {
  test('held 00:00–23:59:30; the downtime runs to the grant after `to`', () => {
    expect(reportC!.held).toEqual([{ nodeId: 'node-a', start: from, end: t('23:59:30'), durationMs: 86_370 * s, eventIds: ['c-02', 'c-07'] }]);
    expect(reportC!.downtime).toEqual([{ start: t('23:59:30'), end: to, durationMs: 30 * s, inMaintenanceMs: 0, eventIds: ['c-07', 'c-10'] }]);
    // 86,370 s of 86,400, no maintenance: 99.965 % ≥ 99.9 %
    expect(reportC!.availability).toBe(86_370 / 86_400);
    expect(reportC!.availabilityExcludingMaintenance).toBe(86_370 / 86_400);
    expect(reportC!.targets.availability.met).toBe(true);
    // c-10 is after `to`; c-02 had no previous primary.
    expect(reportC!.failovers).toEqual([]);
  });

  test('the incident opened the day before is not reported; the auto-resolved one does not count', () => {
    expect(reportC!.incidents.map((i) => i.incidentId)).toEqual(['inc-c1', 'inc-c2']);
    expect(reportC!.incidents[0]).toEqual({
      incidentId: 'inc-c1',
      kind: 'link.lost',
      openedAt: t('20:00:00'),
      acknowledgedAt: null,
      resolvedAt: t('20:05:00'),
      timeToAcknowledgeMs: null,
      timeToResolveMs: 300 * s, // 20:00 → 20:05
      acknowledgement: 'not-required',
      eventIds: ['c-05', 'c-06'],
    });
  });

  test('acknowledged after `to`, 20 min 20 s after opening: TTA known, target missed', () => {
    expect(reportC!.incidents[1]).toEqual({
      incidentId: 'inc-c2',
      kind: 'site.down',
      openedAt: t('23:59:40'),
      acknowledgedAt: t('00:20:00', '2026-11-30'),
      resolvedAt: null,
      timeToAcknowledgeMs: 1220 * s, // 23:59:40 → 00:20:00 = 20 s + 1,200 s
      timeToResolveMs: null,
      acknowledgement: 'missed', // 1,220 s > 900 s
      eventIds: ['c-08', 'c-09'],
    });
    expect(reportC!.targets.timeToAcknowledge).toEqual({ targetMs: 900 * s, met: false, missedEventIds: ['c-08'] });
    expect(reportC!.timeToResolve).toEqual({ count: 1, meanMs: 300 * s, maxMs: 300 * s });
  });
});

describe('reseller totals', () => {
  test('sums over the three sites', () => {
    expect(report.totals).toEqual({
      sites: 3,
      periodMs: 3 * 86_400 * s, // 259,200 s
      heldMs: 255_550 * s, // 86,380 + 82,800 + 86,370
      downtimeMs: 3650 * s, // 20 + 3,600 + 30
      maintenanceMs: 9000 * s, // 3,600 + 5,400 + 0
      downtimeInMaintenanceMs: 1820 * s, // 20 + 1,800 + 0
      heldOutsideMaintenanceMs: 248_370 * s, // 82,800 + 79,200 + 86,370
      availability: 255_550 / 259_200, // 98.59 %
      availabilityExcludingMaintenance: 248_370 / 250_200, // ÷ (82,800 + 81,000 + 86,400): 99.27 %
      failovers: 3, // a-02, a-03, b-04
      incidents: 4, // inc-a1, inc-b1, inc-c1, inc-c2
      timeToAcknowledge: { count: 2, meanMs: 730 * s, maxMs: 1220 * s }, // (240 + 1,220) / 2
      timeToResolve: { count: 2, meanMs: 1050 * s, maxMs: 1800 * s }, // (1,800 + 300) / 2
      sitesMeetingAvailabilityTarget: 2, // A (100 %), C (99.965 %); not B (97.78 %)
      sitesMeetingTimeToAcknowledgeTarget: 1, // A; B never acknowledged, C late
    });
  });

  test('site identity and the period are carried through', () => {
    expect(report.sites.map((x) => [x.siteId, x.customerId, x.name])).toEqual([
      ['site-a', 'cust-1', 'Alpha'],
      ['site-b', null, null],
      ['site-c', 'cust-2', null],
    ]);
    expect([report.resellerId, report.from, report.to, report.periodMs]).toEqual([resellerId, from, to, 86_400 * s]);
  });

  test('the order of the trail does not matter', () => {
    const reversed = { ...input, sites: input.sites.map((site) => ({ ...site, events: [...site.events].reverse(), maintenance: [...site.maintenance].reverse() })) };
    expect(computeSlaReport(reversed)).toEqual(report);
  });
});

describe('edges', () => {
  const e = eventOf('site-e');
  const site = (events: WitnessEvent[], maintenance: MaintenanceWindow[] = []): SlaSiteInput => ({ siteId: 'site-e', events, maintenance });

  test('no grant at all: no primary the whole period', () => {
    const [x] = computeSlaReport({ ...input, sites: [site([])] }).sites;
    expect(x!.availability).toBe(0);
    expect(x!.downtime).toEqual([{ start: from, end: to, durationMs: 86_400 * s, inMaintenanceMs: 0, eventIds: [] }]);
  });

  test('a site created during the period is judged from its creation; one created after it is left out', () => {
    // Created at 18:00, granted at 18:01: 60 s without a primary out of its 6 h (21,600 s).
    const created = from + 18 * 3_600 * s;
    const grant = e('g', 'failover.granted', created + 60 * s, { nodeId: 'node-a', epoch: 1, previousPrimary: null, previousLeaseEndedAt: null });
    const report = computeSlaReport({ ...input, sites: [{ ...site([grant]), activeFrom: created }, { ...site([]), siteId: 'later', activeFrom: to }] });
    expect(report.sites.map((x) => x.siteId)).toEqual(['site-e']);
    const [x] = report.sites;
    expect(x!.periodMs).toBe(21_600 * s);
    expect(x!.downtimeMs).toBe(60 * s);
    expect(x!.availability).toBeCloseTo(21_540 / 21_600, 12);
  });

  test('maintenance all day: the contract figure is 1 whatever happened', () => {
    const [x] = computeSlaReport({ ...input, sites: [site([], [{ start: from - 1, end: to + 1, reason: 'move' }])] }).sites;
    expect(x!.maintenanceMs).toBe(86_400 * s);
    expect(x!.availabilityExcludingMaintenance).toBe(1);
    expect(x!.downtimeInMaintenanceMs).toBe(86_400 * s);
  });

  test('an incident unacknowledged at `to` and open no longer than the target is pending', () => {
    const [x] = computeSlaReport({ ...input, sites: [site([e('e-1', 'incident.opened', to - 900 * s, { incidentId: 'i', kind: 'node.degraded' })])] }).sites;
    expect(x!.incidents[0]!.acknowledgement).toBe('pending');
    expect(x!.targets.timeToAcknowledge.met).toBe(true);
  });

  test('a lease end reported after the next grant is cut at that grant; delivered twice, counted once', () => {
    const grant = e('e-3', 'failover.granted', t('10:00:10'), { nodeId: 'node-b', previousPrimary: 'node-a', previousLeaseEndedAt: t('10:00:20') });
    const [x] = computeSlaReport({
      ...input,
      sites: [
        site([
          e('e-1', 'failover.granted', t('08:00:00'), { nodeId: 'node-a', previousPrimary: null }),
          grant,
          e('e-2', 'node.lost', t('10:00:30'), { nodeId: 'node-a', leaseEndedAt: t('10:00:20') }),
          grant,
        ]),
      ],
    }).sites;
    expect(x!.held.map((h) => [h.start, h.end])).toEqual([
      [t('08:00:00'), t('10:00:10')],
      [t('10:00:10'), to],
    ]);
    expect(x!.held.map((h) => h.eventIds)).toEqual([['e-1', 'e-3'], ['e-3']]);
    expect(x!.failovers.map((f) => [f.eventIds, f.durationMs])).toEqual([[['e-3'], 0]]);
  });

  test('a grant whose lease had already ended does not split the gap around it', () => {
    const [x] = computeSlaReport({
      ...input,
      sites: [
        site([
          e('e-1', 'failover.granted', t('08:00:00'), { nodeId: 'node-a', previousPrimary: null }),
          e('e-2', 'node.lost', t('09:00:10'), { nodeId: 'node-a', leaseEndedAt: t('09:00:00') }),
          e('e-3', 'failover.granted', t('10:00:00'), { nodeId: 'node-b', previousPrimary: 'node-a', previousLeaseEndedAt: t('09:00:00') }),
          e('e-4', 'node.lost', t('10:00:05'), { nodeId: 'node-b', leaseEndedAt: t('09:59:50') }),
          e('e-5', 'failover.granted', t('11:00:00'), { nodeId: 'node-a', previousPrimary: 'node-b', previousLeaseEndedAt: t('09:59:50') }),
        ]),
      ],
    }).sites;
    // node-b's hold is clamped to 10:00–10:00 (its lease ended before the grant): 09:00–11:00 is one gap.
    expect(x!.held.map((h) => h.eventIds)).toEqual([['e-1', 'e-2'], ['e-5']]);
    expect(x!.downtime).toEqual([
      { start: from, end: t('08:00:00'), durationMs: 8 * 3600 * s, inMaintenanceMs: 0, eventIds: ['e-1'] },
      { start: t('09:00:00'), end: t('11:00:00'), durationMs: 7200 * s, inMaintenanceMs: 0, eventIds: ['e-2', 'e-3', 'e-4', 'e-5'] },
    ]);
    // Failover durations come from the grant alone: 3,600 s, and 3,610 s for e-5 (09:59:50 → 11:00).
    expect(x!.failovers.map((f) => f.durationMs)).toEqual([3600 * s, 3610 * s]);
  });

  test('an empty period is refused', () => {
    expect(() => computeSlaReport({ ...input, to: from })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random trails: ties in time, lease ends before or after their events, other
// sites' events, incidents matched or not, maintenance windows anywhere (even inverted).

describe('properties', () => {
  const hour = 3600 * s;
  const pFrom = t('10:00:00');
  const pTo = t('14:00:00');
  // Whole minutes from an hour before to an hour after: many events share a timestamp.
  const instant = fc.integer({ min: -60, max: 300 }).map((m) => pFrom + m * 60 * s);
  const node = fc.constantFrom('node-a', 'node-b');

  const rawEvent = fc.record({
    type: fc.constantFrom<EventType>('failover.granted', 'failover.granted', 'node.lost', 'site.down', 'link.lost', 'incident.opened', 'incident.acknowledged', 'incident.resolved'),
    at: instant,
    siteId: fc.constantFrom('site-p', 'site-p', 'site-p', 'site-q'),
    nodeId: fc.option(node, { nil: undefined }),
    epoch: fc.option(fc.nat(20), { nil: undefined }),
    previousPrimary: fc.constantFrom(undefined, null, 'node-a', 'node-b'),
    previousLeaseEndedAt: fc.option(instant, { nil: null }),
    leaseEndedAt: fc.option(instant, { nil: null }),
    incidentId: fc.constantFrom('inc-1', 'inc-2'),
    kind: fc.constantFrom<EventType>('node.lost', 'site.down'),
  });

  const trail = fc.array(rawEvent, { maxLength: 30 }).map((raws) =>
    raws.map(({ type, at, siteId, ...data }, i) => eventOf(siteId)(`e-${i}`, type, at, data)),
  );
  const windows = fc.array(
    fc.record({ start: instant, end: instant, reason: fc.constantFrom('patch', 'move') }),
    { maxLength: 4 },
  );
  const scenario = fc.tuple(trail, windows).chain(([events, maintenance]) =>
    fc.record({
      events: fc.constant(events),
      maintenance: fc.constant(maintenance),
      shuffled: fc.shuffledSubarray(events, { minLength: events.length }),
      shuffledMaintenance: fc.shuffledSubarray(maintenance, { minLength: maintenance.length }),
    }),
  );

  const reportOf = (events: WitnessEvent[], maintenance: MaintenanceWindow[]) =>
    computeSlaReport({ resellerId, from: pFrom, to: pTo, targets, sites: [{ siteId: 'site-p', events, maintenance }] });

  test('availability in [0, 1], held + downtime = period, downtime in maintenance ≤ maintenance, order-free', () => {
    fc.assert(
      fc.property(scenario, ({ events, maintenance, shuffled, shuffledMaintenance }) => {
        const result = reportOf(events, maintenance);
        const site = result.sites[0]!;
        const periodMs = 4 * hour;
        expect(site.availability).toBeGreaterThanOrEqual(0);
        expect(site.availability).toBeLessThanOrEqual(1);
        expect(site.availabilityExcludingMaintenance).toBeGreaterThanOrEqual(0);
        expect(site.availabilityExcludingMaintenance).toBeLessThanOrEqual(1);
        expect(site.heldMs + site.downtimeMs).toBe(periodMs);
        expect(site.downtimeInMaintenanceMs).toBeLessThanOrEqual(site.maintenanceMs);
        expect(site.maintenanceMs).toBeLessThanOrEqual(periodMs);

        // The intervals are the figures: disjoint, inside the period, summing to them.
        const spans = [...site.held, ...site.downtime].sort((x, y) => x.start - y.start);
        expect(spans.reduce((sum, x) => sum + x.durationMs, 0)).toBe(periodMs);
        spans.forEach((x, i) => {
          expect(x.end).toBeGreaterThan(x.start);
          expect(x.start).toBe(i === 0 ? pFrom : spans[i - 1]!.end);
        });
        expect(spans.at(-1)?.end ?? pTo).toBe(pTo);
        expect(site.held.reduce((sum, x) => sum + x.durationMs, 0)).toBe(site.heldMs);
        // A gap is one interval: never two downtimes back to back.
        site.downtime.slice(1).forEach((x, i) => {
          expect(x.start).toBeGreaterThan(site.downtime[i]!.end);
        });

        // Every figure names events of this site's trail.
        const ownIds = new Set(events.filter((x) => x.data.siteId === 'site-p').map((x) => x.id));
        for (const x of [...site.held, ...site.downtime, ...site.failovers, ...site.incidents]) for (const id of x.eventIds) expect(ownIds.has(id)).toBe(true);
        for (const f of site.failovers) expect(f.durationMs).toBeGreaterThanOrEqual(0);
        for (const i of site.incidents) {
          expect(i.timeToAcknowledgeMs ?? 0).toBeGreaterThanOrEqual(0);
          expect(i.timeToResolveMs ?? 0).toBeGreaterThanOrEqual(0);
        }

        expect(reportOf(shuffled, shuffledMaintenance)).toEqual(result);
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Renderers

/** A strict RFC 4180 reader, to check what a spreadsheet would read back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  expect(field === '' && row.length === 0, 'the text ends with CRLF').toBe(true);
  return rows;
}

describe('rendering', () => {
  const awkward = computeSlaReport({
    ...input,
    sites: [
      { ...siteA, name: 'Acme, "North" plant\nHall 2', customerId: '=HYPERLINK("http://evil.example","x")' },
      { ...siteB, name: '-5 basement', customerId: '@SUM(A1)' },
      { ...siteC, name: '<script>alert("x")</script> & co', customerId: '+1 555' },
    ],
  });

  test('CSV: a header, one row per site, then the reseller; quoted, with formulas defused', () => {
    const rows = parseCsv(renderSlaReport(awkward, 'csv'));
    expect(rows).toHaveLength(5);
    const [header, ...body] = rows;
    const col = (name: string): number => header!.indexOf(name);
    expect(body.map((r) => r[col('row')])).toEqual(['site', 'site', 'site', 'reseller']);
    expect(body.map((r) => r[col('name')])).toEqual(['Acme, "North" plant\nHall 2', "'-5 basement", '<script>alert("x")</script> & co', '']);
    expect(body.map((r) => r[col('customer_id')])).toEqual(["'=HYPERLINK(\"http://evil.example\",\"x\")", "'@SUM(A1)", "'+1 555", '']);
    expect(body.map((r) => r[col('availability_excluding_maintenance')])).toEqual([String(1), String(79_200 / 81_000), String(86_370 / 86_400), String(248_370 / 250_200)]);
    expect(body.map((r) => r[col('failover_downtime_ms')])).toEqual(['20000', '3600000', '0', '3620000']);
    expect(body[3]![col('sites_meeting_tta')]).toBe('1');
    expect(body.every((r) => r.length === header!.length)).toBe(true);
  });

  test('CSV fields: quotes doubled, numbers never prefixed, text that looks like a formula is', () => {
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('line\r\nbreak')).toBe('"line\r\nbreak"');
    expect(csvField('=1+2')).toBe("'=1+2");
    expect(csvField('-2,5')).toBe(`"'-2,5"`);
    expect(csvField('\tcmd')).toBe("'\tcmd");
    expect(csvField(-5)).toBe('-5');
    expect(csvField(0.5)).toBe('0.5');
    expect(csvField(true)).toBe('true');
    expect(csvField(null)).toBe('');
  });

  test('HTML: one page, text escaped, no scripts, no external assets', () => {
    const html = renderSlaReport(awkward, 'html');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)=/i);
    expect(html).not.toMatch(/<link|@import|url\(/i);
    expect(html).toContain('firmware &lt;v2&gt;');
    for (const caption of ['Reseller totals', 'Sites', 'Downtime (no primary)', 'Maintenance', 'Failovers', 'Incidents', 'Primary held the role']) expect(html).toContain(`<h2>${caption}</h2>`);
    expect(html.match(/<table>/g)).toHaveLength(7);
    // Traceability survives rendering: the failover's event id is on the page.
    expect(html).toContain('<td>b-04</td>');
  });

  test('JSON: the report as computed, with ISO times beside the ms', () => {
    const json = JSON.parse(renderSlaReport(report, 'json')) as Record<string, unknown> & typeof report;
    expect(json.from).toBe(from);
    expect(json).toMatchObject({ fromIso: '2026-11-29T00:00:00.000Z', toIso: '2026-11-30T00:00:00.000Z' });
    expect(json.sites[1]!.failovers[0]).toMatchObject({ at: t('07:00:00'), atIso: '2026-11-29T07:00:00.000Z', previousLeaseEndedAtIso: '2026-11-29T06:00:00.000Z', durationMs: 3600 * s });
    expect(json.sites[2]!.incidents[1]).toMatchObject({ acknowledgedAtIso: '2026-11-30T00:20:00.000Z', resolvedAt: null, resolvedAtIso: null });
    expect(json.totals).toEqual(report.totals);
  });
});
