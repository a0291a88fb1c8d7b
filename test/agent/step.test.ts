/**
 * The agent's pure core, one rule at a time (DESIGN.md, A1–A5): hand-written sequences of inputs
 * at chosen instants of the node's own clock, with the demo's timings (peer lease 2000 ms, drift
 * margin 100 ms, fence lead 400 ms, witness lease 3000 ms).
 */
import { describe, expect, test } from 'vitest';
import type { AgentAction, AgentInput } from '../../agent/core/messages.ts';
import { type AgentState, driftMarginFor, initialAgentState, leaseEnd } from '../../agent/core/state.ts';
import { step } from '../../agent/core/step.ts';
import type { ClaimResponse, Command, HeartbeatResponse, Standalone } from '../../protocol/node.ts';
import type { PeerHello, PeerReply } from '../../protocol/peer.ts';
import { agentTimings as t, tickMs, witnessSettings } from './simulation.ts';

const self = 'node-b';
const peer = 'node-a';

type Heartbeat = Extract<AgentAction, { type: 'witness-heartbeat' }>;
type Claim = Extract<AgentAction, { type: 'witness-claim' }>;
type Request = Heartbeat | Claim;
type RunHook = Extract<AgentAction, { type: 'run-hook' }>;
type Answer = Extract<AgentAction, { type: 'peer-answer' }>;
type Hello = Extract<AgentAction, { type: 'peer-hello' }>;

/** What the witness does with a request: answer it, fail it (unreachable), or leave it in flight for the test. */
type WitnessAnswer = AgentInput | 'fail' | 'hold';

/**
 * One agent core, fed inputs at instants of its own clock. Its requests are answered at once by
 * `witness` and `peer` (as the I/O loop would feed back the outcome), unless held; every action
 * is kept in `log`, stamped with the instant it was asked for.
 */
class Agent {
  state: AgentState;
  now: number;
  readonly log: { at: number; action: AgentAction }[] = [];
  witness: (request: Request) => WitnessAnswer = () => 'fail';
  peer: (hello: Hello) => PeerReply | null | 'hold' = () => null;
  readonly held: Request[] = [];
  readonly heldHellos: { sentAt: number; hello: Hello }[] = [];

  constructor(now = 1_000, incarnation = 1) {
    this.now = now;
    // As after the start-up demote every node runs first (tested on its own below).
    this.state = { ...initialAgentState(self, incarnation, t, now), role: 'secondary' };
  }

  /** Feeds one input at `at` (default: now); returns the actions that input produced. */
  send(input: AgentInput, at = this.now): AgentAction[] {
    expect(at).toBeGreaterThanOrEqual(this.now);
    this.now = at;
    const { state, actions } = step(this.state, input, at);
    this.state = state;
    for (const action of actions) this.log.push({ at, action });
    for (const action of actions) {
      if (action.type === 'witness-heartbeat' || action.type === 'witness-claim') {
        const answer = this.witness(action);
        if (answer === 'hold') this.held.push(action);
        else
          this.send(answer === 'fail' ? { type: 'witness-failed', seq: action.request.seq, status: null, code: 'TimeoutError' } : answer);
      } else if (action.type === 'peer-hello') {
        const reply = this.peer(action);
        if (reply === 'hold') this.heldHellos.push({ sentAt: at, hello: action });
        else this.send(reply ? { type: 'peer-reply', sentAt: at, reply } : { type: 'peer-failed', sentAt: at });
      }
    }
    return actions;
  }

  tick(at = this.now): AgentAction[] {
    return this.send({ type: 'tick' }, at);
  }

  /** Ticks every `tickMs` up to `until`; returns everything asked for meanwhile. */
  run(until: number): { at: number; action: AgentAction }[] {
    const from = this.log.length;
    while (this.now + tickMs <= until) this.tick(this.now + tickMs);
    return this.log.slice(from);
  }

  /** Ticks until `done` holds (at most 30 s); returns the instant. */
  runUntil(done: () => boolean): number {
    const limit = this.now + 30_000;
    while (!done()) {
      if (this.now > limit) throw new Error('the awaited state never came');
      this.tick(this.now + tickMs);
    }
    return this.now;
  }

  /** Answers the oldest held request. */
  answer(make: (request: Request) => AgentInput, at = this.now): AgentAction[] {
    const request = this.held.shift();
    if (!request) throw new Error('no request in flight');
    return this.send(make(request), at);
  }

  since(at: number): AgentAction[] {
    return this.log.filter((entry) => entry.at >= at).map(({ action }) => action);
  }
}

const hello = (over: Partial<PeerHello> = {}): AgentInput => ({
  type: 'peer-hello',
  hello: { nodeId: peer, incarnation: 1, epoch: 1, role: 'primary', wantLease: true, ...over },
});

const heartbeatOk = (seq: number, over: Partial<HeartbeatResponse> = {}): AgentInput => ({
  type: 'witness-heartbeat-ok',
  seq,
  body: {
    epoch: 1,
    primary: peer,
    role: 'secondary',
    leaseMs: null,
    standalone: null,
    excluded: false,
    commands: [],
    heartbeatMs: witnessSettings.fastHeartbeatMs,
    ...over,
  },
});

