/**
 * What the event path (`event-path.ts`) uses in one site-day, from the replay's measurements and,
 * where AWS does it otherwise than the local runtime, the model stated beside each figure:
 * - the publisher's invocations: the day's delivered records ÷ the batch fill at the fleet's size
 *   (`publisherFill`), each as long as that many records take on the full-batch timing;
 * - the incidents function's invocations: as the replay made them (its queue is quiet: a batch is
 *   the messages one event or timer brought), with their measured time;
 * - SQS: every call the functions and the queue poller made, but the poller's empty receives (Lambda's
 *   own polling of an idle queue is a cost of the deployment, not of a site: noted, not priced here),
 *   and the reseller's tool's receive and delete of each service-queue message (2 requests, modelled);
 * - SNS: each publish call billed per started 64 KB of its payload (a PublishBatch of ten small
 *   events is one: SNS's batching documentation); deliveries to SQS free; e-mail per notification;
 * - the webhook path (`webhookPathDay`, per variant): the router's and the deliverer's invocations
 *   as the replay made them, with their measured time (their queues are quiet: a batch is what one
 *   publish or one router run brought); every SQS call of theirs but the poller's empty receives;
 *   the variant's message records through the publisher, priced as the publisher's other records
 *   (records ÷ the fleet's fill, at the full-batch time per record); its items kept for their 30
 *   days' TTL (TTL deletes are free); the bytes POSTed to the receiver, counted (data transfer out
 *   has no price in the dated table).
 */
import { eventSkPrefix, incidentSkPrefix, webhookMessageSkPrefix } from '../functions/adapters/tenancy-items.ts';
import { webhookRetentionMs } from '../functions/adapters/webhook-message-store.ts';
import { incidentQueueEventTypes } from '../functions/domain/incidents.ts';
import { type EventPathResult, type HandlerRun, publisherFill } from './event-path.ts';
import type { MessagingMeter } from './messaging-meter.ts';
import type { WebhookPathResult, WebhookVariant } from './webhook-path.ts';

/** One site-day of the event path, ready to price (counts per day, bytes, ms). */
export interface EventPathDay {
  publisherInvocations: number;
  publisherFill: number;
  publisherBilledMsPerInvocation: number;
  incidentsInvocations: number;
  /** Billed Lambda ms of both functions. */
  billedMs: number;
  wru: number;
  wruIndex: number;
  rru: number;
  /** Audit-trail items the day adds (kept: no TTL), with DynamoDB's 100 B overhead each. */
  storedBytesAdded: number;
  handlerLogBytes: number;
  platformLogBytes: number;
  snsPublishesBilled: number;
  snsEmails: number;
  snsSms: number;
  sqsRequestsBilled: number;
  sqsConsumerModelled: number;
}

