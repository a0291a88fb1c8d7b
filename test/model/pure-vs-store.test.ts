/**
 * The model against the store (DESIGN.md, "Testing the contract"): the same random request
 * sequences go through the pure rules (`PureWitness`: plans evaluated in memory by `holds` and
 * `applyUpdates`) and through the real handlers on DynamoDB Local (the same plans compiled into
 * conditional UpdateItems). After every step the answers, the stored state and the number of
 * DynamoDB requests must agree, so the conditional expressions cannot drift from the rules.
 *
 * Two handler hosts serve one table, like two warm Lambda instances: each keeps its own cache of
 * recently seen sites (`store.recent`), so a claim sometimes guesses from a stale state, and a
 * heartbeat plans survivor mode (W5) from one, and both must still answer as the rules do. An
 * operator's survivor-mode calls (force-primary, readmit) are decided by the same rules on both
 * sides and, on the store's, written through the same compiled plan by a third store (the reseller
 * API's process), so the node hosts' caches go stale.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { documentClient, localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { DynamoSiteStore } from '../../functions/adapters/dynamodb-site-store.ts';
import { signNodeToken } from '../../functions/adapters/node-token.ts';
import { RequestCounter } from '../../functions/adapters/request-counter.ts';
import { type SiteKey, siteKey, siteStateFromItem } from '../../functions/adapters/site-item.ts';
import type { SiteStore } from '../../functions/adapters/site-store.ts';
import { decideClaim } from '../../functions/domain/claim.ts';
import type { Caller, Decision } from '../../functions/domain/decision.ts';
import { decideHeartbeat, planHeartbeat } from '../../functions/domain/heartbeat.ts';
import { applyUpdates, holds, type Plan } from '../../functions/domain/plan.ts';
import type { WitnessSettings } from '../../functions/domain/settings.ts';
import { newSite, type SitePolicy, type SiteState } from '../../functions/domain/site-state.ts';
import { decideForcePrimary, decideReadmit, forceConfirmation, type OperatorDecision } from '../../functions/domain/survivor.ts';
import { startLocalStack } from '../../local/local-stack.ts';
import type { ClaimRequest, ClaimResponse, Command, HeartbeatRequest, HeartbeatResponse, Role } from '../../protocol/node.ts';
import { carryOutOperator, type OperatorOutcome, type Outcome, PureWitness } from '../support/pure-witness.ts';
import { startWitness, type TestWitness } from '../support/witness.ts';

// ---------------------------------------------------------------------------------------------
// Steps: plain data, so that a shrunk counterexample reads as a script.

const nodeIds = ['node-a', 'node-b'] as const;
type NodeId = (typeof nodeIds)[number];
type HostIndex = 0 | 1;

type Step =
  /** `epoch: 'seen'` is the last epoch the node was told; `acks` index the command ids it was sent. */
  | {
      do: 'heartbeat';
      node: NodeId;
      host: HostIndex;
      role: Role;
      epoch: 'seen' | number;
      peer: boolean | null;
      health: number | null;
      acks: number[];
      bogusAck: string | null;
    }
  | { do: 'claim'; node: NodeId; host: HostIndex; epoch: 'seen' | number; reason: ClaimRequest['reason'] }
  /** Sends again, verbatim, one of the node's earlier requests (`back: 0` is the last: a duplicate). */
  | { do: 'replay'; node: NodeId; host: HostIndex; back: number }
  /** The agent stops: it sends nothing until it restarts. */
  | { do: 'crash'; node: NodeId }
  /** The agent (re)starts: a higher incarnation, seq from 1 again. */
  | { do: 'restart'; node: NodeId; jump: number }
  | { do: 'advance'; ms: number }
  /**
   * Moves the clock to a boundary of the current state plus `offset`, if that is in the future;
   * `exclude-a`: when node-a would be excluded (W5), unheard for exclusionMs beyond its cadence.
   */
  | { do: 'jump'; to: Boundary; offset: number }
  /**
   * What a primary's agent does every heartbeat: reports its peer, acknowledging every command it
   * was sent (its last 16): a survivor renewing alone, or hearing its peer again and giving the
   * standalone lease back.
   */
  | { do: 'survive'; node: NodeId; host: HostIndex; peer: boolean }
  /**
   * An operator's survivor-mode call through the reseller API (its own process). `wait`: the operator
   * waits until the survivor has been silent as long as the witness asks (its refusal says until when).
   */
  | { do: 'force'; node: NodeId; confirm: 'right' | 'wrong'; wait: boolean }
  | { do: 'readmit'; node: NodeId }
  /** An operator revokes the node's token (tokenVersion + 1), with or without bumping `rev`; the agent keeps its old token. */
  | { do: 'revoke'; node: NodeId; bumpRev: boolean }
  /** The agent is given a token of the current version. */
  | { do: 'reissue'; node: NodeId };

type Boundary = 'lease-end' | 'window-end' | 'stale-a' | 'stale-b' | 'exclude-a' | 'exclude-b';

const settingsUnderTest = {
  leaseMs: 15_000,
  skewMarginMs: 500,
  fastHeartbeatMs: 5_000,
  slowHeartbeatMs: 60_000,
  freshnessMs: 15_000,
  startupWindowMs: 30_000,
  exclusionMs: 30_000,
  standaloneLeaseMs: null,
};

const node = fc.constantFrom<NodeId>(...nodeIds);
const host = fc.constantFrom<HostIndex>(0, 1);
const believedEpoch = fc.oneof(
  { weight: 6, arbitrary: fc.constant('seen' as const) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 4 }) },
  { weight: 1, arbitrary: fc.constant(Number.MAX_SAFE_INTEGER) },
);
const healthScore = fc.oneof(fc.constantFrom(0, 29, 30, 31, 50, 59, 60, 61, 100), fc.integer({ min: 0, max: 100 }));

const heartbeatStep: fc.Arbitrary<Extract<Step, { do: 'heartbeat' }>> = fc.record({
  do: fc.constant('heartbeat' as const),
  node,
  host,
  role: fc.constantFrom<Role>('primary', 'secondary', 'fenced'),
  epoch: believedEpoch,
  peer: fc.constantFrom(true, false, null),
  health: fc.option(healthScore, { freq: 6 }),
  acks: fc.array(fc.nat({ max: 7 }), { maxLength: 3 }),
  bogusAck: fc.option(fc.constantFrom('no-such-command', '7-demote-node-a', '__proto__', 'constructor', 'a.b:c'), { freq: 2 }),
});

