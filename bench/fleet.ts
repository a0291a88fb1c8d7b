/**
 * `npm run bench -- fleet [--sites N] [--limit N]`: the fleet view (`GET /v1/sites`) over a
 * reseller of 10,000 sites, page by page, to show that a page costs the same few DynamoDB
 * requests whatever the fleet's size (no read per site) and how long it takes. One process, one
 * DynamoDB Local (in memory), the reseller API's real handlers behind the local HTTP server
 * (`startLocalStack`, as `npm start` assembles it).
 *
 * The table is seeded with BatchWriteItem (25 items a request, 8 at once): one reseller with an
 * API key, one customer, and `--sites` sites (default 10,000), each its listing item and its state
 * item, in states as the witness leaves them, in turn: healthy (node-a primary, both nodes heard
 * within the slow cadence), degraded (node-b unheard for 2 min), failing over (node-b granted, its
 * promote not yet acknowledged), survivor (node-a excluded), down (nobody heard for 10 min), not
 * live (never granted). Every 10th site also has an open incident (its `node.lost` tracker, named
 * by its listing's `incidentKinds`) and every 7th a maintenance window covering now on its listing.
 *
 * Then, with the API's clock at the seeding's `now`, two passes over the whole fleet, each
 * following `nextCursor` from the first page to the last with `?limit=` (default 100): per page,
 * the wall time of the HTTP request (the client's fetch to the parsed JSON) and the DynamoDB
 * requests the service sent for it, by command (the API key's read, which every call makes,
 * included). A few uncounted pages first warm the engine's JVM and this process's JIT up.
 *
 * Prints `name: value` lines on stdout (progress on stderr).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type AttributeValue, BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { RequestCounter } from '../functions/adapters/request-counter.ts';
import { itemFromSiteState } from '../functions/adapters/site-item.ts';
import { customerSk, incidentSk, resellerPk, siteListingSk, sitePk } from '../functions/adapters/tenancy-items.ts';
import { applyChange, defaultPolicy as defaultEscalation } from '../functions/domain/incidents.ts';
import { defaultSettings } from '../functions/domain/settings.ts';
import { newSite, type SiteState } from '../functions/domain/site-state.ts';
import { newKeyRecord } from '../functions/http/api/resellers.ts';
import { startLocalStack } from '../local/local-stack.ts';
import { type FleetPage, type SiteHealth, siteHealthWorstFirst } from '../protocol/reseller.ts';
import { itemBytes } from './item-size.ts';
import { percentile } from './load.ts';
import { dynamoReadUnitBytes, prices } from './prices.ts';
import { UsageError } from './usage-error.ts';

const settings = defaultSettings;
/** The seeding's moment, and the service's clock while it is read (exported: the console bench seeds the same fleet). */
export const now = 1_800_000_000_000;
const s = 1_000;
export const resellerId = 'bench-reseller';
export const customerId = 'bench-customer';
const kinds = ['healthy', 'degraded', 'failing-over', 'survivor', 'down', 'not-live'] as const;