const claimOk = (seq: number, body: ClaimResponse): AgentInput => ({ type: 'witness-claim-ok', seq, body });
const granted = (epoch: number, standalone: Standalone = null): ClaimResponse => ({
  granted: true,
  epoch,
  leaseMs: witnessSettings.leaseMs,
  standalone,
});
const refused = (epoch: number, primary: string | null): ClaimResponse => ({
  granted: false,
  epoch,
  primary,
  retryAfterMs: 1_000,
  reason: 'lease-held',
  message: `${primary ?? '?'} holds the lease`,
});

/**
 * A witness that names `primary` at `epoch`: it renews the lease of its primary reporting as
 * such, and answers claims as `claims` says (`grant`: the claimant becomes primary at epoch + 1).
 */
function witness(site: { primary: string | null; epoch: number; claims: 'grant' | 'refuse' | 'hold' }) {
  return (request: Request): WitnessAnswer => {
    const seq = request.request.seq;
    if (request.type === 'witness-claim') {
      if (site.claims === 'hold') return 'hold';
      if (site.claims === 'refuse' || (site.primary !== null && site.primary !== self))
        return claimOk(seq, refused(site.epoch, site.primary));
      if (site.primary !== self) {
        site.primary = self;
        site.epoch += 1;
      }
      return claimOk(seq, granted(site.epoch));
    }
    const renews = site.primary === self && request.request.role === 'primary' && request.request.epoch === site.epoch;
    return heartbeatOk(seq, {
      epoch: site.epoch,
      primary: site.primary,
      role: site.primary === self ? 'primary' : 'secondary',
      leaseMs: renews ? witnessSettings.leaseMs : null,
    });
  };
}

/** The peer's reply to this node's hello: `lease` grants one when asked for. */
function peerReplies(role: PeerReply['role'], epoch: number, lease: boolean) {
  return (h: Hello): PeerReply => ({
    nodeId: peer,
    incarnation: 1,
    epoch: Math.max(epoch, h.hello.epoch),
    role,
    leaseMs: lease && h.hello.wantLease ? t.peerLeaseMs : null,
  });
}

const hooks = (actions: AgentAction[]): RunHook[] => actions.filter((a): a is RunHook => a.type === 'run-hook');
const answerOf = (actions: AgentAction[]): Answer => actions.find((a): a is Answer => a.type === 'peer-answer')!;

/** A secondary that heard the witness (node-a is primary at epoch 1) and whose peer, the primary, answers its hellos. */
function secondary(): Agent {
  const agent = new Agent(1_000);
  agent.witness = witness({ primary: peer, epoch: 1, claims: 'refuse' });
  agent.peer = peerReplies('primary', 1, false);
  agent.tick();
  agent.send(hello(), 1_020);
  expect(agent.state).toMatchObject({ role: 'secondary', epoch: 1, witnessPrimary: peer, claiming: false });
  return agent;
}

/**
 * A primary at epoch 1 on a new site: it claimed as soon as it could (a peer lease after it
 * started), won, and its promote hook exited 0. Its peer, a secondary, grants no peer lease and
 * the witness can no longer be reached, unless a test says otherwise.
 */
function primary(): { agent: Agent; claimedAt: number } {
  const agent = new Agent(1_000);
  agent.witness = witness({ primary: null, epoch: 0, claims: 'hold' });
  agent.peer = peerReplies('secondary', 0, false);
  const claimedAt = agent.runUntil(() => agent.held.length > 0);
  expect(hooks(agent.answer((r) => claimOk(r.request.seq, granted(1)), claimedAt + 20))).toEqual([
    expect.objectContaining({ hook: 'promote', epoch: 1 }),
  ]);
  agent.send({ type: 'hook-exited', hook: 'promote', code: 0 }, claimedAt + 60);
  expect(agent.state).toMatchObject({
    role: 'primary',
    epoch: 1,
    wonEpoch: 1,
    witnessLeaseEnd: claimedAt + witnessSettings.leaseMs - t.driftMarginMs,
  });
  agent.witness = () => 'fail';
  return { agent, claimedAt };
}

