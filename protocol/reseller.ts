import * as z from 'zod/mini';
import { Identifier } from './ids.ts';
import './zod-locale.ts';

// The reseller API's bodies (`/v1/…` beside the node protocol). zod/mini, as on every Lambda's
// import graph; OpenAPI is generated from these very schemas (protocol/openapi.ts).

/** Keys sort by ISO time: only four-digit years sort right, and nothing here is older than this service. */
const inServiceYears = z.refine<string>(
  (value) => {
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    return ms >= Date.UTC(2000, 0, 1) && ms < Date.UTC(3000, 0, 1);
  },
  { message: 'a time between the years 2000 and 2999' },
);

/** A time on the reseller API: ISO 8601 in UTC, with an offset or Z. */
export const Timestamp = z.iso.datetime({ offset: true }).check(inServiceYears);

const Name = z.string().check(z.minLength(1), z.maxLength(120));

export const ContractTargets = z.strictObject({
  /** Share of the period a primary must hold the role, maintenance windows excluded (0.999 = 99.9 %). */
  availability: z.number().check(z.minimum(0), z.maximum(1)),
  /** Longest time from an incident's opening to its acknowledgement. */
  timeToAcknowledgeMs: z.number().check(z.int(), z.minimum(0), z.maximum(30 * 24 * 3_600_000)),
});
export type ContractTargets = z.infer<typeof ContractTargets>;
export const defaultTargets: ContractTargets = { availability: 0.999, timeToAcknowledgeMs: 15 * 60_000 };

export const ApiKeyScope = z.enum(['read-only', 'read-write']);
export type ApiKeyScope = z.infer<typeof ApiKeyScope>;