function count(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (!Number.isInteger(x) || x < min || x > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return x;
}

const siteIdOf = (i: number) => `site-${String(i).padStart(5, '0')}`;

/** Site i's state item, as the witness leaves a site in its kind's state at `now`. */
function stateOf(i: number): SiteState {
  const siteId = siteIdOf(i);
  const site = newSite({ resellerId, siteId, nodeIds: ['node-a', 'node-b'] });
  const kind = kinds[i % kinds.length] ?? 'healthy';
  if (kind === 'not-live') return site;
  const heard = now - 1 - ((i * 7_919) % settings.slowHeartbeatMs);
  const node = (lastSeenAt: number, role: 'primary' | 'secondary', peerReachable: boolean, epoch = 1) => ({
    ...site.nodes['node-a']!,
    incarnation: 1,
    seq: 100,
    lastSeenAt,
    role,
    reportedEpoch: epoch,
    health: 90,
    peerReachable,
  });
  const live: SiteState = {
    ...site,
    rev: 120,
    epoch: 1,
    primary: 'node-a',
    leaseExpiresAt: heard + settings.leaseMs,
    firstContactAt: now - 86_400_000,
    due: Math.floor(heard / settings.dueBucketMs),
    nodes: { 'node-a': node(heard, 'primary', true), 'node-b': node(heard - 1_000, 'secondary', true) },
    decision: {
      kind: 'renew',
      nodeId: 'node-a',
      at: heard,
      epoch: 1,
      reason: 'heartbeat from the primary at the current epoch',
      inputs: { incarnation: 1, seq: 100, peerReachable: true },
    },
  };
  switch (kind) {
    case 'healthy':
      return live;
    case 'degraded':
      return { ...live, nodes: { ...live.nodes, 'node-b': node(now - 120 * s, 'secondary', true) } };
    case 'failing-over': {
      const promote = {
        id: '2-promote-node-b',
        type: 'promote' as const,
        epoch: 2,
        issuedAt: now - 2 * s,
        reason: 'lease of node-a expired: failover to node-b',
      };
      return {
        ...live,
        epoch: 2,
        primary: 'node-b',
        leaseExpiresAt: now - 2 * s + settings.leaseMs,
        nodes: {
          'node-a': node(now - 40 * s, 'primary', false),
          'node-b': { ...node(now - 2 * s, 'secondary', false), commands: { [promote.id]: promote } },
        },
      };
    }
    case 'survivor':
      return {
        ...live,
        primary: 'node-b',
        epoch: 2,
        nodes: { 'node-a': node(now - 3_600 * s, 'secondary', true), 'node-b': node(heard, 'primary', false, 2) },
        exclusion: { nodeId: 'node-a', at: now - 3_500 * s, lastSeenAt: now - 3_600 * s },
      };
    case 'down':
      return {
        ...live,
        leaseExpiresAt: now - 600 * s,
        nodes: { 'node-a': node(now - 600 * s, 'primary', true), 'node-b': node(now - 601 * s, 'secondary', true) },
      };
  }
}

/** Site i's items: its listing, its state item, and every 10th an open incident's tracker. */
export function itemsOf(i: number): Record<string, unknown>[] {
  const siteId = siteIdOf(i);
  const maintenance = i % 7 === 0 ? { [`w${String(i)}`]: { start: now - 600 * s, end: now + 3_600 * s } } : {};
  const tracked = i % 10 === 0;
  const listing = {
    pk: resellerPk(resellerId),
    sk: siteListingSk(siteId),
    siteId,
    customerId,
    name: `Site ${String(i)}`,
    nodeIds: ['node-a', 'node-b'],
    createdAt: now - 86_400_000,
    enrolledVersion: { 'node-a': 1, 'node-b': 1 },
    maintenance,
    // The kinds the site has trackers of, as the incident store lists them (incident-store.ts).
    incidentKinds: tracked ? { 'node.lost': true } : {},
  };
  const items: Record<string, unknown>[] = [listing, itemFromSiteState(stateOf(i))];
  if (tracked) {
    const change = { kind: 'node.lost', subject: 'node-b', phase: 'raised', at: now - 300 * s } as const;
    const { tracker } = applyChange(undefined, { resellerId, siteId }, change, {
      eventId: `lost-${siteId}`,
      inMaintenance: false,
      policy: defaultEscalation,
    });
    items.push({ pk: sitePk(resellerId, siteId), sk: incidentSk('node.lost'), ...tracker, version: 1 });
  }
  return items;
}

export async function seed(
  client: DynamoDBClient,
  tableName: string,
  items: Record<string, unknown>[],
  progress: (line: string) => void,
): Promise<void> {
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < items.length; i += 25) {
    batches.push(items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } })));
  }
  const writeBatch = async (batch: WriteRequest[]) => {
    let pending: WriteRequest[] = batch;
    while (pending.length > 0) {
      const { UnprocessedItems } = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = UnprocessedItems?.[tableName] ?? [];
    }
  };
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(batches.slice(i, i + 8).map(writeBatch));
    if ((i / 8) % 40 === 0) progress(`seeded ${Math.min(items.length, (i + 8) * 25)} of ${items.length} items`);
  }
}

/** One pass over the fleet: per page of sites (an empty last page apart), its time and DynamoDB requests. */
/** An item's size by DynamoDB's rules, whether it comes marshalled or as the document client hands it back. */
function sizeOf(item: Record<string, unknown>): number {
  return itemBytes(
    typeof item.pk === 'string' ? marshall(item, { removeUndefinedValues: true }) : (item as Record<string, AttributeValue>),
  );
}

interface Units {
  CapacityUnits?: number;
}

/**
 * Read capacity units the engine reported (`ReturnConsumedCapacity: 'TOTAL'`, asked of every read),
 * the items batch reads handed back, and the units DynamoDB would bill, worked out from item sizes
 * (developer guide, "read and write operations": per item, its size rounded up to 4 KB, one unit
 * strongly consistent, half eventually; a key whose item does not exist is billed as well; a Query,
 * the total of what it read rounded up). DynamoDB Local bills no missing key.
 */
