#!/usr/bin/env node
/**
 * `npm run model-check [-- --keep] [--jobs N]`: checks the Promela model of the protocol
 * (model/witness.pml, see model/README.md) exhaustively with SPIN, then proves each rule
 * load-bearing: every mutant (the model with one rule weakened, `spin -DMUTANT_<NAME>`) must give
 * a counterexample, and every probe (a scenario the model must reach) must be reached. A rule the
 * others imply (A4, see model/README.md) is checked the other way: its mutant must give none.
 * Prints `name: value` lines; exits 0 only if all of that holds.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommand } from './cli/command.ts';

const usage = `usage: npm run model-check [-- --keep] [--jobs N]

Compiles model/witness.pml with SPIN (spin and gcc must be installed: apt-get install spin gcc)
and checks it exhaustively (safety: never two primaries; liveness: exactly one primary B ticks
after the faults stop), then each mutant (must give a counterexample), each implied rule (its
mutant must give none: the other rules imply it) and each probe (must be reached), N searches at
a time (default 2). Works in a temporary directory; takes minutes.

  --keep      keep that directory, and a trail for each mutant and probe; mutants are then
              searched breadth-first, so that each trail is a shortest counterexample
  --jobs N    searches run at once (default 2)
  -h, --help  this text`;

const { values, refuse } = parseCommand({
  name: 'model-check',
  usage,
  help: 'npm run model-check -- --help',
  options: {
    keep: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '2' },
  },
});
const jobs =
  /^\d+$/.test(values.jobs) && Number(values.jobs) >= 1 ? Number(values.jobs) : refuse(`--jobs ${values.jobs}: a whole number, at least 1`);

const modelPath = fileURLToPath(new URL('../model/witness.pml', import.meta.url));
const safety = 'safety_never_two_primaries';
const liveness = 'liveness_one_primary_after_heal';
const probeProperty = 'probe_not_reached';

interface Search {
  name: string;
  kind: 'model' | 'mutant' | 'implied' | 'probe';
  macro?: string;
  what: string;
}

// Longest searches first, so that two workers finish together: the model and the mutants that
// need most of the state space before their counterexample (or all of it, if one survives).
const searches: Search[] = [
  { name: 'model', kind: 'model', what: 'the protocol' },
  {
    name: 'a4_ignored',
    kind: 'implied',
    macro: 'MUTANT_A4_IGNORED',
    what: 'A4: no demotion on a higher epoch, and promotion on a grant older than an epoch seen',
  },
  {
    name: 'reused_command_id',
    kind: 'mutant',
    macro: 'MUTANT_REUSED_COMMAND_ID',
    what: 'W5: end-standalone ids repeat, so an acknowledgement still owed for an earlier command readmits',
  },
  {
    name: 'claim_only_on_peer_loss',
    kind: 'mutant',
    macro: 'MUTANT_CLAIM_ONLY_ON_PEER_LOSS',
    what: 'A3: a secondary does not claim when the witness says it is the primary',
  },
  {
    name: 'grant_while_claiming',
    kind: 'mutant',
    macro: 'MUTANT_GRANT_WHILE_CLAIMING',
    what: 'A3: a claiming secondary still grants peer leases',
  },
  {
    name: 'no_exclusion_check',
    kind: 'mutant',
    macro: 'MUTANT_NO_EXCLUSION_CHECK',
    what: "W5: an excluded node's claim is granted once the survivor's ordinary expiry has passed",
  },
  {
    name: 'readmit_without_ack',
    kind: 'mutant',
    macro: 'MUTANT_READMIT_WITHOUT_ACK',
    what: 'W5: readmission when end-standalone is issued, not when it is acknowledged',
  },
  {
    name: 'no_restart_wait',
    kind: 'mutant',
    macro: 'MUTANT_NO_RESTART_WAIT',
    what: 'A3: a restarted agent counts no peer lease as granted',
  },
  {
    name: 'no_skew_margin',
    kind: 'mutant',
    macro: 'MUTANT_NO_SKEW_MARGIN',
    what: 'W1: the witness counts its lease without the skew margin',
  },
  {
    name: 'no_drift_margin',
    kind: 'mutant',
    macro: 'MUTANT_NO_DRIFT_MARGIN',
    what: 'A2: agents hold leases without taking the drift margin off',
  },
  { name: 'a4_demote', kind: 'probe', macro: 'PROBE_A4_DEMOTE', what: 'a running primary learns of a higher epoch' },
  { name: 'a4_old_grant', kind: 'probe', macro: 'PROBE_A4_OLD_GRANT', what: 'a grant arrives older than an epoch its claimant has seen' },
  {
    name: 'stale_claim_granted',
    kind: 'probe',
    macro: 'PROBE_STALE_CLAIM_GRANTED',
    what: 'a claim given up on is granted while its sender grants peer leases again',
  },
  { name: 'standalone_promotion', kind: 'probe', macro: 'PROBE_STANDALONE_PROMOTION', what: 'a node promotes on a standalone lease' },
  { name: 'readmitted', kind: 'probe', macro: 'PROBE_READMITTED', what: 'a running survivor readmits its live peer' },
  { name: 'override', kind: 'probe', macro: 'PROBE_OVERRIDE', what: 'an operator forces the excluded node back' },
  { name: 'claim_ack', kind: 'probe', macro: 'PROBE_CLAIM_ACK', what: "the survivor's claim acknowledges a pending end-standalone" },
];

interface Outcome {
  search: Search;
  dir: string;
  /** The assertion pan reports violated, or another error it names. */
  violated: string | null;
  errors: number;
  stored: number;
  matched: number;
  transitions: number;
  depth: number;
  vectorBytes: number;
  memoryMb: number;
  truncated: boolean;
  incomplete: string | null;
  unreached: number;
  seconds: number;
  trail: string | null;
  flags: string[];
  failure: string | null;
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const number = (text: string, pattern: RegExp): number => {
  const match = pattern.exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
};

