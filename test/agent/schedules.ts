/**
 * Fault schedules for the simulation, as fast-check arbitraries. Everything is plain data and
 * shrinks towards a calm site: no faults, no loss, clocks at rate 1, quick hooks.
 */
import fc from 'fast-check';
import {
  type Fault,
  type LinkQuality,
  type NodeId,
  nodeIds,
  type Profile,
  type ProfileName,
  profiles,
  type Schedule,
} from './simulation.ts';

/**
 * After the last fault, the time by which exactly one node must run as primary: a witness lease
 * and its skew margin (an old primary's lease must run out at the witness), two fast heartbeats
 * (a refused claim is retried after one), a peer lease (a node that restarted, or granted one,
 * waits that long before claiming), and the hooks (a demote, then a promote).
 */
export function livenessBoundMs(p: Profile): number {
  return p.witness.leaseMs + p.witness.skewMarginMs + 2 * p.witness.fastHeartbeatMs + p.agent.peerLeaseMs + p.promoteMaxMs + p.demoteMaxMs;
}

const nodeArb = fc.constantFrom<NodeId>(...nodeIds);

/** A clock: its rate as parts per million off 1, the ends of the allowed drift drawn often. */
function clockArb(drift: number) {
  const maxPpm = Math.round(drift * 1e6);
  const ppm = fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: -maxPpm, max: maxPpm }) },
    { weight: 1, arbitrary: fc.constantFrom(-maxPpm, maxPpm) },
  );
  return fc.record({ offset: fc.integer({ min: 0, max: 100_000_000 }), ppm });
}

function link(maxSpreadMs: number, slowMaxMs: number): fc.Arbitrary<LinkQuality> {
  return fc
    .record({
      minMs: fc.integer({ min: 0, max: 30 }),
      spreadMs: fc.integer({ min: 0, max: maxSpreadMs }),
      slow: fc.constantFrom(0, 0.02, 0.1, 0.3),
      slowMaxMs: fc.integer({ min: 0, max: slowMaxMs }),
      drop: fc.constantFrom(0, 0.02, 0.1, 0.3),
      duplicate: fc.constantFrom(0, 0.05, 0.3),
    })
    .map(({ minMs, spreadMs, slow, slowMaxMs: slowMax, drop, duplicate }) => ({
      minMs,
      maxMs: minMs + spreadMs,
      slow,
      slowMaxMs: minMs + spreadMs + slowMax,
      drop,
      duplicate,
    }));
}

/** Fault times, in ms of the demo's scale (a 3 s witness lease); `scale` stretches them to a profile's. */
function faultArb(scale: number): fc.Arbitrary<Fault> {
  const horizon = Math.round(40_000 * scale);
  const ms = (max: number) => fc.integer({ min: 1, max: Math.round(max * scale) });
  const linkName = fc.constantFrom('peer' as const, 'witness-a' as const, 'witness-b' as const);
  const direction = fc.constantFrom('both' as const, 'out' as const, 'back' as const);
  const at = fc.integer({ min: 0, max: horizon });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('cut' as const),
        link: linkName,
        direction,
        atMs: at,
        forMs: fc.oneof(ms(1_500), ms(12_000)),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('slow' as const),
        link: linkName,
        direction,
        atMs: at,
        forMs: ms(8_000),
        extraMs: ms(4_000),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('crash' as const),
        node: nodeArb,
        atMs: at,
        downMs: ms(6_000),
        clockOffset: fc.integer({ min: 0, max: 100_000_000 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('shutdown' as const), node: nodeArb, atMs: at, downMs: ms(6_000) }) },
  );
}

function faultEnd(f: Fault, p: Profile): number {
  switch (f.kind) {
    case 'cut':
      return f.atMs + f.forMs;
    case 'slow':
      return f.atMs + f.forMs + f.extraMs;
    case 'crash':
      return f.atMs + f.downMs;
    case 'shutdown':
      return f.atMs + p.shutdownWaitMs * (1 + p.maxDrift) + f.downMs + 1;
    case 'force':
      return f.atMs;
  }
}

