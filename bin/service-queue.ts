#!/usr/bin/env node
/**
 * `npm run service-queue [-- --wait SECONDS] [--keep] [--url URL]`
 * Reads the reseller's service queue: asks the service where it is (`GET /v1/reseller/service-queue`),
 * then receives its messages (one per incident step) and prints each as a JSON line, deleting it
 * once printed unless `--keep`. The service and the key are found as every command finds them
 * (bin/cli/service.ts). Against `npm start` the queue is on fauxqs, on the port its URL names; in
 * AWS, the AWS credentials of this shell must be allowed to read it.
 */
import { localSqsClient } from '../functions/adapters/messaging-clients.ts';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseCommand } from './cli/command.ts';
import { askService, findService, keyFor, sayWhere } from './cli/service.ts';

const usage = `usage: npm run service-queue [-- --wait SECONDS] [--keep] [--url URL]

Prints the messages of the reseller's service queue (one per incident step) as JSON lines, and
deletes each once printed; stops when the queue has been empty for --wait seconds.

  --wait SECONDS  how long to wait for a message, 0 to 20 (default 5)
  --keep          print one batch and leave the messages on the queue
  --url URL       the service (else TIEBREAK_URL, else the local npm start's, else http://127.0.0.1:8787)
  -h, --help      this text

The reseller's API key comes from TIEBREAK_API_KEY, else, for the local npm start, its demo
reseller's key (in .tiebreak/local/demo-site.json, or under TIEBREAK_DATA_DIR).`;

const command = parseCommand({
  name: 'service-queue',
  usage,
  help: 'npm run service-queue -- --help',
  options: {
    url: { type: 'string' },
    wait: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
  },
});
const { values } = command;
const waitSeconds = Number(values.wait);
if (!/^\d+$/.test(values.wait) || waitSeconds > 20) command.refuse(`--wait ${values.wait}: a whole number of seconds, 0 to 20`);
const service = await findService({ url: values.url });
keyFor(command, service);
sayWhere('service-queue', service);

const where = await askService(command, service, '/v1/reseller/service-queue');
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
