import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Faults } from './fault-proxy.ts';
import { seeded } from './seeded-random.ts';
import { shortAgentTimings, shortRequestTimeoutMs, shortWitnessSettings } from './short-timings.ts';
import { SiteRig } from './site-rig.ts';
import type { WitnessStack } from './witness-stack.ts';
import { monotonicMs, overlaps, primaryIntervals, readWorkloadLog, type WorkloadEntry } from './workload-log.ts';

const nodes = ['node-a', 'node-b'] as const;
type NodeId = (typeof nodes)[number];

export type Fault =
  | { at: number; lasts: number; kind: 'crash'; node: NodeId }
  | { at: number; lasts: number; kind: 'peer-cut'; into: NodeId | 'both' }
  | { at: number; lasts: number; kind: 'witness-cut'; node: NodeId }
  | { at: number; lasts: number; kind: 'link-faults'; link: 'witness' | 'peer'; node: NodeId; faults: Partial<Faults> };

/**
 * Survivor mode (W5/A5): one node dies for long; once the other runs on a standalone lease, its
 * witness link is cut for several leases; the dead node comes back during the cut or after it.
 */
export interface SurvivorPlan {
  victim: NodeId;
  /** How many witness leases the survivor's witness link stays cut. */
  cutLeases: number;
  /** When the victim restarts, as a share of the cut: 0 as it starts, 1 as it heals, more after. */
  returnAt: number;
  /** The peer link is cut for this long (ms) as the victim returns: it must neither claim nor rejoin meanwhile. */
  peerCutMs: number;
}

export interface Schedule {
  seed: number;
  clockRates: Record<NodeId, number>;
  faults: Fault[];
  survivor?: SurvivorPlan;
}

/**
 * A schedule from its seed: clock rates within the drift margin, then either (one in four) a
 * survivor scene with light link faults on top, or two to five faults in the first eight seconds
 * after a primary is elected, each lasting 0.3 to 4 s.
 */
export function makeSchedule(seed: number): Schedule {
  const r = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
  // Half the margin's share of a peer lease: the rest is for network delay.
  const maxDrift = shortAgentTimings.driftMarginMs / shortAgentTimings.peerLeaseMs / 2;
  const clockRates = { 'node-a': 1 + (r() * 2 - 1) * maxDrift, 'node-b': 1 + (r() * 2 - 1) * maxDrift };
  const faults: Fault[] = [];
  if (r() < 0.25) {
    const survivor: SurvivorPlan = {
      victim: pick(nodes),
      cutLeases: 3 + Math.floor(r() * 2),
      returnAt: pick([0.2, 0.6, 1.3]),
      peerCutMs: pick([0, 0, 2_500]),
    };
    // Light faults on the survivor's witness link before the cut: lost answers and duplicates must not cost it the lease.
    const survivorId = nodes.find((n) => n !== survivor.victim)!;
    faults.push({
      at: 0,
      lasts: 6_000,
      kind: 'link-faults',
      node: survivorId,
      link: 'witness',
      faults: { delayMs: 50, jitterMs: 150, duplicate: 0.2, dropResponse: 0.15 },
    });
    return { seed, clockRates, faults, survivor };
  }
  const count = 2 + Math.floor(r() * 4);
  for (let i = 0; i < count; i++) {
    const at = Math.round(r() * 8_000);
    const lasts = Math.round(300 + r() * 3_700);
    const node = pick(nodes);
    const kind = pick(['crash', 'peer-cut', 'witness-cut', 'link-faults', 'link-faults'] as const);
    if (kind === 'crash') faults.push({ at, lasts, kind, node });
    else if (kind === 'peer-cut') faults.push({ at, lasts, kind, into: pick([...nodes, 'both'] as const) });
    else if (kind === 'witness-cut') faults.push({ at, lasts, kind, node });
    else {
      faults.push({
        at,
        lasts,
        kind,
        node,
        link: pick(['witness', 'peer'] as const),
        faults: { delayMs: Math.round(r() * 300), jitterMs: Math.round(r() * 400), duplicate: r() * 0.5, dropResponse: r() * 0.3 },
      });
    }
  }
  return { seed, clockRates, faults: faults.sort((a, b) => a.at - b.at) };
}

export interface ScheduleResult {
  seed: number;
  splitBrain: number;
  /** Survivor scenes only: how long the survivor ran no workloads while it held a standalone lease (must be 0). */
  survivorOutageMs: number | null;
  /** Survivor scenes only: from the victim's death to the survivor's standalone lease. */
  standaloneAfterMs: number | null;
  /** Survivor scenes only: from the returning node's restart to its readmission by the witness. */
  readmittedAfterMs: number | null;
  /** No single primary within the bound after the faults healed (or none at the start). */
  stuck: boolean;
  /** The harness's event loop lagged past `overloadLagMs`: a liveness miss may be the machine's. */
  overloaded: boolean;
  failoversMs: number[];
  convergedMs: number | null;
  note?: string;
}

