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
