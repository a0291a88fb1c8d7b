import { afterAll, beforeAll, expect, test } from 'vitest';
import { startWitness, type TestWitness } from '../support/witness.ts';

let witness: TestWitness;
beforeAll(async () => {
  witness = await startWitness();
});
afterAll(() => witness.close());

test('a first claim after a fresh heartbeat makes the node primary at epoch 1', async () => {
  const { nodes } = await witness.site();
  const a = nodes['node-a']!;
  const hb = await witness.post('/v1/node/heartbeat', a.token, { incarnation: 1, seq: 1, epoch: 0, role: 'secondary' });
  expect(hb.status).toBe(200);
  const claim = await witness.post('/v1/node/claim', a.token, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' });
  expect(claim.body).toEqual({ granted: true, epoch: 1, leaseMs: 15_000, standalone: null });
});
