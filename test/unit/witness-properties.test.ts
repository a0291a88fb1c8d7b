/**
 * The witness rules as a model (DESIGN.md, "Testing the contract"): random interleavings of two
 * nodes' heartbeats, claims, duplicates, reordered retries, restarts, revoked tokens and clock
 * steps go through the pure rules (`PureWitness`, which carries decisions out as the handlers
 * do), and every property below is checked on the whole exchange log of each run.
 *
 * Steps are plain data, so a failure shrinks to a short, readable list of what the nodes did.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { ClaimRequest, ClaimResponse, HeartbeatRequest, HeartbeatResponse, Role } from '../../protocol/node.ts';
import type { Caller } from '../../functions/domain/decision.ts';
import { decideHeartbeat, heartbeatResponse, planHeartbeat } from '../../functions/domain/heartbeat.ts';
import { applyUpdates, holds } from '../../functions/domain/plan.ts';
import { defaultSettings, type WitnessSettings } from '../../functions/domain/settings.ts';
import { newSite, type SitePolicy, type SiteState } from '../../functions/domain/site-state.ts';
import { type Outcome, PureWitness } from '../support/pure-witness.ts';

const numRuns = 10_000;
const nodeIds = ['node-a', 'node-b'] as const;
type NodeId = (typeof nodeIds)[number];
const site = { resellerId: 'reseller-1', siteId: 'site-1' };

// ---------------------------------------------------------------------------------------------
// Steps: what the nodes and the clock do, as data.

/** `known`: the epoch the node last heard from the witness; a number: a wrong or stale belief. */
type BelievedEpoch = 'known' | number;
/** Which ids a heartbeat acknowledges, among those its node was last sent (`peer`: the other node's). */
type AckChoice = 'none' | 'all' | 'first' | 'last' | 'peer';
type Edge = 'lease' | 'freshness' | 'startup-window';

type Step =
  | {
      kind: 'heartbeat';
      node: NodeId;
      /** `as-told`: the role the witness last told the node it has. */
      role: Role | 'as-told';
      epoch: BelievedEpoch;
      peerReachable: boolean | null;
      health: number | null;
      acks: AckChoice;
    }
  /** `heartbeatFirst`: as an agent does after a not-fresh refusal, it heartbeats (as told) just before. */
  | { kind: 'claim'; node: NodeId; epoch: BelievedEpoch; reason: ClaimRequest['reason']; heartbeatFirst: boolean }
  /** Sends again, unchanged, the `pick`-th request sent so far (modulo their number). */
  | { kind: 'duplicate'; pick: number }
  /** A retry overtaken by newer requests: `back` seqs lower, or from the previous incarnation. */
  | { kind: 'reordered'; node: NodeId; as: 'heartbeat' | 'claim'; back: number; incarnation: 'same' | 'previous' }
  | { kind: 'restart'; node: NodeId }
  /** A request signed with a token version the witness no longer accepts. */
  | { kind: 'revoked-token'; node: NodeId; as: 'heartbeat' | 'claim' }
  | { kind: 'advance'; ms: number }
  /** Jumps the clock to a boundary of the stored state, plus `offset` ms (never backwards). */
  | { kind: 'to-edge'; edge: Edge; node: NodeId; offset: number };

interface Scenario {
  settings: WitnessSettings;
  policy: SitePolicy;
  start: number;
  steps: Step[];
}