/**
 * How long after a node dies the witness may exclude it (W5), at most: a failover first (a
 * witness lease, its skew, two fast heartbeats, a peer lease, the hooks), then the slowest cadence
 * the witness may have asked of the dead node, then the exclusion time.
 */
export function exclusionSpanMs(p: Profile): number {
  return livenessBoundMs(p) + p.witness.slowHeartbeatMs + p.witness.exclusionMs;
}

/**
 * Survivor mode's faults, as plain faults: `victim` dies for several exclusion spans; the other
 * node, the survivor, then loses the witness for several leases; the victim comes back (with the
 * peer link cut for a while around its return, sometimes). Optionally the survivor dies too, and an
 * operator forces the victim back while it is down; optionally, once all is healed and the victim
 * readmitted, the survivor is cut off from both, and the readmitted victim must take over.
 */
export function survivorEpisodeArb(p: Profile, horizonMs: number): fc.Arbitrary<Fault[]> {
  const span = exclusionSpanMs(p);
  const lease = p.witness.leaseMs;
  return fc
    .record({
      victim: nodeArb,
      // After both agents have started (a start is drawn within 3 s, demo scale).
      atMs: fc.integer({ min: Math.round(horizonMs / 4), max: horizonMs }),
      deadSpans: fc.double({ min: 1.5, max: 4, noNaN: true }),
      cutAfterMs: fc.integer({ min: 0, max: Math.round(span / 2) }),
      cutLeases: fc.integer({ min: 2, max: 6 }),
      cutDirection: fc.constantFrom('both' as const, 'out' as const, 'back' as const),
      peerCutMs: fc.option(fc.integer({ min: 1, max: 3 * lease }), { nil: null }),
      survivorDies: fc.option(
        fc.record({
          afterMs: fc.integer({ min: 0, max: 2 * span }),
          downSpans: fc.double({ min: 0.5, max: 3, noNaN: true }),
          force: fc.boolean(),
        }),
        {
          nil: null,
        },
      ),
      isolateSurvivor: fc.option(
        fc.record({ afterReturnMs: fc.integer({ min: 0, max: 3 * span }), forLeases: fc.integer({ min: 2, max: 5 }) }),
        { nil: null },
      ),
    })
    .map((e): Fault[] => {
      const survivor: NodeId = e.victim === 'node-a' ? 'node-b' : 'node-a';
      const witnessOf = (n: NodeId) => (n === 'node-a' ? 'witness-a' : 'witness-b');
      const deadMs = Math.round(e.deadSpans * span);
      const excludedAt = e.atMs + span;
      const returnAt = e.atMs + deadMs;
      const faults: Fault[] = [
        { kind: 'crash', node: e.victim, atMs: e.atMs, downMs: deadMs, clockOffset: e.atMs * 7 },
        { kind: 'cut', link: witnessOf(survivor), direction: e.cutDirection, atMs: excludedAt + e.cutAfterMs, forMs: e.cutLeases * lease },
      ];
      if (e.peerCutMs !== null)
        faults.push({ kind: 'cut', link: 'peer', direction: 'both', atMs: returnAt - Math.round(e.peerCutMs / 2), forMs: e.peerCutMs });
      if (e.survivorDies) {
        const diesAt = excludedAt + e.survivorDies.afterMs;
        const downMs = Math.round(e.survivorDies.downSpans * span);
        faults.push({ kind: 'crash', node: survivor, atMs: diesAt, downMs, clockOffset: diesAt * 3 });
        if (e.survivorDies.force) faults.push({ kind: 'force', atMs: diesAt + Math.round(downMs / 2) });
      }
      if (e.isolateSurvivor) {
        // After the victim's return, the survivor's report of it and the acknowledgement: then cut off.
        const at = returnAt + 2 * p.witness.slowHeartbeatMs + p.agent.peerLeaseMs + e.isolateSurvivor.afterReturnMs;
        const forMs = e.isolateSurvivor.forLeases * lease;
        faults.push(
          { kind: 'cut', link: witnessOf(survivor), direction: 'both', atMs: at, forMs },
          { kind: 'cut', link: 'peer', direction: 'both', atMs: at, forMs },
        );
      }
      return faults;
    });
}

