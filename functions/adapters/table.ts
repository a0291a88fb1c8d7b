import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type GlobalSecondaryIndex,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { incidentIndexKeys, incidentIndexName } from './incident-store.ts';
import { dueIndexName, dueShardAttribute, legacyDueIndexName } from './site-item.ts';
import { ttlAttribute } from './tenancy-items.ts';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: dueShardAttribute, AttributeType: 'S' },
      { AttributeName: 'due', AttributeType: 'N' },
      { AttributeName: incidentIndexKeys.partition, AttributeType: 'S' },
      { AttributeName: incidentIndexKeys.sort, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    // Sparse (only state items carry `dueShard`) and keys only: an update that leaves it as it was
    // writes nothing to it, so a live site costs it 2 writes a bucket (out of the old bucket, into
    // the new one), not one a heartbeat. Keyed `<bucket>#<shard>`, not by bucket alone, so that no
    // partition takes the whole fleet's moves (site-item.ts, dueShards).
    GlobalSecondaryIndexes: [
      {
        IndexName: dueIndexName,
        KeySchema: [
          { AttributeName: dueShardAttribute, KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      // The first due index, by bucket alone (one hot partition): kept for this release only, while
      // the sharded one fills; CloudFormation cannot drop it and add that one in a single update.
      // Deleting it (and `due` from AttributeDefinitions) is the next release's whole change.
      {
        IndexName: legacyDueIndexName,
        KeySchema: [
          { AttributeName: 'due', KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      // A reseller's incidents, newest first: sparse (only trackers with an incident carry its keys), rare writes.
      {
        IndexName: incidentIndexName,
        KeySchema: [
          { AttributeName: incidentIndexKeys.partition, KeyType: 'HASH' },
          { AttributeName: incidentIndexKeys.sort, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}

export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'existed'> {
  let outcome: 'created' | 'existed' = 'created';
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    outcome = 'existed';
  }
  // The SDK's default first back-off is 20 s; a new table is usually ACTIVE within a few seconds.
  await waitUntilTableExists({ client, minDelay: 1, maxDelay: 5, maxWaitTime: 120 }, { TableName: tableName });
  if (outcome === 'existed') await ensureIndexes(client, tableName);
  await ensureTimeToLive(client, tableName);
  return outcome;
}

/**
 * TTL on `expiresAt`, as the stack's table has it (lib/site-table.ts). DynamoDB Local accepts it but
 * does not delete expired items promptly: the lists that matter filter them out on read.
 */
async function ensureTimeToLive(client: DynamoDBClient, tableName: string): Promise<void> {
  const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl?.AttributeName === ttlAttribute && (ttl.TimeToLiveStatus === 'ENABLED' || ttl.TimeToLiveStatus === 'ENABLING')) return;
  await client.send(
    new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }),
  );
}

/** A table kept from before an index was added (`npm start`'s data folder) gets it, as CloudFormation would add it. */
async function ensureIndexes(client: DynamoDBClient, tableName: string): Promise<void> {
  const definition = tableDefinition(tableName);
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const missing = (definition.GlobalSecondaryIndexes ?? []).filter((index) => !present.has(index.IndexName));
  for (const index of missing) await addIndex(client, tableName, index, definition);
}

async function addIndex(
  client: DynamoDBClient,
  tableName: string,
  index: GlobalSecondaryIndex,
  definition: CreateTableCommandInput,
): Promise<void> {
  const names = new Set(index.KeySchema?.map((key) => key.AttributeName));
  await client.send(
    new UpdateTableCommand({
      TableName: tableName,
      AttributeDefinitions: definition.AttributeDefinitions?.filter((a) => names.has(a.AttributeName)),
      GlobalSecondaryIndexUpdates: [{ Create: index }],
    }),
  );
  for (let waited = 0; waited < 120_000; waited += 500) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName)?.IndexStatus === 'ACTIVE') return;
    await sleep(500);
  }
  throw new Error(`index ${String(index.IndexName)} of table ${tableName} did not become active within 2 minutes`);
}
