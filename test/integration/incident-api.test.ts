/**
 * Incidents on the reseller API (DynamoDB Local and fauxqs, no mocks): listed, read, acknowledged
 * and resolved by a reseller's key, never by another's; and each reseller's channels (its service
 * queue with a dead-letter queue, its alerts topic with the policies' addresses subscribed).
 */
import { localSnsClient, localSqsClient } from '../../functions/adapters/messaging-clients.ts';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ErrorBody } from '../../protocol/errors.ts';
import { Incident, ServiceQueue } from '../../protocol/incidents.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { openIncident } from '../support/hostile-tenants.ts';

let api: TestApi;
const sqs = localSqsClient(inject('snsSqsEndpoint'));
const sns = localSnsClient(inject('snsSqsEndpoint'));
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  sqs.destroy();
  sns.destroy();
  await api.close();
});

/** A reseller with its site, an open incident there, and the id of its read-write key. */
async function resellerWithIncident() {
  const reseller = await setUpReseller(api);
  const incidentId = await openIncident(api, reseller, 'node-a', api.clock.now() - 30_000);
  const keys = (await api.call('GET', '/v1/api-keys', reseller.key)).body as { items: { keyId: string }[] };
  return { ...reseller, incidentId, keyId: keys.items[0]!.keyId, path: `/v1/sites/${reseller.siteId}/incidents/${incidentId}` };
}

const items = (body: unknown) => (body as { items: Incident[] }).items;

describe('incidents on the API', () => {
  it('lists the reseller’s incidents, filters by state, and reads one by site and id', async () => {
    const { key, siteId, incidentId, path } = await resellerWithIncident();
    const listed = await api.call('GET', '/v1/incidents', key);
    expect(listed.status).toBe(200);
    expect(items(listed.body)).toEqual([
      expect.objectContaining({ incidentId, siteId, kind: 'node.lost', state: 'open', subjects: ['node-a'] }),
    ]);
    expect(items((await api.call('GET', '/v1/incidents?state=unresolved', key)).body)).toHaveLength(1);
    expect(items((await api.call('GET', '/v1/incidents?state=resolved', key)).body)).toEqual([]);

    const one = await api.call('GET', path, key);
    expect(one.status).toBe(200);
    expect(Incident.safeParse(one.body).success).toBe(true);
    expect(one.body).toMatchObject({ incidentId, state: 'open', acknowledgedAt: null, resolvedAt: null, escalation: { levels: 1 } });
    // Another id of the same kind (not the current or last one), and an id that names no kind.
    expect((await api.call('GET', `/v1/sites/${siteId}/incidents/node-lost-1`, key)).status).toBe(404);
    expect((await api.call('GET', `/v1/sites/${siteId}/incidents/disk-full-1`, key)).status).toBe(404);
  });

  it('acknowledges once (again changes nothing), resolves once, and refuses to acknowledge a resolved incident', async () => {
    const { key, keyId, path } = await resellerWithIncident();
    const acked = await api.call('POST', `${path}/acknowledge`, key);
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: `api-key:${keyId}`,
      acknowledgedAt: new Date(api.clock.now()).toISOString(),
    });

    api.clock.advance(5_000);
    const table = await api.snapshot();
    const again = await api.call('POST', `${path}/acknowledge`, key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(acked.body);
    expect(await api.snapshot()).toEqual(table);

    const resolved = await api.call('POST', `${path}/resolve`, key);
    expect(resolved.body).toMatchObject({ state: 'resolved', resolvedBy: `api-key:${keyId}`, acknowledgedBy: `api-key:${keyId}` });
    const resolvedTable = await api.snapshot();
    api.clock.advance(5_000);
    expect((await api.call('POST', `${path}/resolve`, key)).body).toEqual(resolved.body);

    const late = await api.call('POST', `${path}/acknowledge`, key);
    expect(late.status).toBe(409);
    expect(ErrorBody.safeParse(late.body).success).toBe(true);
    expect(late.body).toMatchObject({ error: { code: 'conflict' } });
    expect(await api.snapshot()).toEqual(resolvedTable);
    expect(items((await api.call('GET', '/v1/incidents?state=resolved', key)).body)).toHaveLength(1);
  });

  it("another reseller's key finds nothing of it and changes nothing (404); a read-only key may read but not act (403)", async () => {
    const a = await resellerWithIncident();
    api.clock.advance(1_000);
    // B has a site of the same name, with an incident of its own (another id).
    const b = await resellerWithIncident();
    const onlyA = `${a.resellerId}-annex`;
    await api.call('POST', '/v1/sites', a.key, { siteId: onlyA, customerId: 'dental', name: 'Annex', nodeIds: ['node-a', 'node-b'] });
    const annexIncident = await openIncident(api, { resellerId: a.resellerId, siteId: onlyA }, 'node-b', api.clock.now());
    const table = await api.snapshot();
    for (const path of [a.path, `/v1/sites/${onlyA}/incidents/${annexIncident}`]) {
      for (const [method, suffix] of [
        ['GET', ''],
        ['POST', '/acknowledge'],
        ['POST', '/resolve'],
      ] as const) {
        const answer = await api.call(method, `${path}${suffix}`, b.key);
        expect(answer.status, `${method} ${path}${suffix}`).toBe(404);
        expect(answer.body).toMatchObject({ error: { code: 'not-found' } });
      }
    }
    expect(await api.snapshot()).toEqual(table);
    const listed = await api.call('GET', '/v1/incidents', b.key);
    expect(items(listed.body).map((i) => i.incidentId)).toEqual([b.incidentId]);
    expect(listed.text).not.toContain(a.resellerId);

    const ro = (await api.call('POST', '/v1/api-keys', a.key, { name: 'dashboard', scope: 'read-only' })).body as { secret: string };
    const before = await api.snapshot();
    expect((await api.call('GET', a.path, ro.secret)).status).toBe(200);
    for (const action of ['acknowledge', 'resolve']) {
      const refused = await api.call('POST', `${a.path}/${action}`, ro.secret);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ error: { code: 'forbidden' } });
    }
    expect(await api.snapshot()).toEqual(before);
  });
});

