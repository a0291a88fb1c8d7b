import type { EventData, EventType, Severity, WitnessEvent } from '../../protocol/events.ts';
import type { WitnessSettings } from './settings.ts';
import type { NodeState, SiteState } from './site-state.ts';

/**
 * The events one change of a site's state item means (DESIGN.md, "Events"): the stream hands the
 * publisher each change as (before, after), and this says what happened. Pure, and deterministic:
 * the same change always gives the same events with the same ids, so a change delivered twice
 * (the stream is at least once) is recorded once downstream.
 *
 * From the decision the write stored and the nodes' reports:
 * - `failover.granted`: a new epoch was granted (with the previous primary and when its lease ended);
 * - `failover.completed`: the new primary acknowledged its promote command;
 * - `node.degraded`: a node's reported health fell under the site's threshold;
 * - `link.lost` / `link.restored`: both nodes alive, each reporting the other unreachable, and back;
 * - `node.lost`: a node reports its peer unreachable while the witness has not heard that peer
 *   within the freshness window (the silence of a whole site is the detector's to notice).
 */
export function eventsOf(before: SiteState | undefined, after: SiteState | undefined, settings: WitnessSettings): WitnessEvent[] {
  if (!after) return [];
  const site = { resellerId: after.resellerId, siteId: after.siteId };
  const make = (type: EventType, at: number, key: string, severity: Severity, data: Partial<EventData> = {}): WitnessEvent => ({
    id: `${site.resellerId}/${site.siteId}/${type}/${key}`,
    type,
    timestamp: new Date(at).toISOString(),
    data: { ...site, severity, ...data },
  });
  const events: WitnessEvent[] = [];

  const decision = after.decision;
  if (decision?.kind === 'grant' && after.epoch > (before?.epoch ?? 0)) {
    const previous = before?.primary ?? null;
    events.push(
      make('failover.granted', decision.at, String(after.epoch), previous === null ? 'info' : 'warning', {
        nodeId: decision.nodeId,
        epoch: after.epoch,
        previousPrimary: previous,
        // The previous primary held the role until its lease ran out (or was taken over at once).
        previousLeaseEndedAt: previous === null || !before ? null : Math.min(before.leaseExpiresAt, decision.at),
        reason: decision.reason,
      }),
    );
  }

  if (after.primary !== null) {
    const promote = `${after.epoch}-promote-${after.primary}`;
    const pending = (state: SiteState | undefined) => Object.hasOwn(state?.nodes[after.primary ?? '']?.commands ?? {}, promote);
    if (pending(before) && !pending(after)) {
      const at = after.nodes[after.primary]?.lastSeenAt ?? decision?.at ?? 0;
      events.push(make('failover.completed', at, String(after.epoch), 'info', { nodeId: after.primary, epoch: after.epoch }));
    }
  }

  const nodeIds = Object.keys(after.nodes).sort();
  for (const nodeId of nodeIds) {
    const node = after.nodes[nodeId];
    if (node?.lastSeenAt === null || node?.lastSeenAt === undefined) continue;
    const was = before?.nodes[nodeId];
    const threshold = after.policy.healthThreshold;
    const degraded = (n: NodeState | undefined) => typeof n?.health === 'number' && n.health < threshold;
    if (degraded(node) && !degraded(was)) {
      events.push(make('node.degraded', node.lastSeenAt, `${nodeId}/${String(after.rev)}`, 'warning', { nodeId, health: node.health, threshold }));
    }
  }

  // The link and the peers, as the nodes report them: only a report that changed says anything.
  const [a, b] = nodeIds;
  if (a && b && nodeIds.length === 2) {
    const fresh = (node: NodeState | undefined, at: number) => typeof node?.lastSeenAt === 'number' && at - node.lastSeenAt <= settings.freshnessMs;
    const cut = (state: SiteState | undefined) => state?.nodes[a]?.peerReachable === false && state.nodes[b]?.peerReachable === false;
    const latest = Math.max(after.nodes[a]?.lastSeenAt ?? 0, after.nodes[b]?.lastSeenAt ?? 0);
    const bothFresh = fresh(after.nodes[a], latest) && fresh(after.nodes[b], latest);
    if (cut(after) && !cut(before) && bothFresh) events.push(make('link.lost', latest, String(after.rev), 'warning'));
    if (cut(before) && !cut(after)) events.push(make('link.restored', latest, String(after.rev), 'info'));

    for (const [reporter, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const report = after.nodes[reporter];
      const turned = report?.peerReachable === false && before?.nodes[reporter]?.peerReachable !== false;
      if (report?.lastSeenAt && turned && !fresh(after.nodes[peer], report.lastSeenAt)) {
        events.push(
          make('node.lost', report.lastSeenAt, `${peer}/${String(after.rev)}`, 'critical', {
            nodeId: peer,
            reportedBy: reporter,
            // A lost primary held the role until its lease ran out.
            leaseEndedAt: after.primary === peer ? after.leaseExpiresAt : null,
          }),
        );
      }
    }
  }
  return events;
}