export const ApiKey = z.object({
  keyId: z.string(),
  name: Name,
  scope: ApiKeyScope,
  createdAt: Timestamp,
  revokedAt: z.nullable(Timestamp),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** A key as created: the only time its secret is shown. */
export const ApiKeyCreated = z.object({ ...ApiKey.shape, secret: z.string() });
export type ApiKeyCreated = z.infer<typeof ApiKeyCreated>;

export const CreateApiKeyRequest = z.strictObject({ name: Name, scope: ApiKeyScope });

/** True when the runtime knows the IANA zone (Node and Lambda ship full ICU data). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone (`Europe/Berlin`): the reseller's reports print local times in it. */
export const TimeZone = z.string().check(
  z.maxLength(64),
  z.refine((zone) => isTimeZone(zone), { message: 'an IANA time zone, e.g. Europe/Berlin or UTC' }),
);

export const Reseller = z.object({
  resellerId: Identifier,
  name: Name,
  targets: ContractTargets,
  /** Reports print times in it unless asked for another (`tz`); UTC when unset. */
  timeZone: z.nullable(TimeZone),
  createdAt: Timestamp,
});
export type Reseller = z.infer<typeof Reseller>;

/**
 * `GET /v1/reseller`: the reseller, and the key that asked (its id and scope), so that a client
 * such as the console can tell a read-only key from a read-write one without trying a write.
 */
export const CallingReseller = z.object({
  ...Reseller.shape,
  caller: z.object({ keyId: z.string(), scope: ApiKeyScope }),
});
export type CallingReseller = z.infer<typeof CallingReseller>;

export const CreateResellerRequest = z.strictObject({
  resellerId: Identifier,
  name: Name,
  targets: z.optional(ContractTargets),
  timeZone: z.optional(TimeZone),
});
export const CreateResellerResponse = z.object({ reseller: Reseller, apiKey: ApiKeyCreated });

export const UpdateResellerRequest = z.strictObject({
  name: z.optional(Name),
  targets: z.optional(ContractTargets),
  timeZone: z.optional(TimeZone),
});

export const Customer = z.object({ customerId: Identifier, name: Name, createdAt: Timestamp });
export type Customer = z.infer<typeof Customer>;
export const CreateCustomerRequest = z.strictObject({ customerId: Identifier, name: Name });

export const SitePolicy = z
  .strictObject({
    tieBreak: z.enum(['keep-primary', 'preferred-node', 'health-weighted']),
    preferredNode: z.nullable(Identifier),
    healthThreshold: z.number().check(z.int(), z.minimum(0), z.maximum(100)),
  })
  .check(
    z.refine((policy) => policy.tieBreak !== 'preferred-node' || policy.preferredNode !== null, {
      message: 'preferred-node needs a preferredNode',
      path: ['preferredNode'],
    }),
  );

export const EnrollmentCode = z.object({
  nodeId: Identifier,
  /** Single use; exchanged by the agent at POST /v1/node/enroll for its node token. */
  code: z.string(),
  /** The token version the code enrolls: the node's older tokens stop working once it is used. */
  tokenVersion: z.number().check(z.int(), z.minimum(1)),
  expiresAt: Timestamp,
});
export type EnrollmentCode = z.infer<typeof EnrollmentCode>;

export const Site = z.object({
  siteId: Identifier,
  customerId: Identifier,
  name: Name,
  nodeIds: z.array(Identifier),
  createdAt: Timestamp,
});
export type Site = z.infer<typeof Site>;

export const CreateSiteRequest = z.strictObject({
  siteId: Identifier,
  customerId: Identifier,
  name: Name,
  /** The two servers of the pair. */
  nodeIds: z.tuple([Identifier, Identifier]).check(z.refine(([a, b]) => a !== b, { message: 'the two nodes need different ids' })),
  policy: z.optional(SitePolicy),
});
export const CreateSiteResponse = z.object({ site: Site, enrollment: z.array(EnrollmentCode) });

export const NodeStatus = z.object({
  nodeId: Identifier,
  /** False until the node's agent has exchanged an enrollment code (or after its token was revoked). */
  enrolled: z.boolean(),
  tokenVersion: z.number(),
  lastSeenAt: z.nullable(Timestamp),
  role: z.nullable(z.enum(['primary', 'secondary', 'fenced'])),
  health: z.nullable(z.number()),
  peerReachable: z.nullable(z.boolean()),
  /** Survivor mode: the witness refuses this node's claims until it is readmitted (see `survivor`). */
  excluded: z.boolean(),
});

/**
 * Survivor mode (DESIGN.md, W5): the witness stopped hearing `excludedNode` while `node` held the
 * lease and reported it unreachable, so `node` runs alone on a standalone lease that survives any
 * outage of the witness or of the office's internet link, and `excludedNode` may not claim.
 */
export const SurvivorMode = z.object({
  /** The survivor: the primary, whose lease is standalone. */
  node: Identifier,
  /** The excluded node: its claims are refused until the survivor hears it again or an operator readmits it. */
  excludedNode: Identifier,
  /** When the witness excluded it. */
  since: Timestamp,
  /** The excluded node's last contact before it was excluded; null if it was never heard. */
  excludedLastSeenAt: z.nullable(Timestamp),
  /** How long a standalone lease lasts after each renewal (the deployment's setting); null: until readmission. */
  standaloneLeaseMs: z.nullable(z.number()),
  /** When the standalone lease runs out unless the survivor renews it; null while it has no end. */
  leaseEndsAt: z.nullable(Timestamp),
  /**
   * Set once the survivor has been told to end its standalone lease (it heard its peer again, or
   * an operator readmitted the node): the node is readmitted when the survivor acknowledges that
   * command, at its next heartbeat.
   */
  ending: z.nullable(
    z.object({
      requestedAt: Timestamp,
      by: z.enum(['survivor', 'operator']),
      /** The API key of the operator who asked; null when the survivor did. */
      keyId: z.nullable(z.string()),
      commandId: z.string(),
    }),
  ),
});
export type SurvivorMode = z.infer<typeof SurvivorMode>;

export const SiteStatus = z.object({
  ...Site.shape,
  policy: SitePolicy,
  epoch: z.number(),
  primary: z.nullable(Identifier),
  /**
   * When the primary's witness lease ends unless renewed (it counts as held a skew margin longer);
   * null with no primary, and in survivor mode while the standalone lease has no end.
   */
  leaseExpiresAt: z.nullable(Timestamp),
  /** Null unless a node is excluded. */
  survivor: z.nullable(SurvivorMode),
  nodes: z.array(NodeStatus),
});
export type SiteStatus = z.infer<typeof SiteStatus>;

/**
 * The operator override of survivor mode: the excluded node becomes primary at the next epoch.
 * Only for a survivor that is really off: if it still runs (cut off from the witness, its lease
 * standalone), the site has two primaries.
 */
export const ForcePrimaryRequest = z.strictObject({
  /** Exactly `<survivor's node id> is powered off`: what the operator declares, recorded with the key's id. */
  confirm: z.string().check(z.minLength(1), z.maxLength(200)),
  /** Why, in the operator's words (recorded in `failover.forced`). */
  reason: z.string().check(z.minLength(1), z.maxLength(500)),
});

export const ForcedFailover = z.object({
  /** The new epoch: the forced node's. */
  epoch: z.number(),
  /** The forced node, now the primary: it promotes once its agent's next claim is granted. */
  primary: Identifier,
  /** The survivor declared powered off: told to demote if it is ever heard again. */
  previousPrimary: Identifier,
  forcedAt: Timestamp,
  /** The API key that forced it. */
  keyId: z.string(),
  message: z.string(),
  site: SiteStatus,
});
export type ForcedFailover = z.infer<typeof ForcedFailover>;

/** A readmission asked for: it happens when the survivor acknowledges the end of its standalone lease. */
export const ReadmitPending = z.object({
  status: z.literal('pending'),
  /** The excluded node. */
  nodeId: Identifier,
  survivor: Identifier,
  /** The command the survivor must acknowledge (`end-standalone-<the exclusion's start, ms>-<survivor>`). */
  commandId: z.string(),
  requestedAt: Timestamp,
  /** Who asked first: an operator, or the survivor itself on hearing its peer again. */
  requestedBy: z.enum(['survivor', 'operator']),
  message: z.string(),
});
export type ReadmitPending = z.infer<typeof ReadmitPending>;

export const RevokeNodeResponse = z.object({ nodeId: Identifier, tokenVersion: z.number() });

export const EnrollRequest = z.strictObject({
  code: z.string().check(z.minLength(1), z.maxLength(100)),
  /** Required: a code typed into the other server's config must not be used up there, which would revoke its node's token. */
  nodeId: Identifier.check(
    z.meta({
      description:
        "The node the agent is configured as. A code of another node is refused (400, `wrong-node`) and stays unused: that node's token keeps working",
    }),
  ),
});
export const EnrollResponse = z.object({
  resellerId: Identifier,
  siteId: Identifier,
  nodeId: Identifier,
  tokenVersion: z.number(),
  token: z.string(),
});

/** Who declared or last changed a maintenance window: a reseller's API key, the operator, or a node's agent. */
export const MaintenanceAuthor = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('api-key'), keyId: z.string() }),
  z.object({ kind: z.literal('admin') }),
  z.object({ kind: z.literal('node'), nodeId: z.string() }),
]);
export type MaintenanceAuthor = z.infer<typeof MaintenanceAuthor>;

