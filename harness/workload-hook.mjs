#!/usr/bin/env node
// The demo's promote/demote hook: appends one line to the workload log, stamped with the
// machine's monotonic clock (CLOCK_MONOTONIC, shared by every process), which is the ground truth
// the checker reads. Usage: workload-hook.mjs LOG start|stop
import { appendFileSync } from 'node:fs';

const [log, event] = process.argv.slice(2);
if (!log || (event !== 'start' && event !== 'stop')) {
  console.error('usage: workload-hook.mjs LOG start|stop');
  process.exit(2);
}
const line = {
  t: Number(process.hrtime.bigint()) / 1e6,
  node: process.env.TIEBREAK_NODE_ID,
  event,
  epoch: Number(process.env.TIEBREAK_EPOCH),
  reason: process.env.TIEBREAK_REASON,
};
appendFileSync(log, `${JSON.stringify(line)}\n`);