/** After healing, one primary must run within one lease plus two heartbeats (and its skew margin). */
export const convergeBoundMs = shortWitnessSettings.leaseMs + shortWitnessSettings.skewMarginMs + 2 * shortWitnessSettings.fastHeartbeatMs;
const startBoundMs = 15_000;
const overloadLagMs = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openPrimaries(entries: WorkloadEntry[]): string[] {
  return primaryIntervals(entries, Infinity)
    .filter((i) => i.to === Infinity)
    .map((i) => i.node);
}

async function until(test: () => boolean, timeoutMs: number): Promise<number | null> {
  const start = monotonicMs();
  while (monotonicMs() - start < timeoutMs) {
    if (test()) return monotonicMs() - start;
    await sleep(25);
  }
  return test() ? monotonicMs() - start : null;
}

export async function runSchedule(
  stack: WitnessStack,
  schedule: Schedule,
  options: { mode: 'process' | 'in-process'; agentCommand?: string[]; keepDir?: boolean },
): Promise<ScheduleResult> {
  const dir = mkdtempSync(join(tmpdir(), `tiebreak-chaos-${schedule.seed}-`));
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const tokens = await stack.createSite(`chaos-${schedule.seed}`, nodes);
  const rig = await SiteRig.create({
    dir,
    witnessUrl: stack.url,
    tokens,
    timings: shortAgentTimings,
    requestTimeoutMs: shortRequestTimeoutMs,
    mode: options.mode,
    ...(options.agentCommand ? { agentCommand: options.agentCommand } : {}),
    clockRates: schedule.clockRates,
    random: seeded(schedule.seed ^ 0x5eed),
  });
  const log = () => readWorkloadLog(rig.workloadLog);
  const result: ScheduleResult = {
    seed: schedule.seed,
    splitBrain: 0,
    survivorOutageMs: null,
    standaloneAfterMs: null,
    readmittedAfterMs: null,
    stuck: false,
    overloaded: false,
    failoversMs: [],
    convergedMs: null,
  };
  try {
    for (const id of nodes) rig.start(id);
    if ((await until(() => openPrimaries(log()).length === 1, startBoundMs)) === null) {
      result.stuck = true;
      result.note = 'no primary at start';
    } else {
      const t0 = monotonicMs();
      const crashes: { node: string; at: number; wasPrimary: boolean }[] = [];
      const pending = schedule.faults.map(async (fault) => {
        await sleep(Math.max(0, fault.at - (monotonicMs() - t0)));
        applyFault(rig, fault, true, crashes, log);
        await sleep(fault.lasts);
        applyFault(rig, fault, false, crashes, log);
      });
      if (schedule.survivor) pending.push(survivorScene(stack, rig, schedule, result, crashes, log));
      await Promise.all(pending);
      // Heal everything (a fault may have been undone by an overlapping one's end).
      rig.cutPeerLink(false);
      for (const id of nodes) {
        rig.cutWitness(id, false);
        rig.nodes[id]!.witnessLink.faults = {
          ...rig.nodes[id]!.witnessLink.faults,
          delayMs: 0,
          jitterMs: 0,
          duplicate: 0,
          dropResponse: 0,
        };
        rig.nodes[id]!.peerLinkIn.faults = { ...rig.nodes[id]!.peerLinkIn.faults, delayMs: 0, jitterMs: 0, duplicate: 0, dropResponse: 0 };
        if (!rig.running(id)) rig.start(id);
      }
      result.convergedMs = await until(() => openPrimaries(log()).length === 1, convergeBoundMs);
      result.stuck = result.convergedMs === null;
      if (result.stuck) result.note = `primaries after healing: ${openPrimaries(log()).join(', ') || 'none'}`;
      const entries = log();
      for (const crash of crashes.filter((c) => c.wasPrimary)) {
        const next = entries.find((e) => e.event === 'start' && e.node !== crash.node && e.t > crash.at);
        if (next) result.failoversMs.push(next.t - crash.at);
      }
    }
  } finally {
    for (const id of nodes) if (rig.running(id)) rig.kill(id);
    await rig.close();
    lag.disable();
    // p99, not max: one start-up stall is not an overload; a sustained one delays timers everywhere.
    result.overloaded = lag.percentile(99) / 1e6 > overloadLagMs;
    const found = overlaps(primaryIntervals(log(), monotonicMs()));
    result.splitBrain = found.length;
    if (schedule.survivor) result.survivorOutageMs = survivorOutage(rig, log(), monotonicMs());
    if (found.length === 0 && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    else result.note = `${result.note ?? ''} logs in ${dir}`.trim();
  }
  return result;
}

/** What the agent logs when a witness answer makes its lease standalone, and when it stops counting on one (agent/core/step.ts). */
export const standaloneLine = 'survivor mode: the lease is standalone';
export const standaloneEndedLine = 'standalone lease ended by the witness';
const standaloneOver = (message: string) =>
  message === standaloneEndedLine ||
  message.startsWith('standalone lease void') ||
  message.startsWith('standalone lease given up') ||
  message === 'agent started';

/** The longest the witness may take to exclude a dead node after its last heartbeat, with a failover before it. */
const excludeBoundMs =
  shortWitnessSettings.leaseMs +
  shortWitnessSettings.skewMarginMs +
  2 * shortWitnessSettings.fastHeartbeatMs +
  shortWitnessSettings.slowHeartbeatMs +
  shortWitnessSettings.exclusionMs +
  5_000;
/** The survivor reports its peer back on its next (slow) heartbeat, then acknowledges the command on the one after. */
const readmitBoundMs = 3 * shortWitnessSettings.slowHeartbeatMs + 2 * shortRequestTimeoutMs;

/**
 * The survivor scene: kill the victim; once the other runs standalone, cut its witness link for a
 * few leases; bring the victim back during the cut or after it (with the peer link cut for a while,
 * if the plan says so); then the victim must rejoin as secondary and be readmitted.
 */
async function survivorScene(
  stack: WitnessStack,
  rig: SiteRig,
  schedule: Schedule,
  result: ScheduleResult,
  crashes: { node: string; at: number; wasPrimary: boolean }[],
  log: () => WorkloadEntry[],
): Promise<void> {
  const plan = schedule.survivor!;
  const survivor = nodes.find((n) => n !== plan.victim)!;
  await sleep(1_000);
  const wasPrimary = openPrimaries(log()).includes(plan.victim);
  const killedAt = rig.kill(plan.victim);
  crashes.push({ node: plan.victim, at: killedAt, wasPrimary });
  const standalone = await rig
    .waitFor(
      (line) => line.node === survivor && line.message === standaloneLine,
      excludeBoundMs,
      `${survivor}'s standalone lease`,
      killedAt,
    )
    .catch(() => undefined);
  if (!standalone) {
    result.stuck = true;
    result.note = `${survivor} got no standalone lease within ${excludeBoundMs} ms of ${plan.victim}'s death`;
    rig.start(plan.victim);
    return;
  }
  result.standaloneAfterMs = Math.round(standalone.t - killedAt);
  const cutMs = plan.cutLeases * shortWitnessSettings.leaseMs;
  rig.cutWitness(survivor, true);
  const victimBack = (async () => {
    await sleep(plan.returnAt * cutMs);
    if (plan.peerCutMs > 0) rig.cutPeerLink(true);
    const restartedAt = monotonicMs();
    rig.start(plan.victim);
    if (plan.peerCutMs > 0) {
      await sleep(plan.peerCutMs);
      rig.cutPeerLink(false);
    }
    return restartedAt;
  })();
  await sleep(cutMs);
  rig.cutWitness(survivor, false);
  const restartedAt = await victimBack;
  const readmitted = await waitForReadmission(stack, schedule.seed, readmitBoundMs + plan.peerCutMs);
  if (readmitted === null) {
    result.stuck = true;
    result.note = `${plan.victim} was not readmitted within ${readmitBoundMs + plan.peerCutMs} ms of the witness link's healing`;
  } else {
    result.readmittedAfterMs = Math.round(readmitted - restartedAt);
  }
}

/** When the witness no longer excludes anyone on this schedule's site (the monotonic time), or null. */
async function waitForReadmission(stack: WitnessStack, seed: number, timeoutMs: number): Promise<number | null> {
  const key = { resellerId: 'harness', siteId: `chaos-${seed}` };
  const start = monotonicMs();
  while (monotonicMs() - start < timeoutMs) {
    const state = await stack.deps.store.load(key);
    if (state && !state.exclusion) return monotonicMs();
    await sleep(100);
  }
  return null;
}

/**
 * A5 live: from each line where the survivor learned that its lease is standalone until the line
 * that ended it (or the run's end), the time its workloads were not running. It must be 0.
 */
export function survivorOutage(rig: SiteRig, entries: WorkloadEntry[], until: number): number {
  let outage = 0;
  for (const id of nodes) {
    const lines = rig.lines.filter((l) => l.node === id && (l.message === standaloneLine || standaloneOver(l.message)));
    const running = primaryIntervals(entries, until).filter((i) => i.node === id);
    let from: number | null = null;
    const close = (to: number) => {
      if (from === null) return;
      const covered = running.reduce((sum, i) => sum + Math.max(0, Math.min(i.to, to) - Math.max(i.from, from!)), 0);
      outage += Math.max(0, to - from - covered);
      from = null;
    };
    for (const line of lines) {
      if (line.message === standaloneLine) from ??= line.t;
      else close(line.t);
    }
    // A kill ends what the agent believed: the machine is gone.
    const killed = entries.find((e) => e.node === id && e.event === 'killed' && from !== null && e.t > from);
    close(killed?.t ?? until);
  }
  return Math.round(outage);
}

function applyFault(
  rig: SiteRig,
  fault: Fault,
  on: boolean,
  crashes: { node: string; at: number; wasPrimary: boolean }[],
  log: () => WorkloadEntry[],
): void {
  switch (fault.kind) {
    case 'crash':
      if (on && rig.running(fault.node)) {
        const wasPrimary = openPrimaries(log()).includes(fault.node);
        crashes.push({ node: fault.node, at: rig.kill(fault.node), wasPrimary });
      } else if (!on && !rig.running(fault.node)) {
        rig.start(fault.node);
      }
      return;
    case 'peer-cut':
      for (const id of nodes) if (fault.into === 'both' || fault.into === id) rig.nodes[id]!.peerLinkIn.cut(on);
      return;
    case 'witness-cut':
      rig.cutWitness(fault.node, on);
      return;
    case 'link-faults': {
      const proxy = fault.link === 'witness' ? rig.nodes[fault.node]!.witnessLink : rig.nodes[fault.node]!.peerLinkIn;
      proxy.faults = on
        ? { ...proxy.faults, ...fault.faults }
        : { ...proxy.faults, delayMs: 0, jitterMs: 0, duplicate: 0, dropResponse: 0 };
      return;
    }
  }
}

export interface SweepSummary {
  schedules: number;
  split_brain: number;
  survivor_schedules: number;
  /** Summed over the survivor scenes: time a survivor ran no workloads while its lease was standalone. Must be 0. */
  survivor_outage_ms: number;
  standalone_after_ms_p50: number | null;
  readmitted_after_ms_p99: number | null;
  stuck: number;
  stuck_overloaded: number;
  failover_ms_p50: number | null;
  failover_ms_p99: number | null;
  converge_ms_p99: number | null;
  duration_s: number;
  violations: ScheduleResult[];
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

/** Runs `count` schedules from `seed`, `parallel` at a time, all against one witness. */
export async function sweep(
  stack: WitnessStack,
  options: {
    count: number;
    seed: number;
    parallel: number;
    mode: 'process' | 'in-process';
    agentCommand?: string[];
    onResult?: (r: ScheduleResult) => void;
  },
): Promise<SweepSummary> {
  const started = monotonicMs();
  const results: ScheduleResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      const seed = (options.seed + next++) >>> 0;
      const result = await runSchedule(stack, makeSchedule(seed), options);
      results.push(result);
      options.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel, options.count) }, worker));
  const failovers = results.flatMap((r) => r.failoversMs);
  const survivors = results.filter((r) => r.survivorOutageMs !== null);
  return {
    schedules: results.length,
    split_brain: results.reduce((n, r) => n + r.splitBrain, 0),
    survivor_schedules: survivors.length,
    survivor_outage_ms: survivors.reduce((n, r) => n + (r.survivorOutageMs ?? 0), 0),
    standalone_after_ms_p50: percentile(
      survivors.flatMap((r) => (r.standaloneAfterMs === null ? [] : [r.standaloneAfterMs])),
      50,
    ),
    readmitted_after_ms_p99: percentile(
      survivors.flatMap((r) => (r.readmittedAfterMs === null ? [] : [r.readmittedAfterMs])),
      99,
    ),
    stuck: results.filter((r) => r.stuck && !r.overloaded).length,
    stuck_overloaded: results.filter((r) => r.stuck && r.overloaded).length,
    failover_ms_p50: percentile(failovers, 50),
    failover_ms_p99: percentile(failovers, 99),
    converge_ms_p99: percentile(
      results.flatMap((r) => (r.convergedMs === null ? [] : [r.convergedMs])),
      99,
    ),
    duration_s: Math.round((monotonicMs() - started) / 100) / 10,
    violations: results.filter((r) => r.splitBrain > 0 || r.stuck || (r.survivorOutageMs ?? 0) > 0),
  };
}
