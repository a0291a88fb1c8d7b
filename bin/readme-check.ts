#!/usr/bin/env node
/**
 * `npm run readme-check`: the README's shell blocks run as written. Reads the ```sh blocks of
 * README.md and of the docs its "Documentation" section links, in that order, and runs them as one
 * bash session under `set -euo pipefail` against the check's own `npm start` (in a scratch copy of
 * the project, on port 8787 as the blocks say), stopping at the first failure with the document,
 * block and line, and what it printed. A block is skipped only by `<!-- readme-check: skip (why) -->`
 * right before it.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommand } from './cli/command.ts';
import { linkedDocs, type ShellBlock, shellBlocks } from './readme-check/blocks.ts';
import { scratchCopy } from './readme-check/scratch.ts';
import { runSession } from './readme-check/session.ts';
import { portFree, startWitness, type Witness } from './readme-check/witness.ts';

const usage = `usage: npm run readme-check [-- --list] [--verbose] [--keep]

Runs the shell blocks of README.md and of the docs its "Documentation" section links, in that
order, as one bash session (set -euo pipefail: a variable set in one block is used by the next,
as in one terminal), against its own \`npm start\` on http://127.0.0.1:8787, started in a scratch
copy of the project (git's files, node_modules linked) so that .tiebreak/local stays untouched.
Stops at the first failure, naming the document, block and line, with the block's output.
A block is skipped only by a marker on the line before it: <!-- readme-check: skip (why) -->.
Takes a few minutes (the blocks wait out leases and settle times as the product promises).

  --list     list the blocks, run or skipped, and run nothing
  --verbose  print the blocks' output as it comes
  --keep     keep the scratch copy (its path is printed)
  -h, --help this text`;

const port = 8787;
const startTimeoutMs = 300_000;
const sessionTimeoutMs = 20 * 60_000;
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const where = (block: ShellBlock): string => `${block.doc}:${String(block.line)} (${block.heading})`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function allBlocks(): Promise<ShellBlock[]> {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
  const blocks = shellBlocks('README.md', readme);
  for (const doc of linkedDocs('README.md', readme)) {
    blocks.push(...shellBlocks(doc, await readFile(join(projectRoot, doc), 'utf8')));
  }
  return blocks;
}

const { values: options } = parseCommand({
  name: 'readme-check',
  usage,
  help: 'npm run readme-check -- --help',
  options: {
    list: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const blocks = await allBlocks();
const toRun = blocks.filter((block) => block.skip === null);
for (const block of blocks.filter((b) => b.skip !== null)) console.log(`skip  ${where(block)}: ${block.skip ?? ''}`);
if (options.list) {
  for (const block of toRun) console.log(`run   ${where(block)}`);
  process.exit(0);
}

if (!(await portFree(port))) {
  console.error(
    `readme-check: port ${String(port)} is taken (is \`npm start\` running?): the README's blocks use it; stop that and run again`,
  );
  process.exit(1);
}

// The blocks see the environment a new terminal would, less this shell's Tiebreak settings.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TIEBREAK_')));
const began = performance.now();
const scratch = await scratchCopy(projectRoot);
let witness: Witness | undefined;
// Set by a signal handler: an object, so the code below reads what it wrote.
const stopping = { begun: false };
async function cleanUp(): Promise<void> {
  await witness?.stop();
  if (options.keep) console.log(`scratch copy kept: ${scratch.dir}`);
  else await scratch.remove();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping.begun) return;
    stopping.begun = true;
    void cleanUp().finally(() => process.exit(130));
  });
}

let failed = true;
try {
  console.log(`npm start in ${scratch.dir} …`);
  const startedAt = performance.now();
  witness = await startWitness({ cwd: scratch.dir, env, startTimeoutMs });
  console.log(`  up in ${seconds(performance.now() - startedAt)}`);
  // What the blocks printed, kept with the scratch copy (--keep) for a look after a run.
  const transcript = createWriteStream(join(scratch.dir, '.readme-check-session.log'));
  const result = await runSession({
    blocks: toRun,
    cwd: scratch.dir,
    env,
    timeoutMs: sessionTimeoutMs,
    onBlockStart: (block, index) => {
      console.log(`[${String(index + 1)}/${String(toRun.length)}] ${where(block)} …`);
    },
    onBlockEnd: (outcome) => {
      console.log(`  ok in ${seconds(outcome.durationMs)}`);
    },
    onOutput: (line: string) => {
      transcript.write(`${line}\n`);
      if (options.verbose) console.log(`  | ${line}`);
    },
  });
  await new Promise((resolve) => transcript.end(resolve));
  const { failure } = result;
  if (failure === null) {
    failed = false;
    console.log(
      `readme-check: ${String(result.passed.length)} blocks ran, ${String(blocks.length - toRun.length)} skipped, in ${seconds(performance.now() - began)}`,
    );
  } else {
    const line =
      failure.docLine === null
        ? `block at ${where(failure.block)}`
        : `${failure.block.doc}:${String(failure.docLine)} (${failure.block.heading})`;
    console.error(`\nreadme-check: FAILED at ${line}: ${failure.reason}`);
    if (failure.command !== null) console.error(`  the line: ${failure.command.trim()}`);
    console.error(`  the block's output${failure.output.length > 80 ? ' (last 80 lines)' : ''}:`);
    for (const out of failure.output.slice(-80)) console.error(`  | ${out}`);
    console.error(`  npm start's output: ${options.keep ? witness.logPath : '(run with --keep to keep it)'}`);
  }
} catch (error) {
  console.error(`readme-check: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  if (!stopping.begun) {
    stopping.begun = true;
    await cleanUp();
  }
}
process.exit(failed ? 1 : 0);
