/**
 * The words a person reads when another tool raises an alert: a bearer-token hook with a summary,
 * through the whole local service (stream → publisher → SNS → incidents queue → escalation) on
 * DynamoDB Local and fauxqs, to the message on the reseller's service queue, the e-mail made from
 * it, and the Slack body an escalation to a webhook endpoint sends.
 */
import { randomBytes } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { localSqsClient } from '../../functions/adapters/messaging-clients.ts';
import { alertText } from '../../functions/adapters/notifier.ts';
import { stepEvent } from '../../functions/domain/webhook-delivery.ts';
import { renderWebhookBody } from '../../functions/domain/webhook-templates.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import type { ServiceQueueMessage } from '../../protocol/incidents.ts';

let stack: LocalStack;
let sqs: SQSClient;
let key: string;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, text, body: (text ? JSON.parse(text) : undefined) as unknown };
}

beforeAll(async () => {
  const tableName = `wording-${randomBytes(4).toString('hex')}`;
  stack = await startLocalStack({
    dynamodb: { endpoint: inject('dynamoEndpoint') },
    snsSqs: { endpoint: inject('snsSqsEndpoint') },
    tableName,
    eventTopicName: `events-${tableName}`,
    channelPrefix: `w-${randomBytes(3).toString('hex')}`,
    serve: { api: true },
    run: { events: true, incidents: true },
  });
  sqs = localSqsClient(inject('snsSqsEndpoint'));
  const reseller = await fetch(`${stack.url}/v1/resellers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminKey}` },
    body: JSON.stringify({ resellerId: 'acme-it', name: 'Acme IT' }),
  });
  key = ((await reseller.json()) as { apiKey: { secret: string } }).apiKey.secret;
  expect((await call('POST', '/v1/customers', { customerId: 'dental', name: 'Smile Dental' })).status).toBe(201);
  const site = await call('POST', '/v1/sites', { siteId: 'main-office', customerId: 'dental', name: 'Main office', nodeIds: ['a', 'b'] });
  expect(site.status, site.text).toBe(201);
}, 120_000);

afterAll(async () => {
  sqs.destroy();
  await stack.stop();
});

/** The service queue's messages until one passes `wanted` (the step is delivered through timers and queues, in real time). */
async function receiveUntil(queueUrl: string, wanted: (m: ServiceQueueMessage) => boolean): Promise<ServiceQueueMessage> {
  for (let i = 0; i < 60; i++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
      const message = JSON.parse(m.Body ?? '{}') as ServiceQueueMessage;
      if (wanted(message)) return message;
    }
  }
  throw new Error('no such message on the service queue within a minute');
}

describe('an alert raised by a tool, as a person reads it', () => {
  test('the service-queue message, its e-mail and a Slack escalation say the summary the tool sent, and the alert’s name', async () => {
    const created = await call('POST', '/v1/integrations', {
      siteId: 'main-office',
      name: 'APC UPS',
      auth: 'bearer',
      mapping: { 'ups.on-battery': { action: 'raise', alert: 'ups-power', severity: 'warning' } },
    });
    expect(created.status, created.text).toBe(201);
    const { url, token } = created.body as { url: string; token: string };
    const hook = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'ups.on-battery', data: { summary: 'UPS on battery, 38 min left' } }),
    });
    expect(hook.status, await hook.text()).toBe(200);

    const queue = await call('GET', '/v1/reseller/service-queue');
    const { queueUrl } = queue.body as { queueUrl: string };
    const message = await receiveUntil(queueUrl, (m) => m.incident.kind === 'alert.raised' && m.step === 'opened');

    const mail = alertText(message).body;
    expect(mail).toContain('Affected: UPS on battery, 38 min left (ups-power from APC UPS).');
    expect(mail).not.toMatch(/int_[A-Za-z0-9_-]{22}/);

    const slack = renderWebhookBody('slack', stepEvent('acme-it', message, 'warning'), { routingKey: null }) ?? '';
    expect(slack).toContain('UPS on battery, 38 min left (ups-power from APC UPS)');
    expect(slack).not.toMatch(/int_[A-Za-z0-9_-]{22}/);
  }, 90_000);
});
