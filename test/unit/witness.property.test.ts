/**
 * The witness rules as a model (DESIGN.md, "Testing the contract"): random interleavings of two
 * nodes' heartbeats, claims, duplicates, reordered retries, restarts, revoked tokens, clock steps
 * and an operator's survivor-mode calls (force-primary, readmit) go through the pure rules
 * (`PureWitness`, which carries decisions out as the handlers do), and every property below is
 * checked on the whole exchange log of each run.
 *
 * Steps are plain data, so a failure shrinks to a short, readable list of what the nodes did.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { ClaimRequest, ClaimResponse, Command, HeartbeatRequest, HeartbeatResponse, Role } from '../../protocol/node.ts';
import { decideClaim } from '../../functions/domain/claim.ts';
import type { Caller } from '../../functions/domain/decision.ts';
import { decideHeartbeat, heartbeatResponse, planHeartbeat } from '../../functions/domain/heartbeat.ts';
import { applyUpdates, holds } from '../../functions/domain/plan.ts';
import { defaultSettings, type WitnessSettings } from '../../functions/domain/settings.ts';
import { activeExclusion, newSite, type SitePolicy, type SiteState } from '../../functions/domain/site-state.ts';
import { forceConfirmation } from '../../functions/domain/survivor.ts';
import { type OperatorOutcome, type Outcome, PureWitness } from '../support/pure-witness.ts';

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
/** `exclusion`: when the node would be excluded (W5), unheard for exclusionMs beyond the cadence it was asked for. */
type Edge = 'lease' | 'freshness' | 'startup-window' | 'exclusion';

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
  /** What an agent does when it loses its peer: reports it unreachable, then claims. */
  | { kind: 'take-over'; node: NodeId }
  /** Sends again, unchanged, the `pick`-th request sent so far (modulo their number). */
  | { kind: 'duplicate'; pick: number }
  /** A retry overtaken by newer requests: `back` seqs lower, or from the previous incarnation. */
  | { kind: 'reordered'; node: NodeId; as: 'heartbeat' | 'claim'; back: number; incarnation: 'same' | 'previous' }
  | { kind: 'restart'; node: NodeId }
  /** A request signed with a token version the witness no longer accepts. */
  | { kind: 'revoked-token'; node: NodeId; as: 'heartbeat' | 'claim' }
  | { kind: 'advance'; ms: number }
  /** Jumps the clock to a boundary of the stored state, plus `offset` ms (never backwards). */
  | { kind: 'to-edge'; edge: Edge; node: NodeId; offset: number }
  /**
   * An operator forces `node` back as primary (survivor mode), with the right words or not; `wait`:
   * after the survivor has been silent as long as the witness asks (as its refusal says), if later.
   */
  | { kind: 'force'; node: NodeId; confirm: 'right' | 'wrong'; wait: boolean }
  /** An operator asks to readmit `node` (survivor mode). */
  | { kind: 'readmit'; node: NodeId };

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
  {
    // What an agent does most: heartbeat as told, acknowledging what it was sent; a primary that lost
    // its peer renews alone like this (W5's survivor), and reports its peer back the same way.
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('heartbeat' as const),
      node: nodeArb,
      role: fc.constant<Role | 'as-told'>('as-told'),
      epoch: fc.constant<BelievedEpoch>('known'),
      peerReachable: fc.constantFrom(false, false, false, true),
      health: fc.constant(90),
      acks: fc.constantFrom<AckChoice>('all', 'all', 'none'),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('take-over' as const), node: nodeArb }) },
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
        // Long silences: a node dead for a minute or more is excluded (W5).
        { weight: 1, arbitrary: fc.integer({ min: 30_000, max: 200_000 }) },
        { weight: 2, arbitrary: fc.constantFrom(499, 500, 501, 5_000, 14_999, 15_000, 15_001, 15_500, 15_501) },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('to-edge' as const),
      edge: fc.constantFrom<Edge>('lease', 'lease', 'freshness', 'startup-window', 'exclusion', 'exclusion'),
      node: nodeArb,
      offset: fc.integer({ min: -2, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('force' as const),
      node: nodeArb,
      confirm: fc.constantFrom<'right' | 'wrong'>('right', 'right', 'wrong'),
      wait: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('readmit' as const), node: nodeArb }) },
);

/** A pending command as its node is sent it: without the witness's own marks (heartbeat.ts). */
const onTheWire = ({ id, type, epoch, issuedAt, reason }: Command): Command => ({ id, type, epoch, issuedAt, reason });

const settingsArb: fc.Arbitrary<WitnessSettings> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(defaultSettings) },
  // A bounded standalone lease (an operator who prefers automatic takeover).
  { weight: 1, arbitrary: fc.constantFrom(30_000, 60_000).map((standaloneLeaseMs) => ({ ...defaultSettings, standaloneLeaseMs })) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        leaseMs: fc.oneof(fc.constant(15_000), fc.integer({ min: 1, max: 20_000 })),
        skewMarginMs: fc.oneof(fc.constant(500), fc.integer({ min: 0, max: 2_000 })),
        fastHeartbeatMs: fc.constantFrom(5_000, 1_000),
        slowHeartbeatMs: fc.constantFrom(60_000, 30_000),
        freshnessMs: fc.oneof(fc.constant(15_000), fc.integer({ min: 0, max: 20_000 })),
        startupWindowMs: fc.oneof(fc.constant(30_000), fc.integer({ min: 0, max: 40_000 })),
        silenceMs: fc.constant(180_000),
        dueBucketMs: fc.constantFrom(300_000, 60_000, 1),
        // Beyond the lease, as the configuration requires: `exclusionMs` at least one lease, a bounded
        // standalone lease at least two (settings-env.ts). A bound under the ordinary lease would store
        // less than the answer's `leaseMs`, which older agents count (W1).
        exclusionMs: fc.oneof(fc.constant(30_000), fc.integer({ min: 0, max: 40_000 })),
        standaloneLeaseMs: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 60_000 })),
        // At least two fast heartbeats (settings-env.ts): the marks it sets must never touch a decision.
        commandAckMs: fc.oneof(fc.constant(30_000), fc.integer({ min: 0, max: 20_000 })),
      })
      .map((s) => ({
        ...s,
        commandAckMs: 2 * s.fastHeartbeatMs + s.commandAckMs,
        exclusionMs: s.leaseMs + s.exclusionMs,
        standaloneLeaseMs: s.standaloneLeaseMs === null ? null : 2 * s.leaseMs + s.standaloneLeaseMs,
      })),
  },
);

