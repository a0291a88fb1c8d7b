/**
 * Incident steps delivered from the incident events (functions/handlers/incidents.ts), on
 * DynamoDB Local and the run's fauxqs: the real incidents handler, store, notifier and the
 * reseller's service queue. A step says when its incident opened from what was stored, whatever
 * the incident id looks like: an id is a name, not a record to parse.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type IncidentDeps, incidentDeps } from '../../functions/adapters/incident-config.ts';
import { localSnsClient, localSqsClient } from '../../functions/adapters/messaging-clients.ts';
import { ResellerChannels } from '../../functions/adapters/reseller-channels.ts';
import { defaultPolicy, type IncidentRecord, type Tracker } from '../../functions/domain/incidents.ts';
import { incidentsHandler } from '../../functions/handlers/incidents.ts';
import { lambdaContext } from '../../local/api-gateway-event.ts';
import { localQueue } from '../../local/local-queue.ts';
import type { StoredEvent } from '../../protocol/events.ts';
import type { ServiceQueueMessage } from '../../protocol/incidents.ts';
import { freshTable } from '../support/dynamo.ts';

const resellerId = 'reseller-steps';
const openedAt = Date.parse('2027-03-01T08:00:00.000Z');
let client: DynamoDBClient;
let sqs: SQSClient;
let sns: SNSClient;
let deps: IncidentDeps;
let serviceQueueUrl: string;
let sites = 0;
const nextSite = () => `site-${String(++sites)}`;

beforeAll(async () => {
  const table = await freshTable('steps');
  client = table.client;
  const endpoint = inject('snsSqsEndpoint');
  sqs = localSqsClient(endpoint);
  sns = localSnsClient(endpoint);
  const prefix = `st-${randomBytes(4).toString('hex')}`;
  const incidents = await localQueue(sqs, `${prefix}-incidents`);
  const outbox = await localQueue(sqs, `${prefix}-webhook-outbox`);
  deps = incidentDeps({
    tableName: table.tableName,
    dynamo: client,
    sqs,
    sns,
    incidentsQueueUrl: incidents.url,
    webhookOutboxUrl: outbox.url,
    channelPrefix: prefix,
  });
  serviceQueueUrl = (await new ResellerChannels(sqs, sns, prefix).ensure(resellerId)).queueUrl;
});
afterAll(() => {
  sqs.destroy();
  sns.destroy();
  client.destroy();
});

const handler = incidentsHandler(() => deps);
let requests = 0;

async function handle(event: StoredEvent) {
  const record = {
    messageId: `m-${String(++requests)}`,
    body: JSON.stringify(event),
    attributes: { ApproximateReceiveCount: '1' },
  } as SQSRecord;
  return handler({ Records: [record] }, lambdaContext('incidents', String(requests)));
}

/** The next message on the reseller's service queue (polled until one comes). */
async function nextDelivered(): Promise<ServiceQueueMessage> {
  for (let i = 0; i < 50; i++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: serviceQueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    );
    const message = Messages[0];
    if (message?.Body) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: serviceQueueUrl, ReceiptHandle: message.ReceiptHandle }));
      return JSON.parse(message.Body) as ServiceQueueMessage;
    }
  }
  throw new Error('nothing reached the service queue');
}

const incident = (incidentId: string, at: number): IncidentRecord => ({
  incidentId,
  state: 'open',
  openedAt: at,
  openingEventId: 'opening-event',
  recoveredAt: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  resolvedAt: null,
  resolvedBy: null,
  stepsTaken: 1,
  lastEscalatedAt: at,
  notified: [{ type: 'service-queue' }],
  policy: defaultPolicy,
});

async function storeTracker(siteId: string, record: IncidentRecord): Promise<void> {
  const tracker: Tracker = {
    resellerId,
    siteId,
    kind: 'alert.raised',
    subjects: { 'int_x/ups-power': { raisedAt: record.openedAt, clearedAt: 0 } },
    incident: record,
    version: 0,
  };
  await deps.incidents.update(resellerId, siteId, 'alert.raised', () => tracker);
}

/** The first step of an incident (level 1, to the service queue), as the stream publishes it. */
const opened = (siteId: string, incidentId: string, extra: Record<string, unknown> = {}): StoredEvent => ({
  id: `${resellerId}/${siteId}/incident.escalated/${incidentId}/1`,
  type: 'incident.escalated',
  timestamp: new Date(openedAt + 1_000).toISOString(),
  data: {
    resellerId,
    siteId,
    severity: 'critical',
    incidentId,
    kind: 'alert.raised',
    step: 1,
    level: 1,
    targets: [{ type: 'service-queue' }],
    ...extra,
  },
});

describe('an incident step says when its incident opened', () => {
  it('from the stored incident, whatever the format of its id', async () => {
    const siteId = nextSite();
    await storeTracker(siteId, incident('inc_7f3a9c', openedAt));
    const result = await handle(opened(siteId, 'inc_7f3a9c'));
    expect(result.batchItemFailures).toEqual([]);
    const message = await nextDelivered();
    expect(message.incident).toMatchObject({
      incidentId: 'inc_7f3a9c',
      openedAt: new Date(openedAt).toISOString(),
      subjects: ['int_x/ups-power'],
    });
  });

  it('from the event, for an incident its tracker no longer holds (a newer one opened)', async () => {
    const siteId = nextSite();
    await storeTracker(siteId, incident('inc_newer', openedAt + 3_600_000));
    const result = await handle(opened(siteId, 'inc_older', { openedAt }));
    expect(result.batchItemFailures).toEqual([]);
    expect((await nextDelivered()).incident).toMatchObject({ incidentId: 'inc_older', openedAt: new Date(openedAt).toISOString() });
  });

  it('from the id, for an event published before events carried it', async () => {
    const siteId = nextSite();
    const incidentId = `alert-raised-${String(openedAt)}`;
    await storeTracker(siteId, incident('inc_newer', openedAt + 3_600_000));
    expect((await handle(opened(siteId, incidentId))).batchItemFailures).toEqual([]);
    expect((await nextDelivered()).incident).toMatchObject({ incidentId, openedAt: new Date(openedAt).toISOString() });
  });

  it('and is delivered, not dead-lettered, when nothing tells it (an old event, an id that is not a time)', async () => {
    const siteId = nextSite();
    const event = opened(siteId, 'inc_unknown');
    expect((await handle(event)).batchItemFailures).toEqual([]);
    // The step's own time: the latest the incident can have opened.
    expect((await nextDelivered()).incident).toMatchObject({ incidentId: 'inc_unknown', openedAt: event.timestamp });
  });
});
