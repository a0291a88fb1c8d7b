import type { ClaimRequest, ClaimResponse, Command, RefusalReason } from '../../protocol/node.ts';
import { type Caller, currentToken, type Decision, newerRequest, rejectIfInvalid } from './decision.ts';
import { recordRequest, set } from './observe.ts';
import { and, eq, lt, type Update } from './plan.ts';
import type { WitnessSettings } from './settings.ts';
import { activeExclusion, type DecisionRecord, leaseHeld, type SiteState } from './site-state.ts';
import { standaloneOf, survivorTerms } from './survivor.ts';

function command(type: Command['type'], nodeId: string, epoch: number, now: number, reason: string): Command {
  return { id: `${epoch}-${type}-${nodeId}`, type, epoch, issuedAt: now, reason };
}

/**
 * Grant rules, in order (DESIGN.md): the current primary renews; while the primary's lease holds,
 * nobody else is granted; then the claimant must be fresh, healthy enough, and allowed by the
 * site's start-up policy; then it becomes primary at epoch + 1.
 */
export function decideClaim(
  state: SiteState | undefined,
  caller: Caller,
  request: ClaimRequest,
  now: number,
  settings: WitnessSettings,
): Decision<ClaimResponse> {
  const invalid = rejectIfInvalid(state, caller, request);
  if (invalid || !state) return invalid ?? { kind: 'reject', error: 'token-revoked', reason: 'site no longer exists' };
  const self = caller.nodeId;
  const node = state.nodes[self];
  if (!node) return { kind: 'reject', error: 'token-revoked', reason: 'node no longer exists' };
  const inputs = { claimReason: request.reason, incarnation: request.incarnation, seq: request.seq };
  // The state may be this process's memory of the site: a revocation elsewhere need not bump `rev`,
  // so each write below checks the token version itself (DESIGN.md, "Authentication without a read").

  const refuse = (reason: RefusalReason, retryAfterMs: number, why: string): Decision<ClaimResponse> => ({
    kind: 'answer',
    response: {
      granted: false,
      epoch: state.epoch,
      primary: state.primary,
      retryAfterMs: Math.max(0, Math.ceil(retryAfterMs)),
      reason,
      message: why,
    },
    reason: why,
  });
  const granted = (next: SiteState): ClaimResponse => ({
    granted: true,
    epoch: next.epoch,
    leaseMs: settings.leaseMs,
    standalone: standaloneOf(next, self, now, settings),
  });
  // W5: a claim reports nothing of the peer; the claimant's last heartbeat did. That report may
  // exclude the peer, never start the end of a standalone lease: a claim's answer carries no command.
  const report = { peerReachable: node.peerReachable === false ? false : null, acks: [] };

  if (state.primary === self) {
    // W5: a node claims only as secondary, running no workloads and counting on no standalone lease:
    // from the survivor, a claim is as good as the acknowledgement of a pending end-standalone (its
    // answer carries no commands, and a survivor that rebooted would otherwise renew an ordinary
    // lease while its peer stays excluded: a witness outage then would stop both).
    const ended = state.exclusion?.ending?.commandId;
    const terms = survivorTerms(state, self, { ...report, acks: ended ? [ended] : [] }, now, settings);
    const decision: DecisionRecord = {
      kind: 'renew',
      nodeId: self,
      at: now,
      epoch: state.epoch,
      reason: `claim (${request.reason}) from the current primary renews its lease`,
      inputs,
    };
    return {
      kind: 'write',
      reason: decision.reason,
      plan: {
        // Not pinned to `rev`: a renewal needs only that this node still leads at this epoch, so
        // a primary's retried claims do not invalidate each other.
        // W5 is decided on the claimant's last report of its peer (W3: pinned, the state may be a cache).
        guard: and(
          eq(['primary'], self),
          eq(['epoch'], state.epoch),
          currentToken(caller),
          newerRequest(self, request.incarnation, request.seq),
          eq(['nodes', self, 'peerReachable'], node.peerReachable),
          terms.guard,
        ),
        updates: [
          ...recordRequest(caller, request, now, settings),
          set(['leaseExpiresAt'], now + terms.leaseMs),
          set(['decision'], decision),
          // A lapse of this primary's lease (silence.ts) ends here: the stream tells it (events.ts).
          { op: 'remove', path: ['lapsed'] },
          ...terms.updates,
        ],
      },
      respond: granted,
    };
  }

  const exclusion = activeExclusion(state, now, settings);
  if (exclusion?.nodeId === self) {
    return refuse(
      'excluded',
      settings.slowHeartbeatMs,
      `${self} is excluded since ${new Date(exclusion.at).toISOString()}: ${state.primary ?? 'its peer'} runs alone on a standalone lease (survivor mode). ` +
        `${self} rejoins as secondary once ${state.primary ?? 'its peer'} hears it on the peer link and gives the standalone lease back, ` +
        `or when an operator readmits it (POST /v1/sites/${state.siteId}/nodes/${self}/readmit); it never claims meanwhile`,
    );
  }
  if (leaseHeld(state, now, settings)) {
    const heldUntil = state.leaseExpiresAt + settings.skewMarginMs;
    return refuse(
      'lease-held',
      heldUntil - now + 1,
      `${state.primary ?? '?'} holds the lease at epoch ${state.epoch} for ${heldUntil - now} ms more`,
    );
  }
  if (node.lastSeenAt === null || now - node.lastSeenAt > settings.freshnessMs) {
    return refuse('not-fresh', 0, `claimant's last heartbeat is older than ${settings.freshnessMs} ms: heartbeat, then claim`);
  }
  const health = node.health ?? 0;
  if (health < state.policy.healthThreshold) {
    return refuse(
      'unhealthy',
      settings.fastHeartbeatMs,
      `claimant's health ${health} is under the site's threshold ${state.policy.healthThreshold}`,
    );
  }
  const windowEnd = (state.firstContactAt ?? now) + settings.startupWindowMs;
  if (state.primary === null && now < windowEnd) {
    const { tieBreak, preferredNode } = state.policy;
    if (tieBreak === 'preferred-node' && preferredNode !== null && preferredNode !== self) {
      return refuse('startup-window', windowEnd - now, `start-up window: the preferred node ${preferredNode} may claim first`);
    }
    if (tieBreak === 'health-weighted') {
      const healthier = Object.entries(state.nodes).find(
        ([id, other]) =>
          id !== self && other.lastSeenAt !== null && now - other.lastSeenAt <= settings.freshnessMs && (other.health ?? 0) > health,
      );
      if (healthier) return refuse('healthier-peer', windowEnd - now, `start-up window: ${healthier[0]} reports better health`);
    }
  }

  const epoch = state.epoch + 1;
  const previous = state.primary;
  const why =
    previous === null ? `no primary yet: ${self} is the first eligible claimant` : `lease of ${previous} expired: failover to ${self}`;
  const decision: DecisionRecord = {
    kind: 'grant',
    nodeId: self,
    at: now,
    epoch,
    reason: why,
    inputs: { ...inputs, previousPrimary: previous, previousEpoch: state.epoch, previousLeaseExpiresAt: state.leaseExpiresAt, health },
  };
  const promote = command('promote', self, epoch, now, why);
  // A grant ends an exclusion that lapsed (a bounded standalone lease ran out), and may start one
  // (W5). Its guard pins `rev`, so the terms' own guard adds nothing.
  const { exclusion: lapsed, ...unexcluded } = state;
  const terms = survivorTerms(unexcluded, self, report, now, settings);
  const excluding = terms.updates.length > 0;
  const updates: Update[] = [
    ...recordRequest(caller, request, now, settings),
    set(['epoch'], epoch),
    set(['primary'], self),
    set(['leaseExpiresAt'], now + terms.leaseMs),
    set(['nodes', self, 'commands'], { [promote.id]: promote }),
    // Its next heartbeat delivers the promote, and from then on it is awaited (commandAckMs, heartbeat.ts).
    set(['nodes', self, 'commandsDueAt'], now),
    set(['decision'], decision),
    // Whatever lapsed is over: the grant tells the new hold.
    { op: 'remove', path: ['lapsed'] },
    ...(excluding ? terms.updates : lapsed ? [{ op: 'remove', path: ['exclusion'] } satisfies Update] : []),
  ];
  if (previous !== null && state.nodes[previous]) {
    const demote = command('demote', previous, epoch, now, `${self} took over at epoch ${epoch}`);
    updates.push(set(['nodes', previous, 'commands'], { [demote.id]: demote }), set(['nodes', previous, 'commandsDueAt'], now));
  }
  return {
    kind: 'write',
    reason: why,
    // W3: the grant holds only if the epoch and the lease it was decided on are still the stored ones.
    // With no primary there is no lease to outlast (leaseHeld is false whatever the stored expiry, and
    // `now - skewMarginMs` may not exceed it near time 0): the expiry read must simply be unchanged.
    plan: {
      guard: and(
        eq(['rev'], state.rev),
        eq(['epoch'], state.epoch),
        currentToken(caller),
        previous === null ? eq(['leaseExpiresAt'], state.leaseExpiresAt) : lt(['leaseExpiresAt'], now - settings.skewMarginMs),
      ),
      updates,
    },
    respond: granted,
  };
}
