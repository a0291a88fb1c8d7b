import * as z from 'zod/mini';
import { Command, Role } from '../../protocol/node.ts';
import type { Plan } from '../domain/plan.ts';
import type { Exclusion, SiteState } from '../domain/site-state.ts';
import '../../protocol/zod-locale.ts';
import { sitePk, siteStateSk } from './tenancy-items.ts';

export interface SiteKey {
  resellerId: string;
  siteId: string;
}

/**
 * The sites by the time bucket of their last contact (`due`: functions/domain/silence.ts) and a
 * shard of their key, for the silence detector: its key is `dueShard`, `<bucket>#<shard>`.
 */
export const dueIndexName = 'due-shard-index';
export const dueShardAttribute = 'dueShard';

/**
 * The first due index, on `due` alone: one partition per bucket, which every live site of the fleet
 * writes. Kept for one release while the sharded index fills (see README, "Scale"): CloudFormation
 * cannot add one index and drop another in the same update. The next release deletes it.
 */
export const legacyDueIndexName = 'due-index';

/**
 * S, the shards of a bucket. DynamoDB takes at most 1,000 write units a second on one partition
 * (developer guide, "warm throughput": 1,000 WCU/s, 3,000 RCU/s per partition), and an index key
 * value is one partition. A site moves to the next bucket at its first contact after the
 * boundary: its index entry is deleted from `<k>#<s>` and put into `<k+1>#<s>`, 1 WCU each (keys
 * only: well under 1 KB). The moves are not spread over the 5 minutes but come right after the
 * boundary: each node heartbeats at a fixed cadence T, from a random phase, and the first of the
 * site's two nodes moves it, so the moves arrive at 2N/T a second at first (the minimum of two
 * uniform phases has twice their density at 0), not N/300. At N = 1,000,000 sites:
 *   slow cadence, T = 60 s: 2 × 1,000,000 / 60 ≈  33,333 moves/s;
 *   fast cadence, T =  5 s: 2 × 1,000,000 / 5  = 400,000 moves/s (every site has lost its link).
 * Each such second puts that many entries into the new bucket's partitions and deletes as many
 * from the old one's. With S = 1,024 a partition takes 400,000 / 1,024 ≈ 391 WCU/s at the fast
 * peak (39 % of the limit; 782 if the old and the new key of a shard share a physical partition),
 * 33 WCU/s at the slow one. S = 32 would not do even at the slow cadence (1,042 WCU/s).
 * The detector pays with S Queries a bucket (most of them empty: 0.5 RRU each).
 * `TIEBREAK_DUE_SHARDS` sets another S, a power of two up to 1,024, for a test run or a local
 * engine (no partition limit there, and 1,024 Queries a bucket take seconds: `npm start` uses
 * `localDueShards` unless it is set); every function must see the same. S may grow (the shard
 * being the hash modulo S, a site's old shard number is still read); it must not shrink.
 */
export const defaultDueShards = 1_024;
export const localDueShards = 16;

let shards: number | undefined;
/** S, read from `TIEBREAK_DUE_SHARDS` at first use (not at import: `npm start` sets its default first). */
export function dueShards(): number {
  shards ??= shardsFromEnv(process.env.TIEBREAK_DUE_SHARDS);
  return shards;
}

function shardsFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return defaultDueShards;
  const shards = Number(value);
  if (!Number.isInteger(shards) || shards < 1 || shards > defaultDueShards || (shards & (shards - 1)) !== 0) {
    throw new Error(`TIEBREAK_DUE_SHARDS must be a power of two from 1 to ${String(defaultDueShards)}, not ${value}`);
  }
  return shards;
}

/** FNV-1a (32 bit) of the site's pk, modulo S: stable across processes and releases, so a site's moves stay in one shard. */
export function dueShardOf(key: SiteKey): number {
  let hash = 0x811c9dc5;
  for (const char of siteKey(key).pk) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % dueShards();
}

/** The sharded index's key of a site filed under `bucket`. */
export function dueShardKey(bucket: number, shard: number): string {
  return `${String(bucket)}#${String(shard)}`;
}

/**
 * The plan as the table takes it: a write that files the site under a bucket (`due`, the domain's
 * field) also sets its key in the sharded index. The domain knows buckets, not the index's layout.
 */