export function eventPathDay(
  r: EventPathResult,
  o: { sites: number; shards: number; platformLogBytes: (durationMs: number) => number },
): EventPathDay {
  const records = r.deliveredDay + r.deliveredTrackers;
  const timed = r.timing.durationsMs.reduce((a, b) => a + b, 0);
  const msPerRecord = timed / Math.max(1, r.timing.records);
  const fill = publisherFill(records, o.sites, r.windowMs, o.shards);
  const publisherInvocations = records / fill;
  const perInvocationMs = fill * msPerRecord;
  const publisherBilledMsPerInvocation = Math.max(1, Math.ceil(perInvocationMs));
  const incidentsBilledMs = r.incidentRuns.reduce((sum, run) => sum + Math.max(1, Math.ceil(run.durationMs)), 0);

  const writes = r.capacity.writes();
  const reads = r.capacity.reads();
  const wruTable = writes.reduce((sum, w) => sum + (w.unitsReported ?? w.unitsBySize), 0);
  const wruIndex = writes.reduce((sum, w) => sum + w.indexUnitsReported, 0);
  // A read that finds nothing is still billed (DynamoDB Local reports 0 for it): whichever is more.
  const rru = reads.reduce((sum, q) => sum + Math.max(q.unitsReported ?? 0, q.unitsBySize), 0);
  const audit = writes.filter((w) => w.applied && w.command === 'PutItemCommand' && w.sk?.startsWith(eventSkPrefix) === true);

  const sqs = r.messaging.of('sqs');
  const toService = sqs.filter((q) => q.command === 'SendMessageCommand' && q.target === r.serviceQueueUrl).length;
  const sns = r.messaging.of('sns');
  const publishes = sns.filter((q) => q.command === 'PublishBatchCommand' || q.command === 'PublishCommand');
  const alerts = sns.filter((q) => q.command === 'PublishCommand');

  return {
    publisherInvocations,
    publisherFill: fill,
    publisherBilledMsPerInvocation,
    incidentsInvocations: r.incidentRuns.length,
    billedMs: publisherInvocations * publisherBilledMsPerInvocation + incidentsBilledMs,
    wru: wruTable + wruIndex,
    wruIndex,
    rru,
    storedBytesAdded: audit.reduce((sum, w) => sum + w.newBytes + 100, 0),
    handlerLogBytes: [...r.publisherRuns, ...r.incidentRuns].reduce((sum, run) => sum + run.logBytes, 0),
    platformLogBytes:
      publisherInvocations * o.platformLogBytes(perInvocationMs) +
      r.incidentRuns.reduce((sum, run) => sum + o.platformLogBytes(run.durationMs), 0),
    snsPublishesBilled: publishes.reduce((sum, q) => sum + q.billed, 0),
    snsEmails: alerts.filter((q) => q.alertTarget?.includes('@') === true).length,
    snsSms: alerts.filter((q) => q.alertTarget?.startsWith('+') === true).length,
    sqsRequestsBilled: sqsBilled(r.messaging),
    // The reseller's tool receives and deletes each service-queue message (the webhook outbox's are the router's, measured in the webhook path).
    sqsConsumerModelled: 2 * toService,
  };
}

/** SQS requests billed: every call but the local poller's empty receives (Lambda's own polling is the deployment's). */
function sqsBilled(messaging: MessagingMeter): number {
  return messaging
    .of('sqs')
    .filter((q) => !(q.command === 'ReceiveMessageCommand' && q.messages === 0))
    .reduce((sum, q) => sum + q.billed, 0);
}

const billedMsOf = (runs: HandlerRun[]) => runs.reduce((sum, run) => sum + Math.max(1, Math.ceil(run.durationMs)), 0);

/** One site-day of one variant of the webhook path, ready to price (counts per day, bytes, ms). */
export interface WebhookPathDay {
  variant: WebhookVariant;
  routerInvocations: number;
  delivererInvocations: number;
  /** The publisher's share for the variant's message records (at the fleet's batch fill). */
  publisherInvocations: number;
  invocations: number;
  /** Billed Lambda ms of the three. */
  billedMs: number;
  wru: number;
  rru: number;
  /** Webhook items kept at steady state (their TTL's worth of days), with DynamoDB's 100 B overhead each. */
  storedBytes: number;
  handlerLogBytes: number;
  platformLogBytes: number;
  snsPublishesBilled: number;
  sqsRequestsBilled: number;
  httpPosts: number;
  /** Request bytes POSTed out of AWS (request line, headers, body; TLS aside). */
  httpBytesOut: number;
}

