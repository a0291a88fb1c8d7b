import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import type { WitnessDeps } from '../../functions/adapters/config.ts';
import { signNodeToken } from '../../functions/adapters/node-token.ts';
import { RequestCounter } from '../../functions/adapters/request-counter.ts';
import { siteKey } from '../../functions/adapters/site-item.ts';
import type { Caller } from '../../functions/domain/decision.ts';
import type { WitnessSettings } from '../../functions/domain/settings.ts';
import { newSite, type SitePolicy } from '../../functions/domain/site-state.ts';
import { startLocalStack } from '../../local/local-stack.ts';

/** A test clock: time moves only when the test says so. */
export class TestClock {
  constructor(public ms = 1_800_000_000_000) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface TestWitness {
  url: string;
  deps: WitnessDeps;
  clock: TestClock;
  /** Counts every request the witness's DynamoDB client sends, by command name. */
  requests: RequestCounter;
  tableName: string;
  /** Creates a site with the given nodes and returns a caller (and its token) per node. */
  site(nodeIds?: string[], policy?: SitePolicy): Promise<{ resellerId: string; siteId: string; nodes: Record<string, TestNode> }>;
  /** The raw stored item of a site, as DynamoDB holds it. */
  rawItem(key: { resellerId: string; siteId: string }): Promise<Record<string, unknown> | undefined>;
  post(path: string, token: string | undefined, body: unknown): Promise<{ status: number; body: unknown; headers: Headers }>;
  close(): Promise<void>;
}

export interface TestNode {
  caller: Caller;
  token: string;
}

/**
 * The witness as `npm start` serves it (same routes, same HTTP translation, same handlers) on a
 * fresh table of the test run's DynamoDB Local, with a test clock.
 */
export async function startWitness(options: { settings?: Partial<WitnessSettings> } = {}): Promise<TestWitness> {
  const clock = new TestClock();
  const stack = await startLocalStack({
    clock: clock.now,
    dynamodb: { endpoint: inject('dynamoEndpoint') },
    tableName: `witness-${randomBytes(6).toString('hex')}`,
    ...(options.settings ? { settings: options.settings } : {}),
  });
  const { doc, tableName, tokenKey, witness: deps } = stack;
  const requests = new RequestCounter().attach(stack.dynamo);
  const local = { url: stack.url, close: () => stack.stop() };
  let sites = 0;
  return {
    url: local.url,
    deps,
    clock,
    requests,
    tableName,
    async site(nodeIds = ['node-a', 'node-b'], policy) {
      const resellerId = 'reseller-1';
      const siteId = `site-${++sites}-${randomBytes(3).toString('hex')}`;
      await deps.store.create(newSite({ resellerId, siteId, nodeIds, ...(policy ? { policy } : {}) }));
      const nodes = Object.fromEntries(
        nodeIds.map((nodeId) => {
          const caller = { resellerId, siteId, nodeId, tokenVersion: 1 };
          return [nodeId, { caller, token: signNodeToken(tokenKey, caller) }];
        }),
      );
      return { resellerId, siteId, nodes };
    },
    async rawItem(key) {
      const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: siteKey(key), ConsistentRead: true }));
      return Item;
    },
    async post(path, token, body) {
      const response = await fetch(`${local.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: response.headers };
    },
    async close() {
      await local.close();
    },
  };
}
