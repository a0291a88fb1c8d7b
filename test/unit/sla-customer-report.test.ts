import { describe, expect, test } from 'vitest';
import { customerView, percentDown, timelineLimit } from '../../functions/domain/sla-customer-report.ts';
import { computeSlaReport, type SlaSiteInput } from '../../functions/domain/sla-report.ts';
import { trailOf } from '../support/trail-events.ts';

// The customer's report in words: verdicts a reader can check, local times, a timeline in plain
// sentences, and none of the ids the JSON traces figures to.

const s = 1000;
const min = 60 * s;
const h = 60 * min;
const resellerId = 'acme-it';
const from = Date.parse('2026-11-30T23:00:00Z'); // 1 Dec 2026 00:00 in Berlin
const to = Date.parse('2026-12-31T23:00:00Z'); // 1 Jan 2027 00:00 in Berlin
const at = (iso: string): number => Date.parse(iso);

const e = trailOf(resellerId, 'main-office');
const main: SlaSiteInput = {
  siteId: 'main-office',
  customerId: 'mueller',
  name: 'Praxis Müller, Empfang',
  events: [
    e('ev-01', 'failover.granted', at('2026-11-20T08:00:00Z'), {
      nodeId: 'srv-1',
      epoch: 1,
      previousPrimary: null,
      previousLeaseEndedAt: null,
    }),
    // Tue 3 Dec 14:02 UTC (15:02 in Berlin): srv-1's lease ended, srv-2 took over 11 s later.
    e('ev-02', 'node.lost', at('2026-12-03T14:02:05Z'), { nodeId: 'srv-1', leaseEndedAt: at('2026-12-03T14:02:00Z') }),
    e('ev-03', 'incident.opened', at('2026-12-03T14:02:05Z'), { incidentId: 'node-lost-1', kind: 'node.lost' }),
    e('ev-04', 'failover.granted', at('2026-12-03T14:02:11Z'), {
      nodeId: 'srv-2',
      epoch: 2,
      previousPrimary: 'srv-1',
      previousLeaseEndedAt: at('2026-12-03T14:02:00Z'),
    }),
    e('ev-05', 'incident.acknowledged', at('2026-12-03T14:06:05Z'), { incidentId: 'node-lost-1' }),
    e('ev-06', 'incident.resolved', at('2026-12-03T15:00:00Z'), { incidentId: 'node-lost-1' }),
    // An operator's forced failover: the key's id must not reach the customer.
    e('ev-07', 'failover.forced', at('2026-12-04T10:00:00Z'), {
      nodeId: 'srv-1',
      epoch: 3,
      previousPrimary: 'srv-2',
      previousLeaseEndedAt: null,
      keyId: 'key-7f3a',
      confirm: 'srv-2 is powered off',
      reason: 'PSU',
    }),
  ],
  maintenance: [
    {
      start: at('2026-12-05T20:00:00Z'),
      end: at('2026-12-05T21:00:00Z'),
      reason: 'Windows updates',
      declaredAt: at('2026-12-01T09:00:00Z'),
      declaredBy: { kind: 'api-key', keyId: 'key-7f3a' },
    },
  ],
};
const lab: SlaSiteInput = { siteId: 'lab-2', customerId: 'mueller', name: 'Labor', events: [], maintenance: [] };

const now = at('2026-12-06T13:45:00Z');
const report = computeSlaReport({
  resellerId,
  from,
  to,
  now,
  timeZone: 'Europe/Berlin',
  targets: { availability: 0.999, timeToAcknowledgeMs: 15 * min },
  sites: [main, lab],
});
const view = customerView(report, {
  resellerName: 'Acme IT',
  customerName: 'Zahnarztpraxis Müller',
  customerNames: { mueller: 'Zahnarztpraxis Müller' },
  now,
});
const [mainView, labView] = view.sites;

