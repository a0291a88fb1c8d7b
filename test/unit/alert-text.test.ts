import { describe, expect, it } from 'vitest';
import type { ServiceQueueMessage } from '../../protocol/incidents.ts';
import { alertText } from '../../functions/adapters/notifier.ts';

const message = (step: ServiceQueueMessage['step'], siteName: string): ServiceQueueMessage => ({
  messageId: 'r/s/incident.escalated/node-lost-1/1',
  step,
  level: step === 'opened' ? 1 : null,
  at: '2026-11-29T10:00:00.000Z',
  incident: {
    incidentId: 'node-lost-1',
    kind: 'node.lost',
    state: 'open',
    openedAt: '2026-11-29T10:00:00.000Z',
    subjects: ['node-a'],
    acknowledgedBy: null,
    resolvedBy: null,
  },
  site: { siteId: 'zurich', name: siteName },
  customer: { customerId: 'dental', name: 'Zahnarztpraxis Müller' },
  links: { acknowledge: 'https://w.example/v1/links/a', resolve: 'https://w.example/v1/links/r' },
});

describe('the text of an e-mail or SMS', () => {
  it('has a subject SNS accepts (printable ASCII, under 100 characters), whatever the names', () => {
    const { subject } = alertText(message('opened', `Zürich ☎ office\nsecond line ${'x'.repeat(200)}`));
    expect(subject).toMatch(/^\[Tiebreak\] node\.lost at Zurich/);
    expect(subject).toMatch(/^[\x20-\x7e]{1,99}$/);
  });

  it('carries the one-click links while there is something to do, and not once resolved', () => {
    expect(alertText(message('opened', 'Main office')).body).toContain('Acknowledge: https://w.example/v1/links/a');
    expect(alertText(message('resolved', 'Main office')).body).not.toContain('/v1/links/');
  });
});

describe('an inbound alert in an e-mail or SMS', () => {
  it('is named by the summary its tool sent and its names, not by its integration id', () => {
    const base = message('opened', 'Main office');
    const alert: ServiceQueueMessage = {
      ...base,
      incident: {
        ...base.incident,
        kind: 'alert.raised',
        subjects: ['int_ESB8abcdefghijklmnopqr/ups-power'],
        affected: ['UPS on battery, 38 min left (ups-power from APC UPS)'],
      },
    };
    const { body } = alertText(alert);
    expect(body).toContain('Affected: UPS on battery, 38 min left (ups-power from APC UPS).');
    expect(body).not.toContain('int_ESB8');
    // A message stored before `affected` was given still names its subjects.
    expect(alertText(base).body).toContain('Affected: node-a.');
  });
});
