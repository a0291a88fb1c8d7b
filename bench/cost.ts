/**
 * `npm run cost [-- options]` (or `npm run bench -- cost`): what one site costs a month, from a
 * measured day. One process, one DynamoDB Local (in memory), the local server running the real
 * handlers, and one simulated site-day (`site-day.ts`): the two agents' own cores on a virtual
 * clock, at their default timings, sending the witness over real HTTP what they would send in 24 h
 * (slow 60 s heartbeats while the peer link is up, fast 5 s ones when it is lost, at the cadence
 * the witness's answers set), through a typical day's events: one peer link loss (default 10 min
 * at 06:00) and one failure of the primary (default at 14:00, back after 30 min: failover claims,
 * promote/demote commands and their acks, recovery). The witness's clock is the virtual one (its
 * deps' `now`, as tests inject it); each Lambda function gets deps of its own, as each runs in
 * its own environments. Before the day, uncounted: the site's start-up (`--warmup-min`, default
 * 10) and `--engine-warmup` requests (default 2,000) on another site, so that the engine's JVM
 * and this process's JIT are warm, as a Lambda environment and DynamoDB that have been serving are.
 *
 * Measured over the day:
 * - API requests the local runtime serves: count and body bytes (HTTP API meters per 512 KB);
 * - handler invocations per function with their wall time in this process (Lambda bills per ms,
 *   at the memory size lib/witness-function.ts sets);
 * - DynamoDB requests per command (`RequestCounter`), and capacity units (`CapacityMeter`): the
 *   units DynamoDB Local reports with `ReturnConsumedCapacity: 'TOTAL'`, and the same worked out
 *   from item sizes (WRU = ceil(max(old, new) / 1 KB)), which also covers failed conditional
 *   writes (billed, but they report nothing);
 * - the witness's own log lines at `--log-level` (default INFO: the stack sets no level), caught
 *   and counted, not printed. The logger takes its level from POWERTOOLS_LOG_LEVEL when its module
 *   loads, so the bench sets it (whatever `npm run cost` says) before loading the handlers.
 *
 * Modelled, since they cannot be measured here, with the day's measured values in them: Lambda's
 * own log events per invocation (`--platform-logs`, default json: the stack's loggingFormat) and
 * the HTTP API's access log line per request (the stack's fields).
 *
 * The due index's writes (the silence detector's: a site moves to a new bucket once a bucket, 2
 * index writes) are measured with the day's writes: the engine reports each index's units apart.
 * The silence detector itself is a cost of the deployment, not of a site: it runs every minute
 * whatever the number of sites (a consistent GetItem of its cursor a run, a Query and a cursor
 * UpdateItem a bucket, one Lambda invocation a run, of the wall time measured on this table after
 * the day); it is priced apart and added to the fleet figures beside the other fixed costs.
 *
 * The event path (`event-path.ts`, `event-path-usage.ts`): the day's stream records are replayed
 * after the day, not inside it (the publisher beside the agents would add its time to the
 * witness's, and the incident timers are SQS delays in real seconds), through the local stack's
 * publisher and incidents runtime (`startLocalStack` with `run.events` and `run.incidents`) on
 * fauxqs and the same DynamoDB Local, on a clock of their own: one site's records in the batches
 * one 5 s batching window makes, the incidents queue drained by the stack's queue poller, the
 * trackers' changes back through the stream and the publisher, delayed
 * timers held and sent when the replay's clock reaches them. Measured there: every DynamoDB request
 * and its units, every SNS and SQS call, the events, the incident messages and deliveries, each
 * invocation's time and log lines. Modelled: the publisher's invocations in AWS, where the window
 * gathers all sites' records (records ÷ the batch fill at `--fleet-sites`, 1,000 by default: full
 * batches of 100), each as long as a full batch of the same records takes (timed apart); the
 * reseller's receive and delete of each service-queue message; Lambda's platform log events of
 * both functions. Not priced, and said so: Lambda's polling of the idle incidents queue (a cost
 * per deployment whose rate the dated table does not give), SMS (no list price there).
 *
 * The webhook path (`webhook-path.ts`), in the same replay: the outbox takes every event of the
 * topic, so every site pays its router (variant `none`: a reseller with no endpoints, in the
 * headline); a reseller with one endpoint (variant `endpoint`, at a local receiver) adds its
 * messages, tries, delivery log and its message records through the publisher: priced apart, as
 * what an endpoint adds. The bytes POSTed out are counted, not priced (no data transfer price in
 * the dated table).
 *
 * The run has four steps, one function each: `measureDay` (the day and its replay, on the local
 * stack), `usageOf` (the measurements as usage records, `usage-site-month.ts`: counts, no
 * prices; `--usage-json <file>` writes them out), `price` (`price.ts`: the records in dollars at
 * the dated list prices of `prices.ts`) and the figures printed from each: the day × 30 per
 * service and per site-month, with an HTTP API front and with function URLs; per site at 1,000
 * and 100,000 sites with the account's free tiers and the fixed costs; and the worked check of
 * aws-prices.md recomputed with the same `price`, with the difference per service. Prints
 * `name: value` lines on stdout (progress and the day's timeline go to stderr; `--quiet` leaves
 * the timeline out); exits 1 if a witness request failed.
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoClientConfig, type WitnessDeps } from '../functions/adapters/config.ts';
import { signNodeToken } from '../functions/adapters/node-token.ts';
import { RequestCounter } from '../functions/adapters/request-counter.ts';
import { ensureTable } from '../functions/adapters/table.ts';
import { defaultSettings } from '../functions/domain/settings.ts';
import { newSite } from '../functions/domain/site-state.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import type { LocalStack } from '../local/local-stack.ts';
import { WitnessClient, type WitnessResult } from '../agent/io/witness-client.ts';
import { CapacityMeter } from './ddb-meter.ts';
import { webhookRetentionMs } from '../functions/adapters/webhook-message-store.ts';
import { type Escalation, EventPath, type EventPathResult, streamBatchSize } from './event-path.ts';
import {
  type EventPathDay,
  eventPathDay,
  eventPathFigures,
  type WebhookPathDay,
  webhookPathDay,
  webhookPathFigures,
  webhookPrefix,
} from './event-path-usage.ts';
import { LogCapture } from './log-capture.ts';
import { type Bill, gib, listPrices, price, pricingNotes, type Service } from './price.ts';
import { prices } from './prices.ts';
import { runSiteDay, type SiteDayResult } from './site-day.ts';
import { addUsage, daysPerMonth, gbSecondsOf, type Usage } from './usage.ts';
import {
  linesBytes,
  type PlatformLogFormat,
  platformFormatNote,
  platformLogBytes,
  accessLogLine,
  serverOrigin,
} from './usage-modelled-logs.ts';
import {
  billedMsOf,
  detectorMonth,
  eventPathMonth,
  httpApiUnits,
  type MeasuredInvocation,
  type SiteMonth,
  siteMonth,
  type StackFacts,
  type UsageRecord,
  webhookMonth,
  witnessMonth,
} from './usage-site-month.ts';
import { endpointEventTypes } from './webhook-path.ts';
import { detectSilence } from '../functions/jobs/detect-silence.ts';

const tableName = 'tiebreak-cost';
const resellerId = 'cost';
const siteId = 'site-day';
const nodeIds = ['node-a', 'node-b'];
const dayMs = 24 * 3_600_000;
/** Lambda's (and CDK's) default, if lib/ cannot say. */
const defaultMemoryMb = 128;
/** Log retention if lib/ cannot say. */
const defaultRetentionDays = 30;
/** The fleets the per-site figures are also given for (free tiers and fixed costs shared). */
const fleetSizes = [1_000, 100_000];

