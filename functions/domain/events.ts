import type { EventFields, EventOf, Severity, SiteEventType, WitnessEvent } from '../../protocol/events.ts';
import { siteEvent } from './site-event.ts';
import type { WitnessSettings } from './settings.ts';
import { lost, standaloneWithoutEnd } from './peer-loss.ts';
import { lastContact } from './silence.ts';
import type { NodeState, PendingCommand, SiteState } from './site-state.ts';

/**
 * The events one change of a site's state item means (DESIGN.md, "Events"): the stream hands the
 * publisher each change as (before, after), and this says what happened. Pure, and deterministic:
 * the same change always gives the same events with the same ids, so a change delivered twice
 * (the stream is at least once) is recorded once downstream.
 *
 * From the decision the write stored and the nodes' reports:
 * - `failover.granted`: a new epoch was granted (with the previous primary and when its lease ended);
 * - `failover.completed`: the new primary acknowledged its promote command;
 * - `node.degraded`: a node's reported health fell under the site's threshold; `node.recovered`
 *   (`recoveredFrom: 'node.degraded'`) when it is back at or over it;
 * - `link.lost` / `link.restored`: both nodes alive, each reporting the other unreachable, and back;
 * - `node.lost`: a node reports its peer unreachable, and the witness has not heard that peer for
 *   the freshness window, counted from that report's start at the earliest (the silence of a whole
 *   site is the detector's to notice);
 *   `node.recovered`: such a node is heard again, or its peer reports it reachable again;
 * - `site.down` / `site.recovered`: the silence detector marked the site silent (silence.ts), and
 *   the contact that ended the silence;
 * - `node.recovered` (`recoveredFrom: 'site.down'` or `'node.lost'`): the primary of a site that fell
 *   silent, or that its peer reported lost, renewed its lease at its epoch after all (`lapsed`),
 *   unless a return in the same change told it.
 * - `node.excluded` / `node.readmitted` (W5): the witness excluded a node, and the exclusion ended;
 *   `failover.forced`: an operator forced the excluded node back as primary.
 * - `command.unacknowledged` / `command.acknowledged`: a heartbeat write marked a promote or demote
 *   overdue (heartbeat.ts), and a command so marked left the node's commands (acknowledged, or
 *   superseded by a grant). A node that is not heard at all owes nothing here: it is `node.lost`.
 */
export function eventsOf(before: SiteState | undefined, after: SiteState | undefined, settings: WitnessSettings): WitnessEvent[] {
  if (!after) return [];
  const site = { resellerId: after.resellerId, siteId: after.siteId };
  const make: Make = (type, at, key, severity, data) =>
    siteEvent(type, { id: `${site.resellerId}/${site.siteId}/${type}/${key}`, at, site, severity, data });
  const events: WitnessEvent[] = [];

  const decision = after.decision;
  if (decision?.kind === 'force' && after.epoch > (before?.epoch ?? 0)) {
    events.push(
      make('failover.forced', decision.at, String(after.epoch), 'warning', {
        nodeId: decision.nodeId,
        epoch: after.epoch,
        previousPrimary: before?.primary ?? null,
        // The survivor held the role until the force: the witness cannot tell that it stopped sooner.
        previousLeaseEndedAt: decision.at,
        // What the operator declared, as the force stored it (survivor.ts): text.
        keyId: String(decision.inputs.keyId),
        confirm: String(decision.inputs.confirm),
        reason: String(decision.inputs.operatorReason),
      }),
    );
  }
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
    const degraded = (n: NodeState | undefined): n is NodeState & { health: number } =>
      typeof n?.health === 'number' && n.health < threshold;
    if (degraded(node) && !degraded(was)) {
      events.push(
        make('node.degraded', node.lastSeenAt, `${nodeId}/${String(after.rev)}`, 'warning', { nodeId, health: node.health, threshold }),
      );
    }
    // Healthy again: what clears a node.degraded incident.
    if (degraded(was) && !degraded(node) && typeof node.health === 'number') {
      events.push(
        make('node.recovered', node.lastSeenAt, `${nodeId}/health/${String(after.rev)}`, 'info', {
          nodeId,
          recoveredFrom: 'node.degraded',
          health: node.health,
          threshold,
        }),
      );
    }
  }

  // The link and the peers, as the nodes report them: only a report that changed says anything.
  const [a, b] = nodeIds;
  if (a && b && nodeIds.length === 2) {
    const cut = (state: SiteState | undefined) => state?.nodes[a]?.peerReachable === false && state.nodes[b]?.peerReachable === false;
    const latest = Math.max(after.nodes[a]?.lastSeenAt ?? 0, after.nodes[b]?.lastSeenAt ?? 0);
    const bothFresh = fresh(after.nodes[a], latest, settings) && fresh(after.nodes[b], latest, settings);
    if (cut(after) && !cut(before) && bothFresh) events.push(make('link.lost', latest, String(after.rev), 'warning', {}));
    if (cut(before) && !cut(after)) events.push(make('link.restored', latest, String(after.rev), 'info', {}));

    for (const [reporter, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const report = after.nodes[reporter];
      if (report?.lastSeenAt && lost(after, reporter, peer, settings) && !lost(before, reporter, peer, settings)) {
        events.push(
          make('node.lost', report.lastSeenAt, `${peer}/${String(after.rev)}`, 'critical', {
            nodeId: peer,
            reportedBy: reporter,
            // A lost primary held the role until its lease ran out; a standalone lease without end
            // does not run out (the survivor may be running, cut off from the witness).
            leaseEndedAt: after.primary === peer && !standaloneWithoutEnd(after, settings) ? after.leaseExpiresAt : null,
          }),
        );
      }
      const recovered = recoveredPeer(before, after, reporter, peer, settings);
      if (recovered !== null) {
        const data = { nodeId: peer, reportedBy: reporter, ...primaryAfter(before, after) };
        events.push(make('node.recovered', recovered, `${peer}/${String(after.rev)}`, 'info', data));
      }
    }
  }

  for (const nodeId of nodeIds) events.push(...commandEvents(before, after, nodeId, make));
  events.push(...exclusionEvents(before, after, make));
  events.push(...silenceEvents(before, after, make, settings));
  // A return in this very change (site.recovered, node.recovered of a lost peer) already told the renewal.
  const told = events.some(
    (e) => (e.type === 'site.recovered' || e.type === 'node.recovered') && 'leaseRenewedAt' in e.data && e.data.leaseRenewedAt !== null,
  );
  if (!told) events.push(...lapseEnded(before, after, make));
  return events;
}

