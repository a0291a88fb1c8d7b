/**
 * The event path of the cost bench's site-day, measured: the table's stream → the event publisher
 * → the events topic → the incidents queue → the incidents function → its trackers, timers and
 * deliveries (and the trackers' own changes through the stream and the publisher again), on
 * DynamoDB Local and fauxqs, as the local stack runs it (`startLocalStack` with `run.events` and
 * `run.incidents`, on the replay's clock) on clients the bench counts: DynamoDB requests and
 * capacity units (`RequestCounter`, `CapacityMeter`), SNS and SQS calls (`MessagingMeter`), each
 * handler invocation (the stack's `wrap`) with its wall time and its log lines.
 *
 * Not inside the virtual-clock day: the witness's figures must stay those of the witness alone
 * (the publisher running beside the agents in this process would add its time to theirs), and the
 * incident timers are SQS delayed messages, which run in real seconds. So the day's stream records
 * are replayed after the day (`replay`), on a virtual clock of their own:
 * - the stream is read by the stack's stream poller into a list (the bench holds the stack's
 *   publisher handler and feeds it itself); the day is what lies between two marker items the
 *   bench writes when counting starts and ends;
 * - the records the stack's event source mapping lets through (lib/table-stream-feed.ts: `sk` =
 *   `STATE` or beginning `INCIDENT#`) go to the publisher in the batches one site's records make
 *   in a fleet's batches: those written within one 5 s batching window (the stack's), in order;
 * - the incidents queue is drained by the stack's queue poller (as Lambda's SQS event source
 *   mapping) into the incidents handler, whose clock is the replay's; after each
 *   batch that sent anything to the queue, the path runs until it is still (queue empty, no new
 *   tracker change on the stream), tracker changes going through the publisher as they appear;
 * - an incident timer (a SendMessage with a delay) is counted as sent, held by the bench, and
 *   sent for real when the replay's clock reaches the time SQS would have delivered it;
 * - the webhook path (`webhook-path.ts`), in two variants side by side, each a stack of its own
 *   (`run.webhooks`: its outbox subscribed to the topic, raw, no filter: every event) on its own
 *   counted clients: a reseller with no endpoints (the router's Query, every site's cost) and one
 *   with an endpoint at a local receiver (router, deliverer, and its message items' changes, which
 *   the stream's filter lets through, through its stack's publisher). After any batch that
 *   published an event the path runs until it is still, the webhook queues and functions included.
 * Publisher, incidents and webhook invocations never overlap (one lock), so that each one's log
 * lines and time are its own.
 *
 * The publisher's invocations in AWS are not those of the replay: its batching window gathers the
 * records of every site, so at fleet size a batch holds up to 100 records of many sites. Its time
 * per record is therefore measured apart (`timePublisher`): the same records, in batches of 100,
 * through the same handler into a scratch table and a topic nobody subscribes to; the cost bench
 * prices invocations = records ÷ the batch fill at the fleet's size (`publisherFill`).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type AttributeValue, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, type SendMessageCommandInput, type SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { documentClient, localDynamoClientConfig } from '../functions/adapters/dynamo-clients.ts';
import { EscalationStore } from '../functions/adapters/escalation-store.ts';
import { isTrackerSk } from '../functions/adapters/incident-store.ts';
import { localSnsClient, localSqsClient } from '../functions/adapters/messaging-clients.ts';
import { publisherDeps } from '../functions/adapters/publisher-config.ts';
import type { RequestCounter } from '../functions/adapters/request-counter.ts';
import { ResellerChannels } from '../functions/adapters/reseller-channels.ts';
import { ResellerStore } from '../functions/adapters/reseller-store.ts';
import { SiteAdminStore } from '../functions/adapters/site-admin-store.ts';
import { ensureTable } from '../functions/adapters/table.ts';
import type { WitnessSettings } from '../functions/domain/settings.ts';
import type { SiteState } from '../functions/domain/site-state.ts';
import type { EscalationPolicy } from '../protocol/reseller.ts';
import { lambdaContext } from '../local/api-gateway-event.ts';
import type { LocalStack, LocalStackOptions } from '../local/local-stack.ts';
import { ensureEventTopic, type LocalSnsSqs, startSnsSqs } from '../local/sns-sqs.ts';
import type { QueueHandler } from '../local/sqs-poller.ts';
import type { StreamHandler } from '../local/stream-poller.ts';
import { isAlertSk } from '../functions/adapters/alert-item.ts';
import { isWebhookMessageSk } from '../functions/adapters/webhook-message-item.ts';
import { eventSkPrefix, siteStateSk } from '../functions/adapters/tenancy-items.ts';
import type { CapacityMeter } from './ddb-meter.ts';
import type { LogCapture } from './log-capture.ts';
import type { MessagingMeter } from './messaging-meter.ts';
import { type MeteredClients, meteredClients } from './metered-clients.ts';
import {
  type WebhookFunctionFacts,
  webhookFunctionFacts,
  WebhookPath,
  type WebhookPathResult,
  WebhookRun,
  type WebhookVariant,
} from './webhook-path.ts';

/** The DynamoDB event source mapping's batch size: CDK's default (lib/table-stream-feed.ts sets none), Lambda's 100. */
export const streamBatchSize = 100;
/** The queue names' prefix and the resellers' channels' (`<prefix>-svc-<reseller>`). */
const channelPrefix = 'cost';
const markerPk = 'BENCH#markers';
/** What one stream batch of one site spans at most, if lib/ cannot say (it says 5 s). */
const defaultWindowMs = 5_000;
/** A replay that has not come to rest after this long is stuck: the bench stops rather than hang. */
const settleTimeoutMs = 120_000;

