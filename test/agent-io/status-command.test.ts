/**
 * `tiebreak-agent status` as a technician and a monitoring tool read it: exit 0 while the agent
 * keeps its status fresh; exit 3 (LSB: not running) when there is no status, or when the status is
 * older than the agent's promise to rewrite it (the file of a killed agent still says `primary`),
 * with a line saying how old and what to look at. The status files are written here, as the agent
 * writes them.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { type AgentStatus, judgeStatus, staleAfterMs, statusEveryMs } from '../../agent/io/runtime.ts';
import { statusFile } from '../../agent/io/state-file.ts';
import { writeIdleAgentConfig } from '../support/agent-config.ts';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'tiebreak-status-command-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let configs = 0;
/** A config whose state folder holds `status` (none: no status file). */
function configWith(status: unknown): string {
  const stateDir = join(dir, `state-${String(++configs)}`);
  mkdirSync(stateDir);
  if (status !== undefined) writeFileSync(statusFile(stateDir), JSON.stringify(status, null, 2));
  return writeIdleAgentConfig(join(dir, `agent-${String(configs)}.json`), { stateDir });
}

function status(ageMs: number, over: Partial<AgentStatus> = {}): AgentStatus {
  return {
    nodeId: 'node-a',
    pid: 4242,
    writtenAt: new Date(Date.now() - ageMs).toISOString(),
    role: 'primary',
    epoch: 3,
    incarnation: 1_800_000_000,
    leases: { standalone: false, witnessRemainingMs: 0, peerRemainingMs: 9_000, heldRemainingMs: 9_000, grantedToPeerRemainingMs: 0 },
    excluded: false,
    peer: { reachable: true, lastHeardMsAgo: 200, role: 'secondary', problem: null, problemDetail: null },
    witness: { reachable: true, lastOkMsAgo: 3_000, primary: 'node-a', heartbeatMs: 60_000 },
    claiming: false,
    statusEveryMs,
    ...over,
  };
}

/** Runs `tiebreak-agent status --config FILE`: its exit code and what it printed. */
function runStatus(configFile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'bin', 'agent.ts'), 'status', '--config', configFile],
      { cwd: root },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

describe('tiebreak-agent status', () => {
  test('a fresh status: printed as JSON with its age, exit 0', async () => {
    const { code, stdout, stderr } = await runStatus(configWith(status(100)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const printed = JSON.parse(stdout) as AgentStatus & { ageMs: number; stale: boolean };
    expect(printed).toMatchObject({ role: 'primary', stale: false });
    expect(printed.ageMs).toBeGreaterThanOrEqual(100);
  });

  test('a status 29 s old (the agent was killed as primary): stale, exit 3, saying how old and what to look at', async () => {
    const { code, stdout, stderr } = await runStatus(configWith(status(29_000)));
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ role: 'primary', stale: true });
    expect(stderr).toMatch(
      /^tiebreak-agent: the agent is not running: the status is (29|30) seconds old, and the agent rewrites it every 1 second; .*\(see systemctl status tiebreak-agent\)\n$/,
    );
  });

  test('no status file: exit 3, saying where it looked', async () => {
    const configFile = configWith(undefined);
    const { code, stdout, stderr } = await runStatus(configFile);
    expect({ code, stdout }).toEqual({ code: 3, stdout: '' });
    expect(stderr).toMatch(
      /^tiebreak-agent: no status at \S+status\.json: the agent is not running here; see systemctl status tiebreak-agent\n$/,
    );
  });

  test('a peer problem in the status is said in words, on stderr', async () => {
    const problemDetail =
      'the peer at http://127.0.0.1:7401/v1/peer/hello answers, but it refuses this server’s signature: peer.key must be the same on both servers';
    const { code, stderr } = await runStatus(
      configWith(status(100, { peer: { reachable: false, lastHeardMsAgo: null, role: null, problem: 'key-mismatch', problemDetail } })),
    );
    expect(code).toBe(0);
    expect(stderr).toBe(`Peer link: ${problemDetail}.\n`);
  });
});

describe('judgeStatus', () => {
  const now = Date.parse('2026-12-07T06:00:00.000Z');
  const at = (ageMs: number, everyMs?: number) => ({
    writtenAt: new Date(now - ageMs).toISOString(),
    ...(everyMs && { statusEveryMs: everyMs }),
  });
  test.each([
    ['written now', at(0), false],
    ['as old as the margin allows', at(staleAfterMs(statusEveryMs)), false],
    ['a moment older', at(staleAfterMs(statusEveryMs) + 1), true],
    ['by an agent that writes every 10 s, 20 s ago', at(20_000, 10_000), false],
    ['by an agent that writes every 10 s, 40 s ago', at(40_000, 10_000), true],
    ['written now by an agent stopping', { ...at(0), stopped: true }, true],
    ['without a time', { role: 'primary' }, true],
    ['not an object', 'primary', true],
  ])('a status %s: stale %s', (_, s, stale) => {
    expect(judgeStatus(s, now).stale).toBe(stale);
  });
});