describe('A1: a primary runs workloads only while it holds a lease', () => {
  test('a primary whose leases run out starts its demote hook fenceLeadMs before the end', () => {
    const { agent } = primary();
    const end = leaseEnd(agent.state);
    const from = agent.now;
    // Nothing renews: the witness cannot be reached and the peer grants nothing.
    const demoteAt = agent.runUntil(() => agent.state.role !== 'primary');
    expect(hooks(agent.since(from))).toEqual([expect.objectContaining({ hook: 'demote', reason: 'leases run out: self-fence' })]);
    expect(demoteAt).toBeGreaterThanOrEqual(end - t.fenceLeadMs);
    expect(demoteAt).toBeLessThan(end - t.fenceLeadMs + tickMs);
    expect(agent.state.role).toBe('demoting');
  });

  test('a primary keeps its role while its peer renews its peer lease, with no witness', () => {
    const { agent } = primary();
    agent.peer = peerReplies('secondary', 1, true);
    const from = agent.now;
    agent.run(from + 20_000);
    expect(hooks(agent.since(from))).toEqual([]);
    expect(agent.state.role).toBe('primary');
    expect(agent.state.peerLeaseEnd).toBeGreaterThan(agent.now + t.fenceLeadMs);
  });

  test('a primary keeps its role while the witness renews its lease, with no peer', () => {
    const { agent } = primary();
    agent.witness = witness({ primary: self, epoch: 1, claims: 'refuse' });
    agent.peer = () => null;
    const from = agent.now;
    agent.run(from + 20_000);
    expect(hooks(agent.since(from))).toEqual([]);
    expect(agent.state.role).toBe('primary');
    // It heartbeats fast: the witness lease is all it has.
    const heartbeats = agent.since(from + 5_000).filter((a) => a.type === 'witness-heartbeat');
    expect(heartbeats.length).toBeGreaterThanOrEqual(14);
  });

  test('a claim granted so late that its lease is nearly over does not promote', () => {
    const agent = secondary();
    agent.witness = witness({ primary: null, epoch: 1, claims: 'hold' });
    agent.peer = () => null;
    agent.tick(agent.state.nextHeartbeatAt);
    const sentAt = agent.runUntil(() => agent.held.length > 0);
    // The lease runs to sentAt + 3000 − 100: an answer from sentAt + 2500 on lands inside the fence lead.
    const late = agent.answer(
      (r) => claimOk(r.request.seq, granted(2)),
      sentAt + witnessSettings.leaseMs - t.driftMarginMs - t.fenceLeadMs,
    );
    expect(hooks(late)).toEqual([]);
    expect(agent.state).toMatchObject({ role: 'secondary', wonEpoch: 2, epoch: 2 });
  });

  test('a promoting node whose lease runs out during the promote hook demotes as soon as the hook exits', () => {
    const agent = secondary();
    agent.witness = witness({ primary: null, epoch: 1, claims: 'hold' });
    agent.peer = () => null;
    agent.tick(agent.state.nextHeartbeatAt);
    const sentAt = agent.runUntil(() => agent.held.length > 0);
    agent.witness = () => 'fail';
    expect(hooks(agent.answer((r) => claimOk(r.request.seq, granted(2)), sentAt + 10))).toHaveLength(1);
    // The promote hook runs past the fence point: the demote cannot start, it is queued.
    const end = leaseEnd(agent.state);
    agent.run(end - 100);
    expect(agent.state).toMatchObject({ role: 'promoting', hookRunning: 'promote', demoteAfterPromote: true });
    expect(hooks(agent.since(sentAt + 11))).toEqual([]);
    const exit = agent.send({ type: 'hook-exited', hook: 'promote', code: 0 }, end - 50);
    expect(hooks(exit)).toEqual([expect.objectContaining({ hook: 'demote' })]);
    expect(agent.state.role).toBe('demoting');
  });
});

describe('A2: a lease runs from when its request was sent, less the drift margin', () => {
  test('a peer lease ends at the hello’s send time + its length − driftMarginMs, however late the reply', () => {
    const { agent } = primary();
    agent.peer = () => 'hold';
    agent.runUntil(() => agent.heldHellos.length > 0);
    const { sentAt, hello: sent } = agent.heldHellos[0]!;
    expect(sent.hello).toMatchObject({ role: 'primary', epoch: 1, wantLease: true });
    agent.send(
      { type: 'peer-reply', sentAt, reply: { nodeId: peer, incarnation: 1, epoch: 1, role: 'secondary', leaseMs: 2_000 } },
      sentAt + 240,
    );
    expect(agent.state.peerLeaseEnd).toBe(sentAt + 2_000 - t.driftMarginMs);
  });

  test('a witness lease ends at the heartbeat’s send time + its length − driftMarginMs', () => {
    const { agent } = primary();
    const held: { at: number; seq: number }[] = [];
    agent.witness = (r) => {
      held.push({ at: agent.now, seq: r.request.seq });
      return 'hold';
    };
    agent.runUntil(() => held.length > 0);
    const sent = held[0]!;
    agent.answer((r) => heartbeatOk(r.request.seq, { primary: self, role: 'primary', leaseMs: 3_000 }), sent.at + 700);
    expect(agent.state.witnessLeaseEnd).toBe(sent.at + 3_000 - t.driftMarginMs);
  });

  test('a peer reply at an older epoch earns nothing', () => {
    const { agent } = primary();
    const before = agent.state.peerLeaseEnd;
    agent.send({
      type: 'peer-reply',
      sentAt: agent.now,
      reply: { nodeId: peer, incarnation: 1, epoch: 0, role: 'secondary', leaseMs: 2_000 },
    });
    expect(agent.state.peerLeaseEnd).toBe(before);
  });
});

