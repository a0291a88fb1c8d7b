import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import { ttlAttribute } from './tenancy-items.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  cursor?: string | undefined;
  limit?: number | undefined;
}

const defaultLimit = 50;

/** A cursor this list never gave (forged, or from another list): the caller's mistake, answered 400. */
export class InvalidCursorError extends Error {
  constructor() {
    super('the cursor is not one this list gave');
    this.name = 'InvalidCursorError';
  }
}

const Cursor = z.strictObject({ pk: z.string(), sk: z.string() });

/**
 * A cursor is the query's LastEvaluatedKey, base64url JSON. It is not secret: it is accepted only
 * for the partition and key range the caller is already querying, so a forged one can at most
 * skip forward within the caller's own records.
 */
function decodeCursor(cursor: string, pk: string, skPrefix: string, range?: { from: string; to: string }): { pk: string; sk: string } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const key = Cursor.safeParse(json);
  const within = (sk: string) => sk.startsWith(skPrefix) && (!range || (range.from <= sk && sk <= range.to));
  if (!key.success || key.data.pk !== pk || !within(key.data.sk)) throw new InvalidCursorError();
  return key.data;
}

/** One page of the items of `pk` whose sort key starts with `skPrefix` (and lies in `range`, if given). */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  skPrefix: string,
  request: PageRequest,
  range?: { from: string; to: string },
  options: {
    newestFirst?: boolean;
    where?: Record<string, string>;
    /**
     * Now, in ms: items whose `expiresAt` (the table's TTL, epoch seconds) has passed are left out.
     * DynamoDB deletes expired items only some time later (up to days), DynamoDB Local never.
     */
    liveAt?: number;
  } = {},
): Promise<Page<Record<string, unknown>>> {
  // A filter on plain attributes: `#w0 = :w0 AND …` (a page may then hold fewer items than the limit).
  const where = Object.entries(options.where ?? {});
  const filters = where.map((_, i) => `#w${String(i)} = :w${String(i)}`);
  const names: Record<string, string> = Object.fromEntries(where.map(([name], i) => [`#w${String(i)}`, name]));
  const values: Record<string, unknown> = Object.fromEntries(where.map(([, value], i) => [`:w${String(i)}`, value]));
  if (options.liveAt !== undefined) {
    filters.push(`(attribute_not_exists(#ttl) OR #ttl > :liveAt)`);
    names['#ttl'] = ttlAttribute;
    values[':liveAt'] = Math.floor(options.liveAt / 1000);
  }
  const input: QueryCommandInput = {
    TableName: tableName,
    KeyConditionExpression: range ? 'pk = :pk AND sk BETWEEN :from AND :to' : 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: {
      ...(range ? { ':pk': pk, ':from': range.from, ':to': range.to } : { ':pk': pk, ':prefix': skPrefix }),
      ...values,
    },
    ...(filters.length > 0 ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
    ScanIndexForward: !options.newestFirst,
    Limit: request.limit ?? defaultLimit,
    ConsistentRead: true,
    ...(request.cursor ? { ExclusiveStartKey: decodeCursor(request.cursor, pk, skPrefix, range) } : {}),
  };
  const { Items = [], LastEvaluatedKey } = await doc.send(new QueryCommand(input));
  return {
    items: Items,
    nextCursor: LastEvaluatedKey ? Buffer.from(JSON.stringify(LastEvaluatedKey)).toString('base64url') : null,
  };
}
