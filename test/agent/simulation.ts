/**
 * A deterministic discrete-event simulation of one site: two pure agent cores (`step`), each on
 * its own drifting clock, the pure witness rules (`PureWitness`) on server time (each request on
 * a host whose clock may be a little off), lossy, slow, duplicating and partitioned links, hooks
 * that take time and sometimes fail, crashes, restarts and graceful shutdowns. Time is virtual:
 * a minute of site life takes a few milliseconds. Timings come from a `Profile`: the demo's, the
 * shortest supported, or the defaults.
 *
 * Each agent runs in the real agent's loop (`agent/driver.ts`); only its ports are simulated: the
 * node's drifting clock, whose ticks (every `tickMs` of the agent's clock) come up to
 * `tickLatenessMs` late; the witness link, where a request times out after `requestTimeoutMs` (a
 * failure with status null, as the witness client's) and a non-200 answer is a failure with its
 * status and code; the peer link, where a hello times out after `peerHelloMs`; hooks that take
 * time. Shutdown waits for the workloads to stop, then exits, as `agent/io/runtime.ts` does.
 *
 * Ground truth (what `harness/workload-log.ts` records live): a node's workloads may run from the
 * real instant its promote hook *starts* (more conservative than the live checker, which starts
 * at the hook's `start` line) until its demote hook *completes with exit 0*, or the machine
 * crashes. A promote hook that fails may have started something, so it counts too; a demote
 * hook that fails has stopped nothing.
 *
 * Every rule (A1–A4) is checked at every step of either agent, the ground truth at every event;
 * the first violation ends the run (`SimResult.violation`).
 *
 * Survivor mode (W5, A5): the witness excludes a node it has not heard for long and makes the
 * survivor's lease standalone. Every witness answer is checked against what the witness counts
 * when it gives it (a lease without end only while the witness holds one), and the time a survivor
 * that was told its lease is standalone runs no workloads while the witness still holds that lease
 * for it is measured (`survivorOutageMs`, which must be 0). The operator's forced failover is a
 * fault (`force`), applied with the witness's own rules, and only while the survivor is down (the
 * confirmation the operator must type says so).
 */
import type { AgentAction, AgentInput } from '../../agent/core/messages.ts';
import { AgentDriver, type ClaimAction, type DriverClock, type HeartbeatAction, type StepRecord, tickMs } from '../../agent/driver.ts';
import type { WitnessResult } from '../../agent/io/witness-client.ts';
import { type AgentTimings, defaultTimings, shortestTimings } from '../../agent/core/settings.ts';
import { actsAsPrimary, type AgentState, initialAgentState, leaseEnd, mayRunWorkloads } from '../../agent/core/state.ts';
import { step } from '../../agent/core/step.ts';
import type { Caller } from '../../functions/domain/decision.ts';
import { applyUpdates, holds } from '../../functions/domain/plan.ts';
import { defaultSettings, shortestSettings, type WitnessSettings } from '../../functions/domain/settings.ts';
import { activeExclusion, newSite, type SitePolicy, type SiteState } from '../../functions/domain/site-state.ts';
import { decideForcePrimary, forceConfirmation } from '../../functions/domain/survivor.ts';
import type { ClaimResponse, HeartbeatResponse } from '../../protocol/node.ts';
import type { PeerHello, PeerReply } from '../../protocol/peer.ts';
import { type Outcome, PureWitness } from '../support/pure-witness.ts';
import { EventQueue } from '../../harness/event-queue.ts';
import { seeded } from '../../harness/seeded-random.ts';
import { shortAgentTimings, shortWitnessSettings } from '../../harness/short-timings.ts';

// ---------------------------------------------------------------------------------------------
// Settings. Those of `bin/demo.ts` are the ones the example tests use.

export const witnessSettings: WitnessSettings = shortWitnessSettings;
export const agentTimings: AgentTimings = shortAgentTimings;

/** The driver's (`agent/driver.ts`), as the real agent ticks. */
export { tickMs };
/** How late a tick may come (the event loop is busy). */
export const tickLatenessMs = 10;

/**
 * A pairing of witness settings and agent timings, with the bounds the environment must keep for
 * the rules to add up to safety (each derived below, and checked by `boundsProblems`).
 */
export interface Profile {
  witness: WitnessSettings;
  agent: AgentTimings;
  /** The witness client's timeouts to draw from (the demo uses 800 ms, the default is 3000). */
  requestTimeoutsMs: readonly number[];
  /** |rate − 1| of every node's clock. */
  maxDrift: number;
  /** Each witness request is decided at server time real + jitter, |jitter| ≤ this (Lambda hosts' clocks). */
  maxWitnessJitterMs: number;
  /** Longest hook runs. */
  promoteMaxMs: number;
  demoteMaxMs: number;
  /** The runtime's shutdown waits this long (local ms) for the workloads to stop before it exits anyway. */
  shutdownWaitMs: number;
}

/**
 * The bounds, for a profile:
 *
 * Clock drift, from the peer lease (A2 on the holder, A3 on the granter). The holder H sends a
 * hello at real time s, the granter G answers at real time g ≥ s. H holds the lease until local
 * sentAt + L − d, that is real s + (L − d)/r_H; G counts it granted until local now + L + d, that
 * is real g + (L + d)/r_G, and claims only after that. Safe whenever (L − d)/r_H ≤ (L + d)/r_G
 * for every pair of rates; the worst pair is r_H = 1 − ε, r_G = 1 + ε:
 *   (L − d)(1 + ε) ≤ (L + d)(1 − ε)  ⇔  2Lε ≤ 2d  ⇔  ε ≤ d / L   (demo: 100 / 2000 = 5 %).
 * The simulation draws rates over all of it, its ends included.
 *
 * Witness hosts' clocks, from the witness lease: H holds it until real s + (W − d)/r_H; the
 * witness counts it (W1) until w + W + skew on the deciding host's clock, w ≥ s, and another
 * host's clock may be 2J ahead:
 *   (W − d)/(1 − ε) ≤ W + skew − 2J   (demo: 2900 / 0.95 = 3053 ≤ 3250 − 2J, so J ≤ 98 ms).
 *
 * Hooks, from the fence lead (the core cannot abort a hook, nor bound one). A promote starts
 * with more than fenceLeadMs of lease left; if nothing renews it, promote and demote must both be
 * done within fenceLeadMs local, ≥ fenceLeadMs / (1 + ε) real. A demote started by the self-fence
 * begins up to a tick (and its lateness) after the fence point:
 *   promote + demote ≤ F / (1 + ε),   demote ≤ (F − tick − lateness) / (1 + ε)   (demo: 381, 324 ms).
 */
export function boundsProblems(p: Profile): string[] {
  const { agent: a, witness: w } = p;
  const problems: string[] = [];
  const eps = p.maxDrift;
  if (eps > a.driftMarginMs / a.peerLeaseMs) problems.push('clock drift beyond driftMarginMs / peerLeaseMs');
  if ((w.leaseMs - a.driftMarginMs) / (1 - eps) > w.leaseMs + w.skewMarginMs - 2 * p.maxWitnessJitterMs)
    problems.push('witness jitter beyond the skew margin');
  if (p.promoteMaxMs + p.demoteMaxMs > a.fenceLeadMs / (1 + eps)) problems.push('promote + demote longer than the fence lead');
  if (p.demoteMaxMs > (a.fenceLeadMs - tickMs - tickLatenessMs) / (1 + eps))
    problems.push('demote longer than the fence lead after a late tick');
  const bound = w.standaloneLeaseMs;
  if (bound !== null && (bound - standaloneMarginMs(a, bound)) / (1 - eps) > bound + w.skewMarginMs - 2 * p.maxWitnessJitterMs) {
    problems.push('witness jitter or clock drift beyond what a bounded standalone lease allows');
  }
  return problems;
}

