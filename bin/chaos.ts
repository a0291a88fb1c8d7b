#!/usr/bin/env node
/**
 * `npm run chaos -- --schedules N --seed S [--parallel P] [--in-process]`: N seeded fault
 * schedules, each a site with two real agents against one local witness, with shortened leases;
 * one in four is a survivor scene (a node dead for long, then the survivor's witness link cut for
 * several leases, then the dead node back). Prints `name: value` lines (`split_brain` and
 * `survivor_outage_ms` must be 0), and for each violation the seed that replays it.
 */
import { sweep } from '../harness/chaos.ts';
import { shortWitnessSettings } from '../harness/short-timings.ts';
import { startWitnessStack } from '../harness/witness-stack.ts';
import { parseCommand } from './cli/command.ts';

const usage = `usage: npm run chaos [-- --schedules N] [--seed S] [--parallel P] [--in-process] [--verbose]

N seeded fault schedules, each a site with two real agents against one local witness (leases
shortened); one in four is a survivor scene. Prints name: value lines; exits 1 on a split brain,
a stuck site or a survivor that stopped on a standalone lease, with the seed that replays it.

  --schedules N   how many schedules (default 30)
  --seed S        the first schedule's seed (default: a random one, printed)
  --parallel P    schedules run at once (default 6, or 40 with --in-process)
  --in-process    the agents in this process rather than one process each
  --verbose       a line for every schedule, not only for violations
  -h, --help      this text`;
const { values, refuse } = parseCommand({
  name: 'chaos',
  usage,
  help: 'npm run chaos -- --help',
  options: {
    schedules: { type: 'string', default: '30' },
    seed: { type: 'string' },
    parallel: { type: 'string' },
    'in-process': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const whole = (name: string, text: string, least: number): number =>
  /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) && Number(text) >= least
    ? Number(text)
    : refuse(`--${name} ${text}: a whole number, at least ${String(least)}`);
const count = whole('schedules', values.schedules, 1);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : whole('seed', values.seed, 0);
const mode = values['in-process'] ? 'in-process' : 'process';
// Agents as processes cost a Node start each; in one process, many sites fit on two cores.
const parallel = values.parallel === undefined ? (mode === 'process' ? 6 : 40) : whole('parallel', values.parallel, 1);

console.log(
  `chaos: ${count} schedules from seed ${seed}, ${parallel} at a time, agents ${mode === 'process' ? 'as processes' : 'in one process'}`,
);
const stack = await startWitnessStack(shortWitnessSettings);
let done = 0;
const summary = await sweep(stack, {
  count,
  seed,
  parallel,
  mode,
  onResult: (r) => {
    done++;
    if (values.verbose || r.splitBrain > 0 || r.stuck || (r.survivorOutageMs ?? 0) > 0) {
      const survivor = r.survivorOutageMs === null ? '' : ` survivor_outage_ms=${r.survivorOutageMs}`;
      console.log(
        `  [${done}/${count}] seed ${r.seed}: split_brain=${r.splitBrain} stuck=${r.stuck}${survivor} overloaded=${r.overloaded} ${r.note ?? ''}`,
      );
    } else if (done % 10 === 0 && done < count) {
      // Progress on stderr, so that stdout stays name: value lines.
      console.error(`chaos: ${done}/${count} schedules run`);
    }
  },
});
await stack.close();

const { violations, ...figures } = summary;
for (const [name, value] of Object.entries(figures)) console.log(`${name}: ${value === null ? 'n/a' : String(value)}`);
for (const v of violations) {
  const what =
    v.splitBrain > 0
      ? 'split brain'
      : (v.survivorOutageMs ?? 0) > 0
        ? 'survivor stopped on a standalone lease'
        : v.overloaded
          ? 'stuck, machine overloaded'
          : 'stuck';
  console.log(`violation: seed ${v.seed} (${what}): replay with npm run chaos -- --schedules 1 --seed ${v.seed}`);
}
process.exit(summary.split_brain > 0 || summary.stuck > 0 || summary.survivor_outage_ms > 0 ? 1 : 0);