const claimStep: fc.Arbitrary<Extract<Step, { do: 'claim' }>> = fc.record({
  do: fc.constant('claim' as const),
  node,
  host,
  epoch: believedEpoch,
  reason: fc.constantFrom<ClaimRequest['reason']>('peer-lost', 'startup', 'operator'),
});

const clockStep: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    do: fc.constant('advance' as const),
    ms: fc.oneof(
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 6_000 }) },
      { weight: 1, arbitrary: fc.constantFrom(1, 499, 500, 501, 5_000, 14_999, 15_000, 15_001, 15_500, 15_501, 30_000, 30_001) },
    ),
  }),
  fc.record({
    do: fc.constant('jump' as const),
    to: fc.constantFrom<Boundary>(
      'lease-end',
      'lease-end',
      'window-end',
      'stale-a',
      'stale-b',
      'exclude-a',
      'exclude-b',
      'exclude-a',
      'exclude-b',
    ),
    offset: fc.constantFrom(-1, 0, 1, 499, 500, 501, 2_000),
  }),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 16, arbitrary: heartbeatStep },
  { weight: 8, arbitrary: claimStep },
  { weight: 9, arbitrary: clockStep },
  { weight: 3, arbitrary: fc.record({ do: fc.constant('replay' as const), node, host, back: fc.nat({ max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ do: fc.constant('crash' as const), node }) },
  { weight: 2, arbitrary: fc.record({ do: fc.constant('restart' as const), node, jump: fc.constantFrom(1, 1, 1, 2 ** 32, 2 ** 50) }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('revoke' as const), node, bumpRev: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ do: fc.constant('reissue' as const), node }) },
  { weight: 8, arbitrary: fc.record({ do: fc.constant('survive' as const), node, host, peer: fc.constantFrom(false, false, true) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      do: fc.constant('force' as const),
      node,
      confirm: fc.constantFrom<'right' | 'wrong'>('right', 'right', 'wrong'),
      wait: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('readmit' as const), node }) },
);

/** What an agent does when it loses its peer: report, then claim. Makes failovers common. */
const reportThenClaim: fc.Arbitrary<Step[]> = fc
  .tuple(heartbeatStep, claimStep)
  .map(([report, ask]) => [report, { ...ask, node: report.node }]);

const otherNode = (n: NodeId): NodeId => (n === 'node-a' ? 'node-b' : 'node-a');

/**
 * Survivor mode (W5), as agents live it: a primary renews alone until its peer is excluded (the
 * clock jumps to that boundary, a millisecond either side), then its peer comes back and it gives
 * the standalone lease back; or an operator readmits the peer. Each through either host.
 */
const survivorChunk: fc.Arbitrary<Step[]> = fc
  .tuple(
    node,
    host,
    host,
    fc.constantFrom(-1, 0, 0, 1),
    fc.constantFrom<'back' | 'operator' | 'force' | 'still'>('back', 'operator', 'force', 'still'),
  )
  .map(([n, first, second, offset, then]): Step[] => {
    const other = otherNode(n);
    const excluded: Step[] = [
      { do: 'survive', node: n, host: first, peer: false },
      { do: 'jump', to: other === 'node-a' ? 'exclude-a' : 'exclude-b', offset },
      { do: 'survive', node: n, host: second, peer: false },
    ];
    if (then === 'back') {
      const back: Step = {
        do: 'heartbeat',
        node: other,
        host: first,
        role: 'secondary',
        epoch: 'seen',
        peer: true,
        health: 100,
        acks: [],
        bogusAck: null,
      };
      return [
        ...excluded,
        back,
        { do: 'claim', node: other, host: second, epoch: 'seen', reason: 'peer-lost' },
        { do: 'survive', node: n, host: first, peer: true },
        { do: 'survive', node: n, host: second, peer: true },
      ];
    }
    if (then === 'operator')
      return [
        ...excluded,
        { do: 'readmit', node: other },
        { do: 'survive', node: n, host: second, peer: false },
        { do: 'survive', node: n, host: first, peer: false },
      ];
    if (then === 'force')
      return [
        ...excluded,
        { do: 'force', node: other, confirm: 'right', wait: true },
        { do: 'claim', node: other, host: first, epoch: 'seen', reason: 'operator' },
      ];
    return excluded;
  });

const stepSequence: fc.Arbitrary<Step[]> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: step.map((s) => [s]) },
      { weight: 1, arbitrary: reportThenClaim },
      { weight: 1, arbitrary: survivorChunk },
    ),
    {
      minLength: 1,
      maxLength: 26,
      size: 'max',
    },
  )
  .map((chunks) => chunks.flat().slice(0, 36));

const policy: fc.Arbitrary<SitePolicy> = fc.oneof(
  fc.record({ tieBreak: fc.constant('keep-primary' as const), preferredNode: fc.constant(null), healthThreshold: fc.constantFrom(0, 50) }),
  fc.record({
    tieBreak: fc.constant('preferred-node' as const),
    preferredNode: fc.constant('node-a'),
    healthThreshold: fc.constantFrom(0, 50),
  }),
  fc.record({
    tieBreak: fc.constant('health-weighted' as const),
    preferredNode: fc.constant(null),
    healthThreshold: fc.constantFrom(0, 30, 60),
  }),
);

// ---------------------------------------------------------------------------------------------
// The two sides.

interface Host {
  post: (path: string, token: string, body: unknown) => Promise<{ status: number; body: unknown }>;
  store: SiteStore;
  requests: RequestCounter;
}

interface Counts {
  writes: number;
  reads: number;
}

/** One agent as the test drives it: what it has been told, and what it sent. */
interface Agent {
  caller: Caller;
  token: string;
  incarnation: number;
  seq: number;
  epochSeen: number;
  commandsSeen: string[];
  down: boolean;
  sent: { path: Endpoint; body: HeartbeatRequest | ClaimRequest }[];
}

