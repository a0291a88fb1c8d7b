import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import { unlessConditionFails } from './conditions.ts';
import { dueIndexName, type SiteKey, siteStateSk } from './site-item.ts';
import { detectorCursorKey } from './tenancy-items.ts';

/** What the silence detector reads and writes besides the sites' state items (those go through the SiteStore). */
export interface DetectorStore {
  /** The last bucket a run finished, or undefined before the first run. */
  cursor(): Promise<number | undefined>;
  /** Moves the cursor from `from` to `to`; false when another run moved it first (two runs overlap: one stops). */
  advance(from: number | undefined, to: number): Promise<boolean>;
  /** The sites the due index files under `bucket`, a page at a time. */
  sitesIn(bucket: number): AsyncIterable<SiteKey[]>;
}

const Cursor = z.object({ bucket: z.number() });
const IndexKey = z.object({ pk: z.string().check(z.startsWith('SITE#')), sk: z.literal(siteStateSk) });

/** `SITE#<reseller>#<site>`: identifiers hold no `#` (protocol/ids.ts). */
function siteOf(pk: string): SiteKey {
  const [, resellerId = '', siteId = ''] = pk.split('#');
  return { resellerId, siteId };
}

export class DynamoDetectorStore implements DetectorStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
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
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: dueIndexName,
          KeyConditionExpression: '#due = :bucket',
          ExpressionAttributeNames: { '#due': 'due' },
          ExpressionAttributeValues: { ':bucket': bucket },
          ExclusiveStartKey: start,
        }),
      );
      yield (page.Items ?? []).map((item) => siteOf(IndexKey.parse(item).pk));
      start = page.LastEvaluatedKey;
    } while (start);
  }
}