interface Options {
  warmupMin: number;
  linkLossAtH: number;
  linkLossMin: number;
  failureAtH: number;
  outageMin: number;
  /** From lib/ unless given. */
  memoryMb: number | undefined;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  rttMs: number;
  engineWarmup: number;
  platformLogs: PlatformLogFormat;
  escalation: Escalation;
  /** The fleet the per-site figure assumes for the publisher's batch fill. */
  fleetSites: number;
  streamShards: number;
  /** Where to write the usage record as JSON, if anywhere. */
  usageJson: string | undefined;
  quiet: boolean;
}

type Figure = [string, string | number];

/** Everything the run measured: the day on the witness, its replay through the event and webhook paths, the detector's time. */
interface MeasuredDay {
  day: SiteDayResult;
  invocations: MeasuredInvocation[];
  requests: RequestCounter;
  capacity: CapacityMeter;
  witnessLogLines: number;
  events: EventPathResult;
  detector: { meanMs: number; runs: number };
  stack: StackFacts & { memorySource: string; retentionSource: string };
  /** Witness requests that failed, and event or webhook path failures. */
  failed: number;
}

export async function costBench(args: string[]): Promise<number> {
  const o = parseOptions(args);
  const progress = (line: string) => {
    console.error(`bench cost: ${line}`);
  };
  const measured = await measureDay(o, progress);
  const witness = witnessDay(measured, o);
  const usage = usageOf(measured, witness, o);
  if (o.usageJson !== undefined) {
    await writeFile(o.usageJson, `${JSON.stringify(usage, null, 2)}\n`);
    progress(`usage record written to ${o.usageJson}`);
  }
  const figures: Figure[] = [
    ...witnessFigures(measured, witness, o),
    ...pathFigures(measured, o),
    ...costFigures(measured, usage),
    ...workedCheckFigures(price(usage.perSiteMonth.total, listPrices, { front: 'http-api' }), measured.invocations.length),
    ['errors', measured.failed],
  ];
  for (const [name, value] of figures) console.log(`${name}: ${String(value)}`);
  return measured.failed === 0 ? 0 : 1;
}

