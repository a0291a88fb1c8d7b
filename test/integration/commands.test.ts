import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startWitness, type TestWitness } from '../support/witness.ts';
import { expireLeaseKeepingBothFresh, type Pair, pairWithPrimaryA } from './scenario.ts';

let witness: TestWitness;
beforeAll(async () => {
  witness = await startWitness();
});
afterAll(() => witness.close());

/** node-a was primary at epoch 1; its lease ran out and node-b took over at epoch 2. */
async function failedOver(): Promise<{ pair: Pair; takeoverAt: number }> {
  const pair = await pairWithPrimaryA(witness);
  await expireLeaseKeepingBothFresh(witness, pair);
  const takeoverAt = witness.clock.ms;
  expect(await pair.b.claim(1)).toEqual({ granted: true, epoch: 2, leaseMs: witness.deps.settings.leaseMs, standalone: null });
  return { pair, takeoverAt };
}

describe('commands travel through the store until acknowledged', () => {
  test('after a failover, the old primary heartbeating as primary at the old epoch is told to demote, with the new epoch', async () => {
    const { pair, takeoverAt } = await failedOver();
    witness.clock.advance(1_000);

    const answer = await pair.a.heartbeat('primary', 1);

    expect(answer).toMatchObject({ epoch: 2, primary: 'node-b', role: 'secondary', leaseMs: null });
    expect(answer.commands).toEqual([
      { id: '2-demote-node-a', type: 'demote', epoch: 2, issuedAt: takeoverAt, reason: expect.stringContaining('node-b') as unknown },
    ]);
    // The stale heartbeat did not extend anybody's lease.
    expect(await witness.rawItem(pair.key)).toMatchObject({
      primary: 'node-b',
      epoch: 2,
      leaseExpiresAt: takeoverAt + witness.deps.settings.leaseMs,
    });
  });

  test('the demote is repeated while the old primary still acts as primary, even if it acknowledges it, and is gone once it reports as secondary and acknowledges', async () => {
    const { pair } = await failedOver();
    witness.clock.advance(500);
    const first = await pair.a.heartbeat('primary', 1);
    const demote = first.commands[0]!;
    expect(demote).toMatchObject({ type: 'demote', epoch: 2 });

    // Still acting as primary: the witness keeps the command (A4).
    const stillPrimary = await pair.a.heartbeat('primary', 1, { acks: [demote.id] });
    expect(stillPrimary.commands.map((c) => c.id)).toEqual([demote.id]);

    // Demoted and secondary now, but not acknowledged: still delivered.
    expect((await pair.a.heartbeat('secondary', 2)).commands.map((c) => c.id)).toEqual([demote.id]);

    const acked = await pair.a.heartbeat('secondary', 2, { acks: [demote.id] });
    expect(acked.commands).toEqual([]);
    expect((await pair.a.heartbeat('secondary', 2)).commands).toEqual([]);
    expect(await witness.rawItem(pair.key)).toMatchObject({ nodes: { 'node-a': { commands: {} } } });
  });

  test("the new primary's heartbeats carry its promote until it acknowledges it, after which it is gone", async () => {
    const { pair, takeoverAt } = await failedOver();
    const promote = { id: '2-promote-node-b', type: 'promote', epoch: 2, issuedAt: takeoverAt };

    for (let i = 0; i < 3; i++) {
      witness.clock.advance(1_000);
      const answer = await pair.b.heartbeat('primary', 2, { peer: { reachable: false } });
      expect(answer).toMatchObject({ epoch: 2, primary: 'node-b', role: 'primary', leaseMs: witness.deps.settings.leaseMs });
      expect(answer.commands).toEqual([expect.objectContaining(promote)]);
    }

    witness.clock.advance(1_000);
    const acked = await pair.b.heartbeat('primary', 2, { acks: [promote.id] });
    expect(acked).toMatchObject({ role: 'primary', leaseMs: witness.deps.settings.leaseMs, commands: [] });

    witness.clock.advance(1_000);
    expect((await pair.b.heartbeat('primary', 2)).commands).toEqual([]);
    expect(await witness.rawItem(pair.key)).toMatchObject({ nodes: { 'node-b': { commands: {} } } });
  });

  test('acknowledging an unknown command, or the same one twice in one heartbeat, is harmless', async () => {
    const { pair } = await failedOver();
    witness.clock.advance(1_000);
    const answer = await pair.b.heartbeat('primary', 2, { acks: ['2-promote-node-b', '2-promote-node-b', 'no-such-command'] });
    expect(answer).toMatchObject({ role: 'primary', commands: [] });
  });

  test('the first primary of a site receives a promote at epoch 1', async () => {
    const pair = await pairWithPrimaryA(witness);
    const answer = await pair.a.heartbeat('primary', 1);
    expect(answer.commands).toEqual([expect.objectContaining({ id: '1-promote-node-a', type: 'promote', epoch: 1 })]);
    expect((await pair.b.heartbeat('secondary', 1)).commands).toEqual([]);
  });
});