type Endpoint = '/v1/node/heartbeat' | '/v1/node/claim';

/** What the client saw: the status, and the body (an error's code only). */
type Seen = { status: number; body: unknown } | { status: number; code: string };

function seenFromOutcome(outcome: Outcome<unknown>): Seen {
  return outcome.status === 200 ? { status: 200, body: outcome.body } : { status: outcome.status, code: outcome.code };
}

function seenFromHttp(response: { status: number; body: unknown }): Seen {
  if (response.status === 200) return { status: 200, body: response.body };
  const error = (response.body as { error?: { code?: string } } | undefined)?.error;
  return { status: response.status, code: error?.code ?? JSON.stringify(response.body) };
}

/** What a client sees of a decision on a site that does not exist (so never a write). */
function seenWithoutSite(decision: Decision<unknown>): Seen {
  if (decision.kind !== 'reject') throw new Error(`a request for a missing site was decided as ${decision.kind}: ${decision.reason}`);
  return decision.error === 'stale-request' ? { status: 409, code: 'stale-request' } : { status: 401, code: 'token-revoked' };
}

/**
 * The DynamoDB requests the real handlers send for a step, derived from the rules. A heartbeat
 * writes once with the plan made from the host's cached sight of the site (`recent`) and, only if
 * that guard fails, decides again on the state the failure returned; a node reporting its peer
 * unreachable with nothing cached reads the site first (W5, and the record of a lost primary's
 * lapse, need to know when the peer was last heard). A claim guesses from the host's cached state when that would write, and reads first
 * otherwise. A guard compiled differently from `holds` shows up here even when the slower path
 * would reach the same answer.
 */
function expectedRequests(
  state: SiteState,
  recent: SiteState | undefined,
  request: Endpoint,
  decide: (s: SiteState | undefined) => Decision<unknown>,
  plan?: (known: SiteState | undefined) => Plan,
  readsFirst = false,
): Counts {
  if (request === '/v1/node/heartbeat') {
    if (!plan) throw new Error('a heartbeat is planned');
    const reads = !recent && readsFirst ? 1 : 0;
    const fast = plan(recent ?? (readsFirst ? state : undefined));
    if (holds(fast.guard, state)) return { writes: 1, reads };
    return { writes: decide(state).kind === 'write' ? 2 : 1, reads };
  }
  let writes = 0;
  let reads = 0;
  const guess = recent ? decide(recent) : undefined;
  if (guess?.kind === 'write') {
    writes++;
    if (holds(guess.plan.guard, state)) return { writes, reads };
  } else {
    reads++;
  }
  if (decide(state).kind === 'write') writes++;
  return { writes, reads };
}

/** What kind of answer a step got, for a coverage check on the generator. */
function coverageTag(path: Endpoint, seen: Seen, expected: Counts): string[] {
  if (!('body' in seen)) return [seen.code];
  if (path === '/v1/node/heartbeat') {
    return [
      expected.writes === 2 ? 'heartbeat decided again' : 'heartbeat in one write',
      ...(expected.reads === 1 ? ['heartbeat read first'] : []),
    ];
  }
  const answer = seen.body as ClaimResponse;
  const how =
    expected.writes === 2 ? 'claim guessed from a stale cache' : expected.reads === 1 ? 'claim read first' : 'claim guessed right';
  if (!answer.granted) return [how, answer.reason];
  return [how, answer.epoch === 1 ? 'first grant' : 'failover grant'];
}

/** Survivor mode's transitions a step made (W5), for the coverage check. */
function survivorTags(before: SiteState, after: SiteState): string[] {
  const was = before.exclusion;
  const is = after.exclusion;
  return [
    ...(is && is.at !== was?.at ? ['exclusion'] : []),
    ...(was && was.at !== is?.at ? [after.epoch === before.epoch ? 'readmission' : 'readmission by a change of primary'] : []),
    ...(is?.ending && !was?.ending ? ['end-standalone issued'] : []),
  ];
}

class Harness {
  readonly coverage = new Map<string, number>();
  readonly #hosts: readonly [Host, Host];
  readonly #inspector: DynamoDBDocumentClient;
  readonly witness: TestWitness;

  /** The reseller API's process: its own store on the same table (an operator's calls). */
  readonly api: SiteStore;

  constructor(witness: TestWitness, hosts: readonly [Host, Host], inspector: DynamoDBDocumentClient) {
    this.witness = witness;
    this.#hosts = hosts;
    this.#inspector = inspector;
    this.api = new DynamoSiteStore(inspector, witness.tableName);
  }

  tally(tag: string): void {
    this.coverage.set(tag, (this.coverage.get(tag) ?? 0) + 1);
  }