export type Escalation = 'default' | 'email';

/** The policy `--escalation email` gives the reseller: its service queue and an e-mail address, at once. */
const emailPolicy: EscalationPolicy = {
  levels: [{ afterMs: 0, targets: [{ type: 'service-queue' }, { type: 'email', address: 'oncall@example.com' }] }],
  repeatLast: { times: 0, everyMs: 3_600_000 },
};

/** One handler invocation in the replay. */
export interface HandlerRun {
  /** Records or messages handed to it. */
  items: number;
  durationMs: number;
  logLines: number;
  logBytes: number;
}

export interface IncidentRun extends HandlerRun {
  events: number;
  timers: number;
}

/** What the replay measured, for `cost.ts` to print and price. */
export interface EventPathResult {
  /** Every stream record of the day (and of the replay's own writes), by kind of item. */
  streamRecords: Record<string, number>;
  /** Records the event source mapping hands the publisher: the day's state changes, and the tracker changes the replay made. */
  deliveredDay: number;
  deliveredTrackers: number;
  /** The replay's publisher invocations (one site's records per batching window) and the incidents function's. */
  publisherRuns: HandlerRun[];
  incidentRuns: IncidentRun[];
  /** The same records again in batches of `streamBatchSize`: the time a fleet's full batch takes. */
  timing: { batches: number; records: number; durationsMs: number[] };
  requests: RequestCounter;
  capacity: CapacityMeter;
  messaging: MessagingMeter;
  incidentsQueueUrl: string;
  serviceQueueUrl: string;
  /** Timers armed with a delay (held, then sent when due) and how many were released. */
  timersHeld: number;
  /** Failures: records the publisher handed back, messages the incidents function failed. */
  failures: string[];
  windowMs: number;
  /** The webhook path's two variants (`webhook-path.ts`): no endpoint, one endpoint. */
  webhooks: WebhookPathResult[];
  webhookFacts: WebhookFunctionFacts;
}

/** Runs one function at a time. */
class Lock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