export const MaintenanceWindow = z.object({
  windowId: z.string(),
  start: Timestamp,
  end: Timestamp,
  reason: z.string(),
  /** When it was declared; null for windows declared before this was recorded. */
  declaredAt: z.nullable(Timestamp),
  declaredBy: z.nullable(MaintenanceAuthor),
  /** The last change (PATCH, or a DELETE that ended it early); null while it has none. */
  changedAt: z.nullable(Timestamp),
  changedBy: z.nullable(MaintenanceAuthor),
});
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

/** The longest window. */
export const maintenanceMaxMs = 7 * 24 * 3_600_000;

/**
 * The rules every window obeys, as declared and after any change (the handler checks a changed
 * window, merged from the stored one and the request, against these very ones).
 */
export const maintenanceWindowRules: readonly { holds: (start: number, end: number) => boolean; message: string }[] = [
  { holds: (start, end) => end > start, message: 'end must be after start' },
  { holds: (start, end) => end - start <= maintenanceMaxMs, message: 'a window lasts at most 7 days' },
];

const maintenanceReason = z.string().check(z.minLength(1), z.maxLength(500));

export const CreateMaintenanceRequest = z.strictObject({ start: Timestamp, end: Timestamp, reason: maintenanceReason }).check(
  ...maintenanceWindowRules.map((rule) =>
    z.refine<{ start: string; end: string }>((w) => rule.holds(Date.parse(w.start), Date.parse(w.end)), {
      message: rule.message,
      path: ['end'],
    }),
  ),
);

/**
 * A change of a window (PATCH): what is sent changes, the rest stays. Before it starts a window
 * may be moved or resized; once started only its end may be brought forward (or its reason
 * changed); once ended it is part of the SLA record and changes no more.
 */
export const UpdateMaintenanceRequest = z
  .strictObject({ start: z.optional(Timestamp), end: z.optional(Timestamp), reason: z.optional(maintenanceReason) })
  .check(
    z.refine((w) => w.start !== undefined || w.end !== undefined || w.reason !== undefined, { message: 'send start, end or reason' }),
    // Both bounds sent: the rules hold of them alone (one of them: the handler checks the window it makes).
    ...maintenanceWindowRules.map((rule) =>
      z.refine<{ start?: string | undefined; end?: string | undefined }>(
        (w) => w.start === undefined || w.end === undefined || rule.holds(Date.parse(w.start), Date.parse(w.end)),
        { message: rule.message, path: ['end'] },
      ),
    ),
  );

