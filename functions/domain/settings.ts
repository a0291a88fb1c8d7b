/** Witness-wide timings, all in ms. One deployment, one set (sites differ only by policy). */
export interface WitnessSettings {
  /** Length of a witness lease, granted or renewed. */
  leaseMs: number;
  /** A lease counts as held until its expiry plus this margin (W1): Lambda hosts' clocks differ. */
  skewMarginMs: number;
  /** Cadence asked of a node that has lost its peer (or has none yet). */
  fastHeartbeatMs: number;
  /** Cadence asked of a node whose peer link is up: monitoring only. */
  slowHeartbeatMs: number;
  /** A claimant's last heartbeat must be at most this old. */
  freshnessMs: number;
  /** On a site that never had a primary, how long after first contact the policy may hold a claim back. */
  startupWindowMs: number;
}

export const defaultSettings: WitnessSettings = {
  leaseMs: 15_000,
  skewMarginMs: 500,
  fastHeartbeatMs: 5_000,
  slowHeartbeatMs: 60_000,
  freshnessMs: 15_000,
  startupWindowMs: 30_000,
};

/** The shortest timings the witness supports: a lease under 5 s leaves too little room for the network. */
export const shortestSettings: WitnessSettings = {
  leaseMs: 5_000,
  skewMarginMs: 500,
  fastHeartbeatMs: 1_500,
  slowHeartbeatMs: 60_000,
  freshnessMs: 5_000,
  startupWindowMs: 10_000,
};
