import type { ClaimResponse, Command, HeartbeatResponse, Standalone } from '../../protocol/node.ts';
import type { PeerHello, PeerReply } from '../../protocol/peer.ts';
import type { AgentAction, AgentInput, Hook } from './messages.ts';
import { actsAsPrimary, type AgentState, driftMarginFor, leaseEnd, mayRunWorkloads, peerLost, reportedRole } from './state.ts';

/**
 * The agent's one pure transition: the state, what happened, and the time on the node's
 * monotonic clock, in; the next state and the actions to take, out. Every input is followed by
 * the same review of leases and timers, so a rule (A1–A4) holds whatever arrives in what order.
 */
export function step(state: AgentState, input: AgentInput, now: number): { state: AgentState; actions: AgentAction[] } {
  const s: AgentState = { ...state, acks: [...state.acks], demotesToAck: [...state.demotesToAck] };
  const out: AgentAction[] = [];
  handle(s, input, now, out);
  review(s, now, out);
  return { state: s, actions: out };
}

type Out = AgentAction[];

function log(out: Out, level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void {
  out.push({ type: 'log', level, message, fields });
}

function handle(s: AgentState, input: AgentInput, now: number, out: Out): void {
  switch (input.type) {
    case 'tick':
      return;
    case 'witness-heartbeat-ok':
      if (s.witnessInflight?.seq === input.seq) onHeartbeat(s, input.body, s.witnessInflight.sentAt, s.witnessInflight.acks, now, out);
      return;
    case 'witness-claim-ok':
      if (s.witnessInflight?.seq === input.seq) onClaim(s, input.body, s.witnessInflight.sentAt, now, out);
      return;
    case 'witness-failed': {
      if (s.witnessInflight?.seq !== input.seq) return;
      // No answer: the URL and the cause (`connect ECONNREFUSED …`) say what to check.
      const fields = { status: input.status, code: input.code, ...input.unreachable };
      log(out, input.status === 401 ? 'error' : 'warn', `witness ${s.witnessInflight.kind} failed`, fields);
      if (s.witnessFailures++ === 0) log(out, 'warn', 'witness unreachable', fields);
      if (s.witnessInflight.kind === 'claim') s.nextClaimAt = now + s.timings.witnessRetryMs;
      else s.nextHeartbeatAt = now + s.timings.witnessRetryMs;
      s.witnessInflight = null;
      return;
    }
    case 'peer-hello':
      out.push({ type: 'peer-answer', reply: onPeerHello(s, input.hello, now, out) });
      return;
    case 'peer-reply':
      s.peerInflight = null;
      onPeerReply(s, input.reply, input.sentAt, now, out);
      return;
    case 'peer-failed':
      s.peerInflight = null;
      return;
    case 'hook-exited':
      onHookExit(s, input.hook, input.code, now, out);
      return;
    case 'health':
      s.health = { score: input.score, checks: input.checks };
      return;
    case 'shutdown':
      s.stopping = true;
      demote(s, 'the agent is stopping', now, out);
      return;
  }
}

/** A4: a higher epoch seen anywhere is adopted, and a node acting as primary on an older one demotes. */
function learnEpoch(s: AgentState, epoch: number, source: string, now: number, out: Out): void {
  if (epoch <= s.epoch) return;
  const wasPrimary = mayRunWorkloads(s.role);
  s.epoch = epoch;
  // A5 binds a standalone lease to its epoch: another node leads now (an operator forced it), so
  // the lease is void at once, not at some later end.
  if (s.standalone)
    endStandalone(s, Math.min(s.witnessLeaseEnd, now), now, 'warn', `standalone lease void: ${source} reports epoch ${epoch}`, {}, out);
  if (wasPrimary) demote(s, `${source} reports epoch ${epoch}, newer than this node's`, now, out);
}

function witnessAnswered(s: AgentState, now: number, out: Out): void {
  s.witnessInflight = null;
  s.witnessLastOk = now;
  if (s.witnessFailures > 0) log(out, 'info', 'witness back', { failures: s.witnessFailures });
  s.witnessFailures = 0;
}

function onHeartbeat(s: AgentState, body: HeartbeatResponse, sentAt: number, sentAcks: string[], now: number, out: Out): void {
  witnessAnswered(s, now, out);
  s.acks = s.acks.filter((id) => !sentAcks.includes(id));
  s.heartbeatMs = body.heartbeatMs;
  s.nextHeartbeatAt = sentAt + body.heartbeatMs;
  s.witnessPrimary = body.primary;
  learnExclusion(s, body.excluded, undefined, out);
  learnEpoch(s, body.epoch, 'the witness', now, out);
  let renewedUntil: number | null = null;
  if (actsAsPrimary(s.role) && (body.primary !== s.nodeId || body.epoch !== s.epoch)) {
    demote(s, `the witness says the primary is ${body.primary ?? 'nobody'} at epoch ${body.epoch}`, now, out);
  } else if (body.leaseMs !== null && actsAsPrimary(s.role)) {
    // A2: the lease runs from when the request was sent, less the drift margin.
    renewedUntil = sentAt + body.leaseMs - s.timings.driftMarginMs;
  }
  // The answer that carries `end-standalone` says `standalone: null`: the command ends the lease
  // (below, with this answer's renewal), not the absence of the word.
  const ending = body.commands.some((c) => c.type === 'end-standalone' && !s.acks.includes(c.id));
  if (renewedUntil !== null && !(ending && s.standalone))
    takeWitnessLease(s, renewedUntil, ending ? null : body.standalone, sentAt, now, out);
  for (const command of body.commands) onCommand(s, command, renewedUntil, now, out);
}

/**
 * A witness lease earned (`ordinaryEnd`, A2), standalone or not (A5). While standalone, each answer
 * states the lease afresh (one request is in flight at a time, so a later answer is newer): it
 * replaces the end, so that an end without bound never survives the answer that gives a bounded or
 * ordinary one.
 */
function takeWitnessLease(s: AgentState, ordinaryEnd: number, standalone: Standalone, sentAt: number, now: number, out: Out): void {
  if (standalone !== null) {
    const bound = standalone.leaseMs;
    s.witnessLeaseEnd = bound === null ? Infinity : Math.max(ordinaryEnd, sentAt + bound - driftMarginFor(s.timings, bound));
    if (!s.standalone) {
      log(out, 'warn', 'survivor mode: the lease is standalone', {
        epoch: s.epoch,
        standaloneLeaseMs: bound,
        why: `the witness excludes this node's peer (last heard ${s.peerLastHeard === null ? 'never' : `${Math.round(now - s.peerLastHeard)} ms ago`}): this node keeps running without renewals${bound === null ? '' : ` for ${bound} ms after each one`}`,
      });
    }
    s.standalone = true;
  } else if (s.standalone) {
    endStandalone(
      s,
      ordinaryEnd,
      now,
      'info',
      'standalone lease ended by the witness',
      { reason: 'the witness renewed an ordinary lease' },
      out,
    );
  } else {
    s.witnessLeaseEnd = Math.max(s.witnessLeaseEnd, ordinaryEnd);
  }
}

function endStandalone(
  s: AgentState,
  witnessLeaseEnd: number,
  now: number,
  level: 'info' | 'warn',
  message: string,
  fields: Record<string, unknown>,
  out: Out,
): void {
  s.standalone = false;
  s.witnessLeaseEnd = witnessLeaseEnd;
  log(out, level, message, { ...fields, epoch: s.epoch, witnessLeaseRemainingMs: Math.max(0, Math.round(witnessLeaseEnd - now)) });
}

/** W5: an excluded node claims nothing; it says so once when it becomes excluded, and once when readmitted. */
function learnExclusion(s: AgentState, excluded: boolean, message: string | undefined, out: Out): void {
  if (excluded === s.excluded) return;
  s.excluded = excluded;
  if (excluded) {
    const why =
      message ??
      `${s.witnessPrimary ?? 'the other node'} runs alone on a standalone lease (survivor mode); this node rejoins as secondary once ${s.witnessPrimary ?? 'it'} hears it on the peer link, and never claims meanwhile`;
    log(out, 'warn', `excluded by the witness: ${why}`, { primary: s.witnessPrimary ?? null, epoch: s.epoch });
  } else {
    log(out, 'info', 'readmitted by the witness: this node may claim again', { primary: s.witnessPrimary ?? null, epoch: s.epoch });
  }
}

function onCommand(s: AgentState, command: Command, renewedUntil: number | null, now: number, out: Out): void {
  if (s.acks.includes(command.id)) return;
  switch (command.type) {
    case 'demote':
      if (s.demotesToAck.includes(command.id)) return;
      if (mayRunWorkloads(s.role)) {
        demote(s, `demote command at epoch ${command.epoch}: ${command.reason}`, now, out);
        s.demotesToAck.push(command.id);
      } else {
        s.acks.push(command.id);
      }
      return;
    case 'promote':
      // Promotion comes only from a granted claim (A4); the command is acknowledged once that
      // has happened, or when it is already out of date.
      if (command.epoch < s.epoch || (s.role === 'primary' && s.wonEpoch === command.epoch)) s.acks.push(command.id);
      return;
    case 'resync':
      log(out, 'info', 'resync asked by the witness', { command: command.id });
      s.acks.push(command.id);
      return;
    case 'end-standalone':
      onEndStandalone(s, command, renewedUntil, now, out);
      return;
  }
}

/**
 * A5, W5: the witness ends the standalone lease, and readmits the peer once this node acknowledges.
 * The ack goes out once nothing runs on the standalone lease: the answer renewed an ordinary lease,
 * which replaces it, or no workloads may run. Otherwise the workloads stop first (A1: nothing else
 * covers them) while the witness still keeps the standalone lease, and the ack waits for the
 * demote, as a demote command's does: a peer readmitted sooner could claim beside them.
 */
function onEndStandalone(s: AgentState, command: Command, renewedUntil: number | null, now: number, out: Out): void {
  if (s.demotesToAck.includes(command.id)) return;
  const fields = { command: command.id, reason: command.reason };
  if (!s.standalone) {
    log(out, 'info', 'end-standalone acknowledged: this node holds no standalone lease', fields);
    s.acks.push(command.id);
  } else if (renewedUntil !== null || !mayRunWorkloads(s.role)) {
    endStandalone(s, renewedUntil ?? 0, now, 'info', 'standalone lease ended by the witness', fields, out);
    s.acks.push(command.id);
    // The peer stays excluded until the ack: send it now, not a slow cadence later.
    s.nextHeartbeatAt = Math.min(s.nextHeartbeatAt, now);
  } else {
    log(out, 'warn', 'standalone lease ended by the witness', { ...fields, renewed: false, ack: 'once the workloads have stopped' });
    if (actsAsPrimary(s.role)) demote(s, 'the witness ended the standalone lease and renewed no lease', now, out);
    s.demotesToAck.push(command.id);
  }
}

function onClaim(s: AgentState, body: ClaimResponse, sentAt: number, now: number, out: Out): void {
  witnessAnswered(s, now, out);
  if (!body.granted) {
    learnEpoch(s, body.epoch, 'the witness', now, out);
    s.witnessPrimary = body.primary;
    s.nextClaimAt = now + Math.max(body.retryAfterMs, s.timings.witnessRetryMs);
    if (body.reason === 'not-fresh') s.nextHeartbeatAt = now;
    log(out, 'info', 'claim refused', { reason: body.reason, primary: body.primary, epoch: body.epoch, retryAfterMs: body.retryAfterMs });
    if (body.reason === 'excluded') learnExclusion(s, true, body.message, out);
    return;
  }
  learnEpoch(s, body.epoch, 'the witness', now, out);
  if (body.epoch < s.epoch) {
    // A4: a newer epoch was seen while this answer was on its way; it is out of date, and this
    // node did not win the epoch it now knows of. Promote on nothing: the next claim learns more.
    log(out, 'warn', 'claim granted at an epoch older than one already seen: not promoting', { epoch: body.epoch, seen: s.epoch });
    return;
  }
  s.epoch = Math.max(s.epoch, body.epoch);
  s.wonEpoch = body.epoch;
  s.witnessPrimary = s.nodeId;
  s.claiming = false;
  takeWitnessLease(s, sentAt + body.leaseMs - s.timings.driftMarginMs, body.standalone, sentAt, now, out);
  log(out, 'info', 'claim granted', { epoch: body.epoch, leaseMs: body.leaseMs, standalone: body.standalone });
  if (s.role === 'secondary' && !s.stopping && now < leaseEnd(s) - s.timings.fenceLeadMs) {
    // Its secondary has had no chance to grant a peer lease yet: count the link as up until it has.
    s.peerLeaseRenewedAt = now;
    s.role = 'promoting';
    s.hookRunning = 'promote';
    out.push({ type: 'run-hook', hook: 'promote', epoch: s.epoch, reason: `won epoch ${s.epoch}` });
    log(out, 'info', 'promoting', { epoch: s.epoch, leaseRemainingMs: leaseEnd(s) - now });
  }
}

function onPeerHello(s: AgentState, hello: PeerHello, now: number, out: Out): PeerReply {
  // It answers as what it is once the hello is taken in (a newer epoch may have demoted it).
  const reply = (leaseMs: number | null): PeerReply => ({
    nodeId: s.nodeId,
    incarnation: s.incarnation,
    epoch: s.epoch,
    role: reportedRole(s.role),
    leaseMs,
  });
  // A peer.url that points back at this node would make it its own live peer.
  if (hello.nodeId === s.nodeId) {
    log(out, 'error', 'a hello from this node itself: peer.url points at this node, not its peer', {});
    return reply(null);
  }
  s.peerLastHeard = now;
  s.peerRole = hello.role;
  learnEpoch(s, hello.epoch, 'the peer', now, out);
  // A3: a secondary that has decided to claim grants nothing; nor does anyone to a stale primary.
  const grant = s.role === 'secondary' && !s.claiming && hello.wantLease && hello.role === 'primary' && hello.epoch >= s.epoch;
  if (grant) s.grantedUntil = Math.max(s.grantedUntil, now + s.timings.peerLeaseMs + s.timings.driftMarginMs);
  return reply(grant ? s.timings.peerLeaseMs : null);
}

function onPeerReply(s: AgentState, reply: PeerReply, sentAt: number, now: number, out: Out): void {
  if (reply.nodeId === s.nodeId) return;
  s.peerLastHeard = now;
  s.peerRole = reply.role;
  learnEpoch(s, reply.epoch, 'the peer', now, out);
  if (reply.leaseMs !== null && actsAsPrimary(s.role) && reply.epoch === s.epoch) {
    s.peerLeaseEnd = Math.max(s.peerLeaseEnd, sentAt + reply.leaseMs - s.timings.driftMarginMs);
    s.peerLeaseRenewedAt = now;
  }
}

function onHookExit(s: AgentState, hook: Hook, code: number | null, now: number, out: Out): void {
  if (s.hookRunning !== hook) return;
  s.hookRunning = null;
  if (hook === 'promote') {
    log(out, code === 0 ? 'info' : 'error', 'promote hook exited', { code, epoch: s.epoch });
    const leaseOk = now < leaseEnd(s) - s.timings.fenceLeadMs;
    if (code === 0 && leaseOk && !s.demoteAfterPromote && s.role === 'promoting') {
      s.role = 'primary';
      log(out, 'info', 'running as primary', { epoch: s.epoch, leaseRemainingMs: leaseEnd(s) - now });
    } else {
      s.demoteAfterPromote = false;
      demote(s, code === 0 ? 'lease ended or a newer epoch was seen while promoting' : 'promote hook failed', now, out);
    }
    return;
  }
  log(out, code === 0 ? 'info' : 'error', 'demote hook exited', { code });
  if (code === 0) {
    s.role = 'secondary';
    if (s.standalone) log(out, 'info', 'standalone lease given up: the workloads have stopped', { epoch: s.epoch });
    s.standalone = false;
    s.witnessLeaseEnd = 0;
    s.peerLeaseEnd = 0;
    s.acks.push(...s.demotesToAck);
    s.demotesToAck = [];
  } else {
    // Workloads may still run: never report secondary; try again (the watchdog is the last resort).
    s.role = 'fenced';
    s.fencedBecause = 'retrying: the demote hook failed';
    s.nextDemoteAt = now + s.timings.hookRetryMs;
  }
}

function demote(s: AgentState, reason: string, now: number, out: Out): void {
  if (s.hookRunning === 'demote') return;
  if (s.hookRunning === 'promote') {
    s.demoteAfterPromote = true;
    return;
  }
  if (!mayRunWorkloads(s.role)) return;
  s.role = 'demoting';
  s.hookRunning = 'demote';
  out.push({ type: 'run-hook', hook: 'demote', epoch: s.epoch, reason });
  log(out, 'warn', 'demoting', { reason, epoch: s.epoch, leaseRemainingMs: leaseEnd(s) - now });
}

/** After every input: fence in time (A1; never while standalone without end, A5), retry a failed demote, decide to claim (A3, W5), send what is due. */
function review(s: AgentState, now: number, out: Out): void {
  const t = s.timings;
  if (actsAsPrimary(s.role) && now >= leaseEnd(s) - t.fenceLeadMs) demote(s, 'leases run out: self-fence', now, out);
  if (s.role === 'fenced' && s.hookRunning === null && now >= s.nextDemoteAt) {
    demote(s, s.fencedBecause, now, out);
  }

  const lost = peerLost(s, now);
  if (lost !== s.peerWasLost) {
    s.peerWasLost = lost;
    log(out, lost ? 'warn' : 'info', lost ? 'peer lost' : 'peer back', {
      lastHeardMsAgo: s.peerLastHeard === null ? null : now - s.peerLastHeard,
    });
    // Tell the witness at once: a primary must renew its witness lease before its peer lease ends.
    s.nextHeartbeatAt = now;
  }

  if (s.role === 'secondary' && s.hookRunning === null) {
    // W5: an excluded node claims nothing, whatever it sees: the survivor may be running, cut off.
    const wants =
      !s.stopping && !s.excluded && s.witnessLastOk !== null && (lost || s.witnessPrimary === null || s.witnessPrimary === s.nodeId);
    if (wants && !s.claiming) {
      s.claiming = true;
      log(out, 'info', 'deciding to claim: granting no more peer leases', {
        grantedUntilInMs: Math.max(0, s.grantedUntil - now),
        peerLost: lost,
      });
    } else if (!wants && s.claiming && s.witnessInflight?.kind !== 'claim') {
      s.claiming = false;
    }
  }

  if (s.witnessInflight === null) {
    if (s.claiming && s.role === 'secondary' && now > s.grantedUntil && now >= s.nextClaimAt) {
      const reason = lost ? 'peer-lost' : 'startup';
      s.seq += 1;
      s.witnessInflight = { kind: 'claim', seq: s.seq, sentAt: now, acks: [] };
      out.push({ type: 'witness-claim', request: { incarnation: s.incarnation, seq: s.seq, epoch: s.epoch, reason } });
    } else if (now >= s.nextHeartbeatAt) {
      s.seq += 1;
      const acks = s.acks.slice(0, 16);
      s.witnessInflight = { kind: 'heartbeat', seq: s.seq, sentAt: now, acks };
      out.push({
        type: 'witness-heartbeat',
        request: {
          incarnation: s.incarnation,
          seq: s.seq,
          epoch: s.epoch,
          role: reportedRole(s.role),
          // Reachable only if actually heard: a primary just promoted counts its link as up before
          // its peer spoke (`onClaim`), and W5 reads "reachable" from a survivor as "hears its peer
          // again", which would readmit a dead peer.
          peer: {
            reachable: !lost && s.peerLastHeard !== null && now - s.peerLastHeard <= t.peerTimeoutMs,
            lastContactMs: s.peerLastHeard === null ? null : Math.round(now - s.peerLastHeard),
          },
          ...(s.health ? { health: s.health } : {}),
          ...(acks.length ? { acks } : {}),
        },
      });
    }
  }

  if (s.peerInflight === null && now >= s.nextHelloAt) {
    s.peerInflight = { sentAt: now };
    s.nextHelloAt = now + t.peerHelloMs;
    out.push({
      type: 'peer-hello',
      hello: { nodeId: s.nodeId, incarnation: s.incarnation, epoch: s.epoch, role: reportedRole(s.role), wantLease: actsAsPrimary(s.role) },
    });
  }
}