  /** The stored state, read beside the handlers (their caches stay as their own traffic left them). */
  async stored(key: SiteKey): Promise<SiteState | undefined> {
    const { Item } = await this.#inspector.send(
      new GetCommand({ TableName: this.witness.tableName, Key: siteKey(key), ConsistentRead: true }),
    );
    return Item ? siteStateFromItem(Item) : undefined;
  }

  host(index: HostIndex): Host {
    return this.#hosts[index];
  }

  /**
   * An operator's revocation: one direct UpdateItem beside the handlers. Whether it bumps `rev`
   * or not, a handler that decides from its cache must not accept the revoked token.
   */
  async revoke(key: SiteKey, nodeId: string, bumpRev: boolean): Promise<void> {
    await this.#inspector.send(
      new UpdateCommand({
        TableName: this.witness.tableName,
        Key: siteKey(key),
        UpdateExpression: `SET #nodes.#node.#tv = #nodes.#node.#tv + :one${bumpRev ? ', #rev = #rev + :one' : ''}`,
        ConditionExpression: 'attribute_exists(#nodes.#node)',
        ExpressionAttributeNames: { '#nodes': 'nodes', '#node': nodeId, '#tv': 'tokenVersion', ...(bumpRev ? { '#rev': 'rev' } : {}) },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async newRun(sitePolicy: SitePolicy): Promise<Run> {
    const site = await this.witness.site([...nodeIds], sitePolicy);
    const key = { resellerId: site.resellerId, siteId: site.siteId };
    const initial = await this.stored(key);
    expect(initial).toEqual(newSite({ ...key, nodeIds, policy: sitePolicy }));
    const agent = (id: NodeId): Agent => {
      const { caller, token } = site.nodes[id]!;
      return { caller, token, incarnation: 1, seq: 0, epochSeen: 0, commandsSeen: [], down: false, sent: [] };
    };
    const agents = { 'node-a': agent('node-a'), 'node-b': agent('node-b') };
    return new Run(this, key, new PureWitness(initial!, this.witness.deps.settings), agents);
  }
}

/** One site driven through both sides, step by step. */
class Run {
  readonly log: string[] = [];
  readonly seen: Seen[] = [];
  /** The DynamoDB requests each node request cost on the store's side. */
  readonly costs: Counts[] = [];
  readonly #startedAt: number;

  constructor(
    private readonly harness: Harness,
    readonly key: SiteKey,
    readonly pure: PureWitness,
    readonly agents: Record<NodeId, Agent>,
  ) {
    this.#startedAt = harness.witness.clock.ms;
  }

  get clock() {
    return this.harness.witness.clock;
  }

  async steps(steps: readonly Step[]): Promise<void> {
    for (const [index, s] of steps.entries()) {
      try {
        await this.step(s);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `step ${index} ${JSON.stringify(s)} failed\n  site: ${JSON.stringify(this.key)}\n  trace:\n    ${this.log.join('\n    ')}\n${message}`,
          {
            cause: error,
          },
        );
      }
    }
  }

  async step(s: Step): Promise<void> {
    if ((s.do === 'heartbeat' || s.do === 'claim' || s.do === 'replay') && this.agents[s.node].down) return;
    switch (s.do) {
      case 'heartbeat': {
        const agent = this.agents[s.node];
        const sent = agent.commandsSeen;
        const acks = [...s.acks.filter(() => sent.length > 0).map((i) => sent[i % sent.length]!), ...(s.bogusAck ? [s.bogusAck] : [])];
        const body: HeartbeatRequest = {
          incarnation: agent.incarnation,
          seq: ++agent.seq,
          epoch: s.epoch === 'seen' ? agent.epochSeen : s.epoch,
          role: s.role,
          ...(s.peer === null ? {} : { peer: { reachable: s.peer } }),
          ...(s.health === null ? {} : { health: { score: s.health } }),
          ...(acks.length ? { acks } : {}),
        };
        await this.send(agent, s.host, '/v1/node/heartbeat', body);
        return;
      }
      case 'claim': {
        const agent = this.agents[s.node];
        const body: ClaimRequest = {
          incarnation: agent.incarnation,
          seq: ++agent.seq,
          epoch: s.epoch === 'seen' ? agent.epochSeen : s.epoch,
          reason: s.reason,
        };
        await this.send(agent, s.host, '/v1/node/claim', body);
        return;
      }
      case 'replay': {
        const agent = this.agents[s.node];
        const earlier = agent.sent.at(-1 - (s.back % Math.max(1, agent.sent.length)));
        if (earlier) await this.send(agent, s.host, earlier.path, earlier.body);
        return;
      }
      case 'crash':
        this.agents[s.node].down = true;
        this.log.push(`${s.node} stops`);
        return;
      case 'restart': {
        const agent = this.agents[s.node];
        agent.down = false;
        agent.incarnation = Math.min(agent.incarnation + s.jump, Number.MAX_SAFE_INTEGER - 1);
        agent.seq = 0;
        this.log.push(`${s.node} restarts as incarnation ${agent.incarnation}`);
        return;
      }
      case 'advance':
        this.advanceTo(this.clock.ms + s.ms);
        return;
      case 'jump': {
        const state = this.pure.state;
        const { freshnessMs, startupWindowMs } = this.pure.settings;
        if (s.to === 'exclude-a' || s.to === 'exclude-b') {
          // W5: unheard for exclusionMs beyond the cadence the witness may have asked (slow if it reported its peer reachable).
          const peer = state.nodes[s.to === 'exclude-a' ? 'node-a' : 'node-b'];
          const heard = peer?.lastSeenAt ?? state.firstContactAt;
          const { exclusionMs, slowHeartbeatMs, fastHeartbeatMs } = this.pure.settings;
          if (heard !== undefined)
            this.advanceTo(heard + exclusionMs + (peer?.peerReachable === true ? slowHeartbeatMs : fastHeartbeatMs) + s.offset);
          return;
        }
        // Offsets 499..501 straddle the skew margin (500) after the lease's expiry.
        const base =
          s.to === 'lease-end'
            ? state.leaseExpiresAt
            : s.to === 'window-end'
              ? state.firstContactAt === undefined
                ? null
                : state.firstContactAt + startupWindowMs
              : (state.nodes[s.to === 'stale-a' ? 'node-a' : 'node-b']?.lastSeenAt ?? null);
        if (base !== null) this.advanceTo(base + (s.to.startsWith('stale') ? freshnessMs : 0) + s.offset);
        return;
      }
      case 'revoke': {
        const agent = this.agents[s.node];
        await this.harness.revoke(this.key, agent.caller.nodeId, s.bumpRev);
        const version = this.pure.state.nodes[agent.caller.nodeId]!.tokenVersion;
        this.pure.state = applyUpdates(this.pure.state, [
          { op: 'set', path: ['nodes', agent.caller.nodeId, 'tokenVersion'], value: version + 1 },
          ...(s.bumpRev ? [{ op: 'increment', path: ['rev'], by: 1 } as const] : []),
        ]);
        this.log.push(`${s.node}'s token version ${version} revoked`);
        await this.expectStoreAgrees();
        return;
      }
      case 'reissue': {
        const agent = this.agents[s.node];
        agent.caller = { ...agent.caller, tokenVersion: this.pure.state.nodes[agent.caller.nodeId]!.tokenVersion };
        agent.token = signNodeToken(this.harness.witness.deps.tokenKey, agent.caller);
        this.log.push(`${s.node} gets a token of version ${agent.caller.tokenVersion}`);
        return;
      }
      case 'survive': {
        const agent = this.agents[s.node];
        if (agent.down) return;
        const acks = agent.commandsSeen.slice(-16);
        const body: HeartbeatRequest = {
          incarnation: agent.incarnation,
          seq: ++agent.seq,
          epoch: agent.epochSeen,
          role: 'primary',
          peer: { reachable: s.peer },
          health: { score: 100 },
          ...(acks.length ? { acks } : {}),
        };
        await this.send(agent, s.host, '/v1/node/heartbeat', body);
        return;
      }
      case 'force': {
        const nodeId = this.agents[s.node].caller.nodeId;
        const { primary } = this.pure.state;
        const heard = primary === null ? null : (this.pure.state.nodes[primary]?.lastSeenAt ?? null);
        if (s.wait && heard !== null) this.advanceTo(heard + this.pure.settings.slowHeartbeatMs + this.pure.settings.exclusionMs);
        const confirm = s.confirm === 'right' ? forceConfirmation(this.pure.state.primary ?? '') : `${nodeId} is powered off`;
        await this.operate(`force-primary ${nodeId} ("${confirm}")`, (state, now) =>
          decideForcePrimary(state, nodeId, { confirm, reason: 'model' }, 'key-1', now, this.pure.settings),
        );
        return;
      }
      case 'readmit': {
        const nodeId = this.agents[s.node].caller.nodeId;
        await this.operate(`readmit ${nodeId}`, (state, now) => decideReadmit(state, nodeId, 'key-1', now, this.pure.settings));
        return;
      }
    }
  }

  /**
   * An operator's call: decided by the same rules on both sides (the reseller API decides on the
   * state it reads), written on the store's through the same compiled plan by the API's own store.
   */
  async operate(what: string, decide: (state: SiteState, now: number) => OperatorDecision): Promise<OperatorOutcome> {
    const now = this.clock.now();
    const before = this.pure.state;
    const read = await this.harness.api.load(this.key);
    expect(read, 'the API reads the state the rules hold').toEqual(before);
    const decision = decide(read!, now);
    const pure = carryOutOperator(before, decision);
    this.pure.state = pure.state;
    if (decision.kind === 'write') {
      const result = await this.harness.api.apply(this.key, decision.plan);
      expect(result.ok, `${what}: the operator's write, pinned to the rev it read, holds`).toBe(true);
    }
    this.log.push(`operator ${what} at +${now - this.#startedAt} ms → ${JSON.stringify(pure.outcome)}`);
    this.harness.tally(
      pure.outcome.status === 200
        ? `${what.split(' ')[0] ?? ''} ${pure.outcome.written ? 'written' : 'answered'}`
        : `operator ${pure.outcome.code}`,
    );
    for (const tag of survivorTags(before, this.pure.state)) this.harness.tally(tag);
    await this.expectStoreAgrees();
    return pure.outcome;
  }

  advanceTo(target: number): void {
    if (target <= this.clock.ms) return;
    this.log.push(`clock +${target - this.clock.ms} ms`);
    this.clock.advance(target - this.clock.ms);
  }

  async send(agent: Agent, hostIndex: HostIndex, path: Endpoint, body: HeartbeatRequest | ClaimRequest): Promise<void> {
    const now = this.clock.now();
    const host = this.harness.host(hostIndex);
    const before = this.pure.state;
    const { caller } = agent;

    // The rules' side, and what they imply the handlers will send to DynamoDB.
    let pureSeen: Seen;
    let expected: Counts;
    if (path === '/v1/node/heartbeat') {
      const request = body as HeartbeatRequest;
      const decide = (s: SiteState | undefined) => decideHeartbeat(s, caller, request, now, this.pure.settings);
      const plan = (known: SiteState | undefined) => planHeartbeat(caller, request, now, this.pure.settings, known);
      const readsFirst = request.peer?.reachable === false;
      expected = expectedRequests(before, host.store.recent(this.key), path, decide, plan, readsFirst);
      pureSeen = seenFromOutcome(this.pure.heartbeat(caller, request, now));
    } else {
      const request = body as ClaimRequest;
      const decide = (s: SiteState | undefined) => decideClaim(s, caller, request, now, this.pure.settings);
      expected = expectedRequests(before, host.store.recent(this.key), path, decide);
      pureSeen = seenFromOutcome(this.pure.claim(caller, request, now));
    }

    // The store's side.
    host.requests.reset();
    const response = await host.post(path, agent.token, body);
    const actual: Counts = {
      writes: host.requests.count('UpdateItemCommand', 'UpdateCommand'),
      reads: host.requests.count('GetItemCommand', 'GetCommand'),
    };
    const storeSeen = seenFromHttp(response);
    this.log.push(
      `${caller.nodeId} → host ${hostIndex} ${path} ${JSON.stringify(body)} at +${now - this.#startedAt} ms → ${JSON.stringify(storeSeen)}`,
    );
    this.seen.push(storeSeen);
    this.costs.push(actual);
    for (const tag of [...coverageTag(path, storeSeen, expected), ...survivorTags(before, this.pure.state)]) this.harness.tally(tag);

    expect(storeSeen, 'the handler answers as the rules do').toEqual(pureSeen);
    await this.expectStoreAgrees();
    expect(actual, 'the handler sends the DynamoDB requests the rules imply').toEqual(expected);

    // The agent remembers what it was told.
    agent.sent.push({ path, body });
    if (storeSeen.status === 200 && 'body' in storeSeen) {
      const answer = storeSeen.body as HeartbeatResponse | ClaimResponse;
      agent.epochSeen = answer.epoch;
      if ('commands' in answer) {
        for (const command of answer.commands) if (!agent.commandsSeen.includes(command.id)) agent.commandsSeen.push(command.id);
      }
    }
  }

  async expectStoreAgrees(): Promise<void> {
    expect(await this.harness.stored(this.key), 'the stored state equals the pure state').toEqual(this.pure.state);
  }
}

// ---------------------------------------------------------------------------------------------

let witness: TestWitness;
let harness: Harness;
const closers: (() => Promise<void>)[] = [];

function httpPost(url: string) {
  return async (path: string, token: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
}

/** A witness with these settings on its own table, served by two hosts with their own caches. */
async function harnessWith(settings: Partial<WitnessSettings>): Promise<Harness> {
  const started = await startWitness({ settings });
  const endpoint = inject('dynamoEndpoint');
  const hostClient = new DynamoDBClient(localDynamoClientConfig(endpoint));
  const inspectorClient = new DynamoDBClient(localDynamoClientConfig(endpoint));
  // A second warm "Lambda instance": same table, same key, same clock, its own cache (and its own client, counted apart).
  const second = await startLocalStack({
    dynamodb: { endpoint },
    dynamo: hostClient,
    tableName: started.tableName,
    tokenKey: started.deps.tokenKey,
    settings: started.deps.settings,
    clock: started.clock.now,
  });
  const secondDeps = second.witness;
  closers.push(async () => {
    await second.stop();
    await started.close();
    hostClient.destroy();
    inspectorClient.destroy();
  });
  return new Harness(
    started,
    [
      { post: (path, token, body) => started.post(path, token, body), store: started.deps.store, requests: started.requests },
      { post: httpPost(second.url), store: secondDeps.store, requests: new RequestCounter().attach(hostClient) },
    ],
    documentClient(inspectorClient),
  );
}

beforeAll(async () => {
  harness = await harnessWith(settingsUnderTest);
  witness = harness.witness;
});

afterAll(async () => {
  for (const close of closers) await close();
});

/** About 45 s on a 2-core machine: each run is a fresh site, about 20 steps, 3 to 4 DynamoDB requests a step. */
const numRuns = 300;
const boundedRuns = 100;

/** Outcomes the default runs must reach (the rarest, a failover grant, comes about 20 times in 300 runs). */
const mustReach = [
  'first grant',
  'failover grant',
  'lease-held',
  'not-fresh',
  'unhealthy',
  'startup-window',
  'stale-request',
  'token-revoked',
  'heartbeat in one write',
  'heartbeat decided again',
  'claim guessed right',
  'claim guessed from a stale cache',
  'claim read first',
  // Survivor mode (W5).
  'heartbeat read first',
  'exclusion',
  'excluded',
  'end-standalone issued',
  'readmission',
  'force-primary written',
  'readmit written',
  'force-primary written',
  'readmission by a change of primary',
];

describe('the pure rules and the handlers on DynamoDB agree', () => {
  test(`on random request sequences (${numRuns} runs)`, { timeout: 180_000 }, async () => {
    harness.coverage.clear();
    await fc.assert(
      fc.asyncProperty(policy, stepSequence, async (sitePolicy, steps) => {
        const run = await harness.newRun(sitePolicy);
        await run.steps(steps);
      }),
      { numRuns },
    );
    console.info(`outcomes reached in ${String(numRuns)} runs: ${JSON.stringify(Object.fromEntries([...harness.coverage].sort()))}`);
    const missed = mustReach.filter((tag) => !harness.coverage.has(tag));
    expect(missed, `the generator no longer reaches these outcomes (reached: ${JSON.stringify([...harness.coverage])})`).toEqual([]);
  });

  // A bounded standalone lease: it lapses, and the exclusion with it (a grant or a renewal ends it),
  // through guards on the lease's expiry that the unbounded lease never needs.
  test(`with a bounded standalone lease, on random request sequences (${String(boundedRuns)} runs)`, { timeout: 180_000 }, async () => {
    const bounded = await harnessWith({ ...settingsUnderTest, standaloneLeaseMs: 30_000 });
    await fc.assert(
      fc.asyncProperty(policy, stepSequence, async (sitePolicy, steps) => {
        const run = await bounded.newRun(sitePolicy);
        await run.steps(steps);
      }),
      { numRuns: boundedRuns },
    );
    console.info(
      `outcomes reached in ${String(boundedRuns)} runs (bounded): ${JSON.stringify(Object.fromEntries([...bounded.coverage].sort()))}`,
    );
    const missed = ['exclusion', 'excluded', 'readmission'].filter((tag) => !bounded.coverage.has(tag));
    expect(missed).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-picked sequences: each checks both sides agree, and that they do what the name says.

const hb = (n: NodeId, role: Role, more: Partial<Extract<Step, { do: 'heartbeat' }>> = {}): Step => ({
  do: 'heartbeat',
  node: n,
  host: 0,
  role,
  epoch: 'seen',
  peer: false,
  health: 100,
  acks: [],
  bogusAck: null,
  ...more,
});
const claim = (n: NodeId, host: HostIndex = 0): Step => ({ do: 'claim', node: n, host, epoch: 'seen', reason: 'peer-lost' });
const keepPrimary: SitePolicy = { tieBreak: 'keep-primary', preferredNode: null, healthThreshold: 0 };

describe('hand-picked sequences', () => {
  test('a secondary takes over once the lease and its skew margin have passed, not a millisecond before', async () => {
    const run = await harness.newRun(keepPrimary);
    await run.steps([hb('node-a', 'secondary'), claim('node-a'), hb('node-a', 'primary'), hb('node-b', 'secondary')]);
    // node-a falls silent; node-b heartbeats and claims at the very end of the held lease, then just after it.
    await run.steps([
      { do: 'advance', ms: 10_000 },
      hb('node-b', 'secondary'),
      { do: 'jump', to: 'lease-end', offset: 500 },
      claim('node-b', 1),
    ]);
    expect(run.seen.at(-1)).toMatchObject({ status: 200, body: { granted: false, reason: 'lease-held', primary: 'node-a', epoch: 1 } });
    await run.steps([{ do: 'advance', ms: 1 }, claim('node-b', 1)]);
    expect(run.seen.at(-1)).toEqual({ status: 200, body: { granted: true, epoch: 2, leaseMs: 15_000, standalone: null } });
    expect(run.pure.state).toMatchObject({ primary: 'node-b', epoch: 2 });
    expect(Object.keys(run.pure.state.nodes['node-a']!.commands)).toEqual(['2-demote-node-a']);
  });

  test('a primary heartbeating at an older epoch is told to demote and is not renewed', async () => {
    const run = await harness.newRun(keepPrimary);
    await run.steps([hb('node-a', 'secondary'), claim('node-a'), hb('node-b', 'secondary'), { do: 'advance', ms: 16_000 }]);
    await run.steps([hb('node-b', 'secondary'), claim('node-b')]);
    expect(run.pure.state).toMatchObject({ primary: 'node-b', epoch: 2 });
    // node-a comes back still believing it leads at epoch 1.
    await run.steps([hb('node-a', 'primary', { epoch: 1, host: 1 })]);
    const answer = run.seen.at(-1) as { status: 200; body: HeartbeatResponse };
    expect(answer.body).toMatchObject({ epoch: 2, primary: 'node-b', role: 'secondary', leaseMs: null });
    expect(answer.body.commands.map((c: Command) => c.type)).toEqual(['demote']);
    expect(run.pure.state.decision).toMatchObject({ kind: 'demote', nodeId: 'node-a', epoch: 2 });
  });

  test('acknowledged commands are no longer delivered, and unknown acks change nothing else', async () => {
    const run = await harness.newRun(keepPrimary);
    await run.steps([hb('node-a', 'secondary'), claim('node-a'), hb('node-a', 'primary')]);
    expect((run.seen.at(-1) as { body: HeartbeatResponse }).body.commands.map((c) => c.id)).toEqual(['1-promote-node-a']);
    await run.steps([hb('node-a', 'primary', { acks: [0], bogusAck: 'no-such-command' })]);
    expect((run.seen.at(-1) as { body: HeartbeatResponse }).body.commands).toEqual([]);
    expect(run.pure.state.nodes['node-a']!.commands).toEqual({});
    // One id acked twice (the first write then names one REMOVE path twice, which DynamoDB refuses
    // unless the adapter sends it once), by the primary reporting the wrong role: the slow path.
    await run.steps([hb('node-a', 'fenced', { acks: [0, 0] })]);
    expect(run.seen.at(-1)).toMatchObject({ status: 200, body: { primary: 'node-a', commands: [] } });
    expect(run.pure.state.nodes['node-a']!.commands).toEqual({});
  });

  test.each([
    { bumpRev: true, how: 'with' },
    { bumpRev: false, how: 'without' },
  ])(
    'a token version revoked $how a rev bump is refused with 401 token-revoked and changes nothing, on either host',
    async ({ bumpRev }) => {
      const run = await harness.newRun(keepPrimary);
      await run.steps([
        hb('node-a', 'secondary', { host: 0 }),
        hb('node-a', 'secondary', { host: 1 }),
        { do: 'revoke', node: 'node-a', bumpRev },
      ]);
      const revoked = structuredClone(run.pure.state);
      // Both hosts cached the site before the revocation: the claims guess from a stale state.
      await run.steps([claim('node-a', 0), claim('node-a', 1), hb('node-a', 'secondary', { host: 1 })]);
      expect(run.seen.slice(-3)).toEqual(Array(3).fill({ status: 401, code: 'token-revoked' }));
      expect(run.pure.state).toEqual(revoked);
      await run.steps([{ do: 'reissue', node: 'node-a' }, claim('node-a', 1)]);
      expect(run.seen.at(-1)).toEqual({ status: 200, body: { granted: true, epoch: 1, leaseMs: 15_000, standalone: null } });
    },
  );

  test('a duplicate and an older request are refused with 409 stale-request and change nothing', async () => {
    const run = await harness.newRun(keepPrimary);
    await run.steps([hb('node-b', 'secondary'), claim('node-b'), { do: 'replay', node: 'node-b', host: 1, back: 0 }]);
    await run.steps([{ do: 'replay', node: 'node-b', host: 0, back: 1 }]);
    expect(run.seen.slice(-2)).toEqual([
      { status: 409, code: 'stale-request' },
      { status: 409, code: 'stale-request' },
    ]);
    expect(run.pure.state).toMatchObject({ primary: 'node-b', epoch: 1, rev: 2 });
  });

  test('in the start-up window of a health-weighted site, the less healthy node is refused and the healthier one granted', async () => {
    const run = await harness.newRun({ tieBreak: 'health-weighted', preferredNode: null, healthThreshold: 30 });
    await run.steps([hb('node-a', 'secondary', { health: 40 }), hb('node-b', 'secondary', { health: 90, host: 1 }), claim('node-a')]);
    expect(run.seen.at(-1)).toMatchObject({
      status: 200,
      body: { granted: false, reason: 'healthier-peer', primary: null, retryAfterMs: 30_000 },
    });
    await run.steps([claim('node-b', 1)]);
    expect(run.seen.at(-1)).toEqual({ status: 200, body: { granted: true, epoch: 1, leaseMs: 15_000, standalone: null } });
  });

  test('a token for a site that does not exist gets 401 token-revoked and nothing is created', async () => {
    const key = { resellerId: 'reseller-1', siteId: `no-such-site-${String(Date.now())}` };
    const caller: Caller = { ...key, nodeId: 'node-a', tokenVersion: 1 };
    const token = signNodeToken(witness.deps.tokenKey, caller);
    const now = witness.clock.now();
    const heartbeat: HeartbeatRequest = { incarnation: 1, seq: 1, epoch: 0, role: 'primary' };
    const claimRequest: ClaimRequest = { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' };
    const rules = [
      seenWithoutSite(decideHeartbeat(undefined, caller, heartbeat, now, witness.deps.settings)),
      seenWithoutSite(decideClaim(undefined, caller, claimRequest, now, witness.deps.settings)),
    ];
    expect(rules).toEqual(Array(2).fill({ status: 401, code: 'token-revoked' }));
    for (const index of [0, 1] as const) {
      const { post } = harness.host(index);
      const answers = [await post('/v1/node/heartbeat', token, heartbeat), await post('/v1/node/claim', token, claimRequest)];
      expect(answers.map(seenFromHttp)).toEqual(rules);
    }
    expect(await harness.stored(key)).toBeUndefined();
  });
});

const survive = (n: NodeId, host: HostIndex, peer: boolean): Step => ({ do: 'survive', node: n, host, peer });
const answer = (run: Run) => (run.seen.at(-1) as { status: 200; body: HeartbeatResponse & ClaimResponse }).body;

describe('hand-picked sequences: survivor mode (W5)', () => {
  /** node-a primary with node-b heard as secondary (peer link up), then node-b dies and node-a loses it. */
  async function survivorSite(): Promise<Run> {
    const run = await harness.newRun(keepPrimary);
    await run.steps([
      hb('node-a', 'secondary', { peer: true }),
      hb('node-b', 'secondary', { peer: true }),
      claim('node-a'),
      survive('node-a', 0, true),
    ]);
    return run;
  }

  test('a primary reporting its peer unreachable on a host that has not seen the site reads it first; the peer is excluded at its boundary, not a millisecond before', async () => {
    const run = await survivorSite();
    // Host 1 has never seen this site: one read, one write.
    await run.steps([survive('node-a', 1, false)]);
    expect(run.costs.at(-1)).toEqual({ reads: 1, writes: 1 });
    // node-b last reported its peer reachable: the slow cadence, 90 s after its last heartbeat.
    await run.steps([{ do: 'jump', to: 'exclude-b', offset: -1 }, survive('node-a', 0, false)]);
    expect(answer(run)).toMatchObject({ standalone: null, heartbeatMs: 5_000 });
    expect(run.pure.state.exclusion).toBeUndefined();
    await run.steps([{ do: 'jump', to: 'exclude-b', offset: 0 }, survive('node-a', 1, false)]);
    expect(answer(run)).toMatchObject({ role: 'primary', leaseMs: 15_000, standalone: { leaseMs: null }, heartbeatMs: 60_000 });
    expect(run.pure.state.exclusion).toMatchObject({ nodeId: 'node-b', lastSeenAt: run.pure.state.nodes['node-b']!.lastSeenAt });
    expect(run.costs.at(-1)).toEqual({ reads: 0, writes: 1 });
    // node-b comes back without its peer: heard, answered excluded, and its claim refused.
    await run.steps([hb('node-b', 'secondary', { host: 1 }), claim('node-b', 0)]);
    expect(answer(run)).toMatchObject({ granted: false, reason: 'excluded', primary: 'node-a', retryAfterMs: 60_000 });
    expect((run.seen.at(-2) as { body: HeartbeatResponse }).body).toMatchObject({ excluded: true, role: 'secondary' });
  });

  test("the survivor hears its peer again: end-standalone until acknowledged, decided right from either host's stale sight, and only the acknowledgement readmits", async () => {
    const run = await survivorSite();
    await run.steps([
      survive('node-a', 0, false),
      survive('node-a', 1, false),
      { do: 'jump', to: 'exclude-b', offset: 0 },
      survive('node-a', 0, false),
    ]);
    expect(run.pure.state.exclusion?.nodeId).toBe('node-b');
    // Host 1 last saw the site before the exclusion: its plan fails its guard, and the heartbeat is decided again.
    await run.steps([hb('node-b', 'secondary', { peer: true, host: 0 }), { ...survive('node-a', 1, true) }]);
    expect(run.costs.at(-1)).toEqual({ reads: 0, writes: 2 });
    const command = answer(run).commands.find((c) => c.type === 'end-standalone');
    const commandId = `end-standalone-${String(run.pure.state.exclusion?.at)}-node-a`;
    expect(command).toMatchObject({ id: commandId, epoch: 1 });
    expect(answer(run)).toMatchObject({ standalone: null, leaseMs: 15_000 });
    expect(run.pure.state.exclusion?.ending).toMatchObject({ by: 'survivor', commandId });
    // node-b is still excluded until node-a acknowledges (from host 0, whose sight lacks the ending).
    await run.steps([claim('node-b', 1)]);
    expect(answer(run)).toMatchObject({ granted: false, reason: 'excluded' });
    await run.steps([survive('node-a', 0, true)]);
    expect(run.pure.state.exclusion).toBeUndefined();
    expect(answer(run)).toMatchObject({ standalone: null, commands: [] });
    await run.steps([claim('node-b', 1)]);
    expect(answer(run)).toMatchObject({ granted: false, reason: 'lease-held' });
  });

  test("an operator's readmit and force, written by the API's own store: the node hosts decide on stale sights and still agree with the rules", async () => {
    const run = await survivorSite();
    await run.steps([survive('node-a', 0, false), { do: 'jump', to: 'exclude-b', offset: 0 }, survive('node-a', 1, false)]);
    await run.steps([{ do: 'readmit', node: 'node-b' }, survive('node-a', 0, false)]);
    expect(answer(run).commands.map((c) => c.id)).toContain(`end-standalone-${String(run.pure.state.exclusion?.at)}-node-a`);
    expect(run.pure.state.exclusion?.ending).toMatchObject({ by: 'operator', keyId: 'key-1' });
    await run.steps([survive('node-a', 1, false)]);
    expect(run.pure.state.exclusion).toBeUndefined();
    // node-b is still unheard: excluded again at once; then node-a is lost too, and an operator forces node-b back.
    await run.steps([survive('node-a', 0, false)]);
    expect(run.pure.state.exclusion?.nodeId).toBe('node-b');
    // node-a was just heard: the witness refuses to call it off; once silent long enough, the words must name it.
    await run.steps([{ do: 'force', node: 'node-b', confirm: 'right', wait: false }]);
    expect(run.pure.state).toMatchObject({ epoch: 1, primary: 'node-a' });
    await run.steps([
      { do: 'force', node: 'node-b', confirm: 'wrong', wait: true },
      { do: 'force', node: 'node-b', confirm: 'right', wait: false },
    ]);
    expect(run.pure.state, run.log.join('\n')).toMatchObject({ epoch: 2, primary: 'node-b' });
    expect(run.pure.state.exclusion).toBeUndefined();
    // node-b claims (renewing) and, node-a unheard for longer than any cadence, excludes it at once.
    await run.steps([hb('node-b', 'secondary', { host: 1 }), claim('node-b', 1), survive('node-a', 0, false)]);
    expect(run.seen.at(-2)).toEqual({ status: 200, body: { granted: true, epoch: 2, leaseMs: 15_000, standalone: { leaseMs: null } } });
    expect(run.pure.state.exclusion?.nodeId).toBe('node-a');
    expect(answer(run)).toMatchObject({ epoch: 2, primary: 'node-b', role: 'secondary', leaseMs: null, excluded: true });
    expect(answer(run).commands.map((c) => c.id)).toEqual(['2-demote-node-a']);
  });
});
