import type { SiteHealth } from '../../protocol/reseller.ts';
import { lost } from './peer-loss.ts';
import { holds } from './plan.ts';
import type { WitnessSettings } from './settings.ts';
import { lastContact } from './silence.ts';
import { activeExclusion, leaseHeld, type SiteState } from './site-state.ts';
import { heardLately, peerOf } from './survivor.ts';

/**
 * A site's state at a glance, for the fleet view (`GET /v1/sites`): one word, judged at `now` from
 * the witness's own notions, so that it says what the witness itself would decide (pure: the
 * time is an argument, the handler reads it).
 *
 * The witness lease alone does not tell whether a primary runs: a primary whose peer link is up
 * heartbeats on the slow cadence (60 s) and renews a 15 s lease, running on its peer's lease in
 * between (A1). So the role is taken as lost only where the witness itself takes it as lost, as
 * the events and the SLA report count it: the site fell silent (`site.down`, silence.ts), or the
 * primary's peer reported it lost (`node.lost`, peer-loss.ts, recorded as `lapsed`).
 *
 * In order, the first that holds:
 * - `not-live`: no primary was ever granted (epoch 0);
 * - `down`: no lease is held now and no node has been heard for `silenceMs` (the silence detector's
 *   `site.down`, judged now rather than at its next run). A survivor on a standalone lease without
 *   end holds its lease through any silence (W5: it may well be running): it is `survivor`;
 * - `failing-over`: the role is passing: the primary holds no lease and lost the role (it lapsed,
 *   or its peer reports it lost), while a node is still heard; or the primary has not yet
 *   acknowledged its promote command (a grant's first heartbeats); or a node that is not the
 *   primary owes a demote and has been heard since it was issued, and lately (a former primary,
 *   alive, yet to step down). A demote owed by a node not heard since is left out: a dead former
 *   primary owes it until it returns, and that is not a failover in progress;
 * - `survivor`: a node is excluded (W5), the primary runs alone;
 * - `degraded`: a node is not heard lately (survivor.ts's `heardLately`: within `exclusionMs`
 *   beyond the cadence the witness may have asked of it), or a node reports its peer unreachable,
 *   or a node's last reported health is under the policy's threshold (as `node.degraded`), or
 *   the site has an unresolved incident;
 * - `healthy`: otherwise.
 */
export function siteHealth(state: SiteState, openIncidents: number, now: number, settings: WitnessSettings): SiteHealth {
  return judgeSite(state, openIncidents, now, settings).status;
}

export interface SiteJudgement {
  status: SiteHealth;
  /** Why, in words (for logs and tests). */
  reason: string;
}

export function judgeSite(state: SiteState, openIncidents: number, now: number, settings: WitnessSettings): SiteJudgement {
  const primary = state.primary;
  if (state.epoch === 0 || primary === null) return { status: 'not-live', reason: 'no primary was ever granted' };

  const leased = leaseHeld(state, now, settings);
  const since = lastContact(state);
  const silent = since === null || since + settings.silenceMs <= now;
  if (!leased && silent)
    return { status: 'down', reason: since === null ? 'no node was ever heard' : `no lease, and no node heard for ${now - since} ms` };

  const nodeIds = Object.keys(state.nodes).sort();
  const heard = (nodeId: string) => holds(heardLately(nodeId, now, settings), state);
  const peer = peerOf(state, primary);
  if (!leased && (state.lapsed !== undefined || (peer !== undefined && lost(state, peer, primary, settings)))) {
    return {
      status: 'failing-over',
      reason: `${primary} holds no lease and lost the role (${state.lapsed ? 'its lease lapsed' : 'its peer reports it lost'})`,
    };
  }
  const owed = (nodeId: string, type: 'promote' | 'demote') =>
    Object.values(state.nodes[nodeId]?.commands ?? {}).filter((command) => command.type === type);
  if (owed(primary, 'promote').length > 0)
    return { status: 'failing-over', reason: `${primary} has not acknowledged its promote command yet` };
  // A demote owed by a node heard since it was issued, and lately: alive, and not yet stepped down.
  const demoting = nodeIds.find((nodeId) => {
    const lastSeenAt = state.nodes[nodeId]?.lastSeenAt ?? null;
    return (
      nodeId !== primary && heard(nodeId) && owed(nodeId, 'demote').some((command) => lastSeenAt !== null && lastSeenAt >= command.issuedAt)
    );
  });
  if (demoting !== undefined)
    return { status: 'failing-over', reason: `${demoting} is heard but has not acknowledged its demote command yet` };

  const exclusion = activeExclusion(state, now, settings);
  if (exclusion) return { status: 'survivor', reason: `${exclusion.nodeId} is excluded: ${primary} runs alone` };

  const unheard = nodeIds.find((nodeId) => !heard(nodeId));
  if (unheard !== undefined) return { status: 'degraded', reason: `${unheard} is not heard lately` };
  const cut = nodeIds.find((nodeId) => state.nodes[nodeId]?.peerReachable === false);
  if (cut !== undefined) return { status: 'degraded', reason: `${cut} reports its peer unreachable` };
  const threshold = state.policy.healthThreshold;
  const weak = nodeIds.find((nodeId) => {
    const health = state.nodes[nodeId]?.health;
    return typeof health === 'number' && health < threshold;
  });
  if (weak !== undefined) return { status: 'degraded', reason: `${weak} reports a health under the threshold ${threshold}` };
  if (openIncidents > 0) return { status: 'degraded', reason: `${openIncidents} unresolved incident(s)` };
  return { status: 'healthy', reason: 'a primary holds the role, both nodes are heard, the link is up, no incident' };
}
