import * as z from 'zod/mini';
import { Identifier } from './ids.ts';
import { StoredEvent } from './events.ts';
import { Incident, IncidentsQuery, ServiceQueue } from './incidents.ts';
import {
  ApiKey,
  ApiKeyCreated,
  CallingReseller,
  CreateApiKeyRequest,
  CreateCustomerRequest,
  CreateMaintenanceRequest,
  UpdateMaintenanceRequest,
  CreateResellerRequest,
  CreateResellerResponse,
  CreateSiteRequest,
  CreateSiteResponse,
  Customer,
  EnrollmentCode,
  EnrollRequest,
  EnrollResponse,
  EventsQuery,
  FleetPage,
  FleetQuery,
  ForcedFailover,
  ForcePrimaryRequest,
  ListQuery,
  EscalationPolicy,
  MaintenanceWindow,
  ScopedEscalationPolicy,
  page,
  ReadmitPending,
  ReportQuery,
  Reseller,
  RevokeNodeResponse,
  SitePolicy,
  SiteStatus,
  UpdateResellerRequest,
} from './reseller.ts';
import {
  CreateIntegrationRequest,
  DeliveryAttempt,
  CreateEndpointRequest,
  EndpointSecret,
  HookAccepted,
  InboundHook,
  Integration,
  IntegrationCreated,
  MessagesQuery,
  PutEndpointRequest,
  ReplayAnswer,
  ReplaySinceRequest,
  RotateSecretRequest,
  WebhookEndpoint,
  WebhookMessage,
  WebhookTestAccepted,
} from './webhooks.ts';
import { nodeRouteKeys } from './node-routes.ts';
import './zod-locale.ts';

/**
 * Who may call a route: nobody in particular (`public`; the enrollment code or the link is the credential),
 * the operator (`admin` key), or a reseller's API key of either scope (`read`) or read-write (`write`).
 */
export type Access = 'public' | 'admin' | 'read' | 'write';

export interface ApiRoute {
  access: Access;
  summary: string;
  /** Path parameters, each an Identifier unless said otherwise. */
  params?: readonly string[];
  query?: z.ZodMiniType;
  body?: z.ZodMiniType;
  /** The success status and its body (none for 204; 202: accepted, it takes effect later). */
  status: 200 | 201 | 202 | 204;
  response?: z.ZodMiniType;
  /** Content types of a success besides JSON (the report, the links' pages). */
  alsoProduces?: readonly string[];
  /**
   * The body the implementation reads itself, bytes and headers (a signed inbound hook: the
   * signature covers the raw bytes, so nothing parses them first); the schema documents it.
   */
  rawBody?: z.ZodMiniType;
  /** Refusals of this route beyond the ones every route may answer (protocol/openapi.ts), by status: their codes and what they mean. */
  refusals?: Readonly<Record<string, string>>;
}

/**
 * Every route of the reseller API, as API Gateway declares it (`METHOD /path/{param}`): the
 * handlers serve exactly these, the local server routes them, and /openapi.json describes them.
 */