/** The measured day and its replay, on DynamoDB Local, the local server and fauxqs, torn down after. */
async function measureDay(o: Options, progress: (line: string) => void): Promise<MeasuredDay> {
  progress('starting DynamoDB Local (in memory)');
  const engine = await startDynamoDbLocal({});
  const client = new DynamoDBClient(localDynamoClientConfig(engine.endpoint));
  const requests = new RequestCounter().attach(client);
  const capacity = new CapacityMeter().attach(client);
  const logs = new LogCapture('tiebreak-witness');
  let server: LocalStack | undefined;
  let eventPath: EventPath | undefined;
  try {
    await ensureTable(client, tableName);
    progress("starting fauxqs (SNS and SQS, in memory) and the event path's queues");
    eventPath = await EventPath.start({
      dynamoEndpoint: engine.endpoint,
      tableName,
      resellerId,
      siteId,
      escalation: o.escalation,
      now: serverOrigin,
    });
    const path = eventPath;
    let witnessNow = serverOrigin;
    let counting = false;
    let invocations: MeasuredInvocation[] = [];
    const startLocalStack = await loadLocalStack(o.logLevel);
    server = await startLocalStack({
      dynamodb: { endpoint: engine.endpoint },
      dynamo: client,
      tableName,
      clock: () => witnessNow,
      depsPerFunction: true,
      onInvocation: (invocation) => {
        const logBytes = logs.take();
        if (counting) invocations.push({ ...invocation, logBytes });
      },
    });
    const { tokenKey, witness: setupDeps } = server;
    // With its customer and listing, as the reseller API creates it: the incidents function reads them.
    await path.createSite(newSite({ resellerId, siteId, nodeIds }), nodeIds, serverOrigin);
    const tokens = Object.fromEntries(
      nodeIds.map((nodeId) => [nodeId, signNodeToken(tokenKey, { resellerId, siteId, nodeId, tokenVersion: 1 })]),
    );

    const stack = await stackFacts(o.memoryMb);
    logs.start();
    progress(`warming the stack up: ${o.engineWarmup} requests on another site (uncounted)`);
    // The witness's clock moves on through the warm-up, as it would: its per-token rate limit (10 a
    // second, 50 at once) refuses a frozen clock's 51st request.
    await warmUp(server.url, tokenKey, setupDeps, o.engineWarmup, () => {
      witnessNow += warmUpStepMs;
    });
    const countFromMs = o.warmupMin * 60_000;
    progress(`simulating ${o.warmupMin} min of start-up, then 24 h counted (virtual time)`);
    const day = await runSiteDay({
      witnessUrl: server.url,
      tokens,
      countFromMs,
      dayMs,
      linkLoss: o.linkLossMin > 0 ? { atMs: countFromMs + o.linkLossAtH * 3_600_000, forMs: o.linkLossMin * 60_000 } : null,
      failure: o.outageMin > 0 ? { atMs: countFromMs + o.failureAtH * 3_600_000, downMs: o.outageMin * 60_000 } : null,
      witnessRttMs: o.rttMs,
      peerDelayMs: 1,
      hookMs: { promote: 2_000, demote: 1_000 },
      setWitnessTime: (virtualMs) => {
        witnessNow = serverOrigin + Math.round(virtualMs);
      },
      onCountStart: async () => {
        // Where the day starts on the table's stream (a marker item, on a client of its own).
        await path.mark('start');
        counting = true;
        invocations = [];
        requests.reset();
        capacity.reset();
        logs.reset();
      },
      progress,
    });
    const witnessLogLines = logs.lines;
    await path.mark('end');
    if (!o.quiet) for (const line of day.timeline) console.error(`bench cost: day ${line}`);
    progress(`simulated in ${(day.wallMs / 1000).toFixed(1)} s wall (${day.steps} events)`);
    const replayStarted = performance.now();
    const events = await path.replay(defaultSettings, serverOrigin + countFromMs, logs, progress);
    logs.stop();
    progress(`event path replayed in ${((performance.now() - replayStarted) / 1000).toFixed(1)} s wall`);
    progress('timing the silence detector: a minute apart, on this table, after the day');
    const detector = await timeDetector(engine.endpoint, witnessNow);
    return {
      day,
      invocations,
      requests,
      capacity,
      witnessLogLines,
      events,
      detector,
      stack,
      failed: day.failedRequests + events.failures.length,
    };
  } finally {
    logs.stop();
    await eventPath?.stop();
    await server?.stop();
    client.destroy();
    await engine.stop();
  }
}

/** The witness's day, added up from its invocations and capacity units (the units billed: reported where the engine reports them, from item sizes where not). */
function witnessDay({ invocations, capacity, stack }: MeasuredDay, o: Options) {
  const writes = capacity.writes();
  const reads = capacity.reads();
  const tableWru = writes.reduce((sum, w) => sum + (w.unitsReported ?? w.unitsBySize), 0);
  const indexWru = writes.reduce((sum, w) => sum + w.indexUnitsReported, 0);
  return {
    writes,
    tableWru,
    indexWru,
    wru: tableWru + indexWru,
    rru: reads.reduce((sum, r) => sum + (r.unitsReported ?? r.unitsBySize), 0),
    billedMs: invocations.reduce((sum, i) => sum + billedMsOf(i.durationMs), 0),
    apiUnits: invocations.reduce((sum, i) => sum + httpApiUnits(i), 0),
    storedItemBytes: writes.at(-1)?.newBytes ?? 0,
    handlerLogBytes: invocations.reduce((sum, i) => sum + i.logBytes, 0),
    platformLogBytes: invocations.reduce((sum, i) => sum + platformLogBytes(o.platformLogs, i.durationMs, stack.memoryMb), 0),
    accessLogBytes: invocations.reduce((sum, i) => sum + linesBytes([accessLogLine(i)]), 0),
  };
}
type WitnessDay = ReturnType<typeof witnessDay>;

/** The measurements as usage records: a site's month in parts, at the headline fleet size and the others, and the detector's month. */
function usageOf(m: MeasuredDay, w: WitnessDay, o: Options): UsageRecord {
  const witness = witnessMonth({
    invocations: m.invocations,
    writeUnits: w.wru,
    readUnits: w.rru,
    storedItemBytes: w.storedItemBytes,
    platformLogs: o.platformLogs,
    stack: m.stack,
  });
  const atFleet = (sites: number) => siteMonthAt(m, witness, o, sites);
  return {
    daysPerMonth,
    fleetSites: o.fleetSites,
    perSiteMonth: atFleet(o.fleetSites),
    perSiteMonthInFleet: Object.fromEntries(fleetSizes.map((sites) => [String(sites), atFleet(sites).total])),
    perDeploymentMonth: {
      detector: detectorMonth({
        meanMs: m.detector.meanMs,
        dueBucketMs: defaultSettings.dueBucketMs,
        platformLogs: o.platformLogs,
        stack: m.stack,
      }),
    },
  };
}

/** The event and webhook paths' days at a fleet size: the publisher's invocations depend on how full the fleet's batches are. */
function pathDays(m: MeasuredDay, o: Options, sites: number): { eventPath: EventPathDay; webhooks: WebhookPathDay[] } {
  const platformBytes = (durationMs: number) => platformLogBytes(o.platformLogs, durationMs, m.stack.memoryMb);
  const shape = { sites, shards: o.streamShards, platformLogBytes: platformBytes };
  return { eventPath: eventPathDay(m.events, shape), webhooks: m.events.webhooks.map((w) => webhookPathDay(w, m.events, shape)) };
}

