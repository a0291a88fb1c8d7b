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

export interface Schedule {
  seed: number;
  clockRates: Record<NodeId, number>;
  faults: Fault[];
}

/**
 * A schedule from its seed: clock rates within the drift margin, then two to five faults in the
 * first eight seconds after a primary is elected, each lasting 0.3 to 4 s.
 */
export function makeSchedule(seed: number): Schedule {
  const r = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
  // Half the margin's share of a peer lease: the rest is for network delay.
  const maxDrift = (shortAgentTimings.driftMarginMs / shortAgentTimings.peerLeaseMs) / 2;
  const clockRates = { 'node-a': 1 + (r() * 2 - 1) * maxDrift, 'node-b': 1 + (r() * 2 - 1) * maxDrift };
  const faults: Fault[] = [];
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
  const result: ScheduleResult = { seed: schedule.seed, splitBrain: 0, stuck: false, overloaded: false, failoversMs: [], convergedMs: null };
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
      await Promise.all(pending);
      // Heal everything (a fault may have been undone by an overlapping one's end).
      rig.cutPeerLink(false);
      for (const id of nodes) {
        rig.cutWitness(id, false);
        rig.nodes[id]!.witnessLink.faults = { ...rig.nodes[id]!.witnessLink.faults, delayMs: 0, jitterMs: 0, duplicate: 0, dropResponse: 0 };
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
    if (found.length === 0 && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    else result.note = `${result.note ?? ''} logs in ${dir}`.trim();
  }
  return result;
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
      proxy.faults = on ? { ...proxy.faults, ...fault.faults } : { ...proxy.faults, delayMs: 0, jitterMs: 0, duplicate: 0, dropResponse: 0 };
      return;
    }
  }
}

export interface SweepSummary {
  schedules: number;
  split_brain: number;
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
  options: { count: number; seed: number; parallel: number; mode: 'process' | 'in-process'; agentCommand?: string[]; onResult?: (r: ScheduleResult) => void },
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
  return {
    schedules: results.length,
    split_brain: results.reduce((n, r) => n + r.splitBrain, 0),
    stuck: results.filter((r) => r.stuck && !r.overloaded).length,
    stuck_overloaded: results.filter((r) => r.stuck && r.overloaded).length,
    failover_ms_p50: percentile(failovers, 50),
    failover_ms_p99: percentile(failovers, 99),
    converge_ms_p99: percentile(results.flatMap((r) => (r.convergedMs === null ? [] : [r.convergedMs])), 99),
    duration_s: Math.round((monotonicMs() - started) / 100) / 10,
    violations: results.filter((r) => r.splitBrain > 0 || r.stuck),
  };
}
