import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { ensureTable } from '../../functions/adapters/table.ts';
import { documentClient, localDynamoClientConfig } from '../../functions/adapters/config.ts';

export async function freshTable(prefix: string): Promise<{ client: DynamoDBClient; doc: DynamoDBDocumentClient; tableName: string }> {
  const client = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
  const doc = documentClient(client);
  const tableName = `${prefix}-${randomBytes(6).toString('hex')}`;
  await ensureTable(client, tableName);
  return { client, doc, tableName };
}
