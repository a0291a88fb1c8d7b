import { type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { ApiKeyScope, type ApiKey, type ContractTargets, type Customer, type Reseller } from '../../protocol/reseller.ts';
import '../../protocol/zod-locale.ts';
import { conditionFailed } from './conditions.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import {
  apiKeySk,
  apiKeySkPrefix,
  customerSk,
  customerSkPrefix,
  iso,
  resellerPk,
  resellerSk,
  resellerSkPrefix,
  resellersPk,
} from './tenancy-items.ts';

const ResellerItem = z.object({
  resellerId: z.string(),
  name: z.string(),
  targets: z.object({ availability: z.number(), timeToAcknowledgeMs: z.number() }),
  /** Absent on resellers created before reports had zones. */
  timeZone: z.optional(z.string()),
  createdAt: z.number(),
});

const ApiKeyItem = z.object({
  resellerId: z.string(),
  keyId: z.string(),
  name: z.string(),
  scope: ApiKeyScope,
  /** SHA-256 of the whole key, base64url. */
  hash: z.string(),
  createdAt: z.number(),
  revokedAt: z.nullable(z.number()),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyItem>;

const CustomerItem = z.object({ customerId: z.string(), name: z.string(), createdAt: z.number() });

export const resellerView = (item: z.infer<typeof ResellerItem>): Reseller => ({
  resellerId: item.resellerId,
  name: item.name,
  targets: item.targets,
  timeZone: item.timeZone ?? null,
  createdAt: iso(item.createdAt),
});

export const apiKeyView = (item: ApiKeyRecord): ApiKey => ({
  keyId: item.keyId,
  name: item.name,
  scope: item.scope,
  createdAt: iso(item.createdAt),
  revokedAt: item.revokedAt === null ? null : iso(item.revokedAt),
});

const customerView = (item: z.infer<typeof CustomerItem>): Customer => ({ ...item, createdAt: iso(item.createdAt) });

function mapPage<T>(page: Page<Record<string, unknown>>, parse: (item: Record<string, unknown>) => T): Page<T> {
  return { items: page.items.map(parse), nextCursor: page.nextCursor };
}

/** Resellers, their API keys and their customers. Every write is conditional: nothing is overwritten by accident. */
export class ResellerStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Creates the reseller and its first key together; false if the reseller exists. */
  async createReseller(reseller: z.infer<typeof ResellerItem>, firstKey: ApiKeyRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { pk: resellersPk, sk: resellerSk(reseller.resellerId), ...reseller },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: this.#apiKeyItem(firstKey), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  async getReseller(resellerId: string): Promise<Reseller | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: resellersPk, sk: resellerSk(resellerId) }, ConsistentRead: true }),
    );
    return Item ? resellerView(ResellerItem.parse(Item)) : undefined;
  }

  async listResellers(request: PageRequest): Promise<Page<Reseller>> {
    const page = await queryPage(this.doc, this.tableName, resellersPk, resellerSkPrefix, request);
    return mapPage(page, (item) => resellerView(ResellerItem.parse(item)));
  }

  async updateReseller(
    resellerId: string,
    change: { name?: string | undefined; targets?: ContractTargets | undefined; timeZone?: string | undefined },
  ): Promise<Reseller | undefined> {
    const sets: [string, unknown][] = [];
    if (change.name !== undefined) sets.push(['name', change.name]);
    if (change.targets !== undefined) sets.push(['targets', change.targets]);
    if (change.timeZone !== undefined) sets.push(['timeZone', change.timeZone]);
    if (sets.length === 0) return this.getReseller(resellerId);
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: resellersPk, sk: resellerSk(resellerId) },
          UpdateExpression: `SET ${sets.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(sets.map(([name], i) => [`#f${i}`, name])),
          ExpressionAttributeValues: Object.fromEntries(sets.map(([, value], i) => [`:v${i}`, value])),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? resellerView(ResellerItem.parse(Attributes)) : undefined;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  }

  async getApiKey(resellerId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: resellerPk(resellerId), sk: apiKeySk(keyId) }, ConsistentRead: true }),
    );
    return Item ? ApiKeyItem.parse(Item) : undefined;
  }

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: this.#apiKeyItem(key), ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  /** Puts `replacement` and revokes `keyId` in one transaction; undefined if that key is unknown or already revoked. */
  async rotateApiKey(resellerId: string, keyId: string, replacement: ApiKeyRecord, now: number): Promise<ApiKeyRecord | undefined> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: this.#revocation(resellerId, keyId, now) },
            { Put: { TableName: this.tableName, Item: this.#apiKeyItem(replacement), ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return replacement;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  }

  /** Revokes a key; undefined if it is unknown or already revoked. */
  async revokeApiKey(resellerId: string, keyId: string, now: number): Promise<ApiKeyRecord | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({ ...this.#revocation(resellerId, keyId, now), ReturnValues: 'ALL_NEW' }),
      );
      return Attributes ? ApiKeyItem.parse(Attributes) : undefined;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  }

  async listApiKeys(resellerId: string, request: PageRequest): Promise<Page<ApiKeyRecord>> {
    const page = await queryPage(this.doc, this.tableName, resellerPk(resellerId), apiKeySkPrefix, request);
    return mapPage(page, (item) => ApiKeyItem.parse(item));
  }

  async createCustomer(resellerId: string, customer: z.infer<typeof CustomerItem>): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: resellerPk(resellerId), sk: customerSk(customer.customerId), ...customer },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  async getCustomer(resellerId: string, customerId: string): Promise<Customer | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: resellerPk(resellerId), sk: customerSk(customerId) }, ConsistentRead: true }),
    );
    return Item ? customerView(CustomerItem.parse(Item)) : undefined;
  }

  async listCustomers(resellerId: string, request: PageRequest): Promise<Page<Customer>> {
    const page = await queryPage(this.doc, this.tableName, resellerPk(resellerId), customerSkPrefix, request);
    return mapPage(page, (item) => customerView(CustomerItem.parse(item)));
  }

  #apiKeyItem(key: ApiKeyRecord): Record<string, unknown> {
    return { pk: resellerPk(key.resellerId), sk: apiKeySk(key.keyId), ...key };
  }

  #revocation(resellerId: string, keyId: string, now: number) {
    return {
      TableName: this.tableName,
      Key: { pk: resellerPk(resellerId), sk: apiKeySk(keyId) },
      UpdateExpression: 'SET revokedAt = :now',
      ConditionExpression: 'attribute_exists(pk) AND revokedAt = :null',
      ExpressionAttributeValues: { ':now': now, ':null': null },
    };
  }
}