export const apiRoutes = {
  'POST /v1/resellers': {
    access: 'admin',
    summary: 'Create a reseller and its first read-write API key (its secret is shown only here)',
    body: CreateResellerRequest,
    status: 201,
    response: CreateResellerResponse,
  },
  'GET /v1/resellers': { access: 'admin', summary: 'List resellers', query: ListQuery, status: 200, response: page(Reseller) },
  'GET /v1/reseller': {
    access: 'read',
    summary: "The calling key's reseller, and the key itself (`caller`: its id and scope; a read-only key's writes are refused with 403)",
    status: 200,
    response: CallingReseller,
  },
  'PATCH /v1/reseller': {
    access: 'write',
    summary: "Change the reseller's name or contract targets",
    body: UpdateResellerRequest,
    status: 200,
    response: Reseller,
  },
  'POST /v1/api-keys': {
    access: 'write',
    summary: 'Create an API key (its secret is shown only in this answer)',
    body: CreateApiKeyRequest,
    status: 201,
    response: ApiKeyCreated,
  },
  'GET /v1/api-keys': {
    access: 'read',
    summary: "List the reseller's API keys (never their secrets)",
    query: ListQuery,
    status: 200,
    response: page(ApiKey),
  },
  'POST /v1/api-keys/{keyId}/rotate': {
    access: 'write',
    summary: 'Replace a key: a new key of the same name and scope, and the old one revoked',
    params: ['keyId'],
    status: 201,
    response: ApiKeyCreated,
  },
  'DELETE /v1/api-keys/{keyId}': { access: 'write', summary: 'Revoke an API key', params: ['keyId'], status: 200, response: ApiKey },
  'POST /v1/customers': { access: 'write', summary: 'Create a customer', body: CreateCustomerRequest, status: 201, response: Customer },
  'GET /v1/customers': { access: 'read', summary: 'List customers', query: ListQuery, status: 200, response: page(Customer) },
  'GET /v1/customers/{customerId}': { access: 'read', summary: 'One customer', params: ['customerId'], status: 200, response: Customer },
  'POST /v1/sites': {
    access: 'write',
    summary: "Create a site with its two nodes; answers each node's enrollment code",
    body: CreateSiteRequest,
    status: 201,
    response: CreateSiteResponse,
  },
  'GET /v1/sites': {
    access: 'read',
    summary:
      'The fleet: every site with its status (down, failing-over, survivor, degraded, not-live, healthy), primary, lease, nodes, ' +
      'unresolved incidents and maintenance, by site id; filter by customerId and status. A page costs a bounded number of reads ' +
      'whatever its size (no read per site)',
    query: FleetQuery,
    status: 200,
    response: FleetPage,
  },
  'GET /v1/sites/{siteId}': {
    access: 'read',
    summary: "A site and its witness state: epoch, primary, lease, each node's last report",
    params: ['siteId'],
    status: 200,
    response: SiteStatus,
  },
  'PUT /v1/sites/{siteId}/policy': {
    access: 'write',
    summary: "Set the site's tie-break policy",
    params: ['siteId'],
    body: SitePolicy,
    status: 200,
    response: SiteStatus,
  },
  'POST /v1/sites/{siteId}/nodes/{nodeId}/enrollment': {
    access: 'write',
    summary: "A new enrollment code for a node: once used, the node's older tokens stop working (token rotation)",
    params: ['siteId', 'nodeId'],
    status: 201,
    response: EnrollmentCode,
  },
  'POST /v1/sites/{siteId}/nodes/{nodeId}/revoke': {
    access: 'write',
    summary: "Revoke the node's token at once; a new enrollment code lets it back",
    params: ['siteId', 'nodeId'],
    status: 200,
    response: RevokeNodeResponse,
  },
  'POST /v1/sites/{siteId}/nodes/{nodeId}/force-primary': {
    access: 'write',
    summary:
      'Survivor mode: make the excluded node primary (epoch + 1), declaring the survivor powered off. ' +
      'DANGER: if the survivor still runs, the site has two primaries. ' +
      '409 (details[0].message): not-in-survivor-mode, not-excluded (this node is the survivor), confirmation-mismatch (confirm must read exactly "<survivor> is powered off")',
    params: ['siteId', 'nodeId'],
    body: ForcePrimaryRequest,
    status: 200,
    response: ForcedFailover,
  },
  'POST /v1/sites/{siteId}/nodes/{nodeId}/readmit': {
    access: 'write',
    summary:
      'Survivor mode: readmit the excluded node. Tells the survivor to end its standalone lease; the node is readmitted when the survivor ' +
      'acknowledges (202, pending; asked again: the pending one). 409 (details[0].message): not-excluded',
    params: ['siteId', 'nodeId'],
    status: 202,
    response: ReadmitPending,
  },
  'POST /v1/sites/{siteId}/maintenance': {
    access: 'write',
    summary:
      'Declare a maintenance window: conditions inside it page no one, and the SLA report judges availability without it. ' +
      'It starts from now on: 422 maintenance-in-past for a start more than 5 min before now',
    params: ['siteId'],
    body: CreateMaintenanceRequest,
    status: 201,
    response: MaintenanceWindow,
    refusals: {
      '422': 'maintenance-in-past: the window starts more than 5 min before now (an outage that already happened stays in the SLA report)',
    },
  },
  'GET /v1/sites/{siteId}/maintenance': {
    access: 'read',
    summary: "The site's maintenance windows, by start, with who declared and last changed each",
    params: ['siteId'],
    query: ListQuery,
    status: 200,
    response: page(MaintenanceWindow),
  },
  'PATCH /v1/sites/{siteId}/maintenance/{windowId}': {
    access: 'write',
    summary:
      'Change a maintenance window: before it starts, move or resize it (not to start more than 5 min before now); ' +
      'once started, only bring its end forward (not more than 5 min before now) or change its reason; once ended, nothing',
    params: ['siteId', 'windowId'],
    body: UpdateMaintenanceRequest,
    status: 200,
    response: MaintenanceWindow,
    refusals: {
      '409': 'conflict: the window changed meanwhile; read it again',
      '422':
        "maintenance-in-past (a start, or a started window's end, more than 5 min before now), " +
        'maintenance-started (a started window: its start cannot change, its end cannot be extended), ' +
        'maintenance-ended (a window that has ended is part of the SLA record)',
    },
  },
  'DELETE /v1/sites/{siteId}/maintenance/{windowId}': {
    access: 'write',
    summary: 'Cancel a maintenance window that has not started; one that is running ends now instead (it stays in the SLA record)',
    params: ['siteId', 'windowId'],
    status: 204,
    refusals: {
      '409': 'conflict: the window changed meanwhile; read it again',
      '422': 'maintenance-ended: a window that has ended is part of the SLA record and cannot be removed',
    },
  },
  'GET /v1/sites/{siteId}/events': {
    access: 'read',
    summary: "The site's audit trail, oldest first",
    params: ['siteId'],
    query: EventsQuery,
    status: 200,
    response: page(StoredEvent),
  },
  'GET /v1/escalation-policies': {
    access: 'read',
    summary: "The reseller's escalation policy and its overrides for customers and sites",
    query: ListQuery,
    status: 200,
    response: page(ScopedEscalationPolicy),
  },
  'PUT /v1/escalation-policy': {
    access: 'write',
    summary: "Set the reseller's escalation policy (for every site without an override)",
    body: EscalationPolicy,
    status: 200,
    response: ScopedEscalationPolicy,
  },
  'GET /v1/escalation-policy': {
    access: 'read',
    summary: "The reseller's escalation policy",
    status: 200,
    response: ScopedEscalationPolicy,
  },
  'PUT /v1/customers/{customerId}/escalation-policy': {
    access: 'write',
    summary: "Override the escalation policy for one customer's sites",
    params: ['customerId'],
    body: EscalationPolicy,
    status: 200,
    response: ScopedEscalationPolicy,
  },
  'GET /v1/customers/{customerId}/escalation-policy': {
    access: 'read',
    summary: "A customer's override",
    params: ['customerId'],
    status: 200,
    response: ScopedEscalationPolicy,
  },
  'DELETE /v1/customers/{customerId}/escalation-policy': {
    access: 'write',
    summary: "Remove a customer's override",
    params: ['customerId'],
    status: 204,
  },
  'PUT /v1/sites/{siteId}/escalation-policy': {
    access: 'write',
    summary: 'Override the escalation policy for one site',
    params: ['siteId'],
    body: EscalationPolicy,
    status: 200,
    response: ScopedEscalationPolicy,
  },
  'GET /v1/sites/{siteId}/escalation-policy': {
    access: 'read',
    summary: "A site's override",
    params: ['siteId'],
    status: 200,
    response: ScopedEscalationPolicy,
  },
  'DELETE /v1/sites/{siteId}/escalation-policy': { access: 'write', summary: "Remove a site's override", params: ['siteId'], status: 204 },
  'GET /v1/incidents': {
    access: 'read',
    summary: "The reseller's incidents, newest first (a second or so behind the latest change)",
    query: IncidentsQuery,
    status: 200,
    response: page(Incident),
  },
  'GET /v1/sites/{siteId}/incidents/{incidentId}': {
    access: 'read',
    summary: 'An incident of the site: the current or last one of its kind',
    params: ['siteId', 'incidentId'],
    status: 200,
    response: Incident,
  },
  'POST /v1/sites/{siteId}/incidents/{incidentId}/acknowledge': {
    access: 'write',
    summary: 'Acknowledge an incident: its escalation stops, and everyone notified hears of it (again: no change)',
    params: ['siteId', 'incidentId'],
    status: 200,
    response: Incident,
  },
  'POST /v1/sites/{siteId}/incidents/{incidentId}/resolve': {
    access: 'write',
    summary: 'Resolve an incident, even while its condition lasts (a new raise opens a new one); again: no change',
    params: ['siteId', 'incidentId'],
    status: 200,
    response: Incident,
  },
  'GET /v1/reseller/service-queue': {
    access: 'read',
    summary: "The reseller's SQS service queue (every incident step) and its dead-letter queue",
    status: 200,
    response: ServiceQueue,
  },
  'GET /v1/links/{token}': {
    access: 'public',
    summary: 'A one-click link from an e-mail or SMS: a page that asks to confirm (mail scanners fetch links; this changes nothing)',
    params: ['token'],
    status: 200,
    alsoProduces: ['text/html'],
  },
  'POST /v1/links/{token}': {
    access: 'public',
    summary: "A one-click link confirmed: acknowledges or resolves the link's incident, and answers a page",
    params: ['token'],
    status: 200,
    alsoProduces: ['text/html'],
  },
  'GET /v1/reports/sla': {
    access: 'read',
    summary:
      'The SLA report of the period, observed up to now: availability, failovers, incidents, contract targets met or missed. ' +
      'json and csv trace each figure to its events; html and pdf are the customer’s report, in words and local times',
    query: ReportQuery,
    status: 200,
    alsoProduces: ['text/csv', 'text/html', 'application/pdf'],
  },
  'POST /v1/webhooks': {
    access: 'write',
    summary: 'Register a webhook endpoint; answers its whsec_ signing secret (shown only here and at rotation)',
    body: CreateEndpointRequest,
    status: 201,
    response: z.object({ endpoint: WebhookEndpoint, secret: EndpointSecret }),
  },
  'GET /v1/webhooks': {
    access: 'read',
    summary: "The reseller's webhook endpoints (never their secrets)",
    query: ListQuery,
    status: 200,
    response: page(WebhookEndpoint),
  },
  'GET /v1/webhooks/{endpointId}': {
    access: 'read',
    summary: 'A webhook endpoint',
    params: ['endpointId'],
    status: 200,
    response: WebhookEndpoint,
  },
  'PUT /v1/webhooks/{endpointId}': {
    access: 'write',
    summary: "Change an endpoint's URL, event types, template or state (enabling a disabled endpoint clears why it was disabled)",
    params: ['endpointId'],
    body: PutEndpointRequest,
    status: 200,
    response: WebhookEndpoint,
  },
  'DELETE /v1/webhooks/{endpointId}': {
    access: 'write',
    summary: 'Remove an endpoint: its pending messages are not sent',
    params: ['endpointId'],
    status: 204,
  },
  'POST /v1/webhooks/{endpointId}/rotate-secret': {
    access: 'write',
    summary: 'A new signing secret; the previous one keeps signing beside it for the overlap (default a day)',
    params: ['endpointId'],
    body: RotateSecretRequest,
    status: 200,
    response: EndpointSecret,
  },
  'GET /v1/webhooks/{endpointId}/messages': {
    access: 'read',
    summary: "The endpoint's messages, newest first, with their delivery state",
    params: ['endpointId'],
    query: MessagesQuery,
    status: 200,
    response: page(WebhookMessage),
  },
  'GET /v1/webhooks/{endpointId}/attempts': {
    access: 'read',
    summary: "The endpoint's delivery log, newest first: each try's time, status, latency and the response's first bytes",
    params: ['endpointId'],
    query: ListQuery,
    status: 200,
    response: page(DeliveryAttempt),
  },
  'POST /v1/webhooks/{endpointId}/messages/{messageId}/replay': {
    access: 'write',
    summary: 'Send a message again, with the same webhook-id, as a new round of tries',
    params: ['endpointId', 'messageId'],
    status: 200,
    response: WebhookMessage,
  },
  'POST /v1/webhooks/{endpointId}/replay': {
    access: 'write',
    summary: "Send again the endpoint's failed messages whose event came since a time, 200 a call (`more`: call again)",
    params: ['endpointId'],
    body: ReplaySinceRequest,
    status: 200,
    response: ReplayAnswer,
  },
  'POST /v1/webhooks/{endpointId}/test': {
    access: 'write',
    summary:
      'Send the endpoint a signed webhook.test event, whatever its eventTypes, through the real pipeline: a message in its messages, ' +
      'tried and retried as any (202, pending: follow it with GET …/messages and …/attempts)',
    params: ['endpointId'],
    status: 202,
    response: WebhookTestAccepted,
    refusals: {
      '409':
        'endpoint-disabled: the endpoint is disabled (nothing is sent to it); enable it with PUT /v1/webhooks/{endpointId} and "enabled": true, then test again',
      '503': 'unavailable: this deployment has no webhook deliveries queue',
    },
  },
  'POST /v1/integrations': {
    access: 'write',
    summary:
      'Register an inbound integration on a site; answers its URL and its credential, shown only here: ' +
      'a whsec_ secret (`"auth":"signature"`, the default) or a bearer token (`"auth":"bearer"`)',
    body: CreateIntegrationRequest,
    status: 201,
    response: IntegrationCreated,
  },
  'GET /v1/integrations': {
    access: 'read',
    summary: "The reseller's inbound integrations",
    query: ListQuery,
    status: 200,
    response: page(Integration),
  },
  'DELETE /v1/integrations/{integrationId}': {
    access: 'write',
    summary: 'Remove an inbound integration',
    params: ['integrationId'],
    status: 204,
  },
  'POST /v1/integrations/{integrationId}/rotate': {
    access: 'write',
    summary:
      "A new credential of the integration's kind (whsec_ secret or bearer token), shown only here; the old one stops working at once",
    params: ['integrationId'],
    status: 200,
    response: IntegrationCreated,
  },
  'POST /v1/hooks/{integrationId}': {
    access: 'public',
    summary:
      "An event from another tool, signed (Standard Webhooks) or with the integration's bearer token (`Authorization: Bearer tbh_…`, HTTPS only): " +
      'mapped by the integration to an alert raised or cleared on its site',
    params: ['integrationId'],
    rawBody: InboundHook,
    status: 200,
    response: HookAccepted,
    refusals: {
      '403': 'https-required: a bearer token came over plain HTTP (it was readable on the way: rotate it)',
    },
  },
  [nodeRouteKeys.enroll]: {
    access: 'public',
    summary:
      "An agent exchanges its enrollment code for its node token (once; the code's holder is the caller). " +
      "400 if `nodeId` is not the code's node: nothing is used up",
    body: EnrollRequest,
    status: 200,
    response: EnrollResponse,
  },
} as const satisfies Record<string, ApiRoute>;

