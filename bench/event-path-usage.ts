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
 *   events is one: SNS's batching documentation); deliveries to SQS free; e-mail per notification.
 */
import { incidentQueueEventTypes } from '../functions/domain/incidents.ts';
import { type EventPathResult, publisherFill } from './event-path.ts';

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
  const audit = writes.filter((w) => w.applied && w.command === 'PutItemCommand' && w.sk?.startsWith('EVENT#') === true);

  const sqs = r.messaging.of('sqs');
  const billedSqs = sqs.filter((q) => !(q.command === 'ReceiveMessageCommand' && q.messages === 0));
  const toService = sqs.filter((q) => q.command === 'SendMessageCommand' && q.target === r.serviceQueueUrl).length;
  const toOutbox = sqs.filter((q) => q.command === 'SendMessageCommand' && q.target.endsWith('-webhook-outbox')).length;
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
    platformLogBytes: publisherInvocations * o.platformLogBytes(perInvocationMs) + r.incidentRuns.reduce((sum, run) => sum + o.platformLogBytes(run.durationMs), 0),
    snsPublishesBilled: publishes.reduce((sum, q) => sum + q.billed, 0),
    snsEmails: alerts.filter((q) => q.alertTarget?.includes('@') === true).length,
    snsSms: alerts.filter((q) => q.alertTarget?.startsWith('+') === true).length,
    sqsRequestsBilled: billedSqs.reduce((sum, q) => sum + q.billed, 0),
    // The reseller's tool receives and deletes each service-queue message; the webhook deliverer each outbox message.
    sqsConsumerModelled: 2 * (toService + toOutbox),
  };
}

/** The replay's figures, `name: value`, independent of prices and of the fleet's size. */
export function eventPathFigures(r: EventPathResult): [string, string | number][] {
  const published = r.messaging.of('sns', 'PublishBatchCommand').flatMap((q) => q.types);
  const byType = new Map<string, number>();
  for (const t of published) byType.set(t, (byType.get(t) ?? 0) + 1);
  const filtered = published.filter((t) => (incidentQueueEventTypes as readonly string[]).includes(t)).length;
  const sqs = r.messaging.of('sqs');
  const sqsBy = (command: string, target?: (url: string) => boolean) => sqs.filter((q) => q.command === command && (target === undefined || target(q.target)));
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
    ['event_path_method', 'replayed after the day on a clock of its own (bench/event-path.ts): real publisher and incidents handlers on DynamoDB Local and fauxqs, every client counted'],
    ...Object.entries(r.streamRecords)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]): [string, number] => [`stream_records_per_site_day_${key(kind)}`, n]),
    ['publisher_records_per_site_day', r.deliveredDay + r.deliveredTrackers],
    ['publisher_records_note', 'records the event source mapping delivers (sk = STATE or INCIDENT#...): every state change, and the tracker changes the incidents function makes'],
    ['events_per_site_day', published.length],
    ...[...byType].sort(([a], [b]) => a.localeCompare(b)).map(([t, n]): [string, number] => [`events_per_site_day_${key(t)}`, n]),
    ['publisher_replay_invocations', r.publisherRuns.length],
    ['publisher_replay_ms_mean', mean(r.publisherRuns.map((run) => run.durationMs)).toFixed(2)],
    ['publisher_full_batches_timed', `${r.timing.batches} batches of up to 100 (${r.timing.records} records), into a scratch table and topic`],
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
    ['sns_publish_calls_per_site_day', r.messaging.of('sns', 'PublishBatchCommand').length + r.messaging.of('sns', 'PublishCommand').length],
    ['sns_to_sqs_deliveries_per_site_day', filtered],
    ['sns_other_calls_per_site_day', r.messaging.of('sns').filter((q) => q.command !== 'PublishBatchCommand' && q.command !== 'PublishCommand').map((q) => q.command.replace(/Command$/, '')).join(', ') || 'none'],
    ['sqs_calls_per_site_day', [...new Set(sqs.map((q) => q.command))].sort().map((c) => `${c.replace(/Command$/, '')} ${sqs.filter((q) => q.command === c).length}`).join(', ')],
    ['sqs_empty_receives_local_poller', `${received.filter((q) => q.messages === 0).length} (the local poller's 1 s long polls while the replay ran: not priced)`],
    ['ddb_event_path_requests_per_site_day', r.requests.total()],
    ...dynamo.map(([command, n]): [string, number] => [`ddb_event_path_${command.replace(/Command$/, '')}_per_site_day`, n]),
    ['ddb_event_path_unmetered', r.capacity.unmetered.size === 0 ? 'none' : [...r.capacity.unmetered].map(([c, n]) => `${c} ${n}`).join(', ')],
    ['ddb_event_path_audit_puts_per_site_day', items('EVENT#').length],
    ['ddb_event_path_audit_puts_refused', items('EVENT#').filter((w) => !w.applied).length],
    ['ddb_event_path_tracker_puts_per_site_day', items('INCIDENT#').length],
    ['ddb_event_path_tracker_puts_refused', items('INCIDENT#').filter((w) => !w.applied).length],
    ['ddb_event_path_audit_item_bytes_max', Math.max(0, ...items('EVENT#').map((w) => w.newBytes))],
    ['ddb_event_path_tracker_item_bytes_max', Math.max(0, ...items('INCIDENT#').map((w) => w.newBytes))],
    ['ddb_event_path_reads_by_item', [...new Set(reads.map((q) => `${q.command.replace(/Command$/, '')} ${(q.sk ?? '?').replace(/#.*$/, '#')}`))].sort().map((k) => `${k} ${reads.filter((q) => `${q.command.replace(/Command$/, '')} ${(q.sk ?? '?').replace(/#.*$/, '#')}` === k).length}`).join(', ')],
    ['event_path_failures', r.failures.length === 0 ? 'none' : r.failures.join('; ')],
  ];
}
