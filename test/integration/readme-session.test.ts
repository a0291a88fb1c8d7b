import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { ShellBlock } from '../../bin/readme-check/blocks.ts';
import { runSession } from '../../bin/readme-check/session.ts';

// The README check's session: real bash, blocks run as one terminal would run them.
const cwd = mkdtempSync(join(tmpdir(), 'tiebreak-readme-session-'));
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
});

const block = (line: number, code: string[]): ShellBlock => ({ doc: 'docs/x.md', heading: 'Step', line, code, skip: null });
const run = (blocks: ShellBlock[]) => runSession({ blocks, cwd, env: process.env, timeoutMs: 60_000 });

test('a variable or function set in one block is there in the next, and a session whose blocks all succeed passes', async () => {
  const result = await run([block(10, ['GREETING=hello', 'say() { echo "$GREETING $1"; }']), block(20, ['say world'])]);
  expect(result.failure).toBeNull();
  expect(result.passed.map((outcome) => outcome.block.line)).toEqual([10, 20]);
});

test('the first failing line stops the session and is named by its document line, with its output, even inside a helper from an earlier block', async () => {
  const result = await run([
    block(10, ['fails() { echo "about to fail"; false; echo "never"; }']),
    block(20, ['echo "first line"', 'fails', 'echo "never either"']),
    block(30, ['echo "never run"']),
  ]);
  expect(result.passed.map((outcome) => outcome.block.line)).toEqual([10]);
  expect(result.failure).toMatchObject({ block: { line: 20 }, docLine: 21, command: 'fails', output: ['first line', 'about to fail'] });
});

test('an unset variable, a failing pipeline and a failing command substitution each fail the session (set -euo pipefail)', async () => {
  for (const [code, line] of [
    [['echo "$NEVER_SET"'], 40],
    [['false | cat'], 40],
    [['echo start', 'X=$(false; echo ignored)'], 41],
  ] as const) {
    const result = await run([block(40, [...code])]);
    expect(result.failure?.docLine, code.join('; ')).toBe(line);
  }
  // bash's own message names the document's line, not the generated script's.
  const unset = await run([block(40, ['echo "$NEVER_SET"'])]);
  expect(unset.failure?.output).toEqual(['docs/x.md:40: NEVER_SET: unbound variable']);
});

test("the blocks' background jobs are stopped with the session", async () => {
  const result = await run([block(10, ['sleep 300 & echo $! > sleeper.pid'])]);
  expect(result.failure).toBeNull();
  const pid = Number(readFileSync(join(cwd, 'sleeper.pid'), 'utf8'));
  expect(() => process.kill(pid, 0)).toThrow();
});
