import * as z from 'zod/mini';
import { EndpointEventType, EventType, Severity } from './events.ts';
import { Identifier } from './ids.ts';
import { safeRecord, withoutReservedKeys } from './reserved-keys.ts';
import { Timestamp } from './reseller.ts';
import './zod-locale.ts';

// Webhooks as the reseller configures and reads them (DESIGN.md, "Webhooks"): outbound endpoints
// with their Standard Webhooks secrets, the delivery log, replay; inbound integrations.

/** Chosen by the reseller; escalation policies name endpoints by it (`{ type: 'webhook', endpointId }`). */
export const EndpointId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64'));

/** How a delivery's body is shaped: the event envelope with the site, customer and links beside it, or what the receiving tool reads. */
export const WebhookTemplate = z.enum(['generic', 'slack', 'teams', 'pagerduty']);
export type WebhookTemplate = z.infer<typeof WebhookTemplate>;

/** Event types PagerDuty's template can follow: it triggers, acknowledges and resolves by incident. */
export const pagerDutyEventTypes = ['incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved'] as const;

/** The events whose messages carry one-click links: an incident someone may still acknowledge or resolve. */
export const linkedEventTypes = ['incident.opened', 'incident.escalated', 'incident.acknowledged'] as const satisfies readonly EventType[];

/**
 * What every outbound body carries beside the event (the generic template: at the envelope's top
 * level), whichever way it came, an endpoint's `eventTypes` or an escalation policy naming it: the
 * site and its customer by name (a name missing, e.g. of a deleted site, is its id), and for an
 * incident that still needs someone, its signed one-click links (`/v1/links/…`). Null where it does
 * not apply: a test has no site, a site no longer listed no customer, an event no incident to act on.
 */
export const WebhookContext = z.object({
  site: z
    .nullable(z.object({ siteId: Identifier, name: z.string() }))
    .check(z.describe('The site, by id and name (its id when it has none)')),
  customer: z
    .nullable(z.object({ customerId: Identifier, name: z.string() }))
    .check(z.describe("The site's customer, by id and name; null when the site is no longer listed")),
  links: z
    .nullable(z.object({ acknowledge: z.string(), resolve: z.string() }))
    .check(
      z.describe(
        'One-click links (signed, expiring: a GET shows a confirmation page, its POST acts) to acknowledge or resolve the incident; ' +
          `for ${linkedEventTypes.join(', ')} only, else null`,
      ),
    ),
});
export type WebhookContext = z.infer<typeof WebhookContext>;

/** `whsec_` and base64 of 24 to 64 bytes, as Standard Webhooks secrets are written. */
export const WebhookSecret = z.string().check(z.regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'a whsec_ secret'));

const HttpsUrl = z.url({ protocol: /^https?$/, hostname: z.regexes.hostname }).check(z.maxLength(2048));

const endpointFields = {
  url: HttpsUrl,
  /**
   * The events this endpoint hears besides the incident steps an escalation policy sends it (empty:
   * those steps only). Not `webhook.test`: a test goes to the endpoint it is asked for, whatever this says.
   */
  eventTypes: z.array(EndpointEventType).check(z.maxLength(EndpointEventType.options.length)),
  template: z._default(WebhookTemplate, 'generic'),
  /** PagerDuty's integration (routing) key: required by the `pagerduty` template, refused by the others. */
  routingKey: z.optional(z.string().check(z.regex(/^[A-Za-z0-9]{32}$/, 'a 32-character PagerDuty routing key'))),
  enabled: z._default(z.boolean(), true),
  description: z.optional(z.string().check(z.maxLength(200))),
};

interface TemplateChoice {
  template: WebhookTemplate;
  routingKey?: string | undefined;
  eventTypes: readonly EndpointEventType[];
}

