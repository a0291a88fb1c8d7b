import * as z from 'zod/mini';
import { CommandId, Identifier } from './ids.ts';
import { IncidentId, IncidentKind, ServiceQueueMessage } from './incidents.ts';
import { CommandType } from './node.ts';
import { EscalationTarget } from './reseller.ts';
import { Severity } from './severity.ts';
import './zod-locale.ts';

// The event contract of DESIGN.md ("Events"): what the audit trail stores, SNS carries, webhook
// endpoints receive and the SLA report reads. One schema of `data` per type: the publisher checks
// every event against it, and /openapi.json publishes it (`webhooks`). zod/mini: the publisher,
// the incidents function and the report run in Lambda.

export { Severity };

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
export const EndpointEventType = z.enum(
  EventType.options.filter((type): type is Exclude<EventType, 'webhook.test'> => type !== 'webhook.test'),
);
export type EndpointEventType = z.infer<typeof EndpointEventType>;

// ---------------------------------------------------------------------------------------------
// Field types

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description));

/** Server time in ms since the Unix epoch, as every event field that is a time holds it. */
const Millis = z.number().check(z.int(), z.minimum(0));
const At = (description: string) => described(Millis, `${description} (ms since the Unix epoch)`);
const MaybeAt = (description: string) => z.nullable(At(description));
/** The fencing epoch (W2): rises by one per change of primary; 0 before the site's first grant. */
const Epoch = z.number().check(z.int(), z.minimum(0));
const EpochField = described(Epoch, 'The fencing epoch (rises by one per change of primary; 0 before the first grant)');
const NodeId = Identifier;
const Node = (description: string) => described(NodeId, description);
const MaybeNode = (description: string) => z.nullable(Node(description));

/** Every event of a site carries these: SNS message attributes carry them too, for filtering. */
const siteFields = {
  resellerId: described(Identifier, 'The reseller whose site it is'),
  siteId: described(Identifier, 'The site it happened at'),
  severity: described(Severity, 'How urgent: `info` needs no one, `warning` needs a look, `critical` needs someone now'),
};

/**
 * `data` of a site's event: the shared fields and the type's own. Loose: a receiver must ignore a
 * field it does not know (fields may be added; test/unit/event-contract.test.ts checks
 * that every field the service emits is published).
 */
const siteData = <S extends z.core.$ZodLooseShape>(shape: S) => z.looseObject({ ...siteFields, ...shape });

/** Unique and stable: consumers deduplicate by it (delivery is at least once). */
// Reseller and site ids (48 each), the type, and an incident id and step: up to about 190.
const EventId = described(
  z.string().check(z.minLength(1), z.maxLength(256)),
  'Unique and stable: deduplicate by it (delivery is at least once)',
);
/** When it happened, ISO 8601 in UTC (`2026-11-29T10:00:00.000Z`). */
const EventTime = described(z.iso.datetime(), 'When it happened, ISO 8601 in UTC');

const envelope = <T extends EventType, D extends z.ZodMiniType>(type: T, data: D, description: string) =>
  z.object({ id: EventId, type: z.literal(type), timestamp: EventTime, data }).check(z.meta({ id: eventSchemaId(type), description }));

/** The component name of a type's schema in /openapi.json: `node.lost` → `NodeLostEvent`. */
export function eventSchemaId(type: EventType): string {
  return `${type.replace(/(^|\.)([a-z])/g, (_m, _dot: string, c: string) => c.toUpperCase())}Event`;
}

// ---------------------------------------------------------------------------------------------
// The witness's decisions and the nodes' reports (functions/domain/events.ts)

const failoverGranted = envelope(
  'failover.granted',
  siteData({
    nodeId: Node('The new primary'),
    epoch: EpochField,
    previousPrimary: MaybeNode('The primary before, or null when there was none'),
    previousLeaseEndedAt: MaybeAt(
      "When the previous primary's lease ended (null: none, or no gap): the site had no primary from then until this event",
    ),
    reason: described(z.string(), 'Why the witness granted it'),
  }),
  'The witness granted a node the primary role at a new epoch',
);

const failoverCompleted = envelope(
  'failover.completed',
  siteData({ nodeId: Node('The new primary, which acknowledged its promote command'), epoch: EpochField }),
  'The new primary acknowledged its promote command',
);

const failoverForced = envelope(
  'failover.forced',
  siteData({
    nodeId: Node('The excluded node, forced back as primary'),
    epoch: EpochField,
    previousPrimary: MaybeNode('The survivor, declared powered off'),
    previousLeaseEndedAt: At('The force: the survivor held the role until then, as far as the witness can tell'),
    keyId: described(z.string(), 'The API key that forced it'),
    confirm: described(z.string(), 'What the operator declared ("<survivor> is powered off")'),
    reason: described(z.string(), "The operator's reason"),
  }),
  'An operator forced the excluded node back as primary (survivor mode)',
);