const policyArb: fc.Arbitrary<SitePolicy> = fc.oneof(
  fc.record({
    tieBreak: fc.constant('keep-primary' as const),
    preferredNode: fc.constant(null),
    healthThreshold: fc.constantFrom(0, 0, 50),
  }),
  fc.record({
    tieBreak: fc.constant('preferred-node' as const),
    preferredNode: fc.constantFrom('node-a', null),
    healthThreshold: fc.constantFrom(0, 0, 50),
  }),
  fc.record({
    tieBreak: fc.constant('health-weighted' as const),
    preferredNode: fc.constant(null),
    healthThreshold: fc.constantFrom(0, 50, 80),
  }),
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  settings: settingsArb,
  policy: policyArb,
  // Server time is ms since the Unix epoch in production; small values test the arithmetic at 0.
  start: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000 }), fc.constant(1_800_000_000_000)),
  steps: fc.array(stepArb, { maxLength: 30, size: 'max' }),
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

/** An operator's call (survivor mode), between the nodes' requests. */
interface Operation {
  kind: 'force' | 'readmit';
  index: number;
  now: number;
  node: NodeId;
  before: SiteState;
  after: SiteState;
  outcome: OperatorOutcome;
}

interface Trace {
  settings: WitnessSettings;
  exchanges: Exchange[];
  /** The nodes' exchanges and the operator's calls, in the order they happened. */
  events: (Exchange | Operation)[];
  /** Every state the site passed through, with the server time it was seen at. */
  instants: { now: number; state: SiteState }[];
}

const callerOf = (nodeId: NodeId, tokenVersion = 1): Caller => ({ ...site, nodeId, tokenVersion });
const otherOf = (node: NodeId): NodeId => (node === 'node-a' ? 'node-b' : 'node-a');

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
  const events: Trace['events'] = [];
  const instants: Trace['instants'] = [{ now: scenario.start, state: witness.state }];
  let now = scenario.start;

  const send = (index: number, step: Step, node: NodeId, message: Message, tokenVersion = 1): void => {
    const before = witness.state;
    const copyBefore = structuredClone(before);
    const caller = callerOf(node, tokenVersion);
    const base = { index, step, now, node, caller, before, copyBefore };
    const self = sim[node];
    let exchange: Exchange;
    if (message.kind === 'heartbeat') {
      const outcome = witness.heartbeat(caller, message.request, now);
      exchange = { ...base, after: witness.state, kind: 'heartbeat', request: message.request, outcome };
      if (outcome.status === 200) {
        self.epoch = outcome.body.epoch;
        self.role = outcome.body.role;
        self.lastSent = outcome.body.commands.map((c) => c.id);
      }
    } else {
      const outcome = witness.claim(caller, message.request, now);
      exchange = { ...base, after: witness.state, kind: 'claim', request: message.request, outcome };
      if (outcome.status === 200) {
        self.epoch = outcome.body.epoch;
        if (outcome.body.granted) self.role = 'primary';
      }
    }
    exchanges.push(exchange);
    events.push(exchange);
    if (tokenVersion === 1) sent.push({ node, message });
  };

  const operate = (index: number, kind: Operation['kind'], node: NodeId, call: () => OperatorOutcome): void => {
    const before = witness.state;
    const outcome = call();
    events.push({ kind, index, now, node, before, after: witness.state, outcome });
  };

  const heartbeat = (node: NodeId, order: { incarnation: number; seq: number }, step?: Extract<Step, { kind: 'heartbeat' }>): Message => {
    const self = sim[node];
    const other = sim[otherOf(node)];
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
  const claim = (
    node: NodeId,
    order: { incarnation: number; seq: number },
    epoch: BelievedEpoch,
    reason: ClaimRequest['reason'],
  ): Message => ({
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
      case 'take-over': {
        const report = {
          kind: 'heartbeat',
          node: step.node,
          role: 'as-told',
          epoch: 'known',
          peerReachable: false,
          health: 90,
          acks: 'all',
        } as const;
        send(index, step, step.node, heartbeat(step.node, next(step.node), report));
        send(index, step, step.node, claim(step.node, next(step.node), 'known', 'peer-lost'));
        break;
      }
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
        const node = state.nodes[step.node];
        const heard = node?.lastSeenAt ?? state.firstContactAt ?? -Infinity;
        const cadence = node?.peerReachable === true ? settings.slowHeartbeatMs : settings.fastHeartbeatMs;
        const at = {
          lease: state.leaseExpiresAt + settings.skewMarginMs,
          freshness: (node?.lastSeenAt ?? -Infinity) + settings.freshnessMs,
          'startup-window': (state.firstContactAt ?? -Infinity) + settings.startupWindowMs,
          exclusion: heard + settings.exclusionMs + cadence,
        }[step.edge];
        now = Math.max(now, at + step.offset);
        break;
      }
      case 'force': {
        const survivor = witness.state.primary === null ? undefined : witness.state.nodes[witness.state.primary];
        if (step.wait && typeof survivor?.lastSeenAt === 'number')
          now = Math.max(now, survivor.lastSeenAt + settings.slowHeartbeatMs + settings.exclusionMs);
        const confirm = step.confirm === 'right' ? forceConfirmation(witness.state.primary ?? '') : `${step.node} is powered off`;
        operate(index, 'force', step.node, () => witness.forcePrimary(step.node, { confirm, reason: 'model' }, 'key-1', now));
        break;
      }
      case 'readmit':
        operate(index, 'readmit', step.node, () => witness.readmit(step.node, 'key-1', now));
        break;
    }
    instants.push({ now, state: witness.state });
  }
  return { settings, exchanges, events, instants };
}

