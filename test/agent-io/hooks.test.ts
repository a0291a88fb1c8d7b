import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runHook } from '../../agent/io/hooks.ts';

const dir = mkdtempSync(join(tmpdir(), 'tiebreak-hooks-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A hook that is a small node script. */
const node = (script: string, timeoutMs = 5_000) => ({ command: [process.execPath, '-e', script], timeoutMs });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True while `pid` is a live process (a zombie nobody reaped yet counts as dead). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${String(pid)}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
async function pidIn(file: string): Promise<number> {
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(20);
  return Number(readFileSync(file, 'utf8').trim());
}

describe('runHook', () => {
  test.each([0, 1, 3, 255])('reports exit code %i', async (code) => {
    const result = await runHook(node(`process.exit(${String(code)})`), {});
    expect(result.code).toBe(code);
  });

  test('keeps the end of what the hook wrote to stdout and stderr', async () => {
    const result = await runHook(
      node("console.log('stopping erp'); console.error('erp stopped'); process.stdout.write('x'.repeat(5000) + 'END')"),
      {},
    );
    expect(result.code).toBe(0);
    expect(result.output.length).toBeLessThanOrEqual(2_000);
    expect(result.output.endsWith('xEND') || result.output.includes('erp stopped')).toBe(true);
    const small = await runHook(node("console.log('stopping erp'); console.error('erp stopped')"), {});
    expect(small.output).toContain('stopping erp');
    expect(small.output).toContain('erp stopped');
  });

  test('a hook that outlives its timeout is killed and reported as null', async () => {
    const started = performance.now();
    const result = await runHook(node('setTimeout(() => process.exit(0), 30_000)', 300), {});
    expect(result.code).toBeNull();
    expect(result.ms).toBeGreaterThanOrEqual(290);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  test('on timeout the processes the hook started are killed with it (a shell script waiting on a child)', async () => {
    const pidFile = join(dir, 'child.pid');
    const started = performance.now();
    const result = await runHook({ command: ['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], timeoutMs: 400 }, {});
    expect(result.code).toBeNull();
    expect(performance.now() - started).toBeLessThan(2_000);
    const child = await pidIn(pidFile);
    for (let i = 0; i < 50 && alive(child); i++) await sleep(20);
    expect(alive(child)).toBe(false);
  });

  test('a hook that exits leaving a background process is reported when it exits, and the process is left alone', async () => {
    const pidFile = join(dir, 'daemon.pid');
    const started = performance.now();
    const result = await runHook(
      { command: ['/bin/sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo started; exit 0`], timeoutMs: 5_000 },
      {},
    );
    expect(result.code).toBe(0);
    expect(result.output).toContain('started');
    expect(performance.now() - started).toBeLessThan(2_000);
    const daemon = await pidIn(pidFile);
    expect(alive(daemon)).toBe(true);
    process.kill(daemon, 'SIGKILL');
  });

  test('a hook that cannot start is reported as null with the reason', async () => {
    const result = await runHook({ command: [join(dir, 'no-such-hook')], timeoutMs: 1_000 }, {});
    expect(result.code).toBeNull();
    expect(result.output).toMatch(/ENOENT/);
    const empty = await runHook({ command: [], timeoutMs: 1_000 }, {});
    expect(empty.code).toBeNull();
  });

  test('the hook gets the TIEBREAK_* environment on top of the agent’s own, and no shell', async () => {
    const env = { TIEBREAK_HOOK: 'demote', TIEBREAK_NODE_ID: 'node-a', TIEBREAK_EPOCH: '7', TIEBREAK_REASON: 'the agent is stopping' };
    const script =
      'const e = process.env; console.log(JSON.stringify({ hook: e.TIEBREAK_HOOK, node: e.TIEBREAK_NODE_ID, epoch: e.TIEBREAK_EPOCH, reason: e.TIEBREAK_REASON, path: e.PATH !== undefined, arg: process.argv[1] }))';
    const result = await runHook({ command: [process.execPath, '-e', script, '$TIEBREAK_EPOCH; echo'], timeoutMs: 5_000 }, env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.output)).toEqual({
      hook: 'demote',
      node: 'node-a',
      epoch: '7',
      reason: 'the agent is stopping',
      path: true,
      arg: '$TIEBREAK_EPOCH; echo',
    });
  });
});