const nodeLost = envelope(
  'node.lost',
  siteData({
    nodeId: Node('The node lost'),
    reportedBy: Node('Its peer, which reports it unreachable'),
    leaseEndedAt: MaybeAt('When its lease ran out, when it was the primary (else null): it held the role until then'),
  }),
  'A node reports its peer unreachable, and the witness has not heard that peer for the freshness window',
);

/** Healthy again: its reported health is back at or over the site's threshold. */
const HealthRecovered = siteData({
  nodeId: Node('The node'),
  recoveredFrom: z.literal('node.degraded'),
  health: described(z.number(), 'Its reported health'),
  threshold: described(z.number(), "The site's health threshold"),
});
/** A lost node heard again, or reported reachable again by its peer. */
const PeerRecovered = siteData({
  nodeId: Node('The node heard again'),
  reportedBy: Node('Its peer'),
  primary: MaybeNode('Who is primary after the return'),
  epoch: EpochField,
  leaseRenewedAt: MaybeAt("When this change renewed that primary's lease at that epoch (else null): it holds the role again from then"),
});
/** The primary whose lease lapsed (`site.down`, `node.lost`) renewed it at its epoch after all. */
const LeaseRenewed = siteData({
  nodeId: Node('The primary'),
  primary: Node('The primary'),
  epoch: EpochField,
  leaseRenewedAt: At('When it renewed its lease: it holds the role again from then'),
  previousLeaseEndedAt: At('When its lease had run out'),
  recoveredFrom: described(z.enum(['site.down', 'node.lost']), 'What had lapsed its lease'),
});
const nodeRecovered = envelope(
  'node.recovered',
  z.union([HealthRecovered, PeerRecovered, LeaseRenewed]),
  'A node is healthy again (`recoveredFrom: node.degraded`), a lost node is heard again, or a primary whose lease lapsed renewed it',
);

const nodeExcluded = envelope(
  'node.excluded',
  siteData({
    nodeId: Node('The excluded node'),
    survivor: MaybeNode('The node whose lease became standalone'),
    epoch: EpochField,
    lastSeenAt: MaybeAt('Its last contact, or null if it was never heard'),
  }),
  'Survivor mode began: the witness excluded a node, and the survivor runs on a standalone lease',
);

const nodeReadmitted = envelope(
  'node.readmitted',
  siteData({
    nodeId: Node('The node readmitted'),
    survivor: MaybeNode('The survivor'),
    epoch: EpochField,
    excludedAt: At('When it was excluded (its `node.excluded`)'),
    by: described(
      z.enum(['survivor', 'operator', 'force', 'lapsed']),
      '`survivor`: it heard its peer again; `operator`: through the API; `force`: a forced failover; `lapsed`: the standalone lease ran out',
    ),
    keyId: z.optional(z.nullable(described(z.string(), 'The API key that asked (only when `by` is `operator`)'))),
  }),
  'Survivor mode ended: the excluded node is readmitted',
);

const siteDown = envelope(
  'site.down',
  siteData({
    lastSeenAt: At('The last contact from any node'),
    nodeIds: described(z.array(NodeId), "The site's nodes, all silent"),
    leaseEndedAt: MaybeAt("When the primary's lease ran out (null: no primary, or a standalone lease without end)"),
    standalone: described(z.boolean(), 'The primary runs on a standalone lease without end: it may be running, cut off from the witness'),
  }),
  'No node of the site has been heard for the silence window',
);

const siteRecovered = envelope(
  'site.recovered',
  siteData({
    downSince: At('The last contact before the silence'),
    primary: MaybeNode('Who is primary after the return'),
    epoch: EpochField,
    leaseRenewedAt: MaybeAt("When this change renewed that primary's lease at that epoch (else null)"),
  }),
  'A node of a silent site was heard again',
);

const linkLost = envelope('link.lost', siteData({}), 'Both nodes answer the witness, and each reports the other unreachable');
const linkRestored = envelope('link.restored', siteData({}), 'The nodes reach each other again');

const nodeDegraded = envelope(
  'node.degraded',
  siteData({
    nodeId: Node('The node'),
    health: described(z.number(), 'Its reported health'),
    threshold: described(z.number(), "The site's health threshold"),
  }),
  "A node's reported health fell under the site's threshold",
);

