/**
 * `npm run bench -- witness [--seconds N] [--concurrency N] [--warmup N]`: what the witness's hot
 * path costs beyond DynamoDB itself. One process, one DynamoDB Local (in memory, started here,
 * stopped at the end), one DynamoDB client, and the local server running the real handlers on
 * that client (wired as `npm start` and test/support/witness.ts wire them). Every measured loop
 * runs at the same client concurrency, after an uncounted warm-up of `--warmup` s (default 3):
 *
 * (a) raw: conditional UpdateItem calls straight through the SDK client on copies of a site item
 *     (`rawConditionalWrite` says how they match a heartbeat's write);
 * (b) heartbeats: the primary at the current epoch, over real HTTP (keep-alive) to the local
 *     server, spread over `siteCount` sites so that no two in-flight requests share an item.
 *     (a) and (b) take turns in one-second slices, `--seconds` (default 10) of each, so that
 *     whatever else this shared machine does at the time weighs on both alike;
 * (c) claims and raw writes, interleaved by every worker for `--seconds`, while `siteCount` sites
 *     heartbeat in the background at the cadence the witness asks of them.
 *
 * The default concurrency, 16, is for the two cores this runs on, shared with the Java engine:
 * each request spends part of its time in this process and part in the engine, and 16 in flight
 * keep both busy, so (a) and (b) compare throughput at saturation. Latency there is mostly
 * queueing; that is why claims are compared with raw writes timed in the same loop, not with an
 * idle figure. The witness logs at WARN (run.ts sets it before the handlers load).
 *
 * Prints `name: value` lines on stdout (progress goes to stderr) and exits 1 if any request got a
 * wrong answer, a non-200 or a transport error (`errors`), since the figures are void then.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoClientConfig } from '../functions/adapters/config.ts';
import { signNodeToken } from '../functions/adapters/node-token.ts';
import { RequestCounter } from '../functions/adapters/request-counter.ts';
import { siteKey } from '../functions/adapters/site-item.ts';
import type { SiteStore } from '../functions/adapters/site-store.ts';
import { defaultSettings } from '../functions/domain/settings.ts';
import { newSite } from '../functions/domain/site-state.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { type LocalStack, startLocalStack } from '../local/local-stack.ts';
import type { ErrorBody } from '../protocol/errors.ts';
import type { ClaimRequest, ClaimResponse, HeartbeatRequest, HeartbeatResponse } from '../protocol/node.ts';
import { nodePaths } from '../protocol/node-routes.ts';
import { addCpu, CpuMeter, type CpuReading, cpuSpent, noCpu } from './cpu.ts';
import { JsonClient, type JsonReply } from './http-client.ts';
import { itemBytes } from './item-size.ts';
import { UsageError } from './usage-error.ts';
import { closedLoop, ErrorTally, forEachLimited, mergeRuns, type Operation, percentile, type RunResult, shard } from './load.ts';

const defaultSeconds = 10;
const defaultConcurrency = 16;
const defaultWarmupSeconds = 3;
/** (a) and (b) take turns in slices this long: `--seconds` slices of each. */
const sliceMs = 1000;
/** Sites that heartbeat in (b) and in (c)'s background, and raw items of (a) and (c). */
const siteCount = 1000;
/** Sites that take (c)'s claims: any number does as long as every worker owns some. */
const claimSiteCount = 250;
const tableName = 'tiebreak-bench';
const resellerId = 'bench';
const incarnation = 1;
/** The epoch every bench site settles at: node-a wins the first claim. */
const epoch = 1;
/**
 * Every read command, by the name the request counter sees: the low-level one, also for the
 * document client's calls (they send the low-level command).
 */
const readCommands = ['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand'];

interface BenchNode {
  nodeId: string;
  token: string;
  /** The last seq this node sent: each request carries the next one (W4). */
  seq: number;
}

interface BenchSite {
  siteId: string;
  a: BenchNode;
  b: BenchNode;
}

/** A copy of a site item that only raw writes touch. */
interface RawItem {
  key: Record<string, AttributeValue>;
  seq: number;
}