describe('A3: a secondary claims only after every peer lease it granted has expired', () => {
  test('a secondary that lost its peer sends no claim before the last peer lease it granted has expired', () => {
    const agent = secondary();
    const grantAt = 6_000;
    agent.run(grantAt - tickMs);
    expect(answerOf(agent.send(hello(), grantAt)).reply.leaseMs).toBe(t.peerLeaseMs);
    const grantedUntil = grantAt + t.peerLeaseMs + t.driftMarginMs;
    expect(agent.state.grantedUntil).toBe(grantedUntil);
    // Then silence from the peer. The witness would refuse the claim while the old lease holds.
    agent.peer = () => null;
    agent.run(grantedUntil + 500);
    const lost = agent.log.find(({ action }) => action.type === 'log' && action.message === 'peer lost');
    expect(lost!.at).toBeLessThan(grantedUntil);
    const claims = agent.log.filter(({ action }) => action.type === 'witness-claim');
    expect(claims.length).toBeGreaterThan(0);
    expect(claims[0]!.at).toBeGreaterThan(grantedUntil);
    expect(claims[0]!.at).toBeLessThanOrEqual(grantedUntil + tickMs);
  });

  test('a secondary grants no peer lease once it has decided to claim', () => {
    const agent = secondary();
    agent.peer = () => null;
    agent.runUntil(() => agent.state.claiming);
    // Its peer is back before the claim goes out: still no lease.
    expect(agent.state.witnessInflight).toBeNull();
    expect(answerOf(agent.send(hello(), agent.now + 1)).reply.leaseMs).toBeNull();
  });

  test('a secondary grants no peer lease while its claim is in flight, and grants again once it is refused', () => {
    const agent = secondary();
    agent.peer = () => null;
    agent.witness = witness({ primary: peer, epoch: 1, claims: 'hold' });
    agent.runUntil(() => agent.held.length > 0);
    expect(agent.state.witnessInflight?.kind).toBe('claim');
    // The peer is heard again: it is no longer lost, but the claim is out.
    expect(answerOf(agent.send(hello(), agent.now + 1)).reply.leaseMs).toBeNull();
    agent.tick(agent.now + tickMs);
    expect(answerOf(agent.send(hello(), agent.now + 1)).reply.leaseMs).toBeNull();
    agent.answer((r) => claimOk(r.request.seq, refused(1, peer)), agent.now + 10);
    expect(agent.state.claiming).toBe(false);
    expect(answerOf(agent.send(hello(), agent.now + 1)).reply.leaseMs).toBe(t.peerLeaseMs);
  });

  test('a restarted node waits one full peer lease before claiming', () => {
    const startedAt = 50_000;
    const agent = new Agent(startedAt, 2);
    // The witness knows no primary: the node wants to claim at once.
    agent.witness = witness({ primary: null, epoch: 0, claims: 'hold' });
    agent.tick();
    expect(agent.state.claiming).toBe(true);
    const claimedAt = agent.runUntil(() => agent.held.length > 0);
    expect(claimedAt - startedAt).toBeGreaterThan(t.peerLeaseMs + t.driftMarginMs);
    expect(claimedAt - startedAt).toBeLessThanOrEqual(t.peerLeaseMs + t.driftMarginMs + tickMs);
  });

  test('a restarted node that the witness still names primary re-claims only after one full peer lease', () => {
    const startedAt = 50_000;
    const agent = new Agent(startedAt, 3);
    agent.witness = witness({ primary: self, epoch: 4, claims: 'hold' });
    agent.tick();
    expect(agent.state).toMatchObject({ epoch: 4, witnessPrimary: self, claiming: true, role: 'secondary' });
    const claimedAt = agent.runUntil(() => agent.held.length > 0);
    expect(claimedAt - startedAt).toBeGreaterThan(t.peerLeaseMs + t.driftMarginMs);
  });
});

