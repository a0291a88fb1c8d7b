import type { Incident } from '../../../protocol/incidents.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';
import { incidentView } from '../../adapters/incident-store.ts';
import { logger } from '../../adapters/logger.ts';
import { acknowledge, type ActionRefusal, kindOfIncidentId, resolve } from '../../domain/incidents.ts';
import { HttpError } from '../http-error.ts';
import { type AnyCall, type ApiImplementations, notFound, param, resellerOf } from './call.ts';

/** Incidents: their trackers only. */
export type IncidentRouteDeps = Pick<ApiDeps, 'incidents'>;

export type IncidentAction = 'acknowledge' | 'resolve';

const actions = { acknowledge, resolve } as const;

/**
 * Acknowledges or resolves an incident by its site and id, for the reseller the caller proved to
 * be: one conditional write of the pure step (the table's stream tells everyone notified). Doing
 * it again changes nothing and answers the incident as it is; acknowledging a resolved one is a 409.
 */
export async function actOnIncident(
  deps: Pick<ApiDeps, 'incidents'>,
  target: { resellerId: string; siteId: string; incidentId: string },
  action: IncidentAction,
  by: string,
  now: number,
): Promise<Incident> {
  const { resellerId, siteId, incidentId } = target;
  const kind = kindOfIncidentId(incidentId);
  if (!kind) throw notFound('the incident');
  let refusal: ActionRefusal | undefined;
  const { after, changed } = await deps.incidents.update(resellerId, siteId, kind, (current) => {
    const next = actions[action](current, incidentId, by, now);
    refusal = typeof next === 'string' ? next : undefined;
    return typeof next === 'string' ? undefined : next;
  });
  if (refusal === 'resolved') throw new HttpError(409, 'conflict', 'the incident is resolved already');
  const view = refusal === undefined && after ? incidentView(after) : undefined;
  if (!view) throw notFound('the incident');
  logger.info(changed ? `incident ${action}d` : `incident ${action}d already`, { siteId, incidentId, by });
  return view;
}

function incidentOf(call: AnyCall<IncidentRouteDeps>) {
  return { resellerId: resellerOf(call), siteId: param(call, 'siteId'), incidentId: param(call, 'incidentId') };
}

function byKey(call: AnyCall<IncidentRouteDeps>): string {
  if (call.caller.kind !== 'reseller') throw new Error('an incident was acted on without a reseller key');
  return `api-key:${call.caller.keyId}`;
}

// Trackers live in the site's partition under the caller's reseller: another reseller's site or
// incident is simply not there (404), with no extra read to say so.
export const incidentRoutes = {
  'GET /v1/incidents': async (call) => {
    const page = await call.deps.incidents.list(resellerOf(call), call.query);
    return { items: page.items.flatMap((tracker) => incidentView(tracker) ?? []), nextCursor: page.nextCursor };
  },

  'GET /v1/sites/{siteId}/incidents/{incidentId}': async (call) => {
    const { resellerId, siteId, incidentId } = incidentOf(call);
    const tracker = await call.deps.incidents.getByIncidentId(resellerId, siteId, incidentId);
    // The tracker holds the current or last incident of its kind: an older id is not found.
    if (tracker?.incident?.incidentId !== incidentId) throw notFound('the incident');
    const view = incidentView(tracker);
    if (!view) throw notFound('the incident');
    return view;
  },

  'POST /v1/sites/{siteId}/incidents/{incidentId}/acknowledge': async (call) =>
    actOnIncident(call.deps, incidentOf(call), 'acknowledge', byKey(call), call.now),

  'POST /v1/sites/{siteId}/incidents/{incidentId}/resolve': async (call) =>
    actOnIncident(call.deps, incidentOf(call), 'resolve', byKey(call), call.now),
} satisfies Partial<ApiImplementations<IncidentRouteDeps>>;
