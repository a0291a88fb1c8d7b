import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import { unlessConditionFails } from './conditions.ts';
import { logger } from './logger.ts';
import { dueIndexName, dueShardAttribute, dueShardKey, dueShards, legacyDueIndexName, type SiteKey } from './site-item.ts';
import { detectorCursorKey, siteOfPk, sitePkPrefix, siteStateSk } from './tenancy-items.ts';

/** What the silence detector reads and writes besides the sites' state items (those go through the SiteStore). */
export interface DetectorStore {
  /** The last bucket a run finished, or undefined before the first run. */
  cursor(): Promise<number | undefined>;
  /** Moves the cursor from `from` to `to`; false when another run moved it first (two runs overlap: one stops). */
  advance(from: number | undefined, to: number): Promise<boolean>;
  /** The sites the due index files under `bucket` (every shard of it), a page at a time; each once. */
  sitesIn(bucket: number): AsyncIterable<SiteKey[]>;
}

/**
 * Which due index the detector reads. `both` is the migration's release: the old index (by bucket
 * alone) is complete, since every write still sets `due`, while the sharded one fills (sites heard
 * since the deploy) or is still backfilling; a site both list is checked once. The next release
 * drops the old index and reads `sharded` only. `legacy` is the old layout, for the bench.
 */
export type DueIndexReads = 'sharded' | 'both' | 'legacy';
export const dueIndexReads: DueIndexReads = 'both';

/** Shards queried at once: S Queries a bucket, most of them empty, each a round trip. */
const shardConcurrency = 32;

const Cursor = z.object({ bucket: z.number() });
const IndexKey = z.object({ pk: z.string().check(z.startsWith(sitePkPrefix)), sk: z.literal(siteStateSk) });

export class DynamoDetectorStore implements DetectorStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly reads: DueIndexReads = dueIndexReads,
  ) {}

  async cursor(): Promise<number | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: detectorCursorKey, ConsistentRead: true }));
    return Item ? Cursor.parse(Item).bucket : undefined;
  }

  async advance(from: number | undefined, to: number): Promise<boolean> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: detectorCursorKey,
      UpdateExpression: 'SET #bucket = :to',
      ConditionExpression: from === undefined ? 'attribute_not_exists(pk)' : '#bucket = :from',
      ExpressionAttributeNames: { '#bucket': 'bucket' },
      ExpressionAttributeValues: { ':to': to, ...(from === undefined ? {} : { ':from': from }) },
    });
    return (await unlessConditionFails(this.doc.send(update))) !== undefined;
  }

  async *sitesIn(bucket: number): AsyncIterable<SiteKey[]> {
    const seen = new Set<string>();
    const fresh = (pks: string[]): SiteKey[] => pks.filter((pk) => !seen.has(pk) && seen.add(pk)).map(siteOfPk);
    if (this.reads !== 'sharded') {
      for await (const page of this.#pages(legacyDueIndexName, 'due', bucket)) yield fresh(page);
    }
    if (this.reads === 'legacy') return;
    // Shards a window at a time, each paginated to its end, so that a bucket's many empty shards
    // cost round trips in parallel while the pages held stay bounded by the window.
    const shards = dueShards();
    for (let first = 0; first < shards; first += shardConcurrency) {
      const window = Array.from({ length: Math.min(shardConcurrency, shards - first) }, (_, i) => dueShardKey(bucket, first + i));
      let pages: string[][];
      try {
        pages = (await Promise.all(window.map((key) => this.#allPages(dueIndexName, dueShardAttribute, key)))).flat();
      } catch (error) {
        if (this.reads === 'both' && isBackfilling(error)) {
          // Just deployed: DynamoDB reads no index before it is ACTIVE. The old index listed every site.
          logger.warn('the sharded due index is not readable yet (backfilling): read the old index alone', { bucket });
          return;
        }
        throw error;
      }
      for (const page of pages) {
        const sites = fresh(page);
        if (sites.length > 0) yield sites;
      }
    }
  }

  async #allPages(indexName: string, attribute: string, key: string | number): Promise<string[][]> {
    const pages: string[][] = [];
    for await (const page of this.#pages(indexName, attribute, key)) pages.push(page);
    return pages;
  }

  /** The pks one index lists under one key value, a page at a time. */
  async *#pages(indexName: string, attribute: string, key: string | number): AsyncIterable<string[]> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: indexName,
          KeyConditionExpression: '#key = :key',
          ExpressionAttributeNames: { '#key': attribute },
          ExpressionAttributeValues: { ':key': key },
          ExclusiveStartKey: start,
        }),
      );
      yield (page.Items ?? []).map((item) => IndexKey.parse(item).pk);
      start = page.LastEvaluatedKey;
    } while (start);
  }
}

/** DynamoDB's answer to a Query of an index that is still being created ("Cannot read from backfilling global secondary index"). */
function isBackfilling(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException' && /backfill/i.test(error.message);
}
