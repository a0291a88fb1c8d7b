import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Plan } from '../domain/plan.ts';
import type { SiteState } from '../domain/site-state.ts';
import { compilePlan } from './dynamodb-plan.ts';
import { itemFromSiteState, type SiteKey, siteKey, siteStateFromItem, withDueShard } from './site-item.ts';
import type { ApplyResult, SiteStore } from './site-store.ts';

/** How many sites' last-seen states one process keeps (about 1 KB each). */
const recentSitesMax = 10_000;

export class DynamoSiteStore implements SiteStore {
  readonly #recent = new Map<string, SiteState>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async load(key: SiteKey): Promise<SiteState | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: siteKey(key), ConsistentRead: true }));
    return this.#remember(key, Item ? siteStateFromItem(Item) : undefined);
  }

  async apply(key: SiteKey, plan: Plan): Promise<ApplyResult> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: siteKey(key),
          ...compilePlan(withDueShard(key, plan)),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (!Attributes) throw new Error('UpdateItem returned no attributes');
      const state = siteStateFromItem(Attributes);
      this.#remember(key, state);
      return { ok: true, state };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The old item comes back raw (the document client does not translate errors).
      const current = error.Item ? siteStateFromItem(unmarshall(error.Item)) : undefined;
      return { ok: false, current: this.#remember(key, current) };
    }
  }

  recent(key: SiteKey): SiteState | undefined {
    return this.#recent.get(siteKey(key).pk);
  }

  async create(state: SiteState): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: itemFromSiteState(state), ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  #remember(key: SiteKey, state: SiteState | undefined): SiteState | undefined {
    const pk = siteKey(key).pk;
    this.#recent.delete(pk);
    if (state) {
      this.#recent.set(pk, state);
      // Map keeps insertion order: the first key is the least recently seen.
      const oldest = this.#recent.keys().next();
      if (this.#recent.size > recentSitesMax && !oldest.done) this.#recent.delete(oldest.value);
    }
    return state;
  }
}
