import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../functions/adapters/logger.ts';
import { WebhookSender } from '../../functions/adapters/webhook-sender.ts';
import type { DelivererDeps } from '../../functions/adapters/deliverer-config.ts';
import { EndpointCache } from '../../functions/adapters/endpoint-cache.ts';
import type { DeliveryJob } from '../../functions/adapters/webhook-jobs.ts';
import type { MessageRecord } from '../../functions/adapters/webhook-message-item.ts';
import { WebhookDeliveryLog } from '../../functions/adapters/webhook-delivery-log.ts';
import { newWebhookSecret, WebhookEndpointStore } from '../../functions/adapters/webhook-endpoint-store.ts';
import { messageIdOf, WebhookMessageStore } from '../../functions/adapters/webhook-message-store.ts';
import { webhookDelivererHandler } from '../../functions/handlers/webhook-deliverer.ts';
import { lambdaContext } from '../../local/api-gateway-event.ts';
import { freshTable } from '../support/dynamo.ts';

// Fault injection on the deliverer's retry protocol, with the real handler, the real store on
// DynamoDB Local and real HTTP to a local receiver. The deliveries queue is played by the test,
// because SQS's faults cannot be provoked on demand: jobs are handed over in any order, some twice
// (a duplicate job, or the same job again after its handler failed), and the queue's send fails at
// chosen moments (after the try was recorded). Whatever happens, each message ends delivered or
// dead-lettered, each try is recorded once, and no more than eight tries are made.

let endpoints: WebhookEndpointStore;
let messages: WebhookMessageStore;
let deliveryLog: WebhookDeliveryLog;
let receiver: http.Server;
let url = '';
/** Per webhook-id: the statuses the receiver will answer, in turn (then 204). */
const script = new Map<string, number[]>();
const received = new Map<string, number>();

beforeAll(async () => {
  // The injected faults are logged as errors by design: keep the run's output for real failures.
  logger.setLogLevel('SILENT');
  const { doc, tableName } = await freshTable('wh-retries');
  endpoints = new WebhookEndpointStore(doc, tableName);
  messages = new WebhookMessageStore(doc, tableName);
  deliveryLog = new WebhookDeliveryLog(doc, tableName);
  receiver = http.createServer((request, response) => {
    const id = String(request.headers['webhook-id']);
    request.resume();
    request.on('end', () => {
      const status = script.get(id)?.shift() ?? 204;
      if (status < 300) received.set(id, (received.get(id) ?? 0) + 1);
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${String((receiver.address() as AddressInfo).port)}/hook`;
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

interface Delivery {
  job: DeliveryJob;
  receiveCount: number;
}

/** One queue step: which pending job to hand over, and whether it is also handed over again later. */
const step = fc.record({ pick: fc.nat(), duplicate: fc.boolean(), sendFails: fc.boolean() });

describe('webhook retries under duplicated, reordered and failed queue operations', () => {
  it('every message ends delivered or dead-lettered, with each try recorded once and at most 8 tries', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(204, 500, 503, 410, 429), { minLength: 0, maxLength: 10 }),
        fc.array(step, { minLength: 1, maxLength: 60 }),
        async (statuses, steps) => {
          run += 1;
          const resellerId = `r${String(run)}`;
          await endpoints.createEndpoint(
            resellerId,
            'ops',
            { url, eventTypes: ['node.lost'], template: 'generic', enabled: true },
            newWebhookSecret(),
            0,
          );
          const messageId = messageIdOf(`event-${String(run)}`, 'ops', Date.now());
          script.set(messageId, [...statuses]);
          const added = await messages.addMessage(
            {
              resellerId,
              endpointId: 'ops',
              messageId,
              eventId: `event-${String(run)}`,
              eventType: 'node.lost',
              siteId: 's',
              payload: '{}',
              createdAt: Date.now(),
            },
            'pending',
          );
          const queue: Delivery[] = [
            { job: { resellerId, endpointId: 'ops', messageId, round: 0, attempt: 1, dueAt: 0 }, receiveCount: 1 },
          ];
          const deadLetters: MessageRecord[] = [];
          let failNextSend = false;
          const deps: DelivererDeps = {
            messages,
            endpointStore: endpoints,
            endpoints: new EndpointCache(endpoints, 0),
            jobs: {
              schedule: (job: DeliveryJob) => {
                if (failNextSend) {
                  failNextSend = false;
                  return Promise.reject(new Error('injected: SQS SendMessage failed'));
                }
                queue.push({ job, receiveCount: 1 });
                return Promise.resolve();
              },
            },
            deadLetters: { send: (m: MessageRecord) => Promise.resolve(void deadLetters.push(m)) },
            sender: new WebhookSender({ policy: { allowLoopback: true }, timeoutMs: 2000 }),
            settings: { retryDelaysMs: [0, 0, 0, 0, 0, 0, 0], jitter: 0, disableAfterFailingMs: 3_600_000 },
            now: () => Date.now(),
            random: () => 0.5,
          };
          const handler = webhookDelivererHandler(() => deps);
          let i = 0;
          while (queue.length > 0) {
            const choice = steps[i % steps.length] ?? { pick: 0, duplicate: false, sendFails: false };
            i += 1;
            const [delivery] = queue.splice(choice.pick % queue.length, 1);
            if (!delivery) break;
            if (choice.duplicate && i < 200) queue.push({ job: delivery.job, receiveCount: 1 });
            failNextSend = choice.sendFails && i < 200;
            const record = {
              messageId: String(i),
              body: JSON.stringify(delivery.job),
              attributes: { ApproximateReceiveCount: String(delivery.receiveCount) },
            } as SQSRecord;
            const result = await handler({ Records: [record] }, lambdaContext('deliverer', String(i)));
            // A failed record comes back, as SQS redelivers it after its visibility timeout.
            if (result.batchItemFailures.length > 0) queue.push({ job: delivery.job, receiveCount: delivery.receiveCount + 1 });
            failNextSend = false;
          }
          deps.sender.close();

          const message = await messages.getMessage(resellerId, 'ops', messageId);
          expect(message?.status).not.toBe('pending');
          expect(message?.attempts).toBeLessThanOrEqual(8);
          const log = (await deliveryLog.listAttempts(resellerId, 'ops', { limit: 100 }, Date.now())).items.filter(
            (a) => a.messageId === messageId,
          );
          expect(log.map((a) => a.attempt).sort((a, b) => a - b)).toEqual(Array.from({ length: message?.attempts ?? 0 }, (_, n) => n + 1));
          if (message?.status === 'delivered') expect(received.get(messageId)).toBeGreaterThanOrEqual(1);
          if (message?.failure === 'exhausted') {
            expect(deadLetters.map((m) => m.messageId)).toContain(messageId);
            expect(received.get(messageId)).toBeUndefined();
          }
          if (message?.failure === 'gone') expect((await endpoints.getEndpoint(resellerId, 'ops'))?.enabled).toBe(false);
          expect(added.created).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
