import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startWitness, type TestWitness } from '../support/witness.ts';
import { type Pair, pairWithPrimaryA } from './scenario.ts';

let witness: TestWitness;
let leaseMs: number;
let skewMarginMs: number;
beforeAll(async () => {
  witness = await startWitness();
  ({ leaseMs, skewMarginMs } = witness.deps.settings);
});
afterAll(() => witness.close());

async function storedLease(pair: Pair): Promise<number> {
  return (await witness.rawItem(pair.key))!.leaseExpiresAt as number;
}

describe('a lease lasts exactly what the latest renewal earned', () => {
  test('the grant and every primary heartbeat set the expiry to their own time plus the lease length', async () => {
    const grantedAt = witness.clock.ms;
    const pair = await pairWithPrimaryA(witness);
    expect(await storedLease(pair)).toBe(grantedAt + leaseMs);

    for (const step of [4_000, 5_000, 1, 14_999]) {
      witness.clock.advance(step);
      const answer = await pair.a.heartbeat('primary', 1);
      expect(answer).toMatchObject({ role: 'primary', leaseMs });
      expect(await storedLease(pair)).toBe(witness.clock.ms + leaseMs);
    }
  });

  test('a renewal on a witness host whose clock is behind shortens the lease, never keeps the longer one', async () => {
    const pair = await pairWithPrimaryA(witness);
    witness.clock.advance(3_000);
    await pair.a.heartbeat('primary', 1);
    const renewedAt = witness.clock.ms;

    witness.clock.advance(-200);
    await pair.a.heartbeat('primary', 1);

    expect(await storedLease(pair)).toBe(renewedAt - 200 + leaseMs);
    witness.clock.advance(200);
  });

  test("a secondary's heartbeats never move the primary's lease", async () => {
    const pair = await pairWithPrimaryA(witness);
    const expiry = await storedLease(pair);
    for (let i = 0; i < 4; i++) {
      witness.clock.advance(3_000);
      const answer = await pair.b.heartbeat('secondary', 1, { peer: { reachable: false } });
      expect(answer).toMatchObject({ role: 'secondary', primary: 'node-a', leaseMs: null });
      expect(await storedLease(pair)).toBe(expiry);
    }
  });

  test('the primary reporting another role, or a wrong epoch, earns no lease', async () => {
    const pair = await pairWithPrimaryA(witness);
    const expiry = await storedLease(pair);
    witness.clock.advance(2_000);

    expect(await pair.a.heartbeat('secondary', 1)).toMatchObject({ role: 'primary', leaseMs: null });
    expect(await pair.a.heartbeat('fenced', 1)).toMatchObject({ role: 'primary', leaseMs: null });
    expect(await pair.a.heartbeat('primary', 0)).toMatchObject({ role: 'primary', leaseMs: null });
    expect(await pair.a.heartbeat('primary', 5)).toMatchObject({ role: 'primary', leaseMs: null });

    expect(await storedLease(pair)).toBe(expiry);
  });

  test('a claim by the primary renews from its own time, like a heartbeat', async () => {
    const pair = await pairWithPrimaryA(witness);
    witness.clock.advance(7_000);
    expect(await pair.a.claim(1, 'operator')).toEqual({ granted: true, epoch: 1, leaseMs, standalone: null });
    expect(await storedLease(pair)).toBe(witness.clock.ms + leaseMs);
  });
});

describe('W1: another node is granted only once the lease and the skew margin are over', () => {
  test('a claim is refused up to and including expiry + skew margin, with the wait to retry, and granted 1 ms later', async () => {
    const pair = await pairWithPrimaryA(witness);
    const expiry = await storedLease(pair);

    for (const at of [
      expiry - leaseMs + 1,
      expiry - 5_000,
      expiry - 1,
      expiry,
      expiry + 1,
      expiry + skewMarginMs - 1,
      expiry + skewMarginMs,
    ]) {
      witness.clock.ms = at;
      await pair.b.heartbeat('secondary', 1, { peer: { reachable: false } });
      const refused = await pair.b.claim(1);
      expect(refused, `claim at expiry ${at - expiry >= 0 ? '+' : ''}${at - expiry} ms`).toEqual({
        granted: false,
        epoch: 1,
        primary: 'node-a',
        reason: 'lease-held',
        retryAfterMs: expiry + skewMarginMs - at + 1,
        message: expect.stringContaining('node-a holds the lease at epoch 1') as unknown,
      });
      const item = await witness.rawItem(pair.key);
      expect(item).toMatchObject({ primary: 'node-a', epoch: 1, leaseExpiresAt: expiry });
    }

    witness.clock.ms = expiry + skewMarginMs + 1;
    expect(await pair.b.claim(1)).toEqual({ granted: true, epoch: 2, leaseMs, standalone: null });
    expect(await witness.rawItem(pair.key)).toMatchObject({
      primary: 'node-b',
      epoch: 2,
      leaseExpiresAt: expiry + skewMarginMs + 1 + leaseMs,
    });
  });

  test("after a failover the old primary's claims are refused for the new lease, and its heartbeats renew nothing", async () => {
    const pair = await pairWithPrimaryA(witness);
    const expiry = await storedLease(pair);
    witness.clock.ms = expiry + skewMarginMs - 100;
    await pair.b.heartbeat('secondary', 1);
    witness.clock.ms = expiry + skewMarginMs + 1;
    expect(await pair.b.claim(1)).toMatchObject({ granted: true, epoch: 2 });
    const newExpiry = await storedLease(pair);

    witness.clock.advance(1_000);
    await pair.a.heartbeat('primary', 1);
    await pair.a.heartbeat('secondary', 2);
    expect(await pair.a.claim(2)).toMatchObject({ granted: false, epoch: 2, primary: 'node-b', reason: 'lease-held' });
    expect(await storedLease(pair)).toBe(newExpiry);
  });
});
