import { InboundHook, type Integration, maxInboundHookBytes } from '../../../protocol/webhooks.ts';
import { verifyHook } from '../../adapters/hook-signature.ts';
import { hookToleranceMs, type IntegrationRecord, newIntegrationId, newIntegrationSecret } from '../../adapters/integration-store.ts';
import { logger } from '../../adapters/logger.ts';
import { iso } from '../../adapters/tenancy-items.ts';
import { withdraw } from '../../domain/incidents.ts';
import { HttpError } from '../http-error.ts';
import { parseJsonBytes } from '../middleware/json-body.ts';
import { type ApiCall, type ApiImplementations, notFound, param, resellerOf } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** Inbound integrations: their store, the incidents they raise or clear, and the URL their hooks are reached at. */
export type IntegrationRouteDeps = Pick<ApiDeps, 'integrations' | 'incidents' | 'publicUrl'>;

// Inbound integrations (DESIGN.md, "Webhooks"): another tool signs events with the integration's
// secret (Standard Webhooks) and posts them to the integration's URL; its mapping turns each type
// into an alert raised or cleared on the site. The URL's id and the signature are the credential.

const view = (record: IntegrationRecord): Integration => ({
  integrationId: record.integrationId,
  siteId: record.siteId,
  name: record.name,
  mapping: record.mapping,
  createdAt: iso(record.createdAt),
});

const hookPath = (integrationId: string) => `/v1/hooks/${integrationId}`;

const refusals = {
  'missing-headers': 'the webhook-id, webhook-timestamp and webhook-signature headers are required (Standard Webhooks)',
  'outside-window': 'the webhook-timestamp is more than 5 minutes from the server time',
  'bad-signature': "no webhook-signature matches the body signed with this integration's secret",
} as const;

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

/** Size, the integration, the signature (nothing is stored before it passes), the event, then one write. */
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

  const verdict = verifyHook(integration.secret, headers, body.toString('utf8'), call.now, hookToleranceMs);
  if (!verdict.ok) {
    logger.warn('inbound hook refused', { ...context, reason: verdict.reason });
    throw new HttpError(401, 'unauthorized', refusals[verdict.reason]);
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
  if (outcome === 'replayed') throw new HttpError(409, 'conflict', 'this webhook-id was already received');
  // Older news than the alert already has (hooks may arrive out of order) is accepted, and changes nothing.
  if (!action || outcome === 'stale') return { action: 'ignored' as const, alert: action?.alert ?? null };
  return { action: action.action === 'raise' ? ('raised' as const) : ('cleared' as const), alert: action.alert };
}

export const integrationRoutes = {
  'POST /v1/integrations': async (call) => {
    const resellerId = resellerOf(call);
    const stored = await call.deps.integrations.create({
      integrationId: newIntegrationId(),
      resellerId,
      ...call.body,
      secret: newIntegrationSecret(),
      createdAt: call.now,
    });
    if (!stored) throw notFound('the site');
    logger.info('integration created', {
      integrationId: stored.integrationId,
      siteId: stored.siteId,
      types: Object.keys(stored.mapping).length,
    });
    // Behind API Gateway the request's host is the API's own: the URL is whole without configuring it.
    const base = call.deps.publicUrl ?? (call.raw.headers.host ? `https://${call.raw.headers.host}` : '');
    const url = `${base.replace(/\/+$/, '')}${hookPath(stored.integrationId)}`;
    return { integration: view(stored), secret: stored.secret, url };
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
