/**
 * What each template tells an endpoint, end to end on DynamoDB Local and the run's fauxqs: the whole
 * local stack (node protocol, reseller API, stream → publisher → topic, incidents, webhook router
 * and deliverer) and real HTTP receivers that verify every signature with the standardwebhooks
 * library. A node is lost, an incident opens and escalates, someone acknowledges it and resolves it
 * with the links the messages carry. Every body names the customer and the site; an incident's
 * carries links that work; an endpoint that both subscribes to `incident.*` and is an escalation
 * target gets one message per step.
 */
import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventBus } from '../../functions/adapters/event-bus.ts';
import { localSnsClient, localSqsClient } from '../../functions/adapters/messaging-clients.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import type { WebhookMessage } from '../../protocol/webhooks.ts';
import { beat } from '../support/beats.ts';
import { sleep } from '../support/waiting.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/** Real time, plus jumps past the witness's freshness window (the receivers allow 5 minutes of skew). */
let offset = 0;
const now = () => Date.now() + offset;
let stack: LocalStack;
let sqs: SQSClient;

beforeAll(async () => {
  const tableName = `wm-${randomBytes(6).toString('hex')}`;
  stack = await startLocalStack({
    clock: now,
    dynamodb: { endpoint: inject('dynamoEndpoint') },
    tableName,
    snsSqs: { endpoint: inject('snsSqsEndpoint') },
    eventTopicName: `events-${tableName}`,
    channelPrefix: `wm-${randomBytes(4).toString('hex')}`,
    addressPolicy: { allowLoopback: true },
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    incidents: { settleMs: 60_000 },
    serve: { api: true },
    run: { events: true, incidents: true, webhooks: true },
  });
  sqs = localSqsClient(inject('snsSqsEndpoint'));
});
afterAll(async () => {
  sqs.destroy();
  await stack.stop();
});

interface Answer {
  status: number;
  body: unknown;
  text: string;
}

async function call(method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    // A link's page is HTML.
  }
  return { status: response.status, body: parsed, text };
}

async function ok(method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  const answer = await call(method, path, token, body);
  expect(answer.status, `${method} ${path}: ${answer.text}`).toBeLessThan(300);
  return answer;
}