interface HeldTimer {
  /** Virtual ms at which SQS would hand it out. */
  arrival: number;
  order: number;
  input: SendMessageCommandInput;
}

/** What the stack's event source mapping lets through (lib/table-stream-feed.ts): state items, trackers, inbound alerts, webhook messages. */
const delivered = (record: DynamoDBRecord) => {
  const sk = record.dynamodb?.Keys?.sk?.S;
  return sk === siteStateSk || isTrackerSk(sk) || isAlertSk(sk) || isWebhookMessageSk(sk);
};

const sequence = (record: DynamoDBRecord) => BigInt(record.dynamodb?.SequenceNumber ?? '0');

function kindOf(record: DynamoDBRecord): string {
  const sk = record.dynamodb?.Keys?.sk?.S ?? '';
  if (sk === siteStateSk) return 'state';
  if (isTrackerSk(sk)) return 'incident tracker';
  if (sk.startsWith(eventSkPrefix)) return 'audit trail';
  if (isAlertSk(sk)) return 'inbound alert';
  return 'other';
}

/** The witness time of a state change: the latest contact, decision or silence mark in it. */
function recordTime(record: DynamoDBRecord): number | undefined {
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>) as Partial<Pick<SiteState, 'nodes' | 'decision' | 'silence'>>;
  const times = [...Object.values(item.nodes ?? {}).map((n) => n.lastSeenAt ?? 0), item.decision?.at ?? 0, item.silence?.at ?? 0];
  const latest = Math.max(...times);
  return latest > 0 ? latest : undefined;
}

/**
 * The event path's engine and tenancy, set up before the day (uncounted): fauxqs, the reseller's
 * service queue and alerts topic, the tenancy the incidents function reads (customer, site
 * listing, policy), and each webhook variant's table and receiver (the endpoint's item is written
 * before the day: its stream record is not the day's). The queues, subscriptions and functions are
 * the replay's stacks', started after the day.
 */
export class EventPath {
  private constructor(
    private readonly o: { dynamoEndpoint: string; tableName: string; resellerId: string; siteId: string },
    private readonly snsSqs: LocalSnsSqs,
    private readonly raw: { dynamo: DynamoDBClient; sqs: SQSClient; sns: ReturnType<typeof localSnsClient> },
    private readonly serviceQueueUrl: string,
    private readonly webhooks: WebhookPath[],
    private readonly facts: WebhookFunctionFacts,
  ) {}

  static async start(o: {
    dynamoEndpoint: string;
    tableName: string;
    resellerId: string;
    siteId: string;
    escalation: Escalation;
    now: number;
  }): Promise<EventPath> {
    const snsSqs = await startSnsSqs();
    const raw = {
      dynamo: new DynamoDBClient(localDynamoClientConfig(o.dynamoEndpoint)),
      sqs: localSqsClient(snsSqs.endpoint),
      sns: localSnsClient(snsSqs.endpoint),
    };
    const channels = new ResellerChannels(raw.sqs, raw.sns, channelPrefix);
    const service = await channels.ensure(o.resellerId);
    if (o.escalation === 'email') {
      await channels.subscribe(o.resellerId, { type: 'email', address: 'oncall@example.com' });
      const stored = await new EscalationStore(documentClient(raw.dynamo), o.tableName).put(
        o.resellerId,
        { scope: 'reseller', id: null },
        emailPolicy,
        o.now,
      );
      if (!stored) throw new Error('the bench could not store the e-mail escalation policy');
    }
    const webhooks: WebhookPath[] = [];
    for (const variant of ['none', 'endpoint'] as const satisfies WebhookVariant[]) {
      webhooks.push(await WebhookPath.setUp({ variant, dynamo: raw.dynamo, tableName: o.tableName, resellerId: o.resellerId, now: o.now }));
    }
    return new EventPath(o, snsSqs, raw, service.queueUrl, webhooks, await webhookFunctionFacts());
  }

