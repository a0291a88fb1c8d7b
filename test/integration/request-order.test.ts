import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClaimResponse, HeartbeatResponse } from '../../protocol/node.ts';
import { startWitness, type TestWitness } from '../support/witness.ts';
import { Agent, claimPath, expectError, heartbeatPath, okBody, pairWithPrimaryA, postOf } from './scenario.ts';

let witness: TestWitness;
beforeAll(async () => {
  witness = await startWitness();
});
afterAll(() => witness.close());

describe('W4: duplicated and reordered requests change nothing', () => {
  test('a duplicated heartbeat is refused as stale and leaves the stored site as it was', async () => {
    const { key, b } = await pairWithPrimaryA(witness);
    const body = { incarnation: 1, seq: 10, epoch: 1, role: 'secondary', health: { score: 90 } };
    expect((await witness.post(heartbeatPath, b.node.token, body)).status).toBe(200);
    const before = await witness.rawItem(key);

    witness.clock.advance(1_000);
    const again = await witness.post(heartbeatPath, b.node.token, body);

    expect(expectError(again, 409, 'stale-request').details).toBeUndefined();
    expect(await witness.rawItem(key)).toEqual(before);
  });

  test('a heartbeat older than the last one applied is refused as stale and changes nothing', async () => {
    const { key, b } = await pairWithPrimaryA(witness);
    const post = (seq: number, score: number) =>
      witness.post(heartbeatPath, b.node.token, { incarnation: 1, seq, epoch: 1, role: 'secondary', health: { score } });
    expect((await post(20, 80)).status).toBe(200);
    const before = await witness.rawItem(key);

    witness.clock.advance(1_000);
    expectError(await post(19, 10), 409, 'stale-request');
    expectError(await post(3, 10), 409, 'stale-request');

    const after = await witness.rawItem(key);
    expect(after).toEqual(before);
    expect(after!.nodes).toMatchObject({ 'node-b': { seq: 20, health: 80 } });
  });

  test('a duplicated primary heartbeat does not extend the lease again', async () => {
    const { key, a } = await pairWithPrimaryA(witness);
    witness.clock.advance(2_000);
    const body = { incarnation: 1, seq: 50, epoch: 1, role: 'primary' };
    okBody(await witness.post(heartbeatPath, a.node.token, body), HeartbeatResponse);
    const before = await witness.rawItem(key);

    witness.clock.advance(5_000);
    expectError(await witness.post(heartbeatPath, a.node.token, body), 409, 'stale-request');

    expect(await witness.rawItem(key)).toEqual(before);
  });

  test('a duplicated claim is refused as stale and does not grant or renew a second time', async () => {
    const { resellerId, siteId, nodes } = await witness.site();
    const key = { resellerId, siteId };
    const a = new Agent(nodes['node-a']!, postOf(witness));
    await a.heartbeat('secondary', 0);
    const claim = { incarnation: 1, seq: 7, epoch: 0, reason: 'startup' };
    expect(okBody(await witness.post(claimPath, a.node.token, claim), ClaimResponse)).toMatchObject({ granted: true, epoch: 1 });
    const before = await witness.rawItem(key);

    witness.clock.advance(3_000);
    expectError(await witness.post(claimPath, a.node.token, claim), 409, 'stale-request');
    expectError(await witness.post(claimPath, a.node.token, { ...claim, seq: 6 }), 409, 'stale-request');

    expect(await witness.rawItem(key)).toEqual(before);
  });

  test('heartbeats and claims share one order: a claim that reuses a heartbeat seq is stale', async () => {
    const { key, b } = await pairWithPrimaryA(witness);
    await b.heartbeat('secondary', 1);
    const before = await witness.rawItem(key);

    const claim = await witness.post(claimPath, b.node.token, { incarnation: 1, seq: b.seq, epoch: 1, reason: 'peer-lost' });

    expectError(claim, 409, 'stale-request');
    expect(await witness.rawItem(key)).toEqual(before);
  });

  test('a restarted node (new incarnation) is accepted with a low seq, and its old incarnation is then stale', async () => {
    const { key, b } = await pairWithPrimaryA(witness);
    b.seq = 500;
    await b.heartbeat('secondary', 1);

    const restarted = await witness.post(heartbeatPath, b.node.token, { incarnation: 2, seq: 1, epoch: 1, role: 'secondary' });
    expect(okBody(restarted, HeartbeatResponse)).toMatchObject({ epoch: 1, primary: 'node-a', role: 'secondary' });
    expect((await witness.rawItem(key))!.nodes).toMatchObject({ 'node-b': { incarnation: 2, seq: 1 } });
    const before = await witness.rawItem(key);

    const late = await witness.post(heartbeatPath, b.node.token, { incarnation: 1, seq: 999, epoch: 1, role: 'secondary' });
    expectError(late, 409, 'stale-request');
    expect(await witness.rawItem(key)).toEqual(before);
  });

  test('a refused claim is not applied, so the node may send the same request again and be answered again', async () => {
    const { key, b } = await pairWithPrimaryA(witness);
    await b.heartbeat('secondary', 1);
    const claim = { incarnation: 1, seq: b.seq + 1, epoch: 1, reason: 'peer-lost' };

    const first = okBody(await witness.post(claimPath, b.node.token, claim), ClaimResponse);
    const before = await witness.rawItem(key);
    const second = okBody(await witness.post(claimPath, b.node.token, claim), ClaimResponse);

    expect(first).toMatchObject({ granted: false, reason: 'lease-held' });
    expect(second).toEqual(first);
    expect(await witness.rawItem(key)).toEqual(before);
  });
});
