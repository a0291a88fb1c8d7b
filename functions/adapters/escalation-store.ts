import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { EscalationPolicy, type ScopedEscalationPolicy } from '../../protocol/reseller.ts';
import '../../protocol/zod-locale.ts';
import { unlessConditionFails } from './conditions.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import { customerSk, escalationSk, escalationSkPrefix, iso, resellerPk, siteListingSk } from './tenancy-items.ts';

export type PolicyScope = { scope: 'reseller'; id: null } | { scope: 'customer' | 'site'; id: string };

const PolicyItem = z.object({
  scope: z.enum(['reseller', 'customer', 'site']),
  id: z.nullable(z.string()),
  policy: EscalationPolicy,
  updatedAt: z.number(),
});

const view = (item: z.infer<typeof PolicyItem>): ScopedEscalationPolicy => ({ ...item, updatedAt: iso(item.updatedAt) });

/** Escalation policies: the reseller's own, and overrides for a customer or a site (which must exist). */
export class EscalationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Sets the policy; false if the customer or site it is for does not exist. */
  async put(resellerId: string, at: PolicyScope, policy: EscalationPolicy, now: number): Promise<ScopedEscalationPolicy | undefined> {
    const item = { scope: at.scope, id: at.id, policy, updatedAt: now };
    const owner = at.scope === 'customer' ? customerSk(at.id) : at.scope === 'site' ? siteListingSk(at.id) : undefined;
    const write = new TransactWriteCommand({
      TransactItems: [
        ...(owner
          ? [
              {
                ConditionCheck: {
                  TableName: this.tableName,
                  Key: { pk: resellerPk(resellerId), sk: owner },
                  ConditionExpression: 'attribute_exists(pk)',
                },
              },
            ]
          : []),
        { Put: { TableName: this.tableName, Item: { pk: resellerPk(resellerId), sk: escalationSk(at.scope, at.id), ...item } } },
      ],
    });
    return (await unlessConditionFails(this.doc.send(write))) && view(item);
  }

  async get(resellerId: string, at: PolicyScope): Promise<ScopedEscalationPolicy | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: resellerPk(resellerId), sk: escalationSk(at.scope, at.id) },
        ConsistentRead: true,
      }),
    );
    return Item ? view(PolicyItem.parse(Item)) : undefined;
  }

  async list(resellerId: string, request: PageRequest): Promise<Page<ScopedEscalationPolicy>> {
    const page = await queryPage(this.doc, this.tableName, resellerPk(resellerId), escalationSkPrefix, request);
    return { items: page.items.map((item) => view(PolicyItem.parse(item))), nextCursor: page.nextCursor };
  }

  /** Removes an override; false if there was none. */
  async remove(resellerId: string, at: PolicyScope): Promise<boolean> {
    const remove = new DeleteCommand({
      TableName: this.tableName,
      Key: { pk: resellerPk(resellerId), sk: escalationSk(at.scope, at.id) },
      ConditionExpression: 'attribute_exists(pk)',
    });
    return (await unlessConditionFails(this.doc.send(remove))) !== undefined;
  }
}