const nodeArb = fc.constantFrom<NodeId>(...nodeIds);
const epochArb: fc.Arbitrary<BelievedEpoch> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<BelievedEpoch>('known') },
  { weight: 1, arbitrary: fc.nat({ max: 4 }) },
);
const asArb = fc.constantFrom<'heartbeat' | 'claim'>('heartbeat', 'claim');

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('heartbeat' as const),
      node: nodeArb,
      role: fc.constantFrom<Role | 'as-told'>('as-told', 'primary', 'secondary', 'fenced'),
      epoch: epochArb,
      peerReachable: fc.constantFrom(true, false, null),
      health: fc.option(fc.constantFrom(100, 80, 50, 49, 0, 90), { freq: 8 }),
      acks: fc.constantFrom<AckChoice>('none', 'all', 'first', 'last', 'peer'),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('claim' as const),
      node: nodeArb,
      epoch: epochArb,
      reason: fc.constantFrom<ClaimRequest['reason']>('peer-lost', 'startup', 'operator'),
      heartbeatFirst: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat({ max: 30 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reordered' as const),
      node: nodeArb,
      as: asArb,
      back: fc.integer({ min: 1, max: 3 }),
      incarnation: fc.constantFrom<'same' | 'previous'>('same', 'previous'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: nodeArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoked-token' as const), node: nodeArb, as: asArb }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 5 }) },
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 8_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 40_000 }) },
        { weight: 2, arbitrary: fc.constantFrom(499, 500, 501, 5_000, 14_999, 15_000, 15_001, 15_500, 15_501) },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('to-edge' as const),
      edge: fc.constantFrom<Edge>('lease', 'lease', 'freshness', 'startup-window'),
      node: nodeArb,
      offset: fc.integer({ min: -2, max: 2 }),
    }),
  },
);

const settingsArb: fc.Arbitrary<WitnessSettings> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(defaultSettings) },
  {
    weight: 1,
    arbitrary: fc.record({
      leaseMs: fc.oneof(fc.constant(15_000), fc.integer({ min: 1, max: 20_000 })),
      skewMarginMs: fc.oneof(fc.constant(500), fc.integer({ min: 0, max: 2_000 })),
      fastHeartbeatMs: fc.constantFrom(5_000, 1_000),
      slowHeartbeatMs: fc.constantFrom(60_000, 30_000),
      freshnessMs: fc.oneof(fc.constant(15_000), fc.integer({ min: 0, max: 20_000 })),
      startupWindowMs: fc.oneof(fc.constant(30_000), fc.integer({ min: 0, max: 40_000 })),
      silenceMs: fc.constant(180_000),
      dueBucketMs: fc.constantFrom(300_000, 60_000, 1),
    }),
  },
);

const policyArb: fc.Arbitrary<SitePolicy> = fc.oneof(
  fc.record({ tieBreak: fc.constant('keep-primary' as const), preferredNode: fc.constant(null), healthThreshold: fc.constantFrom(0, 0, 50) }),
  fc.record({
    tieBreak: fc.constant('preferred-node' as const),
    preferredNode: fc.constantFrom('node-a', null),
    healthThreshold: fc.constantFrom(0, 0, 50),
  }),
  fc.record({ tieBreak: fc.constant('health-weighted' as const), preferredNode: fc.constant(null), healthThreshold: fc.constantFrom(0, 50, 80) }),
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  settings: settingsArb,
  policy: policyArb,
  // Server time is ms since the Unix epoch in production; small values test the arithmetic at 0.
  start: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000 }), fc.constant(1_800_000_000_000)),
  steps: fc.array(stepArb, { maxLength: 25, size: 'max' }),
});

// ---------------------------------------------------------------------------------------------
// The simulation: nodes that keep their own order and belief, a clock, the pure witness.

interface SimNode {
  incarnation: number;
  seq: number;
  /** The epoch and role the witness last answered this node with. */
  epoch: number;
  role: 'primary' | 'secondary';
  /** Command ids in the last heartbeat response this node got. */
  lastSent: string[];
  /** What it last reported of itself: a heartbeat the step does not describe repeats it. */
  health: number | null;
  peerReachable: boolean | null;
}

type Message = { kind: 'heartbeat'; request: HeartbeatRequest } | { kind: 'claim'; request: ClaimRequest };