type Make = <T extends SiteEventType>(type: T, at: number, key: string, severity: Severity, data: EventFields<T>) => EventOf<T>;

const fresh = (node: NodeState | undefined, at: number, settings: WitnessSettings) =>
  typeof node?.lastSeenAt === 'number' && at - node.lastSeenAt <= settings.freshnessMs;

/** When a lost peer came back (heard again, or reported reachable by its peer), or null if it did not in this change. */
function recoveredPeer(
  before: SiteState | undefined,
  after: SiteState,
  reporter: string,
  peer: string,
  settings: WitnessSettings,
): number | null {
  if (!lost(before, reporter, peer, settings) || lost(after, reporter, peer, settings)) return null;
  const heard = after.nodes[peer]?.lastSeenAt ?? null;
  if (heard !== null && heard !== (before?.nodes[peer]?.lastSeenAt ?? null)) return heard;
  const report = after.nodes[reporter];
  return report?.peerReachable === true && report.lastSeenAt !== null ? report.lastSeenAt : null;
}

/**
 * Who leads after a return (`node.recovered` of a lost peer, `site.recovered`), and when this very
 * change renewed that primary's lease at its epoch (null if it did not: a node heard again is not
 * yet a primary holding the role). The SLA report takes the primary's hold up again from there.
 */
function primaryAfter(
  before: SiteState | undefined,
  after: SiteState,
): { primary: string | null; epoch: number; leaseRenewedAt: number | null } {
  const renewal = after.decision;
  const was = before?.decision;
  const renewedHere =
    renewal?.kind === 'renew' &&
    renewal.nodeId === after.primary &&
    renewal.epoch === after.epoch &&
    !(was?.kind === 'renew' && was.nodeId === renewal.nodeId && was.epoch === renewal.epoch && was.at === renewal.at);
  return { primary: after.primary, epoch: after.epoch, leaseRenewedAt: renewedHere ? renewal.at : null };
}

/**
 * The primary whose lease lapsed while its site was silent (`lapsed`, silence.ts) or its peer
 * reported it lost (heartbeat.ts) renewed it at the same epoch: `node.recovered` (`recoveredFrom`:
 * what lapsed it) with `leaseRenewedAt`, for the SLA report to take the hold up again. Usually a
 * later change than the contact that ended the silence, or than the peer's report of its return
 * (a rebooted node heartbeats as secondary first, then claims). A grant that removed it tells
 * nothing more: `failover.granted` does.
 */
function lapseEnded(before: SiteState | undefined, after: SiteState, make: Make): WitnessEvent[] {
  const lapsed = before?.lapsed;
  const renewal = after.decision;
  const was = before?.decision;
  if (!lapsed || after.lapsed || renewal?.kind !== 'renew' || renewal.nodeId !== lapsed.primary || renewal.epoch !== lapsed.epoch)
    return [];
  if (was?.kind === 'renew' && was.nodeId === renewal.nodeId && was.epoch === renewal.epoch && was.at === renewal.at) return [];
  return [
    make('node.recovered', renewal.at, `${lapsed.primary}/renewed/${String(after.rev)}`, 'info', {
      nodeId: lapsed.primary,
      primary: lapsed.primary,
      epoch: lapsed.epoch,
      leaseRenewedAt: renewal.at,
      previousLeaseEndedAt: lapsed.leaseEndedAt,
      recoveredFrom: lapsed.cause ?? 'site.down',
    }),
  ];
}

/**
 * The deadline marks of one node's commands (heartbeat.ts): the mark appearing, and a marked command
 * leaving (the same id with the same issue time is the same command; a demote re-issued at the same
 * epoch after an acknowledgement is a new one). Keyed by command and mark, so each is told once.
 */
