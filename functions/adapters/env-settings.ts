import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import type { WitnessSettings } from '../domain/settings.ts';
import type { AddressPolicy } from './address-policy.ts';
import type { ClientEndpoints } from './client-endpoints.ts';
import { parseRetentionEnv, type RetentionSettings } from './retention.ts';
import { parseSettingsEnv } from './settings-env.ts';

/**
 * The shared pieces every function's settings schema is built from (STYLE.md §5: one settings
 * object per function, read once at a cold start). A piece reads its variables and answers its
 * value or every problem, by variable; `readEnv` puts a function's pieces together and fails
 * with all the problems at once, each naming its variable.
 */
export type Env = Record<string, string | undefined>;

export interface EnvProblem {
  /** The variable at fault, e.g. `TIEBREAK_TABLE`. */
  name: string;
  message: string;
}

export type EnvPiece<T> = (env: Env) => { ok: true; value: T } | { ok: false; problems: EnvProblem[] };

type PieceValues<P> = { [K in keyof P]: P[K] extends EnvPiece<infer T> ? T : never };

/** A piece from a zod schema of some variables, and what their parsed values make. */
export function envPiece<S extends z.ZodMiniType, T>(schema: S, read: (data: z.output<S>) => T): EnvPiece<T> {
  return (env) => {
    const parsed = schema.safeParse(env);
    if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => ({ name: i.path.join('.'), message: i.message })) };
    return { ok: true, value: read(parsed.data) };
  };
}

/** A function's settings from its pieces, or one error naming every variable at fault. */
export function readEnv<P extends Record<string, EnvPiece<unknown>>>(what: string, env: Env, pieces: P): PieceValues<P> {
  const values: Record<string, unknown> = {};
  const problems: EnvProblem[] = [];
  for (const [key, piece] of Object.entries(pieces)) {
    const read = piece(env);
    if (read.ok) values[key] = read.value;
    else problems.push(...read.problems);
  }
  if (problems.length > 0)
    throw new Error(`${what} configuration is invalid: ${problems.map((p) => `${p.name}: ${p.message}`).join('; ')}`);
  return values as PieceValues<P>;
}

const prefixPattern = /^[A-Za-z0-9-]{1,20}$/;

/** The one table. */
export const tablePiece = envPiece(z.object({ TIEBREAK_TABLE: z.string().check(z.minLength(3)) }), (e) => e.TIEBREAK_TABLE);

/** Local engines' endpoints; unset, AWS. */
export const endpointsPiece = envPiece(
  z.object({ TIEBREAK_DYNAMODB_ENDPOINT: z.optional(z.url()), TIEBREAK_SNS_ENDPOINT: z.optional(z.url()) }),
  (e): ClientEndpoints => ({ dynamodb: e.TIEBREAK_DYNAMODB_ENDPOINT, snsSqs: e.TIEBREAK_SNS_ENDPOINT }),
);

/** The witness's timings (settings-env.ts: shared with the CDK app). */
export const timingsPiece: EnvPiece<WitnessSettings> = (env) => {
  const parsed = parseSettingsEnv(env);
  return parsed.ok ? { ok: true, value: parsed.settings } : parsed;
};

/** How long audit events and the webhook delivery log are kept. */
export const retentionPiece: EnvPiece<RetentionSettings> = (env) => {
  const parsed = parseRetentionEnv(env);
  return parsed.ok ? { ok: true, value: parsed.retention } : parsed;
};

/** Names each reseller's queues and topic (`<prefix>-svc-<reseller>`, …); the stack grants exactly those. */
export const channelPrefixPiece = envPiece(
  z.object({ TIEBREAK_CHANNEL_PREFIX: z.string().check(z.regex(prefixPattern)) }),
  (e) => e.TIEBREAK_CHANNEL_PREFIX,
);

/** The same, optional: unset, `fallback`. */
export const optionalChannelPrefixPiece = (fallback: string) =>
  envPiece(
    z.object({ TIEBREAK_CHANNEL_PREFIX: z.optional(z.string().check(z.regex(prefixPattern))) }),
    (e) => e.TIEBREAK_CHANNEL_PREFIX ?? fallback,
  );

/** One variable read by a zod schema, its problems under its own name. */
function variablePiece<T>(name: string, schema: z.ZodMiniType<T>): EnvPiece<T> {
  return (env) => {
    const parsed = schema.safeParse(env[name]);
    return parsed.success
      ? { ok: true, value: parsed.data }
      : { ok: false, problems: parsed.error.issues.map((i) => ({ name, message: i.message })) };
  };
}

/** A queue's URL in the variable `name`. */
export const urlPiece = (name: string): EnvPiece<string> => variablePiece(name, z.url());

/** The same, optional. */
export const optionalUrlPiece = (name: string): EnvPiece<string | undefined> => variablePiece(name, z.optional(z.url()));

/** The events topic. */
export const topicArnPiece = envPiece(
  z.object({ TIEBREAK_EVENT_TOPIC_ARN: z.string().check(z.startsWith('arn:')) }),
  (e) => e.TIEBREAK_EVENT_TOPIC_ARN,
);

/**
 * Whether an inbound hook's bearer token is accepted over plain HTTP: only for the local runtime
 * (`npm start` serves HTTP on loopback), never in AWS, where the stack does not set it.
 */
export const httpHooksPiece = envPiece(
  z.object({ TIEBREAK_HOOKS_ALLOW_HTTP: z.optional(z.string()) }),
  (e) => e.TIEBREAK_HOOKS_ALLOW_HTTP === 'true',
);

/** Which addresses webhooks may reach: loopback only when asked (the local runtime's receivers), never in AWS. */
export const addressPolicyPiece = envPiece(z.object({ TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: z.optional(z.string()) }), (e): AddressPolicy => ({
  allowLoopback: e.TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK === 'true',
}));
