/**
 * Survivor mode (A5) as a technician sees it: `AgentRuntime.status()`, the status file, the
 * watchdog's verdict on it and `tiebreak-agent status`, for a survivor whose lease is standalone
 * and for a node the witness excludes. A scripted witness answers (the real rules are tested in
 * test/agent and test/unit); the peer is gone, as it is in survivor mode.
 */
import { execFile } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort } from '../../harness/site-rig.ts';
import { sleep, until } from '../support/waiting.ts';
import { AgentConfig } from '../../agent/config.ts';
import { type AgentStatus, AgentRuntime, type LogLine, statusInWords } from '../../agent/io/runtime.ts';
import { statusFile } from '../../agent/io/state-file.ts';
import { watchdogVerdict } from '../../agent/io/watchdog.ts';
import { shortAgentTimings } from '../../harness/short-timings.ts';
import type { ClaimResponse, HeartbeatResponse } from '../../protocol/node.ts';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'tiebreak-survivor-status-'));
const servers: Server[] = [];
const agents: AgentRuntime[] = [];

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  for (const server of servers) await new Promise((done) => server.close(done));
  rmSync(dir, { recursive: true, force: true });
});

/** A witness that answers each heartbeat and claim as the script says, and counts the claims. */
async function scriptedWitness(script: {
  heartbeat: (request: { role: string }) => HeartbeatResponse;
  claim: () => ClaimResponse;
}): Promise<{ url: string; claims: () => number }> {
  let claims = 0;
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = JSON.parse(body) as { role: string };
      if (req.url === '/v1/node/claim') claims++;
      const answer = req.url === '/v1/node/claim' ? script.claim() : script.heartbeat(request);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  servers.push(server);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${String(port)}`, claims: () => claims };
}

/** An agent (node-a) against `witnessUrl`, whose peer is gone. */
async function startAgent(
  name: string,
  witnessUrl: string,
): Promise<{ agent: AgentRuntime; configFile: string; stateDir: string; lines: LogLine[] }> {
  const stateDir = join(dir, `${name}-state`);
  const hook = { command: [process.execPath, '-e', '0'], timeoutMs: 5_000 };
  const raw = {
    nodeId: 'node-a',
    witness: { url: witnessUrl, token: 'tb1.0123456789', requestTimeoutMs: 800 },
    peer: {
      listen: `127.0.0.1:${String(await freePort())}`,
      url: `http://127.0.0.1:${String(await freePort())}`,
      key: Buffer.alloc(32, 9).toString('base64'),
    },
    stateDir,
    hooks: { promote: hook, demote: hook },
    timings: shortAgentTimings,
  };
  const configFile = join(dir, `${name}.json`);
  writeFileSync(configFile, JSON.stringify(raw));
  const lines: LogLine[] = [];
  const agent = new AgentRuntime(AgentConfig.parse(raw), { log: (line) => lines.push(line) });
  agents.push(agent);
  await agent.start();
  return { agent, configFile, stateDir, lines };
}

const answer = (over: Partial<HeartbeatResponse>): HeartbeatResponse => ({
  epoch: 1,
  primary: 'node-a',
  role: 'secondary',
  leaseMs: null,
  standalone: null,
  excluded: false,
  commands: [],
  heartbeatMs: 1_000,
  ...over,
});