/**
 * A2 for a bounded standalone lease of `bound` ms (A5), as the simulation allows it: the drift over
 * its whole length, at the rate the margins stand for (`driftMarginMs / peerLeaseMs`), at least the
 * flat margin. The same relation as the witness lease's above then holds:
 *   (B − m)/(1 − ε) ≤ B + skew − 2J   (demo, B = 6000: 5700 / 0.95 = 6000 ≤ 6250 − 2J).
 * A flat margin would not do: 5900 / 0.95 = 6210, so J ≤ 20 ms, and far less for longer bounds.
 */
export function standaloneMarginMs(a: AgentTimings, bound: number): number {
  return Math.max(a.driftMarginMs, Math.ceil((bound * a.driftMarginMs) / a.peerLeaseMs));
}

function profile(witness: WitnessSettings, agent: AgentTimings, rest: Omit<Profile, 'witness' | 'agent' | 'maxDrift'>): Profile {
  return { witness, agent, maxDrift: agent.driftMarginMs / agent.peerLeaseMs, ...rest };
}

export const profiles = {
  /** `bin/demo.ts`: leases of seconds. */
  demo: profile(witnessSettings, agentTimings, {
    requestTimeoutsMs: [800, 2_000, 4_000],
    maxWitnessJitterMs: 75,
    promoteMaxMs: 200,
    demoteMaxMs: 150,
    shutdownWaitMs: 2_000,
  }),
  /** The demo's, with standalone leases bounded to the shortest the witness allows (2 × leaseMs). */
  bounded: profile({ ...witnessSettings, standaloneLeaseMs: 2 * witnessSettings.leaseMs }, agentTimings, {
    requestTimeoutsMs: [800, 2_000, 4_000],
    maxWitnessJitterMs: 75,
    promoteMaxMs: 200,
    demoteMaxMs: 150,
    shutdownWaitMs: 2_000,
  }),
  /** The shortest supported timings (`shortestSettings`, `shortestTimings`). */
  shortest: profile(shortestSettings, shortestTimings, {
    requestTimeoutsMs: [1_000, 3_000],
    maxWitnessJitterMs: 75,
    promoteMaxMs: 500,
    demoteMaxMs: 400,
    shutdownWaitMs: 3_000,
  }),
  /** The defaults of both sides. */
  default: profile(defaultSettings, defaultTimings, {
    requestTimeoutsMs: [3_000],
    maxWitnessJitterMs: 75,
    promoteMaxMs: 1_000,
    demoteMaxMs: 900,
    shutdownWaitMs: 5_000,
  }),
} satisfies Record<string, Profile>;

export type ProfileName = keyof typeof profiles;

const serverOrigin = 1_800_000_000_000;
const site = { resellerId: 'reseller-1', siteId: 'site-1' };

// ---------------------------------------------------------------------------------------------
// Schedules: plain data, so that a failure shrinks to something readable.

export const nodeIds = ['node-a', 'node-b'] as const;
export type NodeId = (typeof nodeIds)[number];

export interface ClockSpec {
  /** Local ms at real time 0 (and again after each reboot: see `crash.clockOffset`). */
  offset: number;
  rate: number;
}

/** One direction of a link, or both. Peer: `out` = node-a → node-b. Witness: `out` = node → witness. */
export type Direction = 'both' | 'out' | 'back';
export type LinkName = 'peer' | 'witness-a' | 'witness-b';

export interface LinkQuality {
  /** Each message takes a uniform delay in [minMs, maxMs]; with probability `slow`, up to `slowMaxMs`. */
  minMs: number;
  maxMs: number;
  slow: number;
  slowMaxMs: number;
  drop: number;
  duplicate: number;
}

export interface HookBehaviour {
  promoteMs: readonly [number, number];
  demoteMs: readonly [number, number];
  promoteFailure: number;
  demoteFailure: number;
}

export type Fault =
  | { kind: 'cut'; link: LinkName; direction: Direction; atMs: number; forMs: number }
  /** Messages sent meanwhile take `extraMs` longer (a congested link, a stalled process). */
  | { kind: 'slow'; link: LinkName; direction: Direction; atMs: number; forMs: number; extraMs: number }
  /** The machine dies (its workloads and hooks with it) and boots again after `downMs`, its monotonic clock reset. */
  | { kind: 'crash'; node: NodeId; atMs: number; downMs: number; clockOffset: number }
  /** The agent is asked to stop (it demotes first), and is started again after `downMs`. */
  | { kind: 'shutdown'; node: NodeId; atMs: number; downMs: number }
  /**
   * An operator forces the excluded node back as primary (`decideForcePrimary`), confirming that the
   * survivor is powered off: done only if, at that instant, a node is excluded and the survivor's
   * machine is down (a person who looked); otherwise nothing happens.
   */
  | { kind: 'force'; atMs: number };

export interface Schedule {
  profile: ProfileName;
  /** Drives every per-message and per-hook draw (delays, drops, durations, exits). */
  seed: number;
  clocks: Record<NodeId, ClockSpec>;
  startMs: Record<NodeId, number>;
  policy: 'keep-primary' | 'prefer-a' | 'prefer-b';
  witnessJitterMs: number;
  /** The witness client's timeout, on the agent's clock. */
  requestTimeoutMs: number;
  witnessLink: LinkQuality;
  peerLink: LinkQuality;
  hooks: HookBehaviour;
  faults: Fault[];
  /**
   * From this real time on, nothing fails: no cuts, crashes, drops, duplicates, slow messages or
   * failing hooks (every fault must be over by then). The run continues for `tailMs` more.
   */
  healAtMs: number;
  tailMs: number;
}

// ---------------------------------------------------------------------------------------------
// Results.

export interface Interval {
  node: NodeId;
  from: number;
  to: number;
  epoch: number;
  failedDemote: boolean;
}

export interface SimResult {
  violation: string | null;
  /** Overlaps of two nodes' workloads, each while one node's workloads outlived its lease because its demote hook failed. */
  excusedOverlaps: number;
  /** Instants at which a node's workloads outlived its lease because its demote hook failed. */
  excusedA1: number;
  intervals: Interval[];
  /** Workloads left running by an agent that exited (shutdown) after its demote hook failed. */
  orphaned: boolean;
  /**
   * From when on exactly one node runs as primary (role `primary`, workloads running, the other
   * node running none), without a break, to the end of the run; null if that is not so at the end.
   */
  stablePrimaryFrom: number | null;
  stablePrimary: NodeId | null;
  /** Each agent's last state (undefined if it is not running at the end). */
  final: Record<NodeId, AgentState | undefined>;
  endMs: number;
  promotions: number;
  claims: number;
  events: number;
  /**
   * A5: real ms during which a node that was told its lease is standalone ran no workloads while
   * the witness still held that lease for it (its agent up, not stopping, the bound not reached).
   * Must be 0.
   */
  survivorOutageMs: number;
  /** The same, where the survivor's promote hook failed meanwhile (a hook's fault, not the rules'). */
  excusedSurvivorOutageMs: number;
  /**
   * The same, after a claim granted with `standalone: null` while the witness had the end of the
   * standalone lease pending (the survivor, having demoted, re-claimed): the witness still excludes
   * the peer, yet told the survivor its lease is ordinary, so a witness outage then stops the site.
   * A gap on the witness's side (the claim's renewal path, functions/domain/claim.ts), measured apart.
   */
  pendingEndOutageMs: number;
  /** Counts of what happened, by kind: to see what the schedules exercise. */
  stats: Record<string, number>;
  trace: string[];
}

class Violation extends Error {}

// ---------------------------------------------------------------------------------------------
// The simulation.

interface WitnessPending {
  kind: 'heartbeat' | 'claim';
  sentLocal: number;
  settled: boolean;
}

