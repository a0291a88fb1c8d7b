import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RequestCounter } from '../../functions/adapters/request-counter.ts';
import { startWitness, type TestWitness } from '../support/witness.ts';
import {
  Agent,
  expectError,
  expireLeaseKeepingBothFresh,
  type Pair,
  pairWithPrimaryA,
  postOf,
  type Reply,
  secondProcess,
  setTokenVersion,
  type WitnessProcess,
} from './scenario.ts';

const reads = ['GetItemCommand'];
const writes = ['UpdateItemCommand', 'PutItemCommand'];

let witness: TestWitness;
let other: WitnessProcess;
beforeAll(async () => {
  witness = await startWitness();
  other = await secondProcess(witness);
});
afterAll(async () => {
  await other.close();
  await witness.close();
});

interface Cost {
  reads: number;
  writes: number;
  total: number;
  byCommand: Record<string, number>;
}

/** The DynamoDB requests one call makes, counted on the client of the process that serves it. */
async function cost<T>(counter: RequestCounter, call: () => Promise<T>): Promise<{ cost: Cost; result: T }> {
  counter.reset();
  const result = await call();
  const measured = {
    reads: counter.count(...reads),
    writes: counter.count(...writes),
    total: counter.total(),
    byCommand: Object.fromEntries(counter.byCommand),
  };
  return { cost: measured, result };
}

const costOf = (call: () => Promise<unknown>, counter: RequestCounter = witness.requests) => cost(counter, call).then((c) => c.cost);

describe('a heartbeat costs one write and no read', () => {
  test('the primary renewing at the current epoch: 1 UpdateItem, 0 GetItem', async () => {
    const { a } = await pairWithPrimaryA(witness);
    witness.clock.advance(5_000);
    const { cost: c, result } = await cost(witness.requests, () => a.heartbeat('primary', 1, { peer: { reachable: false } }));
    expect(result).toMatchObject({ role: 'primary', leaseMs: 15_000 });
    expect(c).toEqual({ reads: 0, writes: 1, total: 1, byCommand: { UpdateItemCommand: 1 } });
  });

  test('a secondary reporting: 1 UpdateItem, 0 GetItem, with or without a primary on the site', async () => {
    const { b } = await pairWithPrimaryA(witness);
    expect(await costOf(() => b.heartbeat('secondary', 1))).toMatchObject({ reads: 0, writes: 1, total: 1 });

    const { nodes } = await witness.site();
    const lone = new Agent(nodes['node-b']!, postOf(witness));
    expect(await costOf(() => lone.heartbeat('secondary', 0))).toMatchObject({ reads: 0, writes: 1, total: 1 });
  });

  test('a heartbeat from a node acting as primary when the other is primary: 2 writes (the failed fast one, the guarded one), 0 reads', async () => {
    const pair = await failedOver();
    const { cost: c, result } = await cost(witness.requests, () => pair.a.heartbeat('primary', 1));
    expect(result.commands.map((command) => command.type)).toEqual(['demote']);
    expect(c).toEqual({ reads: 0, writes: 2, total: 2, byCommand: { UpdateItemCommand: 2 } });
  });

  test('a stale or revoked heartbeat costs its one failed write and no read', async () => {
    const pair = await pairWithPrimaryA(witness);
    const { b } = pair;
    await b.heartbeat('secondary', 1);
    const stale = await cost(witness.requests, () =>
      witness.post('/v1/node/heartbeat', b.node.token, { incarnation: 1, seq: b.seq, epoch: 1, role: 'secondary' }),
    );
    expectError(stale.result, 409, 'stale-request');
    expect(stale.cost).toMatchObject({ reads: 0, writes: 1, total: 1 });

    await setTokenVersion(witness, pair.key, 'node-b', 2);
    const revoked = await cost(witness.requests, () => b.heartbeatRaw('secondary', 1));
    expectError(revoked.result, 401, 'token-revoked');
    expect(revoked.cost).toMatchObject({ reads: 0, writes: 1, total: 1 });
  });
});

