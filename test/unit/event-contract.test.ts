import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { incidentView } from '../../functions/adapters/incident-store.ts';
import type { EndpointRecord } from '../../functions/adapters/webhook-endpoint-store.ts';
import { type Alert, alertEventsOf } from '../../functions/domain/alert-events.ts';
import { incidentEventsOf, incidentStepOf, stepMessage } from '../../functions/domain/incident-events.ts';
import { acknowledge, applyChange, conditionChangesOf, escalate, resolve, type Tracker } from '../../functions/domain/incidents.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { stepEvent } from '../../functions/domain/webhook-delivery.ts';
import { webhookEventsOf, type MessageImage } from '../../functions/domain/webhook-events.ts';
import { testEvent } from '../../functions/http/api/webhooks.ts';
import { eventExamples, webhookExample } from '../../protocol/event-examples.ts';
import type { WebhookContext } from '../../protocol/webhooks.ts';
import { contextOf, linksFit, renderWebhookBody } from '../../functions/domain/webhook-templates.ts';
import { EventType, type OutboundEvent, type WitnessEvent } from '../../protocol/events.ts';
import type { EscalationPolicy } from '../../protocol/reseller.ts';
import { openApiDocument } from '../../protocol/openapi.ts';
import { Recorder } from '../support/event-recorder.ts';

// The published contract (/openapi.json's `webhooks`) checked by a third-party JSON Schema
// validator against events the service's own code emits, and against the document's examples.

interface Operation {
  requestBody: { content: { 'application/json': { schema: object; example: unknown } } };
  responses: Record<string, unknown>;
}
interface Document {
  webhooks: Record<string, { post: Operation }>;
  components: { schemas: Record<string, object> };
}

const doc = openApiDocument() as unknown as Document;
const ajv = new Ajv2020({ strict: false, allErrors: true });
// CommonJS: its plugin is the module's `default`.
formats.default(ajv);
// The document's components, so that the webhooks' `$ref`s resolve as they do in the document.
ajv.addSchema({ $id: 'urn:tiebreak:openapi', components: doc.components });
const validators = new Map(
  Object.entries(doc.webhooks).map(([type, item]) => {
    const schema = JSON.parse(
      JSON.stringify(item.post.requestBody.content['application/json'].schema).replaceAll(
        '"#/components/',
        '"urn:tiebreak:openapi#/components/',
      ),
    ) as object;
    return [type, ajv.compile(schema)] as const;
  }),
);

