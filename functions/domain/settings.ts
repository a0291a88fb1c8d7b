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
  /** A site none of whose nodes has been heard for this long is down (`site.down`, from the silence detector). */
  silenceMs: number;
  /**
   * The width of the due index's time buckets: a contact files its site under its bucket, and the
   * detector reads a bucket once it is over. A site moves in the index once a bucket (2 index
   * writes), so wider buckets cost less; narrower ones notice a silence sooner (by one bucket at most).
   */
  dueBucketMs: number;
  /**
   * W5: a node unheard for this long beyond the cadence last asked of it, while the other node holds
   * the lease and reports it unreachable, is excluded, and the other node's lease becomes standalone.
   */
  exclusionMs: number;
  /**
   * A standalone lease lasts this long after its last renewal (then the exclusion lapses with it), or,
   * when null, until the excluded node is readmitted: the survivor never stops for a witness outage.
   */
  standaloneLeaseMs: number | null;
  /**
   * A promote or demote command not acknowledged this long after the witness first delivered it is
   * overdue (`command.unacknowledged`). Counted from delivery, not issue: a node away meanwhile is
   * `node.lost`, and its first heartbeat back must be given the time to act.
   */
  commandAckMs: number;
}

export const defaultSettings: WitnessSettings = {
  leaseMs: 15_000,
  skewMarginMs: 500,
  fastHeartbeatMs: 5_000,
  slowHeartbeatMs: 60_000,
  freshnessMs: 15_000,
  startupWindowMs: 30_000,
  // Three slow heartbeats missed: one lost request is not a site down.
  silenceMs: 180_000,
  dueBucketMs: 300_000,
  exclusionMs: 30_000,
  standaloneLeaseMs: null,
  commandAckMs: 30_000,
};

/** The shortest timings the witness supports: a lease under 5 s leaves too little room for the network. */
export const shortestSettings: WitnessSettings = {
  leaseMs: 5_000,
  skewMarginMs: 500,
  fastHeartbeatMs: 1_500,
  slowHeartbeatMs: 60_000,
  freshnessMs: 5_000,
  startupWindowMs: 10_000,
  silenceMs: 180_000,
  dueBucketMs: 300_000,
  exclusionMs: 10_000,
  standaloneLeaseMs: null,
  commandAckMs: 3_000,
};
