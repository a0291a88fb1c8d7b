import type { Command, HeartbeatRequest, HeartbeatResponse } from '../../protocol/node.ts';
import { type Caller, currentToken, type Decision, newerRequest, rejectIfInvalid } from './decision.ts';
import { recordRequest, set } from './observe.ts';
import { lost, standaloneWithoutEnd } from './peer-loss.ts';
import { and, applyUpdates, eq, type Guard, gt, holds, missing, ne, or, type Plan, type Update } from './plan.ts';
import type { WitnessSettings } from './settings.ts';
import type { DecisionRecord, Lapse, PendingCommand, SiteState } from './site-state.ts';
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
    request.peer?.reachable === false
      ? { op: 'setIfMissing', path: [...node, 'peerLostSince'], value: now }
      : { op: 'remove', path: [...node, 'peerLostSince'] },
  ];
}

/**
 * Only a promote or a demote is awaited (`commandAckMs`): a `resync` asks nothing urgent, and an
 * `end-standalone` is W5's own (the exclusion lasts until it is acknowledged, and says so).
 */
export const awaitsAck = (command: Command): boolean => command.type === 'promote' || command.type === 'demote';

/** What a heartbeat write adds to one pending command: its delivery, or its deadline passed; nothing if neither is new. */
function deadlineOf(
  command: PendingCommand,
  now: number,
  settings: Pick<WitnessSettings, 'commandAckMs'>,
): Partial<PendingCommand> | undefined {
  if (!awaitsAck(command)) return undefined;
  // This write's answer carries it: delivered now.
  if (command.deliveredAt === undefined) return { deliveredAt: now };
  if (command.overdueAt === undefined && now - command.deliveredAt >= settings.commandAckMs) return { overdueAt: now };
  return undefined;
}

/**
 * The node's commands with this heartbeat's marks, and when its next heartbeat must look again (the
 * earliest deadline not yet passed; undefined when nothing awaits). `acks` are removed by the write.
 */
function marked(commands: Record<string, PendingCommand>, acks: readonly string[], now: number, settings: WitnessSettings) {
  const kept = Object.entries(commands).filter(([id]) => !acks.includes(id));
  const next = Object.fromEntries(kept.map(([id, command]) => [id, { ...command, ...deadlineOf(command, now, settings) }]));
  const deadlines = Object.values(next).flatMap((c) =>
    awaitsAck(c) && c.overdueAt === undefined && c.deliveredAt !== undefined ? [c.deliveredAt + settings.commandAckMs] : [],
  );
  return { commands: next, dueAt: deadlines.length > 0 ? Math.min(...deadlines) : undefined };
}

const dueAtUpdate = (nodeId: string, dueAt: number | undefined): Update =>
  dueAt === undefined ? { op: 'remove', path: ['nodes', nodeId, 'commandsDueAt'] } : set(['nodes', nodeId, 'commandsDueAt'], dueAt);

/**
 * The deadline of the caller's promote and demote commands (`commandAckMs`), kept on the commands by
 * the heartbeat write of the node that owes them: that write happens anyway, and the stream tells
 * the mark (`command.unacknowledged`, events.ts). A command is delivered by the first heartbeat
 * write after its issue (whose answer carries it), and overdue at the first heartbeat `commandAckMs`
 * or more after that which does not acknowledge it. No timer: a node not heard at all is
 * `node.lost`, and is given the full time again from its return.
 *
 * `commandsDueAt` (set to the issue time by the write that issues one) says when a heartbeat must
 * look, so that a write planned without a sight of the site can tell that it need not: it is
 * guarded on nothing being due (`nothingDue`), and otherwise fails and is decided again on the
 * state, so pure rules and store mark alike. With a sight in hand (perhaps a cache) on which
 * something is due, the marks and the next due time are written in the same write, pinned to
 * `rev`: they are computed from every command, and a sight that missed one must fail, not drop it.
 * That happens about three times per command (delivery, deadline, acknowledgement). No grant or
 * renewal reads any of this (W1–W5 untouched).
 */
function ackDeadlines(
  known: SiteState | undefined,
  nodeId: string,
  acks: readonly string[],
  now: number,
  settings: WitnessSettings,
): { pins: Guard[]; updates: Update[] } {
  const quiet = nothingDue(nodeId, acks, now);
  const node = known?.nodes[nodeId];
  if (!known || !node || holds(quiet, known)) return { pins: [quiet], updates: [] };
  const next = marked(node.commands, acks, now, settings);
  const updates: Update[] = [dueAtUpdate(nodeId, next.dueAt)];
  for (const [id, command] of Object.entries(node.commands)) {
    if (acks.includes(id)) continue;
    for (const [field, value] of Object.entries(deadlineOf(command, now, settings) ?? {}))
      updates.push(set(['nodes', nodeId, 'commands', id, field], value));
  }
  return { pins: [eq(['rev'], known.rev)], updates };
}

/**
 * Nothing about the node's awaited commands to write: no due time, or one still ahead and no
 * promote or demote among those this request acknowledges (that settles the due time at once).
 */
function nothingDue(nodeId: string, acks: readonly string[], now: number): Guard {
  const dueAt = ['nodes', nodeId, 'commandsDueAt'];
  const notAwaited = (id: string) => {
    const path = ['nodes', nodeId, 'commands', id];
    return or(missing(path), and(ne([...path, 'type'], 'promote'), ne([...path, 'type'], 'demote')));
  };
  return or(missing(dueAt), and(gt(dueAt, now), ...acks.map(notAwaited)));
}

