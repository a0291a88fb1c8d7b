import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { expect, inject } from 'vitest';
import type { ApiDeps } from '../../functions/adapters/api-config.ts';
import type { WitnessDeps } from '../../functions/adapters/config.ts';
import { startLocalStack } from '../../local/local-stack.ts';
import type { RateLimit } from '../../functions/domain/rate-limit.ts';
import { RequestCounter } from '../../functions/adapters/request-counter.ts';
import { TestClock } from './witness.ts';

export interface Answer {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

export interface TestApi {
  url: string;
  adminKey: string;
  clock: TestClock;
  api: ApiDeps;
  witness: WitnessDeps;
  tableName: string;
  /** The DynamoDB requests of the service (the witness and the API share one client), by command, per attempt. */
  requests: RequestCounter;
  /** One HTTP request; `body` is sent as JSON unless it is a string already. */
  call(method: string, path: string, token?: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** With `events`: resolves once every stream record written before has reached the publisher. */
  drainEvents(): Promise<void>;
  /** Every item of the table, sorted by key: compare two to see that nothing changed. */
  snapshot(): Promise<unknown[]>;
  close(): Promise<void>;
}

/**
 * The whole local service as `npm start` serves it (node protocol, reseller API, OpenAPI, console) on a
 * fresh table of the test run's DynamoDB Local, with a test clock and a known admin key.
 */
export async function startApi(
  options: {
    rateLimit?: RateLimit;
    /** The table's stream runs into the event publisher (on a topic of this API's own), so the audit trail fills. */
    events?: boolean;
  } = {},
): Promise<TestApi> {
  const clock = new TestClock();
  const tableName = `api-${randomBytes(6).toString('hex')}`;
  const stack = await startLocalStack({
    clock: clock.now,
    dynamodb: { endpoint: inject('dynamoEndpoint') },
    tableName,
    ...(options.events ? { run: { events: true }, eventTopicName: `events-${tableName}` } : {}),
    // Each API its own channel prefix on the run's fauxqs: resellers of the same id in two files never share a queue.
    // Replays are scheduled on a deliveries queue of the API's own; nothing drains it here (the webhook e2e test runs the deliverer).
    snsSqs: { endpoint: inject('snsSqsEndpoint') },
    channelPrefix: `t-${randomBytes(4).toString('hex')}`,
    addressPolicy: { allowLoopback: true },
    rateLimit: options.rateLimit ?? { perSecond: 1e6, burst: 1e6 },
    // The console too, as npm start serves it (its files are built at its first request).
    serve: { api: true, console: 'on-first-request' },
  });
  const { doc, adminKey, api, witness } = stack;
  const requests = new RequestCounter().attach(stack.dynamo);
  const local = { url: stack.url, close: () => stack.stop() };
  return {
    url: local.url,
    adminKey,
    clock,
    api,
    witness,
    tableName,
    requests,
    async call(method, path, token, body, headers = {}) {
      const response = await fetch(`${local.url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        // Not JSON (a CSV or HTML report): `text` has it.
      }
      return { status: response.status, body: parsed, text, headers: response.headers };
    },
    async drainEvents() {
      if (!stack.events) throw new Error('startApi: the event publisher runs only with { events: true }');
      await stack.events.drain();
    },
    async snapshot() {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      const key = (item: Record<string, unknown>) => `${String(item.pk)}\u0000${String(item.sk)}`;
      return items.sort((a, b) => key(a).localeCompare(key(b)));
    },
    async close() {
      await local.close();
    },
  };
}

/** A reseller with a read-write key, a customer and a site with two nodes, through the API itself. */
export async function setUpReseller(
  api: TestApi,
  resellerId = `r-${randomBytes(3).toString('hex')}`,
): Promise<{ resellerId: string; key: string; siteId: string; codes: Record<string, string> }> {
  const created = await api.call('POST', '/v1/resellers', api.adminKey, { resellerId, name: `Reseller ${resellerId}` });
  if (created.status !== 201) throw new Error(`reseller not created: ${created.text}`);
  const key = (created.body as { apiKey: { secret: string } }).apiKey.secret;
  const customer = await api.call('POST', '/v1/customers', key, { customerId: 'dental', name: 'Dental office' });
  if (customer.status !== 201) throw new Error(`customer not created: ${customer.text}`);
  const site = await api.call('POST', '/v1/sites', key, {
    siteId: 'main-office',
    customerId: 'dental',
    name: 'Main office',
    nodeIds: ['node-a', 'node-b'],
  });
  if (site.status !== 201) throw new Error(`site not created: ${site.text}`);
  const codes = Object.fromEntries(
    (site.body as { enrollment: { nodeId: string; code: string }[] }).enrollment.map((e) => [e.nodeId, e.code]),
  );
  return { resellerId, key, siteId: 'main-office', codes };
}

/** A heartbeat's answer, as the tests that drive agents read it. */
export interface HeartbeatAnswer {
  epoch: number;
  primary: string | null;
  standalone: { leaseMs: number | null } | null;
  excluded: boolean;
  commands: { id: string; type: string }[];
}

/** A node's agent at the test service: heartbeats and claims, each with the next seq, each answered 200. */
export function agentAt(api: TestApi, token: string) {
  let seq = 0;
  return {
    beat: async (epoch: number, role: 'primary' | 'secondary', reachable: boolean, acks: string[] = []) => {
      const answer = await api.call('POST', '/v1/node/heartbeat', token, {
        incarnation: 1,
        seq: ++seq,
        epoch,
        role,
        peer: { reachable },
        acks,
      });
      expect(answer.status, answer.text).toBe(200);
      return answer.body as HeartbeatAnswer;
    },
    claim: async (epoch: number, reason: 'startup' | 'peer-lost' | 'operator') => {
      const answer = await api.call('POST', '/v1/node/claim', token, { incarnation: 1, seq: ++seq, epoch, reason });
      expect(answer.status, answer.text).toBe(200);
      return answer.body as { granted: boolean; epoch: number; reason?: string };
    },
    token,
  };
}

/** The site's two nodes enrolled with their codes (setUpReseller's), as agents. */
export async function enrolledAgents(api: TestApi, codes: Record<string, string>) {
  const agent = async (nodeId: string) => {
    const enrolled = await api.call('POST', '/v1/node/enroll', undefined, { code: codes[nodeId], nodeId });
    expect(enrolled.status, enrolled.text).toBe(200);
    return agentAt(api, (enrolled.body as { token: string }).token);
  };
  return { a: await agent('node-a'), b: await agent('node-b') };
}