/** A witness request as the driver hands it over: the request, and where its answer goes. */
type WitnessCall =
  | { kind: 'heartbeat'; action: HeartbeatAction; answered: (result: WitnessResult<HeartbeatResponse>) => void }
  | { kind: 'claim'; action: ClaimAction; answered: (result: WitnessResult<ClaimResponse>) => void };

interface HelloPending {
  sentLocal: number;
  settled: boolean;
}

interface SimNode {
  id: NodeId;
  index: 0 | 1;
  clock: ClockSpec;
  /** Machine boots: a crash kills the hooks of the boot it ends. */
  boot: number;
  /** The machine is down (crashed, not yet booted again). */
  crashed: boolean;
  /** The agent process runs (false: crashed, or exited after a shutdown). */
  up: boolean;
  incarnation: number;
  /** The agent's loop, one per incarnation (stopped when the agent goes). */
  driver: AgentDriver | undefined;
  /** The agent's state: the driver's, kept after it stops. */
  readonly state: AgentState | undefined;
  startedLocal: number;
  shuttingDown: boolean;
  /** Witness requests of this incarnation not yet answered nor timed out, by seq. */
  witness: Map<number, WitnessPending>;
  hook: { id: number; hook: 'promote' | 'demote' } | null;
  nextHook: number;
  // Checks, per incarnation.
  maxEpochSeen: number;
  lastSeq: number;
  lastGrantLocal: number | null;
  maxEarnedWitness: number;
  maxEarnedPeer: number;
  /** Real time until which the node believes it holds a lease; -Infinity with no agent. */
  leaseEndReal: number;
  /** The exclusion (its `at`) whose end this incarnation was told, if any. */
  endedExclusionAt: number | null;
  /**
   * A5, per incarnation: the witness told this agent, primary at `epoch`, that its lease is
   * standalone, until (local) `untilLocal` less the fence lead (Infinity without bound). Cleared by
   * the answer that carries `end-standalone`, a newer epoch, a restart or a shutdown; over once
   * that exclusion is (the witness readmitted the peer).
   */
  told: {
    epoch: number;
    /** The exclusion that made the lease standalone (its `at`): a later one is another lease. */
    exclusionAt: number;
    untilLocal: number;
    /** Its last promote hook failed: the outage until it promotes again is the hook's. */
    hookFailed: boolean;
    /**
     * Since then it was granted a claim at that epoch with `standalone: null` while the witness had
     * the end of the standalone lease pending: the witness's gap (a claim answer carries no command),
     * measured apart (`SimResult.pendingEndOutageMs`).
     */
    grantedOrdinaryWhileEnding: boolean;
    ranThroughOutage: boolean;
  } | null;
  /** In a survivor outage since the last event (see `SimResult.survivorOutageMs`), and whose doing. */
  outage: Outage;
  // Ground truth, per machine.
  running: boolean;
  runningFrom: number;
  runningEpoch: number;
  failedDemote: boolean;
  orphaned: boolean;
}

const eps = 1e-6;

type Outage = 'no' | 'yes' | 'excused' | 'pending-end';
const outageKinds: Record<Exclude<Outage, 'no'>, string> = {
  yes: 'SURVIVOR OUTAGE',
  excused: 'excused: survivor outage, promote hook failed',
  'pending-end': 'survivor outage after an ordinary grant while the end was pending (witness gap)',
};

/** The agent core under test; replaceable so that the checks can be shown to catch a broken one. */
export interface Core {
  step: typeof step;
  initialAgentState: typeof initialAgentState;
}

const realCore: Core = { step, initialAgentState };

export interface SimOptions {
  /** Keep a readable log of the run (for failure messages). */
  trace?: boolean;
  core?: Core;
  /**
   * Check the ground truth (no overlap, workloads only under a lease) and the leases against what
   * the voters committed to. Off when the schedule breaks the environment's bounds on purpose
   * (clocks drifting more than the margin allows, hooks slower than the fence lead): the rules
   * each agent keeps on its own are still checked, and violations of the rest are counted in `stats`.
   */
  groundTruth?: boolean;
  /**
   * Check each agent's steps and beliefs (A1–A5 as the agent keeps them, its leases against what
   * the voters committed to). Off only to show that the ground truth alone catches a broken core.
   */
  agentChecks?: boolean;
}

export function simulate(schedule: Schedule, options: SimOptions = {}): SimResult {
  return new Simulation(
    schedule,
    options.trace ?? false,
    options.core ?? realCore,
    options.groundTruth ?? true,
    options.agentChecks ?? true,
  ).run();
}

class Simulation {
  readonly queue = new EventQueue<() => void>();
  readonly nodes: [SimNode, SimNode];
  readonly witness: PureWitness;
  readonly end: number;
  readonly netRandom: Record<LinkName, () => number>;
  readonly hookRandom: [() => number, () => number];
  readonly tickRandom: () => number;
  now = 0;
  events = 0;
  excusedOverlaps = 0;
  excusedA1 = 0;
  survivorOutageMs = 0;
  excusedSurvivorOutageMs = 0;
  pendingEndOutageMs = 0;
  promotions = 0;
  claims = 0;
  readonly stats: Record<string, number> = {};
  readonly applied = new Set<string>();
  intervals: Interval[] = [];
  stableFrom: number | null = null;
  stableNode: NodeId | null = null;
  readonly trace: string[] | null;
  readonly p: Profile;

  constructor(
    readonly schedule: Schedule,
    traceOn: boolean,
    readonly core: Core,
    readonly groundTruth: boolean,
    readonly agentChecks: boolean,
  ) {
    this.trace = traceOn ? [] : null;
    this.p = profiles[schedule.profile];
    this.end = schedule.healAtMs + schedule.tailMs;
    const node = (id: NodeId, index: 0 | 1): SimNode => ({
      id,
      index,
      clock: { ...schedule.clocks[id] },
      boot: 0,
      crashed: false,
      up: false,
      incarnation: 0,
      driver: undefined,
      get state() {
        return this.driver?.state;
      },
      startedLocal: 0,
      shuttingDown: false,
      witness: new Map(),
      hook: null,
      nextHook: 1,
      maxEpochSeen: 0,
      lastSeq: 0,
      lastGrantLocal: null,
      maxEarnedWitness: -Infinity,
      maxEarnedPeer: -Infinity,
      leaseEndReal: -Infinity,
      told: null,
      endedExclusionAt: null,
      outage: 'no',
      running: false,
      runningFrom: 0,
      runningEpoch: 0,
      failedDemote: false,
      orphaned: false,
    });
    this.nodes = [node('node-a', 0), node('node-b', 1)];
    const policy: SitePolicy =
      schedule.policy === 'keep-primary'
        ? { tieBreak: 'keep-primary', preferredNode: null, healthThreshold: 0 }
        : { tieBreak: 'preferred-node', preferredNode: schedule.policy === 'prefer-a' ? 'node-a' : 'node-b', healthThreshold: 0 };
    this.witness = new PureWitness(newSite({ ...site, nodeIds, policy }), this.p.witness);
    const seed = schedule.seed;
    this.netRandom = { peer: seeded(seed ^ 0x1001), 'witness-a': seeded(seed ^ 0x2002), 'witness-b': seeded(seed ^ 0x3003) };
    this.hookRandom = [seeded(seed ^ 0x4004), seeded(seed ^ 0x5005)];
    this.tickRandom = seeded(seed ^ 0x6006);
  }

