import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableDefinition } from '../functions/adapters/table.ts';
import { ttlAttribute } from '../functions/adapters/tenancy-items.ts';

/** Records that should vanish on their own (audit events, webhook messages and tries, …) set this, in epoch seconds: the functions' own name for it. */
export const expiresAtAttribute = ttlAttribute;

const attributeTypes = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY } as const;

type KeySchema = NonNullable<ReturnType<typeof tableDefinition>['KeySchema']>;

/** The key schema and stream of the table the local runtime creates (functions/adapters/table.ts), so both run on the same shape. */
function keyOf(role: 'HASH' | 'RANGE', schema: KeySchema = tableDefinition('any').KeySchema ?? []): { name: string; type: AttributeType } {
  const definition = tableDefinition('any');
  const name = schema.find((k) => k.KeyType === role)?.AttributeName;
  const type = definition.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
  if (!name || !type) throw new Error(`tableDefinition has no ${role} key`);
  return { name, type: attributeTypes[type] };
}

/**
 * The witness's one table: sites' state today, more record kinds later (pk/sk strings), and the
 * sparse due index of the silence detector (`due-shard-index`: state items by `<bucket>#<shard>`;
 * and the old `due-index`, by bucket alone, for the migration's release). On-demand,
 * point-in-time recovery, deletion protection, and RETAIN: `cdk destroy` leaves it (and its data)
 * in place. The stream (old and new images) feeds the event publisher (lib/table-stream-feed.ts).
 */
export class SiteTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const definition = tableDefinition('any');
    if (definition.BillingMode !== 'PAY_PER_REQUEST' || definition.StreamSpecification?.StreamViewType !== 'NEW_AND_OLD_IMAGES') {
      throw new Error('functions/adapters/table.ts changed its billing or stream: update SiteTable to match');
    }
    this.table = new Table(this, 'Table', {
      partitionKey: keyOf('HASH'),
      sortKey: keyOf('RANGE'),
      billingMode: BillingMode.PAY_PER_REQUEST,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: expiresAtAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The same indexes as the local table (the silence detector's due index, …), projected as there.
    for (const index of definition.GlobalSecondaryIndexes ?? []) {
      const schema = index.KeySchema ?? [];
      const projection = index.Projection?.ProjectionType;
      if (!index.IndexName || (projection !== 'KEYS_ONLY' && projection !== 'ALL')) {
        throw new Error(
          'functions/adapters/table.ts has an index SiteTable cannot mirror (no name, or an INCLUDE projection): update SiteTable to match',
        );
      }
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: keyOf('HASH', schema),
        ...(schema.some((k) => k.KeyType === 'RANGE') ? { sortKey: keyOf('RANGE', schema) } : {}),
        projectionType: projection === 'ALL' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
      });
    }
  }
}