export type ApiRouteKey = keyof typeof apiRoutes;

/** A signed one-click link (functions/adapters/incident-links.ts): base64url claims, a dot, a base64url HMAC-SHA256. */
export const LinkToken = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,700}\.[A-Za-z0-9_-]{43}$/, 'a link token'));

/**
 * A path parameter's schema: key and window ids are generated, incident ids name their kind and
 * time, link tokens are signed, the rest chosen by the reseller. Each is checked again by the
 * record it names: a value of another parameter's shape finds nothing.
 */
export const PathParam = z.union([Identifier, z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)), LinkToken]);

/** The Lambda functions that serve the reseller API (lib/bundling.ts names their entries). */
export type ApiFunctionName = 'api' | 'channels' | 'webhooks' | 'report';

/**
 * Which function serves which route: the one table the CDK stack (API Gateway's integrations and
 * each function's rights), the local server and the bundle benchmark read. The API splits where
 * the AWS services its routes need split, so that a function bundles, and may call, only those:
 * - `api`: the reseller's account, customers, sites, survivor mode, maintenance, trails, incidents
 *   and their one-click links, and node enrollment (the table only, and the token key);
 * - `channels`: the routes that make or use the resellers' SQS queues and SNS topics (a new
 *   reseller's channels, its service queue, escalation policies and their subscriptions);
 * - `webhooks`: webhook endpoints (their tries on the deliveries queue, addresses checked) and
 *   inbound integrations;
 * - `report`: the SLA report (the PDF library).
 */
