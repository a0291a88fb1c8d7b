/**
 * The due index's shards (functions/adapters/site-item.ts): a site's index key is its bucket and the
 * shard of its key, stable, so that its moves write one partition per bucket; and the detector's
 * reads of them (functions/adapters/detector-store.ts) on a stub client, for what DynamoDB Local
 * cannot show: a new index still backfilling during the migration.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, test } from 'vitest';
import { DynamoDetectorStore } from '../../functions/adapters/detector-store.ts';
import {
  dueIndexName,
  dueShardOf,
  dueShards,
  itemFromSiteState,
  legacyDueIndexName,
  siteKey,
  siteStateFromItem,
  withDueShard,
} from '../../functions/adapters/site-item.ts';
import { newSite } from '../../functions/domain/site-state.ts';

const alpha = { resellerId: 'acme', siteId: 'alpha' };
const beta = { resellerId: 'acme', siteId: 'beta' };

describe('the due index’s shards', () => {
  test('a site’s shard is a stable function of its key, within 0 … S-1', () => {
    const shard = dueShardOf(alpha);
    expect(dueShardOf({ ...alpha })).toBe(shard);
    expect(shard).toBeGreaterThanOrEqual(0);
    expect(shard).toBeLessThan(dueShards());
    expect(Number.isInteger(shard)).toBe(true);
  });

  test('two sites with different keys land in different shards', () => {
    expect(dueShardOf(alpha)).not.toBe(dueShardOf(beta));
  });

  test('the sites of a fleet spread over the shards: none holds more than twice its share', () => {
    const counts = new Map<number, number>();
    const sites = 64 * dueShards();
    for (let i = 0; i < sites; i++) {
      const shard = dueShardOf({ resellerId: `r${String(i % 97)}`, siteId: `site-${String(i)}` });
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }
    expect(counts.size).toBe(dueShards());
    expect(Math.max(...counts.values())).toBeLessThan(2 * 64);
  });

  test('a write that sets `due` also sets the index key, `<bucket>#<shard of the site>`', () => {
    const plan = withDueShard(alpha, { guard: { op: 'and', of: [] }, updates: [{ op: 'set', path: ['due'], value: 42 }] });
    expect(plan.updates).toContainEqual({ op: 'set', path: ['dueShard'], value: `42#${String(dueShardOf(alpha))}` });
    const untouched = { guard: { op: 'and' as const, of: [] }, updates: [{ op: 'increment' as const, path: ['rev'], by: 1 }] };
    expect(withDueShard(alpha, untouched)).toEqual(untouched);
  });

  test('a state item carries the index key beside `due`, and reads back without it', () => {
    const state = { ...newSite({ ...alpha, nodeIds: ['node-a', 'node-b'] }), due: 7 };
    const item = itemFromSiteState(state);
    expect(item).toMatchObject({ ...siteKey(alpha), due: 7, dueShard: `7#${String(dueShardOf(alpha))}` });
    expect(siteStateFromItem(item)).toEqual(state);
    expect(itemFromSiteState(newSite({ ...alpha, nodeIds: ['node-a'] }))).not.toHaveProperty('dueShard');
  });
});

/** A document client that answers Queries from `answer` and records them. */
function stubDoc(answer: (input: { IndexName: string; value: unknown }) => Record<string, unknown>[] | Error) {
  const queries: { IndexName: string; value: unknown }[] = [];
  const doc = {
    send(command: { input: { IndexName: string; ExpressionAttributeValues: Record<string, unknown> } }) {
      const query = { IndexName: command.input.IndexName, value: command.input.ExpressionAttributeValues[':key'] };
      queries.push(query);
      const result = answer(query);
      return result instanceof Error ? Promise.reject(result) : Promise.resolve({ Items: result });
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, queries };
}

const keysOf = (site: { resellerId: string; siteId: string }) => ({ pk: siteKey(site).pk, sk: 'STATE' });

async function listed(store: DynamoDetectorStore, bucket: number): Promise<string[]> {
  const sites: string[] = [];
  for await (const page of store.sitesIn(bucket)) sites.push(...page.map((s) => s.siteId));
  return sites.sort();
}

describe('the detector’s reads of the due index', () => {
  test('sharded: every shard of the bucket, once, and the sites they hold', async () => {
    const { doc, queries } = stubDoc(({ value }) => {
      if (value === `9#${String(dueShardOf(alpha))}`) return [keysOf(alpha)];
      if (value === `9#${String(dueShardOf(beta))}`) return [keysOf(beta)];
      return [];
    });
    expect(await listed(new DynamoDetectorStore(doc, 't', 'sharded'), 9)).toEqual(['alpha', 'beta']);
    expect(queries.every((q) => q.IndexName === dueIndexName)).toBe(true);
    expect(new Set(queries.map((q) => q.value)).size).toBe(dueShards());
    expect(queries).toHaveLength(dueShards());
  });

  test('both (the migration): a site the old index and its shard both list is listed once', async () => {
    const { doc } = stubDoc(({ IndexName, value }) => {
      if (IndexName === legacyDueIndexName) return [keysOf(alpha), keysOf(beta)];
      return value === `9#${String(dueShardOf(alpha))}` ? [keysOf(alpha)] : [];
    });
    expect(await listed(new DynamoDetectorStore(doc, 't', 'both'), 9)).toEqual(['alpha', 'beta']);
  });

  test('both: the new index still backfilling (DynamoDB refuses to read it) leaves the old one’s sites, which are all of them', async () => {
    const backfilling = Object.assign(new Error('Cannot read from backfilling global secondary index: due-shard-index'), {
      name: 'ValidationException',
    });
    const { doc } = stubDoc(({ IndexName }) => (IndexName === legacyDueIndexName ? [keysOf(alpha)] : backfilling));
    expect(await listed(new DynamoDetectorStore(doc, 't', 'both'), 9)).toEqual(['alpha']);
  });

  test('sharded: any other failure is not swallowed', async () => {
    const { doc } = stubDoc(() => Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(listed(new DynamoDetectorStore(doc, 't', 'sharded'), 9)).rejects.toThrow('throttled');
  });
});