  /**
   * Creates the site as the reseller API does (its customer, its listing and its state item in one
   * transaction), so that the incidents function finds what it reads for a real site.
   */
  async createSite(state: SiteState, nodeIds: string[], now: number): Promise<void> {
    const doc = documentClient(this.raw.dynamo);
    const customerId = 'cost-customer';
    if (
      !(await new ResellerStore(doc, this.o.tableName).createCustomer(this.o.resellerId, {
        customerId,
        name: 'Cost Bench Customer',
        createdAt: now,
      }))
    ) {
      throw new Error('the bench customer exists already');
    }
    const listing = {
      siteId: this.o.siteId,
      customerId,
      name: 'Cost Bench Office',
      nodeIds,
      createdAt: now,
      enrolledVersion: Object.fromEntries(nodeIds.map((id) => [id, 1])),
    };
    const outcome = await new SiteAdminStore(doc, this.o.tableName).createSite(this.o.resellerId, listing, state, []);
    if (outcome !== 'created') throw new Error(`the bench site was not created: ${outcome}`);
  }

  /** A marker item on the stream (no event source mapping delivers it): the day starts or ends here. */
  async mark(which: 'start' | 'end'): Promise<void> {
    await this.raw.dynamo.send(new PutItemCommand({ TableName: this.o.tableName, Item: { pk: { S: markerPk }, sk: { S: which } } }));
  }

