import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localSnsClient, localSqsClient } from '../../functions/adapters/messaging-clients.ts';
import { localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { publisherDeps } from '../../functions/adapters/publisher-config.ts';
import { ResellerChannels } from '../../functions/adapters/reseller-channels.ts';
import { detectorDeps } from '../../functions/adapters/detector-config.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { indexLagMarginMs } from '../../functions/domain/silence.ts';
import { detectorHandler } from '../../functions/handlers/detector.ts';
import { lambdaContext } from '../../local/api-gateway-event.ts';
import { publisherHandler } from '../../functions/handlers/publisher.ts';
import { type IncidentRuntime, startIncidentRuntime } from '../../local/incident-runtime.ts';
import { ensureEventTopic, type LocalSnsSqs, startSnsSqs } from '../../local/sns-sqs.ts';
import { type StreamPoller, startStreamPoller, streamsClient } from '../../local/stream-poller.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { beat } from '../support/beats.ts';

// End to end on DynamoDB Local and a fauxqs of this file's own (kept in a folder, so that it can
// be restarted mid-escalation): heartbeats → stream → publisher → SNS → incidents queue →
// trackers, timers and deliveries → the reseller's service queue and alerts topic.

const settleMs = 1_500;
/** Short silence timings, so that a dark site is noticed within seconds (the default is minutes). */
const silence = { silenceMs: 2_000, dueBucketMs: 1_000 };
const level2AfterMs = 3_000;
let api: TestApi;
let dataDir: string;
let snsSqs: LocalSnsSqs;
let topicArn: string;
let poller: StreamPoller;
let runtime: IncidentRuntime;
let sqs: SQSClient;
let dynamo: DynamoDBClient;
let channels: ResellerChannels;
const channelPrefix = 'e2e';
/** Real time, plus jumps: SQS delays run in real seconds, and the witness's freshness window is skipped by jumping. */
let offset = 0;
const now = () => Date.now() + offset;

async function startPipeline(): Promise<void> {
  snsSqs = await startSnsSqs({ dataDir });
  sqs = localSqsClient(snsSqs.endpoint);
  topicArn = await ensureEventTopic(snsSqs.endpoint, `events-${api.tableName}`);
  const sns = localSnsClient(snsSqs.endpoint);
  poller = await startStreamPoller({
    client: dynamo,
    streams: streamsClient(inject('dynamoEndpoint')),
    tableName: api.tableName,
    intervalMs: 50,
    handler: publisherHandler(() => publisherDeps({ tableName: api.tableName, settings: defaultSettings, dynamo, sns, topicArn })),
  });
  await startIncidents();
  // The API creates each reseller's queue and topic on this file's fauxqs too.
  channels = new ResellerChannels(sqs, sns, channelPrefix);
  api.api.channels = channels;
}

async function startIncidents(): Promise<void> {
  runtime = await startIncidentRuntime({
    snsSqsEndpoint: snsSqs.endpoint,
    topicArn,
    dynamo,
    tableName: api.tableName,
    channelPrefix,
    settings: { settleMs },
    retryAfterSeconds: 1,
  });
  runtime.deps.now = now;
}

async function stopPipeline(): Promise<void> {
  await runtime.stop();
  await poller.stop();
  sqs.destroy();
  await snsSqs.stop();
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tiebreak-e2e-'));
  api = await startApi();
  api.witness.now = now;
  api.api.now = now;
  api.witness.settings = { ...api.witness.settings, ...silence };
  dynamo = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
  await startPipeline();
});

afterAll(async () => {
  await stopPipeline();
  dynamo.destroy();
  await api.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface Delivered {
  messageId: string;
  step: string;
  level: number | null;
  incident: { incidentId: string; kind: string; state: string };
}

/** A service queue message as it is; an e-mail or SMS (text, in SNS's envelope) by its attributes. */
function delivered(raw: string): Delivered {
  const body = JSON.parse(raw) as Delivered | { Message: string; MessageAttributes: Record<string, { Value: string }> };
  if (!('Message' in body)) return body;
  const attribute = (name: string) => body.MessageAttributes[name]?.Value ?? '';
  expect(body.Message).toContain(attribute('incidentId'));
  return {
    messageId: attribute('messageId'),
    step: attribute('step'),
    level: null,
    incident: { incidentId: attribute('incidentId'), kind: '', state: '' },
  };
}

/** Reads a queue into a list, deduplicated by `messageId` as a reseller's consumer would be. */
function reader(queueName: () => Promise<string>) {
  const seen = new Map<string, Delivered>();
  return {
    seen,
    async until(predicate: (all: Delivered[]) => boolean, timeoutMs = 45_000): Promise<Delivered[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate([...seen.values()])) {
        if (Date.now() > deadline)
          throw new Error(`not delivered in time; got ${JSON.stringify([...seen.values()].map((d) => `${d.step}:${String(d.level)}`))}`);
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: await queueName() }));
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        for (const m of Messages) {
          const message = delivered(m.Body ?? '{}');
          seen.set(message.messageId, message);
        }
      }
      return [...seen.values()];
    },
  };
}