describe('A4: a node that learns of a higher epoch demotes, and promotes only on an epoch it won', () => {
  test('a primary that hears a higher epoch from its peer demotes at once', () => {
    const { agent } = primary();
    const actions = agent.send(hello({ epoch: 2, role: 'primary' }), agent.now + 10);
    expect(hooks(actions)).toEqual([expect.objectContaining({ hook: 'demote', epoch: 2 })]);
    expect(agent.state.role).toBe('demoting');
    // It answers as what it now is, and grants nothing.
    expect(answerOf(actions).reply).toMatchObject({ role: 'fenced', epoch: 2, leaseMs: null });
  });

  test('a primary whose peer replies with a higher epoch demotes at once', () => {
    const { agent } = primary();
    const actions = agent.send(
      { type: 'peer-reply', sentAt: agent.now, reply: { nodeId: peer, incarnation: 1, epoch: 2, role: 'secondary', leaseMs: null } },
      agent.now + 10,
    );
    expect(hooks(actions)).toEqual([expect.objectContaining({ hook: 'demote' })]);
  });

  test('a primary told by the witness that another node is the primary demotes at once, and acknowledges once stopped', () => {
    const { agent } = primary();
    agent.peer = peerReplies('secondary', 1, true);
    agent.witness = (r) => (r.type === 'witness-heartbeat' ? 'hold' : 'fail');
    agent.runUntil(() => agent.held.length > 0);
    expect(agent.state.role).toBe('primary');
    const demoteCommand: Command = { id: `2-demote-${self}`, type: 'demote', epoch: 2, issuedAt: 0, reason: 'node-a took over at epoch 2' };
    const actions = agent.answer((r) => heartbeatOk(r.request.seq, { epoch: 2, primary: peer, commands: [demoteCommand] }), agent.now + 5);
    expect(hooks(actions)).toEqual([expect.objectContaining({ hook: 'demote' })]);
    // The demote command is acknowledged only once the workloads have stopped.
    expect(agent.state.acks).toEqual([]);
    agent.send({ type: 'hook-exited', hook: 'demote', code: 0 }, agent.now + 50);
    expect(agent.state.acks).toEqual([demoteCommand.id]);
  });

  test('a promoting node that hears a higher epoch queues its demote behind the promote hook, and never runs as primary', () => {
    const agent = secondary();
    agent.witness = witness({ primary: null, epoch: 1, claims: 'grant' });
    agent.peer = () => null;
    agent.runUntil(() => agent.state.role === 'promoting');
    // The promote hook cannot be interrupted: the demote waits for it.
    expect(hooks(agent.send(hello({ epoch: 3 }), agent.now + 10))).toEqual([]);
    expect(agent.state.demoteAfterPromote).toBe(true);
    const exit = agent.send({ type: 'hook-exited', hook: 'promote', code: 0 }, agent.now + 40);
    expect(hooks(exit)).toEqual([expect.objectContaining({ hook: 'demote' })]);
    expect(agent.state.role).toBe('demoting');
  });

  test('a promote command never promotes a node that did not win the claim', () => {
    const agent = secondary();
    const promote: Command = { id: `2-promote-${self}`, type: 'promote', epoch: 2, issuedAt: 0, reason: 'granted' };
    agent.witness = (r) => (r.type === 'witness-heartbeat' ? 'hold' : 'fail');
    agent.runUntil(() => agent.held.length > 0);
    const actions = agent.answer(
      (r) => heartbeatOk(r.request.seq, { epoch: 2, primary: self, role: 'primary', commands: [promote] }),
      agent.now + 5,
    );
    expect(hooks(actions)).toEqual([]);
    expect(agent.state.role).toBe('secondary');
    // Not acknowledged either: that happens once the node has won a claim at that epoch and runs.
    expect(agent.state.acks).not.toContain(promote.id);
  });

  test('a claim granted at an epoch older than one it has since seen never promotes', () => {
    // The grant for epoch 2 was on its way while the peer won epoch 3 and said so: the node won
    // nothing it could run on. (Found by review; `scenes.test.ts` reaches it in the simulation.)
    const agent = secondary();
    agent.witness = witness({ primary: null, epoch: 1, claims: 'hold' });
    agent.peer = () => null;
    agent.tick(agent.state.nextHeartbeatAt);
    const sentAt = agent.runUntil(() => agent.held.length > 0);
    agent.send(hello({ epoch: 3, role: 'primary' }), sentAt + 100);
    const actions = agent.answer((r) => claimOk(r.request.seq, granted(2)), sentAt + 200);
    expect(hooks(actions)).toEqual([]);
    expect(agent.state).toMatchObject({ role: 'secondary', epoch: 3 });
    expect(agent.state.wonEpoch).not.toBe(3);
  });

  test('a secondary grants no peer lease to a primary at an older epoch, and tells it the newer one', () => {
    const agent = secondary();
    agent.send(hello({ epoch: 3, role: 'secondary', wantLease: false }), 2_000);
    const answer = answerOf(agent.send(hello({ epoch: 2 }), 2_010));
    expect(answer.reply).toMatchObject({ epoch: 3, leaseMs: null });
  });
});

