import { ConditionalCheckFailedException, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ensureTable } from '../../functions/adapters/table.ts';
import { freshTable } from '../support/dynamo.ts';

describe('DynamoDB Local harness', () => {
  it('creates an active table keyed by pk/sk with a NEW_AND_OLD_IMAGES stream', async () => {
    const { client, tableName } = await freshTable('harness');

    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));

    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(Table?.LatestStreamArn).toBeDefined();
  });

  it('reports created the first time and existed the second time', async () => {
    const { client, tableName } = await freshTable('harness');

    await expect(ensureTable(client, `${tableName}-again`)).resolves.toBe('created');
    await expect(ensureTable(client, `${tableName}-again`)).resolves.toBe('existed');
  });

  it('accepts a put guarded by attribute_not_exists(pk) once and rejects the second', async () => {
    const { doc, tableName } = await freshTable('harness');
    const put = new PutCommand({
      TableName: tableName,
      Item: { pk: 'pair#1', sk: 'lease', holder: 'node-a' },
      ConditionExpression: 'attribute_not_exists(pk)',
    });

    await expect(doc.send(put)).resolves.toBeDefined();
    await expect(doc.send(put)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});
