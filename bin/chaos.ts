#!/usr/bin/env node
/**
 * `npm run chaos -- --schedules N --seed S [--parallel P] [--in-process]`: N seeded fault
 * schedules, each a site with two real agents against one local witness, with shortened leases.
 * Prints `name: value` lines, and for each violation the seed that replays it.
 */
import { parseArgs } from 'node:util';
import { sweep } from '../harness/chaos.ts';
import { shortWitnessSettings } from '../harness/short-timings.ts';
import { startWitnessStack } from '../harness/witness-stack.ts';

const { values } = parseArgs({
  options: {
    schedules: { type: 'string', default: '30' },
    seed: { type: 'string' },
    parallel: { type: 'string' },
    'in-process': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const count = Number(values.schedules);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const mode = values['in-process'] ? 'in-process' : 'process';
// Agents as processes cost a Node start each; in one process, many sites fit on two cores.
const parallel = Number(values.parallel ?? (mode === 'process' ? 6 : 40));
if (![count, seed, parallel].every((n) => Number.isInteger(n) && n >= 0) || count < 1 || parallel < 1) {
  console.error('usage: npm run chaos -- --schedules N [--seed S] [--parallel P] [--in-process]');
  process.exit(2);
}

console.log(`chaos: ${count} schedules from seed ${seed}, ${parallel} at a time, agents ${mode === 'process' ? 'as processes' : 'in one process'}`);
const stack = await startWitnessStack(shortWitnessSettings);
let done = 0;
const summary = await sweep(stack, {
  count,
  seed,
  parallel,
  mode,
  onResult: (r) => {
    done++;
    if (values.verbose || r.splitBrain > 0 || r.stuck) {
      console.log(`  [${done}/${count}] seed ${r.seed}: split_brain=${r.splitBrain} stuck=${r.stuck} overloaded=${r.overloaded} ${r.note ?? ''}`);
    }
  },
});
await stack.close();

const { violations, ...figures } = summary;
for (const [name, value] of Object.entries(figures)) console.log(`${name}: ${value === null ? 'n/a' : String(value)}`);
for (const v of violations) {
  console.log(`violation: seed ${v.seed} (${v.splitBrain > 0 ? 'split brain' : v.overloaded ? 'stuck, machine overloaded' : 'stuck'}): replay with npm run chaos -- --schedules 1 --seed ${v.seed}`);
}
process.exit(summary.split_brain > 0 || summary.stuck > 0 ? 1 : 0);