const commandFields = {
  nodeId: Node('The node the command is for'),
  commandId: described(CommandId, 'The command'),
  commandType: CommandType,
  epoch: described(Epoch, "The command's epoch"),
  issuedAt: At('When the witness issued it'),
  deliveredAt: MaybeAt('When a heartbeat answer delivered it'),
};
const commandUnacknowledged = envelope(
  'command.unacknowledged',
  siteData(commandFields),
  'A promote or demote not acknowledged `commandAckMs` after the witness delivered it, though its node heartbeats',
);
const commandAcknowledged = envelope(
  'command.acknowledged',
  siteData({
    ...commandFields,
    overdueAt: At('When it was found overdue (its `command.unacknowledged`)'),
    outcome: described(z.enum(['acknowledged', 'superseded']), 'Acknowledged late, or superseded by a later grant'),
  }),
  'A command reported unacknowledged is gone: acknowledged late, or superseded',
);

// ---------------------------------------------------------------------------------------------
// Incidents (functions/domain/incident-events.ts), and their steps as escalation sends them to an
// endpoint (functions/domain/webhook-delivery.ts: the service queue's message, in `data`)

const incidentFields = {
  incidentId: described(IncidentId, 'The incident'),
  kind: described(IncidentKind, 'The condition it is about'),
};
const trailIncident = <S extends z.core.$ZodLooseShape>(shape: S) =>
  siteData({
    ...incidentFields,
    openedAt: At('When the incident opened (a step delivered after its tracker moved on still says it)'),
    ...shape,
  });
const IncidentStepData = siteData({
  ...incidentFields,
  level: z.nullable(described(z.number(), 'The escalation level of an `opened`/`escalated` step (1 = first), else null')),
  incident: ServiceQueueMessage.shape.incident,
  site: ServiceQueueMessage.shape.site,
  customer: ServiceQueueMessage.shape.customer,
  links: ServiceQueueMessage.shape.links,
}).check(
  z.meta({
    id: 'IncidentStepData',
    description: "An incident step an escalation policy sends to a webhook endpoint: the service queue's message",
  }),
);
const Targets = (description: string) => described(z.array(EscalationTarget), description);
const By = described(z.nullable(z.string()), 'Who did it: `api-key:<keyId>`, `link`, `recovery`, …');

const incidentOpened = envelope(
  'incident.opened',
  z.union([
    trailIncident({
      subjects: described(z.array(z.string()), 'What is affected: node ids, `link`, `site`, commands or alerts'),
      affected: z.optional(
        described(z.array(z.string()), '`subjects` in words: an inbound alert as the summary its tool sent and its names'),
      ),
      openingEventId: described(z.string(), 'The event that opened it'),
      firstTargets: z.optional(
        Targets(
          'Who its first escalation step tells (`incident.escalated` step 1, when its level is due): such an endpoint hears the opening from that step, once',
        ),
      ),
    }),
    IncidentStepData,
  ]),
  'An incident opened (in the audit trail and on the topic; or, as its step, to an endpoint an escalation policy names)',
);
const incidentEscalated = envelope(
  'incident.escalated',
  z.union([
    trailIncident({
      step: described(z.number().check(z.int(), z.minimum(1)), 'The step taken (1 = the first)'),
      level: described(z.number().check(z.int(), z.minimum(1)), 'The escalation level (repeats of the last level stay at it)'),
      targets: Targets('Who this step tells'),
    }),
    IncidentStepData,
  ]),
  'An escalation step was taken',
);
const incidentAcknowledged = envelope(
  'incident.acknowledged',
  z.union([trailIncident({ by: By, notified: Targets('Every target told of it so far') }), IncidentStepData]),
  'A person acknowledged the incident',
);
const incidentResolved = envelope(
  'incident.resolved',
  z.union([trailIncident({ by: By, notified: Targets('Every target told of it so far') }), IncidentStepData]),
  'The incident is resolved (by a person, or by its recovery holding for the settle time)',
);

// ---------------------------------------------------------------------------------------------
// Inbound alerts (functions/domain/alert-events.ts) and webhook deliveries (webhook-events.ts)

const alertFields = {
  integrationId: described(z.string(), 'The inbound integration it came through'),
  integrationName: described(z.string(), "That integration's name"),
  alert: described(z.string(), 'The alert, as the integration maps it'),
  subject: described(z.string(), '`<integrationId>/<alert>`: its subject in the site’s `alert.raised` incident'),
  type: described(z.string(), "The inbound event's type, as the sender named it"),
  summary: z.optional(described(z.string(), "The sender's summary, when it gave one")),
};
const alertRaised = envelope('alert.raised', siteData(alertFields), 'Another tool raised an alert on the site (inbound hook)');
const alertCleared = envelope('alert.cleared', siteData(alertFields), 'Another tool cleared its alert (inbound hook)');