/** What a template needs: PagerDuty a routing key, and only incident events (it pages by incident). */
const templateRules = [
  z.refine<TemplateChoice>((e) => (e.template === 'pagerduty') === (e.routingKey !== undefined), {
    message: 'routingKey is required with the pagerduty template, and only with it',
    path: ['routingKey'],
  }),
  z.refine<TemplateChoice>(
    (e) => e.template !== 'pagerduty' || e.eventTypes.every((t) => (pagerDutyEventTypes as readonly string[]).includes(t)),
    {
      message: 'the pagerduty template follows incidents: eventTypes may name only incident.* types',
      path: ['eventTypes'],
    },
  ),
];

export const PutEndpointRequest = z.strictObject(endpointFields).check(...templateRules);
export const CreateEndpointRequest = z.strictObject({ endpointId: EndpointId, ...endpointFields }).check(...templateRules);
export type PutEndpointRequest = z.infer<typeof PutEndpointRequest>;

export const WebhookEndpoint = z.object({
  endpointId: EndpointId,
  url: z.string(),
  eventTypes: z.array(EndpointEventType),
  template: WebhookTemplate,
  routingKey: z.nullable(z.string()),
  enabled: z.boolean(),
  /** Why Tiebreak disabled it (`gone`: the receiver answered 410; `failing`: every delivery failed for days), or null. */
  disabledReason: z.nullable(z.enum(['gone', 'failing', 'by-reseller'])),
  /** Since when every delivery has failed (null while deliveries succeed). */
  failingSince: z.nullable(Timestamp),
  description: z.nullable(z.string()),
  /** The secrets that sign: the current one, and during a rotation's overlap the previous one, until it expires. */
  secrets: z.array(z.object({ createdAt: Timestamp, expiresAt: z.nullable(Timestamp) })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

/** The endpoint's current secret: shown when the endpoint is created and when the secret is rotated, never listed. */
export const EndpointSecret = z.object({ endpointId: EndpointId, secret: WebhookSecret, previousExpiresAt: z.nullable(Timestamp) });

export const RotateSecretRequest = z.strictObject({
  /** How long the previous secret keeps signing beside the new one (default a day, at most a week). */
  overlapSeconds: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(7 * 86_400))),
});

export const MessageStatus = z.enum(['pending', 'delivered', 'failed']);
export type MessageStatus = z.infer<typeof MessageStatus>;

/** Why a message failed: its tries ran out, the receiver said 410, or its endpoint was disabled. */
export const MessageFailure = z.enum(['exhausted', 'gone', 'endpoint-disabled']);
export type MessageFailure = z.infer<typeof MessageFailure>;

/** One message for one endpoint: the same `webhook-id` on every try and every replay. */
export const WebhookMessage = z.object({
  messageId: z.string(),
  endpointId: EndpointId,
  eventId: z.string(),
  eventType: EventType,
  /** The site the event is about; null for a test (`webhook.test`), which is about none. */
  siteId: z.nullable(Identifier),
  status: MessageStatus,
  failure: z.nullable(MessageFailure),
  /** Tries in the current round (a replay starts a new round). */
  attempts: z.number(),
  round: z.number(),
  createdAt: Timestamp,
  nextAttemptAt: z.nullable(Timestamp),
  lastStatus: z.nullable(z.number()),
});
export type WebhookMessage = z.infer<typeof WebhookMessage>;

/** One line of an endpoint's delivery log. */
export const DeliveryAttempt = z.object({
  messageId: z.string(),
  round: z.number(),
  attempt: z.number(),
  at: Timestamp,
  /** The HTTP status, or null when none came (refused, timed out, address not allowed). */
  status: z.nullable(z.number()),
  latencyMs: z.number(),
  /** The response's first bytes (at most 1 KiB), as text. */
  response: z.string(),
  error: z.nullable(z.string()),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

export const MessagesQuery = z.strictObject({
  cursor: z.optional(z.string().check(z.maxLength(1024))),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100))),
  status: z.optional(MessageStatus),
});