class ReadMeter {
  rru = 0;
  batchKeys = 0;
  batchItems = 0;
  billed = 0;

  attach(client: DynamoDBClient): this {
    client.middlewareStack.add(
      (next) => (args) => {
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity ??= 'TOTAL';
        return next(args);
      },
      { step: 'initialize', name: 'benchFleetCapacity' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const output = result.output as { ConsumedCapacity?: Units | Units[]; Responses?: Record<string, unknown[]> };
        for (const units of [output.ConsumedCapacity ?? []].flat()) this.rru += units.CapacityUnits ?? 0;
        // Here the input is the low-level one; the output may already be the document client's (sizeOf takes both).
        const input = args.input as {
          ConsistentRead?: boolean;
          RequestItems?: Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }>;
        };
        const units = (bytes: number, consistent: boolean | undefined) =>
          Math.max(1, Math.ceil(bytes / dynamoReadUnitBytes)) * (consistent ? 1 : 0.5);
        if (context.commandName === 'BatchGetItemCommand') {
          const requests = Object.values(input.RequestItems ?? {});
          const keys = requests.reduce((n, request) => n + (request.Keys?.length ?? 0), 0);
          const consistent = requests.some((request) => request.ConsistentRead);
          const found = Object.values(output.Responses ?? {}).flat() as Record<string, unknown>[];
          this.batchKeys += keys;
          this.batchItems += found.length;
          this.billed += found.reduce((n, item) => n + units(sizeOf(item), consistent), 0) + (keys - found.length) * units(0, consistent);
        }
        if (context.commandName === 'QueryCommand') {
          const items = (result.output as { Items?: Record<string, unknown>[] }).Items ?? [];
          this.billed += units(
            items.reduce((n, item) => n + sizeOf(item), 0),
            input.ConsistentRead,
          );
        }
        if (context.commandName === 'GetItemCommand') {
          const item = (result.output as { Item?: Record<string, unknown> }).Item;
          this.billed += units(item ? sizeOf(item) : 0, input.ConsistentRead);
        }
        return result;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'benchFleetReads' },
    );
    return this;
  }

  reset(): void {
    this.rru = 0;
    this.batchKeys = 0;
    this.batchItems = 0;
    this.billed = 0;
  }
}

interface Pass {
  ms: number[];
  requests: number[];
  rru: number[];
  billed: number[];
  batchKeys: number[];
  batchItems: number[];
  byCommand: Map<string, number[]>;
  statuses: Map<SiteHealth, number>;
  sites: number;
  /** Pages that held no site: the last one, when the fleet fills its last page exactly (DynamoDB cannot tell that page was the last). */
  empty: { pages: number; requests: number[] };
}

