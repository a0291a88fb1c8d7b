import * as z from 'zod/mini';
import { Identifier } from './ids.ts';
import './zod-locale.ts';

// The event envelope of DESIGN.md ("Events"): what the audit trail stores, SNS carries and the
// SLA report reads. zod/mini: the publisher and the report run in Lambda.

export const EventType = z.enum([
  'failover.granted',
  'failover.completed',
  'failover.forced',
  'node.lost',
  'node.recovered',
  'node.excluded',
  'node.readmitted',
  'site.down',
  'site.recovered',
  'link.lost',
  'link.restored',
  'node.degraded',
  'command.unacknowledged',
  'command.acknowledged',
  'incident.opened',
  'incident.escalated',
  'incident.acknowledged',
  'incident.resolved',
  'alert.raised',
  'alert.cleared',
  'webhook.failed',
  'webhook.disabled',
  // Asked for through the API (POST /v1/webhooks/{endpointId}/test): see WebhookTestEvent.
  'webhook.test',
]);
export type EventType = z.infer<typeof EventType>;

/**
 * The types an endpoint's `eventTypes` may name: every type but `webhook.test`, which goes only to
 * the endpoint a test is asked for, whatever its filter (a filter naming it would mean nothing).
 */
export const EndpointEventType = z.enum(EventType.options.filter((type): type is Exclude<EventType, 'webhook.test'> => type !== 'webhook.test'));
export type EndpointEventType = z.infer<typeof EndpointEventType>;

export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;

/** Server time in ms since the Unix epoch, as every event field that is a time holds it. */
const Millis = z.number().check(z.int(), z.minimum(0));

/**
 * The fields the SLA report reads, by type (each figure of the report traces to the events it came from):
 * - `failover.granted`: `nodeId` (the new primary), `epoch`, `previousPrimary` (or null), and
 *   `previousLeaseEndedAt` (when the previous primary's lease ended, or null when there was none):
 *   the site had no primary from that instant until this event's `timestamp`.
 * - `node.lost`, `site.down`: `nodeId` when one node is meant, and `leaseEndedAt` when the lost
 *   node was the primary: it held the role until then.
 * - `node.recovered`, `site.recovered`: `primary`, `epoch` and `leaseRenewedAt` when the same
 *   change renewed that primary's lease at that epoch (else `leaseRenewedAt` is null): a primary
 *   whose lease ended by `node.lost` or `site.down` held the role again from then. A renewal after
 *   a `site.down` or a `node.lost` of the primary that no return told comes as `node.recovered`
 *   with `recoveredFrom` (`'site.down'`, `'node.lost'`) and `previousLeaseEndedAt`.
 * - `failover.forced`: an operator forced the excluded node back as primary (survivor mode, W5):
 *   `nodeId`, `epoch`, `previousPrimary` (the survivor, declared powered off), `previousLeaseEndedAt`
 *   (the force: the survivor held the role until then, as far as the witness can tell), `keyId`,
 *   `confirm` and `reason` (what the operator declared).
 * - `node.excluded`: `nodeId` (the excluded node), `survivor` (whose lease became standalone),
 *   `epoch`, `lastSeenAt` (its last contact, or null); `node.readmitted`: `nodeId`, `survivor`,
 *   `epoch`, `excludedAt`, and `by` (`survivor`: it heard its peer again; `operator`: readmitted
 *   through the API; `force`: a forced failover; `lapsed`: a bounded standalone lease ran out).
 *   Survivor mode lasts from the one to the other.
 * - `command.unacknowledged`: a promote or demote not acknowledged `commandAckMs` after the witness
 *   delivered it, though its node heartbeats: `nodeId`, `commandId`, `commandType`, `epoch` (the
 *   command's), `issuedAt`, `deliveredAt`; `command.acknowledged`: such a command is gone, the same
 *   fields and `overdueAt`, and `outcome` (`acknowledged`, or `superseded` by a later grant).
 * - `incident.*`: `incidentId` and `kind` (the condition: `node.lost`, `site.down`, …).
 * Other fields may be present; the report ignores them. `webhook.test` is not a site's event: it
 * has a shape of its own (WebhookTestEvent).
 */
export const EventData = z.looseObject({
  resellerId: Identifier,
  siteId: Identifier,
  nodeId: z.optional(Identifier),
  severity: Severity,
  epoch: z.optional(Millis),
  previousPrimary: z.optional(z.nullable(Identifier)),
  previousLeaseEndedAt: z.optional(z.nullable(Millis)),
  leaseEndedAt: z.optional(z.nullable(Millis)),
  incidentId: z.optional(z.string().check(z.minLength(1), z.maxLength(80))),
  kind: z.optional(EventType),
});
export type EventData = z.infer<typeof EventData>;

export const WitnessEvent = z.object({
  /** Unique and stable: consumers deduplicate by it (delivery is at least once). */
  // Reseller and site ids (48 each), the type, and an incident id and step: up to about 190.
  id: z.string().check(z.minLength(1), z.maxLength(256)),
  type: EventType,
  /** When it happened, ISO 8601 in UTC (`2026-11-29T10:00:00.000Z`). */
  timestamp: z.iso.datetime(),
  data: EventData,
});
export type WitnessEvent = z.infer<typeof WitnessEvent>;

/**
 * A test of one webhook endpoint, asked for with `POST /v1/webhooks/{endpointId}/test`: the same
 * envelope, signed and delivered as any message (retries, delivery log, replay), but about no
 * site: `data` says it is a test (`test: true`), which endpoint, which API key asked, and a
 * sentence for people. It goes only to that endpoint, whatever its `eventTypes`, and never to the
 * events topic, an audit trail, a service queue or another endpoint.
 */
export const WebhookTestEvent = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(256)),
  type: z.literal('webhook.test'),
  timestamp: z.iso.datetime(),
  data: z.object({
    resellerId: Identifier,
    /** Always true: receivers can tell a test from an event without knowing the type. */
    test: z.literal(true),
    /** A test needs no one to act. */
    severity: z.literal('info'),
    endpointId: z.string(),
    /** The API key that asked for the test. */
    keyId: z.string(),
    /** What it is, in a sentence: "This is a test of webhook endpoint psa, asked for with API key …: … no action is needed." */
    message: z.string(),
  }),
});
export type WebhookTestEvent = z.infer<typeof WebhookTestEvent>;

/** What an endpoint may be sent: a witness event (from the topic, or an incident step) or a test. */
export type OutboundEvent = WitnessEvent | WebhookTestEvent;
