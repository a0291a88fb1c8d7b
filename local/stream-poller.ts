import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { lambdaContext } from './api-gateway-event.ts';

type Attribute = Record<string, unknown>;

/**
 * The streams client reads an empty map (`{"M":{}}` on the wire) back as `{}`, which no
 * unmarshaller takes (an empty list stays `{"L":[]}`): give such values back their type, so that
 * the handler sees the images as Lambda would.
 */
function restoreEmptyMaps(value: Attribute): Attribute {
  if (Object.keys(value).length === 0) return { M: {} };
  if (value.M && typeof value.M === 'object') {
    return { M: Object.fromEntries(Object.entries(value.M as Record<string, Attribute>).map(([k, v]) => [k, restoreEmptyMaps(v)])) };
  }
  if (Array.isArray(value.L)) return { L: (value.L as Attribute[]).map(restoreEmptyMaps) };
  return value;
}

function restoreImage(image: Record<string, Attribute> | undefined): Record<string, Attribute> | undefined {
  return image && Object.fromEntries(Object.entries(image).map(([k, v]) => [k, restoreEmptyMaps(v)]));
}

function asLambdaRecord(record: _Record): unknown {
  const change = record.dynamodb;
  return {
    ...record,
    dynamodb: change && {
      ...change,
      NewImage: restoreImage(change.NewImage as Record<string, Attribute> | undefined),
      OldImage: restoreImage(change.OldImage as Record<string, Attribute> | undefined),
    },
  };
}

export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

export interface StreamPoller {
  /** Resolves once every record written before the call has been handed to the handler (tests wait on it). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What Lambda's event source mapping does in AWS, for DynamoDB Local: reads the table's stream
 * from its oldest record, shard by shard, and hands the records to the same handler in batches
 * in the same event shape. A batch the handler reports failed is handed again (from the failed
 * record) until it succeeds, so no change is skipped; the handler makes repeats harmless.
 */
export async function startStreamPoller(options: {
  client: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  tableName: string;
  handler: StreamHandler;
  functionName?: string;
  intervalMs?: number;
}): Promise<StreamPoller> {
  const { client, streams, tableName, handler } = options;
  const intervalMs = options.intervalMs ?? 200;
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${tableName} has no stream`);

  const iterators = new Map<string, string | null>();
  // An object, not a `let`: the loop reads what stop() writes later.
  const run = { stopped: false };
  // stop() cuts a read of the stream under way short: the engine is stopped next.
  const abort = new AbortController();
  const abortable = { abortSignal: abort.signal };
  // Passes run one at a time (the loop's and drain's), so each shard iterator is used once.
  let chain: Promise<number> = Promise.resolve(0);
  const nextPass = (): Promise<number> => {
    chain = chain.then(pass).catch((error: unknown) => {
      // A pass cut short by stop() is no failure.
      if (!run.stopped) console.error('stream poller: a pass failed; trying again', error);
      return 0;
    });
    return chain;
  };

  async function deliver(records: _Record[]): Promise<void> {
    let pending = records;
    while (pending.length > 0 && !run.stopped) {
      const event = { Records: pending.map(asLambdaRecord) } as DynamoDBStreamEvent;
      const context = lambdaContext(options.functionName ?? 'tiebreak-publisher', `stream-${String(Date.now())}`);
      const result = await handler(event, context).catch((): DynamoDBBatchResponse => ({
        batchItemFailures: [{ itemIdentifier: pending[0]?.dynamodb?.SequenceNumber ?? '' }],
      }));
      const failed = result.batchItemFailures[0]?.itemIdentifier;
      if (failed === undefined) return;
      pending = pending.slice(
        Math.max(
          0,
          pending.findIndex((r) => r.dynamodb?.SequenceNumber === failed),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /** One pass over every open shard; the number of records handed on. */
  async function pass(): Promise<number> {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }), abortable);
    for (const shard of StreamDescription?.Shards ?? []) {
      if (shard.ShardId && !iterators.has(shard.ShardId)) {
        const { ShardIterator } = await streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
          abortable,
        );
        iterators.set(shard.ShardId, ShardIterator ?? null);
      }
    }
    let handed = 0;
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      const read = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }), abortable).catch((error: unknown) => {
        // DynamoDB Local refuses an iterator taken on a shard while it was still empty once records
        // arrive (TrimmedDataAccessException): take a new one from the oldest record next pass. The
        // handler makes records handed twice harmless.
        if (error instanceof Error && (error.name === 'TrimmedDataAccessException' || error.name === 'ExpiredIteratorException'))
          return undefined;
        throw error;
      });
      if (!read) {
        iterators.delete(shardId);
        continue;
      }
      const { Records = [], NextShardIterator } = read;
      await deliver(Records);
      handed += Records.length;
      iterators.set(shardId, NextShardIterator ?? null);
    }
    return handed;
  }

  const loop = (async () => {
    while (!run.stopped) {
      await nextPass();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();

  return {
    async drain() {
      // Two passes that find nothing new: whatever was written before now has been handed on.
      let quiet = 0;
      while (quiet < 2 && !run.stopped) quiet = (await nextPass()) === 0 ? quiet + 1 : 0;
    },
    async stop() {
      run.stopped = true;
      abort.abort();
      await loop;
      streams.destroy();
    },
  };
}

export function streamsClient(endpoint: string): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}