/** A reseller, its customer "Dental office" and site "Main office" with node-a primary and node-b, both heard. */
async function runningSite(resellerId: string) {
  const created = await ok('POST', '/v1/resellers', stack.adminKey, { resellerId, name: `Reseller ${resellerId}` });
  const key = (created.body as { apiKey: { secret: string } }).apiKey.secret;
  await ok('POST', '/v1/customers', key, { customerId: 'dental', name: 'Dental office' });
  const site = await ok('POST', '/v1/sites', key, {
    siteId: 'main-office',
    customerId: 'dental',
    name: 'Main office',
    nodeIds: ['node-a', 'node-b'],
  });
  const codes = Object.fromEntries(
    (site.body as { enrollment: { nodeId: string; code: string }[] }).enrollment.map((e) => [e.nodeId, e.code]),
  );
  const token = async (nodeId: string) =>
    ((await ok('POST', '/v1/node/enroll', undefined, { code: codes[nodeId], nodeId })).body as { token: string }).token;
  const a = await token('node-a');
  const b = await token('node-b');
  await ok('POST', '/v1/node/heartbeat', a, beat(1, 0, 'secondary', true));
  await ok('POST', '/v1/node/heartbeat', b, beat(1, 0, 'secondary', true));
  const claim = await ok('POST', '/v1/node/claim', a, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' });
  expect(claim.body).toMatchObject({ granted: true, epoch: 1 });
  return { resellerId, key, a, b };
}

/** node-a falls silent: node-b reports it unreachable, and again a freshness window later (node.lost). */
async function loseNodeA(b: string): Promise<void> {
  offset += 1_000;
  await ok('POST', '/v1/node/heartbeat', b, beat(2, 1, 'secondary', false));
  offset += defaultSettings.freshnessMs + 1_000;
  await ok('POST', '/v1/node/heartbeat', b, beat(3, 1, 'secondary', false));
}

/** An endpoint of the reseller's at a fresh receiver that knows its secret. */
async function endpoint(key: string, endpointId: string, body: Record<string, unknown>): Promise<WebhookReceiver> {
  const receiver = await startWebhookReceiver({ secret: `whsec_${Buffer.alloc(32).toString('base64')}` });
  const created = await ok('POST', '/v1/webhooks', key, { endpointId, url: receiver.url, ...body });
  receiver.setSecrets([(created.body as { secret: { secret: string } }).secret.secret]);
  return receiver;
}

/** The bodies a receiver accepted, in order of arrival. */
const bodies = <T>(receiver: WebhookReceiver): T[] =>
  [...receiver.unique.values()].sort((x, y) => x.at - y.at).map((d) => JSON.parse(d.body) as T);

async function arrived<T>(what: string, receiver: WebhookReceiver, done: (all: T[]) => boolean, timeoutMs = 60_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = bodies<T>(receiver);
    if (done(all)) return all;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${String(timeoutMs)} ms; got ${JSON.stringify(all).slice(0, 800)}`);
    await sleep(100);
  }
}

/** Nothing left on its way to an endpoint: the stream handed on, the incidents queue and the outbox empty, twice in a row. */
async function settled(): Promise<void> {
  const queues = [stack.incidents?.incidentsQueueUrl, stack.webhooks?.outboxUrl, stack.webhooks?.deliveriesUrl];
  let quiet = 0;
  const deadline = Date.now() + 60_000;
  while (quiet < 2) {
    if (Date.now() > deadline) throw new Error('the queues did not empty within 60 s');
    await stack.events?.drain();
    let pending = 0;
    for (const QueueUrl of queues) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      pending += Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    }
    quiet = pending === 0 ? quiet + 1 : 0;
    await sleep(500);
  }
}

async function messagesOf(key: string, endpointId: string): Promise<WebhookMessage[]> {
  const answer = await ok('GET', `/v1/webhooks/${endpointId}/messages?limit=100`, key);
  return (answer.body as { items: WebhookMessage[] }).items;
}

/** A link as the page a person opening it sees: 200, asking to confirm, and nothing done yet. */
async function expectConfirmPage(url: string, action: 'Acknowledge' | 'Resolve', incidentId: string): Promise<void> {
  expect(url.startsWith(`${stack.url}/v1/links/`), url).toBe(true);
  const page = await call('GET', url.slice(stack.url.length));
  expect(page.status, page.text).toBe(200);
  expect(page.text).toContain(`${action} incident ${incidentId}`);
  expect(page.text).toContain('<form method="post">');
}

type Links = { acknowledge: string; resolve: string } | null;
interface GenericBody {
  id: string;
  type: string;
  data: { siteId: string; incidentId?: string };
  site: { siteId: string; name: string } | null;
  customer: { customerId: string; name: string } | null;
  links: Links;
}
interface SlackBody {
  text: string;
  blocks: { type: string; text?: { text: string }; elements?: { url?: string; text: unknown }[] }[];
}
interface TeamsBody {
  attachments: {
    content: {
      body: { type: string; text?: string; facts?: { title: string; value: string }[] }[];
      actions: { title: string; url: string }[];
    };
  }[];
}
interface PagerDutyBody {
  event_action: string;
  dedup_key: string;
  payload?: { summary: string; custom_details: Record<string, unknown> };
  links?: { href: string; text: string }[];
}

const incidentTypes = ['incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved'];

/**
 * A site whose node-a is lost, at a reseller with four endpoints (one per template) that subscribe
 * to `incident.*` (and, but PagerDuty's, `node.lost`) and that its escalation policy names at level
 * 1, and a fifth (generic) that only subscribes: the incident opens and pages at once.
 */
async function incidentAtSite() {
  const site = await runningSite(`wm-${randomBytes(3).toString('hex')}`);
  const everything = { eventTypes: [...incidentTypes, 'node.lost'] };
  const receivers = {
    generic: await endpoint(site.key, 'generic', everything),
    slack: await endpoint(site.key, 'slack', { ...everything, template: 'slack' }),
    teams: await endpoint(site.key, 'teams', { ...everything, template: 'teams' }),
    pagerduty: await endpoint(site.key, 'pagerduty', { eventTypes: incidentTypes, template: 'pagerduty', routingKey: 'R'.repeat(32) }),
    watch: await endpoint(site.key, 'watch', everything),
  };
  await ok('PUT', '/v1/escalation-policy', site.key, {
    levels: [
      {
        afterMs: 0,
        targets: [
          { type: 'service-queue' },
          ...['generic', 'slack', 'teams', 'pagerduty'].map((endpointId) => ({ type: 'webhook', endpointId })),
        ],
      },
    ],
    repeatLast: { times: 0, everyMs: 3_600_000 },
  });
  await loseNodeA(site.b);
  return { site, receivers };
}

describe('outbound messages name the customer and the site, and carry working links', () => {
  it('in every template, by escalation and by subscription alike, and the links answer their confirmation page', async () => {
    const { receivers } = await incidentAtSite();

    // The opening: every template names the site and the customer, and offers the two links.
    const generic = await arrived<GenericBody>('generic: node.lost and the opening', receivers.generic, (all) =>
      all.some((b) => b.type === 'incident.opened'),
    );
    const opened = generic.find((b) => b.type === 'incident.opened')!;
    const incidentId = opened.data.incidentId!;
    expect(opened).toMatchObject({
      site: { siteId: 'main-office', name: 'Main office' },
      customer: { customerId: 'dental', name: 'Dental office' },
    });
    await expectConfirmPage(opened.links!.acknowledge, 'Acknowledge', incidentId);
    await expectConfirmPage(opened.links!.resolve, 'Resolve', incidentId);
    // A plain event from the topic is named too, and has no links.
    await arrived<GenericBody>('generic: node.lost', receivers.generic, (all) => all.some((b) => b.type === 'node.lost'));
    expect(bodies<GenericBody>(receivers.generic).find((b) => b.type === 'node.lost')).toMatchObject({
      site: { name: 'Main office' },
      customer: { name: 'Dental office' },
      links: null,
    });

    const slack = await arrived<SlackBody>('slack: the opening', receivers.slack, (all) => all.some((b) => b.text.startsWith('Incident ')));
    const slackOpened = slack.find((b) => b.text.startsWith('Incident '))!;
    expect(slackOpened.text).toBe(`Incident ${incidentId} opened at Main office`);
    const section = slackOpened.blocks.find((b) => b.type === 'section')?.text?.text ?? '';
    expect(section).toContain('*Site:* Main office (main-office)');
    expect(section).toContain('*Customer:* Dental office');
    const buttons = slackOpened.blocks.find((b) => b.type === 'actions')?.elements?.map((e) => e.url ?? '') ?? [];
    expect(buttons).toHaveLength(2);
    await expectConfirmPage(buttons[0]!, 'Acknowledge', incidentId);
    const slackLost = slack.find((b) => b.text.startsWith('Node '));
    expect(slackLost?.text).toBe('Node node-a lost at Main office');
    expect(slackLost?.blocks.find((b) => b.type === 'section')?.text?.text).toContain('*Customer:* Dental office');

    const teams = await arrived<TeamsBody>('teams: the opening', receivers.teams, (all) =>
      all.some((b) => b.attachments[0]!.content.actions.length > 0),
    );
    const card = teams.find((b) => b.attachments[0]!.content.actions.length > 0)!.attachments[0]!.content;
    const facts = card.body.find((b) => b.type === 'FactSet')?.facts;
    expect(facts).toContainEqual({ title: 'Site', value: 'Main office (main-office)' });
    expect(facts).toContainEqual({ title: 'Customer', value: 'Dental office' });
    expect(card.actions.map((a) => a.title)).toEqual(['Acknowledge', 'Resolve']);
    await expectConfirmPage(card.actions[1]!.url, 'Resolve', incidentId);

    const [page] = await arrived<PagerDutyBody>('pagerduty: the trigger', receivers.pagerduty, (all) => all.length > 0);
    expect(page).toMatchObject({ event_action: 'trigger', dedup_key: `main-office/${incidentId}` });
    expect(page!.payload?.summary).toContain('Main office (Dental office)');
    expect(page!.payload?.custom_details).toMatchObject({ site: 'Main office', customer: 'Dental office' });
    expect(page!.links?.map((l) => l.text)).toEqual(['Acknowledge in Tiebreak', 'Resolve in Tiebreak']);
    await expectConfirmPage(page!.links![0]!.href, 'Acknowledge', incidentId);

    // The subscriber only (no escalation names it): the events themselves, named, with links.
    const watched = await arrived<GenericBody>('watch: opened and escalated', receivers.watch, (all) =>
      ['incident.opened', 'incident.escalated'].every((t) => all.some((b) => b.type === t)),
    );
    for (const type of ['incident.opened', 'incident.escalated']) {
      const body = watched.find((b) => b.type === type)!;
      expect(body, type).toMatchObject({ site: { name: 'Main office' }, customer: { name: 'Dental office' } });
      await expectConfirmPage(body.links!.acknowledge, 'Acknowledge', incidentId);
    }

    // Someone acknowledges with Slack's button, then resolves with Teams' (a browser posts the confirmation form).
    const acknowledged = await fetch(buttons[0]!, { method: 'POST' });
    expect(acknowledged.status).toBe(200);
    const [ack] = (
      await arrived<GenericBody>('generic: the acknowledgement', receivers.generic, (all) =>
        all.some((b) => b.type === 'incident.acknowledged'),
      )
    ).filter((b) => b.type === 'incident.acknowledged');
    expect(ack).toMatchObject({ site: { name: 'Main office' }, customer: { name: 'Dental office' } });
    await expectConfirmPage(ack!.links!.resolve, 'Resolve', incidentId);
    const resolved = await fetch(card.actions[1]!.url, { method: 'POST' });
    expect(resolved.status).toBe(200);
    await arrived<GenericBody>('generic: the resolution', receivers.generic, (all) => all.some((b) => b.type === 'incident.resolved'));
    await arrived<GenericBody>('watch: the resolution', receivers.watch, (all) => all.some((b) => b.type === 'incident.resolved'));
    expect(bodies<GenericBody>(receivers.generic).find((b) => b.type === 'incident.resolved')?.links).toBeNull();

    await settled();
    for (const receiver of Object.values(receivers)) {
      expect(receiver.badSignatures).toBe(0);
      await receiver.close();
    }
  });

  it('an endpoint that both subscribes to incident.* and is an escalation target gets each incident step once', async () => {
    const { site, receivers } = await incidentAtSite();
    const watched = await arrived<GenericBody>('the opening', receivers.watch, (all) => all.some((b) => b.type === 'incident.opened'));
    const incidentId = watched.find((b) => b.type === 'incident.opened')?.data.incidentId ?? '';
    await ok('POST', `/v1/sites/main-office/incidents/${incidentId}/acknowledge`, site.key);
    await ok('POST', `/v1/sites/main-office/incidents/${incidentId}/resolve`, site.key);
    await arrived<GenericBody>('the resolution', receivers.generic, (all) => all.some((b) => b.type === 'incident.resolved'));

    // Once nothing is left on the way: one message per step for each endpoint that is both subscriber and target.
    await settled();
    const steps = ['incident.opened', 'incident.acknowledged', 'incident.resolved'];
    for (const endpointId of ['generic', 'slack', 'teams']) {
      const types = (await messagesOf(site.key, endpointId)).map((m) => m.eventType).sort();
      expect(types, endpointId).toEqual(['node.lost', ...steps].sort());
    }
    expect((await messagesOf(site.key, 'pagerduty')).map((m) => m.eventType).sort()).toEqual([...steps].sort());
    expect(
      bodies<PagerDutyBody>(receivers.pagerduty)
        .map((b) => b.event_action)
        .sort(),
    ).toEqual(['acknowledge', 'resolve', 'trigger']);
    // The subscriber alone hears every event it asked for, once each.
    expect((await messagesOf(site.key, 'watch')).map((m) => m.eventType).sort()).toEqual(
      ['node.lost', 'incident.opened', 'incident.escalated', 'incident.acknowledged', 'incident.resolved'].sort(),
    );
    for (const [name, receiver] of Object.entries(receivers)) {
      expect(receiver.badSignatures).toBe(0);
      expect(receiver.unique.size, name).toBe(name === 'watch' ? 5 : name === 'pagerduty' ? 3 : 4);
      await receiver.close();
    }
  });

  it('an event of a site no longer listed is still delivered, named by its id', async () => {
    const site = await runningSite(`wm-${randomBytes(3).toString('hex')}`);
    const receiver = await endpoint(site.key, 'ops', { eventTypes: ['node.lost'], template: 'generic' });
    const slack = await endpoint(site.key, 'chat', { eventTypes: ['node.lost'], template: 'slack' });
    const sns = localSnsClient(inject('snsSqsEndpoint'));
    try {
      await new EventBus(sns, stack.topicArn!).publish([
        {
          id: `${site.resellerId}/closed-branch/node.lost/node-a/1`,
          type: 'node.lost',
          timestamp: new Date(now()).toISOString(),
          data: { resellerId: site.resellerId, siteId: 'closed-branch', nodeId: 'node-a', severity: 'critical' },
        },
      ]);
    } finally {
      sns.destroy();
    }
    const [body] = await arrived<GenericBody>('generic', receiver, (all) => all.length > 0);
    expect(body).toMatchObject({ site: { siteId: 'closed-branch', name: 'closed-branch' }, customer: null, links: null });
    const [chat] = await arrived<SlackBody>('slack', slack, (all) => all.length > 0);
    expect(chat?.text).toBe('Node node-a lost at closed-branch');
    await receiver.close();
    await slack.close();
  });
});