export function webhookPathDay(
  w: WebhookPathResult,
  main: EventPathResult,
  o: { sites: number; shards: number; platformLogBytes: (durationMs: number) => number },
): WebhookPathDay {
  const msPerRecord = main.timing.durationsMs.reduce((a, b) => a + b, 0) / Math.max(1, main.timing.records);
  const fill = publisherFill(main.deliveredDay + main.deliveredTrackers + w.publisherRecords, o.sites, main.windowMs, o.shards);
  const publisherInvocations = w.publisherRecords / fill;
  const perInvocationMs = fill * msPerRecord;
  const runs = [...w.routerRuns, ...w.delivererRuns];
  const writes = w.capacity.writes();
  const reads = w.capacity.reads();
  // Each item's last size (a message is put, then updated), kept as long as its TTL.
  const lastSize = new Map<string, number>();
  for (const write of writes.filter((x) => x.applied)) lastSize.set(write.sk ?? '?', write.newBytes);
  const dayBytes = [...lastSize.values()].reduce((sum, bytes) => sum + bytes + 100, 0);
  const publishes = w.messaging.of('sns').filter((q) => q.command === 'PublishBatchCommand' || q.command === 'PublishCommand');
  return {
    variant: w.variant,
    routerInvocations: w.routerRuns.length,
    delivererInvocations: w.delivererRuns.length,
    publisherInvocations,
    invocations: runs.length + publisherInvocations,
    billedMs: billedMsOf(runs) + publisherInvocations * Math.max(1, Math.ceil(perInvocationMs)),
    wru: writes.reduce((sum, x) => sum + (x.unitsReported ?? x.unitsBySize) + x.indexUnitsReported, 0),
    rru: reads.reduce((sum, q) => sum + Math.max(q.unitsReported ?? 0, q.unitsBySize), 0),
    storedBytes: dayBytes * (webhookRetentionMs / 86_400_000),
    handlerLogBytes: [...runs, ...w.publisherRuns].reduce((sum, run) => sum + run.logBytes, 0),
    platformLogBytes:
      runs.reduce((sum, run) => sum + o.platformLogBytes(run.durationMs), 0) + publisherInvocations * o.platformLogBytes(perInvocationMs),
    snsPublishesBilled: publishes.reduce((sum, q) => sum + q.billed, 0),
    sqsRequestsBilled: sqsBilled(w.messaging),
    httpPosts: w.receiver?.posts ?? 0,
    httpBytesOut: w.receiver?.bytesOut ?? 0,
  };
}

/** The prefix of a variant's figures: `webhook_path_` (no endpoint, every site) or `webhook_path_with_endpoint_`. */
export const webhookPrefix = (variant: WebhookVariant) => (variant === 'none' ? 'webhook_path_' : 'webhook_path_with_endpoint_');

/** One variant's replay figures, `name: value`, independent of prices and of the fleet's size. */
export function webhookPathFigures(w: WebhookPathResult): [string, string | number][] {
  const p = webhookPrefix(w.variant);
  const mean = (runs: HandlerRun[]) => (runs.length === 0 ? 0 : runs.reduce((sum, run) => sum + run.durationMs, 0) / runs.length);
  const sqs = w.messaging.of('sqs');
  const sent = (url: string) =>
    sqs
      .filter((q) => (q.command === 'SendMessageCommand' || q.command === 'SendMessageBatchCommand') && q.target === url)
      .reduce((sum, q) => sum + q.messages, 0);
  const dynamo = [...w.requests.byCommand].sort(([a], [b]) => a.localeCompare(b));
  const writes = w.capacity.writes();
  return [
    [`${p}outbox_messages_per_site_day`, w.routerRuns.reduce((sum, run) => sum + run.items, 0)],
    [`${p}router_invocations_per_site_day`, w.routerRuns.length],
    [`${p}router_ms_mean`, mean(w.routerRuns).toFixed(2)],
    [`${p}router_ms_max`, Math.max(0, ...w.routerRuns.map((run) => run.durationMs)).toFixed(2)],
    [
      `${p}messages_stored_per_site_day`,
      writes.filter((x) => x.command === 'PutItemCommand' && x.sk?.startsWith(webhookMessageSkPrefix) === true).length,
    ],
    [`${p}tries_scheduled_per_site_day`, sent(w.deliveriesUrl)],
    [`${p}deliverer_invocations_per_site_day`, w.delivererRuns.length],
    [`${p}deliverer_ms_mean`, mean(w.delivererRuns).toFixed(2)],
    [
      `${p}http_posts_per_site_day`,
      w.receiver
        ? `${w.receiver.posts} (${
            Object.entries(w.receiver.statuses)
              .map(([status, n]) => `${status} ${n}`)
              .join(', ') || 'none'
          })`
        : 'none (no endpoint)',
    ],
    [`${p}http_bytes_out_per_site_day`, w.receiver?.bytesOut ?? 0],
    [
      `${p}publisher_records_per_site_day`,
      `${w.publisherRecords} (its message items' changes, through the stream's filter; ${w.publisherRuns.length} replay runs)`,
    ],
    ...Object.entries(w.streamRecords)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]): [string, number] => [`${p}stream_records_per_site_day_${kind.replace(/[^a-z0-9]+/gi, '_')}`, n]),
    [`${p}ddb_requests_per_site_day`, w.requests.total()],
    ...dynamo.map(([command, n]): [string, number] => [`${p}ddb_${command.replace(/Command$/, '')}_per_site_day`, n]),
    [`${p}ddb_unmetered`, w.capacity.unmetered.size === 0 ? 'none' : [...w.capacity.unmetered].map(([c, n]) => `${c} ${n}`).join(', ')],
    [
      `${p}sqs_calls_per_site_day`,
      [...new Set(sqs.map((q) => q.command))]
        .sort()
        .map((c) => `${c.replace(/Command$/, '')} ${sqs.filter((q) => q.command === c).length}`)
        .join(', ') || 'none',
    ],
    [
      `${p}sqs_empty_receives_local_poller`,
      `${sqs.filter((q) => q.command === 'ReceiveMessageCommand' && q.messages === 0).length} (not priced)`,
    ],
    [`${p}sns_calls_per_site_day`, w.messaging.of('sns').length],
    [`${p}failures`, w.failures.length === 0 ? 'none' : w.failures.join('; ')],
  ];
}