/** Statements pan never reached in the world process (the monitor's own are its violation path). */
function unreachedInWorld(text: string): number {
  const match = /unreached in proctype world\n(?:\t.*\n)*?\t\((\d+) of \d+ states\)/.exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

const timeoutMs = 30 * 60_000;
// Full storage (no -DBITSTATE): every reachable state is stored, -DCOLLAPSE compresses them.
// -DMEMLIM makes pan stop, and say so, rather than swap on a shared machine.
const panCompile = ['-DSAFETY', '-DCOLLAPSE', '-DMEMLIM=8192'];
// gcc -O2 takes three times as long as -O0 on pan.c (about 23 s against 9) and makes the search
// about twice as fast: worth it only for the searches that cover the whole state space.
const optimization = (search: Search): string => (search.kind === 'model' || search.kind === 'implied' ? '-O2' : '-O0');

async function check(search: Search, work: string, breadthFirst: boolean): Promise<Outcome> {
  const started = performance.now();
  const dir = join(work, search.name);
  await mkdir(dir, { recursive: true });
  // SPIN and pan write pan.c, pan and the trail next to the model: a copy keeps them out of the tree.
  await copyFile(modelPath, join(dir, 'witness.pml'));
  // Breadth-first search refuses hidden variables: the model's scratch ones become ordinary.
  const flags = [...(search.macro ? [`-D${search.macro}`] : []), ...(breadthFirst ? ['-DSCRATCH='] : [])];
  const outcome: Outcome = {
    search,
    dir,
    violated: null,
    errors: 0,
    stored: 0,
    matched: 0,
    transitions: 0,
    depth: 0,
    vectorBytes: 0,
    memoryMb: 0,
    truncated: false,
    incomplete: null,
    unreached: 0,
    seconds: 0,
    trail: null,
    flags,
    failure: null,
  };
  const spin = await run('spin', ['-a', ...flags, 'witness.pml'], dir, timeoutMs);
  if (spin.code !== 0) return { ...outcome, failure: `spin -a failed: ${(spin.stdout + spin.stderr).trim().slice(0, 2000)}` };
  const gcc = await run(
    'gcc',
    [optimization(search), ...panCompile, ...(breadthFirst ? ['-DBFS'] : []), '-o', 'pan', 'pan.c'],
    dir,
    timeoutMs,
  );
  if (gcc.code !== 0) return { ...outcome, failure: `gcc failed: ${gcc.stderr.trim().slice(0, 2000)}` };

  // A depth-first search deeper than -m is cut short, which is not exhaustive: go deeper, then give up.
  let text = '';
  for (const depth of [1_000_000, 16_000_000]) {
    const pan = await run('./pan', [`-m${String(depth)}`, '-w25', '-c1'], dir, timeoutMs);
    text = pan.stdout + pan.stderr;
    if (pan.code === null) return { ...outcome, failure: `pan was stopped after ${String(timeoutMs / 60_000)} minutes` };
    outcome.truncated = text.includes('max search depth too small');
    if (!outcome.truncated) break;
  }
  outcome.errors = number(text, /errors: (\d+)/);
  outcome.violated = /pan:\d+: assertion violated (\S+)/.exec(text)?.[1] ?? /pan:\d+: (.+?) \(at depth/.exec(text)?.[1] ?? null;
  outcome.stored = number(text, /(\d+) states, stored/);
  outcome.matched = number(text, /([\d.e+]+) states, matched/);
  outcome.transitions = number(text, /([\d.e+]+) transitions \(/);
  outcome.depth = number(text, /depth reached (\d+)/);
  outcome.vectorBytes = number(text, /State-vector (\d+) byte/);
  outcome.memoryMb = number(text, /([\d.]+)\s+total actual memory usage/);
  outcome.unreached = unreachedInWorld(text);
  if (/reached -DMEMLIM bound|out of memory/.test(text)) outcome.incomplete = 'pan ran out of memory (-DMEMLIM=8192)';
  else if (outcome.errors === 0 && text.includes('Search not completed')) outcome.incomplete = 'pan did not complete the search';
  if (outcome.errors > 0) outcome.trail = join(dir, 'witness.pml.trail');
  outcome.seconds = (performance.now() - started) / 1000;
  if (!/State-vector \d+ byte/.test(text)) outcome.failure = `pan printed no result:\n${text.slice(-2000)}`;
  return outcome;
}

/** Runs `task` over `items`, `width` at a time, in order of start. */
async function pool<T, R>(items: T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item !== undefined) results[index] = await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

function constants(source: string): string {
  const names = ['L', 'PL', 'DM', 'E', 'SK', 'EW', 'B'];
  return names.map((name) => `${name}=${new RegExp(`#define ${name}\\s+(\\d+)`).exec(source)?.[1] ?? '?'}`).join(' ');
}

const started = performance.now();
const source = await readFile(modelPath, 'utf8');
for (const tool of ['spin', 'gcc']) {
  await run(tool, tool === 'spin' ? ['-V'] : ['--version'], process.cwd(), 60_000).catch(() => {
    console.error(`model-check: ${tool} not found: install it (Debian: apt-get install spin gcc)`);
    process.exit(2);
  });
}
const work = await mkdtemp(join(tmpdir(), 'tiebreak-model-'));
const outcomes = await pool(searches, jobs, (search) => check(search, work, values.keep && search.kind === 'mutant'));

const failures: string[] = [];
const lines: [string, string][] = [];
const model = outcomes[0];
if (!model) throw new Error('no model search');
lines.push(['model', 'model/witness.pml']);
lines.push(['constants', `${constants(source)} (ticks)`]);
lines.push(['storage', 'exhaustive (no bitstate), -DCOLLAPSE, the two nodes symmetric']);
lines.push(['states_stored', String(model.stored)]);
lines.push(['states_matched', String(model.matched)]);
lines.push(['transitions', String(model.transitions)]);
lines.push(['depth_reached', String(model.depth)]);
lines.push(['state_vector_bytes', String(model.vectorBytes)]);
lines.push(['memory_mb', model.memoryMb.toFixed(0)]);
lines.push(['errors', String(model.errors)]);
lines.push(['truncated', model.truncated ? 'yes' : 'no']);
lines.push(['unreached_statements', String(model.unreached)]);
lines.push(['model_seconds', model.seconds.toFixed(1)]);
if (model.failure) failures.push(`the model: ${model.failure}`);
if (model.errors > 0) failures.push(`the model has a counterexample (${model.violated ?? 'error'}): trail kept in ${model.dir}`);
if (model.truncated) failures.push('the model search was cut short (max search depth too small): not exhaustive');
if (model.incomplete) failures.push(`the model search is incomplete: ${model.incomplete}`);
if (model.unreached > 0)
  failures.push(`the model has ${String(model.unreached)} unreachable statements (dead code): see pan's report in ${model.dir}`);

const describe = (property: string | null): string =>
  property === safety
    ? 'safety: two primaries'
    : property === liveness
      ? 'liveness: not exactly one primary B ticks after the heal'
      : (property ?? 'no result');
const mutants = outcomes.filter((o) => o.search.kind === 'mutant');
const caught = mutants.filter((o) => o.errors > 0 && (o.violated === safety || o.violated === liveness) && !o.failure);
lines.push(['mutants', String(mutants.length)]);
lines.push(['mutants_caught', String(caught.length)]);
for (const o of mutants) {
  const name = o.search.name;
  if (caught.includes(o)) {
    lines.push([`mutant_${name}`, `caught in ${o.seconds.toFixed(0)} s (${describe(o.violated)}; ${o.search.what})`]);
  } else if (o.failure || o.incomplete || o.truncated || o.errors > 0) {
    const why = o.failure ?? o.incomplete ?? (o.truncated ? 'search cut short' : `unexpected error: ${o.violated ?? '?'}`);
    lines.push([`mutant_${name}`, `broken (${why})`]);
    failures.push(`mutant ${name}: ${why}`);
  } else {
    lines.push([`mutant_${name}`, `survived (no counterexample in ${String(o.stored)} states; ${o.search.what})`]);
    failures.push(
      `mutant ${name} survived: the model without "${o.search.what}" has no counterexample, so that rule is not shown load-bearing`,
    );
  }
}

// A rule the others imply: its mutant must search the whole space and find nothing. If it finds
// a counterexample, the rule has become load-bearing and model/README.md's argument is out of date.
const implied = outcomes.filter((o) => o.search.kind === 'implied');
lines.push(['implied_rules', String(implied.length)]);
for (const o of implied) {
  const name = o.search.name;
  if (o.failure || o.incomplete || o.truncated) {
    const why = o.failure ?? o.incomplete ?? 'search cut short';
    lines.push([`implied_${name}`, `broken (${why})`]);
    failures.push(`implied rule ${name}: ${why}`);
  } else if (o.errors > 0) {
    lines.push([`implied_${name}`, `counterexample (${describe(o.violated)}): now load-bearing`]);
    failures.push(`${name}: the model without "${o.search.what}" now has a counterexample: make it a mutant, and update model/README.md`);
  } else {
    lines.push([`implied_${name}`, `no counterexample in ${String(o.stored)} states, as model/README.md argues (${o.search.what})`]);
  }
}

const probes = outcomes.filter((o) => o.search.kind === 'probe');
const reached = probes.filter((o) => o.violated === probeProperty && !o.failure);
lines.push(['probes', String(probes.length)]);
lines.push(['probes_reached', String(reached.length)]);
for (const o of probes) {
  const ok = reached.includes(o);
  lines.push([`probe_${o.search.name}`, `${ok ? 'reached' : 'NOT reached'} in ${o.seconds.toFixed(0)} s (${o.search.what})`]);
  if (!ok)
    failures.push(`probe ${o.search.name} not reached (${o.failure ?? o.incomplete ?? 'no such state'}): checks that pass may be vacuous`);
}

if (values.keep || model.errors > 0 || model.failure) {
  // A trail replays with the flags its pan was built with; `grep '^@@'` keeps one line per step.
  lines.push(['work_dir', work]);
  for (const o of outcomes) {
    if (o.trail && (values.keep || o === model)) {
      lines.push([`trail_${o.search.name}`, `${o.trail} (replay: cd ${o.dir} && spin -t ${o.flags.join(' ')} witness.pml | grep '^@@')`]);
    }
  }
} else {
  await rm(work, { recursive: true, force: true });
}
lines.push(['seconds', ((performance.now() - started) / 1000).toFixed(1)]);
for (const [name, value] of lines) console.log(`${name}: ${value}`);
if (failures.length > 0) {
  for (const failure of failures) console.error(`model-check: FAILED: ${failure}`);
  process.exit(1);
}
