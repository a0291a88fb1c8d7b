/**
 * What an agent says about a link it cannot use, in words a technician acts on: the witness's URL
 * and the cause when it cannot be reached; a peer under another `peer.key` named as a key mismatch,
 * a peer whose clock is off named as a clock problem, each logged once (not at every hello) and
 * shown in the status. No witness runs: none is needed to say hello.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { AgentConfig } from '../../agent/config.ts';
import { PeerProblems } from '../../agent/io/peer-problems.ts';
import { AgentRuntime, type LogLine } from '../../agent/io/runtime.ts';
import { freePort } from '../../harness/site-rig.ts';
import { shortAgentTimings } from '../../harness/short-timings.ts';
import { peerPath } from '../../protocol/peer.ts';
import { sleep, until } from '../support/waiting.ts';

const dir = mkdtempSync(join(tmpdir(), 'tiebreak-link-problems-'));
let running: AgentRuntime[] = [];
afterEach(async () => {
  for (const agent of running) await agent.stop();
  running = [];
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const hook = { command: [process.execPath, '-e', '0'], timeoutMs: 5_000 };
const keyOf = (byte: number) => Buffer.alloc(32, byte).toString('base64');
let agentCount = 0;

interface Site {
  agents: [AgentRuntime, AgentRuntime];
  lines: [LogLine[], LogLine[]];
  peerUrls: [string, string];
  witnessPort: number;
}

/** Two agents of one site, each with its own key and wall clock, and a witness URL where nothing listens. */
async function startSite(keys: [string, string], wallClocks: [() => number, () => number] = [Date.now, Date.now]): Promise<Site> {
  const witnessPort = await freePort();
  const ports = [await freePort(), await freePort()] as const;
  const lines: [LogLine[], LogLine[]] = [[], []];
  const agents = ([0, 1] as const).map((i) => {
    const config = AgentConfig.parse({
      nodeId: i === 0 ? 'node-a' : 'node-b',
      witness: { url: `http://127.0.0.1:${String(witnessPort)}`, token: 'tb1.0123456789', requestTimeoutMs: 800 },
      peer: { listen: `127.0.0.1:${String(ports[i])}`, url: `http://127.0.0.1:${String(ports[1 - i]!)}`, key: keys[i] },
      stateDir: join(dir, `agent-${String(++agentCount)}`),
      hooks: { promote: hook, demote: hook },
      timings: shortAgentTimings,
    });
    return new AgentRuntime(config, { log: (line) => lines[i].push(line), wallClock: wallClocks[i] });
  }) as [AgentRuntime, AgentRuntime];
  running.push(...agents);
  await Promise.all(agents.map((a) => a.start()));
  const peerUrls = [1, 0].map((j) => `http://127.0.0.1:${String(ports[j]!)}${peerPath}`) as [string, string];
  return { agents, lines, peerUrls, witnessPort };
}

const named = (lines: LogLine[], message: string) => lines.filter((l) => l.message === message);

