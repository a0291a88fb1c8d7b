import type { Command, HeartbeatRequest, HeartbeatResponse } from '../../protocol/node.ts';
import { type Caller, type Decision, rejectIfInvalid } from './decision.ts';
import { recordRequest, set } from './observe.ts';
import { and, eq, holds, ne, newerRequest, type Plan, type Update } from './plan.ts';
import type { WitnessSettings } from './settings.ts';
import type { DecisionRecord, SiteState } from './site-state.ts';
import { isExcluded, peerOf, readmissionOnAck, standaloneOf, survivorTerms } from './survivor.ts';

function recordReport(caller: Caller, request: HeartbeatRequest, now: number, settings: WitnessSettings): Update[] {
  const node = ['nodes', caller.nodeId];
  return [
    ...recordRequest(caller, request, now, settings),
    set([...node, 'role'], request.role),
    set([...node, 'reportedEpoch'], request.epoch),
    set([...node, 'health'], request.health?.score ?? null),
    set([...node, 'peerReachable'], request.peer?.reachable ?? null),
    // Since when it has reported its peer unreachable: a peer still unheard a freshness window
    // later is lost (a peer on the slow cadence is not lost just because its last report is old).
    request.peer?.reachable === false ? { op: 'setIfMissing', path: [...node, 'peerLostSince'], value: now } : { op: 'remove', path: [...node, 'peerLostSince'] },
  ];
}

/**
 * The heartbeat as the node believes the site to be: a primary at the current epoch renews its
 * lease; anyone else who is not the witness's primary is recorded. The guard says when that belief
 * is true; when it is not, `decideHeartbeat` takes the slow way. A renewal also carries survivor
 * mode's terms (W5, survivor.ts), decided on `known`: the state the handler has in hand, if any
 * (without one, a renewal that reports its peer unreachable cannot tell whether to exclude it, so
 * the handler reads the site first).
 */
export function planHeartbeat(caller: Caller, request: HeartbeatRequest, now: number, settings: WitnessSettings, known?: SiteState): Plan {
  const node = ['nodes', caller.nodeId];
  const asPrimary = request.role === 'primary';
  const terms = asPrimary ? survivorTerms(known, caller.nodeId, { peerReachable: request.peer?.reachable ?? null, acks: request.acks ?? [] }, now, settings) : undefined;
  const renewal: Update[] = terms
    ? [
        set(['leaseExpiresAt'], now + terms.leaseMs),
        set(['decision'], {
          kind: 'renew',
          nodeId: caller.nodeId,
          at: now,
          epoch: request.epoch,
          reason: 'heartbeat from the primary at the current epoch',
          inputs: { incarnation: request.incarnation, seq: request.seq, peerReachable: request.peer?.reachable ?? null },
        } satisfies DecisionRecord),
        // A lapse of this primary's lease (silence.ts) ends here: the stream tells it (events.ts).
        { op: 'remove', path: ['lapsed'] },
        ...terms.updates,
      ]
    : [];
  return {
    guard: and(
      eq([...node, 'tokenVersion'], caller.tokenVersion),
      newerRequest(caller.nodeId, request.incarnation, request.seq),
      terms ? and(eq(['primary'], caller.nodeId), eq(['epoch'], request.epoch), terms.guard) : ne(['primary'], caller.nodeId),
    ),
    updates: [
      ...recordReport(caller, request, now, settings),
      ...(request.acks ?? []).map((id): Update => ({ op: 'remove', path: [...node, 'commands', id] })),
      ...renewal,
    ],
  };
}

