import { type SiteStatus, type SiteSummary, statusesOf, type SurvivorMode } from '../../../protocol/reseller.ts';
import { newEnrollmentCode } from '../../adapters/credentials.ts';
import { incidentSeverity } from '../../domain/incidents.ts';
import { inMaintenance } from '../../adapters/listing-windows.ts';
import { logger } from '../../adapters/logger.ts';
import { type EnrollmentRecord, type FleetEntry, type SiteListing, siteView } from '../../adapters/site-admin-store.ts';
import { enrollmentCodeTtlMs, iso } from '../../adapters/tenancy-items.ts';
import type { WitnessSettings } from '../../domain/settings.ts';
import { siteHealth } from '../../domain/site-health.ts';
import { activeExclusion, defaultPolicy, type Exclusion, newSite, type SiteState } from '../../domain/site-state.ts';
import { HttpError } from '../http-error.ts';
import { type AnyCall, type ApiImplementations, notFound, param, resellerOf } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** Sites and their nodes: the sites' records, and the witness's timings for their status. */
export type SiteRouteDeps = Pick<ApiDeps, 'sites' | 'settings'>;

function enrollmentCode(resellerId: string, siteId: string, nodeId: string, tokenVersion: number, now: number) {
  const { code, hash } = newEnrollmentCode();
  const record: EnrollmentRecord = { resellerId, siteId, nodeId, tokenVersion, validUntil: now + enrollmentCodeTtlMs };
  return { hash, record, view: { nodeId, code, tokenVersion, expiresAt: iso(record.validUntil) } };
}

/** The site as the reseller sees it: the witness's state, survivor mode as it stands at `now` (a bounded standalone lease may have lapsed). */
export function siteStatus(listing: SiteListing, state: SiteState, now: number, settings: WitnessSettings): SiteStatus {
  const exclusion = activeExclusion(state, now, settings);
  const survivor = exclusion && state.primary !== null ? survivorView(state.primary, exclusion, state, settings) : null;
  return {
    ...siteView(listing),
    policy: state.policy,
    epoch: state.epoch,
    primary: state.primary,
    leaseExpiresAt: state.primary === null || survivor?.leaseEndsAt === null ? null : iso(state.leaseExpiresAt),
    survivor,
    nodes: nodesInListingOrder(listing, state).map(([nodeId, node]) => ({
      nodeId,
      enrolled: listing.enrolledVersion[nodeId] === node.tokenVersion,
      tokenVersion: node.tokenVersion,
      lastSeenAt: node.lastSeenAt === null ? null : iso(node.lastSeenAt),
      role: node.role,
      health: node.health,
      peerReachable: node.peerReachable,
      excluded: survivor?.excludedNode === nodeId,
    })),
  };
}

/**
 * A site as the fleet view lists it (`GET /v1/sites`): its status judged at `now` (site-health.ts).
 * A state item the eventually consistent read missed (a site created a moment ago) reads as the
 * new site it is: not live.
 */
export function siteSummary(entry: FleetEntry, now: number, settings: WitnessSettings): SiteSummary {
  const { listing, trackers } = entry;
  const state = entry.state ?? newSite({ resellerId: '', siteId: listing.siteId, nodeIds: listing.nodeIds, tokenVersion: 0 });
  const openIncidents = { critical: 0, warning: 0, info: 0 };
  for (const tracker of trackers)
    if (tracker.incident && tracker.incident.state !== 'resolved') openIncidents[incidentSeverity(tracker)] += 1;
  const exclusion = activeExclusion(state, now, settings);
  const survivor =
    exclusion && state.primary !== null ? { node: state.primary, excludedNode: exclusion.nodeId, since: iso(exclusion.at) } : null;
  const unendingStandalone = survivor !== null && settings.standaloneLeaseMs === null;
  return {
    ...siteView(listing),
    status: siteHealth(state, openIncidents.critical + openIncidents.warning + openIncidents.info, now, settings),
    epoch: state.epoch,
    primary: state.primary,
    leaseExpiresAt: state.primary === null || unendingStandalone ? null : iso(state.leaseExpiresAt),
    nodes: nodesInListingOrder(listing, state).map(([nodeId, node]) => ({
      nodeId,
      role: node.role,
      lastSeenAt: node.lastSeenAt === null ? null : iso(node.lastSeenAt),
      peerReachable: node.peerReachable,
      health: node.health,
      excluded: survivor?.excludedNode === nodeId,
    })),
    survivor,
    openIncidents,
    inMaintenance: inMaintenance(listing.maintenance, now),
  };
}

