import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import { defaultSettings, shortestSettings, type WitnessSettings } from '../domain/settings.ts';

/**
 * The witness's timings as environment variables. One schema, read by the handlers at a cold start
 * and by the CDK app at synth time (from its context), so a deployment cannot carry timings the
 * functions would refuse.
 */
export const settingsEnvNames = {
  leaseMs: 'TIEBREAK_LEASE_MS',
  skewMarginMs: 'TIEBREAK_SKEW_MARGIN_MS',
  fastHeartbeatMs: 'TIEBREAK_FAST_HEARTBEAT_MS',
  slowHeartbeatMs: 'TIEBREAK_SLOW_HEARTBEAT_MS',
  freshnessMs: 'TIEBREAK_FRESHNESS_MS',
  startupWindowMs: 'TIEBREAK_STARTUP_WINDOW_MS',
  silenceMs: 'TIEBREAK_SILENCE_MS',
  dueBucketMs: 'TIEBREAK_DUE_BUCKET_MS',
  exclusionMs: 'TIEBREAK_EXCLUSION_MS',
  standaloneLeaseMs: 'TIEBREAK_STANDALONE_LEASE_MS',
  commandAckMs: 'TIEBREAK_COMMAND_ACK_MS',
} as const satisfies Record<keyof WitnessSettings, string>;

const ms = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(86_400_000)), fallback);

const SettingsEnv = z
  .object({
    TIEBREAK_LEASE_MS: ms(defaultSettings.leaseMs).check(
      z.refine((v) => v >= shortestSettings.leaseMs, `at least ${shortestSettings.leaseMs} ms is supported`),
    ),
    TIEBREAK_SKEW_MARGIN_MS: ms(defaultSettings.skewMarginMs),
    TIEBREAK_FAST_HEARTBEAT_MS: ms(defaultSettings.fastHeartbeatMs),
    TIEBREAK_SLOW_HEARTBEAT_MS: ms(defaultSettings.slowHeartbeatMs),
    TIEBREAK_FRESHNESS_MS: ms(defaultSettings.freshnessMs),
    TIEBREAK_STARTUP_WINDOW_MS: ms(defaultSettings.startupWindowMs),
    TIEBREAK_SILENCE_MS: ms(defaultSettings.silenceMs),
    TIEBREAK_DUE_BUCKET_MS: ms(defaultSettings.dueBucketMs),
    // Unset: twice the freshness window, whatever that is set to, and never under one lease.
    TIEBREAK_EXCLUSION_MS: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(86_400_000))),
    // Unset: a standalone lease lasts until the excluded node is readmitted. At most 30 days.
    TIEBREAK_STANDALONE_LEASE_MS: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(30 * 86_400_000))),
    TIEBREAK_COMMAND_ACK_MS: ms(defaultSettings.commandAckMs),
  })
  .check(
    z.refine((env) => env.TIEBREAK_FAST_HEARTBEAT_MS < env.TIEBREAK_LEASE_MS, {
      message: 'the fast heartbeat must come more often than a lease lasts',
      path: ['TIEBREAK_FAST_HEARTBEAT_MS'],
    }),
    // Shorter, and a healthy site whose slow heartbeat is a little late would be called down.
    z.refine((env) => env.TIEBREAK_SILENCE_MS > env.TIEBREAK_SLOW_HEARTBEAT_MS, {
      message: 'a site must miss more than one slow heartbeat before it counts as silent',
      path: ['TIEBREAK_SILENCE_MS'],
    }),
    // Narrower, and a live site would move in the due index at every heartbeat: 2 index writes each.
    z.refine((env) => env.TIEBREAK_DUE_BUCKET_MS >= env.TIEBREAK_SLOW_HEARTBEAT_MS, {
      message: 'a due bucket must be at least as long as the slow heartbeat',
      path: ['TIEBREAK_DUE_BUCKET_MS'],
    }),
    // Shorter, and a live node whose requests were lost for a lease or two would be excluded.
    z.refine((env) => env.TIEBREAK_EXCLUSION_MS === undefined || env.TIEBREAK_EXCLUSION_MS >= env.TIEBREAK_LEASE_MS, {
      message: 'a node must be unheard for at least one lease before it is excluded',
      path: ['TIEBREAK_EXCLUSION_MS'],
    }),
    z.refine((env) => env.TIEBREAK_STANDALONE_LEASE_MS === undefined || env.TIEBREAK_STANDALONE_LEASE_MS >= 2 * env.TIEBREAK_LEASE_MS, {
      message: 'a bounded standalone lease must last at least two ordinary leases (unset: until the excluded node is readmitted)',
      path: ['TIEBREAK_STANDALONE_LEASE_MS'],
    }),
    // A node asked the fast cadence while it owes a command hears it at one heartbeat and answers at
    // the next (its hook may run between): shorter, and a healthy failover would be called overdue.
    z.refine((env) => env.TIEBREAK_COMMAND_ACK_MS >= 2 * env.TIEBREAK_FAST_HEARTBEAT_MS, {
      message: 'a node must have at least two fast heartbeats to acknowledge a command',
      path: ['TIEBREAK_COMMAND_ACK_MS'],
    }),
  );

export interface SettingsProblem {
  /** The variable at fault, e.g. `TIEBREAK_LEASE_MS`. */
  name: string;
  message: string;
}

/** The timings the variables give (defaults for those unset), or every problem found. */
export function parseSettingsEnv(
  env: Record<string, string | undefined>,
): { ok: true; settings: WitnessSettings } | { ok: false; problems: SettingsProblem[] } {
  const parsed = SettingsEnv.safeParse(env);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => ({ name: i.path.join('.'), message: i.message })) };
  }
  const e = parsed.data;
  return {
    ok: true,
    settings: {
      leaseMs: e.TIEBREAK_LEASE_MS,
      skewMarginMs: e.TIEBREAK_SKEW_MARGIN_MS,
      fastHeartbeatMs: e.TIEBREAK_FAST_HEARTBEAT_MS,
      slowHeartbeatMs: e.TIEBREAK_SLOW_HEARTBEAT_MS,
      freshnessMs: e.TIEBREAK_FRESHNESS_MS,
      startupWindowMs: e.TIEBREAK_STARTUP_WINDOW_MS,
      silenceMs: e.TIEBREAK_SILENCE_MS,
      dueBucketMs: e.TIEBREAK_DUE_BUCKET_MS,
      exclusionMs: e.TIEBREAK_EXCLUSION_MS ?? Math.max(2 * e.TIEBREAK_FRESHNESS_MS, e.TIEBREAK_LEASE_MS),
      standaloneLeaseMs: e.TIEBREAK_STANDALONE_LEASE_MS ?? null,
      commandAckMs: e.TIEBREAK_COMMAND_ACK_MS,
    },
  };
}

/** The variables that carry these timings (what the CDK app sets on each function); an unbounded standalone lease is no variable. */
export function settingsEnv(settings: WitnessSettings): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(settingsEnvNames) as (keyof WitnessSettings)[]).flatMap((key) => {
      const value = settings[key];
      return value === null ? [] : [[settingsEnvNames[key], String(value)]];
    }),
  );
}