/** One page of a list: pass `nextCursor` back as `cursor` for the next; null when there is none. */
export function page<T extends z.ZodMiniType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.nullable(z.string()) });
}

export const ListQuery = z.strictObject({
  cursor: z.optional(z.string().check(z.maxLength(1024))),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100))),
});

export const EventsQuery = z.strictObject({
  ...ListQuery.shape,
  from: z.optional(Timestamp),
  to: z.optional(Timestamp),
});

/**
 * A site's state at a glance (`GET /v1/sites`), judged by the witness at the moment of the request
 * (functions/domain/site-health.ts). One word, from the witness's own notions: its lease, the time
 * since each node was last heard, the nodes' last reports, pending promote and demote commands,
 * survivor mode and unresolved incidents.
 */
export const SiteHealth = z.enum(['down', 'failing-over', 'survivor', 'degraded', 'not-live', 'healthy']).check(
  z.meta({
    description:
      '`not-live`: the site never had a primary (epoch 0: no grant yet). ' +
      '`down`: no lease is held now and no node has been heard for `silenceMs` (3 min by default), ' +
      'as the silence detector decides `site.down`. ' +
      '`failing-over`: the role is passing: the primary holds no lease and its lease lapsed ' +
      '(the site fell silent, or its peer reported it lost: `node.lost`) while a node is still heard, ' +
      'or the new primary has not yet acknowledged its promote command, or a former primary heard since ' +
      'the failover has not yet acknowledged its demote command. ' +
      '`survivor`: a node is excluded and the primary runs alone on a standalone lease (survivor mode). ' +
      '`degraded`: a primary holds the role, but a node has not been heard lately (within `exclusionMs` ' +
      'beyond the heartbeat cadence last asked of it, as survivor mode counts it: 90 s on the slow cadence, ' +
      '35 s on the fast one, by default), or a node reports its peer unreachable, or a node reports a health ' +
      "under the site policy's threshold, or an incident of the site is unresolved (open or acknowledged). " +
      '`healthy`: none of these.',
  }),
);
export type SiteHealth = z.infer<typeof SiteHealth>;

/** The statuses worst first: the order a console sorts sites by (down first, healthy last). */
export const siteHealthWorstFirst: readonly SiteHealth[] = ['down', 'failing-over', 'survivor', 'degraded', 'not-live', 'healthy'];

/** A site as the fleet view lists it: the site, its status and what it is judged from. */
export const SiteSummary = z.object({
  ...Site.shape,
  status: SiteHealth,
  /** The fencing token: rises by one at each change of primary; 0 before the first grant. */
  epoch: z.number(),
  primary: z.nullable(Identifier),
  /**
   * When the primary's witness lease ends unless renewed; null with no primary, and in survivor mode
   * while the standalone lease has no end. A primary whose peer link is up renews it only every slow
   * heartbeat (it runs on its peer's lease meanwhile): an expired lease alone is not a failure.
   */
  leaseExpiresAt: z.nullable(Timestamp),
  nodes: z.array(
    z.object({
      nodeId: Identifier,
      /** The role the node last reported (null before its first heartbeat). */
      role: z.nullable(z.enum(['primary', 'secondary', 'fenced'])),
      lastSeenAt: z.nullable(Timestamp),
      /** Whether it last reported hearing its peer on the local link. */
      peerReachable: z.nullable(z.boolean()),
      /** Its last reported health score (0-100). */
      health: z.nullable(z.number()),
      /** Survivor mode: the witness refuses this node's claims until it is readmitted. */
      excluded: z.boolean(),
    }),
  ),
  /** Null unless a node is excluded (GET /v1/sites/{siteId} tells the rest of survivor mode). */
  survivor: z.nullable(z.object({ node: Identifier, excludedNode: Identifier, since: Timestamp })),
  /** The site's unresolved incidents (open or acknowledged), by severity. */
  openIncidents: z.object({ critical: z.number(), warning: z.number(), info: z.number() }),
  /** A maintenance window of the site covers the moment of the request. */
  inMaintenance: z.boolean(),
});
export type SiteSummary = z.infer<typeof SiteSummary>;

const statusList = new RegExp(`^(${SiteHealth.options.join('|')})(,(${SiteHealth.options.join('|')}))*$`);

export const FleetQuery = z.strictObject({
  ...ListQuery.shape,
  /** Only this customer's sites. */
  customerId: z.optional(Identifier),
  status: z.optional(
    z.string().check(
      z.maxLength(200),
      z.regex(statusList, `statuses separated by commas: ${SiteHealth.options.join(', ')}`),
      z.meta({
        description: 'Only sites in one of these statuses, comma-separated (`down,failing-over`); `status=a&status=b` says the same',
      }),
    ),
  ),
});