export function heartbeatResponse(
  next: SiteState,
  caller: Caller,
  request: HeartbeatRequest,
  settings: WitnessSettings,
  renewed: boolean,
  now: number,
): HeartbeatResponse {
  const commands = Object.values(next.nodes[caller.nodeId]?.commands ?? {}).sort(
    (a, b) => a.issuedAt - b.issuedAt || a.id.localeCompare(b.id),
  );
  const standalone = renewed ? standaloneOf(next, caller.nodeId, now, settings) : null;
  // Fast cadence whenever the peer link may be down or nobody leads: that is when leases matter.
  // Also when the peer reports this node unreachable though it hears the peer (a link cut one way):
  // a live node heard often is never excluded (W5). A survivor whose lease does not end reports for
  // monitoring only, and a witness outage of any length costs it nothing: slow, unless its excluded
  // peer is back and reports it unreachable (it must then be heard often, or be called lost).
  const peer = peerOf(next, caller.nodeId);
  const peerState = peer === undefined ? undefined : next.nodes[peer];
  const reportedLost = peerState?.peerReachable === false && peerState.lastSeenAt !== null && now - peerState.lastSeenAt <= settings.freshnessMs;
  const leasesMatter = next.primary === null || request.peer?.reachable !== true;
  const withoutEnd = standalone?.leaseMs === null;
  const fast = reportedLost || (leasesMatter && !withoutEnd);
  return {
    epoch: next.epoch,
    primary: next.primary,
    role: next.primary === caller.nodeId ? 'primary' : 'secondary',
    leaseMs: renewed ? settings.leaseMs : null,
    standalone,
    excluded: isExcluded(next, caller.nodeId, now, settings),
    commands,
    heartbeatMs: fast ? settings.fastHeartbeatMs : settings.slowHeartbeatMs,
  };
}

export function decideHeartbeat(
  state: SiteState | undefined,
  caller: Caller,
  request: HeartbeatRequest,
  now: number,
  settings: WitnessSettings,
): Decision<HeartbeatResponse> {
  const invalid = rejectIfInvalid(state, caller, request);
  if (invalid || !state) return invalid ?? { kind: 'reject', error: 'token-revoked', reason: 'site no longer exists' };

  const fast = planHeartbeat(caller, request, now, settings, state);
  if (holds(fast.guard, state)) {
    const renewed = request.role === 'primary';
    return {
      kind: 'write',
      plan: fast,
      reason: renewed ? 'primary heartbeat at the current epoch renews its lease' : 'heartbeat recorded',
      respond: (next) => heartbeatResponse(next, caller, request, settings, renewed, now),
    };
  }

  // The node's belief is wrong. A node acting as primary that is not the witness's primary is
  // told to demote (A4); the witness's own primary acting otherwise is recorded, not renewed.
  const node = ['nodes', caller.nodeId];
  const commands: Record<string, Command> = { ...state.nodes[caller.nodeId]?.commands };
  for (const id of request.acks ?? []) Reflect.deleteProperty(commands, id);
  const stalePrimary = request.role === 'primary' && state.primary !== caller.nodeId;
  const why = stalePrimary
    ? `node acts as primary at epoch ${request.epoch}, but the primary is ${state.primary ?? 'nobody'} at epoch ${state.epoch}`
    : `node is the primary at epoch ${state.epoch} but reports ${request.role} at epoch ${request.epoch}: lease not renewed`;
  const updates: Update[] = [...recordReport(caller, request, now, settings), ...readmissionOnAck(state, caller.nodeId, request.acks ?? [])];
  if (stalePrimary) {
    const id = `${state.epoch}-demote-${caller.nodeId}`;
    commands[id] ??= { id, type: 'demote', epoch: state.epoch, issuedAt: now, reason: why };
    updates.push(
      set(['decision'], {
        kind: 'demote',
        nodeId: caller.nodeId,
        at: now,
        epoch: state.epoch,
        reason: why,
        inputs: { reportedEpoch: request.epoch, primary: state.primary },
      } satisfies DecisionRecord),
    );
  }
  updates.push(set([...node, 'commands'], commands));
  return {
    kind: 'write',
    // The state may be a process's memory of the site: the token version is checked by the write itself.
    plan: { guard: and(eq(['rev'], state.rev), eq([...node, 'tokenVersion'], caller.tokenVersion)), updates },
    reason: why,
    respond: (next) => heartbeatResponse(next, caller, request, settings, false, now),
  };
}
