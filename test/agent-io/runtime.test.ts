import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../harness/site-rig.ts';
import { sleep, until } from '../support/waiting.ts';
import { AgentConfig } from '../../agent/config.ts';
import { AgentRuntime, type LogLine } from '../../agent/io/runtime.ts';
import { shortAgentTimings, shortWitnessSettings } from '../../harness/short-timings.ts';
import { startWitnessStack, type WitnessStack } from '../../harness/witness-stack.ts';
import { readWorkloadLog } from '../../harness/workload-log.ts';

// A first start takes the clock in seconds as its incarnation (agent/io/state-file.ts).
const firstIncarnation = expect.any(Number) as unknown as number;

const root = resolve(import.meta.dirname, '..', '..');
// Shortened like bin/demo.ts: the same rules, a fifth of the waiting.
const witnessSettings = shortWitnessSettings;
const timings = shortAgentTimings;
const ids = ['node-a', 'node-b'] as const;
type Id = (typeof ids)[number];

interface Status {
  role: string;
  epoch: number;
  incarnation: number;
  leases: {
    standalone: boolean;
    witnessRemainingMs: number;
    peerRemainingMs: number;
    heldRemainingMs: number;
    grantedToPeerRemainingMs: number;
  };
  excluded: boolean;
  peer: { reachable: boolean; role: string | null };
  witness: { reachable: boolean; primary: string | null };
}

const dir = mkdtempSync(join(tmpdir(), 'tiebreak-runtime-'));
const workloadLog = join(dir, 'workload.log');
const lines: (LogLine & { node: string })[] = [];
const configFiles = {} as Record<Id, string>;
const agents = {} as Record<Id, AgentRuntime>;
let stack: WitnessStack;

const status = (id: Id) => agents[id].status() as Status | undefined;
const workloads = () => readWorkloadLog(workloadLog);

beforeAll(async () => {
  writeFileSync(workloadLog, '');
  stack = await startWitnessStack(witnessSettings);
  const tokens = await stack.createSite('agent-io', [...ids]);
  const key = Buffer.alloc(32, 9).toString('base64');
  const ports = { 'node-a': await freePort(), 'node-b': await freePort() };
  for (const id of ids) {
    const other = id === 'node-a' ? 'node-b' : 'node-a';
    const hook = (event: 'start' | 'stop') => ({
      command: [process.execPath, join(root, 'harness', 'workload-hook.mjs'), workloadLog, event],
      timeoutMs: 5_000,
    });
    const raw = {
      nodeId: id,
      witness: { url: stack.url, token: tokens[id], requestTimeoutMs: 800 },
      peer: { listen: `127.0.0.1:${String(ports[id])}`, url: `http://127.0.0.1:${String(ports[other])}`, key },
      stateDir: join(dir, `${id}-state`),
      hooks: { promote: hook('start'), demote: hook('stop') },
      timings,
    };
    configFiles[id] = join(dir, `${id}.json`);
    writeFileSync(configFiles[id], JSON.stringify(raw, null, 2));
    agents[id] = new AgentRuntime(AgentConfig.parse(raw), {
      log: (line) => {
        lines.push({ ...line, node: id });
      },
    });
  }
});

