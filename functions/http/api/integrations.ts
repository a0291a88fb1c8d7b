import { InboundHook, type Integration, maxInboundHookBytes } from '../../../protocol/webhooks.ts';
import { randomBytes } from 'node:crypto';
import { verifyBearer, verifyHook } from '../../adapters/hook-signature.ts';
import { hookToleranceMs, type IntegrationRecord, newCredential, newIntegrationId } from '../../adapters/integration-store.ts';
import { logger } from '../../adapters/logger.ts';
import { iso } from '../../adapters/tenancy-items.ts';
import { withdraw } from '../../domain/incidents.ts';
import { HttpError } from '../http-error.ts';
import { parseJsonBytes } from '../middleware/json-body.ts';
import { type ApiCall, type ApiImplementations, notFound, param, resellerOf } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** Inbound integrations: their store, the incidents they raise or clear, the URL their hooks are reached at, and whether bearer tokens may come over HTTP. */
export type IntegrationRouteDeps = Pick<ApiDeps, 'integrations' | 'incidents' | 'publicUrl' | 'allowHttpHooks'>;

// Inbound integrations (DESIGN.md, "Webhooks"): another tool signs events with the integration's
// secret (Standard Webhooks), or sends its bearer token, and posts them to the integration's URL;
// its mapping turns each type into an alert raised or cleared on the site. The URL's id and the
// signature (or the token) are the credential.

const view = (record: IntegrationRecord): Integration => ({
  integrationId: record.integrationId,
  siteId: record.siteId,
  name: record.name,
  mapping: record.mapping,
  auth: record.auth,
  createdAt: iso(record.createdAt),
});

const hookPath = (integrationId: string) => `/v1/hooks/${integrationId}`;

/** The hook URL: behind API Gateway the request's host is the API's own, so the URL is whole without configuring it. */
function hookUrl(
  call: { deps: IntegrationRouteDeps; raw: { headers: Readonly<Record<string, string | undefined>> } },
  integrationId: string,
) {
  const base = call.deps.publicUrl ?? (call.raw.headers.host ? `https://${call.raw.headers.host}` : '');
  return `${base.replace(/\/+$/, '')}${hookPath(integrationId)}`;
}

const refusals = {
  'missing-headers': 'the webhook-id, webhook-timestamp and webhook-signature headers are required (Standard Webhooks)',
  'outside-window': 'the webhook-timestamp is more than 5 minutes from the server time',
  'bad-signature': "no webhook-signature matches the body signed with this integration's secret",
  'missing-token': 'this integration takes its bearer token: an Authorization: Bearer tbh_… header is required',
  'bad-token': "the bearer token is not this integration's (rotated tokens stop working at once)",
} as const;

/**
 * What a hook says of itself once its credential passed: its id (what a replay is known by) and
 * its time (what orders the news of one alert). Signed: the webhook-id and webhook-timestamp.
 * Bearer: the sender's idempotency-key (or webhook-id) when it sends one, else an id of its own
 * (raising a raised alert, or clearing a clear one, changes nothing anyway), and the server's time.
 */
function authenticateHook(
  integration: IntegrationRecord,
  raw: { headers: Readonly<Record<string, string | undefined>>; body: Buffer },
  deps: IntegrationRouteDeps,
  now: number,
): { webhookId: string; at: number } | { refused: HttpError; reason: string } {
  if (integration.auth === 'signature') {
    const verdict = verifyHook(integration.secret, raw.headers, raw.body.toString('utf8'), now, hookToleranceMs);
    return verdict.ok ? verdict : { refused: new HttpError(401, 'unauthorized', refusals[verdict.reason]), reason: verdict.reason };
  }
  const verdict = verifyBearer(integration.tokenHash, raw.headers, { allowPlainHttp: deps.allowHttpHooks === true });
  if (verdict.ok) return { webhookId: verdict.key ?? `req_${randomBytes(16).toString('base64url')}`, at: now };
  switch (verdict.reason) {
    case 'plain-http':
      // Refused before the token is looked at: whatever it is, it crossed the wire readable.
      return {
        refused: new HttpError(
          403,
          'https-required',
          'bearer tokens are accepted over HTTPS only: this request came over plain HTTP, so its token was readable on the way (rotate it)',
        ),
        reason: verdict.reason,
      };
    case 'bad-key':
      return {
        refused: new HttpError(400, 'invalid-body', 'the idempotency-key header must be 1 to 200 printable ASCII characters, no spaces'),
        reason: verdict.reason,
      };
    default:
      return { refused: new HttpError(401, 'unauthorized', refusals[verdict.reason]), reason: verdict.reason };
  }
}

const summaryFields = ['summary', 'message', 'description', 'title'] as const;
const maxSummaryChars = 200;

/** A line for people, from the first text field the sender gave: control characters out, at most 200 characters. */
function summaryOf(data: Record<string, unknown> | undefined): string | undefined {
  const text = summaryFields
    .map((field) => (data && Object.hasOwn(data, field) ? data[field] : undefined))
    .find((v) => typeof v === 'string');
  if (typeof text !== 'string') return undefined;
  // Cut in UTF-16 units, and never in the middle of a surrogate pair.
  const line = text
    .replace(/\p{Cc}+/gu, ' ')
    .trim()
    .slice(0, maxSummaryChars)
    .replace(/[\uD800-\uDBFF]$/, '');
  return line === '' ? undefined : line;
}

