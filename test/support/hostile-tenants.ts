/**
 * Shared by the tenant-isolation and hostile-input tests: a tenant with one of everything (so
 * that every route's path parameters can name a real record of it), a valid request per route
 * (fixtures keyed by route key: a route without one fails those tests), and a raw HTTP client
 * that sends exactly the bytes, method, path and headers it is given.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { defaultLinkTtlMs, signIncidentLink } from '../../functions/adapters/incident-links.ts';
import { messageIdOf } from '../../functions/adapters/webhook-message-store.ts';
import { applyChange, defaultPolicy } from '../../functions/domain/incidents.ts';
import { type Access, type ApiRouteKey, apiRoutes } from '../../protocol/api-routes.ts';
import { type NodeRouteKey, nodeRoutes } from '../../protocol/node-routes.ts';
import { setUpReseller, type TestApi } from './api.ts';
import { beat } from './beats.ts';

/** A reseller with a customer, a site (one node enrolled, one open incident), a maintenance window and keys of every kind. */
export interface Tenant {
  resellerId: string;
  /** The read-write key setUpReseller made, and its id. */
  rwKey: string;
  rwKeyId: string;
  roKey: string;
  roKeyId: string;
  /** Revoked with DELETE /v1/api-keys/{keyId}. */
  revokedKey: string;
  revokedKeyId: string;
  /** Ids only this tenant has (setUpReseller's `dental` and `main-office` exist in every tenant). */
  customerId: string;
  siteId: string;
  /** Enrolled: `nodeToken` is its token. */
  nodeId: string;
  nodeToken: string;
  /** The site's other node, not enrolled; `spareCode` is its unused enrollment code (`enterSurvivorMode` uses it). */
  otherNodeId: string;
  spareCode: string;
  windowId: string;
  /** The site's open incident (`node.lost` of `nodeId`), and a one-click link to acknowledge it. */
  incidentId: string;
  link: string;
  /** The same link signed with a key of no one's. */
  forgedLink: string;
  /** An inbound integration on the site, and the secret its hooks are signed with. */
  integrationId: string;
  integrationSecret: string;
  /** A webhook endpoint of the tenant's (at a loopback address nobody listens on), and one message for it. */
  endpointId: string;
  messageId: string;
}