describe('a claim costs at most one read and one write', () => {
  test('the first claim, in a process that has not seen the site: 1 GetItem + 1 UpdateItem', async () => {
    const { nodes } = await witness.site();
    const a = new Agent(nodes['node-a']!, postOf(witness));
    await a.heartbeat('secondary', 0);
    const viaOther = new Agent(a.node, other.post);
    viaOther.seq = a.seq;

    const { cost: c, result } = await cost(other.requests, () => viaOther.claim(0, 'startup'));

    expect(result).toEqual({ granted: true, epoch: 1, leaseMs: 15_000, standalone: null });
    expect(c).toEqual({ reads: 1, writes: 1, total: 2, byCommand: { GetItemCommand: 1, UpdateItemCommand: 1 } });
  });

  test('a claim by the current primary, in a process that saw the site lately: 1 UpdateItem, 0 GetItem', async () => {
    const { a } = await pairWithPrimaryA(witness);
    witness.clock.advance(4_000);
    const { cost: c, result } = await cost(witness.requests, () => a.claim(1, 'operator'));
    expect(result).toEqual({ granted: true, epoch: 1, leaseMs: 15_000, standalone: null });
    expect(c).toEqual({ reads: 0, writes: 1, total: 1, byCommand: { UpdateItemCommand: 1 } });
  });

  test('a takeover after the lease expired, in a process that saw the site lately: 1 UpdateItem, 0 GetItem', async () => {
    const pair = await pairWithPrimaryA(witness);
    await expireLeaseKeepingBothFresh(witness, pair);
    const { cost: c, result } = await cost(witness.requests, () => pair.b.claim(1));
    expect(result).toEqual({ granted: true, epoch: 2, leaseMs: 15_000, standalone: null });
    expect(c).toEqual({ reads: 0, writes: 1, total: 1, byCommand: { UpdateItemCommand: 1 } });
  });

  test('a refused claim is answered from one fresh read and writes nothing: 1 GetItem, 0 writes', async () => {
    const { b } = await pairWithPrimaryA(witness);
    await b.heartbeat('secondary', 1);
    const { cost: c, result } = await cost(witness.requests, () => b.claim(1));
    expect(result).toMatchObject({ granted: false, reason: 'lease-held' });
    expect(c).toEqual({ reads: 1, writes: 0, total: 1, byCommand: { GetItemCommand: 1 } });

    // Also in a process that never saw the site.
    const viaOther = new Agent(b.node, other.post);
    viaOther.seq = b.seq;
    expect(await costOf(() => viaOther.claim(1), other.requests)).toMatchObject({ reads: 1, writes: 0, total: 1 });
  });

  test("a primary's claim on this process's outdated memory of the site still costs one write and no read", async () => {
    const pair = await pairWithPrimaryA(witness);
    // Another process records node-b's report: this process's memory of the site is now behind.
    const bViaOther = new Agent(pair.b.node, other.post);
    bViaOther.seq = pair.b.seq;
    await bViaOther.heartbeat('secondary', 1);

    // A renewal's write needs only that node-a still leads at epoch 1, which the outdated memory gets right.
    const { cost: c, result } = await cost(witness.requests, () => pair.a.claim(1, 'operator'));
    expect(result).toEqual({ granted: true, epoch: 1, leaseMs: 15_000, standalone: null });
    expect(c).toEqual({ reads: 0, writes: 1, total: 1, byCommand: { UpdateItemCommand: 1 } });
  });

  test("a takeover decided on this process's outdated memory of the site costs one failed write more, and no read", async () => {
    const pair = await pairWithPrimaryA(witness);
    witness.clock.advance(15_000 + 501);
    await pair.b.heartbeat('secondary', 1);
    // Another process records node-b's next report: this process's memory is behind by one write.
    const bViaOther = new Agent(pair.b.node, other.post);
    bViaOther.seq = pair.b.seq;
    await bViaOther.heartbeat('secondary', 1);
    pair.b.seq = bViaOther.seq;

    const { cost: c, result } = await cost(witness.requests, () => pair.b.claim(1));
    expect(result).toEqual({ granted: true, epoch: 2, leaseMs: 15_000, standalone: null });
    expect(c).toEqual({ reads: 0, writes: 2, total: 2, byCommand: { UpdateItemCommand: 2 } });
  });
});

describe('requests refused at the edge cost nothing', () => {
  test('a bad token, a bad body and an oversized body send no request to DynamoDB', async () => {
    const { a } = await pairWithPrimaryA(witness);
    const attempts: [() => Promise<Reply>, number, string][] = [
      [() => witness.post('/v1/node/heartbeat', 'not-a-token', {}), 401, 'unauthorized'],
      [() => witness.post('/v1/node/claim', undefined, {}), 401, 'unauthorized'],
      [() => witness.post('/v1/node/heartbeat', a.node.token, '{'), 400, 'invalid-json'],
      [() => witness.post('/v1/node/claim', a.node.token, { seq: 1 }), 400, 'invalid-body'],
      [() => witness.post('/v1/node/heartbeat', a.node.token, 'x'.repeat(20_000)), 413, 'payload-too-large'],
    ];
    for (const [send, status, code] of attempts) {
      const { cost: c, result } = await cost(witness.requests, send);
      expectError(result, status, code as Parameters<typeof expectError>[2]);
      expect(c.total).toBe(0);
    }
  });
});

/** A pair where node-b took over at epoch 2 after node-a's lease expired. */
async function failedOver(): Promise<Pair> {
  const pair = await pairWithPrimaryA(witness);
  await expireLeaseKeepingBothFresh(witness, pair);
  expect(await pair.b.claim(1)).toMatchObject({ granted: true, epoch: 2 });
  return pair;
}