/** A reseller with a site whose node-a is primary, both nodes reporting; answers its key and node tokens. */
async function runningSite() {
  const site = await setUpReseller(api);
  const token = async (nodeId: string) =>
    ((await api.call('POST', '/v1/node/enroll', undefined, { code: site.codes[nodeId], nodeId })).body as { token: string }).token;
  const a = await token('node-a');
  const b = await token('node-b');
  await api.call('POST', '/v1/node/heartbeat', a, beat(1, 0, 'secondary', true));
  await api.call('POST', '/v1/node/heartbeat', b, beat(1, 0, 'secondary', true));
  const claim = await api.call('POST', '/v1/node/claim', a, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' });
  expect(claim.body).toMatchObject({ granted: true, epoch: 1 });
  const serviceQueue = reader(async () => {
    const answer = await api.call('GET', '/v1/reseller/service-queue', site.key);
    return new URL((answer.body as { queueUrl: string }).queueUrl).pathname.split('/').at(-1) ?? '';
  });
  return { ...site, a, b, serviceQueue };
}

/** node-a falls silent: node-b reports it unreachable, and again a freshness window later (node.lost). */
async function loseNodeA(b: string): Promise<void> {
  offset += 1_000;
  await api.call('POST', '/v1/node/heartbeat', b, beat(2, 1, 'secondary', false));
  offset += defaultSettings.freshnessMs + 1_000;
  await api.call('POST', '/v1/node/heartbeat', b, beat(3, 1, 'secondary', false));
}

/** A queue subscribed to the reseller's alerts topic: what the e-mail and SMS subscriptions are sent. */
async function alertsObserver(resellerId: string) {
  const name = `alerts-seen-${resellerId}`;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const topic = await channels.alertsTopicArn(resellerId);
  await localSnsClient(snsSqs.endpoint).send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));
  return reader(() => Promise.resolve(name));
}

