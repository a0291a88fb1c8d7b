/**
 * `npm run bench -- <name> [options]`: runs one benchmark in this process and exits with its code.
 * Benchmarks load on demand (dynamic import), after the environment below is set.
 */
import { UsageError } from './usage-error.ts';

// Before any handler module loads: the witness logger reads its level once, when it is built.
// Figures must not pay for (or drown in) per-request log lines; renewals log at debug anyway.
// A level set in the environment wins, so that the cost of logging can be measured on purpose.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

type Bench = (args: string[]) => Promise<number>;

const benches: Record<string, () => Promise<Bench>> = {
  witness: async () => (await import('./witness.ts')).witnessBench,
  failover: async () => (await import('./failover.ts')).failoverBench,
  cost: async () => (await import('./cost.ts')).costBench,
  bundles: async () => (await import('./bundles.ts')).bundlesBench,
  detector: async () => (await import('./detector.ts')).detectorBench,
  webhooks: async () => (await import('./webhooks.ts')).webhooksBench,
  console: async () => (await import('./console.ts')).consoleBench,
  fleet: async () => (await import('./fleet.ts')).fleetBench,
};

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : benches[name];
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join(' | ')}> [options]`);
  process.exit(2);
}
const bench = await load();
try {
  process.exitCode = await bench(args);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  process.exitCode = 2;
}