  run(): SimResult {
    let violation: string | null = null;
    try {
      for (const n of this.nodes) {
        this.at(this.schedule.startMs[n.id], () => {
          this.startAgent(n);
        });
      }
      for (const fault of this.schedule.faults) this.scheduleFault(fault);
      for (;;) {
        const event = this.queue.pop();
        if (!event || event.t > this.end) break;
        this.accrueOutage(event.t);
        this.now = event.t;
        this.events++;
        this.checkTruth('before');
        event.run();
        this.checkTruth('after');
      }
      this.accrueOutage(this.end);
      this.now = this.end;
      this.checkTruth('before');
    } catch (error) {
      if (!(error instanceof Violation)) throw error;
      violation = error.message;
    }
    for (const n of this.nodes) if (n.running) this.closeInterval(n, this.now);
    return {
      violation,
      excusedOverlaps: this.excusedOverlaps,
      excusedA1: this.excusedA1,
      survivorOutageMs: this.survivorOutageMs,
      excusedSurvivorOutageMs: this.excusedSurvivorOutageMs,
      pendingEndOutageMs: this.pendingEndOutageMs,
      intervals: this.intervals.sort((a, b) => a.from - b.from),
      orphaned: this.nodes.some((n) => n.orphaned),
      stablePrimaryFrom: this.stableFrom,
      stablePrimary: this.stableNode,
      final: { 'node-a': this.nodes[0].up ? this.nodes[0].state : undefined, 'node-b': this.nodes[1].up ? this.nodes[1].state : undefined },
      endMs: this.end,
      promotions: this.promotions,
      claims: this.claims,
      events: this.events,
      stats: this.stats,
      trace: this.trace ?? [],
    };
  }

  // --- helpers -------------------------------------------------------------------------------

  count(what: string): void {
    this.stats[what] = (this.stats[what] ?? 0) + 1;
  }

  at(t: number, run: () => void): void {
    this.queue.push(t, run);
  }

  local(n: SimNode, t = this.now): number {
    return n.clock.offset + n.clock.rate * t;
  }

  real(n: SimNode, local: number): number {
    return (local - n.clock.offset) / n.clock.rate;
  }

  other(n: SimNode): SimNode {
    return this.nodes[n.index === 0 ? 1 : 0];
  }

  lossy(): boolean {
    return this.now < this.schedule.healAtMs;
  }

  log(text: string): void {
    this.trace?.push(`${this.now.toFixed(1).padStart(8)}  ${text}`);
  }

  /** A violation of the ground truth or of what a voter committed to: fatal only within the environment's bounds. */
  failTruth(n: SimNode | null, rule: string, detail: string): void {
    if (this.groundTruth) this.fail(n, rule, detail);
    this.count(`out of bounds: ${rule}`);
  }

  fail(n: SimNode | null, rule: string, detail: string): never {
    const who = n ? `${n.id}#${n.incarnation}` : 'site';
    const s = n?.state;
    const summary = s
      ? ` [role=${s.role} epoch=${s.epoch} won=${String(s.wonEpoch)} local=${this.local(n).toFixed(1)} leaseEnd=${leaseEnd(s).toFixed(1)} grantedUntil=${s.grantedUntil.toFixed(1)} claiming=${s.claiming} hook=${String(s.hookRunning)} standalone=${s.standalone} excluded=${s.excluded}]`
      : '';
    throw new Violation(`${rule} at real ${this.now.toFixed(1)} ms, ${who}: ${detail}${summary}`);
  }

  /** Is this link cut in this direction at real time `t`? (A message is lost if it is at its sending or its arrival.) */
  cut(link: LinkName, direction: 'out' | 'back', t: number): boolean {
    return this.schedule.faults.some(
      (f) =>
        f.kind === 'cut' && f.link === link && (f.direction === 'both' || f.direction === direction) && t >= f.atMs && t < f.atMs + f.forMs,
    );
  }

  /** How much longer than usual a message sent at `t` takes (the longest `slow` fault in force). */
  extraDelay(link: LinkName, direction: 'out' | 'back', t: number): number {
    let extra = 0;
    for (const f of this.schedule.faults) {
      if (
        f.kind === 'slow' &&
        f.link === link &&
        (f.direction === 'both' || f.direction === direction) &&
        t >= f.atMs &&
        t < f.atMs + f.forMs
      ) {
        extra = Math.max(extra, f.extraMs);
      }
    }
    return extra;
  }

  /** Delivery times of one message's copies (none if dropped), arrival after the cut checks. */
  transmit(link: LinkName, direction: 'out' | 'back'): number[] {
    const q = link === 'peer' ? this.schedule.peerLink : this.schedule.witnessLink;
    const random = this.netRandom[link];
    const lossy = this.lossy();
    const dropped = random() < q.drop;
    const copies = random() < q.duplicate ? 2 : 1;
    const times: number[] = [];
    const extra = lossy ? this.extraDelay(link, direction, this.now) : 0;
    for (let i = 0; i < copies; i++) {
      const slow = random() < q.slow;
      const delay = lossy && slow ? q.minMs + random() * (q.slowMaxMs - q.minMs) : q.minMs + random() * (q.maxMs - q.minMs);
      times.push(this.now + delay + extra);
    }
    if (!lossy) return times.slice(0, 1);
    if (dropped || this.cut(link, direction, this.now)) return [];
    return times.filter((t) => !this.cut(link, direction, t));
  }

  // --- faults --------------------------------------------------------------------------------

  scheduleFault(fault: Fault): void {
    if (fault.kind === 'crash') {
      const n = this.nodes[fault.node === 'node-a' ? 0 : 1];
      this.at(fault.atMs, () => {
        if (n.crashed || !n.state) return;
        this.log(`${n.id} CRASH (down ${fault.downMs} ms)`);
        n.crashed = true;
        n.up = false;
        n.driver?.stop();
        n.shuttingDown = false;
        n.boot++;
        n.leaseEndReal = -Infinity;
        n.told = null;
        n.orphaned = false;
        if (n.running) this.stopWorkloads(n);
        n.clock = { offset: fault.clockOffset, rate: n.clock.rate };
        this.at(fault.atMs + fault.downMs, () => {
          n.crashed = false;
          if (!n.up) this.startAgent(n);
        });
      });
    } else if (fault.kind === 'force') {
      this.at(fault.atMs, () => {
        this.force();
      });
    } else if (fault.kind === 'shutdown') {
      const n = this.nodes[fault.node === 'node-a' ? 0 : 1];
      this.at(fault.atMs, () => {
        if (!n.up || n.shuttingDown) return;
        this.log(`${n.id} SHUTDOWN requested`);
        n.shuttingDown = true;
        n.told = null;
        const incarnation = n.incarnation;
        const deadline = this.local(n) + this.p.shutdownWaitMs;
        n.driver?.dispatch({ type: 'shutdown' });
        const poll = () => {
          if (!n.up || n.incarnation !== incarnation) return;
          if (n.state && mayRunWorkloads(n.state.role) && this.local(n) < deadline) {
            this.at(this.real(n, this.local(n) + tickMs), poll);
            return;
          }
          this.log(`${n.id} agent exits${n.running ? ' WITH WORKLOADS RUNNING' : ''}`);
          n.up = false;
          n.driver?.stop();
          n.shuttingDown = false;
          n.leaseEndReal = -Infinity;
          if (n.running) n.orphaned = true;
          this.at(this.now + fault.downMs, () => {
            if (!n.up && !n.crashed) this.startAgent(n);
          });
        };
        poll();
      });
    }
  }

