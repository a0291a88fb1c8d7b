/** The agent's timings, in ms of its own monotonic clock. */
export interface AgentTimings {
  /** Length of a peer lease this node grants its primary. */
  peerLeaseMs: number;
  /** How often each node says hello to its peer (the primary asks for a peer lease each time). */
  peerHelloMs: number;
  /** Silence from the peer after which it counts as lost. */
  peerTimeoutMs: number;
  /** Taken off every lease held and added to every lease granted: clocks run at different rates (A2). */
  driftMarginMs: number;
  /** A primary starts its demote hook this long before its last lease ends, so workloads stop in time (A1). */
  fenceLeadMs: number;
  /** Wait before asking the witness again after it could not be reached. */
  witnessRetryMs: number;
  /** Cadence used until the witness says otherwise. */
  initialHeartbeatMs: number;
  /** Wait before running a failed demote hook again. */
  hookRetryMs: number;
}

export const defaultTimings: AgentTimings = {
  peerLeaseMs: 10_000,
  peerHelloMs: 1_000,
  peerTimeoutMs: 3_000,
  driftMarginMs: 250,
  fenceLeadMs: 2_000,
  witnessRetryMs: 1_000,
  initialHeartbeatMs: 5_000,
  hookRetryMs: 2_000,
};

/** Relations the timings must keep for A1–A3 to hold; returns what is wrong, if anything. */
export function timingProblems(t: AgentTimings): string[] {
  const problems: string[] = [];
  if (t.peerHelloMs >= t.peerTimeoutMs) problems.push('peerHelloMs must be shorter than peerTimeoutMs');
  if (t.peerTimeoutMs + t.fenceLeadMs + t.driftMarginMs >= t.peerLeaseMs) {
    problems.push('peerLeaseMs must exceed peerTimeoutMs + fenceLeadMs + driftMarginMs, or a primary fences before it notices a lost peer');
  }
  return problems;
}

/** The agent's timings to pair with the witness's shortest supported lease (5 s). */
export const shortestTimings: AgentTimings = {
  peerLeaseMs: 4_000,
  peerHelloMs: 500,
  peerTimeoutMs: 1_500,
  driftMarginMs: 250,
  fenceLeadMs: 1_000,
  witnessRetryMs: 500,
  initialHeartbeatMs: 1_500,
  hookRetryMs: 1_000,
};
