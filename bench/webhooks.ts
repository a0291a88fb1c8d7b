/**
 * `npm run bench -- webhooks [--runs N] [--messages N] [--concurrency N] [--warm-up N]
 * [--verify-every N] [--receiver-ms N]`: webhook deliveries per second through the pipeline
 * against the floor of plain signed POSTs, in one process, side by side.
 *
 * One DynamoDB Local (in memory), one fauxqs, one receiver: an HTTP server on 127.0.0.1 that
 * answers 204 and counts distinct `webhook-id`s (first arrival of each, and repeats as
 * duplicates). It checks the signature with the standardwebhooks library on one request in
 * `--verify-every` (10; 0: none), in both modes alike, so that the receiver stays cheap and is the
 * same work for floor and pipeline; a bad signature is counted, never answered 204. It answers at
 * once, or `--receiver-ms` later (0), as a receiver across a network would: an id counts as seen
 * when its request has arrived.
 *
 * - floor: `--messages` (300) POSTs of the body the pipeline would send (the `generic` template
 *   of the same kind of event), one after another over one kept-alive connection, each signed
 *   with `signatureHeaders` (the pipeline's signing): from the first request to the last answer.
 * - pipeline: the local stack's webhook runtime (`startLocalStack` with `run.webhooks`: the real
 *   router and deliverer handlers on fauxqs queues, messages in DynamoDB, `WebhookSender`) started once with one endpoint at the receiver, the
 *   deliverer's poller running `--concurrency` (4, the runtime's default) batches at once, and
 *   warmed up with `--warm-up` (200) events (uncounted); then `--messages` `node.lost` events
 *   published on the topic in batches of ten (`EventBus`, one PublishBatch each), timed from the
 *   first publish to the receiver's first arrival of the last of their webhook-ids.
 * Floor and pipeline take turns `--runs` (3) times, the order swapped each run; the ratio is taken
 * per run (pipeline ÷ floor), and its median printed, so a busy machine moves both sides of it.
 *
 * Where the pipeline's time goes, from a middleware on the DynamoDB client the bench hands the
 * runtime (the runtime itself unchanged): each message's moments (published; stored by the
 * router's PutItem; read by the deliverer's GetItem; arrived; its try recorded by the TransactWriteItems),
 * when the last message passed each one, DynamoDB requests per delivery and their mean latency,
 * this process's event loop utilisation and CPU time (fauxqs, both handlers, the sender and the
 * receiver all run in it) and the engine's, per delivery.
 *
 * Prints `name: value` lines on stdout (progress on stderr).
 */
import { localSnsClient } from '../functions/adapters/messaging-clients.ts';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Webhook } from 'standardwebhooks';
import { EventBus } from '../functions/adapters/event-bus.ts';
import { webhookMessageSkPrefix } from '../functions/adapters/tenancy-items.ts';
import { signatureHeaders } from '../functions/adapters/webhook-sender.ts';
import { newWebhookSecret, WebhookEndpointStore } from '../functions/adapters/webhook-endpoint-store.ts';
import { messageIdOf } from '../functions/adapters/webhook-message-store.ts';
import { renderWebhookBody } from '../functions/domain/webhook-templates.ts';
import { startLocalStack } from '../local/local-stack.ts';
import type { WebhookRuntime } from '../local/webhook-runtime.ts';
import type { StoredEvent } from '../protocol/events.ts';
import { CpuMeter, cpuSpent } from './cpu.ts';
import { UsageError } from './usage-error.ts';

const tableName = 'webhooks-bench';
const channelPrefix = 'bench';
const resellerId = 'bench-reseller';
const endpointId = 'bench-endpoint';
const publishBatch = 10;
const floorWarmUpPosts = 200;
/** A run whose deliveries have not all arrived by then has lost some (a failed job would come back after 30 s). */
const runTimeoutMs = 90_000;
/** After the last run: time for late duplicates to show up before they are counted. */
const duplicateGraceMs = 2_000;
/** The pipeline is at rest (its last try recorded, its empty receives aside) when DynamoDB has had no request this long. */
const quietMs = 500;