export async function witnessBench(args: string[]): Promise<number> {
  const options = parseOptions(args);
  const { seconds, concurrency, warmupSeconds } = options;
  const measureMs = seconds * 1000;
  const warmupMs = warmupSeconds * 1000;
  const figures: [string, string | number][] = [];
  const errors = new ErrorTally();

  const loadBefore = loadavg()[0]!;
  // Progress goes to stderr, so that stdout holds the figures alone.
  const progress = (line: string) => {
    console.error(`bench witness: ${line}`);
  };
  progress('starting DynamoDB Local (in memory)');
  const engine = await startDynamoDbLocal({});
  const cpu = new CpuMeter();
  // The one client: the witness's store uses it, raw writes use it, its counter sees both.
  const client = new DynamoDBClient(localDynamoClientConfig(engine.endpoint));
  const requests = new RequestCounter().attach(client);
  let server: LocalStack | undefined;
  const http: JsonClient[] = [];
  const background = new Background(errors);
  try {
    server = await startLocalStack({ dynamodb: { endpoint: engine.endpoint }, dynamo: client, tableName });
    const { tokenKey, witness: deps } = server;
    const foreground = new JsonClient(server.url, concurrency, 'foreground');
    // Up to a connection per site, as each site's agent has its own: the background is a rate
    // that does not back off when the witness is slow, not another closed loop.
    const backgroundClient = new JsonClient(server.url, siteCount, 'background');
    http.push(foreground, backgroundClient);

    progress(`setting up ${siteCount + claimSiteCount} sites through the stack`);
    // Set-up: sites with a primary at `epoch`, the promote acknowledged, both nodes reporting.
    const benchSite = (siteId: string): BenchSite => {
      const node = (nodeId: string): BenchNode => ({
        nodeId,
        token: signNodeToken(tokenKey, { resellerId, siteId, nodeId, tokenVersion: 1 }),
        seq: 0,
      });
      return { siteId, a: node('node-a'), b: node('node-b') };
    };
    const numbered = (prefix: string, count = siteCount) =>
      Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
    const heartbeatSites = numbered('hb').map(benchSite);
    const claimSites = numbered('cl', claimSiteCount).map(benchSite);
    await forEachLimited([...heartbeatSites, ...claimSites], concurrency, async (site) => {
      await settleSite(deps.store, foreground, site).catch((error: unknown) => {
        errors.record(error);
      });
    });

    // The item raw writes work on: a heartbeat site's stored item after those heartbeats, copied.
    const { Item: siteItem } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshalledKey(heartbeatSites[0]!.siteId), ConsistentRead: true }),
    );
    if (!siteItem) throw new Error('the first bench site has no item');
    const siteItemBytes = itemBytes(siteItem);
    const rawItems = numbered('rw').map((siteId): RawItem => ({
      key: marshalledKey(siteId),
      seq: Number(siteItem.nodes?.M?.['node-a']?.M?.seq?.N),
    }));
    await forEachLimited(rawItems, concurrency, async (raw) => {
      await client.send(new PutItemCommand({ TableName: tableName, Item: { ...siteItem, ...raw.key } }));
    });
    const { Item: rawItem } = await client.send(new GetItemCommand({ TableName: tableName, Key: rawItems[0]!.key, ConsistentRead: true }));
    if (!rawItem || itemBytes(rawItem) !== siteItemBytes) throw new Error('a raw item is not the size of a site item');

    const rawWrite = roundRobinOperation(shard(rawItems, concurrency), (raw) => rawConditionalWrite(client, raw));
    const heartbeat = roundRobinOperation(shard(heartbeatSites, concurrency), async (site) => {
      expectRenewed(await primaryHeartbeat(foreground, site));
    });
    const claim = roundRobinOperation(shard(claimSites, concurrency), (site) => renewingClaim(foreground, site));

    // (a) the floor and (b) the stack: same client, same concurrency, each warmed up, then
    // measured in alternating one-second slices (raw, stack, stack, raw, ...) so that whatever
    // else the shared machine does at the time weighs on both alike.
    progress(`(a) raw writes and (b) heartbeats: ${warmupSeconds} s warm-up each, then ${seconds} s each in alternating slices`);
    await closedLoop(concurrency, warmupMs, [rawWrite], errors);
    await closedLoop(concurrency, warmupMs, [heartbeat], errors);
    const rawSlices: RunResult[] = [];
    const heartbeatSlices: RunResult[] = [];
    let rawCpu = noCpu;
    let heartbeatCpu = noCpu;
    let heartbeatRequests = 0;
    let heartbeatReads = 0;
    for (let slice = 0; slice < seconds; slice++) {
      const rawFirst = slice % 2 === 0;
      for (const kind of rawFirst ? (['raw', 'stack'] as const) : (['stack', 'raw'] as const)) {
        const before = cpu.read();
        const requestsBefore = requests.total();
        const readsBefore = requests.count(...readCommands);
        const run = await closedLoop(concurrency, sliceMs, [kind === 'raw' ? rawWrite : heartbeat], errors);
        const spent = cpuSpent(before, cpu.read());
        if (kind === 'raw') {
          rawSlices.push(run);
          rawCpu = addCpu(rawCpu, spent);
        } else {
          heartbeatSlices.push(run);
          heartbeatCpu = addCpu(heartbeatCpu, spent);
          heartbeatRequests += requests.total() - requestsBefore;
          heartbeatReads += requests.count(...readCommands) - readsBefore;
        }
      }
    }
    const raw = mergeRuns(rawSlices);
    const heartbeats = mergeRuns(heartbeatSlices);
    const rawCpuPerOp = perOperation(rawCpu, raw.byOperation[0]!.completed);
    const heartbeatCpuPerOp = perOperation(heartbeatCpu, heartbeats.byOperation[0]!.completed);

    // (c) claims beside raw writes, interleaved by every worker, over the same background heartbeats.
    progress(`(c) claims and raw writes beside ${siteCount} sites heartbeating: ${warmupSeconds} s warm-up, then ${seconds} s`);
    background.start(heartbeatSites, backgroundClient);
    await closedLoop(concurrency, warmupMs, [claim, rawWrite], errors);
    requests.reset();
    const backgroundBefore = background.completed;
    // How late this process's event loop runs: the server, both clients and the SDK share it, so
    // a request that crosses it more often (a claim: client, server, SDK, server, client) waits more.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const underLoad = await closedLoop(concurrency, measureMs, [claim, rawWrite], errors);
    loopDelay.disable();
    const backgroundDone = background.completed - backgroundBefore;
    const claimReads = requests.count(...readCommands);
    await background.stop();

    const rawOps = raw.byOperation[0]!;
    const heartbeatOps = heartbeats.byOperation[0]!;
    const [claims, rawUnderLoad] = underLoad.byOperation as [RunResult['byOperation'][number], RunResult['byOperation'][number]];
    const perSecond = (count: number, run: RunResult) => count / (run.elapsedMs / 1000);
    const rawPerSecond = perSecond(rawOps.completed, raw);
    const heartbeatsPerSecond = perSecond(heartbeatOps.completed, heartbeats);
    const p = (op: { latenciesMs: number[] }, q: number) => percentile(op.latenciesMs, q);

    figures.push(
      ['heartbeat_ratio', fixed(heartbeatsPerSecond / rawPerSecond, 3)],
      ['claim_p99_ratio', fixed(p(claims, 99) / p(rawUnderLoad, 99), 3)],
      ['ddb_requests_per_heartbeat', fixed(heartbeatRequests / heartbeatOps.completed, 3)],
      ['ddb_reads_per_heartbeat', fixed(heartbeatReads / heartbeatOps.completed, 3)],
      ['raw_writes_per_s', fixed(rawPerSecond, 0)],
      ['heartbeats_per_s', fixed(heartbeatsPerSecond, 0)],
      ['raw_write_p50_ms', fixed(p(rawOps, 50), 2)],
      ['raw_write_p99_ms', fixed(p(rawOps, 99), 2)],
      ['heartbeat_p50_ms', fixed(p(heartbeatOps, 50), 2)],
      ['heartbeat_p99_ms', fixed(p(heartbeatOps, 99), 2)],
      ['claim_p50_ms', fixed(p(claims, 50), 2)],
      ['claim_p99_ms', fixed(p(claims, 99), 2)],
      ['raw_write_under_load_p50_ms', fixed(p(rawUnderLoad, 50), 2)],
      ['raw_write_under_load_p99_ms', fixed(p(rawUnderLoad, 99), 2)],
      ['claims_per_s', fixed(perSecond(claims.completed, underLoad), 0)],
      ['raw_writes_under_load_per_s', fixed(perSecond(rawUnderLoad.completed, underLoad), 0)],
      ['background_heartbeats_per_s', fixed(perSecond(backgroundDone, underLoad), 0)],
      ['ddb_reads_per_claim', fixed(claimReads / claims.completed, 3)],
      ['event_loop_delay_under_load_p50_ms', fixed(loopDelay.percentile(50) / 1e6, 2)],
      ['event_loop_delay_under_load_p99_ms', fixed(loopDelay.percentile(99) / 1e6, 2)],
      ['raw_write_cpu_bench_ms', fixed(rawCpuPerOp.benchMs, 3)],
      ['raw_write_cpu_engine_ms', fixed(rawCpuPerOp.engineMs, 3)],
      ['heartbeat_cpu_bench_ms', fixed(heartbeatCpuPerOp.benchMs, 3)],
      ['heartbeat_cpu_engine_ms', fixed(heartbeatCpuPerOp.engineMs, 3)],
      ['concurrency', concurrency],
      ['duration_s', seconds],
      ['warmup_s', warmupSeconds],
      ['item_bytes', siteItemBytes],
      ['log_level', process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO'],
      // Other work on this machine skews every figure; the ratios, measured side by side, less so.
      ['load_avg_1m_before', fixed(loadBefore, 2)],
      ['load_avg_1m_after', fixed(loadavg()[0]!, 2)],
    );
  } finally {
    await background.stop();
    for (const c of http) c.close();
    await server?.stop();
    client.destroy();
    await engine.stop();
  }
  figures.push(['errors', errors.total]);
  for (const [name, value] of figures) console.log(`${name}: ${String(value)}`);
  for (const [kind, count] of errors.byKind) console.error(`bench witness: ${count} × ${kind}`);
  // The figures are only worth reading if every request got the answer it should have.
  return errors.total === 0 ? 0 : 1;
}