export const apiFunctionRoutes = {
  api: [
    'GET /v1/resellers',
    'GET /v1/reseller',
    'PATCH /v1/reseller',
    'POST /v1/api-keys',
    'GET /v1/api-keys',
    'POST /v1/api-keys/{keyId}/rotate',
    'DELETE /v1/api-keys/{keyId}',
    'POST /v1/customers',
    'GET /v1/customers',
    'GET /v1/customers/{customerId}',
    'POST /v1/sites',
    'GET /v1/sites',
    'GET /v1/sites/{siteId}',
    'PUT /v1/sites/{siteId}/policy',
    'POST /v1/sites/{siteId}/nodes/{nodeId}/enrollment',
    'POST /v1/sites/{siteId}/nodes/{nodeId}/revoke',
    'POST /v1/sites/{siteId}/nodes/{nodeId}/force-primary',
    'POST /v1/sites/{siteId}/nodes/{nodeId}/readmit',
    'POST /v1/sites/{siteId}/maintenance',
    'GET /v1/sites/{siteId}/maintenance',
    'PATCH /v1/sites/{siteId}/maintenance/{windowId}',
    'DELETE /v1/sites/{siteId}/maintenance/{windowId}',
    'GET /v1/sites/{siteId}/events',
    'GET /v1/incidents',
    'GET /v1/sites/{siteId}/incidents/{incidentId}',
    'POST /v1/sites/{siteId}/incidents/{incidentId}/acknowledge',
    'POST /v1/sites/{siteId}/incidents/{incidentId}/resolve',
    'GET /v1/links/{token}',
    'POST /v1/links/{token}',
    nodeRouteKeys.enroll,
  ],
  channels: [
    'POST /v1/resellers',
    'GET /v1/reseller/service-queue',
    'GET /v1/escalation-policies',
    'PUT /v1/escalation-policy',
    'GET /v1/escalation-policy',
    'PUT /v1/customers/{customerId}/escalation-policy',
    'GET /v1/customers/{customerId}/escalation-policy',
    'DELETE /v1/customers/{customerId}/escalation-policy',
    'PUT /v1/sites/{siteId}/escalation-policy',
    'GET /v1/sites/{siteId}/escalation-policy',
    'DELETE /v1/sites/{siteId}/escalation-policy',
  ],
  webhooks: [
    'POST /v1/webhooks',
    'GET /v1/webhooks',
    'GET /v1/webhooks/{endpointId}',
    'PUT /v1/webhooks/{endpointId}',
    'DELETE /v1/webhooks/{endpointId}',
    'POST /v1/webhooks/{endpointId}/rotate-secret',
    'GET /v1/webhooks/{endpointId}/messages',
    'GET /v1/webhooks/{endpointId}/attempts',
    'POST /v1/webhooks/{endpointId}/messages/{messageId}/replay',
    'POST /v1/webhooks/{endpointId}/replay',
    'POST /v1/webhooks/{endpointId}/test',
    'POST /v1/integrations',
    'GET /v1/integrations',
    'DELETE /v1/integrations/{integrationId}',
    'POST /v1/integrations/{integrationId}/rotate',
    'POST /v1/hooks/{integrationId}',
  ],
  report: ['GET /v1/reports/sla'],
} as const satisfies Record<ApiFunctionName, readonly ApiRouteKey[]>;

/** The routes function F serves. */
export type RoutesOf<F extends ApiFunctionName> = (typeof apiFunctionRoutes)[F][number];

/** The function that serves a route. */
export function apiFunctionOf(route: ApiRouteKey): ApiFunctionName {
  const [name] = (Object.keys(apiFunctionRoutes) as ApiFunctionName[]).filter((f) =>
    (apiFunctionRoutes[f] as readonly ApiRouteKey[]).includes(route),
  );
  if (!name) throw new Error(`no function serves ${route}`);
  return name;
}
