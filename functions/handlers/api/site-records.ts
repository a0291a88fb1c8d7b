import { newId } from '../../adapters/credentials.ts';
import { maintenanceView } from '../../adapters/site-admin-store.ts';
import { logger } from '../../adapters/logger.ts';
import { HttpError } from '../http-error.ts';
import { type AnyCall, type ApiImplementations, notFound, param, resellerOf } from './call.ts';

/** 404 unless the caller's reseller has this site: records are keyed by reseller, but say so plainly. */
async function ownSiteId(call: AnyCall) {
  const resellerId = resellerOf(call);
  const siteId = param(call, 'siteId');
  if (!(await call.deps.sites.getListing(resellerId, siteId))) throw notFound('the site');
  return { resellerId, siteId };
}

export const siteRecordRoutes = {
  'POST /v1/sites/{siteId}/maintenance': async (call) => {
    const { resellerId, siteId } = await ownSiteId(call);
    const window = { windowId: newId(), start: Date.parse(call.body.start), end: Date.parse(call.body.end), reason: call.body.reason };
    await call.deps.sites.putMaintenance(resellerId, siteId, window);
    logger.info('maintenance window declared', { siteId, windowId: window.windowId, start: call.body.start, end: call.body.end });
    return maintenanceView(window);
  },

  'GET /v1/sites/{siteId}/maintenance': async (call) => {
    const { resellerId, siteId } = await ownSiteId(call);
    const page = await call.deps.sites.listMaintenance(resellerId, siteId, call.query);
    return { items: page.items.map(maintenanceView), nextCursor: page.nextCursor };
  },

  'DELETE /v1/sites/{siteId}/maintenance/{windowId}': async (call) => {
    const { resellerId, siteId } = await ownSiteId(call);
    if (!(await call.deps.sites.deleteMaintenance(resellerId, siteId, param(call, 'windowId')))) throw notFound('the maintenance window');
    logger.info('maintenance window cancelled', { siteId, windowId: param(call, 'windowId') });
    return undefined;
  },

  'GET /v1/sites/{siteId}/events': async (call) => {
    const { resellerId, siteId } = await ownSiteId(call);
    const { from, to, ...page } = call.query;
    const start = from ? Date.parse(from) : 0;
    const end = to ? Date.parse(to) : call.now + 1;
    if (from && to && start > end) throw new HttpError(400, 'invalid-body', 'from is after to', [{ path: 'query.from', message: 'after to' }]);
    if (start > end) return { items: [], nextCursor: null };
    return call.deps.trail.listEvents(resellerId, siteId, page, start, end, call.now);
  },
} satisfies Partial<ApiImplementations>;
