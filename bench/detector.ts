/**
 * `npm run bench -- detector [--silent N] [--runs N]`: what one run of the silence detector reads, at 1,000
 * and at 10,000 sites, to show that its work grows with the sites that fell silent, not with all
 * sites. One process, one DynamoDB Local (in memory, started by `startLocalStack`), a fresh table per size.
 *
 * Each table is seeded (BatchWriteItem) with sites' state items as heartbeats leave them: both
 * nodes reporting, node-a primary at epoch 1 with its lease renewed, `due` the bucket of the last
 * contact. Live sites were last heard within the last slow heartbeat (60 s) before the run, so
 * their buckets are not over yet; `--silent` (default 20) sites were last heard in each of the 12
 * buckets a first run looks back over (functions/domain/silence.ts), so that they are due now.
 * Then the real detector (functions/jobs/detect-silence.ts) runs on the bench's clock, as a
 * first run does (no cursor: the 12 buckets back), `--runs` times (default 5; between runs the
 * cursor and the marks are taken off again, uncounted), after uncounted runs on a small table that
 * warm the engine's JVM and this process's JIT up; the run time is their median. Last, the next
 * minute's run one bucket later, as every later run finds it: the cursor, and one bucket.
 *
 * Measured per run: items read (the run's own count, and, as a check, the items DynamoDB handed
 * back to the client: the cursor, the index's keys, the state items), requests by command, read
 * and write capacity units as the engine reports them, sites marked, wall time. Then, from the
 * settings, what the due index costs a live site a month: it moves to a new bucket once a bucket
 * (2 index writes: out of the old, into the new), at the on-demand write price of prices.ts.
 *
 * The index layouts side by side, on the same tables (every item carries both keys): the sharded
 * index (`due-shard-index`, `<bucket>#<shard>`, S Queries a bucket: the `detector_*` figures) and
 * the old one by bucket alone (`due-index`, one Query a bucket: `legacy_detector_*`), with their
 * ratios. Last, the peak write rate a partition of each layout takes at 1,000,000 sites, from the
 * settings (functions/adapters/site-item.ts, dueShards, has the reasoning).
 *
 * Prints `name: value` lines on stdout (progress on stderr).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  BatchWriteItemCommand,
  type DynamoDBClient as Client,
  DeleteItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { detectorDeps } from '../functions/adapters/detector-config.ts';
import { type DueIndexReads, DynamoDetectorStore } from '../functions/adapters/detector-store.ts';
import { documentClient } from '../functions/adapters/dynamo-clients.ts';
import { RequestCounter } from '../functions/adapters/request-counter.ts';
import { dueShards, itemFromSiteState, siteKey } from '../functions/adapters/site-item.ts';
import { ensureTable } from '../functions/adapters/table.ts';
import { detectorCursorKey } from '../functions/adapters/tenancy-items.ts';
import { defaultSettings } from '../functions/domain/settings.ts';
import { defaultDetectorLimits, dueBucket, lastCompleteBucket } from '../functions/domain/silence.ts';
import { newSite, type SiteState } from '../functions/domain/site-state.ts';
import { type DetectorRun, detectSilence } from '../functions/jobs/detect-silence.ts';
import { startLocalStack } from '../local/local-stack.ts';
import { prices } from './prices.ts';
import { UsageError } from './usage-error.ts';

const settings = defaultSettings;
/** The bench's server clock: a bucket boundary plus a little, as a run at any minute would find it. */
const now = 1_800_000_000_000 + 42_000;
const sizes = [1_000, 10_000] as const;
const monthMs = 30 * 86_400_000;

/** Items DynamoDB handed back and capacity units it reported, on one client. */
class ReadMeter {
  items = 0;
  rru = 0;
  wru = 0;

  attach(client: Client): this {
    client.middlewareStack.add(
      (next) => (args) => {
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity ??= 'TOTAL';
        return next(args);
      },
      { step: 'initialize', name: 'benchDetectorCapacity' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const output = result.output as {
          Count?: number;
          Item?: unknown;
          ConsumedCapacity?: { CapacityUnits?: number; ReadCapacityUnits?: number };
        };
        if (context.commandName === 'QueryCommand') this.items += output.Count ?? 0;
        if (context.commandName === 'GetItemCommand' && output.Item) this.items += 1;
        const units = output.ConsumedCapacity?.CapacityUnits ?? 0;
        if (context.commandName === 'UpdateItemCommand') this.wru += units;
        else this.rru += units;
        return result;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'benchDetectorReads' },
    );
    return this;
  }

  reset(): void {
    this.items = 0;
    this.rru = 0;
    this.wru = 0;
  }
}

