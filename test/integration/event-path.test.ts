import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { localSnsClient } from '../../functions/adapters/messaging-clients.ts';
import { localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { publisherDeps } from '../../functions/adapters/publisher-config.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { publisherHandler } from '../../functions/handlers/publisher.ts';
import { ensureEventTopic } from '../../local/sns-sqs.ts';
import { type StreamPoller, startStreamPoller, streamsClient } from '../../local/stream-poller.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { beat } from '../support/beats.ts';

let api: TestApi;
let poller: StreamPoller;
let calls = 0;
let failNext = 0;
const endpoint = () => inject('dynamoEndpoint');
const sqs = new SQSClient({
  endpoint: inject('snsSqsEndpoint'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
let queueUrl = '';

beforeAll(async () => {
  api = await startApi();
  const client = new DynamoDBClient(localDynamoClientConfig(endpoint()));
  // A topic of this test's own, and a queue subscribed to it: what a subscriber of the events sees.
  const sns = localSnsClient(inject('snsSqsEndpoint'));
  const topicArn = await ensureEventTopic(inject('snsSqsEndpoint'), `events-${api.tableName}`);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `events-${api.tableName}` }))).QueueUrl ?? '';
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));
  const handler = publisherHandler(() =>
    publisherDeps({ tableName: api.tableName, settings: defaultSettings, dynamo: client, sns, topicArn }),
  );
  poller = await startStreamPoller({
    client,
    streams: streamsClient(endpoint()),
    tableName: api.tableName,
    intervalMs: 50,
    // A publisher that fails now and then, as Lambda may: the poller must hand the batch again.
    handler: async (event, context) => {
      calls++;
      if (failNext > 0) {
        failNext--;
        throw new Error('injected failure');
      }
      return handler(event, context);
    },
  });
});
afterAll(async () => {
  await poller.stop();
  sqs.destroy();
  await api.close();
});

/** Node tokens for the site's codes, each enrollment naming its node. */
async function enrolled(codes: Record<string, string>, ...nodeIds: string[]): Promise<string[]> {
  const token = async (nodeId: string) =>
    ((await api.call('POST', '/v1/node/enroll', undefined, { code: codes[nodeId], nodeId })).body as { token: string }).token;
  return Promise.all(nodeIds.map(token));
}

