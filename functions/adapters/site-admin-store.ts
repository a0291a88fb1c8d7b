import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { IncidentKind } from '../../protocol/incidents.ts';
import { MaintenanceAuthor, type MaintenanceWindow, maintenanceMaxMs, type Site } from '../../protocol/reseller.ts';
import '../../protocol/zod-locale.ts';
import type { Tracker } from '../domain/incidents.ts';
import type { SitePolicy, SiteState } from '../domain/site-state.ts';
import { conditionFailed, failedConditions } from './conditions.ts';
import { incidentKindsAttribute, trackerFromItem } from './incident-store.ts';
import { ListingWindows, listingWindowsAttribute, type TransactItem, writeWithListingWindows } from './listing-windows.ts';
import { type Page, type PageRequest, queryPage } from './pagination.ts';
import { itemFromSiteState, siteKey, siteStateFromItem } from './site-item.ts';
import {
  customerSk,
  enrollmentPk,
  enrollmentSk,
  incidentSk,
  iso,
  maintenanceItem,
  maintenanceSk,
  maintenanceSkPrefix,
  maintenanceTtl,
  resellerPk,
  siteListingSk,
  siteListingSkPrefix,
  sitePk,
  siteStateSk,
  ttlAttribute,
  ttlSeconds,
} from './tenancy-items.ts';

const SiteListing = z.object({
  siteId: z.string(),
  customerId: z.string(),
  name: z.string(),
  nodeIds: z.array(z.string()),
  createdAt: z.number(),
  /** Per node, the token version its agent enrolled last: the node is enrolled while the state's version equals it. */
  enrolledVersion: z.record(z.string(), z.number()),
  /** The windows not yet ended when one was last written (listing-windows.ts); absent on listings written before it was kept. */
  [listingWindowsAttribute]: z.optional(ListingWindows),
  /** The kinds the site has an incident tracker of (incident-store.ts); absent on listings written before it was kept. */
  [incidentKindsAttribute]: z.optional(z.record(z.string(), z.boolean())),
});
export type SiteListing = z.infer<typeof SiteListing>;

const EnrollmentItem = z.object({
  resellerId: z.string(),
  siteId: z.string(),
  nodeId: z.string(),
  tokenVersion: z.number(),
  /** ms; DynamoDB's TTL (`expiresAt`, s) deletes it some time later. */
  validUntil: z.number(),
});
export type EnrollmentRecord = z.infer<typeof EnrollmentItem>;

const MaintenanceItem = z.object({
  windowId: z.string(),
  start: z.number(),
  end: z.number(),
  reason: z.string(),
  // Who declared the window and when (ms), and its last change: absent on windows stored before they were recorded.
  declaredAt: z.optional(z.number()),
  declaredBy: z.optional(MaintenanceAuthor),
  changedAt: z.optional(z.number()),
  changedBy: z.optional(MaintenanceAuthor),
});
export type MaintenanceRecord = z.infer<typeof MaintenanceItem>;
/** A window as a change writes it: the change recorded. */
export type ChangedMaintenance = MaintenanceRecord & { changedAt: number; changedBy: MaintenanceAuthor };

export const siteView = (listing: SiteListing): Site => ({
  siteId: listing.siteId,
  customerId: listing.customerId,
  name: listing.name,
  nodeIds: listing.nodeIds,
  createdAt: iso(listing.createdAt),
});

export const maintenanceView = (item: MaintenanceRecord): MaintenanceWindow => ({
  windowId: item.windowId,
  start: iso(item.start),
  end: iso(item.end),
  reason: item.reason,
  declaredAt: item.declaredAt === undefined ? null : iso(item.declaredAt),
  declaredBy: item.declaredBy ?? null,
  changedAt: item.changedAt === undefined ? null : iso(item.changedAt),
  changedBy: item.changedBy ?? null,
});

export type CreateSiteOutcome = 'created' | 'no-customer' | 'exists';
export type EnrollOutcome = { ok: true } | { ok: false; why: 'used' | 'superseded' };

/** A site as the fleet view reads it: its listing, its state item (absent if the read missed it) and its incident trackers. */
export interface FleetEntry {
  listing: SiteListing;
  state: SiteState | undefined;
  trackers: Tracker[];
}

/** BatchGetItem takes at most 100 keys a request. */
const batchGetKeys = 100;
/** Tries of the keys a BatchGetItem left unprocessed (throttling), with jittered pauses, before the read fails. */
const batchGetAttempts = 6;