describe("each reseller's channels", () => {
  it('creating a reseller creates its service queue with a dead-letter queue, which GET /v1/reseller/service-queue names', async () => {
    const { resellerId, key } = await setUpReseller(api);
    const names = api.api.channels.names(resellerId);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: names.queue }));
    const dlq = await sqs.send(new GetQueueUrlCommand({ QueueName: names.deadLetterQueue }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['RedrivePolicy'] }));
    const redrive = JSON.parse(Attributes?.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string; maxReceiveCount?: number };
    expect(redrive.deadLetterTargetArn).toMatch(new RegExp(`:${names.deadLetterQueue}$`));
    expect(Number(redrive.maxReceiveCount)).toBeGreaterThan(1);

    const answer = await api.call('GET', '/v1/reseller/service-queue', key);
    expect(answer.status).toBe(200);
    expect(ServiceQueue.safeParse(answer.body).success).toBe(true);
    expect(answer.body).toEqual({ queueUrl: QueueUrl, deadLetterQueueUrl: dlq.QueueUrl });
  });

  it('creating a reseller that exists is refused (409), and still makes its channels again', async () => {
    const { resellerId } = await setUpReseller(api);
    const names = api.api.channels.names(resellerId);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: names.queue }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    const again = await api.call('POST', '/v1/resellers', api.adminKey, { resellerId, name: 'Again' });
    expect(again.status).toBe(409);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: names.queue }))).QueueUrl).toBe(QueueUrl);
  });

  it("saving a policy subscribes its e-mail addresses and phone numbers to the reseller's alerts topic, once each", async () => {
    const { resellerId, key, siteId } = await setUpReseller(api);
    const policy = (targets: unknown[]) => ({
      levels: [{ afterMs: 0, targets: [{ type: 'service-queue' }, ...targets] }],
      repeatLast: { times: 0, everyMs: 600_000 },
    });
    const email = { type: 'email', address: 'noc@example.com' };
    expect((await api.call('PUT', '/v1/escalation-policy', key, policy([email]))).status).toBe(200);
    expect((await api.call('PUT', '/v1/escalation-policy', key, policy([email]))).status).toBe(200);
    expect(
      (await api.call('PUT', `/v1/sites/${siteId}/escalation-policy`, key, policy([email, { type: 'sms', phoneNumber: '+14155550100' }])))
        .status,
    ).toBe(200);

    const topicArn = await api.api.channels.alertsTopicArn(resellerId);
    const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    expect(Subscriptions.map((s) => `${s.Protocol ?? ''} ${s.Endpoint ?? ''}`).sort()).toEqual([
      'email noc@example.com',
      'sms +14155550100',
    ]);
    expect(topicArn).toContain(api.api.channels.names(resellerId).alertsTopic);
  });
});