function siteMonthAt(m: MeasuredDay, witness: Usage, o: Options, sites: number): SiteMonth {
  const days = pathDays(m, o, sites);
  return siteMonth({
    witness,
    eventPath: eventPathMonth(days.eventPath, m.stack),
    webhookPath: webhookMonth(variantDay(days.webhooks, 'none'), m.stack),
    webhookPathWithEndpoint: webhookMonth(variantDay(days.webhooks, 'endpoint'), m.stack),
  });
}

/** What the witness's day measured (notes about measuring beside them). */
function witnessFigures(m: MeasuredDay, w: WitnessDay, o: Options): Figure[] {
  const { invocations, requests, capacity, day, stack } = m;
  const byFunction = groupBy(invocations, (i) => i.functionName);
  const durations = invocations.map((i) => i.durationMs);
  const reportedWrites = w.writes.filter((x) => x.unitsReported !== undefined);
  const wruBySize = w.writes.reduce((sum, x) => sum + x.unitsBySize, 0);
  const itemSizes = w.writes.map((x) => Math.max(x.oldBytes, x.newBytes));
  const gbSeconds = (w.billedMs / 1000) * (stack.memoryMb / 1024);
  const statuses = groupBy(invocations, (i) => `${i.functionName} ${i.status}`);
  return [
    [
      'scenario',
      `${o.warmupMin} min start-up uncounted, then 24 h: peer link lost ${o.linkLossMin} min at ${hhmm(o.linkLossAtH)}, primary fails at ${hhmm(o.failureAtH)} and is back after ${o.outageMin} min`,
    ],
    ['agent_timings', 'defaults (agent/core/settings.ts); witness settings defaults: lease 15 s, heartbeats 5 s fast / 60 s slow'],
    ['witness_rtt_ms_modelled', o.rttMs],
    ...Object.entries(day.events)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([what, n]): Figure => [
        `day_${what
          .replace(/[^a-z0-9]+/gi, '_')
          .replace(/_$/, '')
          .toLowerCase()}`,
        n,
      ]),
    [
      'day_final_roles',
      Object.entries(day.finalRoles)
        .map(([id, role]) => `${id} ${role}`)
        .join(', '),
    ],
    ['api_requests_per_day', invocations.length],
    ...[...statuses].map(([key, list]): Figure => [`api_requests_per_day_${key.replace('tiebreak-', '').replace(' ', '_')}`, list.length]),
    ['api_request_bytes_mean', fixed(mean(invocations.map((i) => i.requestBytes)), 0)],
    ['api_response_bytes_mean', fixed(mean(invocations.map((i) => i.responseBytes)), 0)],
    ['api_request_bytes_max', Math.max(0, ...invocations.map((i) => i.requestBytes))],
    ['api_response_bytes_max', Math.max(0, ...invocations.map((i) => i.responseBytes))],
    ['api_meter_units_per_day', w.apiUnits],
    ...[...byFunction].map(([name, list]): Figure => [`lambda_invocations_per_day_${name.replace('tiebreak-', '')}`, list.length]),
    ['lambda_duration_ms_mean', fixed(mean(durations), 2)],
    ['lambda_duration_ms_p50', fixed(percentile(durations, 50), 2)],
    ['lambda_duration_ms_p99', fixed(percentile(durations, 99), 2)],
    ['lambda_duration_ms_max', fixed(Math.max(0, ...durations), 2)],
    ['lambda_billed_ms_per_day', w.billedMs],
    ['lambda_memory_mb', stack.memoryMb],
    ['lambda_memory_source', stack.memorySource],
    ['lambda_gb_s_per_day', fixed(gbSeconds, 3)],
    ['ddb_requests_per_day', requests.total()],
    ...[...requests.byCommand]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([command, n]): Figure => [`ddb_${command.replace(/Command$/, '')}_per_day`, n]),
    ['ddb_unmetered_commands', capacity.unmetered.size === 0 ? 'none' : [...capacity.unmetered].map(([c, n]) => `${c} ${n}`).join(', ')],
    ['ddb_failed_conditional_writes_per_day', w.writes.filter((x) => !x.applied).length],
    ['ddb_wru_per_day', fixed(w.wru, 1)],
    ['ddb_wru_per_day_table', fixed(w.tableWru, 1)],
    ['ddb_wru_per_day_due_index', fixed(w.indexWru, 1)],
    [
      'ddb_due_index_note',
      `the silence detector's due index: 2 writes each time the site moves to a new ${defaultSettings.dueBucketMs / 60_000} min bucket, none for a heartbeat in the same bucket`,
    ],
    ['ddb_wru_per_day_by_item_size', fixed(wruBySize, 1)],
    [
      'ddb_wru_reported_by_engine',
      `${reportedWrites.length} of ${w.writes.length} writes (DynamoDB Local reports ConsumedCapacity for applied writes and reads, not for failed conditional writes)`,
    ],
    [
      'ddb_wru_reported_matches_size',
      reportedWrites.every((x) => x.unitsReported === x.unitsBySize)
        ? 'yes (table units; index units apart)'
        : `no: ${reportedWrites.filter((x) => x.unitsReported !== x.unitsBySize).length} differ`,
    ],
    ['ddb_wru_per_write_mean', fixed(w.tableWru / Math.max(1, w.writes.length), 3)],
    ['ddb_item_bytes_p50', percentile(itemSizes, 50)],
    ['ddb_item_bytes_max', Math.max(0, ...itemSizes)],
    ['ddb_writes_over_1kb', itemSizes.filter((b) => b > 1024).length],
    ['ddb_rru_per_day', fixed(w.rru, 1)],
    [
      'ddb_latency_ms_p50',
      fixed(
        percentile(
          capacity.requests.map((r) => r.latencyMs),
          50,
        ),
        2,
      ),
    ],
    [
      'ddb_latency_ms_p99',
      fixed(
        percentile(
          capacity.requests.map((r) => r.latencyMs),
          99,
        ),
        2,
      ),
    ],
    ['ddb_latency_ms_max', fixed(Math.max(0, ...capacity.requests.map((r) => r.latencyMs)), 2)],
    ['ddb_item_bytes_stored', w.storedItemBytes],
    ['log_level', o.logLevel],
    ['logs_handler_lines_per_day', m.witnessLogLines],
    ['logs_handler_bytes_per_day', w.handlerLogBytes],
    ['logs_platform_format', platformFormatNote[o.platformLogs]],
    ['logs_platform_bytes_per_day_modelled', w.platformLogBytes],
    ['logs_api_access_bytes_per_day_modelled', w.accessLogBytes],
    ['logs_bytes_per_invocation_lambda', fixed((w.handlerLogBytes + w.platformLogBytes) / Math.max(1, invocations.length), 0)],
    ['logs_bytes_per_request_api_access', fixed(w.accessLogBytes / Math.max(1, invocations.length), 0)],
    ['logs_retention_days', stack.retentionDays],
    ['logs_retention_source', stack.retentionSource],
  ];
}