type Exchange = {
  index: number;
  step: Step;
  now: number;
  node: NodeId;
  caller: Caller;
  /** The state the request was decided on (the object the witness held), and a copy taken before. */
  before: SiteState;
  copyBefore: SiteState;
  after: SiteState;
} & (
  | { kind: 'heartbeat'; request: HeartbeatRequest; outcome: Outcome<HeartbeatResponse> }
  | { kind: 'claim'; request: ClaimRequest; outcome: Outcome<ClaimResponse> }
);

interface Trace {
  settings: WitnessSettings;
  exchanges: Exchange[];
  /** Every state the site passed through, with the server time it was seen at. */
  instants: { now: number; state: SiteState }[];
}

const callerOf = (nodeId: NodeId, tokenVersion = 1): Caller => ({ ...site, nodeId, tokenVersion });

function simulate(scenario: Scenario): Trace {
  const { settings } = scenario;
  // fast-check's records have no prototype; the state must be plain data, as a store returns it.
  const witness = new PureWitness(newSite({ ...site, nodeIds, policy: { ...scenario.policy } }), settings);
  const sim: Record<NodeId, SimNode> = {
    'node-a': { incarnation: 1, seq: 0, epoch: 0, role: 'secondary', lastSent: [], health: null, peerReachable: null },
    'node-b': { incarnation: 1, seq: 0, epoch: 0, role: 'secondary', lastSent: [], health: null, peerReachable: null },
  };
  const sent: { node: NodeId; message: Message }[] = [];
  const exchanges: Exchange[] = [];
  const instants: Trace['instants'] = [{ now: scenario.start, state: witness.state }];
  let now = scenario.start;

  const send = (index: number, step: Step, node: NodeId, message: Message, tokenVersion = 1): void => {
    const before = witness.state;
    const copyBefore = structuredClone(before);
    const caller = callerOf(node, tokenVersion);
    const base = { index, step, now, node, caller, before, copyBefore };
    const self = sim[node];
    if (message.kind === 'heartbeat') {
      const outcome = witness.heartbeat(caller, message.request, now);
      exchanges.push({ ...base, after: witness.state, kind: 'heartbeat', request: message.request, outcome });
      if (outcome.status === 200) {
        self.epoch = outcome.body.epoch;
        self.role = outcome.body.role;
        self.lastSent = outcome.body.commands.map((c) => c.id);
      }
    } else {
      const outcome = witness.claim(caller, message.request, now);
      exchanges.push({ ...base, after: witness.state, kind: 'claim', request: message.request, outcome });
      if (outcome.status === 200) {
        self.epoch = outcome.body.epoch;
        if (outcome.body.granted) self.role = 'primary';
      }
    }
    if (tokenVersion === 1) sent.push({ node, message });
  };

  const heartbeat = (node: NodeId, order: { incarnation: number; seq: number }, step?: Extract<Step, { kind: 'heartbeat' }>): Message => {
    const self = sim[node];
    const other = sim[node === 'node-a' ? 'node-b' : 'node-a'];
    const acks = {
      none: [],
      all: self.lastSent,
      first: self.lastSent.slice(0, 1),
      last: self.lastSent.slice(-1),
      peer: other.lastSent,
    }[step?.acks ?? 'none'];
    const request: HeartbeatRequest = {
      ...order,
      epoch: step === undefined || step.epoch === 'known' ? self.epoch : step.epoch,
      role: step === undefined || step.role === 'as-told' ? self.role : step.role,
    };
    if (step) {
      self.peerReachable = step.peerReachable;
      self.health = step.health;
    }
    if (self.peerReachable !== null) request.peer = { reachable: self.peerReachable };
    if (self.health !== null) request.health = { score: self.health };
    if (acks.length > 0) request.acks = [...acks];
    return { kind: 'heartbeat', request };
  };
  const claim = (node: NodeId, order: { incarnation: number; seq: number }, epoch: BelievedEpoch, reason: ClaimRequest['reason']): Message => ({
    kind: 'claim',
    request: { ...order, epoch: epoch === 'known' ? sim[node].epoch : epoch, reason },
  });
  const next = (node: NodeId): { incarnation: number; seq: number } => ({ incarnation: sim[node].incarnation, seq: ++sim[node].seq });

  for (const [index, step] of scenario.steps.entries()) {
    switch (step.kind) {
      case 'heartbeat':
        send(index, step, step.node, heartbeat(step.node, next(step.node), step));
        break;
      case 'claim':
        if (step.heartbeatFirst) send(index, step, step.node, heartbeat(step.node, next(step.node)));
        send(index, step, step.node, claim(step.node, next(step.node), step.epoch, step.reason));
        break;
      case 'duplicate': {
        const again = sent[step.pick % Math.max(1, sent.length)];
        if (again) send(index, step, again.node, again.message);
        break;
      }
      case 'reordered': {
        const self = sim[step.node];
        const order =
          step.incarnation === 'same'
            ? { incarnation: self.incarnation, seq: Math.max(0, self.seq - step.back) }
            : { incarnation: Math.max(0, self.incarnation - 1), seq: self.seq + step.back };
        send(index, step, step.node, step.as === 'heartbeat' ? heartbeat(step.node, order) : claim(step.node, order, 'known', 'peer-lost'));
        break;
      }
      case 'restart':
        // A restarted agent comes up as secondary, with a new incarnation and what it last knew.
        sim[step.node] = { ...sim[step.node], incarnation: sim[step.node].incarnation + 1, seq: 0, role: 'secondary', lastSent: [] };
        break;
      case 'revoked-token': {
        const order = next(step.node);
        const message = step.as === 'heartbeat' ? heartbeat(step.node, order) : claim(step.node, order, 'known', 'operator');
        send(index, step, step.node, message, 2);
        break;
      }
      case 'advance':
        now += step.ms;
        break;
      case 'to-edge': {
        const state = witness.state;
        const at = {
          lease: state.leaseExpiresAt + settings.skewMarginMs,
          freshness: (state.nodes[step.node]?.lastSeenAt ?? -Infinity) + settings.freshnessMs,
          'startup-window': (state.firstContactAt ?? -Infinity) + settings.startupWindowMs,
        }[step.edge];
        now = Math.max(now, at + step.offset);
        break;
      }
    }
    instants.push({ now, state: witness.state });
  }
  return { settings, exchanges, instants };
}

