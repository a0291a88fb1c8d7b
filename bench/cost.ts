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
 * witness's, and the incident timers are SQS delays in real seconds), through the real publisher
 * and incidents handlers on fauxqs and the same DynamoDB Local, on a clock of their own: one
 * site's records in the batches one 5 s batching window makes, the incidents queue drained by the
 * local queue poller, the trackers' changes back through the stream and the publisher, delayed
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
 * Then the day × 30 at the dated list prices (`prices.ts`): per service and per site-month, with
 * an HTTP API front and with function URLs; per site at 1,000 and 100,000 sites with the account's
 * free tiers and the fixed costs; and the worked check of aws-prices.md recomputed with the same
 * formulas, with the difference per service. Prints `name: value` lines on stdout (progress and
 * the day's timeline go to stderr; `--quiet` leaves the timeline out); exits 1 if a witness
 * request failed.
 */
import { randomUUID } from 'node:crypto';
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
import type { Invocation } from '../local/http-server.ts';
import type { LocalStack } from '../local/local-stack.ts';
import { WitnessClient, type WitnessResult } from '../agent/io/witness-client.ts';
import { CapacityMeter } from './ddb-meter.ts';
import { webhookRetentionMs } from '../functions/adapters/webhook-store.ts';
import { type Escalation, EventPath, type EventPathResult, streamBatchSize } from './event-path.ts';
import { type EventPathDay, eventPathDay, eventPathFigures, type WebhookPathDay, webhookPathDay, webhookPathFigures, webhookPrefix } from './event-path-usage.ts';
import { LogCapture } from './log-capture.ts';
import { dynamoItemOverheadBytes, freeTiers, httpApiMeterBytes, prices, pricesDate, pricesRegion } from './prices.ts';
import { runSiteDay } from './site-day.ts';
import { endpointEventTypes } from './webhook-path.ts';
import { detectSilence } from '../functions/handlers/detect-silence.ts';

const tableName = 'tiebreak-cost';
const resellerId = 'cost';
const siteId = 'site-day';
const nodeIds = ['node-a', 'node-b'];
/** The witness's virtual clock starts here (as TestClock does). */
const serverOrigin = 1_800_000_000_000;
const dayMs = 24 * 3_600_000;
const daysPerMonth = 30;
const gib = 1024 ** 3;
/** Lambda's (and CDK's) default, if lib/ cannot say. */
const defaultMemoryMb = 128;
/** Log retention if lib/ cannot say. */
const defaultRetentionDays = 30;
/** "Max Memory Used" in the modelled report line: two digits, as a small Node function uses. */
const modelledMaxMemoryMb = 90;

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
  platformLogs: 'json' | 'text' | 'none';
  escalation: Escalation;
  /** The fleet the per-site figure assumes for the publisher's batch fill. */
  fleetSites: number;
  streamShards: number;
  quiet: boolean;
}

interface Measured extends Invocation {
  logBytes: number;
}

