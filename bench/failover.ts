import { parseArgs } from 'node:util';
import { defaultTimings, shortestTimings } from '../agent/core/settings.ts';
import { defaultSettings, shortestSettings } from '../functions/domain/settings.ts';
import { measureFailover } from '../harness/failover.ts';

/**
 * `npm run bench -- failover [--sites N]`: the primary's agent is killed (SIGKILL) and the clock
 * stops when the other node's promote hook has run; real agent processes against the local
 * witness, at the default settings and at the shortest supported ones, beside the target of one
 * witness lease plus one fast heartbeat. Sites run at once, each killed at another phase of the
 * slow heartbeat cycle.
 */
export async function failoverBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { sites: { type: 'string', default: '4' } } });
  const sites = Number(values.sites);
  const profiles = [
    { name: 'default', witness: defaultSettings, agent: defaultTimings, requestTimeoutMs: 3_000 },
    { name: 'shortest', witness: shortestSettings, agent: shortestTimings, requestTimeoutMs: 1_000 },
  ];
  for (const p of profiles) {
    const times = (
      await measureFailover({
        witness: p.witness,
        agent: p.agent,
        requestTimeoutMs: p.requestTimeoutMs,
        sites,
        settleMs: 2 * p.agent.peerLeaseMs,
      })
    ).sort((a, b) => a - b);
    const target = p.witness.leaseMs + p.witness.fastHeartbeatMs;
    console.log(`failover_${p.name}_target_ms: ${target}`);
    console.log(`failover_${p.name}_min_ms: ${Math.round(times[0]!)}`);
    console.log(`failover_${p.name}_median_ms: ${Math.round(times[Math.floor(times.length / 2)]!)}`);
    console.log(`failover_${p.name}_max_ms: ${Math.round(times.at(-1)!)}`);
    console.log(`failover_${p.name}_runs: ${times.length}`);
  }
  return 0;
}
