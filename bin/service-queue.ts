#!/usr/bin/env node
/**
 * `npm run service-queue -- --key API_KEY [--url URL] [--wait SECONDS] [--keep]`
 * Reads the reseller's service queue: asks the service where it is (`GET /v1/reseller/service-queue`),
 * then receives its messages (one per incident step) and prints each as a JSON line, deleting it
 * once printed unless `--keep`. Against `npm start` (the default URL) the queue is on fauxqs, on the
 * port its URL names; in AWS, the AWS credentials of this shell must be allowed to read it.
 */
import { localSqsClient } from '../functions/adapters/messaging-clients.ts';
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

const usage = 'usage: npm run service-queue -- --key API_KEY [--url URL] [--wait SECONDS] [--keep]';
const { values } = parseArgs({
  options: {
    key: { type: 'string' },
    url: { type: 'string', default: 'http://127.0.0.1:8787' },
    wait: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
  },
});
const key = values.key ?? process.env.TIEBREAK_API_KEY;
const waitSeconds = Number(values.wait);
if (!key || !Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 20) {
  console.error(`${usage}\n(--wait is 0 to 20)`);
  process.exit(2);
}

const where = await fetch(new URL('/v1/reseller/service-queue', values.url), { headers: { authorization: `Bearer ${key}` } }).catch(
  (error: unknown) => {
    console.error(
      `service-queue: cannot reach ${values.url}: ${error instanceof Error ? error.message : String(error)} (is \`npm start\` running?)`,
    );
    process.exit(1);
  },
);
if (!where.ok) {
  console.error(`service-queue: the service answered ${where.status}: ${await where.text()}`);
  process.exit(1);
}
const { queueUrl } = (await where.json()) as { queueUrl: string };
const queue = new URL(queueUrl);
// fauxqs names its queues under sqs.<region>.localhost:<port>; SQS under sqs.<region>.amazonaws.com.
const sqs = queue.hostname.endsWith('.localhost') ? localSqsClient(`http://127.0.0.1:${queue.port}`) : new SQSClient({});

let received = 0;
/** One line a reseller can act on (which queue, and why), not the SDK's stack trace. */
function cannotRead(error: unknown): never {
  const cause = error instanceof Error ? error.message || error.name : String(error);
  console.error(`service-queue: cannot read the queue ${queueUrl}: ${cause}`);
  process.exit(1);
}
for (;;) {
  const { Messages = [] } = await sqs
    .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }))
    .catch(cannotRead);
  if (Messages.length === 0) break;
  for (const message of Messages) {
    process.stdout.write(`${message.Body ?? ''}\n`);
    received++;
    if (!values.keep)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle })).catch(cannotRead);
  }
  if (values.keep) break;
}
console.error(`service-queue: ${String(received)} message(s) from ${queueUrl}${values.keep ? ' (kept on the queue)' : ''}`);
sqs.destroy();
