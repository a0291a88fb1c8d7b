import type { MaintenanceAuthor } from '../../../protocol/reseller.ts';
import { newId } from '../../adapters/credentials.ts';
import { maintenanceView } from '../../adapters/site-admin-store.ts';
import { logger } from '../../adapters/logger.ts';
import { iso } from '../../adapters/tenancy-items.ts';
import { decideCancel, decideChange, type MaintenanceRefusal, startInPast } from '../../domain/maintenance.ts';
import { HttpError } from '../http-error.ts';
import { type AnyCall, type ApiImplementations, notFound, param, resellerOf } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** Maintenance windows and the audit trail of a site. */
export type SiteRecordRouteDeps = Pick<ApiDeps, 'sites' | 'trail'>;

/** 404 unless the caller's reseller has this site: records are keyed by reseller, but say so plainly. */
async function ownSiteId(call: AnyCall<SiteRecordRouteDeps>) {
  const resellerId = resellerOf(call);
  const siteId = param(call, 'siteId');
  if (!(await call.deps.sites.getListing(resellerId, siteId))) throw notFound('the site');
  return { resellerId, siteId };
}

/** Who is declaring or changing a window: the caller's API key (the operator's key has none). */
function authorOf(call: AnyCall<SiteRecordRouteDeps>): MaintenanceAuthor {
  return call.caller.kind === 'reseller' ? { kind: 'api-key', keyId: call.caller.keyId } : { kind: 'admin' };
}

function refusal(refused: MaintenanceRefusal): HttpError {
  return new HttpError(
    refused.status,
    refused.code,
    refused.message,
    refused.path ? [{ path: refused.path, message: refused.message }] : undefined,
  );
}

const changedMeanwhile = () => new HttpError(409, 'conflict', 'the window changed meanwhile; read it again');

/** The site's window named in the path, with the site's ids; 404 for either unknown. */
async function ownWindow(call: AnyCall<SiteRecordRouteDeps>) {
  const site = await ownSiteId(call);
  const window = await call.deps.sites.getMaintenance(site.resellerId, site.siteId, param(call, 'windowId'));
  if (!window) throw notFound('the maintenance window');
  return { ...site, window };
}

export const siteRecordRoutes = {
  'POST /v1/sites/{siteId}/maintenance': async (call) => {
    const { resellerId, siteId } = await ownSiteId(call);
    const start = Date.parse(call.body.start);
    const past = startInPast(start, call.now);
    if (past) throw refusal(past);
    const end = Date.parse(call.body.end);
    const window = { windowId: newId(), start, end, reason: call.body.reason, declaredAt: call.now, declaredBy: authorOf(call) };
    await call.deps.sites.putMaintenance(resellerId, siteId, window, call.now);
    logger.info('maintenance window declared', {
      siteId,
      windowId: window.windowId,
      start: call.body.start,
      end: call.body.end,
      declaredBy: window.declaredBy,
    });
    return maintenanceView(window);
  },

  'GET /v1/sites/{siteId}/maintenance': async (call) => {
    const { resellerId, siteId } = await ownSiteId(call);
    const page = await call.deps.sites.listMaintenance(resellerId, siteId, call.query);
    return { items: page.items.map(maintenanceView), nextCursor: page.nextCursor };
  },

  'PATCH /v1/sites/{siteId}/maintenance/{windowId}': async (call) => {
    const { resellerId, siteId, window } = await ownWindow(call);
    const ms = (at: string | undefined) => (at === undefined ? undefined : Date.parse(at));
    const decision = decideChange(window, { start: ms(call.body.start), end: ms(call.body.end), reason: call.body.reason }, call.now);
    if (decision.kind === 'refuse') throw refusal(decision.refusal);
    const next = { ...window, ...decision.next, changedAt: call.now, changedBy: authorOf(call) };
    if (!(await call.deps.sites.changeMaintenance(resellerId, siteId, window, next, call.now))) throw changedMeanwhile();
    logger.info('maintenance window changed', {
      siteId,
      windowId: window.windowId,
      from: { start: iso(window.start), end: iso(window.end) },
      to: { start: iso(next.start), end: iso(next.end) },
      reasonChanged: next.reason !== window.reason,
      changedBy: next.changedBy,
    });
    return maintenanceView(next);
  },

  'DELETE /v1/sites/{siteId}/maintenance/{windowId}': async (call) => {
    const { resellerId, siteId, window } = await ownWindow(call);
    const decision = decideCancel(window, call.now);
    if (decision.kind === 'refuse') throw refusal(decision.refusal);
    if (decision.kind === 'delete') {
      if (!(await call.deps.sites.deleteMaintenance(resellerId, siteId, window, call.now))) throw changedMeanwhile();
      logger.info('maintenance window cancelled', { siteId, windowId: window.windowId });
      return undefined;
    }
    // Running: the time it covered is in the record now; it ends instead of vanishing.
    const next = { ...window, end: decision.end, changedAt: call.now, changedBy: authorOf(call) };
    if (!(await call.deps.sites.changeMaintenance(resellerId, siteId, window, next, call.now))) throw changedMeanwhile();
    logger.info('maintenance window ended early: it had started, so it stays in the record', {
      siteId,
      windowId: window.windowId,
      start: iso(window.start),
      plannedEnd: iso(window.end),
      end: iso(next.end),
      changedBy: next.changedBy,
    });
    return undefined;
  },

  'GET /v1/sites/{siteId}/events': async (call) => {
    const { resellerId, siteId } = await ownSiteId(call);
    const { from, to, ...page } = call.query;
    const start = from ? Date.parse(from) : 0;
    const end = to ? Date.parse(to) : call.now + 1;
    if (from && to && start > end)
      throw new HttpError(400, 'invalid-body', 'from is after to', [{ path: 'query.from', message: 'after to' }]);
    if (start > end) return { items: [], nextCursor: null };
    return call.deps.trail.listEvents(resellerId, siteId, page, start, end, call.now);
  },
} satisfies Partial<ApiImplementations<SiteRecordRouteDeps>>;