/** The replay's figures, `name: value`, independent of prices and of the fleet's size. */
export function eventPathFigures(r: EventPathResult): [string, string | number][] {
  const published = r.messaging.of('sns', 'PublishBatchCommand').flatMap((q) => q.types);
  const byType = new Map<string, number>();
  for (const t of published) byType.set(t, (byType.get(t) ?? 0) + 1);
  const filtered = published.filter((t) => (incidentQueueEventTypes as readonly string[]).includes(t)).length;
  const sqs = r.messaging.of('sqs');
  const sqsBy = (command: string, target?: (url: string) => boolean) =>
    sqs.filter((q) => q.command === command && (target === undefined || target(q.target)));
  const received = sqsBy('ReceiveMessageCommand');
  const dynamo = [...r.requests.byCommand].sort(([a], [b]) => a.localeCompare(b));
  const writes = r.capacity.writes();
  const reads = r.capacity.reads();
  const items = (prefix: string) => writes.filter((w) => w.sk?.startsWith(prefix) === true);
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const timingMean = mean(r.timing.durationsMs);
  const incidentMs = r.incidentRuns.map((run) => run.durationMs);
  const key = (s: string) => s.replace(/[^a-z0-9]+/gi, '_').toLowerCase();
  return [
    [
      'event_path_method',
      "replayed after the day on a clock of its own (bench/event-path.ts): the local stack's publisher and incidents runtime (startLocalStack) on DynamoDB Local and fauxqs, every client counted",
    ],
    ...Object.entries(r.streamRecords)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]): [string, number] => [`stream_records_per_site_day_${key(kind)}`, n]),
    ['publisher_records_per_site_day', r.deliveredDay + r.deliveredTrackers],
    [
      'publisher_records_note',
      'records the event source mapping delivers (sk = STATE, or INCIDENT#, ALERT#, MSG#...): every state change, and the tracker changes the incidents function makes (webhook message changes are counted in the webhook path)',
    ],
    ['events_per_site_day', published.length],
    ...[...byType].sort(([a], [b]) => a.localeCompare(b)).map(([t, n]): [string, number] => [`events_per_site_day_${key(t)}`, n]),
    ['publisher_replay_invocations', r.publisherRuns.length],
    ['publisher_replay_ms_mean', mean(r.publisherRuns.map((run) => run.durationMs)).toFixed(2)],
    [
      'publisher_full_batches_timed',
      `${r.timing.batches} batches of up to 100 (${r.timing.records} records), into a scratch table and topic`,
    ],
    ['publisher_ms_per_full_batch_mean', timingMean.toFixed(2)],
    ['publisher_ms_per_record', (r.timing.durationsMs.reduce((a, b) => a + b, 0) / Math.max(1, r.timing.records)).toFixed(3)],
    ['incident_messages_per_site_day', received.reduce((sum, q) => sum + q.messages, 0)],
    ['incident_messages_per_site_day_events', r.incidentRuns.reduce((sum, run) => sum + run.events, 0)],
    ['incident_messages_per_site_day_timers', r.incidentRuns.reduce((sum, run) => sum + run.timers, 0)],
    ['incidents_invocations_per_site_day', r.incidentRuns.length],
    ['incidents_duration_ms_mean', mean(incidentMs).toFixed(2)],
    ['incidents_duration_ms_max', Math.max(0, ...incidentMs).toFixed(2)],
    ['incident_timers_armed_per_site_day', sqsBy('SendMessageCommand', (u) => u === r.incidentsQueueUrl).length],
    ['incident_timers_delayed_per_site_day', r.timersHeld],
    ['service_queue_messages_per_site_day', sqsBy('SendMessageCommand', (u) => u === r.serviceQueueUrl).length],
    ['webhook_outbox_messages_per_site_day', sqsBy('SendMessageCommand', (u) => u.endsWith('-webhook-outbox')).length],
    ['alerts_published_per_site_day', r.messaging.of('sns', 'PublishCommand').length],
    [
      'sns_publish_calls_per_site_day',
      r.messaging.of('sns', 'PublishBatchCommand').length + r.messaging.of('sns', 'PublishCommand').length,
    ],
    ['sns_to_sqs_deliveries_per_site_day', filtered],
    [
      'sns_other_calls_per_site_day',
      r.messaging
        .of('sns')
        .filter((q) => q.command !== 'PublishBatchCommand' && q.command !== 'PublishCommand')
        .map((q) => q.command.replace(/Command$/, ''))
        .join(', ') || 'none',
    ],
    [
      'sqs_calls_per_site_day',
      [...new Set(sqs.map((q) => q.command))]
        .sort()
        .map((c) => `${c.replace(/Command$/, '')} ${sqs.filter((q) => q.command === c).length}`)
        .join(', '),
    ],
    [
      'sqs_empty_receives_local_poller',
      `${received.filter((q) => q.messages === 0).length} (the local poller's 1 s long polls while the replay ran: not priced)`,
    ],
    ['ddb_event_path_requests_per_site_day', r.requests.total()],
    ...dynamo.map(([command, n]): [string, number] => [`ddb_event_path_${command.replace(/Command$/, '')}_per_site_day`, n]),
    [
      'ddb_event_path_unmetered',
      r.capacity.unmetered.size === 0 ? 'none' : [...r.capacity.unmetered].map(([c, n]) => `${c} ${n}`).join(', '),
    ],
    ['ddb_event_path_audit_puts_per_site_day', items(eventSkPrefix).length],
    ['ddb_event_path_audit_puts_refused', items(eventSkPrefix).filter((w) => !w.applied).length],
    ['ddb_event_path_tracker_puts_per_site_day', items(incidentSkPrefix).length],
    ['ddb_event_path_tracker_puts_refused', items(incidentSkPrefix).filter((w) => !w.applied).length],
    ['ddb_event_path_audit_item_bytes_max', Math.max(0, ...items(eventSkPrefix).map((w) => w.newBytes))],
    ['ddb_event_path_tracker_item_bytes_max', Math.max(0, ...items(incidentSkPrefix).map((w) => w.newBytes))],
    [
      'ddb_event_path_reads_by_item',
      [...new Set(reads.map((q) => `${q.command.replace(/Command$/, '')} ${(q.sk ?? '?').replace(/#.*$/, '#')}`))]
        .sort()
        .map(
          (k) => `${k} ${reads.filter((q) => `${q.command.replace(/Command$/, '')} ${(q.sk ?? '?').replace(/#.*$/, '#')}` === k).length}`,
        )
        .join(', '),
    ],
    ['event_path_failures', r.failures.length === 0 ? 'none' : r.failures.join('; ')],
  ];
}