describe('A5: survivor mode', () => {
  const endStandalone = (epoch = 1): Command => ({
    id: `end-standalone-5000-${self}`,
    type: 'end-standalone',
    epoch,
    issuedAt: 0,
    reason: `${self} hears ${peer} again: the lease is no longer standalone`,
  });

  /** The witness's answer to a heartbeat of its primary, this node, at epoch 1: a renewal. */
  const asPrimary = (seq: number, over: Partial<HeartbeatResponse> = {}) =>
    heartbeatOk(seq, { primary: self, role: 'primary', leaseMs: witnessSettings.leaseMs, ...over });

  type Log = Extract<AgentAction, { type: 'log' }>;
  const logged = (agent: Agent, message: string | RegExp): Log[] =>
    agent.log
      .map(({ action }) => action)
      .filter((a): a is Log => a.type === 'log' && (typeof message === 'string' ? a.message === message : message.test(a.message)));

  /** A primary whose next heartbeat is answered `standalone`; from then on neither the witness nor its peer answers. */
  function standalonePrimary(leaseMs: number | null): { agent: Agent; sentAt: number } {
    const { agent } = primary();
    let sentAt = -1;
    agent.witness = (r) => {
      if (r.type !== 'witness-heartbeat') return 'fail';
      sentAt = agent.now;
      agent.witness = () => 'fail';
      return asPrimary(r.request.seq, { standalone: { leaseMs }, heartbeatMs: witnessSettings.slowHeartbeatMs });
    };
    agent.runUntil(() => agent.state.standalone);
    return { agent, sentAt };
  }

  /** Holds the standalone primary's next heartbeat; returns when it was sent. */
  function nextHeartbeat(agent: Agent): number {
    let at = -1;
    agent.witness = (r) => {
      if (r.type !== 'witness-heartbeat') return 'fail';
      at = agent.now;
      return 'hold';
    };
    agent.runUntil(() => agent.held.length > 0);
    return at;
  }

  test('a primary told its lease is standalone keeps running past every lease end, with no answer from anyone for ten minutes', () => {
    const { agent } = standalonePrimary(null);
    expect(agent.state).toMatchObject({ role: 'primary', standalone: true, witnessLeaseEnd: Infinity, peerLeaseEnd: 0 });
    const from = agent.now;
    agent.run(from + 10 * 60_000);
    expect(hooks(agent.since(from))).toEqual([]);
    expect(agent.state.role).toBe('primary');
    // It keeps reporting to the witness, retrying every failure.
    expect(agent.since(from + 5 * 60_000).filter((a) => a.type === 'witness-heartbeat').length).toBeGreaterThan(100);
    expect(logged(agent, 'survivor mode: the lease is standalone')).toHaveLength(1);
  });

  test('a bounded standalone lease runs from the heartbeat that earned it, less a drift margin for its length: the primary fences before it ends', () => {
    const bound = 20_000;
    const { agent, sentAt } = standalonePrimary(bound);
    // 5 % of 20 s (driftMarginMs / peerLeaseMs), not the flat 100 ms that suits a 2 s peer lease.
    expect(driftMarginFor(t, bound)).toBe(1_000);
    const end = sentAt + bound - driftMarginFor(t, bound);
    expect(agent.state).toMatchObject({ standalone: true, witnessLeaseEnd: end });
    const from = agent.now;
    const demoteAt = agent.runUntil(() => agent.state.role !== 'primary');
    expect(demoteAt).toBeGreaterThanOrEqual(end - t.fenceLeadMs);
    expect(demoteAt).toBeLessThan(end - t.fenceLeadMs + tickMs);
    expect(hooks(agent.since(from))).toEqual([expect.objectContaining({ hook: 'demote', reason: 'leases run out: self-fence' })]);
  });

  test('end-standalone ends the standalone lease at once, on the ordinary lease of the answer that carries it, and is acknowledged in the very next heartbeat', () => {
    const { agent } = standalonePrimary(null);
    const command = endStandalone();
    const carriedAt = nextHeartbeat(agent);
    agent.witness = () => 'fail';
    // That answer says `standalone: null` and renews an ordinary lease; the slow cadence does not delay the ack.
    const actions = agent.answer(
      (r) => asPrimary(r.request.seq, { commands: [command], heartbeatMs: witnessSettings.slowHeartbeatMs }),
      carriedAt + 30,
    );
    const ordinaryEnd = carriedAt + witnessSettings.leaseMs - t.driftMarginMs;
    expect(agent.state).toMatchObject({ role: 'primary', standalone: false, witnessLeaseEnd: ordinaryEnd });
    expect(actions.filter((a): a is Heartbeat => a.type === 'witness-heartbeat').map((a) => a.request.acks)).toEqual([[command.id]]);
    const ended = logged(agent, 'standalone lease ended by the witness');
    expect(ended).toHaveLength(1);
    expect(ended[0]!.fields).toMatchObject({ command: command.id, reason: command.reason });
    // Nothing renews it any more: it fences at the ordinary end, as any primary.
    const demoteAt = agent.runUntil(() => agent.state.role !== 'primary');
    expect(demoteAt).toBeGreaterThanOrEqual(ordinaryEnd - t.fenceLeadMs);
    expect(demoteAt).toBeLessThan(ordinaryEnd - t.fenceLeadMs + tickMs);
  });

  test('an answer that ends the standalone lease and renews nothing fences at once; the ack waits until the workloads have stopped (A1)', () => {
    const { agent } = standalonePrimary(null);
    const command = endStandalone();
    nextHeartbeat(agent);
    const actions = agent.answer((r) => asPrimary(r.request.seq, { leaseMs: null, commands: [command] }), agent.now + 30);
    expect(hooks(actions)).toEqual([
      expect.objectContaining({ hook: 'demote', reason: 'the witness ended the standalone lease and renewed no lease' }),
    ]);
    // The witness keeps the standalone lease until the ack: a peer readmitted sooner could claim beside the workloads.
    expect(agent.state.acks).toEqual([]);
    agent.send({ type: 'hook-exited', hook: 'demote', code: 0 }, agent.now + 50);
    expect(agent.state).toMatchObject({ role: 'secondary', standalone: false, witnessLeaseEnd: 0, acks: [command.id] });
  });

  test('an ordinary renewal after a standalone one replaces the lease without end', () => {
    const { agent } = standalonePrimary(null);
    const sentAt = nextHeartbeat(agent);
    agent.answer((r) => asPrimary(r.request.seq), sentAt + 10);
    expect(agent.state).toMatchObject({ standalone: false, witnessLeaseEnd: sentAt + witnessSettings.leaseMs - t.driftMarginMs });
  });

  test('an end-standalone that finds no standalone lease is simply acknowledged', () => {
    const agent = secondary();
    const command = endStandalone();
    agent.witness = (r) => (r.type === 'witness-heartbeat' ? 'hold' : 'fail');
    agent.runUntil(() => agent.held.length > 0);
    agent.answer((r) => heartbeatOk(r.request.seq, { commands: [command] }), agent.now + 5);
    expect(agent.state).toMatchObject({ role: 'secondary', standalone: false, acks: [command.id] });
  });

  test('a standalone primary that hears a higher epoch demotes at once, and its lease is void (A4)', () => {
    const { agent } = standalonePrimary(null);
    const actions = agent.send(hello({ epoch: 2, role: 'primary' }), agent.now + 10);
    expect(hooks(actions)).toEqual([expect.objectContaining({ hook: 'demote', epoch: 2 })]);
    expect(agent.state).toMatchObject({ role: 'demoting', standalone: false });
    expect(agent.state.witnessLeaseEnd).toBeLessThanOrEqual(agent.now);
  });

  test('an excluded node never claims, even with its peer lost for two minutes and the witness naming no primary', () => {
    const agent = secondary();
    agent.peer = () => null;
    agent.witness = (r) =>
      r.type === 'witness-heartbeat' ? heartbeatOk(r.request.seq, { primary: null, excluded: true }) : claimOk(r.request.seq, granted(2));
    const from = agent.now;
    agent.run(from + 120_000);
    expect(agent.since(from).some((a) => a.type === 'witness-claim')).toBe(false);
    expect(agent.state).toMatchObject({ role: 'secondary', excluded: true, claiming: false });
    // It keeps heartbeating, and says once why it does not take over.
    expect(agent.since(from).filter((a) => a.type === 'witness-heartbeat').length).toBeGreaterThan(100);
    expect(logged(agent, /^excluded by the witness: /)).toHaveLength(1);
    // It grants the survivor peer leases, as any secondary does: that is how it rejoins.
    expect(answerOf(agent.send(hello({ epoch: 1 }), agent.now + 1)).reply.leaseMs).toBe(t.peerLeaseMs);
  });

  test('a readmitted node may claim again', () => {
    const agent = secondary();
    agent.peer = () => null;
    const site = { excluded: true };
    agent.witness = (r) =>
      r.type === 'witness-heartbeat' ? heartbeatOk(r.request.seq, { primary: null, excluded: site.excluded }) : 'hold';
    agent.run(agent.now + 10_000);
    expect(agent.held).toEqual([]);
    site.excluded = false;
    agent.runUntil(() => agent.held.length > 0);
    expect(agent.held[0]!.type).toBe('witness-claim');
    expect(logged(agent, 'readmitted by the witness: this node may claim again')).toHaveLength(1);
  });

  test('a claim refused because the node is excluded is its last: the refusal’s words are logged once', () => {
    const agent = secondary();
    agent.peer = () => null;
    const message = `${self} is excluded: ${peer} runs alone on a standalone lease (survivor mode). ${self} rejoins as secondary once ${peer} hears it on the peer link`;
    const site = { excluded: false };
    agent.witness = (r) => {
      if (r.type === 'witness-heartbeat') return heartbeatOk(r.request.seq, { excluded: site.excluded });
      site.excluded = true;
      return claimOk(r.request.seq, {
        granted: false,
        epoch: 1,
        primary: peer,
        retryAfterMs: witnessSettings.slowHeartbeatMs,
        reason: 'excluded',
        message,
      });
    };
    const from = agent.now;
    agent.run(from + 60_000);
    expect(agent.since(from).filter((a) => a.type === 'witness-claim')).toHaveLength(1);
    expect(logged(agent, `excluded by the witness: ${message}`).map((a) => a.level)).toEqual(['warn']);
    expect(agent.state).toMatchObject({ excluded: true, claiming: false });
  });

  test('a restart forgets the standalone lease and the exclusion; a survivor that restarts re-claims and is told again', () => {
    const start = initialAgentState(self, 2, t, 1_000);
    expect(start).toMatchObject({ standalone: false, excluded: false, witnessLeaseEnd: 0 });
    const agent = new Agent(50_000, 3);
    agent.witness = (r) =>
      r.type === 'witness-claim'
        ? claimOk(r.request.seq, granted(4, { leaseMs: null }))
        : heartbeatOk(r.request.seq, { epoch: 4, primary: self, role: 'primary' });
    agent.runUntil(() => agent.state.role === 'promoting');
    expect(agent.state).toMatchObject({ standalone: true, witnessLeaseEnd: Infinity, wonEpoch: 4 });
  });
});