/** What the replay measured of the event and webhook paths, per site-day at the headline fleet size. */
function pathFigures(m: MeasuredDay, o: Options): Figure[] {
  const { events, stack } = m;
  const headline = pathDays(m, o, o.fleetSites);
  const d = headline.eventPath;
  const smallFleet = 10;
  return [
    ...eventPathFigures(events),
    ['publisher_batch_window_s', events.windowMs / 1000],
    ['publisher_batch_size_max', streamBatchSize],
    ['publisher_stream_shards_assumed', o.streamShards],
    [`publisher_batch_fill_at_${o.fleetSites}_sites`, fixed(d.publisherFill, 1)],
    [
      'publisher_batch_fill_note',
      `the ${events.windowMs / 1000} s window gathers every site's records: ${fixed(((events.deliveredDay + events.deliveredTrackers) * o.fleetSites) / 86_400, 1)} a second at ${o.fleetSites} sites, ` +
        `so a batch holds min(100, that × ${events.windowMs / 1000} s ÷ shards); with k shards (the table's partitions) divide by k (--stream-shards)`,
    ],
    ['publisher_invocations_per_site_day', fixed(d.publisherInvocations, 2)],
    [`publisher_invocations_per_site_day_at_${smallFleet}_sites`, fixed(pathDays(m, o, smallFleet).eventPath.publisherInvocations, 1)],
    ['publisher_billed_ms_per_invocation', d.publisherBilledMsPerInvocation],
    ['lambda_invocations_per_site_day_event_path', fixed(d.publisherInvocations + d.incidentsInvocations, 2)],
    ['lambda_billed_ms_per_site_day_event_path', fixed(d.billedMs, 0)],
    ['ddb_wru_per_site_day_event_path', fixed(d.wru, 1)],
    ['ddb_wru_per_site_day_event_path_index', fixed(d.wruIndex, 1)],
    ['ddb_rru_per_site_day_event_path', fixed(d.rru, 1)],
    ['ddb_audit_trail_bytes_per_site_month', fixed(d.storedBytesAdded * daysPerMonth, 0)],
    ['ddb_audit_trail_note', 'the audit trail has no TTL: its storage grows by that much every month (priced here: one month of it)'],
    [
      'logs_event_path_bytes_per_site_day',
      `${fixed(d.handlerLogBytes, 0)} handler lines (measured) + ${fixed(d.platformLogBytes, 0)} platform events (modelled per invocation)`,
    ],
    ['sns_publishes_billed_per_site_day', d.snsPublishesBilled],
    ['sns_email_notifications_per_site_day', d.snsEmails],
    ['sns_sms_per_site_day', `${d.snsSms} (not priced: aws-prices.md gives SMS no list price)`],
    [
      'sqs_requests_billed_per_site_day',
      `${d.sqsRequestsBilled} measured + ${d.sqsConsumerModelled} modelled (the reseller's tool: a receive and a delete per service-queue message)`,
    ],
    ...webhookFigures(events, headline.webhooks, stack),
  ];
}

const usdByService = (bill: Bill, services: Service[]) => services.map((s) => `${s} ${usd(bill.byService[s])}`).join(', ');

