import { performance } from 'node:perf_hooks';
import { type AttributeValue, ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { itemBytes } from './item-size.ts';
import { dynamoReadUnitBytes, dynamoWriteUnitBytes } from './prices.ts';

/** One request to an item, as DynamoDB bills it. */
export interface ItemRequest {
  command: string;
  /** The condition held (or there was none): the write applied. */
  applied: boolean;
  /** Item size before and after (bytes, DynamoDB's rules: `itemBytes`); 0 when there was no item. */
  oldBytes: number;
  newBytes: number;
  /** Capacity units from the item sizes: WRU = ceil(max(old, new) / 1 KB), RRU = ceil(size / 4 KB). */
  unitsBySize: number;
  /** Capacity units the engine reported for the table itself (`ReturnConsumedCapacity: 'INDEXES'`), if it did. */
  unitsReported: number | undefined;
  /**
   * Write units the engine reported for the table's indexes (0 if none, or none reported): a write
   * that changes an index key writes the index too (the due index: 1 when `due` first appears, 2
   * when it changes, 0 when it stays; functions/adapters/table.ts). Not derivable from item sizes.
   */
  indexUnitsReported: number;
  /** Wall time of the request, from this client to the engine and back. */
  latencyMs: number;
  /** The item's sort key (a Query: its key condition's first value), to tell items apart (state, audit trail, tracker). */
  sk: string | undefined;
}

/** Set on a request's context when the meter, not the caller, asked for ReturnValues ALL_NEW. */
const addedReturnValues = 'benchMeterAddedReturnValues';
const writeCommands = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
const readCommands = new Set(['GetItemCommand', 'QueryCommand']);

/**
 * Capacity units of every single-item request one client sends, per attempt (as billed): it asks
 * for `ReturnConsumedCapacity: 'INDEXES'` on each (answers gain a field; nothing else changes:
 * the table's units and each index's, apart) and
 * also works the units out from item sizes, because a failed conditional write is billed but
 * reports nothing. Sizes before a write are known because every write to the measured items goes
 * through this client, one at a time: the size after each request is kept per key. A Query is
 * metered as one read of all it returned: ceil(total / 4 KB), at least one unit (half of it
 * eventually consistent). Any other command (batch, scan, transaction) is listed in `unmetered` so
 * that it cannot pass unseen.
 */
export class CapacityMeter {
  readonly requests: ItemRequest[] = [];
  readonly unmetered = new Map<string, number>();
  readonly #sizes = new Map<string, number>();

  attach(client: DynamoDBClient): this {
    client.middlewareStack.add(
      (next, context) => (args) => {
        const name = context.commandName ?? 'unknown';
        if (writeCommands.has(name) || readCommands.has(name)) {
          const input = args.input as Record<string, unknown>;
          input.ReturnConsumedCapacity ??= 'INDEXES';
          // The item's size after an update is in its answer only with ALL_NEW: asked for, and taken
          // out of the answer again below, so that the caller sees what it asked for.
          if (name === 'UpdateItemCommand' && input.ReturnValues === undefined) {
            input.ReturnValues = 'ALL_NEW';
            context[addedReturnValues] = true;
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'benchReturnConsumedCapacity' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? 'unknown';
        if (!writeCommands.has(name) && !readCommands.has(name)) {
          this.unmetered.set(name, (this.unmetered.get(name) ?? 0) + 1);
          return next(args);
        }
        // Here, after serialization, the input is the low-level one (the document client has marshalled it).
        const input = args.input as Input;
        const started = performance.now();
        try {
          const result = await next(args);
          const output = result.output as Output;
          this.#record(name, input, output, undefined, performance.now() - started);
          if (context[addedReturnValues] === true) delete output.Attributes;
          return result;
        } catch (error) {
          this.#record(name, input, undefined, error, performance.now() - started);
          throw error;
        }
      },
      // Beside the request counter: after the retry middleware, so that each attempt is metered.
      { step: 'finalizeRequest', priority: 'low', name: 'benchCapacityMeter' },
    );
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.unmetered.clear();
  }

  writes(): ItemRequest[] {
    return this.requests.filter((r) => writeCommands.has(r.command));
  }

  reads(): ItemRequest[] {
    return this.requests.filter((r) => readCommands.has(r.command));
  }

  #record(command: string, input: Input, output: Output | undefined, error: unknown, latencyMs: number): void {
    const keyAttributes = input.Key ?? (input.Item ? { pk: input.Item.pk, sk: input.Item.sk } : undefined);
    // A Query of the project's (pagination.ts): its sort key range starts at `:from`, or it names a `:prefix`.
    const values = input.ExpressionAttributeValues;
    const sk = keyAttributes?.sk?.S ?? values?.[':from']?.S ?? values?.[':prefix']?.S;
    const key = JSON.stringify(keyAttributes ?? null);
    const known = this.#sizes.get(key) ?? 0;
    const consumed = output?.ConsumedCapacity;
    const indexUnits = Object.values(consumed?.GlobalSecondaryIndexes ?? {}).reduce((sum, index) => sum + (index.CapacityUnits ?? 0), 0);
    const reported =
      consumed?.Table?.CapacityUnits ?? (consumed?.CapacityUnits === undefined ? undefined : consumed.CapacityUnits - indexUnits);
    if (output === undefined) {
      if (!(error instanceof ConditionalCheckFailedException)) return; // not billed as a write: nothing to meter
      // A failed condition is billed on the item as it stands, which the store asks back (ALL_OLD).
      const oldBytes = error.Item ? itemBytes(error.Item) : known;
      this.#sizes.set(key, oldBytes);
      this.requests.push({
        command,
        applied: false,
        oldBytes,
        newBytes: oldBytes,
        unitsBySize: writeUnits(oldBytes),
        unitsReported: undefined,
        indexUnitsReported: 0,
        latencyMs,
        sk,
      });
      return;
    }
    if (command === 'QueryCommand' || readCommands.has(command)) {
      // A query is charged for the items it returns together, a read for its one item.
      const items = command === 'QueryCommand' ? (output.Items ?? []) : output.Item ? [output.Item] : [];
      const bytes = items.reduce((sum, item) => sum + sizeOf(item), 0);
      if (command !== 'QueryCommand' && output.Item) this.#sizes.set(key, bytes);
      const units = Math.max(1, Math.ceil(bytes / dynamoReadUnitBytes)) * (input.ConsistentRead ? 1 : 0.5);
      this.requests.push({
        command,
        applied: true,
        oldBytes: bytes,
        newBytes: bytes,
        unitsBySize: units,
        unitsReported: reported,
        indexUnitsReported: 0,
        latencyMs,
        sk,
      });
      return;
    }
    let newBytes: number;
    if (command === 'PutItemCommand') newBytes = input.Item ? itemBytes(input.Item) : 0;
    else if (command === 'DeleteItemCommand') newBytes = 0;
    else if (output.Attributes) newBytes = sizeOf(output.Attributes);
    else throw new Error('an UpdateItem that returned no attributes: the meter cannot size the item after it');
    this.#sizes.set(key, newBytes);
    this.requests.push({
      command,
      applied: true,
      oldBytes: known,
      newBytes,
      unitsBySize: writeUnits(Math.max(known, newBytes)),
      unitsReported: reported,
      indexUnitsReported: indexUnits,
      latencyMs,
      sk,
    });
  }
}

interface Input {
  Key?: Record<string, AttributeValue>;
  Item?: Record<string, AttributeValue>;
  ConsistentRead?: boolean;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

interface Output {
  Item?: Record<string, unknown>;
  Items?: Record<string, unknown>[];
  Attributes?: Record<string, unknown>;
  ConsumedCapacity?: {
    CapacityUnits?: number;
    Table?: { CapacityUnits?: number };
    GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
  };
}

function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / dynamoWriteUnitBytes));
}

/**
 * An item from an answer, in bytes. The document client has unmarshalled it by the time this
 * middleware sees it (its unmarshalling wraps the deserializer), so it is marshalled back the same
 * way: strings, numbers (same digits), maps, lists, booleans and nulls come back as they were.
 */
function sizeOf(item: Record<string, unknown>): number {
  const raw = typeof item.pk === 'string' ? marshall(item, { removeUndefinedValues: true }) : (item as Record<string, AttributeValue>);
  return itemBytes(raw);
}