const deliveryFields = {
  endpointId: described(z.string(), 'The endpoint'),
  messageId: described(z.string(), 'The message'),
  eventId: described(z.string(), 'The event it carried'),
  eventType: EventType,
  attempts: described(z.number().check(z.int(), z.minimum(0)), 'Tries made'),
  lastStatus: z.nullable(described(z.number().check(z.int()), 'The HTTP status of the last try, or null (no answer)')),
};
const webhookFailed = envelope(
  'webhook.failed',
  siteData(deliveryFields),
  "A webhook message's tries ran out: it is in the dead-letter queue (a replay can send it)",
);
const webhookDisabled = envelope(
  'webhook.disabled',
  siteData({
    ...deliveryFields,
    reason: described(z.enum(['gone', 'failing']), '`gone`: the receiver answered 410; `failing`: every delivery had failed for days'),
  }),
  'A try disabled its endpoint',
);

/**
 * A test of one webhook endpoint, asked for with `POST /v1/webhooks/{endpointId}/test`: the same
 * envelope, signed and delivered as any message (retries, delivery log, replay), but about no
 * site: `data` says it is a test (`test: true`), which endpoint, which API key asked, and a
 * sentence for people. It goes only to that endpoint, whatever its `eventTypes`, and never to the
 * events topic, an audit trail, a service queue or another endpoint.
 */
export const WebhookTestEvent = envelope(
  'webhook.test',
  z.looseObject({
    resellerId: siteFields.resellerId,
    test: described(z.literal(true), 'Always true: receivers can tell a test from an event without knowing the type'),
    severity: described(z.literal('info'), 'A test needs no one to act'),
    endpointId: described(z.string(), 'The endpoint tested'),
    keyId: described(z.string(), 'The API key that asked for the test'),
    message: described(z.string(), 'What it is, in a sentence'),
  }),
  'A test of one webhook endpoint, asked for through the API; about no site',
);
export type WebhookTestEvent = z.infer<typeof WebhookTestEvent>;

/** Every event of a site, by type: what the trail stores, the topic carries and an endpoint may subscribe to. */
const siteEvents = [
  failoverGranted,
  failoverCompleted,
  failoverForced,
  nodeLost,
  nodeRecovered,
  nodeExcluded,
  nodeReadmitted,
  siteDown,
  siteRecovered,
  linkLost,
  linkRestored,
  nodeDegraded,
  commandUnacknowledged,
  commandAcknowledged,
  incidentOpened,
  incidentEscalated,
  incidentAcknowledged,
  incidentResolved,
  alertRaised,
  alertCleared,
  webhookFailed,
  webhookDisabled,
] as const;
export const WitnessEvent = z.discriminatedUnion('type', [...siteEvents]);
export type WitnessEvent = z.infer<typeof WitnessEvent>;
export type SiteEventType = WitnessEvent['type'];

/**
 * An event as a reader of the audit trail finds it: written by this version or an earlier one
 * (events are kept for the retention period), so a field may be missing or, in an old event, of
 * another type. Readers of the trail (the SLA report, the console) check what they read; what the
 * service emits now is WitnessEvent, which every StoredEvent-reader accepts.
 *
 * Why the readers do not take WitnessEvent yet: they honour forms the strict union refuses, and
 * their tests pin that: incident ids not of the `<kind>-<ms>` form (the SLA report, an incident
 * step's delivery), incident events from before `openedAt` was carried (a step's delivery), and a
 * `command.unacknowledged` without `commandId` (its condition's subject is then the node).
 */
export const StoredEventData = z.looseObject({
  resellerId: Identifier,
  siteId: Identifier,
  nodeId: z.optional(Identifier),
  severity: Severity,
  epoch: z.optional(Epoch),
  previousPrimary: z.optional(z.nullable(Identifier)),
  previousLeaseEndedAt: z.optional(z.nullable(Millis)),
  leaseEndedAt: z.optional(z.nullable(Millis)),
  incidentId: z.optional(z.string().check(z.minLength(1), z.maxLength(80))),
  kind: z.optional(EventType),
});
export type StoredEventData = z.infer<typeof StoredEventData>;
/** The name test support and older code know it by. */
export type EventData = StoredEventData;
export const StoredEvent = z.object({ id: EventId, type: EventType, timestamp: EventTime, data: StoredEventData });
export type StoredEvent = z.infer<typeof StoredEvent>;

/** What an endpoint may be sent: a witness event (from the topic, or an incident step) or a test. */
export const OutboundEvent = z.discriminatedUnion('type', [...siteEvents, WebhookTestEvent]);
export type OutboundEvent = z.infer<typeof OutboundEvent>;

/** The event of one type, and its `data`: what a producer of that type builds. */
export type EventOf<T extends EventType> = Extract<OutboundEvent, { type: T }>;
export type EventDataOf<T extends EventType> = EventOf<T>['data'];

/** `Omit` over each member of a union (plain `Omit` keeps only the keys all members share). */
export type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a producer says of an event of a site beyond the shared fields (resellerId, siteId, severity). */
export type EventFields<T extends SiteEventType> = OmitEach<EventDataOf<T>, keyof typeof siteFields>;
