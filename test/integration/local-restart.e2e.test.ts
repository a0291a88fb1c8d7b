import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import { beat } from '../support/beats.ts';

// `npm start` keeps fauxqs's queues in its data folder, but fauxqs comes up on a new port at each
// start: every queue URL the service hands out must name the port of now, and the reseller's
// `npm run service-queue` must read its queue after a restart as before.

const projectRoot = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);
/** Real time, plus jumps past the witness's freshness window (the incidents' settle time runs in real seconds on SQS). */
let offset = 0;
const now = () => Date.now() + offset;
const tableName = `restart-${randomBytes(6).toString('hex')}`;
const tokenKey = randomBytes(32);
const adminKey = randomBytes(32).toString('base64url');
let dataDir: string;
let stack: LocalStack | undefined;

/** The local stack as `npm start` runs it, on the run's DynamoDB Local and a fauxqs kept in `dataDir`. */
async function start(): Promise<LocalStack> {
  stack = await startLocalStack({
    clock: now,
    dynamodb: { endpoint: inject('dynamoEndpoint') },
    tableName,
    tokenKey,
    adminKey,
    snsSqs: { dataDir },
    serve: { api: true },
    run: { events: true, incidents: true, webhooks: true },
    incidents: { settleMs: 1_500 },
  });
  return stack;
}

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  if (!stack) throw new Error('the stack is not running');
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run service-queue` as the reseller runs it, the key in the environment. */
async function serviceQueue(url: string, key: string): Promise<CommandRun> {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TIEBREAK_'))),
    TIEBREAK_API_KEY: key,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/service-queue.ts', '--url', url, '--wait', '1'], {
      cwd: projectRoot,
      env,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Runs the command until a message of `step` is among those it printed; answers every step read. */
async function readUntil(key: string, step: string, timeoutMs = 60_000): Promise<string[]> {
  const steps = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  while (![...steps.values()].includes(step)) {
    if (Date.now() > deadline) throw new Error(`no ${step} step in time; read ${JSON.stringify([...steps.values()])}`);
    const read = await serviceQueue(stack?.url ?? '', key);
    expect(read.stderr, 'the command succeeds').not.toMatch(/ECONNREFUSED|\n\s+at /);
    expect(read.code).toBe(0);
    for (const line of read.stdout.split('\n').filter(Boolean)) {
      const message = JSON.parse(line) as { messageId: string; step: string };
      steps.set(message.messageId, message.step);
    }
  }
  return [...steps.values()];
}

const portOf = (url: string) => new URL(url).port;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tiebreak-restart-'));
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the local runtime after a restart', () => {
  it('the service queue the API names is read by `npm run service-queue` after a restart, and receives the next incident step', async () => {
    const first = await start();
    const created = await call('POST', '/v1/resellers', adminKey, { resellerId: 'acme-it', name: 'Acme IT' });
    expect(created.status).toBe(201);
    const key = (created.body as { apiKey: { secret: string } }).apiKey.secret;
    expect((await call('POST', '/v1/customers', key, { customerId: 'dental', name: 'Smile Dental' })).status).toBe(201);
    const site = await call('POST', '/v1/sites', key, {
      siteId: 'main-office',
      customerId: 'dental',
      name: 'Main office',
      nodeIds: ['node-a', 'node-b'],
    });
    expect(site.status).toBe(201);
    const tokens: Record<string, string> = {};
    for (const { nodeId, code } of (site.body as { enrollment: { nodeId: string; code: string }[] }).enrollment) {
      tokens[nodeId] = ((await call('POST', '/v1/node/enroll', undefined, { code, nodeId })).body as { token: string }).token;
    }
    const [a, b] = [tokens['node-a'], tokens['node-b']];
    await call('POST', '/v1/node/heartbeat', a, beat(1, 0, 'secondary', true));
    await call('POST', '/v1/node/heartbeat', b, beat(1, 0, 'secondary', true));
    expect((await call('POST', '/v1/node/claim', a, { incarnation: 1, seq: 2, epoch: 0, reason: 'startup' })).body).toMatchObject({
      granted: true,
    });
    // node-a falls silent: node-b reports it unreachable, and again a freshness window later (node.lost).
    offset += 1_000;
    await call('POST', '/v1/node/heartbeat', b, beat(2, 1, 'secondary', false));
    offset += defaultSettings.freshnessMs + 1_000;
    await call('POST', '/v1/node/heartbeat', b, beat(3, 1, 'secondary', false));
    expect(await readUntil(key, 'opened')).toEqual(['opened']);

    const before = portOf(first.snsSqsEndpoint ?? '');
    await first.stop();
    stack = undefined;
    const second = await start();
    const after = portOf(second.snsSqsEndpoint ?? '');
    expect(after).not.toBe(before);

    // node-a is back: once it has stayed back for the settle time, the incident resolves, and the reseller reads that step.
    await call('POST', '/v1/node/heartbeat', a, beat(4, 1, 'primary', true));
    await call('POST', '/v1/node/heartbeat', b, beat(4, 1, 'secondary', true));
    expect(await readUntil(key, 'resolved')).toContain('resolved');

    // Every queue URL the service hands out names fauxqs's port of now.
    const where = await call('GET', '/v1/reseller/service-queue', key);
    expect(where.status).toBe(200);
    const { queueUrl, deadLetterQueueUrl } = where.body as { queueUrl: string; deadLetterQueueUrl: string };
    const handedOut = [
      queueUrl,
      deadLetterQueueUrl,
      second.incidents?.incidentsQueueUrl ?? '',
      second.incidents?.webhookOutboxUrl ?? '',
      second.webhooks?.outboxUrl ?? '',
      second.webhooks?.deliveriesUrl ?? '',
      second.webhooks?.deadLettersUrl ?? '',
    ];
    expect(handedOut.map(portOf)).toEqual(handedOut.map(() => after));
  }, 240_000);
});

describe('npm run service-queue', () => {
  it('a queue it cannot reach: one line naming the queue URL and the cause, exit 1, no stack trace', async () => {
    // A port nobody listens on, and a witness that names a queue there.
    const probe = createTcpServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const closedPort = (probe.address() as { port: number }).port;
    await new Promise((done) => probe.close(done));
    const queueUrl = `http://sqs.us-east-1.localhost:${String(closedPort)}/000000000000/tiebreak-svc-acme-it`;
    const witness = createServer((_request, response) => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ queueUrl, deadLetterQueueUrl: `${queueUrl}-dlq` }));
    });
    await new Promise<void>((done) => witness.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${String((witness.address() as { port: number }).port)}`;
      const read = await serviceQueue(url, 'tbk.acme-it.key');
      expect(read.code).toBe(1);
      const lines = read.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(queueUrl);
      expect(lines[0]).toContain('ECONNREFUSED');
    } finally {
      await new Promise((done) => witness.close(done));
    }
  }, 60_000);
});