async function expectStatus<T>(api: TestApi, status: number, method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const answer = await api.call(method, path, token, body);
  if (answer.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${answer.status} ${answer.text}`);
  return answer.body as T;
}

/** Sets up a tenant through the API itself; its own ids all start with `id`. */
export async function setUpTenant(api: TestApi, id: string): Promise<Tenant> {
  const { resellerId, key: rwKey } = await setUpReseller(api, id);
  const keys = await expectStatus<{ items: { keyId: string }[] }>(api, 200, 'GET', '/v1/api-keys', rwKey);
  const rwKeyId = keys.items[0]!.keyId;
  const customerId = `${id}-clinic`;
  const siteId = `${id}-site`;
  const nodeId = `${id}-n1`;
  const otherNodeId = `${id}-n2`;
  await expectStatus(api, 201, 'POST', '/v1/customers', rwKey, { customerId, name: `Clinic of ${id}` });
  const site = await expectStatus<{ enrollment: { nodeId: string; code: string }[] }>(api, 201, 'POST', '/v1/sites', rwKey, {
    siteId,
    customerId,
    name: `Site of ${id}`,
    nodeIds: [nodeId, otherNodeId],
  });
  const code = (node: string) => site.enrollment.find((e) => e.nodeId === node)!.code;
  const { token: nodeToken } = await expectStatus<{ token: string }>(api, 200, 'POST', '/v1/node/enroll', undefined, {
    code: code(nodeId),
    nodeId,
  });
  await expectStatus(api, 200, 'POST', '/v1/node/heartbeat', nodeToken, {
    incarnation: 1,
    seq: 1,
    epoch: 0,
    role: 'secondary',
    peer: { reachable: true },
  });
  const { windowId } = await expectStatus<{ windowId: string }>(api, 201, 'POST', `/v1/sites/${siteId}/maintenance`, rwKey, {
    start: '2027-03-01T20:00:00Z',
    end: '2027-03-01T23:00:00Z',
    reason: `maintenance of ${id}`,
  });
  const ro = await expectStatus<{ keyId: string; secret: string }>(api, 201, 'POST', '/v1/api-keys', rwKey, {
    name: 'dashboard',
    scope: 'read-only',
  });
  const revoked = await expectStatus<{ keyId: string; secret: string }>(api, 201, 'POST', '/v1/api-keys', rwKey, {
    name: 'old',
    scope: 'read-write',
  });
  await expectStatus(api, 200, 'DELETE', `/v1/api-keys/${revoked.keyId}`, rwKey);
  const incidentId = await openIncident(api, { resellerId, siteId }, nodeId, api.clock.now() - 60_000);
  const link = { resellerId, siteId, incidentId, action: 'acknowledge', expiresAt: api.clock.now() + defaultLinkTtlMs } as const;
  const integration = await expectStatus<{ integration: { integrationId: string }; secret: string }>(
    api,
    201,
    'POST',
    '/v1/integrations',
    rwKey,
    {
      siteId,
      name: `UPS of ${id}`,
      mapping: upsMapping,
    },
  );
  const endpointId = `${id}-hook`;
  await expectStatus(api, 201, 'POST', '/v1/webhooks', rwKey, { endpointId, url: 'http://127.0.0.1:9/hook', eventTypes: ['node.lost'] });
  const messageId = messageIdOf(`${id}-event`, endpointId, api.clock.now());
  const message = {
    resellerId,
    endpointId,
    messageId,
    eventId: `${id}-event`,
    eventType: 'node.lost',
    siteId,
    payload: '{}',
    createdAt: api.clock.now(),
  } as const;
  await api.api.webhookMessages.addMessage(message, 'failed');
  return {
    resellerId,
    rwKey,
    rwKeyId,
    roKey: ro.secret,
    roKeyId: ro.keyId,
    revokedKey: revoked.secret,
    revokedKeyId: revoked.keyId,
    customerId,
    siteId,
    nodeId,
    nodeToken,
    otherNodeId,
    spareCode: code(otherNodeId),
    windowId,
    incidentId,
    link: signIncidentLink(api.api.tokenKey, link),
    forgedLink: signIncidentLink(randomBytes(32), link),
    integrationId: integration.integration.integrationId,
    integrationSecret: integration.secret,
    endpointId,
    messageId,
  };
}

/**
 * Opens a `node.lost` incident of `nodeId` at the site, as the event pipeline would (the API does
 * not run it): the pure rule through the incident store. Answers the incident's id.
 */
export async function openIncident(
  api: TestApi,
  site: { resellerId: string; siteId: string },
  nodeId: string,
  at: number,
): Promise<string> {
  const change = { kind: 'node.lost', subject: nodeId, phase: 'raised', at } as const;
  const context = { eventId: `lost-${nodeId}-${at}`, inMaintenance: false, policy: defaultPolicy };
  const { after } = await api.api.incidents.update(
    site.resellerId,
    site.siteId,
    'node.lost',
    (current) => applyChange(current, site, change, context).tracker,
  );
  const incidentId = after?.incident?.incidentId;
  if (!incidentId) throw new Error(`no incident opened at ${site.siteId}`);
  return incidentId;
}

/** A key of the tenant's shape (reseller id, key id) with a secret that is not its own. */
export function wrongSecretKey(tenant: Tenant): string {
  return `tbk.${tenant.resellerId}.${tenant.rwKeyId}.${randomBytes(32).toString('base64url')}`;
}

/** A path parameter names the tenant's record of that kind; a route with another parameter fails the test. */
export function paramValue(tenant: Tenant, name: string): string {
  const values: Record<string, string> = {
    siteId: tenant.siteId,
    customerId: tenant.customerId,
    keyId: tenant.roKeyId,
    windowId: tenant.windowId,
    nodeId: tenant.nodeId,
    incidentId: tenant.incidentId,
    token: tenant.link,
    integrationId: tenant.integrationId,
    endpointId: tenant.endpointId,
    messageId: tenant.messageId,
  };
  const value = values[name];
  if (value === undefined)
    throw new Error(`no tenant record for the path parameter {${name}}: add it to paramValue in test/support/hostile-tenants.ts`);
  return value;
}

export interface RouteFixture {
  /** A body the route's schema accepts, for this tenant. */
  body?: (tenant: Tenant) => unknown;
  /** Query parameters the route's schema accepts, for this tenant. */
  query?: (tenant: Tenant) => Record<string, string>;
  /**
   * Records the route reads or removes, which setUpTenant does not make: calls made with the
   * tenant's read-write key (see `prepareTenant`) before its owner's call, and in the tests'
   * tenants so that there is something of theirs to try to reach.
   */
  prepare?: (tenant: Tenant) => { method: string; path: string; body?: unknown }[];
  /**
   * Public routes, whose credential is in the request: the request with one nobody issued (path
   * parameters and body instead of the valid ones), refused with a 401 whatever else is presented.
   */
  forged?: (tenant: Tenant) => { params?: Record<string, string>; body?: unknown };
  /** Headers the owner's request needs besides its credential (a signed hook's signature over `body`, at the server's `now`). */
  headers?: (tenant: Tenant, now: number) => Record<string, string>;
  /**
   * State the route needs that no reseller API call can make (a site in survivor mode: the nodes'
   * own requests, with the clock moved): made by `prepareTenant` before `prepare`'s calls. Once
   * per tenant, however many routes ask for it.
   */
  setUp?: (api: TestApi, tenant: Tenant) => Promise<void>;
}

const survivorSites = new WeakSet<Tenant>();

/**
 * Puts the tenant's site in survivor mode, through the node protocol as agents would: the other
 * node enrolls (with `spareCode`, which is then used), is granted the lease, and reports its peer
 * unreachable; `nodeId`, last heard at `setUpTenant` reporting its peer reachable (the slow
 * cadence), is excluded once unheard for `exclusionMs` beyond that cadence. The clock moves on by
 * that much. Afterwards `otherNodeId` is the survivor (primary at epoch 1, standalone lease) and
 * `nodeId` is excluded: force-primary and readmit name it.
 */
export async function enterSurvivorMode(api: TestApi, tenant: Tenant): Promise<void> {
  if (survivorSites.has(tenant)) return;
  const { token } = await expectStatus<{ token: string }>(api, 200, 'POST', '/v1/node/enroll', undefined, {
    code: tenant.spareCode,
    nodeId: tenant.otherNodeId,
  });
  await expectStatus(api, 200, 'POST', '/v1/node/heartbeat', token, beat(1, 0, 'secondary', true));
  const claim = await expectStatus<{ granted: boolean; epoch: number }>(api, 200, 'POST', '/v1/node/claim', token, {
    incarnation: 1,
    seq: 2,
    epoch: 0,
    reason: 'startup',
  });
  if (!claim.granted) throw new Error(`survivor mode at ${tenant.siteId}: ${tenant.otherNodeId}'s claim was refused`);
  await expectStatus(
    api,
    200,
    'POST',
    '/v1/node/heartbeat',
    token,
    beat(3, claim.epoch, 'primary', false, [`${claim.epoch}-promote-${tenant.otherNodeId}`]),
  );
  api.clock.advance(api.api.settings.exclusionMs + api.api.settings.slowHeartbeatMs + 1);
  const renewed = await expectStatus<{ standalone: unknown }>(
    api,
    200,
    'POST',
    '/v1/node/heartbeat',
    token,
    beat(4, claim.epoch, 'primary', false),
  );
  if (!renewed.standalone) throw new Error(`survivor mode at ${tenant.siteId}: ${tenant.nodeId} was not excluded`);
  survivorSites.add(tenant);
}

/** Survivor mode, and then the survivor silent for a slow heartbeat and the exclusion time: a force's confirmation is not refuted by what the witness hears. */
async function enterSurvivorModeSurvivorSilent(api: TestApi, tenant: Tenant): Promise<void> {
  await enterSurvivorMode(api, tenant);
  api.clock.advance(api.api.settings.slowHeartbeatMs + api.api.settings.exclusionMs);
}

/** An enrollment code of the right shape that no site issued. */
export const unknownEnrollmentCode = `tbe-${'a'.repeat(32)}`;

const escalationPolicy = {
  levels: [
    { afterMs: 0, targets: [{ type: 'service-queue' }, { type: 'email', address: 'noc@example.com' }] },
    {
      afterMs: 900_000,
      targets: [
        { type: 'sms', phoneNumber: '+14155550100' },
        { type: 'webhook', endpointId: 'ep-1' },
      ],
    },
  ],
  repeatLast: { times: 3, everyMs: 600_000 },
};
const resellerPolicy = () => [{ method: 'PUT', path: '/v1/escalation-policy', body: escalationPolicy }];
const customerPolicy = (t: Tenant) => [{ method: 'PUT', path: `/v1/customers/${t.customerId}/escalation-policy`, body: escalationPolicy }];
const sitePolicy = (t: Tenant) => [{ method: 'PUT', path: `/v1/sites/${t.siteId}/escalation-policy`, body: escalationPolicy }];

const upsMapping = {
  'ups.on-battery': { action: 'raise', alert: 'ups-power', severity: 'warning' },
  'ups.on-mains': { action: 'clear', alert: 'ups-power' },
};
const upsHook = { type: 'ups.on-battery', data: { summary: 'on battery' } };
/** Standard Webhooks headers over the hook's JSON text (what `TestApi.call` sends), signed with the tenant's integration secret. */
function signedUpsHook(tenant: Tenant, now: number): Record<string, string> {
  const id = `msg_${randomBytes(8).toString('hex')}`;
  const at = new Date(now);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now / 1000)),
    'webhook-signature': new Webhook(tenant.integrationSecret).sign(id, at, JSON.stringify(upsHook)),
  };
}

