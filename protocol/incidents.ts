import * as z from 'zod/mini';
import { Severity } from './severity.ts';
import { Identifier } from './ids.ts';
import { EscalationTarget, Timestamp } from './reseller.ts';
import './zod-locale.ts';

// Incidents as the reseller sees them (DESIGN.md, "Incidents and escalation"): on the API, on
// their service queue, in e-mails and SMS. zod/mini: every Lambda that handles them imports this.

/** The conditions that need a person: each opens at most one incident per site at a time. */
export const IncidentKind = z.enum(['node.lost', 'site.down', 'link.lost', 'node.degraded', 'command.unacknowledged', 'alert.raised']);
export type IncidentKind = z.infer<typeof IncidentKind>;

export const IncidentState = z.enum(['open', 'acknowledged', 'resolved']);
export type IncidentState = z.infer<typeof IncidentState>;

/** `<kind with a dash>-<opening ms>`, e.g. `node-lost-1764410400000`: unique within its site, and names its kind. */
export const IncidentId = z.string().check(z.regex(/^[a-z]+-[a-z]+-\d{1,15}$/, 'an incident id such as node-lost-1764410400000'));

export const Incident = z.object({
  incidentId: IncidentId,
  siteId: Identifier,
  kind: IncidentKind,
  state: IncidentState,
  /** What its steps page as: an inbound alert's, its integration's mapping's (the highest of the site's raised alerts); other kinds', fixed. */
  severity: Severity,
  openedAt: Timestamp,
  /** What is affected: node ids, `link` or `site`. */
  subjects: z.array(z.string()),
  /**
   * The same, in order, in the words people read: an inbound alert as the summary its tool sent and
   * its names (`UPS on battery, 38 min left (ups-power from APC UPS)`), any other subject as it is.
   */
  affected: z.array(z.string()),
  /** When every subject recovered; the incident resolves itself once that has held for the settle time. */
  recoveredAt: z.nullable(Timestamp),
  acknowledgedAt: z.nullable(Timestamp),
  acknowledgedBy: z.nullable(z.string()),
  resolvedAt: z.nullable(Timestamp),
  /** `recovery`, `api-key:<keyId>`, `link`, or `integration-deleted:<integrationId>` (the alerts that kept it open went with their integration). */
  resolvedBy: z.nullable(z.string()),
  /** Escalation steps taken (level 1 is step 1; repeats of the last level count on). */
  stepsTaken: z.number(),
  /**
   * The escalation level reached (1 = the first; repeats of the last level stay at it), null
   * before the first step, and how many levels the policy it escalates by has.
   */
  escalation: z.object({ level: z.nullable(z.number()), levels: z.number() }),
  /** Every target told of it so far: each will be told of its acknowledgement and resolution. */
  notified: z.array(EscalationTarget),
});
export type Incident = z.infer<typeof Incident>;

export const IncidentsQuery = z.strictObject({
  cursor: z.optional(z.string().check(z.maxLength(1024))),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100))),
  state: z.optional(z.enum(['open', 'acknowledged', 'resolved', 'unresolved'])),
});

export const IncidentStep = z.enum(['opened', 'escalated', 'acknowledged', 'resolved']);
export type IncidentStep = z.infer<typeof IncidentStep>;

/**
 * One message on the reseller's service queue (and the body of e-mails, SMS and webhook events),
 * per incident step. `messageId` is stable: a step delivered twice (delivery is at least once)
 * carries the same id.
 */
export const ServiceQueueMessage = z.object({
  messageId: z.string(),
  step: IncidentStep,
  /** The escalation level of an `opened`/`escalated` step (1 = first), else null. */
  level: z.nullable(z.number()),
  at: Timestamp,
  incident: z.object({
    incidentId: IncidentId,
    kind: IncidentKind,
    state: IncidentState,
    /** What the incident pages as (absent from messages sent before it was given). */
    severity: z.optional(Severity),
    openedAt: Timestamp,
    subjects: z.array(z.string()),
    /** `subjects` in the words people read (Incident's `affected`); absent from messages sent before it was given. */
    affected: z.optional(z.array(z.string())),
    acknowledgedBy: z.nullable(z.string()),
    resolvedBy: z.nullable(z.string()),
  }),
  site: z.object({ siteId: Identifier, name: z.nullable(z.string()) }),
  customer: z.nullable(z.object({ customerId: Identifier, name: z.string() })),
  /** One-click links (signed, single purpose, expiring) for people who cannot call the API. */
  links: z.nullable(z.object({ acknowledge: z.string(), resolve: z.string() })),
});
export type ServiceQueueMessage = z.infer<typeof ServiceQueueMessage>;

/** Where the reseller reads its service queue. */
export const ServiceQueue = z.object({ queueUrl: z.string(), deadLetterQueueUrl: z.string() });