describe('failed hooks and shutdown', () => {
  test('a failing demote hook leaves the node fenced and is retried; it never reports secondary meanwhile', () => {
    const { agent } = primary();
    agent.witness = witness({ primary: peer, epoch: 2, claims: 'refuse' });
    agent.peer = peerReplies('primary', 2, false);
    agent.send(hello({ epoch: 2 }), agent.now + 10);
    expect(agent.state.role).toBe('demoting');
    const failedAt = agent.now + 100;
    agent.send({ type: 'hook-exited', hook: 'demote', code: 1 }, failedAt);
    expect(agent.state.role).toBe('fenced');
    // Until the retry, no hook; from the failure on, every report says fenced, never secondary.
    agent.run(failedAt + t.hookRetryMs - 1);
    expect(hooks(agent.since(failedAt))).toEqual([]);
    expect(answerOf(agent.send(hello({ epoch: 2, role: 'secondary', wantLease: false }))).reply.role).toBe('fenced');
    const retryAt = agent.runUntil(() => agent.state.hookRunning === 'demote');
    expect(retryAt).toBeGreaterThanOrEqual(failedAt + t.hookRetryMs);
    expect(retryAt).toBeLessThan(failedAt + t.hookRetryMs + tickMs);
    expect(hooks(agent.since(failedAt))).toEqual([expect.objectContaining({ hook: 'demote', reason: 'retrying: the demote hook failed' })]);
    // It fails again (killed on timeout): fenced again, retried again.
    agent.send({ type: 'hook-exited', hook: 'demote', code: null }, agent.now + 100);
    expect(agent.state.role).toBe('fenced');
    agent.runUntil(() => agent.state.hookRunning === 'demote');
    const reports = agent.since(failedAt);
    expect(reports.filter((a) => a.type === 'witness-heartbeat').length).toBeGreaterThan(0);
    for (const action of reports) {
      if (action.type === 'witness-heartbeat') expect(action.request.role).toBe('fenced');
      if (action.type === 'peer-hello') expect(action.hello.role).toBe('fenced');
      if (action.type === 'peer-answer') expect(action.reply.role).toBe('fenced');
      expect(action.type).not.toBe('witness-claim');
    }
    agent.send({ type: 'hook-exited', hook: 'demote', code: 0 }, agent.now + 100);
    expect(agent.state).toMatchObject({ role: 'secondary', witnessLeaseEnd: 0, peerLeaseEnd: 0 });
  });

  test('a failed promote hook is followed by a demote, never by running as primary', () => {
    const agent = secondary();
    agent.witness = witness({ primary: null, epoch: 1, claims: 'grant' });
    agent.peer = () => null;
    agent.runUntil(() => agent.state.role === 'promoting');
    const exit = agent.send({ type: 'hook-exited', hook: 'promote', code: 3 }, agent.now + 40);
    expect(hooks(exit)).toEqual([expect.objectContaining({ hook: 'demote', reason: 'promote hook failed' })]);
    expect(agent.state.role).toBe('demoting');
  });

  test('a primary asked to stop demotes first, and claims nothing afterwards', () => {
    const { agent } = primary();
    agent.witness = witness({ primary: self, epoch: 1, claims: 'grant' });
    const actions = agent.send({ type: 'shutdown' }, agent.now + 10);
    expect(hooks(actions)).toEqual([expect.objectContaining({ hook: 'demote', reason: 'the agent is stopping' })]);
    agent.send({ type: 'hook-exited', hook: 'demote', code: 0 }, agent.now + 50);
    const from = agent.now;
    agent.run(from + 10_000);
    expect(agent.since(from).some((a) => a.type === 'witness-claim')).toBe(false);
    expect(agent.state.role).toBe('secondary');
  });
});

