import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { type Alert, alertEventsOf } from '../../functions/domain/alert-events.ts';
import { webhookEventsOf, type MessageImage } from '../../functions/domain/webhook-events.ts';
import { eventExamples } from '../../protocol/event-examples.ts';
import { EventType, type OutboundEvent } from '../../protocol/events.ts';
import { openApiDocument } from '../../protocol/openapi.ts';

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
    const schema = JSON.parse(JSON.stringify(item.post.requestBody.content['application/json'].schema).replaceAll('"#/components/', '"urn:tiebreak:openapi#/components/')) as object;
    return [type, ajv.compile(schema)] as const;
  }),
);

function published(event: OutboundEvent): string[] {
  const validate = validators.get(event.type);
  if (!validate) return [`no published schema for ${event.type}`];
  return validate(JSON.parse(JSON.stringify(event))) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
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

/** Events from the service's producers. */
function realEvents(): OutboundEvent[] {
  return [
    ...alertEventsOf(undefined, alert),
    ...alertEventsOf(alert, { ...alert, raised: false, severity: 'info', at: t0 + 60_000, summary: undefined }),
    ...webhookEventsOf(undefined, message),
    ...webhookEventsOf(undefined, { ...message, failure: 'gone', attempts: 1, lastStatus: 410, disabledEndpoint: 'gone' }),
  ];
}

describe("the published event contract (/openapi.json's webhooks)", () => {
  it('describes every event type, each with a 2xx answer', () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EventType.options].sort());
    for (const item of Object.values(doc.webhooks)) expect(Object.keys(item.post.responses).some((status) => status.startsWith('2'))).toBe(true);
  });

  it("every type's example validates against its published schema", () => {
    for (const type of EventType.options) {
      expect(doc.webhooks[type]?.post.requestBody.content['application/json'].example).toEqual(eventExamples[type]);
      expect(published(eventExamples[type]), type).toEqual([]);
    }
  });

  it('events the service emits validate against their published schemas', () => {
    const events = realEvents();
    for (const event of events) expect(published(event), event.id).toEqual([]);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['alert.raised', 'alert.cleared', 'webhook.failed', 'webhook.disabled']));
  });

  it('an event with a field of the wrong type is refused by the published schema', () => {
    const lost = eventExamples['node.lost'];
    expect(published({ ...lost, data: { ...lost.data, leaseEndedAt: 'soon' as unknown as number } })).not.toEqual([]);
    expect(published({ ...lost, data: { ...lost.data, nodeId: undefined as unknown as string } })).not.toEqual([]);
  });
});
