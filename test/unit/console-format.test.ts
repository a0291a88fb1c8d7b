import { describe, expect, it } from 'vitest';
import { date, dateTime, duration, fromLocalInput, percent, relative } from '../../console/format.ts';
import { hrefOf, parseRoute, type Route } from '../../console/route.ts';

describe('the console’s words for time and shares', () => {
  it('durations in at most two units', () => {
    expect([0, 45_000, 200_000, 7_500_000, 90_000_000, 86_400_000].map(duration)).toEqual([
      '0 s',
      '45 s',
      '3 min 20 s',
      '2 h 5 min',
      '1 day 1 h',
      '1 day',
    ]);
  });

  it('relative times, past and ahead', () => {
    const now = Date.parse('2026-11-10T10:00:00Z');
    expect(
      [now - 2_000, now - 12_000, now - 180_000, now - 7_200_000, now - 3 * 86_400_000, now + 180_000].map((at) => relative(at, now)),
    ).toEqual(['just now', '12 s ago', '3 min ago', '2 h ago', '3 days ago', 'in 3 min']);
    expect(relative('not a time', now)).toBe('unknown');
  });

  it('moments and days in a given zone', () => {
    expect(dateTime('2026-11-03T15:02:05Z', 'UTC')).toBe('Tue 3 Nov 2026, 15:02:05');
    expect(dateTime('2026-11-03T15:02:05Z', 'Europe/Berlin')).toBe('Tue 3 Nov 2026, 16:02:05');
    expect(date(Date.parse('2026-11-30T23:30:00Z'), 'Europe/Berlin')).toBe('Tue 1 Dec 2026');
  });

  it('percentages rounded down, as the SLA report does: a figure just under its target never reads as meeting it', () => {
    expect(percent(0.99998842)).toBe('99.998 %');
    expect(percent(0.9989999)).toBe('99.899 %');
    expect(percent(0.999)).toBe('99.9 %');
    expect(percent(1)).toBe('100 %');
    expect(percent(0.5, 0)).toBe('50 %');
  });

  it('a datetime-local field’s value is the reader’s time, as an ISO instant', () => {
    expect(fromLocalInput('not a time')).toBeNull();
    expect(fromLocalInput('2026-11-03T15:02')).toBe(new Date(2026, 10, 3, 15, 2).toISOString());
  });
});

describe('the console’s hash routes', () => {
  it.each<[string, Route]>([
    ['', { view: 'sites', customerId: null, status: null }],
    ['#/sites?customer=dental&status=down', { view: 'sites', customerId: 'dental', status: 'down' }],
    ['#/sites?status=bogus', { view: 'sites', customerId: null, status: null }],
    ['#/sites/main%20office', { view: 'site', siteId: 'main office' }],
    ['#/incidents?state=all', { view: 'incidents', state: 'all' }],
    ['#/incidents?state=bogus', { view: 'incidents', state: 'unresolved' }],
    ['#/webhooks', { view: 'webhooks', endpointId: null }],
    ['#/webhooks/psa', { view: 'webhooks', endpointId: 'psa' }],
    ['#/reports', { view: 'reports' }],
    ['#/nowhere', { view: 'not-found', path: '/nowhere' }],
    ['#/sites/a/b', { view: 'not-found', path: '/sites/a/b' }],
    ['#/sites/%E0%A4%A', { view: 'not-found', path: '/sites/%E0%A4%A' }],
  ])('%s', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    if (route.view !== 'not-found') expect(parseRoute(hrefOf(route))).toEqual(route);
  });
});
