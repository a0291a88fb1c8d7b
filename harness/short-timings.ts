import type { AgentTimings } from '../agent/core/settings.ts';
import type { WitnessSettings } from '../functions/domain/settings.ts';

/** Shortened leases for the demo and the chaos sweeps: the same rules, a fifth of the waiting. */
export const shortWitnessSettings: WitnessSettings = {
  leaseMs: 3_000,
  skewMarginMs: 250,
  fastHeartbeatMs: 1_000,
  slowHeartbeatMs: 5_000,
  freshnessMs: 3_000,
  // Longer than a starting agent's wait (peer lease + drift margin), so a preferred node can win a cold start.
  startupWindowMs: 4_000,
  silenceMs: 15_000,
  dueBucketMs: 10_000,
  exclusionMs: 6_000,
  standaloneLeaseMs: null,
  commandAckMs: 10_000,
};

export const shortAgentTimings: AgentTimings = {
  peerLeaseMs: 2_000,
  peerHelloMs: 250,
  peerTimeoutMs: 800,
  driftMarginMs: 100,
  fenceLeadMs: 400,
  witnessRetryMs: 300,
  initialHeartbeatMs: 1_000,
  hookRetryMs: 500,
};

export const shortRequestTimeoutMs = 800;