/** What the published schema of the body's type says of a body an endpoint receives (the generic template's). */
function published(body: OutboundEvent & Partial<WebhookContext>): string[] {
  const validate = validators.get(body.type);
  if (!validate) return [`no published schema for ${body.type}`];
  return validate(JSON.parse(JSON.stringify(body))) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/**
 * The generic template's body of an event, as the router sends it: an incident step with what its
 * message says, any other event with the names the router reads and, for an incident, the links it signs.
 */
function genericBody(event: OutboundEvent): OutboundEvent & WebhookContext {
  const own = contextOf(event);
  const context: WebhookContext =
    own.site === null || 'incident' in event.data
      ? own
      : {
          site: { siteId: own.site.siteId, name: 'Main office' },
          customer: { customerId: 'dental', name: 'Dental office' },
          links: linksFit(event) ? { acknowledge: 'https://w.example/v1/links/a.b', resolve: 'https://w.example/v1/links/c.d' } : null,
        };
  return JSON.parse(renderWebhookBody('generic', event, { routingKey: null, context })!) as OutboundEvent & WebhookContext;
}

const t0 = Date.parse('2026-11-30T10:00:00.000Z');
const alert: Alert = {
  resellerId: 'acme-it',
  siteId: 'main-office',
  integrationId: 'int_ups',
  integrationName: 'Server room UPS',
  alert: 'ups-power',
  raised: true,
  severity: 'critical',
  at: t0,
  webhookId: 'msg_1',
  type: 'ups.on-battery',
  summary: 'on battery',
};
const message: MessageImage = {
  resellerId: 'acme-it',
  endpointId: 'psa',
  messageId: 'msg_2',
  eventId: 'acme-it/main-office/node.lost/node-a/1',
  eventType: 'node.lost',
  siteId: 'main-office',
  status: 'failed',
  failure: 'exhausted',
  attempts: 8,
  round: 0,
  lastStatus: 503,
  lastAttemptAt: t0,
  disabledEndpoint: null,
};

const settings = defaultSettings;

/**
 * Every event of a site the witness tells, from the pure witness's own rules (the requests, the
 * silence detector's marks and the operator's calls each carried out on a state, and `eventsOf`
 * on each change, as the publisher does): one short life of a site per group of types.
 */
function witnessEvents(): WitnessEvent[] {
  // A failover: granted, completed, the primary lost, granted to the other, completed.
  const failover = new Recorder();
  failover.heartbeat('a', t0, 0, 'secondary', true);
  failover.heartbeat('b', t0 + 100, 0, 'secondary', true);
  failover.claim('a', t0 + 200, 0);
  failover.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
  failover.heartbeat('b', t0 + 5_000, 1, 'secondary', false);
  failover.heartbeat('b', t0 + 5_000 + settings.freshnessMs, 1, 'secondary', false);
  failover.claim('b', t0 + 20_100, 1);
  failover.heartbeat('b', t0 + 21_000, 2, 'primary', false, { acks: ['2-promote-node-b'] });
  // The lost node heard again: node.recovered, the peer's shape.
  failover.heartbeat('a', t0 + 60_000, 2, 'secondary', true, { acks: ['2-demote-node-a'] });

  // A node under the health threshold and back (node.recovered, the health shape); a cut link and its return.
  const link = new Recorder();
  link.witness.state = { ...link.witness.state, policy: { ...link.witness.state.policy, healthThreshold: 50 } };
  link.heartbeat('a', t0, 0, 'secondary', true, { health: 90 });
  link.heartbeat('b', t0 + 10, 0, 'secondary', true, { health: 90 });
  link.heartbeat('a', t0 + 1_000, 0, 'secondary', false, { health: 40 });
  link.heartbeat('b', t0 + 1_010, 0, 'secondary', false, { health: 90 });
  link.heartbeat('a', t0 + 2_000, 0, 'secondary', true, { health: 90 });

  // A site silent (site.down), back (site.recovered), and its primary renewing the lease that lapsed (node.recovered, the renewal's shape).
  const silence = new Recorder();
  silence.heartbeat('a', t0, 0, 'secondary', true);
  silence.claim('a', t0 + 100, 0);
  silence.heartbeat('b', t0 + 200, 1, 'secondary', true);
  silence.heartbeat('a', t0 + 1_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });
  silence.detect(t0 + 1_000 + settings.silenceMs);
  silence.heartbeat('b', t0 + 900_000, 1, 'secondary', true);
  silence.heartbeat('a', t0 + 900_500, 1, 'secondary', true);
  silence.claim('a', t0 + 901_000, 1);

  // A promote not acknowledged in time, then acknowledged late.
  const command = new Recorder();
  command.heartbeat('a', t0, 0, 'secondary', true);
  command.heartbeat('b', t0, 0, 'secondary', true);
  command.claim('a', t0, 0);
  command.heartbeat('a', t0 + 1_000, 1, 'primary', true);
  command.heartbeat('a', t0 + 1_000 + settings.commandAckMs, 1, 'primary', true);
  command.heartbeat('a', t0 + 1_000 + settings.commandAckMs + 5_000, 1, 'primary', true, { acks: ['1-promote-node-a'] });

  // Survivor mode: node-b dies, node-a renews alone until node-b is excluded; an operator forces node-b back.
  const survivor = new Recorder();
  survivor.heartbeat('a', t0, 0, 'secondary', true);
  survivor.heartbeat('b', t0, 0, 'secondary', true);
  survivor.claim('a', t0, 0);
  survivor.heartbeat('b', t0 + 1_000, 1, 'secondary', false);
  survivor.heartbeat('a', t0 + 5_000, 1, 'primary', false, { acks: ['1-promote-node-a'] });
  survivor.heartbeat('a', t0 + 36_000, 1, 'primary', false);
  survivor.force('b', t0 + 126_000, 'node-a is powered off');

  return [failover, link, silence, command, survivor].flatMap((r) => r.events);
}