export interface ScheduleOptions {
  profile?: ProfileName;
  /** Probability that a demote hook exits non-zero (before the heal). */
  demoteFailure: fc.Arbitrary<number>;
  maxFaults?: number;
  /** Out of bounds on purpose: clocks drifting more than the profile's `maxDrift`, hooks slower than its bounds. */
  drift?: number;
  promoteMaxMs?: number;
  demoteMaxMs?: number;
  /** Survivor-mode episodes to add (`survivorEpisodeArb`): how many, at most (default 0). */
  survivorEpisodes?: number;
  /** Whether each schedule has at least one episode (default: no, zero is drawn too). */
  alwaysSurvivor?: boolean;
}

export function scheduleArb(options: ScheduleOptions): fc.Arbitrary<Schedule> {
  const name = options.profile ?? 'demo';
  const p = profiles[name];
  const scale = p.witness.leaseMs / profiles.demo.witness.leaseMs;
  const drift = options.drift ?? p.maxDrift;
  const hookMs = (max: number) => fc.integer({ min: 1, max });
  const promoteMax = options.promoteMaxMs ?? p.promoteMaxMs;
  const demoteMax = options.demoteMaxMs ?? p.demoteMaxMs;
  const startArb = fc.integer({ min: 0, max: Math.round(3_000 * scale) });
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      clocks: fc.tuple(clockArb(drift), clockArb(drift)),
      start: fc.tuple(startArb, startArb),
      policy: fc.constantFrom('keep-primary' as const, 'prefer-a' as const, 'prefer-b' as const),
      witnessJitterMs: fc.integer({ min: 0, max: p.maxWitnessJitterMs }),
      requestTimeoutMs: fc.constantFrom(...p.requestTimeoutsMs),
      witnessLink: link(300, 2_500),
      peerLink: link(100, 600),
      promote: fc.tuple(hookMs(promoteMax), hookMs(promoteMax)),
      demote: fc.tuple(hookMs(demoteMax), hookMs(demoteMax)),
      promoteFailure: fc.constantFrom(0, 0.1, 0.3),
      demoteFailure: options.demoteFailure,
      faults: fc.array(faultArb(scale), { maxLength: options.maxFaults ?? 8 }),
      episodes: fc.array(survivorEpisodeArb(p, Math.round(20_000 * scale)), {
        minLength: options.alwaysSurvivor ? 1 : 0,
        maxLength: options.survivorEpisodes ?? 0,
      }),
      calmMs: fc.integer({ min: 0, max: Math.round(20_000 * scale) }),
    })
    .map((r): Schedule => {
      const faults = [...r.faults, ...r.episodes.flat()];
      const healAtMs = Math.max(r.calmMs, ...faults.map((f) => faultEnd(f, p)), ...r.start) + 1;
      return {
        profile: name,
        seed: r.seed,
        clocks: {
          'node-a': { offset: r.clocks[0].offset, rate: 1 + r.clocks[0].ppm / 1e6 },
          'node-b': { offset: r.clocks[1].offset, rate: 1 + r.clocks[1].ppm / 1e6 },
        },
        startMs: { 'node-a': r.start[0], 'node-b': r.start[1] },
        policy: r.policy,
        witnessJitterMs: r.witnessJitterMs,
        requestTimeoutMs: r.requestTimeoutMs,
        witnessLink: r.witnessLink,
        peerLink: r.peerLink,
        hooks: {
          promoteMs: [Math.min(...r.promote), Math.max(...r.promote)],
          demoteMs: [Math.min(...r.demote), Math.max(...r.demote)],
          promoteFailure: r.promoteFailure,
          demoteFailure: r.demoteFailure,
        },
        faults,
        healAtMs,
        // Long enough for the bound, then a stretch in which the one primary must hold.
        tailMs: livenessBoundMs(p) + Math.round(5_000 * scale),
      };
    });
}