export const ReplaySinceRequest = z.strictObject({ since: Timestamp });
/** At most this many messages are replayed a call; `more` says to call again (replayed ones are pending, so not found twice). */
export const maxReplayedPerCall = 200;
export const ReplayAnswer = z.object({ replayed: z.number(), more: z.boolean() });

/**
 * A test accepted: its message (a `webhook.test` event, signed as any) is stored, pending, its first
 * try on the deliveries queue. `GET …/messages` shows its state, `GET …/attempts` each try.
 */
export const WebhookTestAccepted = z.object({
  /** The `webhook-id` the receiver sees, and the message's id in the endpoint's messages. */
  messageId: z.string(),
  /** The envelope's `id` (the body's, with the generic template). */
  eventId: z.string(),
  endpointId: EndpointId,
  eventType: z.literal('webhook.test'),
  status: z.literal('pending'),
  /** How to follow it, in a sentence. */
  message: z.string(),
});
export type WebhookTestAccepted = z.infer<typeof WebhookTestAccepted>;

// Inbound: another tool's signed events onto a site.

/** What an inbound event of one type does: raise or clear a named alert on the site (an alert raised opens an incident). */
export const HookAction = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('raise'), alert: Identifier, severity: z._default(Severity, 'critical') }),
  z.strictObject({ action: z.literal('clear'), alert: Identifier }),
]);
export type HookAction = z.infer<typeof HookAction>;

const HookType = z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : -, at most 100'));

/**
 * How a hook proves it comes from the integration's tool: a Standard Webhooks signature made with
 * the integration's `whsec_` secret, or (for tools that can only send a header: most UPS and RMM
 * tools) `Authorization: Bearer <token>`, over HTTPS only.
 */
export const HookAuth = z.enum(['signature', 'bearer']);
export type HookAuth = z.infer<typeof HookAuth>;

export const CreateIntegrationRequest = z.strictObject({
  siteId: Identifier,
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  /** By the inbound event's `type`: what it does. Other types are accepted and ignored. */
  mapping: safeRecord(HookType, HookAction).check(z.refine((m) => Object.keys(m).length <= 50, 'at most 50 types')),
  /** Default `signature`. */
  auth: z._default(HookAuth, 'signature'),
});

export const Integration = z.object({
  integrationId: z.string(),
  siteId: Identifier,
  name: z.string(),
  mapping: z.record(z.string(), HookAction),
  auth: HookAuth,
  createdAt: Timestamp,
});
export type Integration = z.infer<typeof Integration>;

/** A bearer integration's token: `tbh_` and base64url of 32 random bytes. */
export const HookToken = z.string().check(z.regex(/^tbh_[A-Za-z0-9_-]{43}$/, 'a tbh_ token'));

/**
 * The integration, its hook URL and its credential, shown only here (and at rotation): a `whsec_`
 * secret the tool signs with, or a bearer token it sends (the service keeps only the token's hash).
 */
export const IntegrationCreated = z.union([
  z.object({ integration: Integration, url: z.string(), secret: WebhookSecret }),
  z.object({ integration: Integration, url: z.string(), token: HookToken }),
]);
export type IntegrationCreated = z.infer<typeof IntegrationCreated>;

/**
 * An inbound event: the payload Standard Webhooks recommends (`type`, `timestamp`, `data`). Free
 * form (other fields, whatever `data` holds): no reserved key anywhere in it.
 */
export const InboundHook = withoutReservedKeys(
  z.looseObject({
    type: HookType,
    timestamp: z.optional(z.iso.datetime({ offset: true })),
    data: z.optional(z.record(z.string(), z.unknown())),
  }),
);

export const HookAccepted = z.object({ action: z.enum(['raised', 'cleared', 'ignored']), alert: z.nullable(z.string()) });

/** Inbound bodies are small events; anything larger is refused (413) before it is verified. */
export const maxInboundHookBytes = 64 * 1024;
