/**
 * Runs a session script (script.ts) as one bash process in a process group of its own, reporting
 * each block as it starts and ends, and on failure the block, its document line and its output.
 * Whatever the blocks left running in the background (agents, a receiver) is stopped with the group.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ShellBlock } from './blocks.ts';
import { parseMarker, sessionScript } from './script.ts';
import { stopGroup } from './process-group.ts';

export interface BlockOutcome {
  block: ShellBlock;
  durationMs: number;
}

export interface SessionFailure {
  block: ShellBlock;
  /** The document line that failed, when bash said which. */
  docLine: number | null;
  /** The text of that line. */
  command: string | null;
  status: number | null;
  /** What the block printed, up to the failure. */
  output: string[];
  reason: string;
}

export interface SessionResult {
  passed: BlockOutcome[];
  failure: SessionFailure | null;
}

export interface SessionOptions {
  blocks: readonly ShellBlock[];
  /** Where the script is written and run (the blocks' working directory). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The whole session's limit. */
  timeoutMs: number;
  onBlockStart?: (block: ShellBlock, index: number) => void;
  onBlockEnd?: (outcome: BlockOutcome, index: number) => void;
  /** Each line the blocks print, as it comes. */
  onOutput?: (line: string) => void;
}

/** Runs the blocks in order in one bash session; resolves with what passed and the first failure. */
export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { blocks } = options;
  const script = sessionScript(blocks);
  const scriptPath = join(options.cwd, '.readme-check-session.sh');
  await writeFile(scriptPath, script.text);
  // stderr joins stdout in one stream, so the output keeps the order a terminal would show.
  const child = spawn('bash', ['-c', 'exec 2>&1; exec bash "$1"', 'readme-check', scriptPath], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const passed: BlockOutcome[] = [];
  let current = -1;
  let startedAt = performance.now();
  let output: string[] = [];
  // Written by the line handler: an object, so the code after the exit reads what it wrote.
  const seen: { error: { status: number; line: number } | null; done: boolean } = { error: null, done: false };
  const finishBlock = (): void => {
    const block = blocks[current];
    if (block === undefined) return;
    const outcome = { block, durationMs: performance.now() - startedAt };
    passed.push(outcome);
    options.onBlockEnd?.(outcome, current);
  };
  const lines = createInterface({ input: child.stdout });
  const closed = new Promise<void>((resolve) => lines.once('close', resolve));
  lines.on('line', (line) => {
    const marker = parseMarker(line);
    if (marker === null) {
      output.push(line);
      options.onOutput?.(line);
      return;
    }
    // The empty line each marker starts with ends a line left open; it is not the block's output.
    if (output.at(-1) === '') output.pop();
    if (marker.kind === 'error') {
      seen.error = { status: marker.status, line: marker.line };
      return;
    }
    finishBlock();
    if (marker.kind === 'done') {
      seen.done = true;
      current = -1;
      return;
    }
    current = marker.block;
    seen.error = null;
    output = [];
    startedAt = performance.now();
    const block = blocks[current];
    if (block !== undefined) options.onBlockStart?.(block, current);
  });
  const limit = { hit: false };
  const timer = setTimeout(() => {
    limit.hit = true;
    void stopGroup(child, { graceMs: 5_000 });
  }, options.timeoutMs);
  const status = await new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  clearTimeout(timer);
  // Every line read before judging; a background job still holding the pipe is stopped below, which closes it.
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  // The blocks' background jobs (agents, a receiver) are in the group: they go too.
  await stopGroup(child, { graceMs: 10_000 });

  const failed = blocks[current];
  if (seen.done && status === 0 && !limit.hit) return { passed, failure: null };
  if (failed === undefined) {
    const first = blocks[0];
    if (first === undefined) return { passed, failure: null };
    return { passed, failure: { block: first, docLine: null, command: null, status, output, reason: 'bash ended before the first block' } };
  }
  // Errors bash reports itself (an unset variable under set -u) skip the ERR trap, but name the script's line.
  const line = seen.error?.line ?? bashErrorLine(output, scriptPath);
  const where = line === null ? undefined : script.lineMap.get(line);
  const docLine = where?.block === current ? where.docLine : null;
  const command = docLine === null ? null : (failed.code[docLine - failed.line] ?? null);
  const reason = limit.hit
    ? `the session took longer than ${String(Math.round(options.timeoutMs / 1000))} s`
    : `exit status ${String(status ?? 'none (killed)')}`;
  // bash names the script's lines; the reader wants the document's.
  const shown = output.map((text) =>
    text.replace(new RegExp(`^${escapeRegExp(scriptPath)}: line (\\d+):`), (whole, n: string) => {
      const at = script.lineMap.get(Number(n));
      return at === undefined ? whole : `${blocks[at.block]?.doc ?? ''}:${String(at.docLine)}:`;
    }),
  );
  return { passed, failure: { block: failed, docLine, command, status, output: shown, reason } };
}

/** The script line of the last `<script>: line N:` message bash printed, or null. */
function bashErrorLine(output: readonly string[], scriptPath: string): number | null {
  const prefix = `${scriptPath}: line `;
  for (const text of [...output].reverse()) {
    if (text.startsWith(prefix)) return Number.parseInt(text.slice(prefix.length), 10);
  }
  return null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