const isOperation = (x: Exchange | Operation): x is Operation => x.kind === 'force' || x.kind === 'readmit';

/** What a failure message says about the exchange it is about. */
function explain(x: Exchange | Operation): string {
  if (isOperation(x)) return `step ${x.index} at ${x.now}: operator ${x.kind} ${x.node} → ${JSON.stringify(x.outcome)}`;
  return `step ${x.index} at ${x.now}: ${x.kind} from ${x.node} ${JSON.stringify(x.request)} → ${JSON.stringify(x.outcome)}`;
}

const leaseEarned = (x: Exchange): number | null => {
  if (x.outcome.status !== 200) return null;
  if (x.kind === 'heartbeat') return x.outcome.body.leaseMs;
  const body = x.outcome.body;
  return body.granted ? body.leaseMs : null;
};

const isRefusal = (x: Exchange): boolean => x.outcome.status !== 200 || (x.kind === 'claim' && !x.outcome.body.granted);

const newer = (a: { incarnation: number; seq: number }, b: { incarnation: number; seq: number }): boolean =>
  a.incarnation > b.incarnation || (a.incarnation === b.incarnation && a.seq > b.seq);

const property = (check: (trace: Trace) => void) =>
  fc.property(scenarioArb, (scenario) => {
    check(simulate(scenario));
  });

// ---------------------------------------------------------------------------------------------

/** A lease as its holder counts it: from the answer that earned it until `until` (Infinity: standalone, not ended yet). */
interface Hold {
  node: NodeId;
  from: number;
  until: number;
  at: string;
  standalone?: true;
}

/**
 * The leases each node may count on, from the answers it got (A2, A5): an ordinary lease for
 * `leaseMs` after the answer; a bounded standalone one for its `standalone.leaseMs`; a standalone
 * one without end until the node learns that it ended: an `end-standalone` or `demote` command, a
 * higher epoch or another primary in an answer, or its own report that it no longer acts as
 * primary, or a claim of its own (it claims only as secondary, running nothing: claim.ts takes a
 * survivor's claim for the acknowledgement of a pending end). A bounded standalone lease ends on an
 * `end-standalone` command too: the agent then counts
 * the ordinary lease of the answer that carried it (survivor-design.md, A5). An operator's force
 * ends every other node's leases at once: the operator declared that node powered off, which only
 * a person can know (DESIGN.md, survivor mode).
 */
function holdsOf(events: Trace['events'], settings: WitnessSettings): Hold[] {
  const done: Hold[] = [];
  const open = new Map<NodeId, { from: number; epoch: number; at: string }>();
  const end = (node: NodeId, at: number): void => {
    const standalone = open.get(node);
    if (standalone) done.push({ node, from: standalone.from, until: at, at: standalone.at, standalone: true });
    open.delete(node);
    for (const hold of done) if (hold.node === node && hold.standalone && hold.until > at) hold.until = at;
  };
  for (const x of events) {
    if (isOperation(x)) {
      if (x.kind === 'force' && x.outcome.status === 200 && x.outcome.written) {
        // Declared off, so off before the force by the skew margin too: the forced node's lease starts at once.
        const off = x.now - settings.skewMarginMs - 1;
        for (const node of nodeIds.filter((id) => id !== x.node)) {
          end(node, off);
          for (const hold of done) if (hold.node === node && hold.until > off) hold.until = off;
        }
      }
      continue;
    }
    if (x.outcome.status !== 200) continue;
    const standalone = open.get(x.node);
    if (x.kind === 'heartbeat') {
      const body = x.outcome.body;
      // A node that reports it is not running as primary had stopped before its report: its hold
      // ends the instant before, so that a grant decided on that report, at the same instant, is
      // not counted as overlapping it (with a skew margin of 0 the two would otherwise touch).
      if (standalone && x.request.role !== 'primary') end(x.node, x.now - 1);
      if (standalone && (body.epoch > standalone.epoch || body.primary !== x.node)) end(x.node, x.now);
      if (body.commands.some((c) => c.type === 'end-standalone' || c.type === 'demote')) end(x.node, x.now);
    } else {
      // A node claims only as secondary (A4, A5): whatever standalone lease it was told, it counts on it no more.
      end(x.node, x.now);
    }
    const earned = leaseEarned(x);
    if (earned === null) continue;
    done.push({ node: x.node, from: x.now, until: x.now + earned, at: explain(x) });
    const body = x.outcome.body;
    const terms = 'standalone' in body ? body.standalone : null;
    if (terms?.leaseMs === null && !open.has(x.node)) open.set(x.node, { from: x.now, epoch: body.epoch, at: explain(x) });
    if (terms && terms.leaseMs !== null)
      done.push({ node: x.node, from: x.now, until: x.now + terms.leaseMs, at: explain(x), standalone: true });
  }
  for (const [node, standalone] of open) done.push({ node, from: standalone.from, until: Infinity, at: standalone.at, standalone: true });
  return done;
}

/** W1: the holds of two nodes never touch, the skew margin between them. */
function expectOneHolderAtATime(events: Trace['events'], settings: WitnessSettings): void {
  const leases = holdsOf(events, settings);
  for (const [i, first] of leases.entries()) {
    for (const second of leases.slice(i + 1).filter((l) => l.node !== first.node)) {
      const [earlier, later] = first.from <= second.from ? [first, second] : [second, first];
      expect(
        later.from > earlier.until + settings.skewMarginMs,
        `leases overlap (with the skew margin ${settings.skewMarginMs}):\n  ${earlier.at} (until ${earlier.until})\n  ${later.at}`,
      ).toBe(true);
    }
  }
}