/** What a failure message says about the exchange it is about. */
function explain(x: Exchange): string {
  return `step ${x.index} at ${x.now}: ${x.kind} from ${x.node} ${JSON.stringify(x.request)} → ${JSON.stringify(x.outcome)}`;
}

const leaseEarned = (x: Exchange): number | null => {
  if (x.outcome.status !== 200) return null;
  if (x.kind === 'heartbeat') return x.outcome.body.leaseMs;
  const body = x.outcome.body;
  return body.granted ? body.leaseMs : null;
};

const isRefusal = (x: Exchange): boolean =>
  x.outcome.status !== 200 || (x.kind === 'claim' && !x.outcome.body.granted);

const newer = (a: { incarnation: number; seq: number }, b: { incarnation: number; seq: number }): boolean =>
  a.incarnation > b.incarnation || (a.incarnation === b.incarnation && a.seq > b.seq);

const property = (check: (trace: Trace) => void) =>
  fc.property(scenarioArb, (scenario) => {
    check(simulate(scenario));
  });

// ---------------------------------------------------------------------------------------------

test('W1: no two nodes ever hold a witness lease at the same server instant, and a stored lease never outlasts the request that earned it', () => {
  fc.assert(
    property(({ settings, exchanges }) => {
      const leases: { node: NodeId; from: number; until: number; at: string }[] = [];
      for (const x of exchanges) {
        const earned = leaseEarned(x);
        if (earned !== null) {
          expect(earned, explain(x)).toBe(settings.leaseMs);
          const lease = { node: x.node, from: x.now, until: x.now + earned, at: explain(x) };
          for (const other of leases.filter((l) => l.node !== x.node)) {
            const [first, second] = other.from <= lease.from ? [other, lease] : [lease, other];
            expect(
              second.from > first.until + settings.skewMarginMs,
              `leases overlap (with the skew margin ${settings.skewMarginMs}):\n  ${first.at}\n  ${second.at}`,
            ).toBe(true);
          }
          leases.push(lease);
          expect(x.after.primary, `${explain(x)}: a lease went to a node that is not the primary`).toBe(x.node);
          expect(x.after.leaseExpiresAt, explain(x)).toBe(x.now + earned);
        } else {
          expect(x.after.leaseExpiresAt, `${explain(x)}: the stored lease changed, but no lease was earned`).toBe(x.before.leaseExpiresAt);
        }
      }
    }),
    { numRuns },
  );
});

