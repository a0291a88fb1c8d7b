import { performance } from 'node:perf_hooks';

/** One kind of request a load worker sends; it throws when the answer is not the expected one. */
export type Operation = (worker: number) => Promise<void>;

export interface OperationResult {
  completed: number;
  /** Wrong answers, non-200s and transport errors: any of them spoils the figures. */
  errors: number;
  /** Latency of every completed request, ms. */
  latenciesMs: number[];
}

export interface RunResult {
  elapsedMs: number;
  byOperation: OperationResult[];
}

/** Failed requests by what went wrong, so that a count of errors says which errors. */
export class ErrorTally {
  readonly byKind = new Map<string, number>();

  record(error: unknown): void {
    const kind = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
  }

  get total(): number {
    return [...this.byKind.values()].reduce((a, b) => a + b, 0);
  }
}

/**
 * A closed loop: `concurrency` workers, each sending its next request as soon as the last one
 * answered, until `durationMs` has passed; then no new request starts and the run waits for the
 * ones in flight, so counts taken around a run (DynamoDB requests, CPU) cover exactly its requests.
 * With several operations, worker w sends operations[(w + i) % n] as its i-th request, so each
 * kind runs under the very same load as the others and as often.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  operations: readonly Operation[],
  errors: ErrorTally,
): Promise<RunResult> {
  const byOperation = operations.map((): OperationResult => ({ completed: 0, errors: 0, latenciesMs: [] }));
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; performance.now() < deadline; i++) {
      const index = (w + i) % operations.length;
      const result = byOperation[index]!;
      const sent = performance.now();
      try {
        await operations[index]!(w);
        result.completed++;
        result.latenciesMs.push(performance.now() - sent);
      } catch (error) {
        result.errors++;
        errors.record(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return { elapsedMs: performance.now() - started, byOperation };
}

/** Nearest-rank percentile (p in 0..100) of latencies, ms; NaN when there are none. */
export function percentile(latenciesMs: readonly number[], p: number): number {
  if (latenciesMs.length === 0) return Number.NaN;
  const sorted = latenciesMs.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `task` over `items` with at most `concurrency` at a time (set-up work, not measured). */
export async function forEachLimited<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Splits items among workers: worker w gets every item i with i % workers === w, so no two share one. */
export function shard<T>(items: readonly T[], workers: number): T[][] {
  const shards = Array.from({ length: workers }, (): T[] => []);
  items.forEach((item, i) => shards[i % workers]!.push(item));
  return shards;
}

/** Several runs of the same operations as one: counts and times added, latencies pooled. */
export function mergeRuns(runs: readonly RunResult[]): RunResult {
  const first = runs[0];
  if (!first) throw new Error('no runs to merge');
  return {
    elapsedMs: runs.reduce((sum, run) => sum + run.elapsedMs, 0),
    byOperation: first.byOperation.map((_, i) => ({
      completed: runs.reduce((sum, run) => sum + run.byOperation[i]!.completed, 0),
      errors: runs.reduce((sum, run) => sum + run.byOperation[i]!.errors, 0),
      latenciesMs: runs.flatMap((run) => run.byOperation[i]!.latenciesMs),
    })),
  };
}