test('W1: no two nodes ever hold a witness lease at the same server instant, standalone leases (W5) included, and the stored lease is the one the answer implies', () => {
  fc.assert(
    property(({ settings, exchanges, events }) => {
      expectOneHolderAtATime(events, settings);
      for (const x of exchanges) {
        const earned = leaseEarned(x);
        if (earned !== null) {
          expect(earned, explain(x)).toBe(settings.leaseMs);
          expect(x.after.primary, `${explain(x)}: a lease went to a node that is not the primary`).toBe(x.node);
          // Stored: the ordinary lease, or the standalone bound while an exclusion stands (an unbounded one needs no end).
          const stored = x.after.exclusion && settings.standaloneLeaseMs !== null ? settings.standaloneLeaseMs : settings.leaseMs;
          expect(x.after.leaseExpiresAt, explain(x)).toBe(x.now + stored);
        } else {
          expect(x.after.leaseExpiresAt, `${explain(x)}: the stored lease changed, but no lease was earned`).toBe(x.before.leaseExpiresAt);
        }
      }
    }),
    { numRuns },
  );
});

// Found by the W1 property on a random run: a survivor restarted at the instant its readmitted
// peer claims, its standalone hold ended by its own report (not primary) at that same instant,
// skew margin 0. The witness was right (it granted on that report); the check counted the hold
// up to and including the report's instant.
test('W1, replayed: a survivor that reports itself secondary at the instant its readmitted peer is granted does not overlap it', () => {
  fc.assert(
    property(({ settings, events }) => {
      expectOneHolderAtATime(events, settings);
    }),
    { seed: -1791958466, path: '1540:1:1:0:0:0:2:0:1:3:3:3:3:12:10:7:7:9:7:18:18:22:25:26:33:34:34:39:39:40:43:44', endOnFailure: true },
  );
});