test('W2: the epoch never falls, rises by exactly one at every change of primary and only then, and every grant, answer and command carries its epoch', () => {
  fc.assert(
    property(({ exchanges }) => {
      for (const x of exchanges) {
        const { before, after } = x;
        if (after.primary === before.primary) expect(after.epoch, `${explain(x)}: epoch changed without a change of primary`).toBe(before.epoch);
        else expect(after.epoch, `${explain(x)}: primary changed, epoch did not rise by one`).toBe(before.epoch + 1);

        if (x.outcome.status === 200) {
          expect(x.outcome.body.epoch, `${explain(x)}: answer carries another epoch than the state's`).toBe(after.epoch);
          if (x.kind === 'heartbeat') {
            for (const c of x.outcome.body.commands) {
              expect(c.epoch, `${explain(x)}: command from a future epoch`).toBeLessThanOrEqual(after.epoch);
            }
          } else {
            const body = x.outcome.body;
            if (!body.granted) expect(body.primary, explain(x)).toBe(after.primary);
          }
        }
        for (const id of nodeIds) {
          for (const [commandId, c] of Object.entries(after.nodes[id]!.commands)) {
            if (isDeepStrictEqual(before.nodes[id]!.commands[commandId], c)) continue;
            expect(c.epoch, `${explain(x)}: command ${commandId} issued to ${id} with another epoch than the state's`).toBe(after.epoch);
            expect(commandId, explain(x)).toBe(`${c.epoch}-${c.type}-${id}`);
          }
        }
        if (!isDeepStrictEqual(after.decision, before.decision)) {
          expect(after.decision?.epoch, `${explain(x)}: decision record with another epoch than the state's`).toBe(after.epoch);
        }
      }
    }),
    { numRuns },
  );
});

test('W4: a duplicate or overtaken request is answered 409 stale-request, and every refused or rejected request leaves the state exactly as it was', () => {
  fc.assert(
    property(({ exchanges }) => {
      const lastApplied: Record<NodeId, { incarnation: number; seq: number }> = {
        'node-a': { incarnation: 0, seq: 0 },
        'node-b': { incarnation: 0, seq: 0 },
      };
      for (const x of exchanges) {
        expect(isDeepStrictEqual(x.before, x.copyBefore), `${explain(x)}: deciding mutated the state it read`).toBe(true);
        if (x.caller.tokenVersion !== 1) {
          expect(x.outcome, explain(x)).toEqual({ status: 401, code: 'token-revoked' });
        } else if (!newer(x.request, lastApplied[x.node])) {
          expect(x.outcome, `${explain(x)}: not newer than the last applied ${JSON.stringify(lastApplied[x.node])}`).toEqual({
            status: 409,
            code: 'stale-request',
          });
        } else {
          expect(x.outcome.status, explain(x)).toBe(200);
        }
        if (isRefusal(x)) {
          expect(isDeepStrictEqual(x.after, x.copyBefore), `${explain(x)}: a refused request changed the state`).toBe(true);
        } else {
          const { incarnation, seq } = x.request;
          lastApplied[x.node] = { incarnation, seq };
          expect(x.after.nodes[x.node], explain(x)).toMatchObject({ incarnation, seq, lastSeenAt: x.now });
          expect(x.after.rev, explain(x)).toBe(x.before.rev + 1);
        }
      }
    }),
    { numRuns },
  );
});