  /**
   * Replays the day's stream records through the publisher and the incidents function (see the
   * file's comment), then times the publisher on full batches. `dayStart` is the virtual clock
   * (witness ms) when counting started; the log capture must be running.
   */
  async replay(settings: WitnessSettings, dayStart: number, logs: LogCapture, progress: (line: string) => void): Promise<EventPathResult> {
    // Loaded only now: their logger takes its level from the environment the cost bench sets first.
    const { startLocalStack } = await import('../local/local-stack.ts');
    const { publisherHandler } = await import('../functions/handlers/publisher.ts');
    const windowMs = await batchingWindowMs();
    const main = meteredClients(this.o.dynamoEndpoint, this.snsSqs.endpoint);

    // The replay's clock (witness ms) and the timers it holds.
    let clock = dayStart;
    let incidentsQueueUrl = '';
    const held: HeldTimer[] = [];
    let heldCount = 0;
    main.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as SendMessageCommandInput;
        if (context.commandName === 'SendMessageCommand' && input.QueueUrl === incidentsQueueUrl && (input.DelaySeconds ?? 0) > 0) {
          held.push({ arrival: clock + (input.DelaySeconds ?? 0) * 1000, order: heldCount++, input: { ...input } });
          // What SQS answers (the client checks the body's MD5; a timer carries no attributes).
          const output = {
            MessageId: `held-${String(heldCount)}`,
            MD5OfMessageBody: createHash('md5')
              .update(input.MessageBody ?? '')
              .digest('hex'),
            $metadata: {},
          };
          return { output } as unknown as Awaited<ReturnType<typeof next>>;
        }
        return next(args);
      },
      // Inside the meter (which counts it, as AWS would bill it), before anything is sent.
      { step: 'initialize', priority: 'low', name: 'benchTimerHold' },
    );

    const lock = new Lock();
    const failures: string[] = [];
    const publisherRuns: HandlerRun[] = [];
    const incidentRuns: IncidentRun[] = [];
    let inFlight = 0;
    let invocation = 0;
    const measured = async <T>(fn: () => Promise<T>): Promise<{ result: T; run: HandlerRun }> => {
      logs.take();
      const lines = logs.lines;
      const started = performance.now();
      const result = await fn();
      const durationMs = performance.now() - started;
      return { result, run: { items: 0, durationMs, logLines: logs.lines - lines, logBytes: logs.take() } };
    };
    /** One invocation alone (the lock), measured; counted in flight from the moment it is asked for. */
    const exclusive = <T>(fn: () => Promise<T>) => {
      inFlight++;
      return lock
        .run(() => measured(fn))
        .finally(() => {
          inFlight--;
        });
    };

    // The whole stream so far, once each record, in stream order: the main stack's stream poller hands it here.
    const collected: DynamoDBRecord[] = [];
    const seen = new Set<string>();
    const collect: StreamHandler = (event) => {
      for (const record of event.Records) {
        const id = record.dynamodb?.SequenceNumber ?? '';
        if (seen.has(id)) continue;
        seen.add(id);
        collected.push(record);
      }
      return Promise.resolve({ batchItemFailures: [] });
    };
    let publisher: StreamHandler | undefined;
    const incidentsWrap =
      (functionName: string, handler: QueueHandler): QueueHandler =>
      async (event, context) => {
        const { result, run } = await exclusive(() => handler(event, context));
        const timers = event.Records.filter((r) => (JSON.parse(r.body) as { timer?: unknown }).timer !== undefined).length;
        incidentRuns.push({ ...run, items: event.Records.length, timers, events: event.Records.length - timers });
        for (const f of result.batchItemFailures) failures.push(`${functionName} failed message ${f.itemIdentifier}`);
        return result;
      };

    const webhookRuns = this.webhooks.map(
      (path) => new WebhookRun(path, meteredClients(this.o.dynamoEndpoint, this.snsSqs.endpoint), exclusive, this.raw.sqs),
    );
    const stacks: LocalStack[] = [];
    const onStack = (stack: LocalStack) => {
      stacks.push(stack);
      return stack;
    };
    const common = (clients: MeteredClients): LocalStackOptions => ({
      dynamodb: { endpoint: this.o.dynamoEndpoint },
      snsSqs: { endpoint: this.snsSqs.endpoint },
      dynamo: clients.dynamo,
      sqs: clients.sqs,
      sns: clients.sns,
      settings,
      clock: () => clock,
      channelPrefix,
      // The receiver is on loopback: the local runtime's policy for it.
      addressPolicy: { allowLoopback: true },
      // One batch at a time, as the replay runs one function at a time.
      webhookConcurrency: 1,
    });
    const streamRecords: Record<string, number> = {};
    const countRecord = (r: DynamoDBRecord) => {
      const kind = kindOf(r);
      streamRecords[kind] = (streamRecords[kind] ?? 0) + 1;
    };
    try {
      // The webhook variants first: each stack's outbox is subscribed to the topic (the endpoint variant's is the outbox the incidents function leaves steps in).
      for (const run of webhookRuns) {
        const stack = onStack(
          await startLocalStack({
            ...common(run.clients),
            tableName: run.path.tableName,
            ...(run.path.variant === 'none' ? { channelPrefix: `${channelPrefix}-none` } : {}),
            run: { webhooks: true, events: run.path.variant === 'endpoint' },
            wrap: run.wrap,
          }),
        );
        run.started(stack);
      }
      const mainStack = onStack(
        await startLocalStack({
          ...common(main),
          tableName: this.o.tableName,
          run: { events: true, incidents: true },
          wrap: {
            stream: (handler) => {
              publisher = handler;
              return collect;
            },
            queue: incidentsWrap,
          },
        }),
      );
      const events = mainStack.events;
      const incidentsRuntime = mainStack.incidents;
      const mainPublisher = publisher;
      if (!events || !incidentsRuntime || !mainPublisher) throw new Error('the replay stack runs no publisher or incidents function');
      incidentsQueueUrl = incidentsRuntime.incidentsQueueUrl;
      // What setting the stacks up sent is not the day's.
      for (const clients of [main, ...webhookRuns.map((r) => r.clients)]) clients.reset();

      const publish = (records: DynamoDBRecord[]) =>
        exclusive(() => mainPublisher({ Records: records }, lambdaContext('tiebreak-publisher', `bench-${String(++invocation)}`))).then(
          ({ result, run }) => {
            publisherRuns.push({ ...run, items: records.length });
            for (const f of result.batchItemFailures) failures.push(`publisher handed back record ${f.itemIdentifier}`);
          },
        );

      await events.drain();
      const marker = (which: string) => {
        const found = collected.find((r) => r.dynamodb?.Keys?.pk?.S === markerPk && r.dynamodb.Keys.sk?.S === which);
        if (!found) throw new Error(`the stream has no ${which} marker`);
        return sequence(found);
      };
      const [from, to] = [marker('start'), marker('end')];
      const day = collected.filter((r) => sequence(r) > from && sequence(r) < to);
      for (const r of day) countRecord(r);
      const dayDelivered = day.filter(delivered);
      let tailNext = collected.length;
      const trackerChanges: DynamoDBRecord[] = [];
      /** The replay's new stream records: the webhook variants' own to them, the rest (tracker changes) to the publisher here. */
      const takeTail = async () => {
        const tail = collected.slice(tailNext).filter((r) => sequence(r) > to);
        tailNext = collected.length;
        const mine: DynamoDBRecord[] = [];
        const theirs = new Map<WebhookRun, DynamoDBRecord[]>();
        for (const r of tail) {
          const owner = webhookRuns.find((w) => w.owns(r));
          if (owner) {
            owner.count(r);
            if (delivered(r)) theirs.set(owner, [...(theirs.get(owner) ?? []), r]);
          } else {
            countRecord(r);
            if (delivered(r)) mine.push(r);
          }
        }
        for (const [owner, records] of theirs) {
          for (let i = 0; i < records.length; i += streamBatchSize) await owner.publish(records.slice(i, i + streamBatchSize));
        }
        trackerChanges.push(...mine);
        return { trackers: mine, webhook: [...theirs.values()].flat().length };
      };

      const queueDepth = async () => {
        const { Attributes = {} } = await this.raw.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: incidentsQueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
          }),
        );
        return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
      };
      const webhooksBusy = async () => (await Promise.all(webhookRuns.map((w) => w.depth()))).some((n) => n > 0);
      /** Runs the path until it is still: nothing on the queues or in the functions, no tracker or message change left on the stream. */
      const settle = async () => {
        const started = performance.now();
        for (let quiet = 0; quiet < 2;) {
          if (performance.now() - started > settleTimeoutMs) throw new Error('the event path did not come to rest');
          await events.drain();
          const { trackers: tail, webhook } = await takeTail();
          for (let i = 0; i < tail.length; i += streamBatchSize) await publish(tail.slice(i, i + streamBatchSize));
          const busy = tail.length > 0 || webhook > 0 || inFlight > 0 || (await queueDepth()) > 0 || (await webhooksBusy());
          if (busy) {
            quiet = 0;
            await new Promise((resolve) => setTimeout(resolve, 20));
          } else quiet++;
        }
      };
      /** Sends each held timer due by `until` when it is due, in order, and lets the path act on it. */
      const releaseTimers = async (until: number) => {
        for (;;) {
          held.sort((a, b) => a.arrival - b.arrival || a.order - b.order);
          const next = held[0];
          if (!next || next.arrival > until) return;
          held.shift();
          clock = Math.max(clock, next.arrival);
          await this.raw.sqs.send(new SendMessageCommand({ ...next.input, DelaySeconds: 0 }));
          await settle();
        }
      };
      // Every event reaches the webhook outboxes (no filter), not only those the incidents queue takes.
      const eventsPublished = () => main.messaging.of('sns', 'PublishBatchCommand').reduce((sum, r) => sum + r.messages, 0);

      // One site's records in the batches a fleet's would carry them: within one batching window.
      const windows: { from: number; to: number; records: DynamoDBRecord[] }[] = [];
      let last = dayStart;
      for (const record of dayDelivered) {
        const t = recordTime(record) ?? last;
        last = t;
        const w = windows.at(-1);
        if (w && t < w.from + windowMs && w.records.length < streamBatchSize) {
          w.records.push(record);
          w.to = t;
        } else windows.push({ from: t, to: t, records: [record] });
      }
      progress(
        `event path: ${dayDelivered.length} state changes in ${windows.length} batching windows through the publisher, then the incidents`,
      );
      for (const w of windows) {
        await releaseTimers(w.from);
        clock = Math.max(clock, w.to);
        const before = eventsPublished();
        await publish(w.records);
        if (eventsPublished() > before) await settle();
      }
      await releaseTimers(Number.POSITIVE_INFINITY);
      await settle();
      // The stacks stop now, so that their pollers' calls after the replay are not counted.
      const webhooks = await Promise.all(webhookRuns.map((w) => w.finish()));
      await mainStack.stop();

      // The publisher's time on a fleet's full batches: the same records into a scratch table and a topic nobody reads.
      progress('event path: timing the publisher on full batches (scratch table and topic)');
      const scratchTable = `${this.o.tableName}-scratch`;
      await ensureTable(this.raw.dynamo, scratchTable);
      const scratchTopic = await ensureEventTopic(this.snsSqs.endpoint, 'tiebreak-cost-scratch');
      const timingHandler: StreamHandler = publisherHandler(() =>
        publisherDeps({ tableName: scratchTable, settings, dynamo: this.raw.dynamo, sns: this.raw.sns, topicArn: scratchTopic }),
      );
      const all = [...dayDelivered, ...trackerChanges];
      const durationsMs: number[] = [];
      for (let i = 0; i < all.length; i += streamBatchSize) {
        const batch = all.slice(i, i + streamBatchSize);
        const { result, run } = await measured(() =>
          timingHandler({ Records: batch }, lambdaContext('tiebreak-publisher', `timing-${String(i)}`)),
        );
        if (result.batchItemFailures.length > 0) failures.push('the timing run handed records back');
        durationsMs.push(run.durationMs);
      }
      return {
        streamRecords,
        deliveredDay: dayDelivered.length,
        deliveredTrackers: trackerChanges.length,
        publisherRuns,
        incidentRuns,
        timing: { batches: durationsMs.length, records: all.length, durationsMs },
        requests: main.requests,
        capacity: main.capacity,
        messaging: main.messaging,
        incidentsQueueUrl,
        serviceQueueUrl: this.serviceQueueUrl,
        timersHeld: heldCount,
        failures: [...failures, ...webhooks.flatMap((w) => w.failures)],
        windowMs,
        webhooks,
        webhookFacts: this.facts,
      };
    } finally {
      await Promise.all(webhookRuns.map((w) => w.finish()));
      for (const stack of stacks.reverse()) await stack.stop();
      main.destroy();
    }
  }

  async stop(): Promise<void> {
    for (const path of this.webhooks) await path.stop();
    this.raw.dynamo.destroy();
    this.raw.sqs.destroy();
    this.raw.sns.destroy();
    await this.snsSqs.stop();
  }
}

/** The stack's batching window (lib/table-stream-feed.ts), or 5 s if lib/ does not load. */
async function batchingWindowMs(): Promise<number> {
  try {
    const { streamBatchingWindow } = await import('../lib/table-stream-feed.ts');
    return streamBatchingWindow.toMilliseconds();
  } catch {
    return defaultWindowMs;
  }
}

/**
 * How full the publisher's batches are at `sites` sites: the records every site puts on the
 * stream in one batching window, at most `streamBatchSize`, over `shards` stream shards (each
 * batches on its own), at least one.
 */
export function publisherFill(recordsPerSiteDay: number, sites: number, windowMs: number, shards = 1): number {
  const perWindow = (recordsPerSiteDay * sites * windowMs) / (24 * 3_600_000) / shards;
  return Math.max(1, Math.min(streamBatchSize, perWindow));
}