  /** The operator's forced failover (survivor mode), applied as the reseller API would: the pure decision, then its plan. */
  force(): void {
    const settings = this.p.witness;
    const serverNow = serverOrigin + this.now;
    const w = this.witness.state;
    const exclusion = activeExclusion(w, serverNow, settings);
    const survivor = this.nodes.find((n) => n.id === w.primary);
    if (!exclusion || !survivor?.crashed) return;
    const decision = decideForcePrimary(
      w,
      exclusion.nodeId,
      { confirm: forceConfirmation(survivor.id), reason: 'the survivor is down' },
      'key-sim',
      serverNow,
      settings,
    );
    if (decision.kind === 'refuse' && decision.code === 'survivor-heard') {
      // The witness heard the survivor too lately to take the operator's word: the operator tries
      // again once the witness allows it, if the survivor is still down then.
      const heardAt = w.nodes[survivor.id]?.lastSeenAt ?? serverNow;
      this.count('operator force refused: survivor heard lately');
      this.at(heardAt + settings.slowHeartbeatMs + settings.exclusionMs - serverOrigin + 1, () => {
        this.force();
      });
      return;
    }
    if (decision.kind !== 'write' || !holds(decision.plan.guard, w))
      throw new Error(`the operator's force was refused: ${JSON.stringify(decision)}`);
    this.witness.state = applyUpdates(w, decision.plan.updates);
    this.count('operator forced failover');
    this.log(`OPERATOR forces ${exclusion.nodeId} primary at epoch ${this.witness.state.epoch} (${survivor.id} is down)`);
  }

  startAgent(n: SimNode): void {
    n.up = true;
    n.incarnation += 1;
    const now = this.local(n);
    const initial = this.core.initialAgentState(n.id, n.incarnation, this.p.agent, now);
    n.startedLocal = now;
    n.witness = new Map();
    n.hook = null;
    n.maxEpochSeen = 0;
    n.lastSeq = 0;
    n.lastGrantLocal = null;
    n.maxEarnedWitness = -Infinity;
    n.maxEarnedPeer = -Infinity;
    n.leaseEndReal = -Infinity;
    n.told = null;
    n.endedExclusionAt = null;
    this.log(`${n.id} agent started, incarnation ${n.incarnation}, clock ${now.toFixed(1)}`);
    n.driver = this.newDriver(n, initial);
    n.driver.start();
  }

  /** The agent's loop on this simulation's ports: its node's drifting clock, the lossy links, hooks that take time. */
  newDriver(n: SimNode, initial: AgentState): AgentDriver {
    return new AgentDriver(initial, {
      step: this.core.step,
      clock: this.clockOf(n),
      witness: {
        heartbeat: (action, answered) => {
          this.sendToWitness(n, { kind: 'heartbeat', action, answered });
        },
        claim: (action, answered) => {
          this.sendToWitness(n, { kind: 'claim', action, answered });
        },
      },
      peer: {
        hello: (hello, sentAt, answered) => {
          this.sendHello(n, hello, sentAt, answered);
        },
      },
      hooks: {
        run: (action, exited) => {
          this.count(`${action.hook}: ${action.reason.replace(/\d+/g, 'N').replace(/(by|is) node-\w/, '$1 X')}`);
          this.runHook(n, action.hook, action.epoch, exited);
        },
      },
      observe: (record) => {
        this.observe(n, record);
      },
    });
  }

  /** The node's clock: ticks come on its local time, each up to `tickLatenessMs` late (a busy event loop). */
  clockOf(n: SimNode): DriverClock {
    return {
      now: () => this.local(n),
      every: (periodMs, run, firstInMs) => {
        let cancelled = false;
        const schedule = (local: number) => {
          const lateness = this.tickRandom() * tickLatenessMs;
          this.at(this.real(n, local) + lateness, () => {
            if (cancelled) return;
            run();
            schedule(local + periodMs);
          });
        };
        schedule(this.local(n) + firstInMs);
        return () => {
          cancelled = true;
        };
      },
    };
  }

  // --- one step of an agent ------------------------------------------------------------------

  observe(n: SimNode, { before, input, after, actions, now }: StepRecord): void {
    n.leaseEndReal = this.real(n, leaseEnd(after));
    if (this.trace) {
      const shown = actions.filter((a) => a.type !== 'log').map((a) => describeAction(a));
      const changed = after.role !== before.role || after.epoch !== before.epoch ? ` → ${after.role} e${after.epoch}` : '';
      if (input.type !== 'tick' || shown.length || changed)
        this.log(`${n.id} ${describeInput(input)}${changed}${shown.length ? `; ${shown.join(', ')}` : ''}`);
    }
    if (this.agentChecks) this.checkStep(n, before, input, after, actions, now);
    else n.maxEpochSeen = Math.max(n.maxEpochSeen, ...epochsOf(input));
  }

  // --- the witness link ----------------------------------------------------------------------

  sendToWitness(n: SimNode, call: WitnessCall): void {
    const { action } = call;
    const now = this.local(n);
    const link: LinkName = n.index === 0 ? 'witness-a' : 'witness-b';
    const { seq } = action.request;
    const incarnation = n.incarnation;
    const pending: WitnessPending = { kind: call.kind, sentLocal: now, settled: false };
    n.witness.set(seq, pending);
    if (action.type === 'witness-claim') this.claims++;
    const arrivals = this.transmit(link, 'out');
    // The client reads the answer to one copy (which one, when the network duplicated the request, is chance).
    const answeredCopy = arrivals.length > 1 && this.netRandom[link]() < 0.5 ? 1 : 0;
    arrivals.forEach((t, copy) => {
      this.at(t, () => {
        const outcome = this.decide(n, action);
        if (copy !== answeredCopy) return;
        for (const back of this.transmit(link, 'back').slice(0, 1)) {
          this.at(back, () => {
            if (!n.up || n.incarnation !== incarnation || pending.settled) return;
            pending.settled = true;
            n.witness.delete(seq);
            this.deliverWitness(n, pending, call, outcome);
          });
        }
      });
    });
    // The witness client's timeout, on the agent's clock.
    this.at(this.real(n, now + this.schedule.requestTimeoutMs), () => {
      if (!n.up || n.incarnation !== incarnation || pending.settled) return;
      pending.settled = true;
      n.witness.delete(seq);
      call.answered({ ok: false, status: null, code: 'TimeoutError' });
    });
  }

  /** The witness decides one request at server time; returns what it answers and the lease it now counts (real ms). */
  decide(
    n: SimNode,
    action: HeartbeatAction | ClaimAction,
  ): { outcome: Outcome<HeartbeatResponse> | Outcome<ClaimResponse>; heldUntilReal: number; witness: SiteState } {
    const jitter = (this.netRandom[n.index === 0 ? 'witness-a' : 'witness-b']() * 2 - 1) * this.schedule.witnessJitterMs;
    const serverNow = serverOrigin + this.now + jitter;
    const caller: Caller = { ...site, nodeId: n.id, tokenVersion: 1 };
    const rev = this.witness.state.rev;
    const excludedBefore = this.witness.state.exclusion;
    const outcome =
      action.type === 'witness-heartbeat'
        ? this.witness.heartbeat(caller, action.request, serverNow)
        : this.witness.claim(caller, action.request, serverNow);
    // W4, as the agent relies on it: a request applied once (it changed the site) is refused when it
    // comes again. (A refused claim changed nothing: its duplicate is decided afresh.)
    const key = `${n.id}:${action.request.incarnation}:${action.request.seq}`;
    if (this.applied.has(key) && outcome.status !== 409)
      this.fail(n, 'W4', `the witness answered ${outcome.status} to a duplicate of ${key}, applied before`);
    if (this.witness.state.rev !== rev) this.applied.add(key);
    const w = this.witness.state;
    if (!excludedBefore && w.exclusion) this.count('witness excluded a node');
    if (excludedBefore && !w.exclusion) this.count('witness readmitted a node');
    // W1 as the other hosts see it: held until expiry + skew on any host's clock, each within J of
    // real; and without end while the lease is standalone without bound (W5).
    const endless = w.exclusion !== undefined && this.p.witness.standaloneLeaseMs === null;
    const heldUntilReal = endless
      ? Infinity
      : w.leaseExpiresAt + this.p.witness.skewMarginMs - serverOrigin - this.schedule.witnessJitterMs;
    if (this.trace)
      this.log(
        `witness ← ${n.id} ${action.type === 'witness-heartbeat' ? `heartbeat(${action.request.role} e${action.request.epoch})` : 'claim'} #${action.request.incarnation}.${action.request.seq} → ${
          outcome.status === 200 ? JSON.stringify(outcome.body).slice(0, 160) : `${outcome.status} ${outcome.code}`
        } [primary=${String(w.primary)} e${w.epoch} lease to ${(w.leaseExpiresAt - serverOrigin).toFixed(1)}${
          w.exclusion ? ` excluded=${w.exclusion.nodeId}${w.exclusion.ending ? ' ending' : ''}` : ''
        }]`,
      );
    return { outcome, heldUntilReal, witness: w };
  }