test("W2: the epoch never falls, rises by exactly one at every change of primary and only then (an operator's force included), and every grant, answer and command carries its epoch", () => {
  fc.assert(
    property(({ events, settings }) => {
      for (const x of events) {
        const { before, after } = x;
        if (after.primary === before.primary)
          expect(after.epoch, `${explain(x)}: epoch changed without a change of primary`).toBe(before.epoch);
        else expect(after.epoch, `${explain(x)}: primary changed, epoch did not rise by one`).toBe(before.epoch + 1);

        if (isOperation(x)) {
          // Written only while the site is in survivor mode; a force names the excluded node.
          if (x.outcome.status === 200 && x.outcome.written) expect(activeExclusion(before, x.now, settings), explain(x)).toBeDefined();
          if (x.kind === 'force' && x.outcome.status === 200) expect(after.primary, explain(x)).toBe(x.node);
        } else if (x.outcome.status === 200) {
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
            // The witness's own marks (delivered, overdue: commandAckMs) issue nothing.
            const was = before.nodes[id]!.commands[commandId];
            if (was && isDeepStrictEqual(onTheWire(was), onTheWire(c))) continue;
            expect(c.epoch, `${explain(x)}: command ${commandId} issued to ${id} with another epoch than the state's`).toBe(after.epoch);
            // end-standalone is named for its exclusion (one id each), the others for their epoch.
            const named =
              c.type === 'end-standalone' ? `end-standalone-${String(after.exclusion?.at)}-${id}` : `${c.epoch}-${c.type}-${id}`;
            expect(commandId, explain(x)).toBe(named);
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
  /**
   * What the handler plans from (`known`, its host's last sight of the site): the state itself, an
   * earlier state of the run (`back` states before, a stale cache), or none (no cache, and no read:
   * not for a primary reporting its peer unreachable, which the handler reads first).
   */
  known: 'state' | 'stale' | 'none';
  back: number;
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
  at: fc.nat({ max: 40 }),
  later: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40_000 })),
  known: fc.constantFrom<Probe['known']>('state', 'stale', 'stale', 'none'),
  back: fc.integer({ min: 1, max: 12 }),
  node: nodeArb,
  role: fc.constantFrom<Role>('primary', 'primary', 'secondary', 'fenced'),
  epoch: fc.oneof(fc.constantFrom<'current' | 'reported'>('current', 'current', 'reported'), fc.nat({ max: 4 })),
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

test('fast path: whenever the heartbeat plan made from the state in hand (the state itself, a stale sight of it, or none) holds on the stored state, deciding on a read writes the same state and answers the same', () => {
  const tally = { probes: 0, fastHeld: 0, staleHeld: 0, staleMissed: 0, survivorHeld: 0 };
  fc.assert(
    fc.property(scenarioArb, fc.array(probeArb, { minLength: 1, maxLength: 12 }), (scenario, batch) => {
      const { settings, instants } = simulate(scenario);
      for (const probe of batch) {
        const index = probe.at % instants.length;
        const seen = instants[index]!;
        const { state } = seen;
        const now = seen.now + probe.later;
        const caller = callerOf(probe.node, probe.tokenVersion);
        const request = probeRequest(state, probe);
        // As the handler does: a report of an unreachable peer is never planned blind.
        const mustRead = request.peer?.reachable === false;
        const known =
          probe.known === 'state' || (probe.known === 'none' && mustRead)
            ? state
            : probe.known === 'stale'
              ? instants[Math.max(0, index - probe.back)]!.state
              : undefined;
        const what = `${probe.node} ${JSON.stringify(request)} at ${now} on ${JSON.stringify(state)}\n  planned from ${known === state ? 'the state itself' : JSON.stringify(known)}`;
        const fast = planHeartbeat(caller, request, now, settings, known);
        const decision = decideHeartbeat(state, caller, request, now, settings);
        tally.probes++;
        if (known === state) {
          // The rules' own fast plan is this one: decideHeartbeat(state) == planHeartbeat(..., known = state).
          expect(decision.kind === 'write' && isDeepStrictEqual(decision.plan, fast), what).toBe(holds(fast.guard, state));
        }
        if (holds(fast.guard, state)) {
          tally.fastHeld++;
          if (known !== state) tally.staleHeld++;
          if (state.exclusion || fast.updates.some((u) => u.path[0] === 'exclusion')) tally.survivorHeld++;
          expect(decision.kind, what).toBe('write');
          if (decision.kind !== 'write') return;
          expect(holds(decision.plan.guard, state), what).toBe(true);
          const viaFast = applyUpdates(state, fast.updates);
          const viaRead = applyUpdates(state, decision.plan.updates);
          expect(viaFast, what).toEqual(viaRead);
          // What the handler answers after a successful fast write, against what the rules answer.
          expect(heartbeatResponse(viaFast, caller, request, settings, request.role === 'primary', now), what).toEqual(
            decision.respond(viaRead),
          );
        } else {
          if (known !== state) tally.staleMissed++;
          if (decision.kind === 'write') {
            // The slow way must settle at once on the state it read: its own guard holds there.
            expect(holds(decision.plan.guard, state), what).toBe(true);
            if (!isDeepStrictEqual(decision.plan, planHeartbeat(caller, request, now, settings, state))) {
              expect(decision.plan.updates, what).not.toContainEqual(expect.objectContaining({ path: ['leaseExpiresAt'] }));
            }
          }
        }
      }
    }),
    { numRuns },
  );
  // The property says something only if the fast path is actually taken often, from stale sights too
  // (a secondary's report of an unreachable peer is pinned to its sight's rev: about 19 % hold now).
  expect(tally.fastHeld / tally.probes, JSON.stringify(tally)).toBeGreaterThan(0.15);
  expect(tally.staleHeld, JSON.stringify(tally)).toBeGreaterThan(numRuns / 5);
  expect(tally.survivorHeld, JSON.stringify(tally)).toBeGreaterThan(numRuns / 100);
});

interface ClaimProbe {
  at: number;
  back: number;
  later: number;
  node: NodeId;
  epoch: 'current' | number;
  reason: ClaimRequest['reason'];
}

const claimProbeArb: fc.Arbitrary<ClaimProbe> = fc.record({
  at: fc.nat({ max: 40 }),
  back: fc.integer({ min: 0, max: 12 }),
  later: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100_000 })),
  node: nodeArb,
  epoch: fc.oneof(fc.constant<'current'>('current'), fc.nat({ max: 4 })),
  reason: fc.constantFrom<ClaimRequest['reason']>('peer-lost', 'startup', 'operator'),
});

test('claims guessed from a stale sight of the site (as the claim handler does from its cache) write what deciding on a read writes, or fail their guard', () => {
  const tally = { probes: 0, guessedWrite: 0, guessHeld: 0, survivorHeld: 0 };
  fc.assert(
    fc.property(scenarioArb, fc.array(claimProbeArb, { minLength: 1, maxLength: 12 }), (scenario, batch) => {
      const { settings, instants } = simulate(scenario);
      for (const probe of batch) {
        const index = probe.at % instants.length;
        const seen = instants[index]!;
        const { state } = seen;
        const known = instants[Math.max(0, index - probe.back)]!.state;
        const now = seen.now + probe.later;
        const node = state.nodes[probe.node]!;
        const request: ClaimRequest = {
          incarnation: node.incarnation,
          seq: node.seq + 1,
          epoch: probe.epoch === 'current' ? state.epoch : probe.epoch,
          reason: probe.reason,
        };
        const caller = callerOf(probe.node);
        const guess = decideClaim(known, caller, request, now, settings);
        tally.probes++;
        if (guess.kind !== 'write') continue;
        tally.guessedWrite++;
        if (!holds(guess.plan.guard, state)) continue;
        tally.guessHeld++;
        if (state.exclusion || known.exclusion || guess.plan.updates.some((u) => u.path[0] === 'exclusion')) tally.survivorHeld++;
        const what = `${probe.node} ${JSON.stringify(request)} at ${now} on ${JSON.stringify(state)}\n  guessed from ${JSON.stringify(known)}`;
        const onRead = decideClaim(state, caller, request, now, settings);
        expect(onRead.kind, what).toBe('write');
        if (onRead.kind !== 'write') return;
        const viaGuess = applyUpdates(state, guess.plan.updates);
        expect(viaGuess, what).toEqual(applyUpdates(state, onRead.plan.updates));
        expect(guess.respond(viaGuess), what).toEqual(onRead.respond(viaGuess));
      }
    }),
    { numRuns },
  );
  expect(tally.guessHeld, JSON.stringify(tally)).toBeGreaterThan(numRuns / 5);
  expect(tally.survivorHeld, JSON.stringify(tally)).toBeGreaterThan(numRuns / 100);
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
            // end-standalone goes with its exclusion, however that ended (a survivor's claim is as
            // good as its acknowledgement; a bounded standalone lease may lapse; a force).
            const endedWithItsExclusion =
              c.type === 'end-standalone' && before.exclusion !== undefined && after.exclusion?.at !== before.exclusion.at;
            expect(acked || superseded || endedWithItsExclusion, `${explain(x)}: ${commandId} for ${id} vanished unacknowledged`).toBe(
              true,
            );
          }
        }
        if (x.kind === 'heartbeat' && x.outcome.status === 200) {
          // An acknowledged command is gone, unless this very heartbeat earned it again (acting as primary).
          for (const id of x.request.acks ?? []) {
            const again = after.nodes[x.node]!.commands[id];
            if (again) expect(again, `${explain(x)}: ${id} acknowledged but kept`).toMatchObject({ type: 'demote', issuedAt: x.now });
            if (again) expect(x.request.role, explain(x)).toBe('primary');
          }
          const pending = Object.values(after.nodes[x.node]!.commands).map(onTheWire);
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
        if (
          x.kind === 'heartbeat' &&
          x.outcome.status === 200 &&
          x.request.role === 'primary' &&
          before.primary !== null &&
          before.primary !== x.node
        ) {
          demotes++;
          const body = x.outcome.body;
          expect(body.commands, explain(x)).toContainEqual(expect.objectContaining({ type: 'demote', epoch: before.epoch }));
          expect(body, explain(x)).toMatchObject({ epoch: before.epoch, primary: before.primary, role: 'secondary', leaseMs: null });
          expect(after.leaseExpiresAt, explain(x)).toBe(before.leaseExpiresAt);
        }
        if (after.primary !== null) {
          const own = Object.values(after.nodes[after.primary]!.commands);
          expect(
            own.filter((c) => c.type === 'demote' && c.epoch >= after.epoch),
            `${explain(x)}: the primary is told to demote`,
          ).toEqual([]);
        }
      }
    }),
    { numRuns },
  );
  expect(demotes).toBeGreaterThan(100);
});

