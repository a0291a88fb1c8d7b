import type { EventOf, EventType } from './events.ts';
import { linkedEventTypes, type WebhookContext } from './webhooks.ts';

// One realistic event of each type, as an endpoint with the `generic` template receives it: the
// examples of /openapi.json's `webhooks`. Typed by the contract (tsc checks them against the
// schemas), and validated against the published JSON Schemas by test/unit/event-contract.test.ts.

const site = { resellerId: 'acme-it', siteId: 'main-office' };
const at = (iso: string) => Date.parse(iso);
const id = (type: EventType, key: string) => `acme-it/main-office/${type}/${key}`;
const incident = (kind: 'node.lost', openedAt: number) => ({ incidentId: `${kind.replace('.', '-')}-${String(openedAt)}`, kind, openedAt });
const opened = at('2026-11-30T10:02:20.000Z');

export const eventExamples: { [T in EventType]: EventOf<T> } = {
  'failover.granted': {
    id: id('failover.granted', '2'),
    type: 'failover.granted',
    timestamp: '2026-11-30T10:02:36.120Z',
    data: {
      ...site,
      severity: 'warning',
      nodeId: 'node-b',
      epoch: 2,
      previousPrimary: 'node-a',
      previousLeaseEndedAt: at('2026-11-30T10:02:35.004Z'),
      reason: 'lease-expired',
    },
  },
  'failover.completed': {
    id: id('failover.completed', '2'),
    type: 'failover.completed',
    timestamp: '2026-11-30T10:02:41.300Z',
    data: { ...site, severity: 'info', nodeId: 'node-b', epoch: 2 },
  },
  'failover.forced': {
    id: id('failover.forced', '3'),
    type: 'failover.forced',
    timestamp: '2026-11-30T11:15:00.000Z',
    data: {
      ...site,
      severity: 'warning',
      nodeId: 'node-a',
      epoch: 3,
      previousPrimary: 'node-b',
      previousLeaseEndedAt: at('2026-11-30T11:15:00.000Z'),
      keyId: 'key_7f3a9c',
      confirm: 'node-b is powered off',
      reason: 'node-b lost its disks; bringing node-a back',
    },
  },
  'node.lost': {
    id: id('node.lost', 'node-a/812'),
    type: 'node.lost',
    timestamp: '2026-11-30T10:02:20.000Z',
    data: { ...site, severity: 'critical', nodeId: 'node-a', reportedBy: 'node-b', leaseEndedAt: at('2026-11-30T10:02:35.004Z') },
  },
  'node.recovered': {
    id: id('node.recovered', 'node-a/840'),
    type: 'node.recovered',
    timestamp: '2026-11-30T10:09:12.500Z',
    data: { ...site, severity: 'info', nodeId: 'node-a', reportedBy: 'node-b', primary: 'node-b', epoch: 2, leaseRenewedAt: null },
  },
  'node.excluded': {
    id: id('node.excluded', `node-b/${String(at('2026-11-30T10:40:00.000Z'))}`),
    type: 'node.excluded',
    timestamp: '2026-11-30T10:40:00.000Z',
    data: { ...site, severity: 'critical', nodeId: 'node-b', survivor: 'node-a', epoch: 2, lastSeenAt: at('2026-11-30T10:38:45.000Z') },
  },
  'node.readmitted': {
    id: id('node.readmitted', `node-b/${String(at('2026-11-30T10:40:00.000Z'))}`),
    type: 'node.readmitted',
    timestamp: '2026-11-30T12:01:05.000Z',
    data: {
      ...site,
      severity: 'info',
      nodeId: 'node-b',
      survivor: 'node-a',
      epoch: 2,
      excludedAt: at('2026-11-30T10:40:00.000Z'),
      by: 'survivor',
    },
  },
  'site.down': {
    id: id('site.down', String(at('2026-11-30T10:03:00.000Z'))),
    type: 'site.down',
    timestamp: '2026-11-30T10:03:00.000Z',
    data: {
      ...site,
      severity: 'critical',
      lastSeenAt: at('2026-11-30T10:02:04.004Z'),
      nodeIds: ['node-a', 'node-b'],
      leaseEndedAt: at('2026-11-30T10:02:19.504Z'),
      standalone: false,
    },
  },
  'site.recovered': {
    id: id('site.recovered', String(at('2026-11-30T10:03:00.000Z'))),
    type: 'site.recovered',
    timestamp: '2026-11-30T10:07:31.000Z',
    data: {
      ...site,
      severity: 'info',
      downSince: at('2026-11-30T10:02:04.004Z'),
      primary: 'node-a',
      epoch: 1,
      leaseRenewedAt: at('2026-11-30T10:07:31.000Z'),
    },
  },
  'link.lost': {
    id: id('link.lost', '901'),
    type: 'link.lost',
    timestamp: '2026-11-30T10:20:00.000Z',
    data: { ...site, severity: 'warning' },
  },
  'link.restored': {
    id: id('link.restored', '934'),
    type: 'link.restored',
    timestamp: '2026-11-30T10:24:10.000Z',
    data: { ...site, severity: 'info' },
  },
  'node.degraded': {
    id: id('node.degraded', 'node-b/950'),
    type: 'node.degraded',
    timestamp: '2026-11-30T10:30:00.000Z',
    data: { ...site, severity: 'warning', nodeId: 'node-b', health: 40, threshold: 60 },
  },
  'command.unacknowledged': {
    id: id('command.unacknowledged', `node-a/2-demote-node-a/${String(at('2026-11-30T10:03:10.000Z'))}`),
    type: 'command.unacknowledged',
    timestamp: '2026-11-30T10:03:10.000Z',
    data: {
      ...site,
      severity: 'warning',
      nodeId: 'node-a',
      commandId: '2-demote-node-a',
      commandType: 'demote',
      epoch: 2,
      issuedAt: at('2026-11-30T10:02:36.120Z'),
      deliveredAt: at('2026-11-30T10:02:40.000Z'),
    },
  },
  'command.acknowledged': {
    id: id('command.acknowledged', `node-a/2-demote-node-a/${String(at('2026-11-30T10:03:10.000Z'))}`),
    type: 'command.acknowledged',
    timestamp: '2026-11-30T10:03:15.000Z',
    data: {
      ...site,
      severity: 'info',
      nodeId: 'node-a',
      commandId: '2-demote-node-a',
      commandType: 'demote',
      epoch: 2,
      issuedAt: at('2026-11-30T10:02:36.120Z'),
      deliveredAt: at('2026-11-30T10:02:40.000Z'),
      overdueAt: at('2026-11-30T10:03:10.000Z'),
      outcome: 'acknowledged',
    },
  },
  'incident.opened': {
    id: id('incident.opened', `node-lost-${String(opened)}`),
    type: 'incident.opened',
    timestamp: '2026-11-30T10:02:20.000Z',
    data: {
      ...site,
      severity: 'critical',
      ...incident('node.lost', opened),
      subjects: ['node-a'],
      openingEventId: id('node.lost', 'node-a/812'),
      firstTargets: [{ type: 'service-queue' }, { type: 'webhook', endpointId: 'psa' }],
    },
  },
  'incident.escalated': {
    id: id('incident.escalated', `node-lost-${String(opened)}/1`),
    type: 'incident.escalated',
    timestamp: '2026-11-30T10:02:20.000Z',
    data: {
      ...site,
      severity: 'critical',
      ...incident('node.lost', opened),
      step: 1,
      level: 1,
      targets: [{ type: 'service-queue' }, { type: 'webhook', endpointId: 'psa' }],
    },
  },
  'incident.acknowledged': {
    id: id('incident.acknowledged', `node-lost-${String(opened)}`),
    type: 'incident.acknowledged',
    timestamp: '2026-11-30T10:05:02.000Z',
    data: {
      ...site,
      severity: 'info',
      ...incident('node.lost', opened),
      by: 'api-key:key_7f3a9c',
      notified: [{ type: 'service-queue' }, { type: 'webhook', endpointId: 'psa' }],
    },
  },
  'incident.resolved': {
    id: id('incident.resolved', `node-lost-${String(opened)}`),
    type: 'incident.resolved',
    timestamp: '2026-11-30T10:10:12.500Z',
    data: {
      ...site,
      severity: 'info',
      ...incident('node.lost', opened),
      by: 'recovery',
      notified: [{ type: 'service-queue' }, { type: 'webhook', endpointId: 'psa' }],
    },
  },
  'alert.raised': {
    id: id('alert.raised', 'int_ups/ups-power/1764497000000'),
    type: 'alert.raised',
    timestamp: '2026-11-30T10:03:20.000Z',
    data: {
      ...site,
      severity: 'critical',
      integrationId: 'int_ups',
      integrationName: 'Server room UPS',
      alert: 'ups-power',
      subject: 'int_ups/ups-power',
      type: 'ups.on-battery',
      summary: 'UPS on battery, 38 minutes left',
    },
  },
  'alert.cleared': {
    id: id('alert.cleared', 'int_ups/ups-power/1764497600000'),
    type: 'alert.cleared',
    timestamp: '2026-11-30T10:13:20.000Z',
    data: {
      ...site,
      severity: 'info',
      integrationId: 'int_ups',
      integrationName: 'Server room UPS',
      alert: 'ups-power',
      subject: 'int_ups/ups-power',
      type: 'ups.on-mains',
    },
  },
  'webhook.failed': {
    id: id('webhook.failed', 'psa/msg_2q8c0d/0'),
    type: 'webhook.failed',
    timestamp: '2026-12-01T07:02:20.000Z',
    data: {
      ...site,
      severity: 'warning',
      endpointId: 'psa',
      messageId: 'msg_2q8c0d',
      eventId: id('node.lost', 'node-a/812'),
      eventType: 'node.lost',
      attempts: 8,
      lastStatus: 503,
    },
  },
  'webhook.disabled': {
    id: id('webhook.disabled', 'psa/msg_2q8c0d/0'),
    type: 'webhook.disabled',
    timestamp: '2026-12-01T07:02:20.000Z',
    data: {
      ...site,
      severity: 'critical',
      endpointId: 'psa',
      messageId: 'msg_2q8c0d',
      eventId: id('node.lost', 'node-a/812'),
      eventType: 'node.lost',
      attempts: 1,
      lastStatus: 410,
      reason: 'gone',
    },
  },
  'webhook.test': {
    id: 'acme-it/webhook.test/psa/msg_5t0e1a',
    type: 'webhook.test',
    timestamp: '2026-11-30T09:30:00.000Z',
    data: {
      resellerId: 'acme-it',
      test: true,
      severity: 'info',
      endpointId: 'psa',
      keyId: 'key_7f3a9c',
      message:
        'This is a test of webhook endpoint psa, asked for with API key key_7f3a9c: nothing happened at any site, and no action is needed.',
    },
  },
};

/** A link as the service signs it (`<base64url claims>.<base64url MAC>`); the example's are not valid. */
const link = (action: string) => `https://witness.example.com/v1/links/eyJyIjoiYWNtZS1pdCIsImEiOiJ${action}.c2lnbmF0dXJl`;

/** The generic template's body of each example: the event, and beside it the site, its customer and (an incident to act on) the links. */
export function webhookExample(type: EventType): EventOf<EventType> & WebhookContext {
  const event: EventOf<EventType> = eventExamples[type];
  if (type === 'webhook.test') return { ...event, site: null, customer: null, links: null };
  const linked = (linkedEventTypes as readonly EventType[]).includes(type);
  return {
    ...event,
    site: { siteId: 'main-office', name: 'Main office' },
    customer: { customerId: 'dental', name: 'Dental office' },
    links: linked ? { acknowledge: link('hY2tub3dsZWRnZSJ9'), resolve: link('yZXNvbHZlIn0') } : null,
  };
}