  /** The answer reaches the agent's driver, as the witness client's result. */
  deliverWitness(
    n: SimNode,
    pending: WitnessPending,
    call: WitnessCall,
    answer: { outcome: Outcome<HeartbeatResponse> | Outcome<ClaimResponse>; heldUntilReal: number; witness: SiteState },
  ): void {
    const { outcome, heldUntilReal } = answer;
    if (outcome.status !== 200) {
      call.answered({ ok: false, status: outcome.status, code: outcome.code });
      return;
    }
    const a = this.p.agent;
    let leaseMs: number | null;
    let standalone: HeartbeatResponse['standalone'] = null;
    let ending = false;
    let deliver: () => void;
    if (call.kind === 'heartbeat') {
      const body = outcome.body as HeartbeatResponse;
      leaseMs = body.leaseMs;
      if (leaseMs !== null) standalone = body.standalone;
      ending = body.commands.some((c) => c.type === 'end-standalone');
      deliver = () => {
        call.answered({ ok: true, body });
      };
    } else {
      const body = outcome.body as ClaimResponse;
      leaseMs = body.granted ? body.leaseMs : null;
      if (body.granted) standalone = body.standalone;
      else this.count(`claim refused: ${body.reason}`);
      deliver = () => {
        call.answered({ ok: true, body });
      };
    }
    // A2, A5: what this answer lets the agent hold, at most.
    const bound = standalone?.leaseMs;
    const standaloneEnd =
      standalone === null
        ? -Infinity
        : bound === null || bound === undefined
          ? Infinity
          : pending.sentLocal + bound - standaloneMarginMs(a, bound);
    if (leaseMs !== null) n.maxEarnedWitness = Math.max(n.maxEarnedWitness, pending.sentLocal + leaseMs - a.driftMarginMs, standaloneEnd);
    const before = n.state;
    const previous = before?.witnessLeaseEnd ?? 0;
    deliver();
    const after = n.state;
    const held = after?.witnessLeaseEnd ?? 0;
    if (held > previous && this.real(n, held) > heldUntilReal + eps) {
      this.failTruth(
        n,
        'A2 (witness lease)',
        `holds its witness lease until real ${this.real(n, held).toFixed(1)}, but the witness counts it only until ${heldUntilReal.toFixed(1)}`,
      );
    }
    // A5: the belief, whether or not this answer changed it, never outlives what the witness counts
    // as it answers (a standalone lease kept after the witness ended it would).
    const w = answer.witness;
    if (
      this.agentChecks &&
      after &&
      mayRunWorkloads(after.role) &&
      held > 0 &&
      w.primary === n.id &&
      w.epoch === after.epoch &&
      this.real(n, held) > heldUntilReal + eps
    ) {
      this.failTruth(
        n,
        held === Infinity ? 'A5 (standalone lease)' : 'A2 (witness lease)',
        `believes its witness lease runs until real ${this.real(n, held).toFixed(1)}, but the witness, answering, counts it only until ${heldUntilReal.toFixed(1)}`,
      );
    }
    // What the survivor was told, for the outage measure.
    if (ending) {
      // Told the end of this exclusion's standalone lease: a later answer that calls it standalone
      // (decided before the ack reached the witness) entitles it to nothing.
      n.endedExclusionAt = w.exclusion?.at ?? null;
      if (n.told) this.count('survivor told end-standalone');
      n.told = null;
    }
    const ended = w.exclusion?.at !== undefined && w.exclusion.at === n.endedExclusionAt;
    if (standalone !== null && !ended && before && after && actsAsPrimary(after.role) && w.primary === n.id && w.epoch === after.epoch) {
      if (!n.told) this.count(pending.kind === 'claim' ? 'survivor told standalone (claim)' : 'survivor told standalone');
      const untilLocal = standaloneEnd - a.fenceLeadMs;
      n.told = {
        epoch: w.epoch,
        exclusionAt: w.exclusion?.at ?? -1,
        untilLocal,
        hookFailed: n.told?.hookFailed ?? false,
        grantedOrdinaryWhileEnding: false,
        ranThroughOutage: n.told?.ranThroughOutage ?? false,
      };
    } else if (
      pending.kind === 'claim' &&
      leaseMs !== null &&
      standalone === null &&
      n.told &&
      w.exclusion?.ending &&
      w.primary === n.id &&
      w.epoch === n.told.epoch
    ) {
      n.told.grantedOrdinaryWhileEnding = true;
      this.count('claim granted ordinary while the end of the standalone lease was pending');
    }
  }

  /** Adds the time since the last event to the outage measures, by the state the last event left. */
  accrueOutage(to: number): void {
    for (const n of this.nodes) {
      if (n.outage === 'yes') this.survivorOutageMs += to - this.now;
      if (n.outage === 'excused') this.excusedSurvivorOutageMs += to - this.now;
      if (n.outage === 'pending-end') this.pendingEndOutageMs += to - this.now;
    }
  }

  /**
   * A5: a survivor told that its lease is standalone must run its workloads for as long as the
   * witness holds that lease for it (at the epoch it was told), unless it stops, restarts, hears of
   * a newer epoch or is told the end, or a bounded lease reaches its end.
   */
  survivorOutage(n: SimNode): Outage {
    const told = n.told;
    if (!told || !n.up || n.shuttingDown || !n.state) return 'no';
    if (n.maxEpochSeen > told.epoch) {
      n.told = null;
      return 'no';
    }
    const w = this.witness.state;
    const held =
      activeExclusion(w, serverOrigin + this.now, this.p.witness)?.at === told.exclusionAt && w.primary === n.id && w.epoch === told.epoch;
    if (!held || this.local(n) >= told.untilLocal) return 'no';
    const s = n.state;
    if (n.running && !told.ranThroughOutage && s.witnessLastOk !== null && this.local(n) - s.witnessLastOk > this.p.witness.leaseMs) {
      told.ranThroughOutage = true;
      this.count('survivor ran on past a witness lease with no answer');
    }
    if (n.running) return 'no';
    return told.hookFailed ? 'excused' : told.grantedOrdinaryWhileEnding ? 'pending-end' : 'yes';
  }

  // --- the peer link -------------------------------------------------------------------------

