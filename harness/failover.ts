import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentTimings } from '../agent/core/settings.ts';
import type { WitnessSettings } from '../functions/domain/settings.ts';
import { SiteRig } from './site-rig.ts';
import { startWitnessStack } from './witness-stack.ts';
import { monotonicMs, readWorkloadLog } from './workload-log.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function firstStart(rig: SiteRig, since: number, timeoutMs: number, node?: string) {
  const deadline = monotonicMs() + timeoutMs;
  while (monotonicMs() < deadline) {
    const found = readWorkloadLog(rig.workloadLog).find((e) => e.event === 'start' && e.t >= since && (!node || e.node === node));
    if (found) return found;
    await sleep(20);
  }
  return undefined;
}

/**
 * Failover time as a site sees it: the primary's agent is killed (SIGKILL) after `settleMs` of
 * steady running, and the clock stops when the other node's promote hook has run. `sites` sites
 * run at once, each once; returns the measured times in ms.
 */
export async function measureFailover(options: {
  witness: WitnessSettings;
  agent: AgentTimings;
  requestTimeoutMs: number;
  sites: number;
  settleMs: number;
}): Promise<number[]> {
  const stack = await startWitnessStack(options.witness);
  const bound = 2 * (options.witness.leaseMs + options.agent.peerLeaseMs) + 10_000;
  try {
    const runs = Array.from({ length: options.sites }, async (_, i) => {
      const dir = mkdtempSync(join(tmpdir(), 'tiebreak-failover-'));
      const tokens = await stack.createSite(`failover-${i}`, ['node-a', 'node-b']);
      const rig = await SiteRig.create({
        dir,
        witnessUrl: stack.url,
        tokens,
        timings: options.agent,
        requestTimeoutMs: options.requestTimeoutMs,
      });
      try {
        rig.start('node-a');
        rig.start('node-b');
        const first = await firstStart(rig, 0, bound);
        if (!first) throw new Error(`site ${i}: no primary within ${bound} ms`);
        // Kill at a different phase of the heartbeat cycle at each site.
        await sleep(options.settleMs + (i * options.witness.slowHeartbeatMs) / options.sites);
        const killedAt = rig.kill(first.node);
        const next = await firstStart(rig, killedAt, bound, first.node === 'node-a' ? 'node-b' : 'node-a');
        if (!next) throw new Error(`site ${i}: no failover within ${bound} ms`);
        return next.t - killedAt;
      } finally {
        await rig.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
    return await Promise.all(runs);
  } finally {
    await stack.close();
  }
}
