import * as z from 'zod/mini';
import { CommandId, Identifier } from './ids.ts';
import { safeRecord } from './reserved-keys.ts';
import './zod-locale.ts';

// zod/mini, not classic zod: these schemas are on the Lambda functions' import graph (bench/bundles.ts).

/** Largest accepted request body, in bytes (DESIGN.md: 413 above it). */
export const maxBodyBytes = 16 * 1024;

const Counter = z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));

export const Role = z.enum(['primary', 'secondary', 'fenced']);
export type Role = z.infer<typeof Role>;

export const CheckState = z.enum(['ok', 'warn', 'fail']);

export const HeartbeatRequest = z.strictObject({
  incarnation: Counter,
  seq: Counter,
  epoch: Counter,
  role: Role,
  peer: z.optional(
    z.strictObject({
      reachable: z.boolean(),
      lastContactMs: z.optional(z.nullable(z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)))),
    }),
  ),
  health: z.optional(
    z.strictObject({
      score: z.number().check(z.int(), z.minimum(0), z.maximum(100)),
      checks: z.optional(safeRecord(z.string().check(z.regex(/^[a-z0-9_.-]{1,32}$/)), CheckState)),
    }),
  ),
  acks: z.optional(z.array(CommandId).check(z.maxLength(16))),
  workloads: z.optional(
    z
      .array(
        z.strictObject({ id: z.string().check(z.minLength(1), z.maxLength(64)), state: z.string().check(z.minLength(1), z.maxLength(32)) }),
      )
      .check(z.maxLength(32)),
  ),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

/**
 * `end-standalone` (W5): the survivor's lease is standalone no more (its peer is being readmitted);
 * from this answer on it counts its witness lease as an ordinary one, and acknowledges the command.
 */
export const CommandType = z.enum(['promote', 'demote', 'resync', 'end-standalone']).check(
  z.meta({
    description:
      '`end-standalone` (survivor mode): the lease is standalone no more; count the ordinary `leaseMs` of the answer that carried it, and acknowledge it',
  }),
);
export type CommandType = z.infer<typeof CommandType>;

export const Command = z.object({
  id: CommandId,
  type: CommandType,
  epoch: Counter,
  /** Server time, ms since the Unix epoch: for logs only, never for lease arithmetic (A2). */
  issuedAt: Counter,
  reason: z.string(),
});
export type Command = z.infer<typeof Command>;

const LeaseMs = z.number().check(z.int(), z.positive());

/**
 * W5/A5: the lease this answer earned is standalone: the other node is excluded, so the lease does
 * not expire (`leaseMs: null`) or, where the witness bounds it, lasts `leaseMs` from the request's
 * sending. Null when the lease is an ordinary one. Agents that predate survivor mode ignore it and
 * keep counting the ordinary `leaseMs`, which is safe.
 */
export const Standalone = z.nullable(z.object({ leaseMs: z.nullable(LeaseMs) })).check(
  z.meta({
    description:
      'Survivor mode (W5/A5): the other node is excluded and this lease is standalone. `leaseMs: null`: it does not expire; keep running ' +
      'without renewals until a higher epoch is seen or an `end-standalone` command arrives. A number: it lasts that long from the ' +
      "request's sending. Null: an ordinary lease. Agents that predate survivor mode ignore it and count `leaseMs`, which is safe.",
  }),
);
export type Standalone = z.infer<typeof Standalone>;

export const HeartbeatResponse = z.object({
  epoch: Counter,
  primary: z.nullable(Identifier),
  role: z.enum(['primary', 'secondary']),
  /** Length of the witness lease this heartbeat earned, or null when it earned none. */
  leaseMs: z.nullable(LeaseMs),
  standalone: Standalone,
  /** W5: the witness excludes this node: its claims are refused until the survivor hears it again, or an operator readmits it. */
  excluded: z.boolean().check(
    z.meta({
      description:
        'W5: the witness excludes this node: its claims are refused until the survivor hears it again on the peer link and gives its standalone lease back, or an operator readmits it',
    }),
  ),
  commands: z.array(Command),
  heartbeatMs: z.number().check(z.int(), z.positive()),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const ClaimReason = z.enum(['peer-lost', 'startup', 'operator']);

export const ClaimRequest = z.strictObject({
  incarnation: Counter,
  seq: Counter,
  epoch: Counter,
  reason: ClaimReason,
});
export type ClaimRequest = z.infer<typeof ClaimRequest>;

export const RefusalReason = z.enum(['lease-held', 'startup-window', 'not-fresh', 'unhealthy', 'healthier-peer', 'excluded']);
export type RefusalReason = z.infer<typeof RefusalReason>;

export const ClaimResponse = z.discriminatedUnion('granted', [
  z.object({ granted: z.literal(true), epoch: Counter, leaseMs: LeaseMs, standalone: Standalone }),
  z.object({
    granted: z.literal(false),
    epoch: Counter,
    primary: z.nullable(Identifier),
    retryAfterMs: z.number().check(z.int(), z.minimum(0)),
    reason: RefusalReason,
    /** Why, in words: for `excluded`, how the node rejoins. */
    message: z.string(),
  }),
]);
export type ClaimResponse = z.infer<typeof ClaimResponse>;

/**
 * `POST /v1/node/maintenance`: the agent declares a maintenance window for its site from now (an
 * operator at the site is about to work on it). Conditions inside it open no incident and page no
 * one, but stay in the audit trail.
 */
export const MaintenanceRequest = z.strictObject({
  minutes: z.number().check(z.int(), z.minimum(1), z.maximum(24 * 60)),
  reason: z.string().check(z.minLength(1), z.maxLength(500)),
});
export type MaintenanceRequest = z.infer<typeof MaintenanceRequest>;

export const MaintenanceResponse = z.object({
  windowId: z.string(),
  /** ISO 8601, UTC. */
  start: z.string(),
  end: z.string(),
  reason: z.string(),
});
export type MaintenanceResponse = z.infer<typeof MaintenanceResponse>;