afterAll(async () => {
  for (const id of ids) await agents[id].stop();
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('two agents against the local witness', () => {
  let primary: Id;
  let secondary: Id;

  test('elect exactly one primary, whose promote hook ran', async () => {
    await Promise.all(ids.map((id) => agents[id].start()));
    primary = await until('a primary', 15_000, () => ids.find((id) => status(id)?.role === 'primary'));
    secondary = primary === 'node-a' ? 'node-b' : 'node-a';
    // Let a few hellos and heartbeats go by: nothing changes.
    await sleep(1_000);
    expect(ids.map((id) => status(id)?.role).sort()).toEqual(['primary', 'secondary']);
    const p = status(primary)!;
    const starts = workloads().filter((e) => e.event === 'start');
    expect(starts).toEqual([expect.objectContaining({ node: primary, epoch: p.epoch, reason: `won epoch ${String(p.epoch)}` })]);
    // The only stops are each agent's start-up demote (a previous run may have left workloads running).
    expect(
      workloads()
        .filter((e) => e.event === 'stop')
        .map((e) => e.reason),
    ).toEqual(ids.map(() => expect.stringMatching(/^starting/) as unknown));
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  test('status() shows the role, the epoch and the leases of each', () => {
    const p = status(primary)!;
    const s = status(secondary)!;
    expect(p).toMatchObject({
      role: 'primary',
      incarnation: firstIncarnation,
      peer: { reachable: true, role: 'secondary' },
      witness: { reachable: true, primary },
    });
    // Not survivor mode: both nodes are heard.
    expect(p).toMatchObject({ excluded: false, leases: { standalone: false } });
    expect(p.epoch).toBeGreaterThanOrEqual(1);
    // The primary holds a peer lease from its secondary, and (after its claim) a witness lease.
    expect(p.leases.peerRemainingMs).toBeGreaterThan(0);
    expect(p.leases.peerRemainingMs).toBeLessThanOrEqual(timings.peerLeaseMs);
    expect(p.leases.heldRemainingMs).toBe(Math.max(p.leases.peerRemainingMs, p.leases.witnessRemainingMs));
    expect(p.leases.grantedToPeerRemainingMs).toBe(0);
    expect(s).toMatchObject({
      role: 'secondary',
      epoch: p.epoch,
      incarnation: firstIncarnation,
      peer: { reachable: true, role: 'primary' },
      witness: { reachable: true, primary },
    });
    expect(s.leases.heldRemainingMs).toBe(0);
    // The secondary granted that peer lease and counts it until it ends, plus the drift margin (A3).
    expect(s.leases.grantedToPeerRemainingMs).toBeGreaterThan(0);
    expect(s.leases.grantedToPeerRemainingMs).toBeLessThanOrEqual(timings.peerLeaseMs + timings.driftMarginMs);
  });

  test('`tiebreak-agent status` prints the status file the agent writes', async () => {
    const file = join(dir, `${primary}-state`, 'status.json');
    await until('the status file', 3_000, () => {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as Status).role === 'primary' ? true : undefined;
      } catch {
        return undefined;
      }
    });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'bin', 'agent.ts'), 'status', '--config', configFiles[primary]],
      {
        cwd: root,
      },
    );
    const printed = JSON.parse(stdout) as Status & { nodeId: string; ageMs: number };
    expect(printed).toMatchObject({ nodeId: primary, role: 'primary', epoch: status(primary)!.epoch, incarnation: firstIncarnation });
    expect(printed.ageMs).toBeLessThan(3_000);
  });

  test('shutdown() of the primary runs its demote hook before it stops; then the other takes over', async () => {
    const epoch = status(primary)!.epoch;
    await agents[primary].shutdown();
    const stops = workloads().filter((e) => e.event === 'stop' && !e.reason?.startsWith('starting'));
    expect(stops).toEqual([expect.objectContaining({ node: primary, epoch, reason: 'the agent is stopping' })]);
    expect(agents[primary].state?.role).toBe('secondary');
    // Its last status says so too, not the role it had a second before.
    const last = JSON.parse(readFileSync(join(dir, `${primary}-state`, 'status.json'), 'utf8')) as Status;
    expect(last).toMatchObject({ role: 'secondary', epoch, stopped: true });
    // Stopped: its peer server is gone, so its peer soon counts it as lost.
    const peerPort = agents[primary].config.peer.listen.split(':')[1]!;
    await expect(fetch(`http://127.0.0.1:${peerPort}/v1/peer/hello`, { method: 'POST' })).rejects.toThrow();

    const takeover = await until('the other node to take over', 12_000, () =>
      workloads().find((e) => e.event === 'start' && e.node === secondary),
    );
    expect(takeover.epoch).toBe(epoch + 1);
    expect(takeover.t).toBeGreaterThan(stops[0]!.t);
    await until('the new primary to run', 3_000, () => (status(secondary)?.role === 'primary' ? true : undefined));
  });
});