/** The usage records in dollars: a site's month per service, its parts, the detector, the fleets. */
function costFigures(m: MeasuredDay, usage: UsageRecord): Figure[] {
  const site = usage.perSiteMonth;
  const list = price(site.total, listPrices, { front: 'http-api' });
  const listWithoutWebhooks = price(addUsage(site.witness, site.eventPath), listPrices, { front: 'http-api' });
  const listUrls = price(site.total, listPrices, { front: 'function-urls' });
  const listWitness = price(site.witness, listPrices, { front: 'http-api' });
  const listPath = price(site.eventPath, listPrices, { front: 'function-urls' });
  // The webhook variants behind no API: function URLs.
  const none = price(site.webhookPath, listPrices, { front: 'function-urls' });
  const endpoint = price(site.webhookPathWithEndpoint, listPrices, { front: 'function-urls' });
  const detectorUsage = usage.perDeploymentMonth.detector;
  const detectorCost = price(detectorUsage, listPrices, { front: 'function-urls' }).total;
  const pathServices: Service[] = ['lambda', 'dynamodb', 'logs', 'sns', 'sqs'];
  return [
    ['prices', pricingNotes.prices],
    ['dynamodb_usd_per_site_month', usd(list.byService.dynamodb)],
    ['http_api_usd_per_site_month', usd(list.byService.api)],
    ['lambda_usd_per_site_month', usd(list.byService.lambda)],
    ['logs_usd_per_site_month', usd(list.byService.logs)],
    ['sns_usd_per_site_month', usd(list.byService.sns)],
    ['sqs_usd_per_site_month', usd(list.byService.sqs)],
    ['sns_sqs_usd_per_site_month', usd(list.byService.sns + list.byService.sqs)],
    ['event_path_usd_per_site_month', usd(listPath.total)],
    ['event_path_usd_by_service', usdByService(listPath, pathServices)],
    ['webhook_path_usd_per_site_month', usd(none.total, 5)],
    ['webhook_path_usd_by_service', usdByService(none, pathServices)],
    ['webhook_path_with_endpoint_usd_per_site_month', usd(endpoint.total, 5)],
    ['webhook_path_with_endpoint_usd_by_service', usdByService(endpoint, pathServices)],
    ['webhook_endpoint_adds_usd_per_site_month', usd(endpoint.total - none.total, 5)],
    [
      'webhook_endpoint_note',
      'what a reseller with one endpoint (the conditions and incident steps) adds to each of its sites, beyond the no-endpoint path every site pays; not in cost_per_site_month',
    ],
    ['cost_per_site_month_witness_only', usd(listWitness.total)],
    ['sns_sqs_note', pricingNotes.sns_sqs_note],
    ['sqs_idle_polling_note', pricingNotes.sqs_idle_polling_note],
    ['cost_per_site_month', usd(list.total)],
    [
      'cost_per_site_month_note',
      'witness + event path + the webhook path with no endpoint (every site: the outbox takes every event); an endpoint adds webhook_endpoint_adds_usd_per_site_month',
    ],
    ['cost_per_site_month_without_webhook_path', usd(listWithoutWebhooks.total)],
    ['cost_per_site_month_goal', '$0.25'],
    ['cost_per_site_month_function_urls', usd(listUrls.total)],
    ['detector_runs_per_month', Object.values(detectorUsage.functions).reduce((sum, f) => sum + f.invocations, 0)],
    ['detector_run_ms_mean', fixed(m.detector.meanMs, 1)],
    ['detector_runs_timed', `${m.detector.runs} runs a minute apart after the day (the first one, with no cursor yet, left out)`],
    ['detector_usd_per_month', usd(detectorCost)],
    [
      'detector_note',
      'per deployment, whatever the number of sites: Lambda (a run a minute), DynamoDB (cursor GetItem a run; Query and cursor UpdateItem a bucket), its log lines; no free tier taken off',
    ],
    ...fleetSizes.flatMap((sites): Figure[] => {
      const month = usage.perSiteMonthInFleet[String(sites)]!;
      const fleet = price(month, listPrices, { front: 'http-api', sites, account: true }).total + detectorCost;
      const fleetUrls = price(month, listPrices, { front: 'function-urls', sites, account: true }).total + detectorCost;
      return [
        [`cost_per_site_month_at_${sites}_sites`, usd(fleet / sites)],
        [`cost_per_site_month_function_urls_at_${sites}_sites`, usd(fleetUrls / sites)],
        [`cost_per_month_at_${sites}_sites`, usd(fleet, 2)],
      ];
    }),
    ['fleet_free_tiers', pricingNotes.fleet_free_tiers],
    ['fleet_fixed_usd_per_month', usd(prices.secretMonth.usd + detectorCost, 2)],
    ['fleet_fixed_note', pricingNotes.fleet_fixed_note],
    ['logs_note', pricingNotes.logs_note],
    ['left_out', pricingNotes.left_out],
  ];
}

/**
 * The worked check of aws-prices.md, priced by the same `price`: 2 nodes × a heartbeat a minute ×
 * a 730 h month, each a 1-WRU write and a 15 ms invocation at 128 MB; its logs figure ($0.022) is
 * 500 B an invocation in decimal GB, kept so (as bytes: 500 × 2^30 / 10^9) to reproduce it.
 */
function workedCheckFigures(list: Bill, invocationsPerDay: number): Figure[] {
  const requests = 2 * 60 * 730;
  const worked: Usage = {
    apiRequests: requests,
    apiAccessLogBytes: 0,
    functions: { witness: { invocations: requests, billedMs: requests * 15, memoryMb: 128, logBytes: (requests * 500 * gib) / 1e9 } },
    dynamo: { writeUnits: requests, readUnits: 0, storedBytes: 0 },
    logRetentionMonths: 0,
    sns: { publishes: 0, emails: 0 },
    sqsRequests: 0,
  };
  const check = price(worked, listPrices, { front: 'http-api' });
  const keys = ['api', 'dynamodb', 'lambda', 'logs'] as const;
  const delta = (key: string, a: number, b: number) => `${key} ${a >= b ? '+' : '-'}$${Math.abs(a - b).toFixed(4)}`;
  return [
    [
      'worked_check_usd_per_site_month',
      '$0.18 (aws-prices.md: 60 s heartbeats, 1 WRU each, 128 MB at 15 ms, HTTP API, about 500 B of logs an invocation)',
    ],
    ['worked_check_recomputed', usd(check.total)],
    ['worked_check_recomputed_by_service', usdByService(check, [...keys])],
    [
      'measured_minus_worked_check',
      [...keys.map((k) => delta(k, list.byService[k], check.byService[k])), delta('total', list.total, check.total)].join(', '),
    ],
    ['worked_check_requests_per_month', requests],
    ['measured_requests_per_month', invocationsPerDay * daysPerMonth],
  ];
}

/**
 * The silence detector's wall time per run, on the day's table at the day's end: runs a minute
 * apart, as the schedule runs it (most find no bucket due, one in five reads one), on a client of
 * its own so that the day's meters do not see them. The first run (no cursor: it reads 12 buckets
 * back) is left out of the mean.
 */
async function timeDetector(endpoint: string, from: number): Promise<{ meanMs: number; runs: number }> {
  // Loaded only now, as the witness's routes are (loadLocalStack): its store logs through the witness's logger.
  const { detectorDeps } = await import('../functions/adapters/detector-config.ts');
  const client = new DynamoDBClient(localDynamoClientConfig(endpoint));
  const runs = 10;
  const times: number[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      const at = from + i * 60_000;
      const started = performance.now();
      await detectSilence({ ...detectorDeps({ tableName, settings: defaultSettings, dynamo: client }), now: () => at });
      if (i > 0) times.push(performance.now() - started);
    }
  } finally {
    client.destroy();
  }
  return { meanMs: mean(times), runs };
}

