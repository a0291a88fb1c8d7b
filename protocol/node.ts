import * as z from 'zod';
import { CommandId, Identifier } from './ids.ts';

/** Largest accepted request body, in bytes (DESIGN.md: 413 above it). */
export const maxBodyBytes = 16 * 1024;

const Counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const Role = z.enum(['primary', 'secondary', 'fenced']);
export type Role = z.infer<typeof Role>;

export const CheckState = z.enum(['ok', 'warn', 'fail']);

export const HeartbeatRequest = z.strictObject({
  incarnation: Counter,
  seq: Counter,
  epoch: Counter,
  role: Role,
  peer: z
    .strictObject({
      reachable: z.boolean(),
      lastContactMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
    })
    .optional(),
  health: z
    .strictObject({
      score: z.number().int().min(0).max(100),
      checks: z.record(z.string().regex(/^[a-z0-9_.-]{1,32}$/), CheckState).optional(),
    })
    .optional(),
  acks: z.array(CommandId).max(16).optional(),
  workloads: z
    .array(z.strictObject({ id: z.string().min(1).max(64), state: z.string().min(1).max(32) }))
    .max(32)
    .optional(),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const CommandType = z.enum(['promote', 'demote', 'resync']);
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

export const HeartbeatResponse = z.object({
  epoch: Counter,
  primary: Identifier.nullable(),
  role: z.enum(['primary', 'secondary']),
  /** Length of the witness lease this heartbeat earned, or null when it earned none. */
  leaseMs: z.number().int().positive().nullable(),
  commands: z.array(Command),
  heartbeatMs: z.number().int().positive(),
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

export const RefusalReason = z.enum(['lease-held', 'startup-window', 'not-fresh', 'unhealthy', 'healthier-peer']);
export type RefusalReason = z.infer<typeof RefusalReason>;

export const ClaimResponse = z.discriminatedUnion('granted', [
  z.object({ granted: z.literal(true), epoch: Counter, leaseMs: z.number().int().positive() }),
  z.object({
    granted: z.literal(false),
    epoch: Counter,
    primary: Identifier.nullable(),
    retryAfterMs: z.number().int().min(0),
    reason: RefusalReason,
  }),
]);
export type ClaimResponse = z.infer<typeof ClaimResponse>;