interface Probe {
  /** Which state of the run (modulo their number), and how long after it was seen. */
  at: number;
  later: number;
  node: NodeId;
  role: Role;
  epoch: 'current' | 'reported' | number;
  order: 'next' | 'restart' | 'same' | 'previous-incarnation';
  tokenVersion: number;
  peerReachable: boolean | null;
  health: number | null;
  /** Bit i acknowledges the node's i-th pending command; bit 4 an id the witness never issued. */
  ackMask: number;
}

const probeArb: fc.Arbitrary<Probe> = fc.record({
  at: fc.nat({ max: 30 }),
  later: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40_000 })),
  node: nodeArb,
  role: fc.constantFrom<Role>('primary', 'secondary', 'fenced'),
  epoch: fc.oneof(fc.constantFrom<'current' | 'reported'>('current', 'reported'), fc.nat({ max: 4 })),
  order: fc.constantFrom<Probe['order']>('next', 'next', 'restart', 'same', 'previous-incarnation'),
  tokenVersion: fc.constantFrom(1, 1, 1, 2),
  peerReachable: fc.constantFrom(true, false, null),
  health: fc.option(fc.nat({ max: 100 })),
  ackMask: fc.nat({ max: 31 }),
});

function probeRequest(state: SiteState, probe: Probe): HeartbeatRequest {
  const node = state.nodes[probe.node]!;
  const order = {
    next: { incarnation: node.incarnation, seq: node.seq + 1 },
    restart: { incarnation: node.incarnation + 1, seq: 0 },
    same: { incarnation: node.incarnation, seq: node.seq },
    'previous-incarnation': { incarnation: Math.max(0, node.incarnation - 1), seq: node.seq + 1 },
  }[probe.order];
  const pending = Object.keys(node.commands).sort();
  const acks = [...pending, '9-resync-never-issued'].filter((_, i) => (probe.ackMask >> i) & 1);
  const epoch = probe.epoch === 'current' ? state.epoch : probe.epoch === 'reported' ? (node.reportedEpoch ?? 0) : probe.epoch;
  const request: HeartbeatRequest = { ...order, epoch, role: probe.role };
  if (probe.peerReachable !== null) request.peer = { reachable: probe.peerReachable };
  if (probe.health !== null) request.health = { score: probe.health };
  if (acks.length > 0) request.acks = acks.slice(0, 16);
  return request;
}

test('fast path: whenever the no-read heartbeat plan holds on the stored state, deciding on a read writes the same state and answers the same', () => {
  let fastHeld = 0;
  let probes = 0;
  fc.assert(
    fc.property(scenarioArb, fc.array(probeArb, { minLength: 1, maxLength: 12 }), (scenario, batch) => {
      const { settings, instants } = simulate(scenario);
      for (const probe of batch) {
        const seen = instants[probe.at % instants.length]!;
        const { state } = seen;
        const now = seen.now + probe.later;
        const caller = callerOf(probe.node, probe.tokenVersion);
        const request = probeRequest(state, probe);
        const what = `${probe.node} ${JSON.stringify(request)} at ${now} on ${JSON.stringify(state)}`;
        const fast = planHeartbeat(caller, request, now, settings);
        const decision = decideHeartbeat(state, caller, request, now, settings);
        probes++;
        if (holds(fast.guard, state)) {
          fastHeld++;
          expect(decision.kind, what).toBe('write');
          if (decision.kind !== 'write') return;
          expect(holds(decision.plan.guard, state), what).toBe(true);
          const viaFast = applyUpdates(state, fast.updates);
          const viaRead = applyUpdates(state, decision.plan.updates);
          expect(viaRead, what).toEqual(viaFast);
          // What the handler answers after a successful fast write, against what the rules answer.
          expect(decision.respond(viaRead), what).toEqual(heartbeatResponse(viaFast, caller, request, settings, request.role === 'primary'));
        } else if (decision.kind === 'write') {
          // The slow way must settle at once on the state it read: its own guard holds there.
          expect(holds(decision.plan.guard, state), what).toBe(true);
          expect(decision.plan.updates, what).not.toContainEqual(expect.objectContaining({ path: ['leaseExpiresAt'] }));
        }
      }
    }),
    { numRuns },
  );
  // The property says something only if the fast path is actually taken often.
  expect(fastHeld / probes).toBeGreaterThan(0.2);
});