const policy: EscalationPolicy = {
  levels: [
    { afterMs: 0, targets: [{ type: 'service-queue' }] },
    { afterMs: 600_000, targets: [{ type: 'service-queue' }, { type: 'webhook', endpointId: 'psa' }] },
  ],
  repeatLast: { times: 0, everyMs: 3_600_000 },
};

/**
 * An incident's life through the incidents domain (a witness event's condition opens it, two
 * escalation steps, an acknowledgement, a resolution): the trail's `incident.*`, from
 * `incidentEventsOf` on each change of its tracker; and each step as an escalation sends it to an
 * endpoint (the step's message from its event, in the envelope `stepEvent` makes).
 */
function incidentEvents(lost: WitnessEvent): OutboundEvent[] {
  const site = { resellerId: lost.data.resellerId, siteId: lost.data.siteId };
  const [raise] = conditionChangesOf(lost);
  if (!raise) throw new Error('node.lost raises no condition');
  const trackers: Tracker[] = [applyChange(undefined, site, raise, { eventId: lost.id, inMaintenance: false, policy }).tracker];
  const next = (change: (t: Tracker) => Tracker | string | undefined) => {
    const after = change(trackers.at(-1)!);
    if (after === undefined || typeof after === 'string') throw new Error(`the incident refused the change: ${String(after)}`);
    trackers.push(after);
  };
  const incidentId = trackers[0]!.incident!.incidentId;
  next((t) => escalate(t, incidentId, 0, raise.at));
  next((t) => escalate(t, incidentId, 1, raise.at + 600_000));
  next((t) => acknowledge(t, incidentId, 'api-key:key-7', raise.at + 700_000));
  next((t) => resolve(t, incidentId, 'api-key:key-7', raise.at + 800_000));
  const trail = trackers.flatMap((after, i) => incidentEventsOf(trackers[i - 1], after));
  const last = trackers.at(-1)!;
  // Alternately as the tracker holds the incident now and as the event alone tells it (a newer incident opened since).
  const steps = trail.flatMap((event, i) => {
    const found = incidentStepOf(event);
    if (!found || event.data.incidentId === undefined) return [];
    const message = stepMessage({ ...event, data: { ...event.data, incidentId } }, found.step, {
      current: i % 2 === 0 ? incidentView(last) : undefined,
      siteName: 'Main office',
      customer: { customerId: 'cust-1', name: 'Acme Dental' },
      links: { acknowledge: 'https://tiebreak.example/l/ack', resolve: 'https://tiebreak.example/l/resolve' },
    });
    // What the webhook router gives the envelope: the incident's severity for a page, info for the rest.
    return [
      stepEvent(
        site.resellerId,
        message,
        found.step === 'opened' || found.step === 'escalated' ? (message.incident.severity ?? 'critical') : 'info',
      ),
    ];
  });
  return [...trail, ...steps];
}

const endpoint: EndpointRecord = {
  resellerId: 'acme-it',
  endpointId: 'psa',
  url: 'https://psa.example/hooks/tiebreak',
  eventTypes: ['node.lost'],
  template: 'generic',
  routingKey: null,
  enabled: true,
  disabledReason: null,
  failingSince: null,
  description: null,
  secrets: [{ secret: 'whsec_x', createdAt: t0, expiresAt: null }],
  createdAt: t0,
  updatedAt: t0,
};