/**
 * A valid request per route: a refused attempt with it is refused for its credential, never for
 * its body. Every route of protocol/api-routes.ts needs one (a missing one is a type error and a
 * failing test).
 */
export const routeFixtures = {
  'POST /v1/resellers': {
    body: (t) => ({
      resellerId: `${t.resellerId}-new`,
      name: 'New reseller',
      targets: { availability: 0.99, timeToAcknowledgeMs: 600_000 },
    }),
  },
  'GET /v1/resellers': { query: () => ({ limit: '10' }) },
  'GET /v1/reseller': {},
  'PATCH /v1/reseller': { body: () => ({ name: 'Renamed reseller', targets: { availability: 0.995, timeToAcknowledgeMs: 60_000 } }) },
  'POST /v1/api-keys': { body: () => ({ name: 'ci', scope: 'read-write' }) },
  'GET /v1/api-keys': { query: () => ({ limit: '10' }) },
  'POST /v1/api-keys/{keyId}/rotate': {},
  'DELETE /v1/api-keys/{keyId}': {},
  'POST /v1/customers': { body: () => ({ customerId: 'fresh-customer', name: 'Fresh customer' }) },
  'GET /v1/customers': { query: () => ({ limit: '10' }) },
  'GET /v1/customers/{customerId}': {},
  'POST /v1/sites': {
    // The tenant's own customer: another reseller's key must not be able to use it.
    body: (t) => ({
      siteId: 'fresh-site',
      customerId: t.customerId,
      name: 'Fresh site',
      nodeIds: ['fresh-1', 'fresh-2'],
      policy: { tieBreak: 'preferred-node', preferredNode: 'fresh-1', healthThreshold: 50 },
    }),
  },
  'GET /v1/sites': { query: () => ({ limit: '10' }) },
  'GET /v1/sites/{siteId}': {},
  'PUT /v1/sites/{siteId}/policy': { body: () => ({ tieBreak: 'health-weighted', preferredNode: null, healthThreshold: 60 }) },
  'POST /v1/sites/{siteId}/nodes/{nodeId}/enrollment': {},
  'POST /v1/sites/{siteId}/nodes/{nodeId}/revoke': {},
  // The tenant's site in survivor mode, `nodeId` excluded: the owner's call succeeds.
  'POST /v1/sites/{siteId}/nodes/{nodeId}/force-primary': {
    body: (t) => ({ confirm: `${t.otherNodeId} is powered off`, reason: 'its power supply failed; checked on site by the technician' }),
    setUp: enterSurvivorModeSurvivorSilent,
  },
  'POST /v1/sites/{siteId}/nodes/{nodeId}/readmit': { setUp: enterSurvivorMode },
  'POST /v1/sites/{siteId}/maintenance': {
    body: () => ({ start: '2027-02-01T20:00:00Z', end: '2027-02-01T22:00:00Z', reason: 'firmware update' }),
  },
  'GET /v1/sites/{siteId}/maintenance': { query: () => ({ limit: '10' }) },
  // The tenant's window (2027-03-01, 20:00 to 23:00) has not started: it may be resized.
  'PATCH /v1/sites/{siteId}/maintenance/{windowId}': { body: () => ({ end: '2027-03-01T22:00:00Z', reason: 'firmware update, shorter' }) },
  'DELETE /v1/sites/{siteId}/maintenance/{windowId}': {},
  'GET /v1/sites/{siteId}/events': { query: () => ({ from: '2026-01-01T00:00:00Z', limit: '10' }) },
  'GET /v1/escalation-policies': {
    query: () => ({ limit: '10' }),
    prepare: (t) => [...resellerPolicy(), ...customerPolicy(t), ...sitePolicy(t)],
  },
  'PUT /v1/escalation-policy': { body: () => escalationPolicy },
  'GET /v1/escalation-policy': { prepare: resellerPolicy },
  'PUT /v1/customers/{customerId}/escalation-policy': { body: () => escalationPolicy },
  'GET /v1/customers/{customerId}/escalation-policy': { prepare: customerPolicy },
  'DELETE /v1/customers/{customerId}/escalation-policy': { prepare: customerPolicy },
  'PUT /v1/sites/{siteId}/escalation-policy': { body: () => escalationPolicy },
  'GET /v1/sites/{siteId}/escalation-policy': { prepare: sitePolicy },
  'DELETE /v1/sites/{siteId}/escalation-policy': { prepare: sitePolicy },
  'GET /v1/incidents': { query: () => ({ limit: '10', state: 'unresolved' }) },
  'GET /v1/sites/{siteId}/incidents/{incidentId}': {},
  'POST /v1/sites/{siteId}/incidents/{incidentId}/acknowledge': {},
  'POST /v1/sites/{siteId}/incidents/{incidentId}/resolve': {},
  'GET /v1/reseller/service-queue': {},
  'GET /v1/links/{token}': { forged: (t) => ({ params: { token: t.forgedLink } }) },
  'POST /v1/links/{token}': { forged: (t) => ({ params: { token: t.forgedLink } }) },
  'GET /v1/reports/sla': { query: (t) => ({ from: '2026-12-01', to: '2027-01-01', format: 'json', siteId: t.siteId }) },
  // The tenant's own site: another reseller's key must not be able to put an integration on it.
  'POST /v1/webhooks': {
    body: () => ({ endpointId: 'second', url: 'http://127.0.0.1:9/second', eventTypes: ['site.down'], template: 'slack' }),
  },
  'GET /v1/webhooks': { query: () => ({ limit: '10' }) },
  'GET /v1/webhooks/{endpointId}': {},
  'PUT /v1/webhooks/{endpointId}': { body: () => ({ url: 'http://127.0.0.1:9/changed', eventTypes: ['node.lost', 'site.down'] }) },
  'DELETE /v1/webhooks/{endpointId}': {},
  'POST /v1/webhooks/{endpointId}/rotate-secret': { body: () => ({ overlapSeconds: 60 }) },
  'GET /v1/webhooks/{endpointId}/messages': { query: () => ({ limit: '10', status: 'failed' }) },
  'GET /v1/webhooks/{endpointId}/attempts': { query: () => ({ limit: '10' }) },
  'POST /v1/webhooks/{endpointId}/messages/{messageId}/replay': {},
  'POST /v1/webhooks/{endpointId}/replay': { body: () => ({ since: '2026-01-01T00:00:00Z' }) },
  // The tenant's endpoint is enabled: its owner's test is accepted (202) and scheduled on the API's deliveries queue.
  'POST /v1/webhooks/{endpointId}/test': {},
  'POST /v1/integrations': { body: (t) => ({ siteId: t.siteId, name: 'RMM', mapping: upsMapping }) },
  'GET /v1/integrations': { query: () => ({ limit: '10' }) },
  'DELETE /v1/integrations/{integrationId}': {},
  'POST /v1/integrations/{integrationId}/rotate': {},
  // The integration's id and the signature are the credential: the same body unsigned is refused.
  'POST /v1/hooks/{integrationId}': { body: () => upsHook, headers: signedUpsHook, forged: () => ({ body: upsHook }) },
  // The unused code of the tenant's other node: only the positive control may use it.
  'POST /v1/node/enroll': {
    body: (t) => ({ code: t.spareCode, nodeId: t.otherNodeId }),
    forged: (t) => ({ body: { code: unknownEnrollmentCode, nodeId: t.otherNodeId } }),
  },
  'POST /v1/node/heartbeat': {
    body: () => ({
      incarnation: 2,
      seq: 1,
      epoch: 0,
      role: 'secondary',
      peer: { reachable: true, lastContactMs: 420 },
      health: { score: 90, checks: { disk: 'ok', raid: 'warn' } },
      acks: ['cmd-1'],
      workloads: [{ id: 'vm-erp', state: 'running' }],
    }),
  },
  'POST /v1/node/claim': { body: () => ({ incarnation: 2, seq: 2, epoch: 0, reason: 'startup' }) },
  'POST /v1/node/maintenance': { body: () => ({ minutes: 30, reason: 'replacing a disk' }) },
} satisfies Record<ApiRouteKey | NodeRouteKey, RouteFixture> as Record<string, RouteFixture | undefined>;