const usage = 'usage: npm run bench -- witness [--seconds N] [--concurrency N] [--warmup N]';

function parseOptions(args: string[]): { seconds: number; concurrency: number; warmupSeconds: number } {
  let values: { seconds?: string; concurrency?: string; warmup?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { seconds: { type: 'string' }, concurrency: { type: 'string' }, warmup: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
  }
  const int = (name: string, value: string | undefined, fallback: number, min: number, max: number): number => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not ${String(value)}\n${usage}`);
    return n;
  };
  return {
    seconds: int('seconds', values.seconds, defaultSeconds, 1, 3600),
    concurrency: int('concurrency', values.concurrency, defaultConcurrency, 1, claimSiteCount),
    warmupSeconds: int('warmup', values.warmup, defaultWarmupSeconds, 0, 600),
  };
}

/** An operation over worker-owned items: worker w takes its own items in turn, so none is shared. */
function roundRobinOperation<T>(shards: T[][], send: (item: T) => Promise<void>): Operation {
  const cursors = shards.map(() => 0);
  return (worker) => {
    const items = shards[worker]!;
    const cursor = cursors[worker]!;
    cursors[worker] = cursor + 1;
    return send(items[cursor % items.length]!);
  };
}

function marshalledKey(siteId: string): Record<string, AttributeValue> {
  const { pk, sk } = siteKey({ resellerId, siteId });
  return { pk: { S: pk }, sk: { S: sk } };
}

function heartbeatBody(node: BenchNode, role: HeartbeatRequest['role'], atEpoch: number, acks?: string[]): HeartbeatRequest {
  // What an agent that lost its peer sends: the case that renews a lease at the fast cadence.
  return {
    incarnation,
    seq: ++node.seq,
    epoch: atEpoch,
    role,
    peer: { reachable: false, lastContactMs: 12_000 },
    health: { score: 90, checks: { disk: 'ok', raid: 'ok', ups: 'ok' } },
    ...(acks?.length ? { acks } : {}),
    workloads: [
      { id: 'vm-erp', state: 'running' },
      { id: 'vm-files', state: 'running' },
    ],
  };
}

function primaryHeartbeat(http: JsonClient, site: BenchSite, acks?: string[]): Promise<JsonReply> {
  return http.post(nodePaths.heartbeat, site.a.token, heartbeatBody(site.a, 'primary', epoch, acks));
}

/** A request answered otherwise than the bench expects; the message names the kind, not the instance. */
class WrongAnswer extends Error {
  constructor(what: string, reply: JsonReply, expected: string) {
    const code = reply.status === 200 ? '' : ` ${String((reply.body as ErrorBody | undefined)?.error.code)}`;
    super(`${what} answered ${reply.status}${code}, not ${expected}`);
    this.name = 'WrongAnswer';
  }
}

/** Throws unless the heartbeat renewed the caller's lease at the bench epoch. */
function expectRenewed(reply: JsonReply): HeartbeatResponse {
  const body = reply.body as HeartbeatResponse;
  if (reply.status !== 200 || body.role !== 'primary' || body.epoch !== epoch || body.leaseMs === null) {
    throw new WrongAnswer('a primary heartbeat', reply, 'a renewal');
  }
  return body;
}

/**
 * Claims measured in (c) are the current primary's: a real claim that writes (the lease is renewed
 * and the decision recorded, guarded by rev, primary and epoch), so the same work as a raw write
 * plus the stack. This witness process has seen each claim site (its store keeps the last state
 * it wrote), so a claim costs one write and no read; `ddb_reads_per_claim` shows it. Failover
 * claims are not measured: each needs a lease to run out first (15 s by default), so their rate
 * would be set by lease timing rather than by the witness.
 */
async function renewingClaim(http: JsonClient, site: BenchSite): Promise<void> {
  const body: ClaimRequest = { incarnation, seq: ++site.a.seq, epoch, reason: 'peer-lost' };
  const reply = await http.post(nodePaths.claim, site.a.token, body);
  const answer = reply.body as ClaimResponse;
  if (reply.status !== 200 || !answer.granted || answer.epoch !== epoch) throw new WrongAnswer("the primary's claim", reply, 'a grant');
}

/** Brings a new site to the steady state heartbeats then find: node-a primary, its promote acknowledged. */
async function settleSite(store: SiteStore, http: JsonClient, site: BenchSite): Promise<void> {
  if (!(await store.create(newSite({ resellerId, siteId: site.siteId, nodeIds: [site.a.nodeId, site.b.nodeId] })))) {
    throw new Error(`site ${site.siteId} exists already`);
  }
  const secondary = async (node: BenchNode, atEpoch: number) => {
    const reply = await http.post(nodePaths.heartbeat, node.token, heartbeatBody(node, 'secondary', atEpoch));
    if (reply.status !== 200) throw new WrongAnswer("a secondary's heartbeat", reply, '200');
  };
  await secondary(site.b, 0);
  await secondary(site.a, 0);
  const claim = await http.post(nodePaths.claim, site.a.token, {
    incarnation,
    seq: ++site.a.seq,
    epoch: 0,
    reason: 'startup',
  } satisfies ClaimRequest);
  if (claim.status !== 200 || !(claim.body as ClaimResponse).granted) throw new WrongAnswer('a first claim', claim, 'a grant');
  const acks = expectRenewed(await primaryHeartbeat(http, site)).commands.map((c) => c.id);
  expectRenewed(await primaryHeartbeat(http, site, acks));
  await secondary(site.b, epoch);
}

/**
 * The floor: one conditional UpdateItem through the plain SDK client, values marshalled by hand,
 * on a copy of a heartbeat site's item (so the same size and layout: the engine parses, checks
 * and rewrites the same document). The expressions mirror a primary heartbeat's write term for
 * term: its guard's six comparisons on the same nested paths (token version, W4's
 * (incarnation, seq) order, primary and epoch), its twelve SET clauses, with if_not_exists,
 * an increment, a map value and the due index's bucket among them, and its REMOVE of a silence mark. `ReturnValues: ALL_NEW` as the store asks, because a
 * heartbeat answers from the state its write returns: that is part of the one write it costs,
 * not overhead of the stack. What remains between (a) and (b) is the stack: HTTP, middy, token,
 * zod, planning, the document client's marshalling, reading the returned item back.
 */
async function rawConditionalWrite(client: DynamoDBClient, raw: RawItem): Promise<void> {
  const now = Date.now();
  const seq = ++raw.seq;
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: raw.key,
      ConditionExpression:
        '(#n.#a.#tv = :tv AND (#n.#a.#inc < :inc OR (#n.#a.#inc = :inc AND #n.#a.#seq < :seq)) AND (#p = :a AND #e = :e))',
      UpdateExpression:
        'SET #n.#a.#inc = :inc, #n.#a.#seq = :seq, #n.#a.#seen = :now, #first = if_not_exists(#first, :now), #rev = #rev + :one, ' +
        '#n.#a.#role = :role, #n.#a.#re = :e, #n.#a.#health = :health, #n.#a.#peer = :peer, #lease = :lease, #decision = :decision, #due = :due ' +
        'REMOVE #silence',
      ExpressionAttributeNames: {
        '#n': 'nodes',
        '#a': 'node-a',
        '#tv': 'tokenVersion',
        '#inc': 'incarnation',
        '#seq': 'seq',
        '#p': 'primary',
        '#e': 'epoch',
        '#seen': 'lastSeenAt',
        '#first': 'firstContactAt',
        '#rev': 'rev',
        '#role': 'role',
        '#re': 'reportedEpoch',
        '#health': 'health',
        '#peer': 'peerReachable',
        '#lease': 'leaseExpiresAt',
        '#decision': 'decision',
        '#due': 'due',
        '#silence': 'silence',
      },
      ExpressionAttributeValues: {
        ':tv': { N: '1' },
        ':inc': { N: String(incarnation) },
        ':seq': { N: String(seq) },
        ':a': { S: 'node-a' },
        ':e': { N: String(epoch) },
        ':now': { N: String(now) },
        ':one': { N: '1' },
        ':role': { S: 'primary' },
        ':health': { N: '90' },
        ':peer': { BOOL: false },
        ':lease': { N: String(now + defaultSettings.leaseMs) },
        ':due': { N: String(Math.floor(now / defaultSettings.dueBucketMs)) },
        ':decision': {
          M: {
            kind: { S: 'renew' },
            nodeId: { S: 'node-a' },
            at: { N: String(now) },
            epoch: { N: String(epoch) },
            reason: { S: 'heartbeat from the primary at the current epoch' },
            inputs: { M: { incarnation: { N: String(incarnation) }, seq: { N: String(seq) }, peerReachable: { BOOL: false } } },
          },
        },
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
}

/**
 * (c)'s background: every site heartbeats as its primary's agent would after losing its peer,
 * each at the cadence the witness answers (`heartbeatMs`, 5 s by default), start times spread
 * evenly over one cadence: with 1,000 sites, 200 heartbeats/s whatever the foreground does.
 */
class Background {
  completed = 0;
  readonly #abort = new AbortController();
  #loops: Promise<void>[] = [];

  constructor(private readonly errors: ErrorTally) {}

  start(sites: readonly BenchSite[], http: JsonClient): void {
    const started = performance.now();
    const spreadMs = defaultSettings.fastHeartbeatMs / sites.length;
    this.#loops = sites.map((site, i) => this.#beat(site, http, started + i * spreadMs));
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  async #beat(site: BenchSite, http: JsonClient, firstAt: number): Promise<void> {
    const signal = this.#abort.signal;
    let next = firstAt;
    while (!signal.aborted) {
      const waitMs = next - performance.now();
      if (waitMs > 0) {
        try {
          await sleep(waitMs, undefined, { signal });
        } catch {
          return;
        }
      }
      let cadenceMs = defaultSettings.fastHeartbeatMs;
      try {
        cadenceMs = expectRenewed(await primaryHeartbeat(http, site)).heartbeatMs;
        this.completed++;
      } catch (error) {
        this.errors.record(error);
      }
      // A late heartbeat is not followed by a burst to catch up, as an agent would not send one.
      next = Math.max(next + cadenceMs, performance.now());
    }
  }
}

function perOperation(spent: CpuReading, operations: number): { benchMs: number; engineMs: number } {
  return { benchMs: spent.benchMs / operations, engineMs: (spent.engineMs ?? Number.NaN) / operations };
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}