/** The state's nodes in the listing's order (a map read back from DynamoDB keeps none); any other after them, by id. */
function nodesInListingOrder(listing: SiteListing, state: SiteState) {
  const rank = (nodeId: string) => {
    const i = listing.nodeIds.indexOf(nodeId);
    return i === -1 ? listing.nodeIds.length : i;
  };
  return Object.entries(state.nodes).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

function survivorView(node: string, exclusion: Exclusion, state: SiteState, settings: WitnessSettings): SurvivorMode {
  const { ending } = exclusion;
  return {
    node,
    excludedNode: exclusion.nodeId,
    since: iso(exclusion.at),
    excludedLastSeenAt: exclusion.lastSeenAt === null ? null : iso(exclusion.lastSeenAt),
    standaloneLeaseMs: settings.standaloneLeaseMs,
    leaseEndsAt: settings.standaloneLeaseMs === null ? null : iso(state.leaseExpiresAt),
    ending: ending ? { requestedAt: iso(ending.at), by: ending.by, keyId: ending.keyId ?? null, commandId: ending.commandId } : null,
  };
}

/** The site's listing and state, both of the caller's reseller, or 404. */
export async function ownSite(call: AnyCall<SiteRouteDeps>) {
  const resellerId = resellerOf(call);
  const siteId = param(call, 'siteId');
  const [listing, state] = await Promise.all([
    call.deps.sites.getListing(resellerId, siteId),
    call.deps.sites.getState(resellerId, siteId),
  ]);
  if (!listing || !state) throw notFound('the site');
  return { resellerId, siteId, listing, state };
}

export const siteRoutes = {
  'POST /v1/sites': async (call) => {
    const resellerId = resellerOf(call);
    const { siteId, customerId, name, nodeIds, policy } = call.body;
    if (policy?.preferredNode && !nodeIds.includes(policy.preferredNode)) {
      throw new HttpError(400, 'invalid-body', 'the preferred node is not one of the nodes', [
        { path: 'policy.preferredNode', message: 'not one of nodeIds' },
      ]);
    }
    // Nodes start at token version 0, which no token carries: only enrollment makes a node's token.
    const state = newSite({ resellerId, siteId, nodeIds, policy: policy ?? defaultPolicy, tokenVersion: 0 });
    const codes = nodeIds.map((nodeId) => enrollmentCode(resellerId, siteId, nodeId, 1, call.now));
    const listing: SiteListing = {
      siteId,
      customerId,
      name,
      nodeIds: [...nodeIds],
      createdAt: call.now,
      enrolledVersion: {},
      maintenance: {},
    };
    const outcome = await call.deps.sites.createSite(
      resellerId,
      listing,
      state,
      codes.map((c) => ({ ...c.record, hash: c.hash })),
    );
    if (outcome === 'no-customer') throw notFound(`customer ${customerId}`);
    if (outcome === 'exists') throw new HttpError(409, 'conflict', `site ${siteId} exists already`);
    logger.info('site created', { siteId, customerId, nodeIds });
    return { site: siteView(listing), enrollment: codes.map((c) => c.view) };
  },

  'GET /v1/sites': async (call) => {
    const { cursor, limit, customerId, status } = call.query;
    const page = await call.deps.sites.listFleet(resellerOf(call), { cursor, limit, customerId });
    const wanted = status === undefined ? undefined : new Set(statusesOf(status));
    const items = page.items
      .map((entry) => siteSummary(entry, call.now, call.deps.settings))
      .filter((site) => !wanted || wanted.has(site.status));
    // Counting per status would read every site of the reseller: not at a bounded cost (FleetPage's description).
    return { items, nextCursor: page.nextCursor, counts: null };
  },

  'GET /v1/sites/{siteId}': async (call) => {
    const { listing, state } = await ownSite(call);
    return siteStatus(listing, state, call.now, call.deps.settings);
  },

  'PUT /v1/sites/{siteId}/policy': async (call) => {
    const { resellerId, siteId, listing } = await ownSite(call);
    if (call.body.preferredNode !== null && !listing.nodeIds.includes(call.body.preferredNode)) {
      throw new HttpError(400, 'invalid-body', 'the preferred node is not one of the nodes', [
        { path: 'preferredNode', message: 'not a node of this site' },
      ]);
    }
    const state = await call.deps.sites.setPolicy(resellerId, siteId, call.body);
    if (!state) throw notFound('the site');
    logger.info('site policy set', { siteId, policy: call.body });
    return siteStatus(listing, state, call.now, call.deps.settings);
  },

  'POST /v1/sites/{siteId}/nodes/{nodeId}/enrollment': async (call) => {
    const { resellerId, siteId, state } = await ownSite(call);
    const nodeId = param(call, 'nodeId');
    const node = Object.hasOwn(state.nodes, nodeId) ? state.nodes[nodeId] : undefined;
    if (!node) throw notFound(`node ${nodeId} of this site`);
    const code = enrollmentCode(resellerId, siteId, nodeId, node.tokenVersion + 1, call.now);
    await call.deps.sites.putEnrollmentCode(code.hash, code.record);
    logger.info('enrollment code issued', { siteId, nodeId, tokenVersion: code.record.tokenVersion });
    return code.view;
  },

  'POST /v1/sites/{siteId}/nodes/{nodeId}/revoke': async (call) => {
    const resellerId = resellerOf(call);
    const siteId = param(call, 'siteId');
    const nodeId = param(call, 'nodeId');
    if (!(await call.deps.sites.getListing(resellerId, siteId))) throw notFound('the site');
    const tokenVersion = await call.deps.sites.revokeNode(resellerId, siteId, nodeId);
    if (tokenVersion === undefined) throw notFound(`node ${nodeId} of this site`);
    logger.info('node token revoked', { siteId, nodeId, tokenVersion });
    return { nodeId, tokenVersion };
  },
} satisfies Partial<ApiImplementations<SiteRouteDeps>>;
