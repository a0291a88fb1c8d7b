import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClaimResponse } from '../../protocol/node.ts';
import { startWitness, type TestWitness } from '../support/witness.ts';
import {
  type Agent,
  claimPath,
  expectError,
  expireLeaseKeepingBothFresh,
  type Pair,
  pairWithPrimaryA,
  type Post,
  postOf,
  type Reply,
  secondProcess,
  type WitnessProcess,
} from './scenario.ts';

const rounds = 5;
const claimsPerNode = 25;

let witness: TestWitness;
let other: WitnessProcess;
/** Two Lambda instances serve the site, each with its own memory of it, as in AWS. */
let processes: [Post, Post];
beforeAll(async () => {
  witness = await startWitness();
  other = await secondProcess(witness);
  processes = [postOf(witness), other.post];
});
afterAll(async () => {
  await other.close();
  await witness.close();
});

interface Answer {
  agent: Agent;
  seq: number;
  reply: Reply;
  claim: ClaimResponse | undefined;
}

/**
 * 25 claims from each node, all in flight at once, alternating between the two witness
 * processes; which node's claims leave first alternates by round. With `sameSeq`, each node
 * sends one claim 25 times (a retried request); otherwise 25 claims with distinct seqs.
 */
async function race(pair: Pair, epoch: number, round: number, sameSeq: boolean): Promise<Answer[]> {
  const nodes = round % 2 === 0 ? [pair.b, pair.a] : [pair.a, pair.b];
  const first = new Map(nodes.map((agent) => [agent, agent.seq + 1]));
  const requests: Promise<Answer>[] = [];
  for (let i = 0; i < claimsPerNode; i++) {
    nodes.forEach((agent, n) => {
      const seq = first.get(agent)! + (sameSeq ? 0 : i);
      const post = processes[(i + n) % 2]!;
      const body = { incarnation: agent.incarnation, seq, epoch, reason: 'peer-lost' };
      requests.push(
        post(claimPath, agent.node.token, body).then((reply) => ({
          agent,
          seq,
          reply,
          claim: reply.status === 200 ? ClaimResponse.parse(reply.body) : undefined,
        })),
      );
    });
  }
  for (const agent of nodes) agent.seq = first.get(agent)! + claimsPerNode;
  return Promise.all(requests);
}

interface Round {
  winner: string;
  granted: Answer[];
  stale: Answer[];
  busy: Answer[];
  applied: number;
}

/**
 * One race after the primary's lease ran out (both nodes fresh), and what must hold whoever
 * wins: one holder, every grant to it, the epoch up by one exactly when the holder changed,
 * the other node refused every time, the store agreeing with the answers.
 */
async function raceAfterExpiry(pair: Pair, round: number, sameSeq: boolean): Promise<Round> {
  await expireLeaseKeepingBothFresh(witness, pair);
  const before = (await witness.rawItem(pair.key))!;
  const epochBefore = before.epoch as number;
  const primaryBefore = before.primary as string;

  const answers = await race(pair, epochBefore, round, sameSeq);

  const after = (await witness.rawItem(pair.key))!;
  const winner = after.primary as string;
  const epoch = after.epoch as number;
  const granted = answers.filter((s) => s.claim?.granted === true);
  const refused = answers.filter((s) => s.claim?.granted === false);
  const stale = answers.filter((s) => s.reply.status === 409);
  // 503 (retry after 1 s): a request whose guarded write lost to other writes five times over.
  const busy = answers.filter((s) => s.reply.status === 503);

  expect(granted.length + refused.length + stale.length + busy.length, 'no other status').toBe(answers.length);
  for (const s of stale) expectError(s.reply, 409, 'stale-request');
  for (const s of busy) {
    expectError(s.reply, 503, 'unavailable');
    expect(s.reply.headers.get('retry-after')).toBe('1');
  }

  // W2: the epoch rises by exactly one when the primary changes, and not at all otherwise.
  expect(epoch).toBe(winner === primaryBefore ? epochBefore : epochBefore + 1);
  // W1: every claim granted went to the one node that holds the lease now, at the stored epoch.
  expect(granted.length).toBeGreaterThanOrEqual(1);
  for (const s of granted) {
    expect(s.agent.id).toBe(winner);
    expect(s.claim).toEqual({ granted: true, epoch, leaseMs: witness.deps.settings.leaseMs, standalone: null });
  }
  // The other node was refused every single time, and told who holds the lease.
  const loser = answers.filter((s) => s.agent.id !== winner);
  expect(loser).toHaveLength(claimsPerNode);
  for (const s of loser) expect(s.claim).toMatchObject({ granted: false, epoch, primary: winner, reason: 'lease-held' });

  // Every granted answer is one applied write, and no write was applied without one.
  const applied = (after.rev as number) - (before.rev as number);
  expect(applied).toBe(granted.length);
  // W4 under contention: the stored order is the newest applied claim, and every 409 was really older.
  const storedSeq = (after.nodes as Record<string, { seq: number }>)[winner]!.seq;
  expect(storedSeq).toBe(Math.max(...granted.map((s) => s.seq)));
  for (const s of stale) expect(s.seq).toBeLessThanOrEqual(storedSeq);
  // The stored item agrees with the answers.
  expect(after.leaseExpiresAt).toBe(witness.clock.ms + witness.deps.settings.leaseMs);
  expect(after.decision).toMatchObject({ nodeId: winner, epoch, at: witness.clock.ms });
  if (winner !== primaryBefore) {
    expect(after.nodes).toMatchObject({
      [primaryBefore]: { commands: { [`${epoch}-demote-${primaryBefore}`]: { type: 'demote', epoch } } },
    });
  }
  return { winner, granted, stale, busy, applied };
}