/** A site as a minute of healthy heartbeats leaves it: node-a primary at epoch 1, both reporting, last heard at `at`. */
function heardSite(index: number, at: number): SiteState {
  const site = newSite({ resellerId: 'bench', siteId: `site-${String(index).padStart(5, '0')}`, nodeIds: ['node-a', 'node-b'] });
  const node = (role: 'primary' | 'secondary', seen: number) => ({
    tokenVersion: 1,
    incarnation: 1,
    seq: 1_000,
    lastSeenAt: seen,
    role,
    reportedEpoch: 1,
    health: 100,
    peerReachable: true,
    commands: {},
  });
  return {
    ...site,
    rev: 2_000,
    epoch: 1,
    primary: 'node-a',
    leaseExpiresAt: at + settings.leaseMs,
    firstContactAt: at - 86_400_000,
    nodes: { 'node-a': node('primary', at), 'node-b': node('secondary', at - 20_000) },
    decision: {
      kind: 'renew',
      nodeId: 'node-a',
      at,
      epoch: 1,
      reason: 'heartbeat from the primary at the current epoch',
      inputs: { incarnation: 1, seq: 1_000, peerReachable: true },
    },
    due: dueBucket(at, settings),
  };
}

/** `sites` state items, `silent` of them last heard in the buckets a first run reads, the rest within the minute before `at`. */
function seedStates(sites: number, silent: number, at = now): SiteState[] {
  const last = lastCompleteBucket(now, settings);
  const lookback = defaultDetectorLimits.lookbackBuckets;
  return Array.from({ length: sites }, (_, i) => {
    if (i < silent) {
      const bucket = last - (i % lookback);
      return heardSite(i, bucket * settings.dueBucketMs + ((i * 7_919) % settings.dueBucketMs));
    }
    return heardSite(i, at - 1 - ((i * 7_919) % settings.slowHeartbeatMs));
  });
}

async function seed(client: Client, tableName: string, states: SiteState[]): Promise<void> {
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < states.length; i += 25) {
    batches.push(
      states
        .slice(i, i + 25)
        .map((state) => ({ PutRequest: { Item: marshall(itemFromSiteState(state), { removeUndefinedValues: true }) } })),
    );
  }
  const writeBatch = async (batch: WriteRequest[]) => {
    let pending: WriteRequest[] = batch;
    while (pending.length > 0) {
      const { UnprocessedItems } = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = UnprocessedItems?.[tableName] ?? [];
    }
  };
  // A few batches at once: the engine takes them faster than one at a time, and the order does not matter.
  for (let i = 0; i < batches.length; i += 8) await Promise.all(batches.slice(i, i + 8).map(writeBatch));
}

interface Measured {
  run: DetectorRun;
  ms: number;
  itemsHanded: number;
  rru: number;
  wru: number;
  requests: string;
}

async function measure(
  client: Client,
  meter: ReadMeter,
  counter: RequestCounter,
  tableName: string,
  reads: DueIndexReads,
  at = now,
): Promise<Measured> {
  const deps = {
    ...detectorDeps({ tableName, settings, dynamo: client }),
    detector: new DynamoDetectorStore(documentClient(client), tableName, reads),
    now: () => at,
  };
  meter.reset();
  counter.reset();
  const started = performance.now();
  const run = await detectSilence(deps);
  const ms = performance.now() - started;
  const requests = [...counter.byCommand]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, n]) => `${c.replace(/Command$/, '')} ${n}`)
    .join(', ');
  return { run, ms, itemsHanded: meter.items, rru: meter.rru, wru: meter.wru, requests };
}

/** Takes the cursor and the silent sites' marks off again (uncounted), so that the next run is a first run again. */
async function reset(client: Client, tableName: string, states: SiteState[]): Promise<void> {
  await client.send(new DeleteItemCommand({ TableName: tableName, Key: marshall(detectorCursorKey) }));
  for (const state of states) {
    await client.send(new UpdateItemCommand({ TableName: tableName, Key: marshall(siteKey(state)), UpdateExpression: 'REMOVE silence' }));
  }
}

/** `runs` first runs (the same work each time); the first one's figures with the median wall time. */
async function firstRuns(
  client: Client,
  meter: ReadMeter,
  counter: RequestCounter,
  tableName: string,
  silentStates: SiteState[],
  runs: number,
  reads: DueIndexReads,
): Promise<Measured> {
  const measured: Measured[] = [];
  for (let i = 0; i < runs; i++) {
    await reset(client, tableName, silentStates);
    measured.push(await measure(client, meter, counter, tableName, reads));
  }
  const times = measured.map((m) => m.ms).sort((a, b) => a - b);
  const same = measured.every((m) => m.run.itemsRead === measured[0]!.run.itemsRead && m.run.marked === measured[0]!.run.marked);
  if (!same) throw new Error(`the runs on ${tableName} read or marked differently`);
  return { ...measured[0]!, ms: times[Math.floor(times.length / 2)]! };
}