export async function fleetBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { sites: { type: 'string' }, limit: { type: 'string' } }, strict: true });
  const sites = count('sites', values.sites, 10_000, 1, 100_000);
  const limit = count('limit', values.limit, 100, 1, 100);
  const progress = (line: string) => {
    console.error(`bench fleet: ${line}`);
  };
  progress('starting DynamoDB Local (in memory) and the local stack (the reseller API)');
  const stack = await startLocalStack({
    tableName: 'fleet',
    settings,
    clock: () => now,
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    serve: { api: true },
  });
  const { dynamo: client, tableName, api: deps, url } = stack;
  const counter = new RequestCounter().attach(client);
  const meter = new ReadMeter().attach(client);
  const passes: Pass[] = [];
  try {
    const first = newKeyRecord(resellerId, 'bench', 'read-only', now);
    await deps.resellers.createReseller(
      { resellerId, name: 'Bench reseller', targets: { availability: 0.999, timeToAcknowledgeMs: 900_000 }, createdAt: now },
      first.record,
    );
    const items: Record<string, unknown>[] = [
      { pk: resellerPk(resellerId), sk: customerSk(customerId), customerId, name: 'Bench customer', createdAt: now },
    ];
    for (let i = 0; i < sites; i++) items.push(...itemsOf(i));
    progress(`seeding ${sites} sites (${items.length} items: listings, state items, trackers)`);
    const seedStart = performance.now();
    await seed(client, tableName, items, progress);
    progress(`seeded in ${((performance.now() - seedStart) / 1_000).toFixed(1)} s`);

    const get = async (cursor: string | null): Promise<{ page: FleetPage; ms: number }> => {
      const start = performance.now();
      const response = await fetch(`${url}/v1/sites?limit=${String(limit)}${cursor ? `&cursor=${cursor}` : ''}`, {
        headers: { authorization: `Bearer ${first.key}` },
      });
      const page = (await response.json()) as FleetPage;
      const ms = performance.now() - start;
      if (response.status !== 200) throw new Error(`GET /v1/sites answered ${String(response.status)}: ${JSON.stringify(page)}`);
      return { page, ms };
    };
    progress('warming up: 10 pages (uncounted)');
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) cursor = (await get(cursor)).page.nextCursor;

    for (const name of ['first', 'second']) {
      progress(`${name} pass over the fleet, ${limit} sites a page`);
      const pass: Pass = {
        ms: [],
        requests: [],
        rru: [],
        billed: [],
        batchKeys: [],
        batchItems: [],
        byCommand: new Map(),
        statuses: new Map(),
        sites: 0,
        empty: { pages: 0, requests: [] },
      };
      cursor = null;
      do {
        counter.reset();
        meter.reset();
        const { page, ms } = await get(cursor);
        cursor = page.nextCursor;
        if (page.items.length === 0) {
          pass.empty.pages++;
          pass.empty.requests.push(counter.total());
          continue;
        }
        pass.ms.push(ms);
        pass.requests.push(counter.total());
        pass.rru.push(meter.rru);
        pass.billed.push(meter.billed);
        pass.batchKeys.push(meter.batchKeys);
        pass.batchItems.push(meter.batchItems);
        for (const [command, n] of counter.byCommand) pass.byCommand.set(command, [...(pass.byCommand.get(command) ?? []), n]);
        for (const site of page.items) pass.statuses.set(site.status, (pass.statuses.get(site.status) ?? 0) + 1);
        pass.sites += page.items.length;
      } while (cursor);
      passes.push(pass);
    }
  } finally {
    await stack.stop();
  }

  const [one, two] = passes;
  if (!one || !two) return 1;
  const all = [...one.requests, ...two.requests];
  const range = (values: number[]) =>
    Math.min(...values) === Math.max(...values) ? String(values[0]) : `${String(Math.min(...values))}-${String(Math.max(...values))}`;
  const figures: [string, string | number][] = [
    ['sites', sites],
    ['page_limit', limit],
    ['pages_per_pass', one.ms.length],
    [
      'empty_last_pages_per_pass',
      `${String(one.empty.pages)} (${one.empty.requests.length > 0 ? `${range(one.empty.requests)} requests: the key's read and the Query` : 'none'})`,
    ],
    ['sites_listed_per_pass', `${String(one.sites)}, ${String(two.sites)}`],
    ['statuses', siteHealthWorstFirst.map((status) => `${status} ${String(one.statuses.get(status) ?? 0)}`).join(', ')],
    ['ddb_requests_per_page', range(all)],
    [
      'ddb_requests_per_page_by_command',
      [...one.byCommand].map(([command, n]) => `${command.replace(/Command$/, '')} ${range(n)}`).join(', '),
    ],
    [
      'ddb_requests_per_pass',
      `${String(one.requests.reduce((a, b) => a + b, 0) + one.empty.requests.reduce((a, b) => a + b, 0))}, ${String(two.requests.reduce((a, b) => a + b, 0) + two.empty.requests.reduce((a, b) => a + b, 0))}`,
    ],
    ['batch_get_keys_per_page', `${range(one.batchKeys)} (a state item a site, and the trackers its listing names)`],
    ['batch_get_items_found_per_page_median', percentile(one.batchItems, 50)],
    [
      'rru_per_page_reported_median',
      `${percentile(one.rru, 50).toFixed(1)} (DynamoDB Local's figure, the API key's read included: it bills no missing key)`,
    ],
    [
      'rru_per_page_billed_median',
      `${percentile(one.billed, 50).toFixed(1)} (from item sizes, as DynamoDB bills: each key of the batch reads at least 0.5 RRU, found or not)`,
    ],
    [
      'usd_per_page',
      `$${(percentile(one.billed, 50) * prices.dynamoReadUnit.usd).toFixed(7)} (DynamoDB reads only, ${prices.dynamoReadUnit.source})`,
    ],
    ['page_ms_p50', percentile(one.ms, 50).toFixed(1)],
    ['page_ms_p99', percentile(one.ms, 99).toFixed(1)],
    ['second_pass_page_ms_p50', percentile(two.ms, 50).toFixed(1)],
    ['second_pass_page_ms_p99', percentile(two.ms, 99).toFixed(1)],
    ['engine', 'DynamoDB Local in memory, this process: latencies are local ones, not DynamoDB’s'],
  ];
  for (const [name, value] of figures) console.log(`${name}: ${String(value)}`);
  return 0;
}
