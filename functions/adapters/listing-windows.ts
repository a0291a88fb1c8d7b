import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { maintenanceMaxMs } from '../../protocol/reseller.ts';
import '../../protocol/zod-locale.ts';
import { failedConditions, retryingConflicts } from './conditions.ts';
import { queryPage } from './pagination.ts';
import { iso, maintenanceSkPrefix, resellerPk, siteListingSk, sitePk } from './tenancy-items.ts';

/**
 * The site's maintenance windows that have not ended, kept on its listing item (`maintenance`:
 * window id → start and end, ms), so that the fleet view (`GET /v1/sites`) tells whether a window
 * covers now from the listing page it reads anyway: no read per site. The windows themselves stay
 * in the site's partition (`MAINT#<start>#<window>`), where the SLA report and the incidents read
 * them; this is a copy, written in the same transaction as every window's put, change or delete,
 * so it never disagrees with them.
 *
 * Each such write first reads the listing (a consistent GetItem): to drop the windows that have
 * ended by then (so the map holds only windows not yet ended, whatever the site's history), and to
 * learn whether the map exists. A listing written before the map was kept has none: that write
 * makes it, from a Query of the site's windows not yet ended (once per site). Cost per window
 * write: one GetItem (1 RRU) and one more item in the transaction (the listing's UpdateItem, 2 WRU
 * for a listing under 1 KB: transactions bill twice), plus that one Query the first time.
 */
export const listingWindowsAttribute = 'maintenance';

export const ListingWindows = z.record(z.string(), z.object({ start: z.number(), end: z.number() }));
export type ListingWindows = z.infer<typeof ListingWindows>;

/** A window covers `now`: started, not ended. */
export function inMaintenance(windows: ListingWindows | undefined, now: number): boolean {
  return Object.values(windows ?? {}).some((w) => w.start <= now && now < w.end);
}

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What a window write does to the map: record a window (new, or changed), or forget one (deleted). */
export type WindowChange = { set: { windowId: string; start: number; end: number } } | { forget: string };

/** Far enough: windows not yet ended are those that overlap [now, this). */
const endOfService = Date.UTC(3000, 0, 1);

/**
 * The listing's UpdateItem that carries `change` (and drops the windows ended by `now`), for the
 * transaction that writes the window; undefined if the site has no listing (nothing to keep in step).
 * Its condition holds only on the listing as read (the map there, or not): if another write made
 * the map meanwhile, the transaction fails on it, and `writeWithListingWindows` reads again.
 */
export async function listingWindowsUpdate(
  doc: DynamoDBDocumentClient,
  tableName: string,
  resellerId: string,
  siteId: string,
  change: WindowChange,
  now: number,
): Promise<TransactItem | undefined> {
  const Key = { pk: resellerPk(resellerId), sk: siteListingSk(siteId) };
  const { Item } = await doc.send(
    new GetCommand({
      TableName: tableName,
      Key,
      ConsistentRead: true,
      ProjectionExpression: 'pk, #m',
      ExpressionAttributeNames: { '#m': listingWindowsAttribute },
    }),
  );
  if (!Item) return undefined;
  const stored = Item[listingWindowsAttribute] === undefined ? undefined : ListingWindows.parse(Item[listingWindowsAttribute]);
  const changed = 'set' in change ? change.set.windowId : change.forget;

  if (stored === undefined) {
    // A listing from before the map: make it whole, from the windows themselves.
    const windows: ListingWindows = {};
    for (const w of await windowsNotEnded(doc, tableName, resellerId, siteId, now))
      if (w.windowId !== changed) windows[w.windowId] = { start: w.start, end: w.end };
    if ('set' in change) windows[changed] = { start: change.set.start, end: change.set.end };
    return {
      Update: {
        TableName: tableName,
        Key,
        UpdateExpression: 'SET #m = :windows',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#m)',
        ExpressionAttributeNames: { '#m': listingWindowsAttribute },
        ExpressionAttributeValues: { ':windows': windows },
      },
    };
  }

  const ended = Object.entries(stored).flatMap(([id, w]) => (id !== changed && w.end <= now ? [id] : []));
  const removed = 'forget' in change && Object.hasOwn(stored, changed) ? [changed, ...ended] : ended;
  const names: Record<string, string> = { '#m': listingWindowsAttribute };
  const values: Record<string, unknown> = {};
  const clauses: string[] = [];
  if ('set' in change) {
    names['#w'] = changed;
    values[':w'] = { start: change.set.start, end: change.set.end };
    clauses.push('SET #m.#w = :w');
  }
  if (removed.length > 0) {
    for (const [i, id] of removed.entries()) names[`#r${String(i)}`] = id;
    clauses.push(`REMOVE ${removed.map((_, i) => `#m.#r${String(i)}`).join(', ')}`);
  }
  if (clauses.length === 0) return undefined;
  return {
    Update: {
      TableName: tableName,
      Key,
      UpdateExpression: clauses.join(' '),
      ConditionExpression: 'attribute_exists(#m)',
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    },
  };
}

/** The site's windows that have not ended by `now` (windows last at most 7 days: the Query starts that much earlier). */
async function windowsNotEnded(doc: DynamoDBDocumentClient, tableName: string, resellerId: string, siteId: string, now: number) {
  const windows: { windowId: string; start: number; end: number }[] = [];
  const Window = z.object({ windowId: z.string(), start: z.number(), end: z.number() });
  let cursor: string | undefined;
  do {
    const page = await queryPage(
      doc,
      tableName,
      sitePk(resellerId, siteId),
      maintenanceSkPrefix,
      { cursor, limit: 100 },
      {
        from: `${maintenanceSkPrefix}${iso(now - maintenanceMaxMs)}`,
        to: `${maintenanceSkPrefix}${iso(endOfService)}`,
      },
    );
    windows.push(...page.items.map((item) => Window.parse(item)).filter((w) => w.end > now));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return windows;
}

/** How many times a window write reads the listing again when another write changed its map meanwhile. */
const attempts = 4;

/**
 * Writes `items` (a window's put, change or delete, with their conditions) in one transaction with
 * the listing's update for `change`. False if one of the items' own conditions did not hold (the
 * window changed meanwhile, a token revoked: the caller's answer); the listing's condition failing
 * (its map changed meanwhile) reads it again, a few times.
 */
export async function writeWithListingWindows(
  doc: DynamoDBDocumentClient,
  tableName: string,
  key: { resellerId: string; siteId: string },
  change: WindowChange,
  now: number,
  items: TransactItem[],
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const listing = await listingWindowsUpdate(doc, tableName, key.resellerId, key.siteId, change, now);
    try {
      await retryingConflicts(() => doc.send(new TransactWriteCommand({ TransactItems: listing ? [...items, listing] : items })));
      return true;
    } catch (error) {
      const failed = failedConditions(error);
      if (failed.some((i) => i < items.length)) return false;
      if (!failed.includes(items.length) || attempt >= attempts) throw error;
    }
  }
}
