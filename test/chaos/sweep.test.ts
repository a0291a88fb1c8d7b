import { afterAll, beforeAll, expect, test } from 'vitest';
import { sweep } from '../../harness/chaos.ts';
import { shortWitnessSettings } from '../../harness/short-timings.ts';
import { startWitnessStack, type WitnessStack } from '../../harness/witness-stack.ts';

let stack: WitnessStack;
beforeAll(async () => {
  stack = await startWitnessStack(shortWitnessSettings);
});
afterAll(() => stack.close());

// Agents as separate processes, faults on every link, clocks drifting within the margin.
test('30 random fault schedules with real agent processes never run two primaries, and always settle on one', async () => {
  const seed = Number(process.env.TIEBREAK_CHAOS_SEED ?? 20261125);
  const summary = await sweep(stack, { count: 30, seed, parallel: 6, mode: 'process' });
  const replay = summary.violations.map((v) => `seed ${v.seed}: ${v.note ?? ''}`).join('\n');
  expect(summary.schedules).toBe(30);
  expect(summary.split_brain, replay).toBe(0);
  // A liveness miss while the machine itself stalled is reported, not failed: it says nothing of the protocol.
  expect(summary.stuck, replay).toBe(0);
}, 600_000);