/** Size, the integration, the signature or token (nothing is stored before it passes), the event, then one write. */
async function receiveHook(call: ApiCall<'POST /v1/hooks/{integrationId}', IntegrationRouteDeps>) {
  const { body, headers } = call.raw;
  if (body.length > maxInboundHookBytes) {
    throw new HttpError(
      413,
      'payload-too-large',
      `the body is ${String(body.length)} bytes; at most ${String(maxInboundHookBytes)} are accepted`,
    );
  }
  const integrationId = param(call, 'integrationId');
  const integration = await call.deps.integrations.getById(integrationId);
  if (!integration) throw notFound('the integration');
  const context = { integrationId, resellerId: integration.resellerId, siteId: integration.siteId };

  const verdict = authenticateHook(integration, { headers, body }, call.deps, call.now);
  if ('refused' in verdict) {
    logger.warn('inbound hook refused', { ...context, auth: integration.auth, reason: verdict.reason });
    throw verdict.refused;
  }
  const hook = parseJsonBytes(body, InboundHook);
  // Own keys only: a type named `constructor` is just an unmapped type.
  const action = Object.hasOwn(integration.mapping, hook.type) ? integration.mapping[hook.type] : undefined;
  const news = { webhookId: verdict.webhookId, at: verdict.at, type: hook.type, action, summary: summaryOf(hook.data) };
  const outcome = await call.deps.integrations.receive(integration, news, call.now);
  logger.info('inbound hook', {
    ...context,
    webhookId: verdict.webhookId,
    type: hook.type,
    action: action?.action ?? 'none',
    alert: action?.alert,
    outcome,
  });
  if (outcome === 'replayed') {
    const name = integration.auth === 'signature' ? 'webhook-id' : 'idempotency key';
    throw new HttpError(409, 'conflict', `this ${name} was already received`);
  }
  // Older news than the alert already has (hooks may arrive out of order) is accepted, and changes nothing.
  if (!action || outcome === 'stale') return { action: 'ignored' as const, alert: action?.alert ?? null };
  return { action: action.action === 'raise' ? ('raised' as const) : ('cleared' as const), alert: action.alert };
}

export const integrationRoutes = {
  'POST /v1/integrations': async (call) => {
    const resellerId = resellerOf(call);
    const { auth, ...fields } = call.body;
    const credential = newCredential(auth);
    const stored = await call.deps.integrations.create({
      integrationId: newIntegrationId(),
      resellerId,
      ...fields,
      ...credential.stored,
      createdAt: call.now,
    });
    if (!stored) throw notFound('the site');
    logger.info('integration created', {
      integrationId: stored.integrationId,
      siteId: stored.siteId,
      auth,
      types: Object.keys(stored.mapping).length,
    });
    return { integration: view(stored), url: hookUrl(call, stored.integrationId), ...credential.shown };
  },
  'POST /v1/integrations/{integrationId}/rotate': async (call) => {
    const resellerId = resellerOf(call);
    const integration = await call.deps.integrations.get(resellerId, param(call, 'integrationId'));
    if (!integration) throw notFound('the integration');
    // The old credential stops at once: a sender still using it is refused (401) until it has the new one.
    const credential = newCredential(integration.auth);
    if (!(await call.deps.integrations.rotate(resellerId, integration.integrationId, credential.stored))) throw notFound('the integration');
    logger.info('integration credential rotated', { integrationId: integration.integrationId, auth: integration.auth });
    return { integration: view(integration), url: hookUrl(call, integration.integrationId), ...credential.shown };
  },
  'GET /v1/integrations': async (call) => {
    const page = await call.deps.integrations.list(resellerOf(call), call.query);
    return { items: page.items.map(view), nextCursor: page.nextCursor };
  },
  'DELETE /v1/integrations/{integrationId}': async (call) => {
    const resellerId = resellerOf(call);
    const integrationId = param(call, 'integrationId');
    const integration = await call.deps.integrations.get(resellerId, integrationId);
    if (!integration) throw notFound('the integration');
    // Its alerts would stay raised forever (no hook can clear them now): withdrawn before the
    // removal, so that a failure here leaves it to be deleted again, and once more after it, for
    // a hook that raced the removal.
    const before = await call.deps.integrations.withdrawAlerts(integration, call.now);
    if (!(await call.deps.integrations.remove(resellerId, integrationId))) throw notFound('the integration');
    const withdrawn = [...before, ...(await call.deps.integrations.withdrawAlerts(integration, call.now))];
    // The incident only its alerts kept raised is resolved now, saying why (the stream tells its targets).
    const by = `integration-deleted:${integrationId}`;
    const site = { resellerId, siteId: integration.siteId, kind: 'alert.raised' as const };
    const { after, changed } = await call.deps.incidents.update(resellerId, integration.siteId, site.kind, (current) =>
      withdraw(current, site, withdrawn, call.now, by),
    );
    logger.info('integration removed', {
      integrationId,
      siteId: integration.siteId,
      alertsWithdrawn: withdrawn.length,
      incidentResolved: changed && after?.incident?.resolvedBy === by ? after.incident.incidentId : undefined,
    });
    return undefined;
  },
  'POST /v1/hooks/{integrationId}': receiveHook,
} satisfies Partial<ApiImplementations<IntegrationRouteDeps>>;
