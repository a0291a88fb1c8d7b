import * as z from 'zod/mini';
import { Command, Role } from '../../protocol/node.ts';
import type { Exclusion, SiteState } from '../domain/site-state.ts';
import '../../protocol/zod-locale.ts';

/** The site's state item: `pk = SITE#<reseller>#<site>`, `sk = STATE`, the state's fields beside the keys. */
export interface SiteKey {
  resellerId: string;
  siteId: string;
}

export const siteStateSk = 'STATE';

/** The sites by the time bucket of their last contact (`due`: functions/domain/silence.ts), for the silence detector. */
export const dueIndexName = 'due-index';

export function siteKey(key: SiteKey): { pk: string; sk: string } {
  return { pk: `SITE#${key.resellerId}#${key.siteId}`, sk: siteStateSk };
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
  lapsed: z.optional(z.object({ primary: z.string(), epoch: z.number(), leaseEndedAt: z.number(), cause: z.optional(z.literal('node.lost')) })),
  exclusion: z.optional(
    z.object({
      nodeId: z.string(),
      at: z.number(),
      lastSeenAt: z.nullable(z.number()),
      ending: z.optional(z.object({ commandId: z.string(), at: z.number(), by: z.enum(['survivor', 'operator']), keyId: z.optional(z.string()) })),
    }),
  ),
});

/** Reads an item back into the domain's state; a malformed item is a bug, not bad input. */
export function siteStateFromItem(item: Record<string, unknown>): SiteState {
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
  return { ...siteKey(state), ...state };
}
