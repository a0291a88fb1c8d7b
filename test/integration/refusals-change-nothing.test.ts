import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signNodeToken } from '../../functions/adapters/node-token.ts';
import { maxBodyBytes } from '../../protocol/node.ts';
import { startWitness, type TestWitness } from '../support/witness.ts';
import { claimPath, expectError, heartbeatPath, type Pair, pairWithPrimaryA, type Reply, setTokenVersion } from './scenario.ts';

let witness: TestWitness;
let pair: Pair;
beforeAll(async () => {
  witness = await startWitness();
  pair = await pairWithPrimaryA(witness);
  await pair.b.heartbeat('secondary', 1, { peer: { reachable: false } });
});
afterAll(() => witness.close());

/** The stored item, serialized: equal strings mean not one attribute changed. */
async function snapshot(): Promise<string> {
  const item = await witness.rawItem(pair.key);
  expect(item).toBeDefined();
  return JSON.stringify(item);
}

/** Sends a request that must be refused and checks the stored item is byte-identical after it. */
async function expectUnchanged(send: () => Promise<Reply>): Promise<Reply> {
  const before = await snapshot();
  witness.clock.advance(250);
  const reply = await send();
  expect(await snapshot()).toBe(before);
  return reply;
}

describe('a refused request leaves the stored site byte-identical', () => {
  test('a claim refused because the lease is held', async () => {
    const reply = await expectUnchanged(() => pair.b.claimRaw(1));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ granted: false, primary: 'node-a', reason: 'lease-held' });
  });

  test('a claim refused because the claimant has not reported lately', async () => {
    const { resellerId, siteId, nodes } = await witness.site();
    const key = { resellerId, siteId };
    const token = nodes['node-a']!.token;
    const before = JSON.stringify(await witness.rawItem(key));
    const reply = await witness.post(claimPath, token, { incarnation: 1, seq: 1, epoch: 0, reason: 'startup' });
    expect(reply.body).toMatchObject({ granted: false, reason: 'not-fresh' });
    expect(JSON.stringify(await witness.rawItem(key))).toBe(before);
  });

  test('a stale heartbeat and a stale claim (409)', async () => {
    const nodes = (await witness.rawItem(pair.key))!.nodes as Record<string, { seq: number }>;
    const last = nodes['node-b']!.seq;
    expectError(
      await expectUnchanged(() =>
        witness.post(heartbeatPath, pair.b.node.token, { incarnation: 1, seq: last, epoch: 1, role: 'secondary' }),
      ),
      409,
      'stale-request',
    );
    expectError(
      await expectUnchanged(() =>
        witness.post(claimPath, pair.b.node.token, { incarnation: 1, seq: last - 1, epoch: 1, reason: 'peer-lost' }),
      ),
      409,
      'stale-request',
    );
  });

  test('an invalid body (400) and an oversized body (413)', async () => {
    expectError(await expectUnchanged(() => witness.post(heartbeatPath, pair.a.node.token, '{"incarnation":')), 400, 'invalid-json');
    expectError(
      await expectUnchanged(() => witness.post(heartbeatPath, pair.a.node.token, { incarnation: 1, seq: 'x', epoch: 1, role: 'primary' })),
      400,
      'invalid-body',
    );
    const padded = { incarnation: 1, seq: pair.a.seq + 1, epoch: 1, role: 'primary', pad: 'x'.repeat(maxBodyBytes) };
    expectError(await expectUnchanged(() => witness.post(heartbeatPath, pair.a.node.token, padded)), 413, 'payload-too-large');
  });

  test('a revoked token version (401), for a heartbeat and for a claim, from the primary and from the secondary', async () => {
    for (const agent of [pair.a, pair.b]) {
      await setTokenVersion(witness, pair.key, agent.id, 2);
      // Claims first: this process still remembers the site as it was before the revocation.
      const revoked = [
        () => agent.claimRaw(1, 'operator'),
        () => agent.claimRaw(1),
        () => agent.heartbeatRaw('primary', 1),
        () => agent.heartbeatRaw('secondary', 1),
      ];
      for (const send of revoked) expectError(await expectUnchanged(send), 401, 'token-revoked');

      // The node's new token works.
      const token = signNodeToken(witness.deps.tokenKey, { ...agent.node.caller, tokenVersion: 2 });
      const fresh = await witness.post(heartbeatPath, token, { incarnation: 1, seq: agent.seq + 1, epoch: 1, role: 'secondary' });
      expect(fresh.status).toBe(200);
      agent.seq++;
    }
  });
});
