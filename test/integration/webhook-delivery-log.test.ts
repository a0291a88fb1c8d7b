import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InternalServerError } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { logger } from '../../functions/adapters/logger.ts';
import type { DelivererDeps } from '../../functions/adapters/deliverer-config.ts';
import { EndpointCache } from '../../functions/adapters/endpoint-cache.ts';
import type { DeliveryJob } from '../../functions/adapters/webhook-jobs.ts';
import { WebhookSender } from '../../functions/adapters/webhook-sender.ts';
import { WebhookDeliveryLog } from '../../functions/adapters/webhook-delivery-log.ts';
import { newWebhookSecret, WebhookEndpointStore } from '../../functions/adapters/webhook-endpoint-store.ts';
import { messageIdOf, WebhookMessageStore } from '../../functions/adapters/webhook-message-store.ts';
import { webhookDelivererHandler } from '../../functions/handlers/webhook-deliverer.ts';
import { lambdaContext } from '../../local/api-gateway-event.ts';
import { freshTable } from '../support/dynamo.ts';

// A try is recorded in its message and as a line of the delivery log. Here the write that carries
// the line fails once (a fault DynamoDB Local cannot be asked for: a middleware on the real client
// throws before sending it), and SQS hands the job back, as it does after a failed record. Whatever
// the store's writes, the retry must leave one line for the try, agreeing with the message.

let doc: DynamoDBDocumentClient;
let endpoints: WebhookEndpointStore;
let messages: WebhookMessageStore;
let deliveryLog: WebhookDeliveryLog;
let receiver: http.Server;
let url = '';
/** What the receiver answers next. */
let answer = 204;
/** Armed: the next write that carries a delivery log line fails. */
let failLogWrite = false;

beforeAll(async () => {
  // The injected fault is logged as an error by design.
  logger.setLogLevel('SILENT');
  const table = await freshTable('wh-log');
  doc = table.doc;
  // After serialization, where any command's items are in its input as sent (a transaction's too).
  doc.middlewareStack.add(
    (next) => async (args) => {
      if (failLogWrite && JSON.stringify(args.input).includes('"ATTEMPT#')) {
        failLogWrite = false;
        throw new InternalServerError({ message: 'injected: the write of the delivery log line failed', $metadata: {} });
      }
      return next(args);
    },
    { step: 'build', name: 'failDeliveryLogWriteOnce' },
  );
  endpoints = new WebhookEndpointStore(doc, table.tableName);
  messages = new WebhookMessageStore(doc, table.tableName);
  deliveryLog = new WebhookDeliveryLog(doc, table.tableName);
  receiver = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(answer).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${String((receiver.address() as AddressInfo).port)}/hook`;
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

describe('the delivery log when the write of its line fails', () => {
  test.each([
    ['delivered', 204],
    ['failed, to be tried again', 503],
  ])('a try %s (%i): the retried job leaves exactly one line for it, agreeing with the message', async (_, status) => {
    const resellerId = `r${String(status)}`;
    answer = status;
    await endpoints.createEndpoint(
      resellerId,
      'ops',
      { url, eventTypes: ['node.lost'], template: 'generic', enabled: true },
      newWebhookSecret(),
      0,
    );
    const messageId = messageIdOf(`event-${String(status)}`, 'ops', Date.now());
    await messages.addMessage(
      {
        resellerId,
        endpointId: 'ops',
        messageId,
        eventId: `event-${String(status)}`,
        eventType: 'node.lost',
        siteId: 's',
        payload: '{}',
        createdAt: Date.now(),
      },
      'pending',
    );
    const scheduled: DeliveryJob[] = [];
    const deps: DelivererDeps = {
      messages,
      endpointStore: endpoints,
      endpoints: new EndpointCache(endpoints, 0),
      jobs: { schedule: (job: DeliveryJob) => Promise.resolve(void scheduled.push(job)) },
      deadLetters: { send: () => Promise.resolve() },
      sender: new WebhookSender({ policy: { allowLoopback: true }, timeoutMs: 2000 }),
      settings: { retryDelaysMs: [0, 0, 0, 0, 0, 0, 0], jitter: 0, disableAfterFailingMs: 3_600_000 },
      now: () => Date.now(),
      random: () => 0.5,
    };
    const handler = webhookDelivererHandler(() => deps);
    const job: DeliveryJob = { resellerId, endpointId: 'ops', messageId, round: 0, attempt: 1, dueAt: 0 };
    const receive = (count: number) =>
      handler(
        {
          Records: [
            {
              messageId: `job-${String(count)}`,
              body: JSON.stringify(job),
              attributes: { ApproximateReceiveCount: String(count) },
            } as SQSRecord,
          ],
        },
        lambdaContext('deliverer', String(count)),
      );

    failLogWrite = true;
    expect((await receive(1)).batchItemFailures).toHaveLength(1);
    expect(failLogWrite).toBe(false);
    // SQS hands the failed job back after its visibility timeout.
    expect((await receive(2)).batchItemFailures).toHaveLength(0);
    deps.sender.close();

    const message = await messages.getMessage(resellerId, 'ops', messageId);
    const lines = (await deliveryLog.listAttempts(resellerId, 'ops', { limit: 100 }, Date.now())).items.filter(
      (line) => line.messageId === messageId,
    );
    expect(lines.map((line) => [line.round, line.attempt, line.status])).toEqual([[0, 1, status]]);
    expect(message).toMatchObject({ attempts: 1, round: 0, lastStatus: status, lastAttemptAt: Date.parse(lines[0]!.at) });
    expect(message?.status).toBe(status === 204 ? 'delivered' : 'pending');
    // The next try is scheduled once, whichever run recorded this one.
    expect(scheduled.map((next) => next.attempt)).toEqual(status === 204 ? [] : [2]);
  });
});