/** Makes the state every fixture's `setUp` and the records its `prepare` asks for (or only those of `routeKeys`), the latter with the tenant's read-write key. */
export async function prepareTenant(
  api: TestApi,
  tenant: Tenant,
  routeKeys: readonly string[] = Object.keys(routeFixtures),
): Promise<void> {
  for (const key of routeKeys) {
    await routeFixtures[key]?.setUp?.(api, tenant);
    for (const call of routeFixtures[key]?.prepare?.(tenant) ?? []) {
      const answer = await api.call(call.method, call.path, tenant.rwKey, call.body);
      if (answer.status >= 300) throw new Error(`preparing ${key}: ${call.method} ${call.path} answered ${answer.status} ${answer.text}`);
    }
  }
}

export interface Target {
  key: string;
  method: string;
  template: string;
  access: Access | 'node';
  params: readonly string[];
  body?: { safeParse(value: unknown): { success: boolean } };
  query?: { safeParse(value: unknown): { success: boolean } };
  status: number;
}

/** Every route: the reseller API's table, then the node protocol's (protocol/node-routes.ts). */
export function allTargets(): Target[] {
  const api = Object.entries(apiRoutes).map(([key, route]): Target => {
    const [method = '', template = ''] = key.split(' ');
    return {
      key,
      method,
      template,
      access: route.access,
      params: 'params' in route ? route.params : [],
      ...('body' in route ? { body: route.body } : {}),
      ...('query' in route ? { query: route.query } : {}),
      status: route.status,
    };
  });
  const node = Object.entries(nodeRoutes).map(([key, route]): Target => {
    const [method = '', template = ''] = key.split(' ');
    return { key, method, template, access: 'node', params: [], body: route.body, status: 200 };
  });
  return [...api, ...node];
}

/** The route's path with each `{param}` replaced by `values(param)` (percent-encoded unless `raw`). */
export function fillPath(template: string, values: (name: string) => string, raw = false): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => (raw ? values(name) : encodeURIComponent(values(name))));
}

export interface RawRequest {
  method: string;
  /** Sent as it is: path and query string. */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export interface RawAnswer {
  status: number;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  contentType: string | undefined;
}

/** Keep-alive connections for the raw client; `destroy()` it after the tests. */
export function rawAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 16 });
}

/** One request with exactly the given method, path, headers and bytes (no normalisation, no JSON encoding). */
export function rawRequest(baseUrl: string, agent: Agent, req: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : Buffer.from(req.body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        agent,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers },
        timeout: 20_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? (JSON.parse(text) as unknown) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, text, json, contentType: response.headers['content-type'] });
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${req.method} ${req.path}: no answer in 20 s`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