describe('an agent names what is wrong with its links', () => {
  test('a witness it cannot reach: the heartbeat failures name its URL and the cause', async () => {
    const { lines, witnessPort } = await startSite([keyOf(1), keyOf(1)]);
    const port = String(witnessPort);
    const unreachable = await until('the witness unreachable line', 10_000, () => named(lines[0], 'witness unreachable')[0]);
    expect(unreachable).toMatchObject({
      level: 'warn',
      url: `http://127.0.0.1:${port}/v1/node/heartbeat`,
      cause: `connect ECONNREFUSED 127.0.0.1:${port}`,
    });
    expect(named(lines[0], 'witness heartbeat failed')[0]).toMatchObject({ url: unreachable.url, cause: unreachable.cause });
  });

  test('a peer under another peer.key: a key mismatch naming its address, logged once, in the status; never heard as a peer', async () => {
    const { agents, lines, peerUrls } = await startSite([keyOf(1), keyOf(2)]);
    for (const i of [0, 1] as const) {
      const line = await until('the key mismatch', 10_000, () => named(lines[i], 'peer key mismatch')[0]);
      expect(line).toMatchObject({
        level: 'error',
        peer: peerUrls[i].replace(peerPath, ''),
        problem: 'key-mismatch',
        detail: `the peer at ${peerUrls[i]} answers, but it refuses this server's signature: peer.key must be the same on both servers`,
      });
    }
    // Hellos go every 250 ms: many more meet the same refusal, and none is logged again.
    await sleep(2_000);
    for (const i of [0, 1] as const) {
      expect(named(lines[i], 'peer key mismatch')).toHaveLength(1);
      expect(agents[i].status()?.peer).toMatchObject({
        reachable: false,
        role: null,
        problem: 'key-mismatch',
        problemDetail: expect.stringContaining('peer.key must be the same on both servers') as unknown,
      });
    }
  });

  test('a peer whose clock is 45 s ahead: a clock problem with the difference and the limit, logged once, in the status', async () => {
    const { agents, lines, peerUrls } = await startSite([keyOf(3), keyOf(3)], [Date.now, () => Date.now() + 45_000]);
    const [a, b] = await Promise.all(
      ([0, 1] as const).map((i) => until('the clock problem', 10_000, () => named(lines[i], 'peer clock differs')[0])),
    );
    expect(a).toMatchObject({ level: 'error', problem: 'clock-skew', allowedMs: 30_000 });
    expect(b).toMatchObject({ level: 'error', problem: 'clock-skew', allowedMs: 30_000 });
    // Each says how far the other's clock is off, give or take the time a hello takes.
    expect(Math.abs(Number(a!.peerAheadMs) - 45_000)).toBeLessThan(1_000);
    expect(Math.abs(Number(b!.peerAheadMs) + 45_000)).toBeLessThan(1_000);
    expect(a!.detail).toMatch(
      new RegExp(
        `^the clock of the peer at ${peerUrls[0]} is 4\\d{4} ms ahead of this server's, more than the 30000 ms allowed: check NTP/chrony on both servers$`,
      ),
    );
    await sleep(2_000);
    for (const i of [0, 1] as const) {
      expect(named(lines[i], 'peer clock differs')).toHaveLength(1);
      expect(named(lines[i], 'peer key mismatch')).toHaveLength(0);
      expect(agents[i].status()?.peer).toMatchObject({ reachable: false, role: null, problem: 'clock-skew' });
    }
  });

  test('two agents with one key and one time hear each other, and report no problem', async () => {
    const { agents, lines } = await startSite([keyOf(4), keyOf(4)]);
    // A hello sent before the other listened met nobody: the next reply clears that.
    await until('each to hear the other', 10_000, () =>
      agents.every((a) => a.status()?.peer.reachable && a.status()?.peer.problem === null) ? true : undefined,
    );
    for (const i of [0, 1] as const) {
      expect(agents[i].status()?.peer).toMatchObject({ reachable: true, problem: null, problemDetail: null });
      expect(lines[i].filter((l) => ['peer key mismatch', 'peer clock differs', 'peer answers wrongly'].includes(l.message))).toEqual([]);
    }
  });
});

describe('PeerProblems: a problem logged once per change, and once a minute while it lasts', () => {
  const unreachable = { kind: 'unreachable', detail: 'cannot reach the peer at http://p/v1/peer/hello: connect ECONNREFUSED' } as const;
  const mismatch = { kind: 'key-mismatch', detail: 'the peer at http://p/v1/peer/hello answers, but …' } as const;

  test('hellos every second for three minutes, the problem changing twice and a reply between', () => {
    const logged: Record<string, unknown>[] = [];
    const problems = new PeerProblems((line) => logged.push(line), 'http://p');
    let t = 0;
    for (; t < 90_000; t += 1_000) problems.saw(mismatch, t);
    expect(logged.map((l) => [l.message, l.hellosSinceLastLine])).toEqual([
      ['peer key mismatch', undefined],
      ['peer key mismatch', 60],
    ]);
    problems.saw(unreachable, (t += 1_000));
    expect(problems.current).toEqual(unreachable);
    problems.saw(undefined, (t += 1_000));
    expect(problems.current).toBeUndefined();
    problems.saw(unreachable, t + 1_000);
    expect(logged.map((l) => l.message)).toEqual(['peer key mismatch', 'peer key mismatch', 'peer unreachable', 'peer unreachable']);
    expect(logged[2]).toEqual({
      level: 'warn',
      message: 'peer unreachable',
      peer: 'http://p',
      problem: 'unreachable',
      detail: unreachable.detail,
    });
  });
});