// ---------------------------------------------------------------------------------------------
// W5, survivor mode: exclusion, standalone leases, readmission.

/** How many runs reached each part of survivor mode: the generator must keep reaching them. */
const reached = {
  runs: 0,
  excluded: 0,
  excludedInGrant: 0,
  refusedExcluded: 0,
  endIssued: 0,
  readmittedByAck: 0,
  readmittedByForce: 0,
  readmittedAfterLapse: 0,
  operatorReadmit: 0,
};

/** A new exclusion, or one that takes effect again: `after` excludes a node that `before` did not, at this instant. */
function exclusionBegins(before: SiteState, after: SiteState, now: number, settings: WitnessSettings): string | undefined {
  const is = activeExclusion(after, now, settings);
  const was = activeExclusion(before, now, settings);
  return is && (was?.nodeId !== is.nodeId || was.at !== is.at) ? is.nodeId : undefined;
}

test('W5 (a): an excluded node is never granted while its exclusion holds, and with a bounded standalone lease only once that lapsed; its claims are refused "excluded"', () => {
  fc.assert(
    property(({ settings, exchanges }) => {
      reached.runs++;
      const tags = new Set<keyof typeof reached>();
      for (const x of exchanges) {
        if (x.kind !== 'claim' || x.outcome.status !== 200) continue;
        const body = x.outcome.body;
        const exclusion = activeExclusion(x.before, x.now, settings);
        if (exclusion?.nodeId === x.node) {
          tags.add('refusedExcluded');
          expect(body, explain(x)).toMatchObject({
            granted: false,
            reason: 'excluded',
            retryAfterMs: settings.slowHeartbeatMs,
            primary: x.before.primary,
          });
        }
        if (body.granted && x.before.primary !== x.node && x.before.exclusion?.nodeId === x.node) {
          tags.add('readmittedAfterLapse');
          expect(settings.standaloneLeaseMs, `${explain(x)}: granted to a node excluded without end`).not.toBeNull();
          expect(x.now, `${explain(x)}: granted before the bounded standalone lease lapsed`).toBeGreaterThan(
            x.before.leaseExpiresAt + settings.skewMarginMs,
          );
        }
        if (!body.granted && body.reason === 'excluded') expect(exclusion?.nodeId, explain(x)).toBe(x.node);
      }
      for (const tag of tags) reached[tag]++;
    }),
    { numRuns },
  );
});

test('W5 (b): the witness never excludes a node it heard within exclusionMs beyond the cadence it last asked of it (a node never heard: the fast one, from the first contact)', () => {
  fc.assert(
    property(({ settings, events }) => {
      const heard: Record<NodeId, { at: number | null; askedMs: number | null }> = {
        'node-a': { at: null, askedMs: null },
        'node-b': { at: null, askedMs: null },
      };
      let excluded = false;
      let inGrant = false;
      for (const x of events) {
        const begins = exclusionBegins(x.before, x.after, x.now, settings) as NodeId | undefined;
        if (begins) {
          excluded = true;
          if (!isOperation(x) && x.kind === 'claim' && x.before.primary !== x.node) inGrant = true;
          const last = heard[begins];
          const since = last.at ?? x.before.firstContactAt;
          expect(since, `${explain(x)}: excluded ${begins}, on a site nobody spoke to`).toBeDefined();
          const cadence = last.at === null ? settings.fastHeartbeatMs : (last.askedMs ?? settings.fastHeartbeatMs);
          expect(
            x.now,
            `${explain(x)}: excluded ${begins}, heard at ${String(last.at)} and asked for ${String(last.askedMs)} ms (first contact ${String(x.before.firstContactAt)})`,
          ).toBeGreaterThanOrEqual(since! + settings.exclusionMs + cadence);
          // …and only while the survivor leads and reports its peer unreachable.
          expect(x.after.primary, explain(x)).toBe(x.node);
          expect(x.after.nodes[x.node]!.peerReachable, explain(x)).toBe(false);
        }
        if (!isOperation(x) && x.after.nodes[x.node]!.lastSeenAt === x.now && x.after.rev !== x.before.rev) {
          heard[x.node].at = x.now;
          if (x.kind === 'heartbeat' && x.outcome.status === 200) heard[x.node].askedMs = x.outcome.body.heartbeatMs;
        }
      }
      if (excluded) reached.excluded++;
      if (inGrant) reached.excludedInGrant++;
    }),
    { numRuns },
  );
});

