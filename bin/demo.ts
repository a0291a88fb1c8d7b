#!/usr/bin/env node
/**
 * `npm run demo`: the local witness, two real agents as separate processes on loopback, and five
 * scenes with a timeline each. Leases are shortened so it all takes about two minutes. Exits
 * non-zero if a scene's outcome is wrong.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { standaloneEndedLine, standaloneLine } from '../harness/chaos.ts';
import { shortAgentTimings, shortRequestTimeoutMs, shortWitnessSettings } from '../harness/short-timings.ts';
import { type AgentLine, SiteRig } from '../harness/site-rig.ts';
import { startWitnessStack } from '../harness/witness-stack.ts';
import { monotonicMs, overlaps, primaryIntervals, readWorkloadLog } from '../harness/workload-log.ts';
import { parseCommand } from './cli/command.ts';

parseCommand({
  name: 'demo',
  usage: `usage: npm run demo

The local witness, two real agents as processes on loopback, and five scenes, each with its
timeline and its checks: the primary killed, then back; the link between the agents cut; the
primary cut off from the witness and its peer; survivor mode. Leases are shortened: it takes about
two minutes. Exits 1 if a scene's outcome is wrong.

  -h, --help    this text`,
  help: 'npm run demo -- --help',
  options: {},
});

const witnessSettings = shortWitnessSettings;
/** The failover target: one witness lease (and its skew margin) plus one fast heartbeat. */
const failoverTargetMs = witnessSettings.leaseMs + witnessSettings.skewMarginMs + witnessSettings.fastHeartbeatMs;

const shown = new Set([
  'agent started',
  'peer lost',
  'peer back',
  'claim refused',
  'claim granted',
  'promoting',
  'running as primary',
  'demoting',
  'demote hook exited',
  'witness unreachable',
  'witness back',
  standaloneLine,
  standaloneEndedLine,
]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = mkdtempSync(join(tmpdir(), 'tiebreak-demo-'));
const stack = await startWitnessStack(witnessSettings);
const tokens = await stack.createSite('demo-office', ['node-a', 'node-b']);
const rig = await SiteRig.create({
  dir,
  witnessUrl: stack.url,
  tokens,
  timings: shortAgentTimings,
  requestTimeoutMs: shortRequestTimeoutMs,
});
let sceneStart = monotonicMs();
const stamp = (t: number) => `+${((t - sceneStart) / 1000).toFixed(2).padStart(6)} s`;
rig.onLine = (line: AgentLine) => {
  if (!shown.has(line.message)) return;
  const detail = ['reason', 'epoch', 'retryAfterMs', 'code'].filter((k) => line[k] !== undefined).map((k) => `${k}=${String(line[k])}`);
  console.log(`  ${stamp(line.t)}  ${line.node}  ${line.message}${detail.length ? ` (${detail.join(', ')})` : ''}`);
};

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}
function scene(title: string): void {
  sceneStart = monotonicMs();
  console.log(`\n== ${title}`);
}
const workloads = () => readWorkloadLog(rig.workloadLog);
const startedSince = (t: number, node?: string) => workloads().filter((e) => e.event === 'start' && e.t >= t && (!node || e.node === node));
async function waitForStart(since: number, timeoutMs: number, node?: string) {
  const deadline = monotonicMs() + timeoutMs;
  while (monotonicMs() < deadline) {
    const found = startedSince(since, node)[0];
    if (found) return found;
    await sleep(20);
  }
  return undefined;
}
/** When the witness no longer excludes anyone (the monotonic time), or undefined after the timeout. */
async function waitForReadmission(timeoutMs: number): Promise<number | undefined> {
  const deadline = monotonicMs() + timeoutMs;
  while (monotonicMs() < deadline) {
    const state = await stack.deps.store.load({ resellerId: 'harness', siteId: 'demo-office' });
    if (state && !state.exclusion) return monotonicMs();
    await sleep(100);
  }
  return undefined;
}
const status = (id: string) => JSON.parse(readFileSync(join(dir, `${id}-state`, 'status.json'), 'utf8')) as { role: string; epoch: number };