/**
 * The local stack, its modules (the witness's routes among them) loaded only now, with the log
 * level to measure: the witness's logger reads POWERTOOLS_LOG_LEVEL once, when it is built, and
 * goes back to that level at every invocation, so the level must be in the environment before it
 * loads. Lambda runs it at INFO unless the stack sets another level.
 */
async function loadLocalStack(level: Options['logLevel']): Promise<typeof import('../local/local-stack.ts').startLocalStack> {
  process.env.POWERTOOLS_LOG_LEVEL = level;
  const { startLocalStack } = await import('../local/local-stack.ts');
  const { logger } = await import('../functions/adapters/logger.ts');
  if (logger.getLevelName() !== level)
    throw new Error(`the witness logger was built at ${logger.getLevelName()} before the bench could set ${level}`);
  return startLocalStack;
}

/**
 * Requests on a site of their own before the day, so that the engine's JVM and this process's JIT
 * have warmed up, as they have in a Lambda environment and the DynamoDB service that have been
 * serving for a while: without it the first few hundred requests of the day take 20–150 ms in the
 * engine and would count as billed Lambda time. A heartbeat of each node, and every tenth round a
 * claim of each (a renewal by the primary, a refusal for the other: the claim path's read).
 */
/** Witness time between two warm-up requests: 5 a second, well under the per-token rate limit. */
const warmUpStepMs = 200;

async function warmUp(url: string, tokenKey: Buffer, deps: WitnessDeps, requests: number, tick: () => void): Promise<void> {
  if (requests === 0) return;
  const site = 'warm-up';
  if (!(await deps.store.create(newSite({ resellerId, siteId: site, nodeIds })))) throw new Error('the warm-up site exists already');
  const clients = nodeIds.map(
    (nodeId) => new WitnessClient(url, signNodeToken(tokenKey, { resellerId, siteId: site, nodeId, tokenVersion: 1 }), 10_000),
  );
  const [a, b] = clients as [WitnessClient, WitnessClient];
  let seq = 0;
  const ok = <T>(what: string, r: WitnessResult<T>): T => {
    if (!r.ok) throw new Error(`warm-up ${what} failed: ${String(r.status)} ${String(r.code)}`);
    return r.body;
  };
  const beat = (client: WitnessClient, role: 'primary' | 'secondary', epoch: number) => {
    tick();
    return client.heartbeat({
      incarnation: 1,
      seq: ++seq,
      epoch,
      role,
      peer: { reachable: true, lastContactMs: 400 },
      health: { score: 100, checks: { hook: 'ok' } },
    });
  };
  const ask = (client: WitnessClient, epoch: number, reason: 'startup' | 'peer-lost') => {
    tick();
    return client.claim({ incarnation: 1, seq: ++seq, epoch, reason });
  };
  ok('heartbeat', await beat(a, 'secondary', 0));
  if (!ok('claim', await ask(a, 0, 'startup')).granted) throw new Error('warm-up claim refused');
  for (let sent = 2; sent < requests;) {
    ok('heartbeat', await beat(a, 'primary', 1));
    ok('heartbeat', await beat(b, 'secondary', 1));
    sent += 2;
    if (sent % 20 === 0) {
      ok('claim', await ask(a, 1, 'peer-lost'));
      ok('claim', await ask(b, 1, 'peer-lost'));
      sent += 2;
    }
  }
}

/** What the stack deploys that the bill depends on: lib/'s figures when it loads, else assumptions. */
async function stackFacts(
  givenMemoryMb: number | undefined,
): Promise<{ memoryMb: number; memorySource: string; retentionDays: number; retentionSource: string }> {
  const failed = (error: unknown) => (error instanceof Error ? error.message : String(error));
  let memory = { memoryMb: defaultMemoryMb, memorySource: `assumed ${defaultMemoryMb} MB, Lambda's default` };
  if (givenMemoryMb !== undefined) memory = { memoryMb: givenMemoryMb, memorySource: '--memory-mb' };
  else {
    try {
      const { memorySizeMb } = await import('../lib/witness-function.ts');
      memory = { memoryMb: memorySizeMb, memorySource: 'lib/witness-function.ts memorySizeMb' };
    } catch (error) {
      memory.memorySource += ` (lib/witness-function.ts did not load: ${failed(error)})`;
    }
  }
  let retention = { retentionDays: defaultRetentionDays, retentionSource: `assumed ${defaultRetentionDays} days` };
  try {
    const { deployDefaults } = await import('../lib/deploy-settings.ts');
    retention = {
      retentionDays: deployDefaults.logRetentionDays,
      retentionSource: 'lib/deploy-settings.ts deployDefaults.logRetentionDays',
    };
  } catch (error) {
    retention.retentionSource += ` (lib/deploy-settings.ts did not load: ${failed(error)})`;
  }
  return { ...memory, ...retention };
}

function variantDay(days: WebhookPathDay[], variant: WebhookPathDay['variant']): WebhookPathDay {
  const day = days.find((d) => d.variant === variant);
  if (!day) throw new Error(`the replay has no webhook variant ${variant}`);
  return day;
}