describe('start-up', () => {
  test('a node that starts reports itself fenced and runs its demote hook before anything else, since a previous run may have left workloads running', () => {
    const start = initialAgentState(self, 2, t, 1_000);
    expect(start.role).toBe('fenced');
    const { state, actions } = step(start, { type: 'tick' }, 1_000);
    expect(actions.find((a): a is RunHook => a.type === 'run-hook')).toMatchObject({ hook: 'demote' });
    const heartbeat = actions.find((a): a is Heartbeat => a.type === 'witness-heartbeat');
    expect(heartbeat?.request.role).toBe('fenced');
    const done = step(state, { type: 'hook-exited', hook: 'demote', code: 0 }, 1_100);
    expect(done.state.role).toBe('secondary');
  });

  test('a hello that comes from this node itself (peer.url pointing back at it) is not a live peer', () => {
    const agent = new Agent();
    const hello: PeerHello = { nodeId: self, incarnation: 1, epoch: 0, role: 'primary', wantLease: true };
    const answer = agent.send({ type: 'peer-hello', hello }).find((a): a is Answer => a.type === 'peer-answer');
    expect(answer?.reply.leaseMs).toBeNull();
    expect(agent.state.peerLastHeard).toBeNull();
    expect(agent.state.grantedUntil).toBe(initialAgentState(self, 1, t, 1_000).grantedUntil);
  });
});