try {
  scene('start: two agents, one witness');
  rig.start('node-a');
  rig.start('node-b');
  const first = await waitForStart(sceneStart, 15_000);
  check(first !== undefined, `a primary runs (${first?.node ?? 'none'} at epoch ${String(first?.epoch)})`);
  if (!first) throw new Error('no primary');
  const primary = first.node;
  const secondary = primary === 'node-a' ? 'node-b' : 'node-a';
  await sleep(1_500);

  scene(`1. the primary (${primary}) is killed`);
  const killedAt = rig.kill(primary);
  console.log(`  ${stamp(killedAt)}  ${primary}  killed (SIGKILL)`);
  const takeover = await waitForStart(killedAt, 20_000, secondary);
  const failoverMs = takeover ? takeover.t - killedAt : Infinity;
  check(takeover !== undefined, `${secondary} promotes at epoch ${String(takeover?.epoch)}`);
  check(
    failoverMs <= failoverTargetMs,
    `failover in ${failoverMs.toFixed(0)} ms (target: lease + skew + one heartbeat = ${failoverTargetMs} ms)`,
  );

  scene(`2. ${primary} comes back`);
  const backAt = monotonicMs();
  rig.start(primary);
  await sleep(4_000);
  const back = status(primary);
  check(startedSince(backAt, primary).length === 0, `${primary} runs no workloads`);
  check(
    back.role === 'secondary' && back.epoch === takeover?.epoch,
    `${primary} is secondary at epoch ${back.epoch} (the new epoch is ${String(takeover?.epoch)})`,
  );

  scene(`3. the link between the agents is cut; both still reach the witness`);
  const cutAt = monotonicMs();
  rig.cutPeerLink(true);
  await sleep(3 * witnessSettings.leaseMs);
  const during = workloads().filter((e) => e.t >= cutAt);
  check(
    during.length === 0,
    `${secondary} keeps the role (keep-primary) and ${primary} does not promote (${during.length} workload changes)`,
  );
  rig.cutPeerLink(false);
  await sleep(1_500);

  scene(`4. ${secondary}, the primary, loses the witness and its peer`);
  const isolatedAt = monotonicMs();
  rig.cutWitness(secondary, true);
  rig.cutPeerLink(true);
  const promoted = await waitForStart(isolatedAt, 20_000, primary);
  const fenced = workloads().find((e) => e.event === 'stop' && e.node === secondary && e.t >= isolatedAt);
  check(fenced !== undefined, `${secondary} self-fences after ${fenced ? (fenced.t - isolatedAt).toFixed(0) : '?'} ms`);
  check(promoted !== undefined, `${primary} promotes after ${promoted ? (promoted.t - isolatedAt).toFixed(0) : '?'} ms`);
  check(
    fenced !== undefined && promoted !== undefined && fenced.t < promoted.t,
    `the fence comes first, by ${fenced && promoted ? (promoted.t - fenced.t).toFixed(0) : '?'} ms`,
  );
  rig.cutWitness(secondary, false);
  rig.cutPeerLink(false);
  await sleep(1_000);

  // Now `primary` leads again and `secondary` stands by.
  scene(`5. ${secondary} dies for good; ${primary} then loses the internet for three leases`);
  const deadAt = rig.kill(secondary);
  console.log(`  ${stamp(deadAt)}  ${secondary}  killed (SIGKILL)`);
  const standalone = await rig
    .waitFor((l) => l.node === primary && l.message === standaloneLine, 30_000, `${primary}'s standalone lease`, deadAt)
    .catch(() => undefined);
  check(
    standalone !== undefined,
    `the witness excludes ${secondary} and ${primary}'s lease becomes standalone after ${standalone ? (standalone.t - deadAt).toFixed(0) : '?'} ms`,
  );
  const offlineAt = monotonicMs();
  const offlineMs = 3 * witnessSettings.leaseMs;
  rig.cutWitness(primary, true);
  console.log(`  ${stamp(offlineAt)}  ${primary}  internet cut for ${offlineMs} ms`);
  await sleep(offlineMs);
  const stopped = workloads().filter((e) => e.node === primary && e.t >= deadAt && e.event !== 'start');
  check(stopped.length === 0, `${primary} keeps running through the outage (${stopped.length} workload stops)`);
  rig.cutWitness(primary, false);
  const returnAt = monotonicMs();
  rig.start(secondary);
  console.log(`  ${stamp(returnAt)}  ${secondary}  back`);
  const readmitted = await waitForReadmission(20_000);
  check(
    readmitted !== undefined,
    `the witness readmits ${secondary} after ${readmitted ? (readmitted - returnAt).toFixed(0) : '?'} ms, once ${primary} has given its standalone lease back`,
  );
  const rejoined = status(secondary);
  check(
    rejoined.role === 'secondary' && startedSince(returnAt, secondary).length === 0,
    `${secondary} rejoins as secondary at epoch ${rejoined.epoch} and runs no workloads`,
  );

  scene('ground truth');
  const intervals = primaryIntervals(workloads(), monotonicMs());
  for (const i of intervals) console.log(`  ${i.node} primary at epoch ${String(i.epoch)} for ${(i.to - i.from).toFixed(0)} ms`);
  check(overlaps(intervals).length === 0, 'no two primaries ever ran at once');
  console.log(`\nfailover_ms: ${failoverMs.toFixed(0)}`);
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
  console.error(`demo: ${failures.at(-1) ?? ''}`);
} finally {
  await rig.close();
  await stack.close();
}
console.log(failures.length ? `\ndemo: FAILED (${failures.length}): ${failures.join('; ')}` : '\ndemo: every scene passed');
console.log(`logs: ${dir}`);
process.exit(failures.length ? 1 : 0);