function count(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  const x = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(x) || x < min || x > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${String(value)}`);
  return x;
}

export async function detectorBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { silent: { type: 'string' }, runs: { type: 'string' } }, strict: true });
  const silent = count('silent', values.silent, 20, 0, 1_000);
  const runs = count('runs', values.runs, 5, 1, 99);
  const progress = (line: string) => {
    console.error(`bench detector: ${line}`);
  };
  progress('starting DynamoDB Local (in memory) and the local stack on the warm-up table');
  // The stack gives the engine and the client; the detector runs here, on each table and index layout in turn.
  const stack = await startLocalStack({ tableName: 'detector-warm-up', settings, clock: () => now });
  const client = stack.dynamo;
  const meter = new ReadMeter().attach(client);
  const counter = new RequestCounter().attach(client);
  const figures: [string, string | number][] = [];
  const results = new Map<number, Measured>();
  const next = new Map<number, Measured>();
  const legacy = new Map<number, Measured>();
  const legacyNext = new Map<number, Measured>();
  try {
    progress('warming up: 5 runs on 500 sites (uncounted)');
    const warmStates = seedStates(500, silent);
    await seed(client, 'detector-warm-up', warmStates);
    await firstRuns(client, meter, counter, 'detector-warm-up', warmStates.slice(0, silent), 5, 'sharded');
    await firstRuns(client, meter, counter, 'detector-warm-up', warmStates.slice(0, silent), 5, 'legacy');
    for (const sites of sizes) {
      const tableName = `detector-${String(sites)}`;
      progress(`seeding ${sites} sites, ${silent} of them silent`);
      const states = seedStates(sites, silent);
      await ensureTable(client, tableName);
      await seed(client, tableName, states);
      progress(`${runs} first runs over ${sites} sites, then the next bucket's`);
      results.set(sites, await firstRuns(client, meter, counter, tableName, states.slice(0, silent), runs, 'sharded'));
      progress(`${runs} first runs over ${sites} sites on the old index`);
      legacy.set(sites, await firstRuns(client, meter, counter, tableName, states.slice(0, silent), runs, 'legacy'));
      // A bucket later the live sites have heartbeated on (filed under later buckets); the silent ones stay marked.
      progress(`the live sites heartbeat on for a bucket; one more run on each layout`);
      const later = now + settings.dueBucketMs;
      await seed(client, tableName, seedStates(sites, silent, later).slice(silent));
      next.set(sites, await measure(client, meter, counter, tableName, 'sharded', later));
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: marshall(detectorCursorKey),
          UpdateExpression: 'SET #b = #b - :one',
          ExpressionAttributeNames: { '#b': 'bucket' },
          ExpressionAttributeValues: marshall({ ':one': 1 }),
        }),
      );
      legacyNext.set(sites, await measure(client, meter, counter, tableName, 'legacy', later));
    }
  } finally {
    await stack.stop();
  }

  const bucketsPerMonth = monthMs / settings.dueBucketMs;
  const indexWrites = 2 * bucketsPerMonth;
  figures.push(
    [
      'settings',
      `silenceMs ${settings.silenceMs}, dueBucketMs ${settings.dueBucketMs}, index lag margin 10000 ms, first run looks back ${defaultDetectorLimits.lookbackBuckets} buckets`,
    ],
    ['silent_sites', silent],
    ['due_index_shards', dueShards()],
    ['runs', `${runs} first runs per size (run_ms: their median), then the next bucket's run`],
  );
  for (const [sites, m] of results) {
    figures.push(
      [`detector_items_read_${sites}`, m.run.itemsRead],
      [`detector_items_handed_back_${sites}`, m.itemsHanded],
      [`detector_run_ms_${sites}`, m.ms.toFixed(1)],
      [`detector_buckets_${sites}`, m.run.buckets],
      [`detector_sites_listed_${sites}`, m.run.sitesListed],
      [`detector_marked_${sites}`, m.run.marked],
      [`detector_requests_${sites}`, m.requests],
      [`detector_rru_${sites}`, m.rru.toFixed(1)],
      [`detector_wru_${sites}`, m.wru.toFixed(1)],
    );
    const later = next.get(sites);
    if (later) {
      figures.push(
        [`detector_next_run_items_read_${sites}`, later.run.itemsRead],
        [`detector_next_run_ms_${sites}`, later.ms.toFixed(1)],
        [`detector_next_run_requests_${sites}`, later.requests],
      );
    }
  }
  for (const [sites, m] of legacy) {
    const sharded = results.get(sites);
    const later = legacyNext.get(sites);
    figures.push(
      [`legacy_detector_items_read_${sites}`, m.run.itemsRead],
      [`legacy_detector_run_ms_${sites}`, m.ms.toFixed(1)],
      [`legacy_detector_requests_${sites}`, m.requests],
      [`legacy_detector_rru_${sites}`, m.rru.toFixed(1)],
      [`legacy_detector_marked_${sites}`, m.run.marked],
    );
    if (later)
      figures.push(
        [`legacy_detector_next_run_ms_${sites}`, later.ms.toFixed(1)],
        [`legacy_detector_next_run_requests_${sites}`, later.requests],
      );
    if (sharded) {
      figures.push(
        [`sharded_vs_legacy_run_ms_ratio_${sites}`, (sharded.ms / Math.max(0.001, m.ms)).toFixed(3)],
        [`sharded_vs_legacy_rru_ratio_${sites}`, (sharded.rru / Math.max(0.001, m.rru)).toFixed(3)],
      );
    }
    const shardedNext = next.get(sites);
    if (later && shardedNext)
      figures.push([`sharded_vs_legacy_next_run_ms_ratio_${sites}`, (shardedNext.ms / Math.max(0.001, later.ms)).toFixed(3)]);
  }
  const small = results.get(sizes[0]);
  const large = results.get(sizes[1]);
  if (small && large) {
    figures.push(
      ['detector_items_read_ratio', (large.run.itemsRead / Math.max(1, small.run.itemsRead)).toFixed(3)],
      ['detector_run_ms_ratio', (large.ms / Math.max(0.001, small.ms)).toFixed(3)],
      ['sites_ratio', (sizes[1] / sizes[0]).toFixed(3)],
    );
  }
  // Sites move at their first contact after a boundary, the first of two nodes at cadence T: 2N/T moves a second at first, each a put into the new key.
  const fleet = 1_000_000;
  const peak = (cadenceMs: number, shards: number) => ((2 * fleet) / (cadenceMs / 1_000) / shards).toFixed(0);
  figures.push(
    ['peak_wcu_per_partition_1000000_sites_slow_legacy', peak(settings.slowHeartbeatMs, 1)],
    ['peak_wcu_per_partition_1000000_sites_fast_legacy', peak(settings.fastHeartbeatMs, 1)],
    ['peak_wcu_per_partition_1000000_sites_slow_sharded', peak(settings.slowHeartbeatMs, dueShards())],
    ['peak_wcu_per_partition_1000000_sites_fast_sharded', peak(settings.fastHeartbeatMs, dueShards())],
    ['partition_write_limit_wcu', 1_000],
  );
  figures.push(
    ['due_index_buckets_per_site_month', bucketsPerMonth],
    ['due_index_writes_per_site_month', indexWrites],
    ['due_index_usd_per_site_month', `$${(indexWrites * prices.dynamoWriteUnit.usd).toFixed(4)}`],
    ['due_index_price', prices.dynamoWriteUnit.source],
  );
  // DynamoDB Local reports no capacity for a Query that finds nothing (the rru figures above leave
  // them out); DynamoDB charges such a Query 0.5 RRU (eventually consistent, 4 KB started). What the
  // detector's S Queries a bucket cost a deployment, whatever its size:
  const emptyQueryRru = 0.5;
  const shardRruPerMonth = dueShards() * emptyQueryRru * bucketsPerMonth;
  figures.push(
    ['detector_shard_queries_per_bucket', dueShards()],
    ['detector_shard_query_rru_per_month', shardRruPerMonth],
    ['detector_shard_query_usd_per_month', `$${(shardRruPerMonth * prices.dynamoReadUnit.usd).toFixed(2)}`],
    ['detector_shard_query_price', prices.dynamoReadUnit.source],
  );
  for (const [name, value] of figures) console.log(`${name}: ${String(value)}`);
  const wrong = [...results.values(), ...legacy.values()].filter((m) => m.run.marked !== silent || m.run.itemsRead !== m.itemsHanded);
  if (wrong.length > 0)
    console.error(
      'bench detector: a run did not mark exactly the silent sites, or its count of items read differs from the items DynamoDB handed back',
    );
  return wrong.length === 0 ? 0 : 1;
}