/** The webhook path's figures: the replay's, then each variant's usage per site-day. */
function webhookFigures(events: EventPathResult, days: WebhookPathDay[], stack: StackFacts): Figure[] {
  const facts = events.webhookFacts;
  return [
    [
      'webhook_path_method',
      'replayed with the event path (bench/webhook-path.ts): each variant a local stack of its own (run.webhooks: its outbox subscribed to the topic, raw, no filter; the router and deliverer its queue pollers feed) on counted clients',
    ],
    [
      'webhook_functions_source',
      `${facts.source}; router timeout ${facts.routerTimeoutSeconds} s, deliverer ${facts.delivererTimeoutSeconds} s (queues' visibility 6 times that), memory ${stack.memoryMb} MB`,
    ],
    ['webhook_path_with_endpoint_event_types', endpointEventTypesNote],
    ...events.webhooks.flatMap(webhookPathFigures),
    ...days.flatMap((d): Figure[] => {
      const p = webhookPrefix(d.variant);
      return [
        [
          `${p}lambda_invocations_per_site_day`,
          `${fixed(d.invocations, 2)} (router ${d.routerInvocations}, deliverer ${d.delivererInvocations}, publisher share ${fixed(d.publisherInvocations, 2)})`,
        ],
        [`${p}lambda_billed_ms_per_site_day`, fixed(d.billedMs, 0)],
        [`${p}ddb_wru_per_site_day`, fixed(d.wru, 1)],
        [`${p}ddb_rru_per_site_day`, fixed(d.rru, 1)],
        [
          `${p}ddb_stored_bytes_steady`,
          `${fixed(d.storedBytes, 0)} (a day's webhook items × their ${webhookRetentionMs / 86_400_000} days' TTL)`,
        ],
        [`${p}sqs_requests_billed_per_site_day`, d.sqsRequestsBilled],
        [`${p}sns_publishes_billed_per_site_day`, d.snsPublishesBilled],
        [
          `${p}logs_bytes_per_site_day`,
          `${fixed(d.handlerLogBytes, 0)} handler lines (measured) + ${fixed(d.platformLogBytes, 0)} platform events (modelled per invocation)`,
        ],
        [
          `${p}data_transfer_out_gb_per_site_month`,
          `${((d.httpBytesOut * daysPerMonth) / 1e9).toFixed(6)} (${d.httpPosts} POSTs a day; not priced: aws-prices.md has no data transfer price)`,
        ],
        [`${p}lambda_gb_s_per_site_month`, fixed(gbSecondsOf(webhookMonth(d, stack)), 3)],
      ];
    }),
  ];
}

const endpointEventTypesNote = `${endpointEventTypes.join(', ')}; template generic; a local receiver on 127.0.0.1 answering 204 at once`;

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      'warmup-min': { type: 'string' },
      'link-loss-at-h': { type: 'string' },
      'link-loss-min': { type: 'string' },
      'failure-at-h': { type: 'string' },
      'outage-min': { type: 'string' },
      'memory-mb': { type: 'string' },
      'log-level': { type: 'string' },
      'rtt-ms': { type: 'string' },
      'engine-warmup': { type: 'string' },
      'platform-logs': { type: 'string' },
      escalation: { type: 'string' },
      'fleet-sites': { type: 'string' },
      'stream-shards': { type: 'string' },
      'usage-json': { type: 'string' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  const num = (name: string, value: string | undefined, fallback: number, min: number, max: number): number => {
    const x = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(x) || x < min || x > max)
      throw new Error(`--${name} must be a number from ${min} to ${max}, not ${String(value)}`);
    return x;
  };
  const level = (values['log-level'] ?? 'INFO').toUpperCase();
  if (level !== 'DEBUG' && level !== 'INFO' && level !== 'WARN' && level !== 'ERROR')
    throw new Error(`--log-level must be DEBUG, INFO, WARN or ERROR, not ${level}`);
  const linkLossAtH = num('link-loss-at-h', values['link-loss-at-h'], 6, 0, 23);
  const linkLossMin = num('link-loss-min', values['link-loss-min'], 10, 0, 600);
  const failureAtH = num('failure-at-h', values['failure-at-h'], 14, 0, 23);
  const outageMin = num('outage-min', values['outage-min'], 30, 0, 600);
  if (linkLossMin > 0 && outageMin > 0) {
    const [first, second] = [
      { atMin: linkLossAtH * 60, forMin: linkLossMin },
      { atMin: failureAtH * 60, forMin: outageMin },
    ].sort((x, y) => x.atMin - y.atMin);
    // Leave the site a quarter of an hour to settle between the two events.
    if (first!.atMin + first!.forMin + 15 > second!.atMin) throw new Error('the link loss and the failure overlap: move one of them');
  }
  const platformLogs = values['platform-logs'] ?? 'json';
  if (platformLogs !== 'json' && platformLogs !== 'text' && platformLogs !== 'none')
    throw new Error(`--platform-logs must be json, text or none, not ${platformLogs}`);
  const escalation = values.escalation ?? 'default';
  if (escalation !== 'default' && escalation !== 'email') throw new Error(`--escalation must be default or email, not ${escalation}`);
  return {
    platformLogs,
    escalation,
    fleetSites: Math.round(num('fleet-sites', values['fleet-sites'], 1_000, 1, 10_000_000)),
    streamShards: Math.round(num('stream-shards', values['stream-shards'], 1, 1, 1_000)),
    warmupMin: num('warmup-min', values['warmup-min'], 10, 1, 600),
    linkLossAtH,
    linkLossMin,
    failureAtH,
    outageMin,
    memoryMb: values['memory-mb'] === undefined ? undefined : num('memory-mb', values['memory-mb'], 0, 128, 10_240),
    logLevel: level,
    rttMs: num('rtt-ms', values['rtt-ms'], 60, 1, 3_000),
    engineWarmup: Math.round(num('engine-warmup', values['engine-warmup'], 2_000, 0, 100_000)),
    usageJson: values['usage-json'],
    quiet: values.quiet ?? false,
  };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)));
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)]!;
}

function fixed(x: number, digits: number): string {
  return x.toFixed(digits);
}

function usd(x: number, digits = 4): string {
  return `$${x.toFixed(digits)}`;
}

function hhmm(hours: number): string {
  const h = Math.floor(hours);
  const m = Math.round((hours - h) * 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