describe('escalation, end to end', () => {
  it('a lost node: opened at level 1, escalated to level 2, acknowledged, resolved to every notified target', async () => {
    const site = await runningSite();
    const policy = await api.call('PUT', '/v1/escalation-policy', site.key, {
      levels: [
        { afterMs: 0, targets: [{ type: 'service-queue' }] },
        { afterMs: level2AfterMs, targets: [{ type: 'service-queue' }, { type: 'email', address: 'oncall@example.com' }] },
      ],
      repeatLast: { times: 0, everyMs: 60_000 },
    });
    expect(policy.status).toBe(200);
    const alerts = await alertsObserver(site.resellerId);

    // node-a goes silent; node-b reports it unreachable, and still does a freshness window later.
    await loseNodeA(site.b);

    const opened = await site.serviceQueue.until((all) => all.some((m) => m.step === 'opened'));
    expect(opened).toEqual([
      expect.objectContaining({
        step: 'opened',
        level: 1,
        incident: expect.objectContaining({ kind: 'node.lost', state: 'open' }) as unknown,
      }),
    ]);
    const incidentId = opened[0]?.incident.incidentId ?? '';
    expect(alerts.seen.size).toBe(0);

    const escalated = await site.serviceQueue.until((all) => all.some((m) => m.step === 'escalated'));
    expect(escalated.find((m) => m.step === 'escalated')).toMatchObject({ level: 2, incident: { incidentId } });
    await alerts.until((all) => all.some((m) => m.step === 'escalated'));

    const ack = await api.call('POST', `/v1/sites/${site.siteId}/incidents/${incidentId}/acknowledge`, site.key);
    expect(ack.body).toMatchObject({ state: 'acknowledged' });
    await site.serviceQueue.until((all) => all.some((m) => m.step === 'acknowledged'));
    await alerts.until((all) => all.some((m) => m.step === 'acknowledged'));

    // node-a is back: once it has stayed back for the settle time, the incident resolves itself.
    await api.call('POST', '/v1/node/heartbeat', site.a, beat(4, 1, 'primary', true));
    await api.call('POST', '/v1/node/heartbeat', site.b, beat(4, 1, 'secondary', true));
    const all = await site.serviceQueue.until((messages) => messages.some((m) => m.step === 'resolved'));
    await alerts.until((messages) => messages.some((m) => m.step === 'resolved'));
    expect(all.map((m) => m.step)).toEqual(['opened', 'escalated', 'acknowledged', 'resolved']);

    const incident = await api.call('GET', `/v1/sites/${site.siteId}/incidents/${incidentId}`, site.key);
    expect(incident.body).toMatchObject({ state: 'resolved', resolvedBy: 'recovery', stepsTaken: 2 });
    const trail = await api.call('GET', `/v1/sites/${site.siteId}/events`, site.key);
    const types = (trail.body as { items: { type: string }[] }).items.map((e) => e.type).filter((t) => t.startsWith('incident.'));
    expect(types).toEqual(['incident.opened', 'incident.escalated', 'incident.escalated', 'incident.acknowledged', 'incident.resolved']);
  });

  it('a flapping link opens one incident, not many, and resolves once it holds', async () => {
    const site = await runningSite();
    // The incidents consumer waits while the link flaps, so that every change is on its queue
    // before the first escalation timer: the order a busy machine may give, made certain. The
    // opening step was due while the link was down: it must be delivered all the same.
    await runtime.stop();
    let seq = 10;
    for (let flap = 0; flap < 4; flap++) {
      await api.call('POST', '/v1/node/heartbeat', site.a, beat(seq, 1, 'primary', false));
      await api.call('POST', '/v1/node/heartbeat', site.b, beat(seq++, 1, 'secondary', false));
      await api.call('POST', '/v1/node/heartbeat', site.a, beat(seq, 1, 'primary', true));
      await api.call('POST', '/v1/node/heartbeat', site.b, beat(seq++, 1, 'secondary', true));
    }
    await poller.drain();
    await startIncidents();
    const messages = await site.serviceQueue.until((all) => all.some((m) => m.step === 'resolved'));
    expect(messages.map((m) => `${m.step} ${m.incident.kind}`)).toEqual(['opened link.lost', 'resolved link.lost']);
    const listed = await api.call('GET', '/v1/incidents', site.key);
    expect((listed.body as { items: unknown[] }).items).toHaveLength(1);
  });

  it('a maintenance window: the lost node is in the audit trail, and nobody is paged', async () => {
    const site = await runningSite();
    const start = new Date(now() - 60_000).toISOString();
    const end = new Date(now() + 3_600_000).toISOString();
    expect(
      (await api.call('POST', `/v1/sites/${site.siteId}/maintenance`, site.key, { start, end, reason: 'replacing node-a disks' })).status,
    ).toBe(201);
    await loseNodeA(site.b);
    await poller.drain();
    // The event reached the incidents queue (the trail shows it), and a few seconds later still nothing was sent.
    const trail = await api.call('GET', `/v1/sites/${site.siteId}/events`, site.key);
    expect((trail.body as { items: { type: string }[] }).items.map((e) => e.type)).toContain('node.lost');
    await expect(site.serviceQueue.until((all) => all.length > 0, 4_000)).rejects.toThrow(/not delivered/);
    expect((await api.call('GET', '/v1/incidents', site.key)).body).toMatchObject({ items: [] });
  });

  it('a site that goes dark: the detector’s site.down opens an incident, and the first contact back resolves it', async () => {
    const site = await runningSite();
    const detector = { ...detectorDeps({ tableName: api.tableName, settings: api.witness.settings, dynamo }), now };
    // Nothing is heard from either node past the silence, its bucket and the index's lag margin.
    offset += silence.silenceMs + silence.dueBucketMs + indexLagMarginMs + 1_000;
    await detectorHandler(() => detector)({ detail: {} } as never, lambdaContext('tiebreak-detector', 'e2e'));
    const opened = await site.serviceQueue.until((all) => all.some((m) => m.step === 'opened'));
    expect(opened[0]?.incident).toMatchObject({ kind: 'site.down', state: 'open' });

    await api.call('POST', '/v1/node/heartbeat', site.a, beat(3, 1, 'primary', true));
    const all = await site.serviceQueue.until((messages) => messages.some((m) => m.step === 'resolved'));
    expect(all.map((m) => `${m.step} ${m.incident.kind}`)).toEqual(['opened site.down', 'resolved site.down']);
    const trail = await api.call('GET', `/v1/sites/${site.siteId}/events`, site.key);
    expect((trail.body as { items: { type: string }[] }).items.map((e) => e.type)).toEqual(
      expect.arrayContaining(['site.down', 'site.recovered', 'incident.opened', 'incident.resolved']),
    );
  });

  it('a restart of the runtime mid-escalation loses no step', async () => {
    const site = await runningSite();
    await api.call('PUT', '/v1/escalation-policy', site.key, {
      levels: [
        { afterMs: 0, targets: [{ type: 'service-queue' }] },
        { afterMs: level2AfterMs, targets: [{ type: 'service-queue' }] },
      ],
      repeatLast: { times: 0, everyMs: 60_000 },
    });
    await loseNodeA(site.b);
    await site.serviceQueue.until((all) => all.some((m) => m.step === 'opened'));

    // Everything stops while level 2's timer waits on the queue (a delayed message, not a timeout
    // in memory), and starts again from the same data.
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: runtime.incidentsQueueUrl, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessagesDelayed)).toBeGreaterThanOrEqual(1);
    await stopPipeline();
    await startPipeline();
    const messages = await site.serviceQueue.until((all) => all.some((m) => m.step === 'escalated'));
    expect(messages.map((m) => `${m.step} ${String(m.level)}`)).toEqual(['opened 1', 'escalated 2']);
  });
});