export function withDueShard(key: SiteKey, plan: Plan): Plan {
  const filed = plan.updates.find((u) => u.op === 'set' && u.path.length === 1 && u.path[0] === 'due');
  if (filed?.op !== 'set' || typeof filed.value !== 'number') return plan;
  return {
    ...plan,
    updates: [...plan.updates, { op: 'set', path: [dueShardAttribute], value: dueShardKey(filed.value, dueShardOf(key)) }],
  };
}

/** The site's state item: `pk = sitePk`, `sk = siteStateSk` (tenancy-items.ts), the state's fields beside the keys. */
export function siteKey(key: SiteKey): { pk: string; sk: string } {
  return { pk: sitePk(key.resellerId, key.siteId), sk: siteStateSk };
}

// The witness's own marks on a promote or demote awaiting acknowledgement (PendingCommand): kept, not stripped.
const PendingCommandItem = z.extend(Command, { deliveredAt: z.optional(z.number()), overdueAt: z.optional(z.number()) });

const NodeItem = z.object({
  tokenVersion: z.number(),
  incarnation: z.number(),
  seq: z.number(),
  lastSeenAt: z.nullable(z.number()),
  role: z.nullable(Role),
  reportedEpoch: z.nullable(z.number()),
  health: z.nullable(z.number()),
  peerReachable: z.nullable(z.boolean()),
  peerLostSince: z.optional(z.number()),
  commands: z.record(z.string(), PendingCommandItem),
  commandsDueAt: z.optional(z.number()),
});

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const SiteItem = z.object({
  resellerId: z.string(),
  siteId: z.string(),
  rev: z.number(),
  epoch: z.number(),
  primary: z.nullable(z.string()),
  leaseExpiresAt: z.number(),
  firstContactAt: z.optional(z.number()),
  policy: z.object({
    tieBreak: z.enum(['keep-primary', 'preferred-node', 'health-weighted']),
    preferredNode: z.nullable(z.string()),
    healthThreshold: z.number(),
  }),
  nodes: z.record(z.string(), NodeItem),
  decision: z.nullable(
    z.object({
      kind: z.enum(['renew', 'grant', 'demote', 'force']),
      nodeId: z.string(),
      at: z.number(),
      epoch: z.number(),
      reason: z.string(),
      inputs: z.record(z.string(), Scalar),
    }),
  ),
  /** The due index's key (functions/domain/silence.ts): absent until a node first speaks. */
  due: z.optional(z.number()),
  silence: z.optional(z.object({ since: z.number(), at: z.number() })),
  lapsed: z.optional(
    z.object({ primary: z.string(), epoch: z.number(), leaseEndedAt: z.number(), cause: z.optional(z.literal('node.lost')) }),
  ),
  exclusion: z.optional(
    z.object({
      nodeId: z.string(),
      at: z.number(),
      lastSeenAt: z.nullable(z.number()),
      ending: z.optional(
        z.object({ commandId: z.string(), at: z.number(), by: z.enum(['survivor', 'operator']), keyId: z.optional(z.string()) }),
      ),
    }),
  ),
});

/** Reads an item back into the domain's state; a malformed item is a bug, not bad input. */
export function siteStateFromItem(item: Record<string, unknown>): SiteState {
  // Keys the schema does not name are dropped: pk, sk, and the sharded index's `dueShard` (the table's, not the state's).
  const { firstContactAt, due, silence, lapsed, exclusion, ...rest } = SiteItem.parse(item);
  // Absent stays absent (not `undefined`): the state must equal the pure model's, key for key.
  return {
    ...rest,
    ...(firstContactAt === undefined ? {} : { firstContactAt }),
    ...(due === undefined ? {} : { due }),
    ...(silence === undefined ? {} : { silence }),
    ...(lapsed === undefined ? {} : { lapsed }),
    ...(exclusion === undefined ? {} : { exclusion: withoutAbsent(exclusion) }),
  };
}

/** An exclusion as the domain writes it: `ending` and `keyId` absent, not undefined. */
function withoutAbsent(exclusion: z.infer<typeof SiteItem>['exclusion'] & object): Exclusion {
  const { ending, ...rest } = exclusion;
  if (!ending) return rest;
  const { keyId, ...plain } = ending;
  return { ...rest, ending: keyId === undefined ? plain : { ...plain, keyId } };
}

export function itemFromSiteState(state: SiteState): Record<string, unknown> {
  const indexKey = state.due === undefined ? {} : { [dueShardAttribute]: dueShardKey(state.due, dueShardOf(state)) };
  return { ...siteKey(state), ...state, ...indexKey };
}
