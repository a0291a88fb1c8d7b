import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, test } from 'vitest';
import { statusFile } from '../../agent/io/state-file.ts';
import { runWatchdog, watchdogVerdict } from '../../agent/io/watchdog.ts';
import { writeIdleAgentConfig } from '../support/agent-config.ts';

/**
 * The status file replaced whole, as the agent writes it (state-file.ts): a file rewritten in place
 * can be read half written, and the watchdog rightly starves on that (seen once in CI at load 4).
 */
function writeStatus(stateDir: string, value: unknown): void {
  const file = statusFile(stateDir);
  writeFileSync(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file);
}

const root = mkdtempSync(join(tmpdir(), 'tiebreak-watchdog-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const options = { timeoutMs: 1_000, maxAgeMs: 3_000 };
const now = Date.parse('2026-01-01T12:00:00.000Z');
const status = (role: string, heldRemainingMs: number, ageMs = 0) => ({
  role,
  epoch: 3,
  writtenAt: new Date(now - ageMs).toISOString(),
  leases: { witnessRemainingMs: 0, peerRemainingMs: heldRemainingMs, heldRemainingMs, grantedToPeerRemainingMs: 0 },
});

const standalone = (role: string, ageMs = 0) => ({
  ...status(role, 0, ageMs),
  leases: { standalone: true, witnessRemainingMs: null, peerRemainingMs: 0, heldRemainingMs: null, grantedToPeerRemainingMs: 0 },
});

describe('watchdogVerdict', () => {
  test.each([
    ['a fresh secondary', status('secondary', 0), true],
    ['a secondary 2.9 s ago', status('secondary', 0, 2_900), true],
    ['a primary with its lease for 5 s more', status('primary', 5_000), true],
    ['a primary whose lease, 1 s ago, had 2.1 s left', status('primary', 2_100, 1_000), true],
    ['a primary whose lease, 1 s ago, had 1.9 s left', status('primary', 1_900, 1_000), false],
    ['a primary with less lease than the timeout', status('primary', 999), false],
    ['a primary with no lease', status('primary', 0), false],
    ['a node demoting, lease left', status('demoting', 4_000), true],
    ['a fenced node (demote hook failing) whose lease runs out', status('fenced', 800), false],
    ['a secondary, 3.1 s old (the agent is not running)', status('secondary', 0, 3_100), false],
    ['a primary, 3.1 s old', status('primary', 60_000, 3_100), false],
    ['a status from 3.1 s in the future (the clock was stepped)', status('secondary', 0, -3_100), false],
    // Survivor mode (A5): a standalone lease has no end, and the status says so with null and `standalone`.
    ['a standalone primary (survivor mode): no end to its lease', standalone('primary'), true],
    ['a standalone primary whose status is 3.1 s old (the agent hangs)', standalone('primary', 3_100), false],
    ['a standalone node demoting (its demote hook fails: the witness keeps the lease until it stops)', standalone('fenced'), true],
    [
      'no remaining time, yet no standalone lease: unreadable',
      { ...status('primary', 0), leases: { heldRemainingMs: null, standalone: false } },
      false,
    ],
    ['no status', undefined, false],
    ['a status without leases', { role: 'secondary', writtenAt: new Date(now).toISOString() }, false],
  ])('%s: feed %s', (_, given, feed) => {
    const verdict = watchdogVerdict(given, now, options);
    expect(verdict.feed).toBe(feed);
    expect(verdict.why).not.toBe('');
  });
});

describe('runWatchdog, against a regular file standing in for /dev/watchdog', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function scenario(name: string, write: (stateDir: string) => void, stopWhile: () => unknown = () => undefined) {
    const stateDir = join(root, name);
    mkdirSync(stateDir, { recursive: true });
    const device = join(root, `${name}.watchdog`);
    const lines: { level: string; message: string }[] = [];
    const controller = new AbortController();
    write(stateDir);
    const running = runWatchdog({
      stateDir,
      device,
      timeoutMs: 1_000,
      maxAgeMs: 3_000,
      intervalMs: 50,
      signal: controller.signal,
      log: (l) => lines.push(l),
    });
    await sleep(300);
    const read = () => (existsSync(device) ? readFileSync(device, 'utf8') : undefined);
    const fedFirst = read();
    stopWhile();
    await sleep(300);
    const fedThen = read();
    controller.abort();
    await running;
    return { fedFirst, fedThen, closed: read(), lines, stateDir };
  }

  test('feeds while the node is secondary, and disarms with a magic close on stop', async () => {
    const fresh = () => ({ ...status('secondary', 0), writtenAt: new Date().toISOString() });
    let dir = '';
    const run = await scenario(
      'secondary',
      (d) => {
        dir = d;
        writeStatus(d, fresh());
      },
      () => {
        writeStatus(dir, fresh());
      },
    );
    expect(run.fedFirst).toMatch(/^\.{4,}$/);
    expect(run.fedThen!.length).toBeGreaterThan(run.fedFirst!.length);
    expect(run.closed).toMatch(/^\.+V$/);
    expect(run.lines.map((l) => l.message)).toEqual([
      'watchdog waiting for the agent before arming',
      'watchdog armed',
      'feeding the watchdog',
      'watchdog disarmed (magic close)',
    ]);
  });

  test('stops feeding when the primary’s lease runs low, and closes armed', async () => {
    let dir = '';
    const run = await scenario(
      'primary',
      (d) => {
        dir = d;
        writeStatus(d, { ...status('primary', 10_000), writtenAt: new Date().toISOString() });
      },
      () => {
        writeStatus(dir, { ...status('fenced', 900), writtenAt: new Date().toISOString() });
      },
    );
    expect(run.fedFirst).toMatch(/^\.+$/);
    // At most one more feed, from a decision taken before the status changed.
    expect(run.fedThen!.length - run.fedFirst!.length).toBeLessThanOrEqual(1);
    expect(run.closed).toBe(run.fedThen);
    expect(run.lines.map((l) => l.message)).toEqual([
      'watchdog waiting for the agent before arming',
      'watchdog armed',
      'feeding the watchdog',
      'starving the watchdog: the machine resets unless this changes',
      'watchdog closed armed: the machine resets when its timer runs out',
    ]);
  });

  test('never arms without a status, or with a stale one (an agent that never started cannot cause a reset loop)', async () => {
    const none = await scenario('none', () => undefined);
    expect(none.closed).toBeUndefined();
    const stale = await scenario('stale', (d) => {
      writeStatus(d, { ...status('secondary', 0), writtenAt: new Date(Date.now() - 10_000).toISOString() });
    });
    expect(stale.closed).toBeUndefined();
    expect(stale.lines.map((l) => l.message)).toEqual(['watchdog waiting for the agent before arming', 'watchdog stopped, never armed']);
  });

  test('once armed, starves when the status goes stale (the agent died or hangs)', async () => {
    let dir = '';
    const run = await scenario(
      'died',
      (d) => {
        dir = d;
        writeStatus(d, { ...status('secondary', 0), writtenAt: new Date().toISOString() });
      },
      () => {
        writeStatus(dir, { ...status('secondary', 0), writtenAt: new Date(Date.now() - 10_000).toISOString() });
      },
    );
    expect(run.fedFirst).toMatch(/^\.+$/);
    expect(run.fedThen!.length - run.fedFirst!.length).toBeLessThanOrEqual(1);
    expect(run.closed).toBe(run.fedThen);
    expect(run.lines.at(-1)?.message).toMatch(/closed armed/);
  });
});

test('`tiebreak-agent watchdog` feeds, and disarms on SIGTERM', async () => {
  const stateDir = join(root, 'cli-state');
  mkdirSync(stateDir, { recursive: true });
  const device = join(root, 'cli.watchdog');
  const config = writeIdleAgentConfig(join(root, 'cli.json'), { stateDir, witnessUrl: 'http://127.0.0.1:9' });
  const fresh = () => {
    writeStatus(stateDir, { ...status('secondary', 0), writtenAt: new Date().toISOString() });
  };
  fresh();
  const keepFresh = setInterval(fresh, 200);
  const projectRoot = resolve(import.meta.dirname, '..', '..');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(projectRoot, 'bin', 'agent.ts'), 'watchdog', '--config', config, '--device', device, '--timeout-ms', '1000'],
    {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  try {
    for (let i = 0; i < 300 && !(existsSync(device) && readFileSync(device, 'utf8').length >= 2); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(device, 'utf8')).toMatch(/^\.{2,}$/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    clearInterval(keepFresh);
    child.kill('SIGKILL');
  }
  expect(readFileSync(device, 'utf8')).toMatch(/^\.+V$/);
  expect(
    output
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { message: string }).message),
  ).toEqual(['watchdog waiting for the agent before arming', 'watchdog armed', 'feeding the watchdog', 'watchdog disarmed (magic close)']);
});