function commandEvents(before: SiteState | undefined, after: SiteState, nodeId: string, make: Make): WitnessEvent[] {
  const was = before?.nodes[nodeId]?.commands ?? {};
  const is = after.nodes[nodeId]?.commands ?? {};
  const same = (a: PendingCommand | undefined, b: PendingCommand | undefined): b is PendingCommand =>
    b !== undefined && a?.issuedAt === b.issuedAt;
  const about = (c: PendingCommand) => ({
    nodeId,
    commandId: c.id,
    commandType: c.type,
    epoch: c.epoch,
    issuedAt: c.issuedAt,
    deliveredAt: c.deliveredAt ?? null,
  });
  const events: WitnessEvent[] = [];
  for (const id of Object.keys(was).sort()) {
    const old = was[id];
    if (old?.overdueAt === undefined || same(old, is[id])) continue;
    // A grant that changed the epoch replaced the node's commands; otherwise its own heartbeat acknowledged it.
    const superseded = after.epoch !== before?.epoch;
    const at = superseded ? (after.decision?.at ?? old.overdueAt) : (after.nodes[nodeId]?.lastSeenAt ?? old.overdueAt);
    events.push(
      make('command.acknowledged', at, `${nodeId}/${id}/${String(old.overdueAt)}`, 'info', {
        ...about(old),
        overdueAt: old.overdueAt,
        outcome: superseded ? 'superseded' : 'acknowledged',
      }),
    );
  }
  for (const id of Object.keys(is).sort()) {
    const command = is[id];
    const prior = was[id];
    if (command?.overdueAt === undefined || (same(command, prior) && prior.overdueAt !== undefined)) continue;
    events.push(
      make('command.unacknowledged', command.overdueAt, `${nodeId}/${id}/${String(command.overdueAt)}`, 'warning', about(command)),
    );
  }
  return events;
}

/** W5: an exclusion that began, and one that ended (whatever ended it), each told once by its start time. */
function exclusionEvents(before: SiteState | undefined, after: SiteState, make: Make): WitnessEvent[] {
  const was = before?.exclusion;
  const is = after.exclusion;
  const events: WitnessEvent[] = [];
  if (was && was.at !== is?.at) {
    const changedHands = after.epoch !== before.epoch && after.decision !== null;
    const survivor = before.primary;
    // Whoever asked for the end, the readmission is theirs only if the survivor's acknowledgement of it
    // is what ended the exclusion (its command, pending before, is gone); otherwise the lease lapsed.
    const pending = (state: SiteState, id: string) => survivor !== null && Object.hasOwn(state.nodes[survivor]?.commands ?? {}, id);
    const acked =
      !changedHands && was.ending !== undefined && pending(before, was.ending.commandId) && !pending(after, was.ending.commandId);
    const by = after.decision?.kind === 'force' && changedHands ? 'force' : acked && was.ending ? was.ending.by : 'lapsed';
    // The write that ended it: a grant or a force tells its time; an acknowledgement is the survivor's heartbeat.
    const at =
      changedHands && after.decision ? after.decision.at : ((survivor === null ? null : after.nodes[survivor]?.lastSeenAt) ?? was.at);
    // Who asked: an operator's key is named, as a forced failover's is.
    const keyId = by === 'operator' ? { keyId: was.ending?.keyId ?? null } : {};
    events.push(
      make('node.readmitted', at, `${was.nodeId}/${String(was.at)}`, 'info', {
        nodeId: was.nodeId,
        survivor,
        epoch: after.epoch,
        excludedAt: was.at,
        by,
        ...keyId,
      }),
    );
  }
  if (is && is.at !== was?.at) {
    events.push(
      make('node.excluded', is.at, `${is.nodeId}/${String(is.at)}`, 'critical', {
        nodeId: is.nodeId,
        survivor: after.primary,
        epoch: after.epoch,
        lastSeenAt: is.lastSeenAt,
      }),
    );
  }
  return events;
}

/** The silence detector's marker, set (the site is down) or removed by a contact (it is back). */
function silenceEvents(before: SiteState | undefined, after: SiteState, make: Make, settings: WitnessSettings): WitnessEvent[] {
  const was = before?.silence;
  const now = after.silence;
  if (now && !was) {
    const silent = Object.keys(after.nodes).sort();
    // A standalone lease without end does not run out: the survivor may be running, cut off from the witness.
    const standalone = standaloneWithoutEnd(after, settings);
    return [
      make('site.down', now.at, String(now.at), 'critical', {
        lastSeenAt: now.since,
        nodeIds: silent,
        // A primary held the role until its lease ran out (the SLA report reads this).
        leaseEndedAt: after.primary === null || standalone ? null : after.leaseExpiresAt,
        standalone,
      }),
    ];
  }
  if (was && !now) {
    return [
      make('site.recovered', lastContact(after) ?? was.at, String(was.at), 'info', {
        downSince: was.since,
        ...primaryAfter(before, after),
      }),
    ];
  }
  return [];
}