test("W5 (c): a node is readmitted only in the write that applies the survivor's acknowledgement of end-standalone (or a force, or once a bounded standalone lease lapsed), never when the command is issued", () => {
  fc.assert(
    property(({ settings, events }) => {
      const tags = new Set<keyof typeof reached>();
      // The end-standalone commands each node was sent (id and issue time), from its heartbeat answers.
      const delivered: Record<NodeId, Set<string>> = { 'node-a': new Set(), 'node-b': new Set() };
      for (const x of events) {
        const was = x.before.exclusion;
        const is = x.after.exclusion;
        if (was && is?.at === was.at && !was.ending && is.ending) {
          tags.add(isOperation(x) ? 'operatorReadmit' : 'endIssued');
          // One id per exclusion: an acknowledgement of an earlier one's end never ends this one.
          expect(is.ending.commandId, explain(x)).toBe(`end-standalone-${String(is.at)}-${x.after.primary ?? ''}`);
          expect(x.after.nodes[x.after.primary!]!.commands[is.ending.commandId], explain(x)).toMatchObject({
            type: 'end-standalone',
            issuedAt: is.ending.at,
          });
        }
        if (isOperation(x)) {
          if (x.kind === 'readmit') expect(is?.at, `${explain(x)}: an operator's readmit readmitted at once`).toBe(was?.at);
          if (was && is?.at !== was.at) {
            expect(x.kind === 'force' && x.outcome.status === 200 && x.outcome.written, explain(x)).toBe(true);
            tags.add('readmittedByForce');
          }
          continue;
        }
        if (was && is?.at !== was.at) {
          const lapsed = activeExclusion(x.before, x.now, settings) === undefined;
          const ending = was.ending;
          const acked =
            x.kind === 'heartbeat' &&
            x.outcome.status === 200 &&
            x.node === x.before.primary &&
            ending !== undefined &&
            (x.request.acks ?? []).includes(ending.commandId) &&
            delivered[x.node].has(`${ending.commandId}@${String(ending.at)}`);
          // A claim comes only from a node that runs nothing and counts on no standalone lease: from
          // the survivor, while the end is pending, it is as good as the acknowledgement (claim.ts).
          const claimed =
            x.kind === 'claim' && x.outcome.status === 200 && x.outcome.body.granted && x.node === x.before.primary && ending !== undefined;
          expect(
            lapsed || acked || claimed,
            `${explain(x)}: ${was.nodeId} readmitted without the survivor's acknowledgement (${JSON.stringify(was)})`,
          ).toBe(true);
          if (acked) tags.add('readmittedByAck');
          if (lapsed) expect(settings.standaloneLeaseMs, explain(x)).not.toBeNull();
        }
        if (x.kind === 'heartbeat' && x.outcome.status === 200) {
          for (const c of x.outcome.body.commands) if (c.type === 'end-standalone') delivered[x.node].add(`${c.id}@${String(c.issuedAt)}`);
        }
      }
      for (const tag of tags) reached[tag]++;
    }),
    { numRuns },
  );
});

test("W5 (d): while a node is excluded, the survivor's renewals say standalone until end-standalone is issued (then carry it until acknowledged), and the excluded node's answers say excluded", () => {
  fc.assert(
    property(({ settings, exchanges }) => {
      for (const x of exchanges) {
        if (x.outcome.status !== 200) continue;
        const exclusion = activeExclusion(x.after, x.now, settings);
        const renewed = leaseEarned(x) !== null;
        const expected =
          renewed && exclusion && !exclusion.ending && x.after.primary === x.node ? { leaseMs: settings.standaloneLeaseMs } : null;
        const body = x.outcome.body;
        if (x.kind === 'heartbeat') {
          const answer = x.outcome.body;
          expect(answer.excluded, explain(x)).toBe(exclusion?.nodeId === x.node);
          expect(answer.standalone, explain(x)).toEqual(expected);
          if (exclusion?.ending && x.after.primary === x.node) {
            expect(
              answer.commands.map((c) => c.id),
              `${explain(x)}: end-standalone not delivered`,
            ).toContain(exclusion.ending.commandId);
          }
          // A survivor with no end to its lease, its excluded peer silent, reports for monitoring only: the slow cadence
          // (once it owes no promote or demote: that it acknowledges on the fast one, commandAckMs).
          const excludedHeard = exclusion ? x.after.nodes[exclusion.nodeId]?.lastSeenAt : null;
          const peerSilent = excludedHeard === null || excludedHeard === undefined || x.now - excludedHeard > settings.freshnessMs;
          const owes = answer.commands.some((c) => c.type === 'promote' || c.type === 'demote');
          if (expected?.leaseMs === null && peerSilent)
            expect(answer.heartbeatMs, explain(x)).toBe(owes ? settings.fastHeartbeatMs : settings.slowHeartbeatMs);
        } else if ('standalone' in body) {
          expect(body.standalone, explain(x)).toEqual(expected);
        }
      }
    }),
    { numRuns },
  );
});

test('W5: the generator reaches survivor mode often enough for the properties above to mean something', () => {
  // Runs (of each property's numRuns) that reached: an exclusion, one in a grant, a refusal "excluded",
  // end-standalone issued (by the survivor, by an operator), a readmission by acknowledgement, by a
  // force, after a lapse.
  console.info(`survivor mode coverage over ${String(reached.runs)} runs: ${JSON.stringify(reached)}`);
  expect(reached.runs).toBe(numRuns);
  expect(reached.excluded).toBeGreaterThan(numRuns / 20);
  expect(reached.excludedInGrant).toBeGreaterThan(10);
  expect(reached.refusedExcluded).toBeGreaterThan(numRuns / 100);
  expect(reached.endIssued).toBeGreaterThan(numRuns / 100);
  expect(reached.operatorReadmit).toBeGreaterThan(10);
  expect(reached.readmittedByAck).toBeGreaterThan(numRuns / 200);
  expect(reached.readmittedByForce).toBeGreaterThan(10);
  expect(reached.readmittedAfterLapse).toBeGreaterThan(10);
});

// ---------------------------------------------------------------------------------------------
// Hand-picked: a heartbeat planned from a stale sight of the site (a warm host's cache) must write
// what deciding on a read writes, or fail its guard. The random probes above reach these rarely.