  sendHello(n: SimNode, hello: PeerHello, sentAt: number, answered: (reply: PeerReply | undefined) => void): void {
    const incarnation = n.incarnation;
    const pending: HelloPending = { sentLocal: sentAt, settled: false };
    const forward = n.index === 0 ? 'out' : 'back';
    const backward = n.index === 0 ? 'back' : 'out';
    const arrivals = this.transmit('peer', forward);
    const answeredCopy = arrivals.length > 1 && this.netRandom.peer() < 0.5 ? 1 : 0;
    arrivals.forEach((t, copy) => {
      this.at(t, () => {
        const peer = this.other(n);
        if (!peer.up) return;
        // The reply is sent once the hello's own actions are carried out (the order of the network's draws).
        const answer: { reply?: PeerReply } = {};
        peer.driver?.hearHello(hello, (reply) => {
          answer.reply = reply;
        });
        const reply = answer.reply ?? this.fail(peer, 'protocol', 'a peer hello got no peer-answer');
        // A3, as the granter commits: it claims no sooner than this real time.
        const grantedUntilReal = peer.state ? this.real(peer, peer.state.grantedUntil) : -Infinity;
        if (copy !== answeredCopy) return;
        for (const back of this.transmit('peer', backward).slice(0, 1)) {
          this.at(back, () => {
            if (!n.up || n.incarnation !== incarnation || pending.settled) return;
            pending.settled = true;
            this.deliverReply(n, pending, reply, grantedUntilReal, answered);
          });
        }
      });
    });
    // The hello's timeout, on the agent's clock.
    this.at(this.real(n, sentAt + this.p.agent.peerHelloMs), () => {
      if (!n.up || n.incarnation !== incarnation || pending.settled) return;
      pending.settled = true;
      answered(undefined);
    });
  }

  deliverReply(n: SimNode, pending: HelloPending, reply: PeerReply, grantedUntilReal: number, answered: (reply: PeerReply) => void): void {
    if (reply.leaseMs !== null) n.maxEarnedPeer = Math.max(n.maxEarnedPeer, pending.sentLocal + reply.leaseMs - this.p.agent.driftMarginMs);
    const previous = n.state?.peerLeaseEnd ?? 0;
    answered(reply);
    const held = n.state?.peerLeaseEnd ?? 0;
    if (held > previous && this.real(n, held) > grantedUntilReal + eps) {
      this.failTruth(
        n,
        'A2 (peer lease)',
        `holds its peer lease until real ${this.real(n, held).toFixed(1)}, but its peer counts it granted only until ${grantedUntilReal.toFixed(1)}`,
      );
    }
  }

  // --- hooks and ground truth ----------------------------------------------------------------

  runHook(n: SimNode, hook: 'promote' | 'demote', epoch: number, exited: (code: number) => void): void {
    if (n.hook) this.fail(n, 'hooks', `runs the ${hook} hook while its ${n.hook.hook} hook still runs`);
    const random = this.hookRandom[n.index];
    const h = this.schedule.hooks;
    const [min, max] = hook === 'promote' ? h.promoteMs : h.demoteMs;
    const duration = min + random() * (max - min);
    const failing = random() < (hook === 'promote' ? h.promoteFailure : h.demoteFailure) && this.lossy();
    const id = n.nextHook++;
    n.hook = { id, hook };
    const boot = n.boot;
    const incarnation = n.incarnation;
    if (hook === 'promote') {
      this.promotions++;
      // Promoting again: a later stop is not the failed hook's doing.
      if (n.told) n.told.hookFailed = false;
      if (!n.running) {
        n.running = true;
        n.runningFrom = this.now;
        n.runningEpoch = epoch;
        n.failedDemote = false;
      }
    }
    this.at(this.now + duration, () => {
      if (n.boot !== boot) return; // the machine died, and the hook with it
      const code = failing ? 1 : 0;
      if (hook === 'demote' && n.running) {
        if (code === 0) this.stopWorkloads(n);
        else {
          n.failedDemote = true;
          this.count('demote hook failed');
        }
      }
      if (!n.up || n.incarnation !== incarnation || n.hook?.id !== id) {
        this.log(`${n.id} ${hook} hook exited ${code} after its agent was gone`);
        return;
      }
      n.hook = null;
      if (hook === 'promote' && code !== 0 && n.told) n.told.hookFailed = true;
      exited(code);
    });
  }

  stopWorkloads(n: SimNode): void {
    this.closeInterval(n, this.now);
    n.running = false;
    n.failedDemote = false;
    n.orphaned = false;
  }

  closeInterval(n: SimNode, to: number): void {
    this.intervals.push({ node: n.id, from: n.runningFrom, to, epoch: n.runningEpoch, failedDemote: n.failedDemote });
  }

  /**
   * A1 on the ground truth: a node's workloads run only while it believes it holds a lease (the
   * A2 checks tie that belief to what the voters committed to). Then no two nodes' workloads
   * overlap. Both are excused only where a demote hook failed: the agent can but retry.
   */
  checkTruth(when: 'before' | 'after'): void {
    const pastLease = (n: SimNode) => n.running && this.now > n.leaseEndReal + eps;
    for (const n of this.nodes) {
      if (!pastLease(n)) continue;
      if (n.failedDemote) {
        this.excusedA1++;
        this.count('excused: workloads past lease, demote failed');
      } else
        this.failTruth(
          n,
          'A1 (ground truth)',
          `workloads run (since ${n.runningFrom.toFixed(1)}) past the end of its leases at real ${n.leaseEndReal.toFixed(1)}`,
        );
    }
    const [a, b] = this.nodes;
    if (a.running && b.running) {
      if (this.nodes.some((n) => pastLease(n) && n.failedDemote)) {
        this.excusedOverlaps++;
        this.count('excused: overlap');
      } else
        this.failTruth(
          null,
          'SPLIT BRAIN',
          `both nodes run workloads: node-a since ${a.runningFrom.toFixed(1)} (epoch ${a.runningEpoch}), node-b since ${b.runningFrom.toFixed(1)} (epoch ${b.runningEpoch})`,
        );
    }
    if (when === 'after') {
      for (const n of this.nodes) {
        const outage = this.survivorOutage(n);
        if (outage !== n.outage) this.log(`${n.id} survivor outage: ${outage}`);
        n.outage = outage;
        if (n.outage !== 'no') this.count(outageKinds[n.outage]);
      }
      const primaries = this.nodes.filter((n) => n.up && n.state?.role === 'primary' && n.running);
      const only = primaries.length === 1 && !this.other(primaries[0]!).running ? primaries[0]!.id : null;
      if (only !== this.stableNode) {
        this.stableNode = only;
        this.stableFrom = only === null ? null : this.now;
      }
    }
  }

  // --- the rules, at every step --------------------------------------------------------------

  /** Workloads this agent process started may run (not those an agent that exited left behind). */
  runningHere(n: SimNode): boolean {
    return n.running && !n.orphaned;
  }

