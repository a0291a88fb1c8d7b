import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { HttpError } from '../handlers/http-error.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  cursor?: string | undefined;
  limit?: number | undefined;
}

const defaultLimit = 50;

/**
 * A cursor is the query's LastEvaluatedKey, base64url JSON. It is not secret: a cursor is only
 * accepted for the partition and key range the caller is already querying, so a forged one can
 * at most skip forward within the caller's own records.
 */
function decodeCursor(cursor: string, pk: string, skPrefix: string): Record<string, string> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const valid =
    typeof key === 'object' &&
    key !== null &&
    Object.keys(key).length === 2 &&
    (key as Record<string, unknown>).pk === pk &&
    typeof (key as Record<string, unknown>).sk === 'string' &&
    ((key as Record<string, string>).sk ?? '').startsWith(skPrefix);
  if (!valid) throw new HttpError(400, 'invalid-body', 'the cursor is not one this list gave', [{ path: 'cursor', message: 'unknown cursor' }]);
  return key as Record<string, string>;
}

/** One page of the items of `pk` whose sort key starts with `skPrefix` (and lies in `range`, if given). */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  skPrefix: string,
  request: PageRequest,
  range?: { from: string; to: string },
): Promise<Page<Record<string, unknown>>> {
  const input: QueryCommandInput = {
    TableName: tableName,
    KeyConditionExpression: range ? 'pk = :pk AND sk BETWEEN :from AND :to' : 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: range ? { ':pk': pk, ':from': range.from, ':to': range.to } : { ':pk': pk, ':prefix': skPrefix },
    Limit: request.limit ?? defaultLimit,
    ConsistentRead: true,
    ...(request.cursor ? { ExclusiveStartKey: decodeCursor(request.cursor, pk, skPrefix) } : {}),
  };
  const { Items = [], LastEvaluatedKey } = await doc.send(new QueryCommand(input));
  return {
    items: Items,
    nextCursor: LastEvaluatedKey ? Buffer.from(JSON.stringify(LastEvaluatedKey)).toString('base64url') : null,
  };
}
