import type { AgentTimings } from './settings.ts';

/**
 * - `secondary`: runs no workloads.
 * - `promoting`: the promote hook runs (workloads starting): counts as primary.
 * - `primary`: workloads run; it holds a witness or peer lease (A1).
 * - `demoting`: the demote hook runs; workloads may still run.
 * - `fenced`: the demote hook failed and is retried; workloads may still run.
 */
export type AgentRole = 'secondary' | 'promoting' | 'primary' | 'demoting' | 'fenced';

export interface AgentState {
  nodeId: string;
  timings: AgentTimings;
  incarnation: number;
  /** Last seq used: every request to the witness takes the next one (W4). */
  seq: number;
  /** Highest epoch seen anywhere. */
  epoch: number;
  /** The epoch this node last won from the witness: it promotes on no other (A4). */
  wonEpoch: number | null;
  role: AgentRole;
  /**
   * Ends of the leases held, on this node's clock, the drift margin already taken off (A2). The
   * witness lease is +Infinity while it is standalone without end (A5).
   */
  witnessLeaseEnd: number;
  /**
   * A5: the witness said this node's lease is standalone (its peer is excluded): it runs without
   * renewals until an `end-standalone` command, or a newer epoch (A4), ends that.
   */
  standalone: boolean;
  /** W5: the witness excludes this node: it claims nothing until an answer readmits it. */
  excluded: boolean;
  peerLeaseEnd: number;
  /** End of the last peer lease granted, on this node's clock, the drift margin added (A3). */
  grantedUntil: number;
  peerLastHeard: number | null;
  /** When a reply last renewed the peer lease: a primary's measure of its peer link. */
  peerLeaseRenewedAt: number | null;
  peerRole: string | null;
  /** Set once this node decides to claim: from then on it grants no peer lease (A3). */
  claiming: boolean;
  /** The witness's primary as last heard; undefined until the witness first answers. */
  witnessPrimary: string | null | undefined;
  witnessLastOk: number | null;
  /** Witness requests failed in a row. */
  witnessFailures: number;
  witnessInflight: { kind: 'heartbeat' | 'claim'; seq: number; sentAt: number; acks: string[] } | null;
  heartbeatMs: number;
  nextHeartbeatAt: number;
  nextClaimAt: number;
  peerInflight: { sentAt: number } | null;
  nextHelloAt: number;
  peerWasLost: boolean;
  hookRunning: 'promote' | 'demote' | null;
  /** A demote asked for while the promote hook ran: it starts as soon as that hook exits. */
  demoteAfterPromote: boolean;
  nextDemoteAt: number;
  /** Command ids to acknowledge in the next heartbeat. */
  acks: string[];
  /**
   * Commands to acknowledge once workloads have stopped: `demote`, and an `end-standalone` that came
   * while workloads still ran on the standalone lease (the witness keeps that lease until the ack).
   */
  demotesToAck: string[];
  health: { score: number; checks: Record<string, 'ok' | 'warn' | 'fail'> } | null;
  /** The agent is shutting down: it demotes and claims nothing more. */
  stopping: boolean;
  /** Why the node is fenced, for the log of the demote it retries. */
  fencedBecause: string;
}

/**
 * A node that starts may have granted a peer lease before it stopped and forgotten it, so it
 * counts one as granted from now (A3): it claims no sooner than a full peer lease after starting.
 * It forgets a standalone lease and an exclusion too: the witness tells them again.
 * And it may have died as primary with its workloads still running (or the machine may have
 * started them at boot), so it starts fenced: its first act is the demote hook.
 */
export function initialAgentState(nodeId: string, incarnation: number, timings: AgentTimings, now: number): AgentState {
  return {
    nodeId,
    timings,
    incarnation,
    seq: 0,
    epoch: 0,
    wonEpoch: null,
    role: 'fenced',
    witnessLeaseEnd: 0,
    standalone: false,
    excluded: false,
    peerLeaseEnd: 0,
    grantedUntil: now + timings.peerLeaseMs + timings.driftMarginMs,
    peerLastHeard: null,
    peerLeaseRenewedAt: null,
    peerRole: null,
    claiming: false,
    witnessPrimary: undefined,
    witnessLastOk: null,
    witnessFailures: 0,
    witnessInflight: null,
    heartbeatMs: timings.initialHeartbeatMs,
    nextHeartbeatAt: now,
    nextClaimAt: now,
    peerInflight: null,
    nextHelloAt: now,
    peerWasLost: true,
    hookRunning: null,
    demoteAfterPromote: false,
    nextDemoteAt: now,
    acks: [],
    demotesToAck: [],
    health: null,
    stopping: false,
    fencedBecause: 'starting: a previous run may have left workloads running',
  };
}

/** Roles in which workloads may run. */
export function mayRunWorkloads(role: AgentRole): boolean {
  return role !== 'secondary';
}

/** Roles in which the node acts as primary and must hold a lease (A1). */
export function actsAsPrimary(role: AgentRole): boolean {
  return role === 'promoting' || role === 'primary';
}

/** The role the node reports to the witness and its peer: never secondary while workloads may run. */
export function reportedRole(role: AgentRole): 'primary' | 'secondary' | 'fenced' {
  if (actsAsPrimary(role)) return 'primary';
  return role === 'secondary' ? 'secondary' : 'fenced';
}

export function leaseEnd(state: AgentState): number {
  return Math.max(state.witnessLeaseEnd, state.peerLeaseEnd);
}

/**
 * A primary counts its peer as lost once the peer lease stops being renewed, even if it still
 * hears the peer's hellos (a one-way cut): that is the moment it must lean on the witness.
 */
export function peerLost(state: AgentState, now: number): boolean {
  const heard = actsAsPrimary(state.role) ? state.peerLeaseRenewedAt : state.peerLastHeard;
  return heard === null || now - heard > state.timings.peerTimeoutMs;
}

/**
 * A2 for a lease of `leaseMs`: the drift margin, stretched for a lease longer than a peer lease. The
 * margin is sized so that `driftMarginMs / peerLeaseMs` bounds the clocks' rate difference; a bounded
 * standalone lease (hours, days) drifts by that rate over its whole length, far more than the flat
 * margin, so it loses as much. Ordinary witness leases keep the flat margin: the witness's skew
 * margin covers what is left (test/agent/simulation.ts, `boundsProblems`).
 */
export function driftMarginFor(timings: AgentTimings, leaseMs: number): number {
  return Math.max(timings.driftMarginMs, Math.ceil((leaseMs * timings.driftMarginMs) / timings.peerLeaseMs));
}
