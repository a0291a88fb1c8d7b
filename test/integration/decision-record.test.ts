import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startWitness, type TestWitness } from '../support/witness.ts';
import { Agent, expireLeaseKeepingBothFresh, pairWithPrimaryA, postOf } from './scenario.ts';

let witness: TestWitness;
beforeAll(async () => {
  witness = await startWitness();
});
afterAll(() => witness.close());

const decisionOf = async (key: { resellerId: string; siteId: string }) => (await witness.rawItem(key))!.decision;

describe('the stored item says why the witness decided what it did', () => {
  test('a first grant records the claimant, the epoch, the reason and the inputs it was decided on', async () => {
    const { resellerId, siteId, nodes } = await witness.site();
    const a = new Agent(nodes['node-a']!, postOf(witness));
    await a.heartbeat('secondary', 0, { health: { score: 87 } });
    witness.clock.advance(100);
    await a.claim(0, 'startup');

    expect(await decisionOf({ resellerId, siteId })).toEqual({
      kind: 'grant',
      nodeId: 'node-a',
      at: witness.clock.ms,
      epoch: 1,
      reason: 'no primary yet: node-a is the first eligible claimant',
      inputs: {
        claimReason: 'startup',
        incarnation: 1,
        seq: 2,
        previousPrimary: null,
        previousEpoch: 0,
        previousLeaseExpiresAt: 0,
        health: 87,
      },
    });
  });

  test('a failover grant records the previous primary, its epoch and the lease that expired', async () => {
    const pair = await pairWithPrimaryA(witness);
    const expiredLease = (await witness.rawItem(pair.key))!.leaseExpiresAt as number;
    await expireLeaseKeepingBothFresh(witness, pair);
    await pair.b.claim(1, 'peer-lost');

    expect(await decisionOf(pair.key)).toEqual({
      kind: 'grant',
      nodeId: 'node-b',
      at: witness.clock.ms,
      epoch: 2,
      reason: 'lease of node-a expired: failover to node-b',
      inputs: {
        claimReason: 'peer-lost',
        incarnation: 1,
        seq: pair.b.seq,
        previousPrimary: 'node-a',
        previousEpoch: 1,
        previousLeaseExpiresAt: expiredLease,
        health: 100,
      },
    });
  });

  test('a renewal by heartbeat records the heartbeat it came from', async () => {
    const pair = await pairWithPrimaryA(witness);
    witness.clock.advance(5_000);
    await pair.a.heartbeat('primary', 1, { peer: { reachable: false } });

    expect(await decisionOf(pair.key)).toEqual({
      kind: 'renew',
      nodeId: 'node-a',
      at: witness.clock.ms,
      epoch: 1,
      reason: 'heartbeat from the primary at the current epoch',
      inputs: { incarnation: 1, seq: pair.a.seq, peerReachable: false },
    });
  });

  test('a renewal by claim records the claim it came from', async () => {
    const pair = await pairWithPrimaryA(witness);
    witness.clock.advance(5_000);
    await pair.a.claim(1, 'operator');

    expect(await decisionOf(pair.key)).toEqual({
      kind: 'renew',
      nodeId: 'node-a',
      at: witness.clock.ms,
      epoch: 1,
      reason: 'claim (operator) from the current primary renews its lease',
      inputs: { claimReason: 'operator', incarnation: 1, seq: pair.a.seq },
    });
  });

  test('a demote records the epoch the node reported and who the primary is', async () => {
    const pair = await pairWithPrimaryA(witness);
    await expireLeaseKeepingBothFresh(witness, pair);
    await pair.b.claim(1);
    witness.clock.advance(700);
    await pair.a.heartbeat('primary', 1);

    expect(await decisionOf(pair.key)).toEqual({
      kind: 'demote',
      nodeId: 'node-a',
      at: witness.clock.ms,
      epoch: 2,
      reason: 'node acts as primary at epoch 1, but the primary is node-b at epoch 2',
      inputs: { reportedEpoch: 1, primary: 'node-b' },
    });
  });

  test("a secondary's report and a refused claim leave the last decision as it was", async () => {
    const pair = await pairWithPrimaryA(witness);
    const granted = await decisionOf(pair.key);
    witness.clock.advance(1_000);
    await pair.b.heartbeat('secondary', 1);
    expect(await pair.b.claim(1)).toMatchObject({ granted: false });
    expect(await decisionOf(pair.key)).toEqual(granted);
  });
});