/** A site of a new reseller whose node-a is primary since `day` (granted, promote acknowledged a second later). */
async function primarySince(day: string) {
  api.clock.ms = Date.parse(day);
  const { key, siteId, codes } = await setUpReseller(api);
  const [a, b] = await enrolled(codes, 'node-a', 'node-b');
  const t0 = api.clock.ms;
  await api.call('POST', '/v1/node/heartbeat', a, beat(1, 0, 'secondary', true));
  await api.call('POST', '/v1/node/heartbeat', b, beat(1, 0, 'secondary', true));
  await api.call('POST', '/v1/node/claim', a, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' });
  api.clock.advance(1_000);
  await api.call('POST', '/v1/node/heartbeat', a, beat(3, 1, 'primary', true, ['1-promote-node-a']));
  return { key, siteId, a: a!, b: b!, t0 };
}

describe('the event path: stream → publisher → audit trail', () => {
  it('records a failover as it happened, once, even when the publisher fails and batches come again', async () => {
    const { key, siteId, b, t0 } = await primarySince('2026-11-10T09:00:00Z');
    failNext = 2;
    // node-a goes silent; node-b loses it and takes over once its lease (to t0 + 16 s) is out.
    api.clock.advance(19_000);
    await api.call('POST', '/v1/node/heartbeat', b, beat(2, 1, 'secondary', false));
    api.clock.advance(100);
    const claim = await api.call('POST', '/v1/node/claim', b, { incarnation: 1, seq: 3, epoch: 1, reason: 'peer-lost' });
    expect(claim.body).toMatchObject({ granted: true, epoch: 2 });
    // Still unheard a freshness window after node-b first reported it unreachable: node-a is lost.
    api.clock.advance(15_000);
    await api.call('POST', '/v1/node/heartbeat', b, beat(4, 2, 'primary', false));
    await poller.drain();

    const trail = await api.call('GET', `/v1/sites/${siteId}/events?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z`, key);
    const events = (trail.body as { items: { type: string; data: Record<string, unknown> }[] }).items;
    expect(events.map((e) => `${e.type} ${String(e.data.nodeId)}`)).toEqual([
      'failover.granted node-a',
      'failover.completed node-a',
      'failover.granted node-b',
      'node.lost node-a',
    ]);
    expect(events[2]?.data).toMatchObject({ previousPrimary: 'node-a', previousLeaseEndedAt: t0 + 16_000 });
    expect(calls).toBeGreaterThan(2);

    // The same events on the SNS topic, with the attributes subscriptions filter on (at least once:
    // a batch handed again may publish twice, so subscribers deduplicate by the event's id).
    const published = new Map<string, { type: string; attributes: Record<string, string> }>();
    for (let round = 0; round < 10 && published.size < 4; round++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of Messages) {
        const envelope = JSON.parse(m.Body ?? '{}') as { Message: string; MessageAttributes: Record<string, { Value: string }> };
        const e = JSON.parse(envelope.Message) as { id: string; type: string };
        published.set(e.id, {
          type: e.type,
          attributes: Object.fromEntries(Object.entries(envelope.MessageAttributes).map(([k, v]) => [k, v.Value])),
        });
      }
    }
    expect([...published.values()].map((p) => p.type).sort()).toEqual([
      'failover.completed',
      'failover.granted',
      'failover.granted',
      'node.lost',
    ]);
    const lostOn = [...published.values()].find((p) => p.type === 'node.lost');
    expect(lostOn?.attributes).toEqual({
      type: 'node.lost',
      severity: 'critical',
      resellerId: expect.stringMatching(/^r-/) as unknown,
      siteId,
    });

    // The SLA report of that day now tells the failover: no primary from the lease end to the grant.
    const report = await api.call('GET', '/v1/reports/sla?from=2026-11-10&to=2026-11-11', key);
    const [site] = (report.body as { sites: { failovers: { durationMs: number; fromNode: string; toNode: string }[] }[] }).sites;
    expect(site?.failovers).toEqual([expect.objectContaining({ fromNode: 'node-a', toNode: 'node-b', durationMs: 20_100 - 16_000 })]);
  });

  it('a primary its peer reported lost, then reachable again before it renewed: its renewal is in the trail, and the SLA report counts only the gap', async () => {
    const { key, siteId, a, b, t0 } = await primarySince('2026-11-14T09:00:00Z');
    // node-a falls silent (its lease ends at t0 + 16 s); node-b loses it, then reaches it again.
    api.clock.advance(19_000);
    await api.call('POST', '/v1/node/heartbeat', b, beat(2, 1, 'secondary', false));
    api.clock.advance(15_000);
    await api.call('POST', '/v1/node/heartbeat', b, beat(3, 1, 'secondary', false));
    api.clock.advance(5_000);
    await api.call('POST', '/v1/node/heartbeat', b, beat(4, 1, 'secondary', true));
    api.clock.advance(5_000);
    const renewedAt = api.clock.ms;
    expect((await api.call('POST', '/v1/node/heartbeat', a, beat(4, 1, 'primary', true))).body).toMatchObject({
      role: 'primary',
      leaseMs: defaultSettings.leaseMs,
    });
    await poller.drain();

    const trail = await api.call('GET', `/v1/sites/${siteId}/events?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z`, key);
    const events = (trail.body as { items: { type: string; data: Record<string, unknown> }[] }).items;
    expect(events.map((e) => `${e.type} ${String(e.data.nodeId)}`)).toEqual([
      'failover.granted node-a',
      'failover.completed node-a',
      'node.lost node-a',
      'node.recovered node-a',
      'node.recovered node-a',
    ]);
    expect(events.at(-1)?.data).toMatchObject({
      primary: 'node-a',
      epoch: 1,
      leaseRenewedAt: renewedAt,
      previousLeaseEndedAt: t0 + 16_000,
      recoveredFrom: 'node.lost',
    });
    const report = await api.call('GET', '/v1/reports/sla?from=2026-11-14&to=2026-11-15', key);
    const [site] = (report.body as { sites: { downtimeMs: number }[] }).sites;
    expect(site?.downtimeMs).toBe(renewedAt - (t0 + 16_000));
  });

  it('a promote not acknowledged commandAckMs after its delivery, its node heartbeating: command.unacknowledged in the audit trail; the acknowledgement: command.acknowledged', async () => {
    api.clock.ms = Date.parse('2026-11-12T09:00:00Z');
    const { key, siteId, codes } = await setUpReseller(api);
    const [a, b] = await enrolled(codes, 'node-a', 'node-b');
    const ackMs = defaultSettings.commandAckMs;

    await api.call('POST', '/v1/node/heartbeat', a, beat(1, 0, 'secondary', true));
    await api.call('POST', '/v1/node/heartbeat', b, beat(1, 0, 'secondary', true));
    await api.call('POST', '/v1/node/claim', a, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' });
    api.clock.advance(1_000);
    const delivered = api.clock.ms;
    // The answer that delivers the promote asks for the fast cadence, the peer link up or not.
    const first = await api.call('POST', '/v1/node/heartbeat', a, beat(3, 1, 'primary', true));
    expect(first.body).toMatchObject({
      commands: [{ id: '1-promote-node-a', type: 'promote' }],
      heartbeatMs: defaultSettings.fastHeartbeatMs,
    });
    api.clock.advance(ackMs - 1);
    await api.call('POST', '/v1/node/heartbeat', a, beat(4, 1, 'primary', true));
    api.clock.advance(1);
    await api.call('POST', '/v1/node/heartbeat', a, beat(5, 1, 'primary', true));
    api.clock.advance(5_000);
    await api.call('POST', '/v1/node/heartbeat', a, beat(6, 1, 'primary', true));
    api.clock.advance(5_000);
    const acked = await api.call('POST', '/v1/node/heartbeat', a, beat(7, 1, 'primary', true, ['1-promote-node-a']));
    expect(acked.body).toMatchObject({ commands: [], heartbeatMs: defaultSettings.slowHeartbeatMs });
    await poller.drain();

    const trail = await api.call('GET', `/v1/sites/${siteId}/events?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z`, key);
    const events = (trail.body as { items: { type: string; timestamp: string; data: Record<string, unknown> }[] }).items;
    expect(events.map((e) => e.type)).toEqual(['failover.granted', 'command.unacknowledged', 'command.acknowledged', 'failover.completed']);
    const [, late, cleared] = events;
    expect(late).toMatchObject({
      timestamp: new Date(delivered + ackMs).toISOString(),
      data: {
        severity: 'warning',
        nodeId: 'node-a',
        commandId: '1-promote-node-a',
        commandType: 'promote',
        epoch: 1,
        deliveredAt: delivered,
      },
    });
    expect(cleared).toMatchObject({
      timestamp: new Date(delivered + ackMs + 10_000).toISOString(),
      data: { severity: 'info', nodeId: 'node-a', commandId: '1-promote-node-a', outcome: 'acknowledged', overdueAt: delivered + ackMs },
    });
  });
});
