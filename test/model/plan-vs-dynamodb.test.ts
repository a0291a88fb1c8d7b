/**
 * The plan language against DynamoDB: a random guard or random updates over a random item,
 * evaluated by the pure `holds` / `applyUpdates` and, compiled by `compilePlan`, by DynamoDB Local.
 * The request-sequence model (`pure-vs-store.test.ts`) only reaches the guards and updates today's
 * rules build; this one covers the language itself (missing attributes, NULLs, values of another
 * type, paths through scalars, missing map keys), so a new rule cannot meet a semantic gap first.
 */
import { ConditionalCheckFailedException, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { compilePlan } from '../../functions/adapters/dynamodb-plan.ts';
import { applyUpdates, type Guard, holds, type Path, type Scalar, type Update } from '../../functions/domain/plan.ts';
import { freshTable } from '../support/dynamo.ts';

const key = { pk: 'PLAN', sk: 'ITEM' } as const;

// Attribute names the generated items and paths share, so that paths often exist and sometimes don't.
const attribute = fc.constantFrom('x', 'y', 'z');
const scalar: fc.Arbitrary<Scalar> = fc.constantFrom<Scalar>('a', 'b', '', 0, 1, 2, -1, 9_007_199_254_740_991, true, false, null);
const number = fc.constantFrom(-1, 0, 1, 2, 3);
const map = (value: fc.Arbitrary<unknown>) => fc.dictionary(attribute, value, { maxKeys: 3 });
const value: fc.Arbitrary<unknown> = fc.oneof(scalar, map(fc.oneof(scalar, map(scalar))));
const item = map(value);
const path: fc.Arbitrary<Path> = fc.array(attribute, { minLength: 1, maxLength: 3 });

const guard: fc.Arbitrary<Guard> = fc.letrec<{ guard: Guard }>((tie) => ({
  guard: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ op: fc.constantFrom('eq' as const, 'ne' as const), path, value: scalar }),
    fc.record({ op: fc.constantFrom('lt' as const, 'gt' as const), path, value: number }),
    fc.record({ op: fc.constant('missing' as const), path }),
    fc.record({ op: fc.constantFrom('and' as const, 'or' as const), of: fc.array(tie('guard'), { minLength: 1, maxLength: 3 }) }),
  ),
})).guard;

const update: fc.Arbitrary<Update> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path, value }),
  fc.record({ op: fc.constant('setIfMissing' as const), path, value: scalar }),
  fc.record({ op: fc.constant('increment' as const), path, by: fc.constantFrom(-1, 1, 2) }),
  fc.record({ op: fc.constant('remove' as const), path }),
);

let doc: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  ({ doc, tableName } = await freshTable('plan'));
});

/** DynamoDB refused the expression or the item's shape (not a failed condition). */
function refused(error: unknown): boolean {
  return error instanceof DynamoDBServiceException && error.name === 'ValidationException';
}

function beyondSafeIntegers(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  return typeof value === 'object' && value !== null && Object.values(value).some(beyondSafeIntegers);
}

async function stored(): Promise<Record<string, unknown>> {
  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return Item!;
}

/** The pure evaluation and DynamoDB's of one guard on one item: true, false. */
async function guardOnBoth(attributes: Record<string, unknown>, g: Guard): Promise<{ pure: boolean; dynamo: boolean }> {
  const itemWithKey = { ...attributes, ...key };
  await doc.send(new PutCommand({ TableName: tableName, Item: itemWithKey }));
  // A write to an attribute no generated path names, so that only the guard decides.
  const compiled = compilePlan({ guard: g, updates: [{ op: 'set', path: ['probe'], value: 1 }] });
  let dynamo: boolean;
  try {
    await doc.send(new UpdateCommand({ TableName: tableName, Key: key, ...compiled }));
    dynamo = true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    dynamo = false;
  }
  return { pure: holds(g, itemWithKey), dynamo };
}

/** The item after the updates on each side, or `refused` where one refuses them. */
async function updatesOnBoth(attributes: Record<string, unknown>, updates: Update[]): Promise<{ pure: unknown; dynamo: unknown }> {
  const itemWithKey = { ...attributes, ...key };
  await doc.send(new PutCommand({ TableName: tableName, Item: itemWithKey }));
  let pure: unknown;
  try {
    pure = applyUpdates(itemWithKey, updates);
  } catch {
    pure = 'refused';
  }
  let dynamo: unknown;
  try {
    // Always true: only the updates decide.
    await doc.send(
      new UpdateCommand({ TableName: tableName, Key: key, ...compilePlan({ guard: { op: 'eq', path: ['sk'], value: key.sk }, updates }) }),
    );
    dynamo = await stored();
  } catch (error) {
    if (!refused(error)) throw error;
    dynamo = 'refused';
  }
  return { pure, dynamo };
}

describe('plans mean the same in memory and on DynamoDB', () => {
  test('a guard holds in memory exactly when DynamoDB accepts its condition', async () => {
    await fc.assert(
      fc.asyncProperty(item, guard, async (attributes, g) => {
        const { pure, dynamo } = await guardOnBoth(attributes, g);
        expect(dynamo, `condition ${compilePlan({ guard: g, updates: [] }).ConditionExpression}`).toBe(pure);
      }),
      { numRuns: 300 },
    );
  });

  test('updates leave the same item in memory and on DynamoDB, or both refuse them', async () => {
    await fc.assert(
      fc.asyncProperty(item, fc.array(update, { minLength: 1, maxLength: 4 }), async (attributes, updates) => {
        const { pure, dynamo } = await updatesOnBoth(attributes, updates);
        // Not modelled: an increment past 2^53 - 1. DynamoDB keeps the exact decimal and the
        // document client reads it back as a bigint; the rules only ever increment `rev` by one.
        fc.pre(!beyondSafeIntegers(dynamo));
        expect(dynamo, `update ${compilePlan({ guard: { op: 'eq', path: ['sk'], value: key.sk }, updates }).UpdateExpression}`).toEqual(
          pure,
        );
      }),
      { numRuns: 300 },
    );
  });

  // The cases behind the fixes, kept as examples.
  test('`ne` on a missing attribute is false on both sides (DynamoDB alone would say true)', async () => {
    expect(await guardOnBoth({ x: 'a' }, { op: 'ne', path: ['y'], value: 'a' })).toEqual({ pure: false, dynamo: false });
    expect(await guardOnBoth({ x: 'a' }, { op: 'ne', path: ['x', 'y'], value: 'a' })).toEqual({ pure: false, dynamo: false });
    expect(await guardOnBoth({ x: null }, { op: 'ne', path: ['x'], value: 'a' })).toEqual({ pure: true, dynamo: true });
    expect(await guardOnBoth({ x: null }, { op: 'ne', path: ['x'], value: null })).toEqual({ pure: false, dynamo: false });
  });

  test('removing one map key twice removes it once; other overlapping paths are refused on both sides', async () => {
    const twice: Update[] = [
      { op: 'remove', path: ['x', 'a'] },
      { op: 'remove', path: ['x', 'a'] },
    ];
    expect(await updatesOnBoth({ x: { a: 1, b: 2 } }, twice)).toEqual({ pure: { ...key, x: { b: 2 } }, dynamo: { ...key, x: { b: 2 } } });
    const overlapping: Update[] = [
      { op: 'set', path: ['x'], value: {} },
      { op: 'remove', path: ['x', 'a'] },
    ];
    expect(await updatesOnBoth({ x: { a: 1 } }, overlapping)).toEqual({ pure: 'refused', dynamo: 'refused' });
  });
});