test('commands: a command is delivered to its node in every heartbeat answer until that node acknowledges it (or a later grant supersedes it), and not after', () => {
  fc.assert(
    property(({ exchanges }) => {
      for (const x of exchanges) {
        const { before, after } = x;
        const granted = x.kind === 'claim' && x.outcome.status === 200 && x.outcome.body.granted;
        for (const id of nodeIds) {
          const commands = after.nodes[id]!.commands;
          for (const [commandId, c] of Object.entries(before.nodes[id]!.commands)) {
            if (Object.hasOwn(commands, commandId)) continue;
            const acked = x.kind === 'heartbeat' && x.node === id && x.outcome.status === 200 && (x.request.acks ?? []).includes(commandId);
            const superseded =
              granted &&
              after.epoch > c.epoch &&
              (id === x.node || id === before.primary) &&
              Object.values(commands).some((newer) => newer.epoch === after.epoch);
            expect(acked || superseded, `${explain(x)}: ${commandId} for ${id} vanished unacknowledged`).toBe(true);
          }
        }
        if (x.kind === 'heartbeat' && x.outcome.status === 200) {
          // An acknowledged command is gone, unless this very heartbeat earned it again (acting as primary).
          for (const id of x.request.acks ?? []) {
            const again = after.nodes[x.node]!.commands[id];
            if (again) expect(again, `${explain(x)}: ${id} acknowledged but kept`).toMatchObject({ type: 'demote', issuedAt: x.now });
            if (again) expect(x.request.role, explain(x)).toBe('primary');
          }
          const pending = Object.values(after.nodes[x.node]!.commands);
          expect(x.outcome.body.commands, `${explain(x)}: the answer must carry every pending command`).toEqual(
            expect.arrayContaining(pending),
          );
          expect(x.outcome.body.commands.length, explain(x)).toBe(pending.length);
        }
      }
    }),
    { numRuns },
  );
});

test('commands: a node acting as primary while another node is the witness primary is told to demote at the current epoch, and the primary never is', () => {
  let demotes = 0;
  fc.assert(
    property(({ exchanges }) => {
      for (const x of exchanges) {
        const { before, after } = x;
        if (x.kind === 'heartbeat' && x.outcome.status === 200 && x.request.role === 'primary' && before.primary !== null && before.primary !== x.node) {
          demotes++;
          const body = x.outcome.body;
          expect(body.commands, explain(x)).toContainEqual(expect.objectContaining({ type: 'demote', epoch: before.epoch }));
          expect(body, explain(x)).toMatchObject({ epoch: before.epoch, primary: before.primary, role: 'secondary', leaseMs: null });
          expect(after.leaseExpiresAt, explain(x)).toBe(before.leaseExpiresAt);
        }
        if (after.primary !== null) {
          const own = Object.values(after.nodes[after.primary]!.commands);
          expect(own.filter((c) => c.type === 'demote' && c.epoch >= after.epoch), `${explain(x)}: the primary is told to demote`).toEqual([]);
        }
      }
    }),
    { numRuns },
  );
  expect(demotes).toBeGreaterThan(100);
});