describe('50 concurrent claims from both nodes once the primary lease expired', () => {
  test('one node ends up primary, every grant goes to it, the epoch rises by one only if the primary changed, and the other node is refused every time', async () => {
    const pair = await pairWithPrimaryA(witness);
    for (let round = 0; round < rounds; round++) await raceAfterExpiry(pair, round, false);
  });

  test('when each node retries one claim 25 times at once, exactly one claim is granted, its copies are stale and the other node is refused', async () => {
    const pair = await pairWithPrimaryA(witness);
    for (let round = 0; round < rounds; round++) {
      const r = await raceAfterExpiry(pair, round, true);
      expect(r.granted).toHaveLength(1);
      expect(r.applied).toBe(1);
      expect(r.stale).toHaveLength(claimsPerNode - 1);
      expect(r.stale.every((s) => s.agent.id === r.winner)).toBe(true);
      expect(r.busy).toHaveLength(0);
    }
  });

  test('when the old primary is silent, 25 concurrent claims from the other node make exactly one failover, to epoch + 1', async () => {
    const pair = await pairWithPrimaryA(witness);
    // Two rounds: node-b takes over from node-a, then node-a back from node-b.
    for (let round = 0; round < 2; round++) {
      await expireLeaseKeepingBothFresh(witness, pair);
      const before = (await witness.rawItem(pair.key))!;
      const [from, to] = before.primary === 'node-a' ? [pair.a, pair.b] : [pair.b, pair.a];
      const epoch = before.epoch as number;
      const first = to.seq + 1;
      to.seq += claimsPerNode;

      const replies = await Promise.all(
        Array.from({ length: claimsPerNode }, (_, i) =>
          processes[i % 2]!(claimPath, to.node.token, { incarnation: 1, seq: first + i, epoch, reason: 'peer-lost' }),
        ),
      );

      const after = (await witness.rawItem(pair.key))!;
      expect(after).toMatchObject({ primary: to.id, epoch: epoch + 1 });
      expect(after.nodes).toMatchObject({ [from.id]: { commands: { [`${epoch + 1}-demote-${from.id}`]: { type: 'demote' } } } });
      const granted = replies.filter((r) => r.status === 200);
      expect(granted.length).toBeGreaterThanOrEqual(1);
      for (const r of granted)
        expect(r.body).toEqual({ granted: true, epoch: epoch + 1, leaseMs: witness.deps.settings.leaseMs, standalone: null });
      for (const r of replies.filter((x) => x.status !== 200)) {
        if (r.status === 409) expectError(r, 409, 'stale-request');
        else expectError(r, 503, 'unavailable');
      }
      expect((after.rev as number) - (before.rev as number)).toBe(granted.length);
    }
  });
});