describe('survivor mode in the status', () => {
  test('a survivor’s status says its lease is standalone, with no remaining time (null, not Infinity), and stays JSON the watchdog feeds on', async () => {
    const witness = await scriptedWitness({
      heartbeat: (r) =>
        r.role === 'primary' ? answer({ role: 'primary', leaseMs: 3_000, standalone: { leaseMs: null }, heartbeatMs: 5_000 }) : answer({}),
      claim: () => ({ granted: true, epoch: 1, leaseMs: 3_000, standalone: { leaseMs: null } }),
    });
    const { agent, configFile, stateDir, lines } = await startAgent('survivor', witness.url);
    const status = await until('the survivor to run as primary', 10_000, () => {
      const s = agent.status();
      return s?.role === 'primary' ? s : undefined;
    });
    expect(status).toMatchObject({
      role: 'primary',
      excluded: false,
      leases: { standalone: true, witnessRemainingMs: null, heldRemainingMs: null, peerRemainingMs: 0 },
    } satisfies Partial<Record<keyof AgentStatus, unknown>>);
    expect(JSON.parse(JSON.stringify(status))).toEqual(status);
    expect(lines.filter((l) => l.message === 'survivor mode: the lease is standalone')).toHaveLength(1);

    // The status file, as the watchdog reads it: fed, however long the witness stays away.
    const written = await until('the status file to say so', 3_000, () => {
      try {
        const parsed = JSON.parse(readFileSync(statusFile(stateDir), 'utf8')) as AgentStatus;
        return parsed.leases.standalone ? parsed : undefined;
      } catch {
        return undefined;
      }
    });
    expect(watchdogVerdict(written, Date.now(), { timeoutMs: 60_000, maxAgeMs: 5_000 })).toMatchObject({ feed: true });

    // `tiebreak-agent status`: stdout stays the JSON that tools read; the words go to stderr.
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'bin', 'agent.ts'), 'status', '--config', configFile],
      { cwd: root },
    );
    expect(JSON.parse(stdout)).toMatchObject({ role: 'primary', leases: { standalone: true, heldRemainingMs: null } });
    expect(stderr).toContain('Survivor mode: this server runs alone; its peer is excluded.');
  });

  test('an excluded node’s status says so, and it claims nothing though its peer is gone', async () => {
    const witness = await scriptedWitness({
      heartbeat: () => answer({ excluded: true, heartbeatMs: 500 }),
      claim: () => ({ granted: false, epoch: 1, primary: 'node-b', retryAfterMs: 1_000, reason: 'excluded', message: 'excluded' }),
    });
    // node-b is the survivor here: the scripted witness names it.
    const { agent, lines } = await startAgent('excluded', witness.url);
    const status = await until('the exclusion', 5_000, () => {
      const s = agent.status();
      return s?.excluded && s.role === 'secondary' ? s : undefined;
    });
    expect(status).toMatchObject({ role: 'secondary', excluded: true, leases: { standalone: false, heldRemainingMs: 0 } });
    expect(statusInWords(status)).toBe(
      'Excluded: the other server runs alone. This server will rejoin as secondary once the other server hears it on the peer link; it will not take over by itself.',
    );
    // A node whose peer is lost claims a peer lease (2 s) after it starts; an excluded one never does.
    await sleep(shortAgentTimings.peerLeaseMs + 1_000);
    expect(witness.claims()).toBe(0);
    expect(lines.filter((l) => l.message.startsWith('excluded by the witness: '))).toHaveLength(1);
  });
});

describe('statusInWords', () => {
  const base = { role: 'primary', excluded: false, leases: { standalone: true, witnessRemainingMs: null } };

  test.each([
    [
      'a survivor, lease without end',
      base,
      'Survivor mode: this server runs alone; its peer is excluded. It keeps running through internet or cloud outages until the peer is back (it rejoins by itself once this server hears it) or an operator forces a failover.',
    ],
    [
      'a survivor, lease bounded',
      { ...base, leases: { standalone: true, witnessRemainingMs: 3 * 3_600_000 } },
      'Survivor mode: this server runs alone; its peer is excluded. It keeps running for up to 3 hours more without the witness, unless the peer is back first (it rejoins by itself once this server hears it) or an operator forces a failover.',
    ],
    ['an ordinary primary', { ...base, leases: { standalone: false, witnessRemainingMs: 2_000 } }, null],
    ['a secondary', { role: 'secondary', excluded: false, leases: { standalone: false } }, null],
    ['no status', undefined, null],
  ])('%s', (_, status, words) => {
    expect(statusInWords(status)).toBe(words);
  });
});
