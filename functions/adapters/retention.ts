import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';

/**
 * How long the records that would otherwise grow forever are kept, in days: each is written with
 * `expiresAt` (the table's TTL attribute) that far ahead, and DynamoDB deletes it some time after.
 * Read by the functions that write or list them (publisher, API, webhook router and deliverer) and
 * by the CDK app at synth time (from its context), as the witness timings are.
 */
export interface RetentionSettings {
  /** Sites' audit trails (their events): the SLA report reads them, so at least a year and a month by default. */
  auditTrailDays: number;
  /** Webhook messages and their delivery log (each try). */
  deliveryLogDays: number;
}

/** 400 days: an annual SLA report, run a month after its year ends, still finds all its events. */
export const defaultRetention: RetentionSettings = { auditTrailDays: 400, deliveryLogDays: 30 };

export const retentionEnvNames = {
  auditTrailDays: 'TIEBREAK_AUDIT_RETENTION_DAYS',
  deliveryLogDays: 'TIEBREAK_DELIVERY_LOG_RETENTION_DAYS',
} as const satisfies Record<keyof RetentionSettings, string>;

/** Ten years at most: far beyond any report, and well inside what epoch seconds and dates hold. */
export const maxRetentionDays = 3653;

const days = (fallback: number) =>
  z._default(
    z.coerce
      .number('a whole number of days')
      .check(
        z.int('a whole number of days'),
        z.minimum(1, 'at least 1 day'),
        z.maximum(maxRetentionDays, `at most ${maxRetentionDays} days`),
      ),
    fallback,
  );

const RetentionEnv = z.object({
  TIEBREAK_AUDIT_RETENTION_DAYS: days(defaultRetention.auditTrailDays),
  TIEBREAK_DELIVERY_LOG_RETENTION_DAYS: days(defaultRetention.deliveryLogDays),
});

export const dayMs = 86_400_000;

/** The retention the variables give (defaults for those unset), or every problem found, by variable. */
export function parseRetentionEnv(
  env: Record<string, string | undefined>,
): { ok: true; retention: RetentionSettings } | { ok: false; problems: { name: string; message: string }[] } {
  // An empty variable is unset (a shell's `VAR=`), not zero days.
  const present = Object.fromEntries(Object.values(retentionEnvNames).map((name) => [name, env[name] === '' ? undefined : env[name]]));
  const parsed = RetentionEnv.safeParse(present);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => ({ name: i.path.join('.'), message: i.message })) };
  return {
    ok: true,
    retention: {
      auditTrailDays: parsed.data.TIEBREAK_AUDIT_RETENTION_DAYS,
      deliveryLogDays: parsed.data.TIEBREAK_DELIVERY_LOG_RETENTION_DAYS,
    },
  };
}

/** The retention from the environment; a bad value is an error naming its variable (a cold start fails rather than keep data for a wrong time). */
export function retentionFromEnv(env: Record<string, string | undefined> = process.env): RetentionSettings {
  const parsed = parseRetentionEnv(env);
  if (!parsed.ok)
    throw new Error(`retention configuration is invalid: ${parsed.problems.map((p) => `${p.name}: ${p.message}`).join('; ')}`);
  return parsed.retention;
}

/** The variables that carry the retention (what the CDK app sets on each function). */
export function retentionEnv(retention: RetentionSettings): Record<string, string> {
  return {
    [retentionEnvNames.auditTrailDays]: String(retention.auditTrailDays),
    [retentionEnvNames.deliveryLogDays]: String(retention.deliveryLogDays),
  };
}