/** The site statuses a `status` filter names. */
export const statusesOf = (filter: string): SiteHealth[] =>
  [...new Set(filter.split(','))].filter((s): s is SiteHealth => (SiteHealth.options as readonly string[]).includes(s));

export const FleetPage = z
  .object({
    items: z.array(SiteSummary),
    /** Pass it back as `cursor` for the next page; null when there is none. */
    nextCursor: z.nullable(z.string()),
    counts: z.nullable(z.record(SiteHealth, z.number())),
  })
  .check(
    z.meta({
      description:
        'One page of the fleet, by site id. A page reads `limit` sites of the reseller (default 50, at most 100) and ' +
        'answers those that pass the filters (`customerId`, `status`): with a filter a page may hold fewer than ' +
        '`limit` sites, even none, while `nextCursor` is not null; keep following it to the end. ' +
        'Statuses are judged at the moment of the request from eventually consistent reads (a change of the last ' +
        'second or so may not show yet). `counts` (sites per status for the whole reseller) is null: it would ' +
        'take reading every site of the reseller on each request: page through to the end and count. ' +
        'Worst first, the statuses are: down, failing-over, survivor, degraded, not-live, healthy.',
    }),
  );
export type FleetPage = z.infer<typeof FleetPage>;

/** A report's bound: a day (`2026-11-01`, midnight UTC) or an instant. */
export const DayOrTimestamp = z.union([z.iso.date().check(inServiceYears), Timestamp]);

export const ReportFormat = z.enum(['json', 'csv', 'html', 'pdf']);
export type ReportFormat = z.infer<typeof ReportFormat>;

export const ReportQuery = z
  .strictObject({
    /** A day is local midnight in the report's zone (`tz`). */
    from: DayOrTimestamp,
    to: DayOrTimestamp,
    /** json and csv: every figure with its event ids; html and pdf: the customer's report, in words, without ids. */
    format: z.optional(ReportFormat),
    siteId: z.optional(Identifier),
    /** Only this customer's sites, and the customer's name on the report. */
    customerId: z.optional(Identifier),
    /** The zone the report's days and times are in; default the reseller's, else UTC. */
    tz: z.optional(TimeZone),
  })
  .check(z.refine((q) => Date.parse(q.to) > Date.parse(q.from), { message: 'to must be after from', path: ['to'] }));

/** Where an escalation level sends an incident step. */
export const EscalationTarget = z.discriminatedUnion('type', [
  /** The reseller's own SQS service queue. */
  z.strictObject({ type: z.literal('service-queue') }),
  z.strictObject({ type: z.literal('email'), address: z.email().check(z.maxLength(254)) }),
  z.strictObject({ type: z.literal('sms'), phoneNumber: z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'E.164, e.g. +14155550100')) }),
  /** A webhook endpoint of the reseller's, by id. */
  z.strictObject({ type: z.literal('webhook'), endpointId: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)) }),
]);
export type EscalationTarget = z.infer<typeof EscalationTarget>;

const Day = 24 * 3_600_000;

export const EscalationPolicy = z
  .strictObject({
    /** In order: each level's `afterMs` counts from the incident's opening, and rises level by level. */
    levels: z
      .array(
        z.strictObject({
          afterMs: z.number().check(z.int(), z.minimum(0), z.maximum(7 * Day)),
          targets: z.array(EscalationTarget).check(z.minLength(1), z.maxLength(10)),
        }),
      )
      .check(z.minLength(1), z.maxLength(10)),
    /** The last level again, this many times, this far apart, until someone acknowledges. */
    repeatLast: z.strictObject({
      times: z.number().check(z.int(), z.minimum(0), z.maximum(50)),
      everyMs: z.number().check(z.int(), z.minimum(60_000), z.maximum(7 * Day)),
    }),
  })
  .check(
    z.refine((p) => p.levels.every((level, i) => i === 0 || level.afterMs > (p.levels[i - 1]?.afterMs ?? -1)), {
      message: "each level's afterMs must be later than the one before",
      path: ['levels'],
    }),
  );
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;

/** A policy as stored: for the reseller as a whole, or overriding it for one customer or site. */
export const ScopedEscalationPolicy = z.object({
  scope: z.enum(['reseller', 'customer', 'site']),
  /** The customer or site id; null for the reseller's own. */
  id: z.nullable(Identifier),
  policy: EscalationPolicy,
  updatedAt: Timestamp,
});
export type ScopedEscalationPolicy = z.infer<typeof ScopedEscalationPolicy>;