describe('the customer report of a month not over yet', () => {
  test('names, the period in local days, and that it is measured up to now', () => {
    expect(view).toMatchObject({
      title: 'Service report — Zahnarztpraxis Müller',
      resellerName: 'Acme IT',
      customerName: 'Zahnarztpraxis Müller',
      periodLabel: '1 Dec 2026 – 31 Dec 2026 (times in Europe/Berlin)',
      partialNote: 'Measured up to Sun 6 Dec 2026 14:45: the period is not over, so these figures are so far.',
      generatedAt: 'Sun 6 Dec 2026 14:45 (Europe/Berlin)',
    });
    expect(mainView).toMatchObject({ siteName: 'Praxis Müller, Empfang', customerName: 'Zahnarztpraxis Müller', liveNote: null });
  });

  test('one verdict per target, in words, rounded down', () => {
    // 11 s without a primary over 5 d 14 h 45 min (485,100 s), 1 Dec 00:00 to 6 Dec 14:45 in Berlin: 99.9977 %.
    expect(report.sites[0]!.availability).toBeCloseTo(1 - 11 / 485_100, 12);
    expect(mainView!.verdicts).toEqual([
      { text: 'Availability 99.997 % — target 99.9 % met', met: true },
      { text: 'Time to acknowledge: longest 4 min — target 15 min met', met: true },
    ]);
  });

  test('what happened, in plain words and local times', () => {
    expect(mainView!.timeline).toEqual([
      { at: 'Thu 3 Dec 2026 15:02', text: 'Server srv-1 stopped; server srv-2 took over in 11 s.' },
      { at: 'Fri 4 Dec 2026 11:00', text: 'An operator declared server srv-2 powered off and made server srv-1 the primary.' },
      { at: 'Sat 5 Dec 2026 21:00', text: 'Planned maintenance for 1 h: Windows updates.' },
    ]);
    expect(mainView!.incidents).toEqual([
      {
        what: 'A server stopped answering',
        opened: 'Thu 3 Dec 2026 15:02',
        acknowledged: 'Thu 3 Dec 2026 15:06',
        resolved: 'Thu 3 Dec 2026 16:00',
        timeToAcknowledge: '4 min (target 15 min met)',
      },
    ]);
    expect(mainView!.maintenance).toEqual([
      {
        from: 'Sat 5 Dec 2026 21:00',
        to: 'Sat 5 Dec 2026 22:00',
        reason: 'Windows updates',
        declared: 'Tue 1 Dec 2026 10:00 by your service provider',
      },
    ]);
  });

  test('a site that never had a primary is not yet live, and not judged', () => {
    expect(labView!.liveNote).toBe('Not yet live: no server has run as primary yet, so there is nothing to measure.');
    expect(labView!.verdicts[0]).toEqual({ text: 'Availability — not measured (not yet live); target 99.9 %', met: null });
    expect(labView!.timeline).toEqual([]);
  });

  test('none of the internal ids: events, incidents, API keys, sites, customers', () => {
    const text = JSON.stringify(view);
    for (const id of ['ev-0', 'node-lost-1', 'key-7f3a', 'main-office', 'lab-2', '"mueller"', 'acme-it']) expect(text).not.toContain(id);
  });
});

describe('wording', () => {
  test('percentages round down: just under a target never reads as meeting it', () => {
    expect(percentDown(0.99899)).toBe('99.899 %');
    expect(percentDown(0.9999999)).toBe('99.999 %');
    expect(percentDown(1)).toBe('100.00 %');
    expect(percentDown(0.5)).toBe('50.00 %');
  });

  test('a long history keeps the first lines and says how many more there are', () => {
    const events = [e('g0', 'failover.granted', from - h, { nodeId: 'srv-1', epoch: 1, previousPrimary: null })];
    for (let i = 1; i <= 20; i++) {
      const node = i % 2 === 0 ? 'srv-1' : 'srv-2';
      const other = i % 2 === 0 ? 'srv-2' : 'srv-1';
      events.push(
        e(`g${i}`, 'failover.granted', from + i * h, { nodeId: node, epoch: i + 1, previousPrimary: other, previousLeaseEndedAt: null }),
      );
    }
    const busy = computeSlaReport({
      resellerId,
      from,
      to,
      now,
      timeZone: 'Europe/Berlin',
      targets: report.targets,
      sites: [{ ...main, events, maintenance: [] }],
    });
    const [site] = customerView(busy, { resellerName: 'Acme IT', customerName: null, customerNames: {}, now }).sites;
    expect(site!.timeline).toHaveLength(timelineLimit);
    expect(site!.timelineOmitted).toBe(20 - timelineLimit);
    expect(site!.timeline[0]!.text).toBe('The primary role passed from server srv-1 to server srv-2 without interruption.');
  });

  test('a period given as instants is labelled with times; an ended one has no partial note', () => {
    const ended = computeSlaReport({
      resellerId,
      from: at('2026-12-03T08:00:00Z'),
      to: at('2026-12-03T17:00:00Z'),
      now,
      timeZone: 'UTC',
      targets: report.targets,
      sites: [main],
    });
    const words = customerView(ended, { resellerName: 'Acme IT', customerName: null, customerNames: {}, now });
    expect(words.periodLabel).toBe('Thu 3 Dec 2026 08:00 – Thu 3 Dec 2026 17:00 (times in UTC)');
    expect(words.partialNote).toBeNull();
    expect(words.title).toBe('Service report — Acme IT');
  });
});