const progress = (line: string) => {
  console.error(`bench webhooks: ${line}`);
};

function count(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  const x = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(x) || x < min || x > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${String(value)}`);
  return x;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const nodeLost = (id: string, timestamp: string): StoredEvent => ({
  id,
  type: 'node.lost',
  timestamp,
  data: { resellerId, siteId: 'bench-site', nodeId: 'node-a', severity: 'critical' },
});

// ---------------------------------------------------------------------------------------------
// The receiver

interface Receiver {
  url: string;
  /** First arrival (performance.now()) of each webhook-id. */
  readonly arrivals: Map<string, number>;
  readonly stats: { requests: number; duplicates: number; verified: number; badSignatures: number };
  /** Resolves true when every id has arrived, false at the timeout. */
  waitForAll(ids: readonly string[], timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

async function startReceiver(secret: string, verifyEvery: number, answerMs: number): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const stats = { requests: 0, duplicates: 0, verified: 0, badSignatures: 0 };
  const webhook = new Webhook(secret);
  let waiting: { pending: Set<string>; done: () => void } | undefined;

  const server = http.createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = performance.now();
      stats.requests += 1;
      const id = typeof request.headers['webhook-id'] === 'string' ? request.headers['webhook-id'] : '';
      if (verifyEvery > 0 && stats.requests % verifyEvery === 0) {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[name] = value;
        try {
          webhook.verify(Buffer.concat(chunks).toString('utf8'), headers);
          stats.verified += 1;
        } catch {
          stats.badSignatures += 1;
          response.writeHead(400).end();
          return;
        }
      }
      if (answerMs > 0) setTimeout(() => response.writeHead(204).end(), answerMs);
      else response.writeHead(204).end();
      if (arrivals.has(id)) {
        stats.duplicates += 1;
        return;
      }
      arrivals.set(id, at);
      if (waiting?.pending.delete(id) && waiting.pending.size === 0) waiting.done();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/hook`,
    arrivals,
    stats,
    async waitForAll(ids, timeoutMs) {
      const pending = new Set(ids.filter((id) => !arrivals.has(id)));
      if (pending.size === 0) return true;
      const all = new Promise<true>((resolve) => {
        waiting = {
          pending,
          done: () => {
            resolve(true);
          },
        };
      });
      const timeout = sleep(timeoutMs, false as const, { ref: false });
      const result = await Promise.race([all, timeout]);
      waiting = undefined;
      return result;
    },
    close: () =>
      new Promise((resolve) => {
        // Kept-alive connections (the floor's, the sender's) would otherwise hold the server open.
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The floor

function post(agent: http.Agent, url: URL, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        method: 'POST',
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          resolve(response.statusCode ?? 0);
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

interface FloorRun {
  perSecond: number;
  /** This process's CPU time a POST (client and receiver both). */
  cpuMsPer: number;
}

/** `n` signed POSTs one after another over one kept-alive connection. */
async function floorRun(receiver: Receiver, secret: string, tag: string, n: number): Promise<FloorRun> {
  const url = new URL(receiver.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const timestamp = new Date(Date.now() - 1000).toISOString();
  try {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const messageId = `msg_floor_${tag}_${String(i)}`;
      // Rendered and signed per request, as the pipeline renders (router) and signs (sender) per message.
      const body = renderWebhookBody('generic', nodeLost(`${resellerId}/bench-site/node.lost/floor-${tag}-${String(i)}`, timestamp), {
        routingKey: null,
      });
      if (body === null) throw new Error('the generic template rendered nothing');
      const status = await post(agent, url, signatureHeaders(messageId, new Date(), body, [secret]), body);
      if (status !== 204) throw new Error(`the receiver answered ${String(status)} to the floor`);
    }
    const perSecond = n / ((performance.now() - started) / 1000);
    const spent = process.cpuUsage(cpu);
    return { perSecond, cpuMsPer: (spent.user + spent.system) / 1000 / n };
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The pipeline's probes

const stringOf = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && 'S' in v && typeof v.S === 'string') return v.S;
  return undefined;
};

/** Moments of each webhook message (performance.now()), seen in the pipeline's DynamoDB requests. */
interface Moments {
  stored: Map<string, number>;
  picked: Map<string, number>;
  recorded: Map<string, number>;
}

/** Requests by command, their summed latency, and the messages' moments, from the DynamoDB client the runtime uses. */
class DynamoProbe {
  readonly requests = new Map<string, { n: number; ms: number }>();
  readonly moments: Moments = { stored: new Map(), picked: new Map(), recorded: new Map() };
  /** Requests are counted only while a pipeline run is measured. */
  active = false;
  #lastAt = 0;

  attach(client: DynamoDBClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? 'unknown';
        const input = args.input as {
          Key?: Record<string, unknown>;
          Item?: Record<string, unknown>;
          TransactItems?: { Update?: { Key?: Record<string, unknown> } }[];
        };
        // A try is recorded by a transaction whose first item is the message's Update (webhook-message-store.ts).
        const sk = stringOf((input.Key ?? input.Item ?? input.TransactItems?.[0]?.Update?.Key)?.sk);
        const messageId = sk?.startsWith(webhookMessageSkPrefix) ? sk.slice(webhookMessageSkPrefix.length) : undefined;
        const started = performance.now();
        this.#lastAt = started;
        if (messageId !== undefined && command === 'PutItemCommand' && !this.moments.stored.has(messageId))
          this.moments.stored.set(messageId, started);
        if (messageId !== undefined && command === 'GetItemCommand' && !this.moments.picked.has(messageId))
          this.moments.picked.set(messageId, started);
        try {
          return await next(args);
        } finally {
          const ended = performance.now();
          this.#lastAt = ended;
          const r = this.requests.get(command) ?? { n: 0, ms: 0 };
          if (this.active) this.requests.set(command, { n: r.n + 1, ms: r.ms + ended - started });
          const records = command === 'UpdateItemCommand' || command === 'TransactWriteItemsCommand';
          if (messageId !== undefined && records && !this.moments.recorded.has(messageId)) this.moments.recorded.set(messageId, ended);
        }
      },
      // After the marshalling, the retries and the signing: one entry per request on the wire.
      { step: 'finalizeRequest', priority: 'low', name: 'benchWebhookDynamoProbe' },
    );
    return this;
  }

  /** Waits until the pipeline has sent DynamoDB nothing for `ms`. */
  async quiet(ms: number): Promise<void> {
    while (performance.now() - this.#lastAt < ms) await sleep(50);
  }
}

interface PipelineRun {
  perSecond: number;
  lost: number;
  /** From the first publish (ms): publishing done; the last message stored, read by the deliverer, arrived, recorded. */
  lastMs: { published: number; stored: number; picked: number; arrived: number; recorded: number };
  /** Per message, medians (ms): published → stored → picked → arrived → recorded. */
  stageMs: { toStored: number; toPicked: number; toArrived: number; toRecorded: number };
  /** The slowest message's picked → arrived (ms): a try that waited, e.g. for a connection. */
  toArrivedMaxMs: number;
  eventLoopUtilization: number;
  cpu: { benchMs: number; engineMs: number | undefined; wallMs: number };
}

interface Pipeline {
  runtime: WebhookRuntime;
  bus: EventBus;
  dynamo: DynamoProbe;
  cpu: CpuMeter;
}

async function pipelineRun(
  p: Pipeline,
  receiver: Receiver,
  tag: string,
  n: number,
  timeoutMs: number,
  counted: boolean,
): Promise<PipelineRun> {
  // A second in the past: a job due now is sent without delay (DelayedQueue rounds up to whole seconds).
  const timestamp = new Date(Date.now() - 1000).toISOString();
  const eventAt = Date.parse(timestamp);
  const events = Array.from({ length: n }, (_, i) => nodeLost(`${resellerId}/bench-site/node.lost/${tag}-${String(i)}`, timestamp));
  const ids = events.map((e) => messageIdOf(e.id, endpointId, eventAt));
  const published = new Map<string, number>();
  p.dynamo.active = counted;
  const elu = performance.eventLoopUtilization();
  const cpuBefore = p.cpu.read();
  const started = performance.now();
  for (let i = 0; i < n; i += publishBatch) {
    const at = performance.now();
    for (const id of ids.slice(i, i + publishBatch)) published.set(id, at);
    await p.bus.publish(events.slice(i, i + publishBatch));
  }
  const publishedMs = performance.now() - started;
  const complete = await receiver.waitForAll(ids, timeoutMs);
  const ended = performance.now();
  const cpu = cpuSpent(cpuBefore, p.cpu.read());
  const eventLoopUtilization = performance.eventLoopUtilization(elu).utilization;
  // The last tries are recorded after the receiver's answer: the run ends when every one is (or the engine has gone quiet).
  const deadline = performance.now() + 10_000;
  while (ids.some((id) => !p.dynamo.moments.recorded.has(id)) && performance.now() < deadline) await sleep(20);
  await p.dynamo.quiet(quietMs);
  p.dynamo.active = false;

  const arrived = ids.map((id) => receiver.arrivals.get(id)).filter((t) => t !== undefined);
  const lastArrival = arrived.length > 0 ? Math.max(...arrived) : ended;
  const m = p.dynamo.moments;
  const last = (map: Map<string, number>) => Math.max(0, ...ids.map((id) => (map.get(id) ?? started) - started));
  const stageTimes = (from: (id: string) => number | undefined, to: (id: string) => number | undefined) =>
    ids.flatMap((id) => {
      const [a, b] = [from(id), to(id)];
      return a === undefined || b === undefined ? [] : [b - a];
    });
  const stage = (...ends: Parameters<typeof stageTimes>) => median(stageTimes(...ends));
  const toArrived = stageTimes(
    (id) => m.picked.get(id),
    (id) => receiver.arrivals.get(id),
  );
  return {
    perSecond: complete ? n / ((lastArrival - started) / 1000) : 0,
    lost: n - arrived.length,
    lastMs: {
      published: publishedMs,
      stored: last(m.stored),
      picked: last(m.picked),
      arrived: lastArrival - started,
      recorded: last(m.recorded),
    },
    stageMs: {
      toStored: stage(
        (id) => published.get(id),
        (id) => m.stored.get(id),
      ),
      toPicked: stage(
        (id) => m.stored.get(id),
        (id) => m.picked.get(id),
      ),
      toArrived: median(toArrived),
      toRecorded: stage(
        (id) => receiver.arrivals.get(id),
        (id) => m.recorded.get(id),
      ),
    },
    toArrivedMaxMs: Math.max(0, ...toArrived),
    eventLoopUtilization,
    cpu: { ...cpu, wallMs: ended - started },
  };
}

// ---------------------------------------------------------------------------------------------

export async function webhooksBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: 'string' },
      messages: { type: 'string' },
      concurrency: { type: 'string' },
      'verify-every': { type: 'string' },
      'warm-up': { type: 'string' },
      'receiver-ms': { type: 'string' },
    },
    strict: true,
  });
  const runs = count('runs', values.runs, 3, 1, 20);
  const n = count('messages', values.messages, 300, 10, 10_000);
  // The local runtime's default; Lambda's SQS event source starts at 5 concurrent pollers, close to it.
  const concurrency = count('concurrency', values.concurrency, 4, 1, 64);
  const warmUp = count('warm-up', values['warm-up'], 200, 1, 10_000);
  // A real receiver takes tens of ms, not loopback's fraction of one: the serial floor falls with it, the pipeline's parallel tries do not.
  const receiverMs = count('receiver-ms', values['receiver-ms'], 0, 0, 10_000);
  const verifyEvery = count('verify-every', values['verify-every'], 10, 0, 1_000_000);

  progress('starting DynamoDB Local (in memory), fauxqs and the local stack (the webhook runtime)');
  const stack = await startLocalStack({
    tableName,
    channelPrefix,
    addressPolicy: { allowLoopback: true },
    snsSqs: {},
    run: { webhooks: true },
    webhookConcurrency: concurrency,
  });
  const { dynamo: client, webhooks: runtime, topicArn, snsSqsEndpoint } = stack;
  if (!runtime || !topicArn || !snsSqsEndpoint) {
    await stack.stop();
    throw new Error('the local stack started no webhook runtime');
  }
  const sns = localSnsClient(snsSqsEndpoint);
  const secret = newWebhookSecret();
  const receiver = await startReceiver(secret, verifyEvery, receiverMs);
  const floors: FloorRun[] = [];
  const pipelines: PipelineRun[] = [];
  const dynamoProbe = new DynamoProbe();
  try {
    const now = Date.now();
    const created = await new WebhookEndpointStore(stack.doc, tableName).createEndpoint(
      resellerId,
      endpointId,
      { url: receiver.url, eventTypes: ['node.lost'], template: 'generic', enabled: true },
      secret,
      now,
    );
    if (!created) throw new Error('the bench endpoint exists already');
    dynamoProbe.attach(client);
    const pipeline: Pipeline = { runtime, bus: new EventBus(sns, topicArn), dynamo: dynamoProbe, cpu: new CpuMeter() };

    // The engine's JVM and this process's JIT warm up on uncounted work, as the other benches do.
    progress(`warming up: ${String(floorWarmUpPosts)} floor POSTs and ${String(warmUp)} events through the pipeline (uncounted)`);
    await floorRun(receiver, secret, 'warm', floorWarmUpPosts);
    const warm = await pipelineRun(pipeline, receiver, 'warm', warmUp, runTimeoutMs, false);
    if (warm.lost > 0) throw new Error(`the warm-up lost ${String(warm.lost)} of ${String(warmUp)} deliveries`);

    for (let r = 0; r < runs; r++) {
      const tag = `run${String(r)}`;
      // Swapped each run, so that neither side always runs on the machine the other left.
      const order = r % 2 === 0 ? (['floor', 'pipeline'] as const) : (['pipeline', 'floor'] as const);
      for (const side of order) {
        if (side === 'floor') floors.push(await floorRun(receiver, secret, tag, n));
        else pipelines.push(await pipelineRun(pipeline, receiver, tag, n, runTimeoutMs, true));
      }
      const [f, p] = [floors.at(-1)!, pipelines.at(-1)!];
      progress(
        `run ${String(r + 1)}/${String(runs)}: floor ${f.perSecond.toFixed(0)}/s, pipeline ${p.perSecond.toFixed(1)}/s (ratio ${(p.perSecond / f.perSecond).toFixed(3)}), lost ${String(p.lost)}`,
      );
    }
    await sleep(duplicateGraceMs);
  } finally {
    sns.destroy();
    await stack.stop();
    await receiver.close();
  }

  const ratios = pipelines.map((p, i) => p.perSecond / floors[i]!.perSecond);
  const lost = pipelines.reduce((sum, p) => sum + p.lost, 0);
  const delivered = runs * n;
  const perDelivery = (x: number) => (x / delivered).toFixed(2);
  const med = (f: (p: PipelineRun) => number) => median(pipelines.map(f)).toFixed(1);
  const figures: [string, string | number][] = [
    ['messages', n],
    ['runs', `${String(runs)} (floor and pipeline alternating, order swapped each run)`],
    ['concurrency', `${String(concurrency)} deliverer batches at once`],
    ['receiver_answer_ms', receiverMs],
    ['receiver_verifies', verifyEvery === 0 ? 'none' : `1 request in ${String(verifyEvery)} (standardwebhooks Webhook.verify)`],
    ['floor_deliveries_per_s', median(floors.map((f) => f.perSecond)).toFixed(1)],
    ['pipeline_deliveries_per_s', median(pipelines.map((p) => p.perSecond)).toFixed(1)],
    ['delivery_ratio', median(ratios).toFixed(3)],
    ['delivery_ratios', ratios.map((x) => x.toFixed(3)).join(' ')],
    ['floor_runs_per_s', floors.map((f) => f.perSecond.toFixed(0)).join(' ')],
    ['pipeline_runs_per_s', pipelines.map((p) => p.perSecond.toFixed(1)).join(' ')],
    ['duplicates', receiver.stats.duplicates],
    ['lost', lost],
    ['bad_signatures', receiver.stats.badSignatures],
    ['signatures_verified', receiver.stats.verified],
    // Where the pipeline's time goes (medians over the runs).
    ['pipeline_ms_published_all', med((p) => p.lastMs.published)],
    ['pipeline_ms_stored_all', med((p) => p.lastMs.stored)],
    ['pipeline_ms_picked_all', med((p) => p.lastMs.picked)],
    ['pipeline_ms_arrived_all', med((p) => p.lastMs.arrived)],
    ['pipeline_ms_recorded_all', med((p) => p.lastMs.recorded)],
    ['message_ms_published_to_stored', med((p) => p.stageMs.toStored)],
    ['message_ms_stored_to_picked', med((p) => p.stageMs.toPicked)],
    ['message_ms_picked_to_arrived', med((p) => p.stageMs.toArrived)],
    ['message_ms_picked_to_arrived_max', med((p) => p.toArrivedMaxMs)],
    ['message_ms_arrived_to_recorded', med((p) => p.stageMs.toRecorded)],
    ['pipeline_event_loop_utilization', median(pipelines.map((p) => p.eventLoopUtilization)).toFixed(3)],
    ['pipeline_cpu_bench_per_wall', median(pipelines.map((p) => p.cpu.benchMs / p.cpu.wallMs)).toFixed(3)],
    // CPU a delivery: less moved by a busy machine than wall time.
    ['floor_cpu_ms_per_delivery', median(floors.map((f) => f.cpuMsPer)).toFixed(3)],
    ['pipeline_cpu_ms_per_delivery_bench', median(pipelines.map((p) => p.cpu.benchMs / n)).toFixed(3)],
    [
      'pipeline_cpu_ms_per_delivery_engine',
      pipelines.every((p) => p.cpu.engineMs !== undefined)
        ? median(pipelines.map((p) => (p.cpu.engineMs ?? 0) / n)).toFixed(3)
        : 'not found',
    ],
    // The floor's CPU a delivery over the pipeline's (this process and the engine): what the ratio tends to when both are CPU-bound.
    [
      'cpu_ratio',
      pipelines.every((p) => p.cpu.engineMs !== undefined)
        ? (median(floors.map((f) => f.cpuMsPer)) / median(pipelines.map((p) => (p.cpu.benchMs + (p.cpu.engineMs ?? 0)) / n))).toFixed(4)
        : 'not found',
    ],
    [
      'pipeline_cpu_engine_per_wall',
      pipelines.every((p) => p.cpu.engineMs !== undefined)
        ? median(pipelines.map((p) => (p.cpu.engineMs ?? 0) / p.cpu.wallMs)).toFixed(3)
        : 'not found',
    ],
  ];
  for (const [command, r] of [...dynamoProbe.requests].sort(([a], [b]) => a.localeCompare(b))) {
    const name = command.replace(/Command$/, '');
    figures.push([`dynamodb_${name}_per_delivery`, `${perDelivery(r.n)} (mean ${(r.ms / r.n).toFixed(2)} ms)`]);
  }
  for (const [name, value] of figures) console.log(`${name}: ${String(value)}`);
  if (lost > 0 || receiver.stats.badSignatures > 0) {
    console.error('bench webhooks: deliveries were lost or a signature did not verify');
    return 1;
  }
  return 0;
}