/** Events of every type, from the service's own producers. */
function realEvents(): OutboundEvent[] {
  const witness = witnessEvents();
  const lost = witness.find((e) => e.type === 'node.lost');
  if (!lost) throw new Error('no node.lost');
  return [
    ...witness,
    ...incidentEvents(lost),
    ...alertEventsOf(undefined, alert),
    ...alertEventsOf(alert, { ...alert, raised: false, severity: 'info', at: t0 + 60_000, summary: undefined }),
    ...webhookEventsOf(undefined, message),
    ...webhookEventsOf(undefined, { ...message, failure: 'gone', attempts: 1, lastStatus: 410, disabledEndpoint: 'gone' }),
    // What POST /v1/webhooks/{endpointId}/test sends.
    testEvent(endpoint, 'key-7', t0),
  ];
}

/** Which of its schema's shapes an event has, for the types whose `data` has several. */
function shapeOf(event: OutboundEvent): string {
  const data: Record<string, unknown> = event.data;
  if (event.type === 'node.recovered') return `${event.type} ${'recoveredFrom' in data ? String(data.recoveredFrom) : 'peer'}`;
  if (event.type.startsWith('incident.')) return `${event.type} ${'incident' in data ? 'step' : 'trail'}`;
  return event.type;
}

describe("the published event contract (/openapi.json's webhooks)", () => {
  it('describes every event type, each with a 2xx answer', () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EventType.options].sort());
    for (const item of Object.values(doc.webhooks))
      expect(Object.keys(item.post.responses).some((status) => status.startsWith('2'))).toBe(true);
  });

  it("every type's example validates against its published schema", () => {
    for (const type of EventType.options) {
      expect(doc.webhooks[type]?.post.requestBody.content['application/json'].example).toEqual(webhookExample(type));
      expect(published(webhookExample(type)), type).toEqual([]);
      // The envelope alone is the event as the audit trail and the topic have it: not a webhook body.
      expect(published(eventExamples[type]), type).not.toEqual([]);
    }
  });

  it('events of every type, as the service emits them, validate against their published schemas', () => {
    const events = realEvents();
    for (const event of events) expect(published(genericBody(event)), `${event.id}: ${JSON.stringify(event.data)}`).toEqual([]);
    // A type no real event was made of would go unchecked: every type is here, and every shape of those with several.
    expect([...new Set(events.map((e) => e.type))].sort()).toEqual([...EventType.options].sort());
    const shapes = new Set(events.map(shapeOf));
    for (const from of ['node.degraded', 'site.down', 'peer']) expect(shapes, from).toContain(`node.recovered ${from}`);
    for (const type of ['incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved']) {
      expect(shapes, type).toContain(`${type} trail`);
      expect(shapes, type).toContain(`${type} step`);
    }
  });

  it('an event with a field of the wrong type is refused by the published schema', () => {
    const lost = webhookExample('node.lost');
    expect(published({ ...lost, data: { ...lost.data, leaseEndedAt: 'soon' as unknown as number } } as OutboundEvent)).not.toEqual([]);
    expect(published({ ...lost, data: { ...lost.data, nodeId: undefined as unknown as string } } as OutboundEvent)).not.toEqual([]);
    expect(published({ ...lost, site: { siteId: 'main-office' } } as unknown as OutboundEvent)).not.toEqual([]);
  });

  it('every body names its site and customer, and an incident that needs someone carries both links', () => {
    for (const body of realEvents().map(genericBody)) {
      if (body.type === 'webhook.test') {
        expect(body).toMatchObject({ site: null, customer: null, links: null });
        continue;
      }
      expect(body.site?.name, body.id).toBeTruthy();
      expect(body.customer?.name, body.id).toBeTruthy();
      expect(body.links !== null, body.id).toBe(['incident.opened', 'incident.escalated', 'incident.acknowledged'].includes(body.type));
    }
  });
});