/**
 * The report that makes the primary lost (`node.lost`, told with its lease end: events.ts) records
 * that its lease lapsed (`lapsed`), in the same write, so that the stream can tell its renewal at
 * that epoch whenever it comes: the peer may report it reachable again first, and then nothing in
 * the state would say it had been lost (the SLA report would count the site down from the lease end
 * on). Only a report of an unreachable peer can; the handler reads the site before one when it has
 * no sight. Decided on that sight and pinned to its `rev` until the lapse is recorded (a cut link
 * costs a stale sight a read), then to the lapse alone. The renewal or a grant removes it. Nothing
 * that grants or renews reads it (W1–W5 untouched).
 */
function primaryLapse(
  known: SiteState | undefined,
  caller: Caller,
  request: HeartbeatRequest,
  report: Update[],
  settings: WitnessSettings,
): { pins: Guard[]; updates: Update[] } {
  if (!known || request.peer?.reachable !== false) return { pins: [], updates: [] };
  if (known.lapsed)
    return { pins: [eq(['lapsed', 'primary'], known.lapsed.primary), eq(['lapsed', 'epoch'], known.lapsed.epoch)], updates: [] };
  const primary = known.primary;
  const lapses =
    primary !== null &&
    primary !== caller.nodeId &&
    !standaloneWithoutEnd(known, settings) &&
    lost(applyUpdates(known, report), caller.nodeId, primary, settings);
  const lapsed: Lapse | undefined = lapses
    ? { primary, epoch: known.epoch, leaseEndedAt: known.leaseExpiresAt, cause: 'node.lost' }
    : undefined;
  return { pins: [eq(['rev'], known.rev)], updates: lapsed ? [set(['lapsed'], lapsed)] : [] };
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
  const terms = asPrimary
    ? survivorTerms(known, caller.nodeId, { peerReachable: request.peer?.reachable ?? null, acks: request.acks ?? [] }, now, settings)
    : undefined;
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
  const deadlines = ackDeadlines(known, caller.nodeId, request.acks ?? [], now, settings);
  const report = recordReport(caller, request, now, settings);
  const lapse = terms ? { pins: [], updates: [] } : primaryLapse(known, caller, request, report, settings);
  return {
    guard: and(
      currentToken(caller),
      newerRequest(caller.nodeId, request.incarnation, request.seq),
      terms ? and(eq(['primary'], caller.nodeId), eq(['epoch'], request.epoch), terms.guard) : ne(['primary'], caller.nodeId),
      ...deadlines.pins,
      ...lapse.pins,
    ),
    updates: [
      ...report,
      ...(request.acks ?? []).map((id): Update => ({ op: 'remove', path: [...node, 'commands', id] })),
      ...renewal,
      ...deadlines.updates,
      ...lapse.updates,
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
  // The wire's commands: the witness's own marks (deliveredAt, overdueAt) stay home.
  const commands = Object.values(next.nodes[caller.nodeId]?.commands ?? {})
    .sort((a, b) => a.issuedAt - b.issuedAt || a.id.localeCompare(b.id))
    .map(({ id, type, epoch, issuedAt, reason }): Command => ({ id, type, epoch, issuedAt, reason }));
  const standalone = renewed ? standaloneOf(next, caller.nodeId, now, settings) : null;
  // Fast cadence whenever the peer link may be down or nobody leads: that is when leases matter.
  // Also when the peer reports this node unreachable though it hears the peer (a link cut one way):
  // a live node heard often is never excluded (W5). A survivor whose lease does not end reports for
  // monitoring only, and a witness outage of any length costs it nothing: slow, unless its excluded
  // peer is back and reports it unreachable (it must then be heard often, or be called lost).
  const peer = peerOf(next, caller.nodeId);
  const peerState = peer === undefined ? undefined : next.nodes[peer];
  const reportedLost =
    peerState?.peerReachable === false && peerState.lastSeenAt !== null && now - peerState.lastSeenAt <= settings.freshnessMs;
  const leasesMatter = next.primary === null || request.peer?.reachable !== true;
  const withoutEnd = standalone?.leaseMs === null;
  // A node owing a promote or demote is awaited within `commandAckMs`: it hears the command at one
  // heartbeat and acknowledges it at the next, so those come fast (a few requests per failover).
  const owes = commands.some(awaitsAck);
  const fast = reportedLost || (leasesMatter && !withoutEnd) || owes;
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
  const commands: Record<string, PendingCommand> = { ...state.nodes[caller.nodeId]?.commands };
  for (const id of request.acks ?? []) Reflect.deleteProperty(commands, id);
  const stalePrimary = request.role === 'primary' && state.primary !== caller.nodeId;
  const why = stalePrimary
    ? `node acts as primary at epoch ${request.epoch}, but the primary is ${state.primary ?? 'nobody'} at epoch ${state.epoch}`
    : `node is the primary at epoch ${state.epoch} but reports ${request.role} at epoch ${request.epoch}: lease not renewed`;
  const updates: Update[] = [
    ...recordReport(caller, request, now, settings),
    ...readmissionOnAck(state, caller.nodeId, request.acks ?? []),
  ];
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
  const next = marked(commands, [], now, settings);
  updates.push(set([...node, 'commands'], next.commands), dueAtUpdate(caller.nodeId, next.dueAt));
  return {
    kind: 'write',
    // The state may be a process's memory of the site: the token version is checked by the write itself.
    plan: { guard: and(eq(['rev'], state.rev), currentToken(caller)), updates },
    reason: why,
    respond: (next) => heartbeatResponse(next, caller, request, settings, false, now),
  };
}
