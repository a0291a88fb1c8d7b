import { appendFileSync, readFileSync } from 'node:fs';

export interface WorkloadEntry {
  /** ms on the machine's monotonic clock (process.hrtime), shared by every process. */
  t: number;
  node: string;
  /** `start`/`stop` from the hooks; `killed` when the harness kills a node (its workloads die with it). */
  event: 'start' | 'stop' | 'killed';
  epoch?: number;
  reason?: string;
}

export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export function readWorkloadLog(file: string): WorkloadEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as WorkloadEntry)
    .sort((a, b) => a.t - b.t);
}

export function recordKill(file: string, node: string): number {
  const t = monotonicMs();
  appendFileSync(file, `${JSON.stringify({ t, node, event: 'killed' } satisfies WorkloadEntry)}\n`);
  return t;
}

export interface Interval {
  node: string;
  from: number;
  to: number;
  epoch: number | undefined;
}

/** Each node's "running as primary" intervals: from a `start` to the next `stop` or `killed` (or `until`). */
export function primaryIntervals(entries: WorkloadEntry[], until: number): Interval[] {
  const open = new Map<string, WorkloadEntry>();
  const intervals: Interval[] = [];
  for (const entry of entries) {
    const started = open.get(entry.node);
    if (entry.event === 'start') {
      if (!started) open.set(entry.node, entry);
    } else if (started) {
      intervals.push({ node: entry.node, from: started.t, to: entry.t, epoch: started.epoch });
      open.delete(entry.node);
    }
  }
  for (const started of open.values()) intervals.push({ node: started.node, from: started.t, to: until, epoch: started.epoch });
  return intervals.sort((a, b) => a.from - b.from);
}

/** Pairs of intervals of different nodes that overlap in time: each one is a split brain. */
export function overlaps(intervals: Interval[]): [Interval, Interval][] {
  const found: [Interval, Interval][] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const a = intervals[i]!;
      const b = intervals[j]!;
      if (b.from >= a.to) break;
      if (a.node !== b.node) found.push([a, b]);
    }
  }
  return found;
}