describe("a survivor's heartbeat planned from a stale sight of an earlier exclusion", () => {
  const a = callerOf('node-a');
  const b = callerOf('node-b');
  const hb = (role: Role, epoch: number, peer: boolean, seq: number, acks?: string[]): HeartbeatRequest => ({
    incarnation: 1,
    seq,
    epoch,
    role,
    peer: { reachable: peer },
    health: { score: 90 },
    ...(acks ? { acks } : {}),
  });

  /** Plans from `known`, and checks the write against deciding on the stored state. */
  function expectSameAsRead(w: PureWitness, known: SiteState, request: HeartbeatRequest, now: number): void {
    const fast = planHeartbeat(a, request, now, w.settings, known);
    const decision = decideHeartbeat(w.state, a, request, now, w.settings);
    if (!holds(fast.guard, w.state)) return;
    if (decision.kind !== 'write') throw new Error(`expected a write, got ${decision.kind}`);
    expect(applyUpdates(w.state, fast.updates)).toEqual(applyUpdates(w.state, decision.plan.updates));
  }

  test('at a later epoch (the survivor forced out, then forced back): the end-standalone command carries the current epoch', () => {
    const w = new PureWitness(newSite({ ...site, nodeIds }), defaultSettings);
    let t = 1_800_000_000_000;
    w.heartbeat(a, hb('secondary', 0, true, 1), t);
    w.heartbeat(b, hb('secondary', 0, true, 1), t);
    w.claim(a, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' }, t);
    // node-b dies; node-a renews alone and excludes it 90 s later.
    t += 100_000;
    w.heartbeat(a, hb('primary', 1, false, 3), t);
    expect(w.state.exclusion?.nodeId).toBe('node-b');
    const stale = structuredClone(w.state);
    // node-a dies too (silent for a slow heartbeat and exclusionMs); an operator forces node-b back;
    // node-b excludes node-a; node-b dies in turn; the operator forces node-a back.
    t += 90_000;
    expect(w.forcePrimary('node-b', { confirm: 'node-a is powered off', reason: 'test' }, 'key-1', t)).toMatchObject({ written: true });
    w.claim(b, { incarnation: 1, seq: 2, epoch: 2, reason: 'operator' }, t);
    w.heartbeat(b, hb('primary', 2, false, 3), (t += 100_000));
    expect(w.state.exclusion?.nodeId).toBe('node-a');
    expect(w.forcePrimary('node-a', { confirm: 'node-b is powered off', reason: 'test' }, 'key-1', (t += 90_000))).toMatchObject({
      written: true,
    });
    w.heartbeat(a, hb('primary', 3, false, 4), (t += 100_000));
    expect(w.state).toMatchObject({ epoch: 3, primary: 'node-a', exclusion: { nodeId: 'node-b' } });
    // node-a hears node-b again; the host that serves it last saw the site at epoch 1.
    expectSameAsRead(w, stale, hb('primary', 3, true, 5), t + 1_000);
  });

  test('at the same epoch (readmitted, then excluded again and readmitted by an operator): the command is the one the stored ending describes', () => {
    const w = new PureWitness(newSite({ ...site, nodeIds }), defaultSettings);
    let t = 1_800_000_000_000;
    w.heartbeat(a, hb('secondary', 0, true, 1), t);
    w.heartbeat(b, hb('secondary', 0, true, 1), t);
    w.claim(a, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' }, t);
    w.heartbeat(a, hb('primary', 1, false, 3), (t += 100_000));
    // node-b is back: node-a hears it, is sent end-standalone (by the survivor), and the host caches that.
    w.heartbeat(b, hb('secondary', 1, true, 2), (t += 1_000));
    w.heartbeat(a, hb('primary', 1, true, 4), (t += 1_000));
    expect(w.state.exclusion?.ending?.by).toBe('survivor');
    const first = w.state.exclusion!.ending!.commandId;
    const stale = structuredClone(w.state);
    // Acknowledged (through another host): readmitted. node-b dies again and is excluded again; an operator readmits it.
    w.heartbeat(a, hb('primary', 1, true, 5, [first]), (t += 1_000));
    w.heartbeat(a, hb('primary', 1, false, 6), (t += 100_000));
    expect(w.readmit('node-b', 'key-1', (t += 1_000))).toMatchObject({ written: true });
    // Same epoch, another exclusion: another command, which the first one's acknowledgement cannot end.
    expect(w.state.exclusion?.ending).toMatchObject({
      by: 'operator',
      commandId: `end-standalone-${String(w.state.exclusion!.at)}-node-a`,
    });
    expect(w.state.exclusion?.ending?.commandId).not.toBe(first);
    expectSameAsRead(w, stale, hb('primary', 1, false, 7), t + 1_000);
  });
});

describe("a survivor's claim decided on a stale sight of the site (the claim handler guesses from its cache)", () => {
  test('the peer report it decides on is pinned: when the stored report differs, the guess fails instead of writing another decision', () => {
    const a = callerOf('node-a');
    const b = callerOf('node-b');
    const w = new PureWitness(newSite({ ...site, nodeIds }), defaultSettings);
    let t = 1_800_000_000_000;
    w.heartbeat(a, { incarnation: 1, seq: 1, epoch: 0, role: 'secondary', peer: { reachable: true } }, t);
    w.heartbeat(b, { incarnation: 1, seq: 1, epoch: 0, role: 'secondary', peer: { reachable: true } }, t);
    w.claim(a, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' }, t);
    // One host last saw node-a report its peer reachable; node-a then reports it lost (through another host).
    const stale = structuredClone(w.state);
    w.heartbeat(a, { incarnation: 1, seq: 3, epoch: 1, role: 'primary', peer: { reachable: true } }, (t += 1_000));
    const cached = structuredClone(w.state);
    w.heartbeat(a, { incarnation: 1, seq: 4, epoch: 1, role: 'primary', peer: { reachable: false } }, (t += 1_000));
    t += 100_000;
    const request: ClaimRequest = { incarnation: 1, seq: 5, epoch: 1, reason: 'operator' };
    const onRead = decideClaim(w.state, a, request, t, defaultSettings);
    if (onRead.kind !== 'write') throw new Error('expected a write');
    expect(applyUpdates(w.state, onRead.plan.updates).exclusion?.nodeId).toBe('node-b');
    for (const known of [stale, cached]) {
      const guess = decideClaim(known, a, request, t, defaultSettings);
      if (guess.kind !== 'write' || !holds(guess.plan.guard, w.state)) continue;
      expect(applyUpdates(w.state, guess.plan.updates)).toEqual(applyUpdates(w.state, onRead.plan.updates));
    }
  });
});