  checkStep(n: SimNode, before: AgentState, input: AgentInput, after: AgentState, actions: AgentAction[], now: number): void {
    const t = this.p.agent;
    const inputEpochs = epochsOf(input);
    const seenBefore = n.maxEpochSeen;
    n.maxEpochSeen = Math.max(n.maxEpochSeen, ...inputEpochs);

    // A1: a node in role `primary` holds a lease that does not end within the fence lead; one
    // acting as primary past that point has its demote at least queued behind the promote hook.
    if (after.role === 'primary' && !(now < leaseEnd(after) - t.fenceLeadMs)) {
      this.fail(n, 'A1', `is primary with ${(leaseEnd(after) - now).toFixed(1)} ms of lease left`);
    }
    if (
      actsAsPrimary(after.role) &&
      now >= leaseEnd(after) - t.fenceLeadMs &&
      !(after.hookRunning === 'promote' && after.demoteAfterPromote)
    ) {
      this.fail(
        n,
        'A1',
        `acts as primary (${after.role}) with ${(leaseEnd(after) - now).toFixed(1)} ms of lease left and no demote queued`,
      );
    }

    // A2: no lease ends later than the request that earned it was sent + its length − the margin.
    if (after.witnessLeaseEnd !== 0 && after.witnessLeaseEnd > n.maxEarnedWitness + eps) {
      this.fail(n, 'A2', `witness lease end ${after.witnessLeaseEnd.toFixed(1)} exceeds any earned (${n.maxEarnedWitness.toFixed(1)})`);
    }
    if (after.peerLeaseEnd !== 0 && after.peerLeaseEnd > n.maxEarnedPeer + eps) {
      this.fail(n, 'A2', `peer lease end ${after.peerLeaseEnd.toFixed(1)} exceeds any earned (${n.maxEarnedPeer.toFixed(1)})`);
    }

    for (const action of actions) {
      switch (action.type) {
        case 'witness-claim':
        case 'witness-heartbeat': {
          // W4 is the witness's; the agent must give it a fresh (incarnation, seq) every time.
          if (action.request.incarnation !== n.incarnation || action.request.seq <= n.lastSeq) {
            this.fail(n, 'W4 (agent side)', `request ${action.request.incarnation}.${action.request.seq} after seq ${n.lastSeq}`);
          }
          n.lastSeq = action.request.seq;
          if (action.type === 'witness-heartbeat' && action.request.role === 'secondary' && this.runningHere(n)) {
            this.fail(n, 'reported role', 'reports secondary to the witness while its workloads may run');
          }
          if (action.type === 'witness-claim') {
            // A3: after the last peer lease it granted (independently tracked), and a full peer lease after (re)starting.
            const granted = n.lastGrantLocal === null ? -Infinity : n.lastGrantLocal + t.peerLeaseMs + t.driftMarginMs;
            if (!(now > after.grantedUntil) || !(now > granted)) {
              this.fail(
                n,
                'A3',
                `claims ${(Math.max(after.grantedUntil, granted) - now).toFixed(1)} ms before the last peer lease it granted ends`,
              );
            }
            if (now - n.startedLocal < t.peerLeaseMs) {
              this.fail(n, 'A3', `claims ${(now - n.startedLocal).toFixed(1)} ms after starting, less than a peer lease`);
            }
            if (after.role !== 'secondary' || this.runningHere(n)) this.fail(n, 'A3', `claims while ${after.role}`);
          }
          break;
        }
        case 'peer-hello':
          if (action.hello.role === 'secondary' && this.runningHere(n))
            this.fail(n, 'reported role', 'tells its peer it is secondary while its workloads may run');
          break;
        case 'peer-answer':
          if (action.reply.role === 'secondary' && this.runningHere(n))
            this.fail(n, 'reported role', 'tells its peer it is secondary while its workloads may run');
          if (action.reply.leaseMs !== null) {
            // A3: no peer lease once it has decided to claim, and none from a node that may run workloads.
            if (before.claiming) this.fail(n, 'A3', 'grants a peer lease after deciding to claim');
            if ([...n.witness.values()].some((p) => p.kind === 'claim'))
              this.fail(n, 'A3', 'grants a peer lease while its claim is in flight');
            if (input.type === 'peer-hello' && input.hello.epoch < n.maxEpochSeen) {
              this.fail(
                n,
                'A4',
                `grants a peer lease to a primary at epoch ${input.hello.epoch}, below epoch ${n.maxEpochSeen} it has seen`,
              );
            }
            if (before.role !== 'secondary' || after.role !== 'secondary' || this.runningHere(n))
              this.fail(n, 'A3', `grants a peer lease while ${before.role}`);
            n.lastGrantLocal = now;
          }
          break;
        case 'run-hook':
          if (action.hook === 'promote') {
            // A4: promote only on the epoch just won from the witness, never below one seen.
            if (input.type !== 'witness-claim-ok' || !input.body.granted)
              this.fail(n, 'A4', `promotes on a ${input.type}, not a granted claim`);
            if (action.epoch !== input.body.epoch || after.wonEpoch !== action.epoch) {
              this.fail(n, 'A4', `promotes at epoch ${action.epoch} after winning epoch ${input.body.epoch}`);
            }
            if (action.epoch < n.maxEpochSeen) this.fail(n, 'A4', `promotes at epoch ${action.epoch} after seeing epoch ${n.maxEpochSeen}`);
            if (!(now < leaseEnd(after) - t.fenceLeadMs))
              this.fail(n, 'A1', `promotes with ${(leaseEnd(after) - now).toFixed(1)} ms of lease left`);
            if (n.lastGrantLocal !== null && !(now > n.lastGrantLocal + t.peerLeaseMs + t.driftMarginMs)) {
              this.fail(n, 'A3', `promotes while the peer lease it granted at ${n.lastGrantLocal.toFixed(1)} may still run`);
            }
            if (after.stopping) this.fail(n, 'shutdown', 'promotes after it was asked to stop');
          }
          break;
        case 'log':
          break;
      }
    }

    // A4: a node whose workloads may run that hears of a higher epoch demotes at once (or as soon
    // as its promote hook exits); so does a primary the witness says is not the primary.
    const demoteUnderway =
      actions.some((a) => a.type === 'run-hook' && a.hook === 'demote') ||
      after.hookRunning === 'demote' ||
      (after.hookRunning === 'promote' && after.demoteAfterPromote);
    const higher = Math.max(...inputEpochs, -1);
    if (mayRunWorkloads(before.role) && higher > before.epoch && !demoteUnderway) {
      this.fail(n, 'A4', `hears of epoch ${higher} (it had ${before.epoch}, saw ${seenBefore}) while ${before.role} and does not demote`);
    }
    if (input.type === 'witness-heartbeat-ok' && input.seq === before.witnessInflight?.seq && actsAsPrimary(before.role)) {
      if (input.body.primary !== n.id && !demoteUnderway) {
        this.fail(n, 'A4', `the witness says the primary is ${String(input.body.primary)}, and it does not demote`);
      }
    }
  }
}

function epochsOf(input: AgentInput): number[] {
  switch (input.type) {
    case 'witness-heartbeat-ok':
      return [input.body.epoch, ...input.body.commands.filter((c) => c.type !== 'promote').map((c) => c.epoch)];
    case 'witness-claim-ok':
      return [input.body.epoch];
    case 'peer-hello':
      return [input.hello.epoch];
    case 'peer-reply':
      return [input.reply.epoch];
    default:
      return [];
  }
}

function describeInput(input: AgentInput): string {
  switch (input.type) {
    case 'witness-heartbeat-ok':
      return `← heartbeat #${input.seq} ${JSON.stringify({ ...input.body, commands: input.body.commands.map((c) => `${c.type}@${c.epoch}`) })}`;
    case 'witness-claim-ok':
      return `← claim #${input.seq} ${JSON.stringify(input.body)}`;
    case 'witness-failed':
      return `← witness #${input.seq} failed ${String(input.status)} ${String(input.code)}`;
    case 'peer-hello':
      return `← hello ${JSON.stringify(input.hello)}`;
    case 'peer-reply':
      return `← reply ${JSON.stringify(input.reply)}`;
    case 'peer-failed':
      return '← hello failed';
    case 'hook-exited':
      return `← ${input.hook} hook exited ${String(input.code)}`;
    default:
      return input.type;
  }
}

function describeAction(action: AgentAction): string {
  switch (action.type) {
    case 'witness-heartbeat':
      return `heartbeat #${action.request.seq} (${action.request.role} e${action.request.epoch}, peer ${action.request.peer?.reachable ? 'up' : 'down'}${
        action.request.acks ? `, acks ${action.request.acks.join(' ')}` : ''
      })`;
    case 'witness-claim':
      return `CLAIM #${action.request.seq} (${action.request.reason})`;
    case 'peer-hello':
      return `hello (${action.hello.role} e${action.hello.epoch}${action.hello.wantLease ? ', wants lease' : ''})`;
    case 'peer-answer':
      return `answer (${action.reply.role} e${action.reply.epoch}${action.reply.leaseMs === null ? '' : `, GRANTS ${action.reply.leaseMs}`})`;
    case 'run-hook':
      return `RUN ${action.hook.toUpperCase()} e${action.epoch} (${action.reason})`;
    case 'log':
      return action.message;
  }
}