export async function costBench(args: string[]): Promise<number> {
  const o = parseOptions(args);
  const progress = (line: string) => {
    console.error(`bench cost: ${line}`);
  };
  progress('starting DynamoDB Local (in memory)');
  const engine = await startDynamoDbLocal({});
  const client = new DynamoDBClient(localDynamoClientConfig(engine.endpoint));
  const requests = new RequestCounter().attach(client);
  const capacity = new CapacityMeter().attach(client);
  const logs = new LogCapture('tiebreak-witness');
  let server: LocalStack | undefined;
  let eventPath: EventPath | undefined;
  const figures: [string, string | number][] = [];
  let failed: number;
  try {
    await ensureTable(client, tableName);
    progress('starting fauxqs (SNS and SQS, in memory) and the event path\'s queues');
    eventPath = await EventPath.start({ dynamoEndpoint: engine.endpoint, tableName, resellerId, siteId, escalation: o.escalation, now: serverOrigin });
    const path = eventPath;
    let witnessNow = serverOrigin;
    let counting = false;
    let invocations: Measured[] = [];
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
    const tokens = Object.fromEntries(nodeIds.map((nodeId) => [nodeId, signNodeToken(tokenKey, { resellerId, siteId, nodeId, tokenVersion: 1 })]));

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
    failed = day.failedRequests;
    if (!o.quiet) for (const line of day.timeline) console.error(`bench cost: day ${line}`);
    progress(`simulated in ${(day.wallMs / 1000).toFixed(1)} s wall (${day.steps} events)`);
    const replayStarted = performance.now();
    const events = await path.replay(defaultSettings, serverOrigin + countFromMs, logs, progress);
    logs.stop();
    progress(`event path replayed in ${((performance.now() - replayStarted) / 1000).toFixed(1)} s wall`);
    failed += events.failures.length;
    progress('timing the silence detector: a minute apart, on this table, after the day');
    const detector = await timeDetector(engine.endpoint, witnessNow);

    // --- the day, measured ------------------------------------------------------------------
    const byFunction = groupBy(invocations, (i) => i.functionName);
    const durations = invocations.map((i) => i.durationMs);
    const billedMs = invocations.reduce((sum, i) => sum + Math.max(1, Math.ceil(i.durationMs)), 0);
    const apiUnits = invocations.reduce((sum, i) => sum + Math.max(1, Math.ceil(Math.max(i.requestBytes, i.responseBytes) / httpApiMeterBytes)), 0);
    const writes = capacity.writes();
    const reads = capacity.reads();
    const reportedWrites = writes.filter((w) => w.unitsReported !== undefined);
    // The units billed: what the engine reported where it did, from item sizes where it did not.
    const tableWru = writes.reduce((sum, w) => sum + (w.unitsReported ?? w.unitsBySize), 0);
    const indexWru = writes.reduce((sum, w) => sum + w.indexUnitsReported, 0);
    const wru = tableWru + indexWru;
    const wruBySize = writes.reduce((sum, w) => sum + w.unitsBySize, 0);
    const rru = reads.reduce((sum, r) => sum + (r.unitsReported ?? r.unitsBySize), 0);
    const itemSizes = writes.map((w) => Math.max(w.oldBytes, w.newBytes));
    const storedItemBytes = writes.at(-1)?.newBytes ?? 0;
    const handlerLogBytes = invocations.reduce((sum, i) => sum + i.logBytes, 0);
    const lineBytes = (lines: string[]) => lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
    const platformLogBytes = invocations.reduce((sum, i) => sum + lineBytes(platformLogLines(o.platformLogs, i.durationMs, stack.memoryMb)), 0);
    const accessLogBytes = invocations.reduce((sum, i) => sum + lineBytes([accessLogLine(i)]), 0);
    const gbSeconds = (billedMs / 1000) * (stack.memoryMb / 1024);
    const statuses = groupBy(invocations, (i) => `${i.functionName} ${i.status}`);

    figures.push(
      ['scenario', `${o.warmupMin} min start-up uncounted, then 24 h: peer link lost ${o.linkLossMin} min at ${hhmm(o.linkLossAtH)}, primary fails at ${hhmm(o.failureAtH)} and is back after ${o.outageMin} min`],
      ['agent_timings', 'defaults (agent/core/settings.ts); witness settings defaults: lease 15 s, heartbeats 5 s fast / 60 s slow'],
      ['witness_rtt_ms_modelled', o.rttMs],
      ...Object.entries(day.events)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([what, n]): [string, number] => [`day_${what.replace(/[^a-z0-9]+/gi, '_').replace(/_$/, '').toLowerCase()}`, n]),
      ['day_final_roles', Object.entries(day.finalRoles).map(([id, role]) => `${id} ${role}`).join(', ')],
      ['api_requests_per_day', invocations.length],
      ...[...statuses].map(([key, list]): [string, number] => [`api_requests_per_day_${key.replace('tiebreak-', '').replace(' ', '_')}`, list.length]),
      ['api_request_bytes_mean', fixed(mean(invocations.map((i) => i.requestBytes)), 0)],
      ['api_response_bytes_mean', fixed(mean(invocations.map((i) => i.responseBytes)), 0)],
      ['api_request_bytes_max', Math.max(0, ...invocations.map((i) => i.requestBytes))],
      ['api_response_bytes_max', Math.max(0, ...invocations.map((i) => i.responseBytes))],
      ['api_meter_units_per_day', apiUnits],
      ...[...byFunction].map(([name, list]): [string, number] => [`lambda_invocations_per_day_${name.replace('tiebreak-', '')}`, list.length]),
      ['lambda_duration_ms_mean', fixed(mean(durations), 2)],
      ['lambda_duration_ms_p50', fixed(percentile(durations, 50), 2)],
      ['lambda_duration_ms_p99', fixed(percentile(durations, 99), 2)],
      ['lambda_duration_ms_max', fixed(Math.max(0, ...durations), 2)],
      ['lambda_billed_ms_per_day', billedMs],
      ['lambda_memory_mb', stack.memoryMb],
      ['lambda_memory_source', stack.memorySource],
      ['lambda_gb_s_per_day', fixed(gbSeconds, 3)],
      ['ddb_requests_per_day', requests.total()],
      ...[...requests.byCommand].sort(([a], [b]) => a.localeCompare(b)).map(([command, n]): [string, number] => [`ddb_${command.replace(/Command$/, '')}_per_day`, n]),
      ['ddb_unmetered_commands', capacity.unmetered.size === 0 ? 'none' : [...capacity.unmetered].map(([c, n]) => `${c} ${n}`).join(', ')],
      ['ddb_failed_conditional_writes_per_day', writes.filter((w) => !w.applied).length],
      ['ddb_wru_per_day', fixed(wru, 1)],
      ['ddb_wru_per_day_table', fixed(tableWru, 1)],
      ['ddb_wru_per_day_due_index', fixed(indexWru, 1)],
      ['ddb_due_index_note', `the silence detector's due index: 2 writes each time the site moves to a new ${defaultSettings.dueBucketMs / 60_000} min bucket, none for a heartbeat in the same bucket`],
      ['ddb_wru_per_day_by_item_size', fixed(wruBySize, 1)],
      ['ddb_wru_reported_by_engine', `${reportedWrites.length} of ${writes.length} writes (DynamoDB Local reports ConsumedCapacity for applied writes and reads, not for failed conditional writes)`],
      ['ddb_wru_reported_matches_size', reportedWrites.every((w) => w.unitsReported === w.unitsBySize) ? 'yes (table units; index units apart)' : `no: ${reportedWrites.filter((w) => w.unitsReported !== w.unitsBySize).length} differ`],
      ['ddb_wru_per_write_mean', fixed(tableWru / Math.max(1, writes.length), 3)],
      ['ddb_item_bytes_p50', percentile(itemSizes, 50)],
      ['ddb_item_bytes_max', Math.max(0, ...itemSizes)],
      ['ddb_writes_over_1kb', itemSizes.filter((b) => b > 1024).length],
      ['ddb_rru_per_day', fixed(rru, 1)],
      ['ddb_latency_ms_p50', fixed(percentile(capacity.requests.map((r) => r.latencyMs), 50), 2)],
      ['ddb_latency_ms_p99', fixed(percentile(capacity.requests.map((r) => r.latencyMs), 99), 2)],
      ['ddb_latency_ms_max', fixed(Math.max(0, ...capacity.requests.map((r) => r.latencyMs)), 2)],
      ['ddb_item_bytes_stored', storedItemBytes],
      ['log_level', o.logLevel],
      ['logs_handler_lines_per_day', witnessLogLines],
      ['logs_handler_bytes_per_day', handlerLogBytes],
      ['logs_platform_format', platformFormatNote[o.platformLogs]],
      ['logs_platform_bytes_per_day_modelled', platformLogBytes],
      ['logs_api_access_bytes_per_day_modelled', accessLogBytes],
      ['logs_bytes_per_invocation_lambda', fixed((handlerLogBytes + platformLogBytes) / Math.max(1, invocations.length), 0)],
      ['logs_bytes_per_request_api_access', fixed(accessLogBytes / Math.max(1, invocations.length), 0)],
      ['logs_retention_days', stack.retentionDays],
      ['logs_retention_source', stack.retentionSource],
    );

    // --- a site-month at list prices ----------------------------------------------------------
    const witnessMonth: Usage = {
      apiUnits: apiUnits * daysPerMonth,
      invocations: invocations.length * daysPerMonth,
      gbSeconds: gbSeconds * daysPerMonth,
      wru: wru * daysPerMonth,
      rru: rru * daysPerMonth,
      storageGb: (storedItemBytes + dynamoItemOverheadBytes) / gib,
      logGb: ((handlerLogBytes + platformLogBytes) * daysPerMonth) / gib,
      accessLogGb: (accessLogBytes * daysPerMonth) / gib,
      logRetentionMonths: stack.retentionDays / daysPerMonth,
      snsPublishes: 0,
      snsEmails: 0,
      sqsRequests: 0,
    };
    // The event path: its publisher's invocations depend on the fleet's size (how full its batches are).
    const platformBytes = (durationMs: number) => lineBytes(platformLogLines(o.platformLogs, durationMs, stack.memoryMb));
    const pathDay = (sites: number) => eventPathDay(events, { sites, shards: o.streamShards, platformLogBytes: platformBytes });
    // The webhook path, both variants; every site pays the one with no endpoint (the outbox takes every event).
    const webhookDays = (sites: number) => events.webhooks.map((w) => webhookPathDay(w, events, { sites, shards: o.streamShards, platformLogBytes: platformBytes }));
    const everySiteWebhooks = (sites: number) => webhookMonth(variantDay(webhookDays(sites), 'none'), stack.memoryMb, stack.retentionDays);
    const monthAt = (sites: number) =>
      addUsage(addUsage(witnessMonth, eventPathMonth(pathDay(sites), stack.memoryMb, stack.retentionDays)), everySiteWebhooks(sites));
    const headlineDay = pathDay(o.fleetSites);
    const pathMonth = eventPathMonth(headlineDay, stack.memoryMb, stack.retentionDays);
    const headlineWebhooks = webhookDays(o.fleetSites);
    const webhookNoneMonth = everySiteWebhooks(o.fleetSites);
    const month = addUsage(addUsage(witnessMonth, pathMonth), webhookNoneMonth);
    const listWithoutWebhooks = costOf(addUsage(witnessMonth, pathMonth), 1, 'http-api', false);
    const list = costOf(month, 1, 'http-api', false);
    const listUrls = costOf(month, 1, 'function-urls', false);
    const listWitness = costOf(witnessMonth, 1, 'http-api', false);
    const listPath = costOf(pathMonth, 1, 'function-urls', false);
    const smallFleet = 10;
    figures.push(
      ...eventPathFigures(events),
      ['publisher_batch_window_s', events.windowMs / 1000],
      ['publisher_batch_size_max', streamBatchSize],
      ['publisher_stream_shards_assumed', o.streamShards],
      [`publisher_batch_fill_at_${o.fleetSites}_sites`, fixed(headlineDay.publisherFill, 1)],
      [
        'publisher_batch_fill_note',
        `the ${events.windowMs / 1000} s window gathers every site's records: ${fixed(((events.deliveredDay + events.deliveredTrackers) * o.fleetSites) / 86_400, 1)} a second at ${o.fleetSites} sites, ` +
          `so a batch holds min(100, that × ${events.windowMs / 1000} s ÷ shards); with k shards (the table's partitions) divide by k (--stream-shards)`,
      ],
      ['publisher_invocations_per_site_day', fixed(headlineDay.publisherInvocations, 2)],
      [`publisher_invocations_per_site_day_at_${smallFleet}_sites`, fixed(pathDay(smallFleet).publisherInvocations, 1)],
      ['publisher_billed_ms_per_invocation', headlineDay.publisherBilledMsPerInvocation],
      ['lambda_invocations_per_site_day_event_path', fixed(headlineDay.publisherInvocations + headlineDay.incidentsInvocations, 2)],
      ['lambda_billed_ms_per_site_day_event_path', fixed(headlineDay.billedMs, 0)],
      ['ddb_wru_per_site_day_event_path', fixed(headlineDay.wru, 1)],
      ['ddb_wru_per_site_day_event_path_index', fixed(headlineDay.wruIndex, 1)],
      ['ddb_rru_per_site_day_event_path', fixed(headlineDay.rru, 1)],
      ['ddb_audit_trail_bytes_per_site_month', fixed(headlineDay.storedBytesAdded * daysPerMonth, 0)],
      ['ddb_audit_trail_note', 'the audit trail has no TTL: its storage grows by that much every month (priced here: one month of it)'],
      ['logs_event_path_bytes_per_site_day', `${fixed(headlineDay.handlerLogBytes, 0)} handler lines (measured) + ${fixed(headlineDay.platformLogBytes, 0)} platform events (modelled per invocation)`],
      ['sns_publishes_billed_per_site_day', headlineDay.snsPublishesBilled],
      ['sns_email_notifications_per_site_day', headlineDay.snsEmails],
      ['sns_sms_per_site_day', `${headlineDay.snsSms} (not priced: aws-prices.md gives SMS no list price)`],
      ['sqs_requests_billed_per_site_day', `${headlineDay.sqsRequestsBilled} measured + ${headlineDay.sqsConsumerModelled} modelled (the reseller's tool: a receive and a delete per service-queue message)`],
      ...webhookFigures(events, headlineWebhooks, stack.memoryMb, stack.retentionDays),
    );
    const detectorMonth = detectorUsage(detector.meanMs, stack.memoryMb, stack.retentionDays, o.platformLogs);
    const detectorCost = costOf(detectorMonth, 1, 'function-urls', false).total;
    figures.push(
      ['prices', `${pricesRegion} list prices as sourced on ${pricesDate} (bench/prices.ts); month = ${daysPerMonth} days; GB = 2^30 bytes`],
      ['dynamodb_usd_per_site_month', usd(list.dynamodb)],
      ['http_api_usd_per_site_month', usd(list.api)],
      ['lambda_usd_per_site_month', usd(list.lambda)],
      ['logs_usd_per_site_month', usd(list.logs)],
      ['sns_usd_per_site_month', usd(list.sns)],
      ['sqs_usd_per_site_month', usd(list.sqs)],
      ['sns_sqs_usd_per_site_month', usd(list.sns + list.sqs)],
      ['event_path_usd_per_site_month', usd(listPath.total)],
      ['event_path_usd_by_service', `lambda ${usd(listPath.lambda)}, dynamodb ${usd(listPath.dynamodb)}, logs ${usd(listPath.logs)}, sns ${usd(listPath.sns)}, sqs ${usd(listPath.sqs)}`],
      ...webhookCostFigures(headlineWebhooks, stack.memoryMb, stack.retentionDays),
      ['cost_per_site_month_witness_only', usd(listWitness.total)],
      [
        'sns_sqs_note',
        'SNS: a publish call per started 64 KB (a PublishBatch of up to 10 events is one: SNS batching docs), deliveries to SQS free, e-mail $2.00/100,000; ' +
          'SQS $0.40/M requests, the incidents function\'s sends, receives and deletes as measured, the reseller\'s receive + delete modelled',
      ],
      [
        'sqs_idle_polling_note',
        'not priced: Lambda\'s event source mappings keep long-polling the incidents queue and the webhook outbox and deliveries queues while they are empty (aws-prices.md: "an idle queue polled by a Lambda trigger still makes empty receives"), ' +
          'a cost per deployment, not per site, at a rate the dated table does not give; nor the reseller\'s own polling of its service queue (its tool, per reseller)',
      ],
      ['cost_per_site_month', usd(list.total)],
      ['cost_per_site_month_note', 'witness + event path + the webhook path with no endpoint (every site: the outbox takes every event); an endpoint adds webhook_endpoint_adds_usd_per_site_month'],
      ['cost_per_site_month_without_webhook_path', usd(listWithoutWebhooks.total)],
      ['cost_per_site_month_goal', '$0.25'],
      ['cost_per_site_month_function_urls', usd(listUrls.total)],
    );
    figures.push(
      ['detector_runs_per_month', detectorMonth.invocations],
      ['detector_run_ms_mean', fixed(detector.meanMs, 1)],
      ['detector_runs_timed', `${detector.runs} runs a minute apart after the day (the first one, with no cursor yet, left out)`],
      ['detector_usd_per_month', usd(detectorCost)],
      ['detector_note', 'per deployment, whatever the number of sites: Lambda (a run a minute), DynamoDB (cursor GetItem a run; Query and cursor UpdateItem a bucket), its log lines; no free tier taken off'],
    );
    for (const sites of [1_000, 100_000]) {
      const fleet = costOf(monthAt(sites), sites, 'http-api', true).total + detectorCost;
      const fleetUrls = costOf(monthAt(sites), sites, 'function-urls', true).total + detectorCost;
      figures.push(
        [`cost_per_site_month_at_${sites}_sites`, usd(fleet / sites)],
        [`cost_per_site_month_function_urls_at_${sites}_sites`, usd(fleetUrls / sites)],
        [`cost_per_month_at_${sites}_sites`, usd(fleet, 2)],
      );
    }
    figures.push(
      ['fleet_free_tiers', 'Lambda 1 M requests + 400,000 GB-s, SQS 1 M requests, DynamoDB 25 GB storage, per account-month; HTTP API $0.90/M beyond 300 M'],
      ['fleet_fixed_usd_per_month', usd(prices.secretMonth.usd + detectorCost, 2)],
      ['fleet_fixed_note', 'Secrets Manager: one secret (the token-signing key), and the silence detector; CloudWatch alarms and dashboard left out (not in the dated price table)'],
      ['logs_note', 'logs_usd = ingestion + storage for the retention, stored size taken uncompressed (an upper bound: CloudWatch bills storage compressed)'],
      ['left_out', 'data transfer out (the webhook POSTs\' bytes are counted: webhook_path_with_endpoint_http_bytes_out_per_site_day), the CloudWatch Logs free tier, Secrets Manager API calls, DynamoDB PITR and backups, Lambda init (cold start) billing, Lambda\'s polling of the idle incidents and webhook queues, SMS'],
    );

    // --- the worked check in aws-prices.md, recomputed with the same formulas -------------------
    const workedRequests = 2 * 60 * 730; // two nodes, one heartbeat a minute, a 730 h month
    const worked: Usage = {
      apiUnits: workedRequests,
      invocations: workedRequests,
      gbSeconds: workedRequests * 0.015 * (128 / 1024),
      wru: workedRequests,
      rru: 0,
      storageGb: 0,
      // Its logs figure ($0.022) is 500 B an invocation in decimal GB: kept so, to reproduce it.
      logGb: (workedRequests * 500) / 1e9,
      accessLogGb: 0,
      logRetentionMonths: 0,
      snsPublishes: 0,
      snsEmails: 0,
      sqsRequests: 0,
    };
    const workedCost = costOf(worked, 1, 'http-api', false);
    const delta = (key: keyof Cost) => `${key} ${list[key] >= workedCost[key] ? '+' : '-'}$${Math.abs(list[key] - workedCost[key]).toFixed(4)}`;
    figures.push(
      ['worked_check_usd_per_site_month', '$0.18 (aws-prices.md: 60 s heartbeats, 1 WRU each, 128 MB at 15 ms, HTTP API, about 500 B of logs an invocation)'],
      ['worked_check_recomputed', usd(workedCost.total)],
      ['worked_check_recomputed_by_service', `api ${usd(workedCost.api)}, dynamodb ${usd(workedCost.dynamodb)}, lambda ${usd(workedCost.lambda)}, logs ${usd(workedCost.logs)}`],
      ['measured_minus_worked_check', (['api', 'dynamodb', 'lambda', 'logs', 'total'] as const).map(delta).join(', ')],
      ['worked_check_requests_per_month', workedRequests],
      ['measured_requests_per_month', invocations.length * daysPerMonth],
    );
  } finally {
    logs.stop();
    await eventPath?.stop();
    await server?.stop();
    client.destroy();
    await engine.stop();
  }
  figures.push(['errors', failed]);
  for (const [name, value] of figures) console.log(`${name}: ${String(value)}`);
  return failed === 0 ? 0 : 1;
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