/** Sites as the reseller API sees them: listing, creation, enrollment, policy, maintenance (the audit trail: audit-trail.ts). */
export class SiteAdminStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The listing, the witness state and one enrollment code per node, all or nothing; the customer must exist. */
  async createSite(
    resellerId: string,
    listing: SiteListing,
    state: SiteState,
    codes: (EnrollmentRecord & { hash: string })[],
  ): Promise<CreateSiteOutcome> {
    const put = (Item: Record<string, unknown>) => ({
      Put: { TableName: this.tableName, Item, ConditionExpression: 'attribute_not_exists(pk)' },
    });
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: { pk: resellerPk(resellerId), sk: customerSk(listing.customerId) },
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            // A new site has no window and no incident tracker yet: its records of them start empty
            // (listing-windows.ts, incident-store.ts).
            put({
              pk: resellerPk(resellerId),
              sk: siteListingSk(listing.siteId),
              [listingWindowsAttribute]: {},
              [incidentKindsAttribute]: {},
              ...listing,
            }),
            put(itemFromSiteState(state)),
            ...codes.map(({ hash, ...code }) => put(this.#enrollmentItem(hash, code))),
          ],
        }),
      );
      return 'created';
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      return failedConditions(error).includes(0) ? 'no-customer' : 'exists';
    }
  }

  async getListing(resellerId: string, siteId: string): Promise<SiteListing | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: resellerPk(resellerId), sk: siteListingSk(siteId) }, ConsistentRead: true }),
    );
    return Item ? SiteListing.parse(Item) : undefined;
  }

  async listSites(resellerId: string, request: PageRequest): Promise<Page<SiteListing>> {
    const page = await queryPage(this.doc, this.tableName, resellerPk(resellerId), siteListingSkPrefix, request);
    return { items: page.items.map((item) => SiteListing.parse(item)), nextCursor: page.nextCursor };
  }

  /**
   * One page of the fleet (`GET /v1/sites`): the listing page (one Query, `limit` listings read, of
   * the customer only if one is named: a filter, so a page may hold fewer), then every listed site's
   * state item and its incident trackers by BatchGetItem, eventually consistent, 100 keys a request,
   * all at once. The trackers read are those the listing names (`incidentKinds`: the kinds the site
   * ever had a condition of, usually none); a listing from before that was kept names none, and all
   * 6 kinds are read for it. A page of n sites costs 1 Query and ceil(keys / 100) BatchGetItems,
   * keys between n and 7n: 2 requests for a page of 100 sites without trackers, 8 at most, whatever
   * the size of the fleet: no read per site.
   */
  async listFleet(resellerId: string, request: PageRequest & { customerId?: string | undefined }): Promise<Page<FleetEntry>> {
    const where = request.customerId === undefined ? {} : { where: { customerId: request.customerId } };
    const page = await queryPage(this.doc, this.tableName, resellerPk(resellerId), siteListingSkPrefix, request, undefined, where);
    const listings = page.items.map((item) => SiteListing.parse(item));
    const keys = listings.flatMap((listing) => {
      const pk = sitePk(resellerId, listing.siteId);
      const listed = listing[incidentKindsAttribute];
      const kinds = listed === undefined ? IncidentKind.options : IncidentKind.options.filter((kind) => listed[kind] === true);
      return [siteKey({ resellerId, siteId: listing.siteId }), ...kinds.map((kind) => ({ pk, sk: incidentSk(kind) }))];
    });
    const chunks = Array.from({ length: Math.ceil(keys.length / batchGetKeys) }, (_, i) =>
      keys.slice(i * batchGetKeys, (i + 1) * batchGetKeys),
    );
    const items = (await Promise.all(chunks.map((chunk) => this.#batchGet(chunk)))).flat();
    const byPk = Map.groupBy(items, (item) => String(item.pk));
    const entries = listings.map((listing): FleetEntry => {
      const found = byPk.get(sitePk(resellerId, listing.siteId)) ?? [];
      const stateItem = found.find((item) => item.sk === siteStateSk);
      return {
        listing,
        state: stateItem ? siteStateFromItem(stateItem) : undefined,
        trackers: found.filter((item) => item.sk !== siteStateSk).map((item) => trackerFromItem(item)),
      };
    });
    return { items: entries, nextCursor: page.nextCursor };
  }

  /** The items of these keys (at most 100) that exist, eventually consistent; keys left unprocessed are asked again. */
  async #batchGet(keys: { pk: string; sk: string }[]): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    let pending = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > batchGetAttempts)
        throw new Error(`BatchGetItem left ${String(pending.length)} keys unprocessed ${String(batchGetAttempts)} times`);
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1_000, 25 * 2 ** attempt)));
      const { Responses, UnprocessedKeys } = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: false } } }),
      );
      found.push(...(Responses?.[this.tableName] ?? []));
      pending = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as { pk: string; sk: string }[];
    }
    return found;
  }

  async getState(resellerId: string, siteId: string): Promise<SiteState | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: siteKey({ resellerId, siteId }), ConsistentRead: true }),
    );
    return Item ? siteStateFromItem(Item) : undefined;
  }

  /** Sets the policy: a change of rules, not of who is primary, so it needs no guard but the site's existence. */
  async setPolicy(resellerId: string, siteId: string, policy: SitePolicy): Promise<SiteState | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: siteKey({ resellerId, siteId }),
          UpdateExpression: 'SET #policy = :policy ADD #rev :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#policy': 'policy', '#rev': 'rev' },
          ExpressionAttributeValues: { ':policy': policy, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? siteStateFromItem(Attributes) : undefined;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  }

  async putEnrollmentCode(hash: string, code: EnrollmentRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: this.#enrollmentItem(hash, code),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getEnrollmentCode(hash: string): Promise<EnrollmentRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: enrollmentPk(hash), sk: enrollmentSk }, ConsistentRead: true }),
    );
    return Item ? EnrollmentItem.parse(Item) : undefined;
  }

  /**
   * Uses a code, once: deletes it (if still valid, and still for `code.nodeId`, the node the caller
   * checked the agent is) and raises that node's token version to the code's, in one transaction.
   * From then on only tokens of that version pass the witness's guards.
   */
  async enroll(hash: string, code: EnrollmentRecord, now: number): Promise<EnrollOutcome> {
    const node = { '#nodes': 'nodes', '#node': code.nodeId };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: { pk: enrollmentPk(hash), sk: enrollmentSk },
                // The node the handler checked the agent's nodeId against, held by the write itself and not only by the read.
                ConditionExpression: 'attribute_exists(pk) AND validUntil >= :now AND nodeId = :node',
                ExpressionAttributeValues: { ':now': now, ':node': code.nodeId },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: siteKey(code),
                UpdateExpression: 'SET #nodes.#node.tokenVersion = :v ADD #rev :one',
                ConditionExpression: 'attribute_exists(#nodes.#node) AND #nodes.#node.tokenVersion < :v',
                ExpressionAttributeNames: { ...node, '#rev': 'rev' },
                ExpressionAttributeValues: { ':v': code.tokenVersion, ':one': 1 },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: resellerPk(code.resellerId), sk: siteListingSk(code.siteId) },
                UpdateExpression: 'SET enrolledVersion.#node = :v',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#node': code.nodeId },
                ExpressionAttributeValues: { ':v': code.tokenVersion },
              },
            },
          ],
        }),
      );
      return { ok: true };
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      return { ok: false, why: failedConditions(error).includes(0) ? 'used' : 'superseded' };
    }
  }

  /** Raises the node's token version past every token and code issued so far; undefined if there is no such node. */
  async revokeNode(resellerId: string, siteId: string, nodeId: string): Promise<number | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: siteKey({ resellerId, siteId }),
          UpdateExpression: 'ADD #nodes.#node.tokenVersion :one, #rev :one',
          ConditionExpression: 'attribute_exists(#nodes.#node)',
          ExpressionAttributeNames: { '#nodes': 'nodes', '#node': nodeId, '#rev': 'rev' },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? siteStateFromItem(Attributes).nodes[nodeId]?.tokenVersion : undefined;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  }

  /** Declares a window (its id is new), and records it on the listing (listing-windows.ts); `now` drops the listing's ended windows. */
  async putMaintenance(resellerId: string, siteId: string, window: MaintenanceRecord, now: number): Promise<void> {
    const put: TransactItem = {
      Put: {
        TableName: this.tableName,
        Item: maintenanceItem(resellerId, siteId, window),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    if (!(await writeWithListingWindows(this.doc, this.tableName, { resellerId, siteId }, { set: window }, now, [put]))) {
      throw new Error(`maintenance window ${window.windowId} exists already`);
    }
  }

  async listMaintenance(resellerId: string, siteId: string, request: PageRequest): Promise<Page<MaintenanceRecord>> {
    const page = await queryPage(this.doc, this.tableName, sitePk(resellerId, siteId), maintenanceSkPrefix, request);
    return { items: page.items.map((item) => MaintenanceItem.parse(item)), nextCursor: page.nextCursor };
  }

  /** The window with this id, or undefined: its sort key starts with its start time, so it is looked for among the site's windows. */
  async getMaintenance(resellerId: string, siteId: string, windowId: string): Promise<MaintenanceRecord | undefined> {
    let cursor: string | undefined;
    do {
      const page = await queryPage(
        this.doc,
        this.tableName,
        sitePk(resellerId, siteId),
        maintenanceSkPrefix,
        { cursor, limit: 100 },
        undefined,
        { where: { windowId } },
      );
      const [found] = page.items;
      if (found) return MaintenanceItem.parse(found);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return undefined;
  }

  /** Every window of the site that overlaps [from, to) (windows last at most 7 days: the query starts that much earlier). */
  async maintenanceBetween(resellerId: string, siteId: string, from: number, to: number): Promise<MaintenanceRecord[]> {
    const windows: MaintenanceRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await queryPage(
        this.doc,
        this.tableName,
        sitePk(resellerId, siteId),
        maintenanceSkPrefix,
        { cursor, limit: 100 },
        {
          from: `${maintenanceSkPrefix}${iso(from - maintenanceMaxMs)}`,
          to: `${maintenanceSkPrefix}${iso(to)}`,
        },
      );
      windows.push(...page.items.map((item) => MaintenanceItem.parse(item)).filter((w) => w.end > from && w.start < to));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return windows;
  }

  /**
   * Replaces the window `current` (as read) by `next`, the same window changed; false if it changed
   * meanwhile (or is gone): every write holds on the start and end the caller decided on, so two
   * racing changes cannot together make a window the rules refuse. A new start is a new sort key:
   * the old item's delete and the new one's put. Either way in one transaction with the listing's
   * record of the window (listing-windows.ts; `now` drops its ended windows).
   */
  async changeMaintenance(
    resellerId: string,
    siteId: string,
    current: MaintenanceRecord,
    next: ChangedMaintenance,
    now: number,
  ): Promise<boolean> {
    const key = this.#maintenanceKey(resellerId, siteId, current);
    const asRead = {
      ConditionExpression: '#start = :readStart AND #end = :readEnd',
      ExpressionAttributeNames: { '#start': 'start', '#end': 'end' },
      ExpressionAttributeValues: { ':readStart': current.start, ':readEnd': current.end },
    };
    const record = (items: TransactItem[]) =>
      writeWithListingWindows(this.doc, this.tableName, { resellerId, siteId }, { set: next }, now, items);
    if (next.start !== current.start) {
      return record([
        { Delete: { TableName: this.tableName, Key: key, ...asRead } },
        {
          Put: {
            TableName: this.tableName,
            Item: maintenanceItem(resellerId, siteId, next),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]);
    }
    // Same start, same item: only what may change is set (older attributes of the item stay).
    return record([
      {
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #end = :end, #reason = :reason, #ttl = :ttl, changedAt = :changedAt, changedBy = :changedBy',
          ...asRead,
          ExpressionAttributeNames: { ...asRead.ExpressionAttributeNames, '#reason': 'reason', '#ttl': ttlAttribute },
          ExpressionAttributeValues: {
            ...asRead.ExpressionAttributeValues,
            ':end': next.end,
            ':reason': next.reason,
            ':ttl': maintenanceTtl(next.end),
            ':changedAt': next.changedAt,
            ':changedBy': next.changedBy,
          },
        },
      },
    ]);
  }

  /** Deletes the window `current` (as read), and forgets it on the listing; false if it changed meanwhile or is gone. */
  async deleteMaintenance(resellerId: string, siteId: string, current: MaintenanceRecord, now: number): Promise<boolean> {
    return writeWithListingWindows(this.doc, this.tableName, { resellerId, siteId }, { forget: current.windowId }, now, [
      {
        Delete: {
          TableName: this.tableName,
          Key: this.#maintenanceKey(resellerId, siteId, current),
          ConditionExpression: '#start = :readStart AND #end = :readEnd',
          ExpressionAttributeNames: { '#start': 'start', '#end': 'end' },
          ExpressionAttributeValues: { ':readStart': current.start, ':readEnd': current.end },
        },
      },
    ]);
  }

  #maintenanceKey(resellerId: string, siteId: string, window: MaintenanceRecord): { pk: string; sk: string } {
    return { pk: sitePk(resellerId, siteId), sk: maintenanceSk(iso(window.start), window.windowId) };
  }

  #enrollmentItem(hash: string, code: EnrollmentRecord): Record<string, unknown> {
    return { pk: enrollmentPk(hash), sk: enrollmentSk, ...code, expiresAt: ttlSeconds(code.validUntil) };
  }
}
