import { describe, expect, test } from 'vitest';
import { type Alert, alertEventsOf } from '../../functions/domain/alert-events.ts';
import { conditionChangesOf } from '../../functions/domain/incidents.ts';

const raised: Alert = {
  resellerId: 'r1',
  siteId: 's1',
  integrationId: 'int_abc',
  integrationName: 'APC UPS',
  alert: 'ups-power',
  raised: true,
  severity: 'warning',
  at: 1_800_000_000_000,
  webhookId: 'msg_1',
  type: 'ups.on-battery',
  summary: 'on battery',
};
const cleared: Alert = {
  ...raised,
  raised: false,
  severity: 'info',
  at: raised.at + 60_000,
  webhookId: 'msg_2',
  type: 'ups.on-mains',
  summary: undefined,
};

const types = (events: { type: string }[]) => events.map((e) => e.type);

describe('alert events', () => {
  test('an alert raised for the first time is one alert.raised, with its severity, subject and summary', () => {
    const [event] = alertEventsOf(undefined, raised);
    expect(event).toEqual({
      id: 'r1/s1/alert.raised/int_abc/ups-power/1800000000000',
      type: 'alert.raised',
      timestamp: new Date(raised.at).toISOString(),
      data: {
        resellerId: 'r1',
        siteId: 's1',
        severity: 'warning',
        integrationId: 'int_abc',
        integrationName: 'APC UPS',
        alert: 'ups-power',
        subject: 'int_abc/ups-power',
        type: 'ups.on-battery',
        summary: 'on battery',
      },
    });
    // The mapping's severity travels with the raise: the incident pages as a warning, not as critical;
    // and the words its messages show for it, the summary first.
    expect(conditionChangesOf(event!)).toEqual([
      {
        kind: 'alert.raised',
        subject: 'int_abc/ups-power',
        phase: 'raised',
        at: raised.at,
        severity: 'warning',
        label: 'on battery (ups-power from APC UPS)',
      },
    ]);
  });

  test('the same news again makes nothing; newer news of a raise is a new alert.raised', () => {
    expect(alertEventsOf(raised, { ...raised, webhookId: 'msg_9' })).toEqual([]);
    expect(types(alertEventsOf(raised, { ...raised, at: raised.at + 1000 }))).toEqual(['alert.raised']);
  });

  test('a raised alert that clears is one alert.cleared (info), which clears the incident subject', () => {
    const [event] = alertEventsOf(raised, cleared);
    expect(event).toMatchObject({
      type: 'alert.cleared',
      id: 'r1/s1/alert.cleared/int_abc/ups-power/1800000060000',
      data: { severity: 'info' },
    });
    expect(event?.data).not.toHaveProperty('summary');
    expect(conditionChangesOf(event!)).toEqual([{ kind: 'alert.raised', subject: 'int_abc/ups-power', phase: 'cleared', at: cleared.at }]);
  });

  test('a clear of an alert never raised, another clear, or a removed item make nothing', () => {
    expect(alertEventsOf(undefined, cleared)).toEqual([]);
    expect(alertEventsOf(cleared, { ...cleared, at: cleared.at + 1000 })).toEqual([]);
    expect(alertEventsOf(raised, undefined)).toEqual([]);
  });
});