/** A month of the silence detector (per deployment): a run a minute, a bucket every `dueBucketMs`. */
function detectorUsage(meanMs: number, memoryMb: number, retentionDays: number, platformLogs: Options['platformLogs']): Usage {
  const runs = daysPerMonth * 1_440;
  const buckets = (daysPerMonth * dayMs) / defaultSettings.dueBucketMs;
  const logBytes = platformLogLines(platformLogs, meanMs, memoryMb).reduce((sum, line) => sum + Buffer.byteLength(line), 0);
  return {
    apiUnits: 0,
    invocations: runs,
    gbSeconds: runs * (Math.max(1, Math.ceil(meanMs)) / 1000) * (memoryMb / 1024),
    // A bucket: its cursor UpdateItem (1 WRU); its Query (0.5 RRU: keys only, eventually consistent). A run: the cursor's consistent GetItem (1 RRU).
    wru: buckets,
    rru: runs + buckets * 0.5,
    storageGb: 0,
    logGb: (runs * logBytes) / gib,
    accessLogGb: 0,
    logRetentionMonths: retentionDays / daysPerMonth,
    snsPublishes: 0,
    snsEmails: 0,
    sqsRequests: 0,
  };
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
  if (logger.getLevelName() !== level) throw new Error(`the witness logger was built at ${logger.getLevelName()} before the bench could set ${level}`);
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
  const clients = nodeIds.map((nodeId) => new WitnessClient(url, signNodeToken(tokenKey, { resellerId, siteId: site, nodeId, tokenVersion: 1 }), 10_000));
  const [a, b] = clients as [WitnessClient, WitnessClient];
  let seq = 0;
  const ok = <T>(what: string, r: WitnessResult<T>): T => {
    if (!r.ok) throw new Error(`warm-up ${what} failed: ${String(r.status)} ${String(r.code)}`);
    return r.body;
  };
  const beat = (client: WitnessClient, role: 'primary' | 'secondary', epoch: number) => {
    tick();
    return client.heartbeat({ incarnation: 1, seq: ++seq, epoch, role, peer: { reachable: true, lastContactMs: 400 }, health: { score: 100, checks: { hook: 'ok' } } });
  };
  const ask = (client: WitnessClient, epoch: number, reason: 'startup' | 'peer-lost') => {
    tick();
    return client.claim({ incarnation: 1, seq: ++seq, epoch, reason });
  };
  ok('heartbeat', await beat(a, 'secondary', 0));
  if (!ok('claim', await ask(a, 0, 'startup')).granted) throw new Error('warm-up claim refused');
  for (let sent = 2; sent < requests; ) {
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

const platformFormatNote = {
  json: 'JSON (lib/witness-function.ts: loggingFormat JSON, system log level INFO by default): platform.start and platform.report per invocation',
  text: 'text: START, END and REPORT lines per invocation',
  none: 'none (JSON format with the system log level at WARN drops them)',
} as const;

/**
 * Lambda's own log events per invocation, as CloudWatch receives them: modelled on Lambda's
 * documented formats (they cannot be measured here), with the measured duration in them.
 */
function platformLogLines(format: Options['platformLogs'], durationMs: number, memoryMb: number): string[] {
  const requestId = randomUUID();
  const billed = Math.max(1, Math.ceil(durationMs));
  const duration = Math.round(durationMs * 100) / 100;
  const time = new Date(serverOrigin).toISOString();
  switch (format) {
    case 'none':
      return [];
    case 'text':
      return [
        `START RequestId: ${requestId} Version: $LATEST`,
        `END RequestId: ${requestId}`,
        `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${memoryMb} MB\tMax Memory Used: ${modelledMaxMemoryMb} MB\t`,
      ];
    case 'json':
      return [
        JSON.stringify({ time, type: 'platform.start', record: { requestId, version: '$LATEST' } }),
        JSON.stringify({
          time,
          type: 'platform.report',
          record: { requestId, metrics: { durationMs: duration, billedDurationMs: billed, memorySizeMB: memoryMb, maxMemoryUsedMB: modelledMaxMemoryMb }, status: 'success' },
        }),
      ];
  }
}

/**
 * The HTTP API's access log line for one request: the fields of lib/node-api.ts's
 * `accessLogFields` (copied here: lib/ does not export them), filled as API Gateway fills them
 * (`-` for an empty variable), with the measured route, status and response length.
 */
function accessLogLine(invocation: Invocation): string {
  const routeKey = invocation.functionName === 'tiebreak-claim' ? 'POST /v1/node/claim' : 'POST /v1/node/heartbeat';
  return JSON.stringify({
    requestId: 'Xk3aBhb0IAMEbJw=',
    time: String(serverOrigin),
    ip: '203.0.113.120',
    routeKey,
    status: String(invocation.status),
    responseLength: String(invocation.responseBytes),
    latencyMs: '12',
    integrationLatencyMs: '10',
    integrationStatus: String(invocation.status),
    integrationError: '-',
    error: '-',
  });
}

/** What the stack deploys that the bill depends on: lib/'s figures when it loads, else assumptions. */
async function stackFacts(givenMemoryMb: number | undefined): Promise<{ memoryMb: number; memorySource: string; retentionDays: number; retentionSource: string }> {
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
    retention = { retentionDays: deployDefaults.logRetentionDays, retentionSource: 'lib/deploy-settings.ts deployDefaults.logRetentionDays' };
  } catch (error) {
    retention.retentionSource += ` (lib/deploy-settings.ts did not load: ${failed(error)})`;
  }
  return { ...memory, ...retention };
}

interface Usage {
  apiUnits: number;
  invocations: number;
  gbSeconds: number;
  wru: number;
  rru: number;
  storageGb: number;
  /** The functions' log groups: the handlers' lines and Lambda's own. */
  logGb: number;
  /** The HTTP API's access log group (none with function URLs). */
  accessLogGb: number;
  /** Logs are kept this long: at steady state a month's ingestion × this is stored (uncompressed: an upper bound). */
  logRetentionMonths: number;
  /** SNS publish requests billed (64 KB chunks of each call). */
  snsPublishes: number;
  /** SNS e-mail notifications delivered. */
  snsEmails: number;
  sqsRequests: number;
}

/** A site-day of the event path as a month's usage (its functions run at the stack's memory size, like the witness's). */
function eventPathMonth(d: EventPathDay, memoryMb: number, retentionDays: number): Usage {
  return {
    apiUnits: 0,
    invocations: (d.publisherInvocations + d.incidentsInvocations) * daysPerMonth,
    gbSeconds: (d.billedMs / 1000) * (memoryMb / 1024) * daysPerMonth,
    wru: d.wru * daysPerMonth,
    rru: d.rru * daysPerMonth,
    storageGb: (d.storedBytesAdded * daysPerMonth) / gib,
    logGb: ((d.handlerLogBytes + d.platformLogBytes) * daysPerMonth) / gib,
    accessLogGb: 0,
    logRetentionMonths: retentionDays / daysPerMonth,
    snsPublishes: d.snsPublishesBilled * daysPerMonth,
    snsEmails: d.snsEmails * daysPerMonth,
    sqsRequests: (d.sqsRequestsBilled + d.sqsConsumerModelled) * daysPerMonth,
  };
}

/** A site-day of one webhook variant as a month's usage (the router and deliverer run at the stack's memory size, as every function). */
function webhookMonth(d: WebhookPathDay, memoryMb: number, retentionDays: number): Usage {
  return {
    apiUnits: 0,
    invocations: d.invocations * daysPerMonth,
    gbSeconds: (d.billedMs / 1000) * (memoryMb / 1024) * daysPerMonth,
    wru: d.wru * daysPerMonth,
    rru: d.rru * daysPerMonth,
    storageGb: d.storedBytes / gib,
    logGb: ((d.handlerLogBytes + d.platformLogBytes) * daysPerMonth) / gib,
    accessLogGb: 0,
    logRetentionMonths: retentionDays / daysPerMonth,
    snsPublishes: d.snsPublishesBilled * daysPerMonth,
    snsEmails: 0,
    sqsRequests: d.sqsRequestsBilled * daysPerMonth,
  };
}

function variantDay(days: WebhookPathDay[], variant: WebhookPathDay['variant']): WebhookPathDay {
  const day = days.find((d) => d.variant === variant);
  if (!day) throw new Error(`the replay has no webhook variant ${variant}`);
  return day;
}

/** The webhook path's figures: the replay's, then each variant's usage per site-day. */
function webhookFigures(events: EventPathResult, days: WebhookPathDay[], memoryMb: number, retentionDays: number): [string, string | number][] {
  const facts = events.webhookFacts;
  return [
    ['webhook_path_method', 'replayed with the event path (bench/webhook-path.ts): each variant its own outbox subscribed to the topic (raw, no filter), the real router and deliverer on counted clients, drained by the local queue poller'],
    ['webhook_functions_source', `${facts.source}; router timeout ${facts.routerTimeoutSeconds} s, deliverer ${facts.delivererTimeoutSeconds} s (queues' visibility 6 times that), memory ${memoryMb} MB`],
    ['webhook_path_with_endpoint_event_types', endpointEventTypesNote],
    ...events.webhooks.flatMap(webhookPathFigures),
    ...days.flatMap((d): [string, string | number][] => {
      const p = webhookPrefix(d.variant);
      const m = webhookMonth(d, memoryMb, retentionDays);
      return [
        [`${p}lambda_invocations_per_site_day`, `${fixed(d.invocations, 2)} (router ${d.routerInvocations}, deliverer ${d.delivererInvocations}, publisher share ${fixed(d.publisherInvocations, 2)})`],
        [`${p}lambda_billed_ms_per_site_day`, fixed(d.billedMs, 0)],
        [`${p}ddb_wru_per_site_day`, fixed(d.wru, 1)],
        [`${p}ddb_rru_per_site_day`, fixed(d.rru, 1)],
        [`${p}ddb_stored_bytes_steady`, `${fixed(d.storedBytes, 0)} (a day's webhook items × their ${webhookRetentionMs / 86_400_000} days' TTL)`],
        [`${p}sqs_requests_billed_per_site_day`, d.sqsRequestsBilled],
        [`${p}sns_publishes_billed_per_site_day`, d.snsPublishesBilled],
        [`${p}logs_bytes_per_site_day`, `${fixed(d.handlerLogBytes, 0)} handler lines (measured) + ${fixed(d.platformLogBytes, 0)} platform events (modelled per invocation)`],
        [`${p}data_transfer_out_gb_per_site_month`, `${(d.httpBytesOut * daysPerMonth / 1e9).toFixed(6)} (${d.httpPosts} POSTs a day; not priced: aws-prices.md has no data transfer price)`],
        [`${p}lambda_gb_s_per_site_month`, fixed(m.gbSeconds, 3)],
      ];
    }),
  ];
}

/** Each variant at list prices (function URLs: no API in it), and what an endpoint adds. */
function webhookCostFigures(days: WebhookPathDay[], memoryMb: number, retentionDays: number): [string, string][] {
  const cost = (d: WebhookPathDay) => costOf(webhookMonth(d, memoryMb, retentionDays), 1, 'function-urls', false);
  const none = cost(variantDay(days, 'none'));
  const endpoint = cost(variantDay(days, 'endpoint'));
  const byService = (c: Cost) => `lambda ${usd(c.lambda)}, dynamodb ${usd(c.dynamodb)}, logs ${usd(c.logs)}, sns ${usd(c.sns)}, sqs ${usd(c.sqs)}`;
  return [
    ['webhook_path_usd_per_site_month', usd(none.total, 5)],
    ['webhook_path_usd_by_service', byService(none)],
    ['webhook_path_with_endpoint_usd_per_site_month', usd(endpoint.total, 5)],
    ['webhook_path_with_endpoint_usd_by_service', byService(endpoint)],
    ['webhook_endpoint_adds_usd_per_site_month', usd(endpoint.total - none.total, 5)],
    ['webhook_endpoint_note', 'what a reseller with one endpoint (the conditions and incident steps) adds to each of its sites, beyond the no-endpoint path every site pays; not in cost_per_site_month'],
  ];
}

const endpointEventTypesNote = `${endpointEventTypes.join(', ')}; template generic; a local receiver on 127.0.0.1 answering 204 at once`;

/** Two usages of one site together (the same log retention). */
function addUsage(a: Usage, b: Usage): Usage {
  if (a.logRetentionMonths !== b.logRetentionMonths) throw new Error('usages with different log retentions cannot be added');
  return {
    apiUnits: a.apiUnits + b.apiUnits,
    invocations: a.invocations + b.invocations,
    gbSeconds: a.gbSeconds + b.gbSeconds,
    wru: a.wru + b.wru,
    rru: a.rru + b.rru,
    storageGb: a.storageGb + b.storageGb,
    logGb: a.logGb + b.logGb,
    accessLogGb: a.accessLogGb + b.accessLogGb,
    logRetentionMonths: a.logRetentionMonths,
    snsPublishes: a.snsPublishes + b.snsPublishes,
    snsEmails: a.snsEmails + b.snsEmails,
    sqsRequests: a.sqsRequests + b.sqsRequests,
  };
}

interface Cost {
  dynamodb: number;
  api: number;
  lambda: number;
  logs: number;
  sns: number;
  sqs: number;
  fixed: number;
  total: number;
}

/**
 * A month of `sites` sites each using `perSite`: at list prices with no free tier and no fixed
 * cost (`account` false: the per-site figure), or as one account pays (`account` true: the
 * account's free tiers taken off, the HTTP API's volume tier applied, fixed costs added).
 */
function costOf(perSite: Usage, sites: number, front: 'http-api' | 'function-urls', account: boolean): Cost {
  const n = (x: number) => x * sites;
  const free = (used: number, allowance: number) => (account ? Math.max(0, used - allowance) : used);
  const apiUnits = n(perSite.apiUnits);
  const tier = freeTiers.httpApiTierRequests.amount;
  const api =
    front === 'function-urls'
      ? 0
      : account
        ? Math.min(apiUnits, tier) * prices.httpApiRequest.usd + Math.max(0, apiUnits - tier) * prices.httpApiRequestOver300M.usd
        : apiUnits * prices.httpApiRequest.usd;
  const dynamodb =
    n(perSite.wru) * prices.dynamoWriteUnit.usd +
    n(perSite.rru) * prices.dynamoReadUnit.usd +
    free(n(perSite.storageGb), freeTiers.dynamoStorageGb.amount) * prices.dynamoStorage.usd;
  const lambda =
    free(n(perSite.invocations), freeTiers.lambdaRequests.amount) * prices.lambdaRequest.usd +
    free(n(perSite.gbSeconds), freeTiers.lambdaGbSeconds.amount) * prices.lambdaArmGbSecond.usd;
  const logGb = n(perSite.logGb) + (front === 'http-api' ? n(perSite.accessLogGb) : 0);
  const logs = logGb * prices.logsIngestion.usd + logGb * perSite.logRetentionMonths * prices.logsStorage.usd;
  const sns = n(perSite.snsPublishes) * prices.snsPublish.usd + n(perSite.snsEmails) * prices.snsEmail.usd;
  const sqs = free(n(perSite.sqsRequests), freeTiers.sqsRequests.amount) * prices.sqsRequest.usd;
  const fixed = account ? prices.secretMonth.usd : 0;
  return { dynamodb, api, lambda, logs, sns, sqs, fixed, total: dynamodb + api + lambda + logs + sns + sqs + fixed };
}

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
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  const num = (name: string, value: string | undefined, fallback: number, min: number, max: number): number => {
    const x = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(x) || x < min || x > max) throw new Error(`--${name} must be a number from ${min} to ${max}, not ${String(value)}`);
    return x;
  };
  const level = (values['log-level'] ?? 'INFO').toUpperCase();
  if (level !== 'DEBUG' && level !== 'INFO' && level !== 'WARN' && level !== 'ERROR') throw new Error(`--log-level must be DEBUG, INFO, WARN or ERROR, not ${level}`);
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
  if (platformLogs !== 'json' && platformLogs !== 'text' && platformLogs !== 'none') throw new Error(`--platform-logs must be json, text or none, not ${platformLogs}`);
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
