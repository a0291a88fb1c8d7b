import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient, localDynamoClientConfig } from './dynamo-clients.ts';
import { loadOnce } from './load-once.ts';
import * as z from 'zod/mini';
import type { WitnessSettings } from '../domain/settings.ts';
import type { RateLimit } from '../domain/rate-limit.ts';
import { DynamoSiteStore } from './dynamodb-site-store.ts';
import { NodeMaintenanceStore } from './node-maintenance.ts';
import { RateLimiter } from './rate-limiter.ts';
import { parseSettingsEnv } from './settings-env.ts';
import { parseRetentionEnv, type RetentionSettings } from './retention.ts';
import type { SiteStore } from './site-store.ts';
import { type SecretReader, TokenKey, tokenKeyFromSecret } from './token-key.ts';
import '../../protocol/zod-locale.ts';

/** What a witness handler needs, built once per cold start. */
export interface WitnessDeps {
  store: SiteStore;
  settings: WitnessSettings;
  tokenKey: Buffer;
  /** The one clock: server ms. Tests pass their own. */
  now: () => number;
  /** Per node token: a node sends one request every few seconds; a flood from one token is refused with 429. */
  limiter: RateLimiter;
  /** Maintenance windows agents declare (POST /v1/node/maintenance). */
  maintenance: NodeMaintenanceStore;
}

/** 10 requests a second per node token, 50 at once: far above any agent's cadence and retries. */
export const nodeRateLimit: RateLimit = { perSecond: 10, burst: 50 };

/** How a handler gets its deps: at once (local runtime, tests) or once loaded (Lambda, the key from Secrets Manager). */
export type DepsSource = () => WitnessDeps | Promise<WitnessDeps>;

const Env = z
  .object({
    TIEBREAK_TABLE: z.string().check(z.minLength(3)),
    /** The key itself: local mode. */
    TIEBREAK_TOKEN_KEY: z.optional(TokenKey),
    /** Where the key is kept: Lambda (ARN or name of a Secrets Manager secret). */
    TIEBREAK_TOKEN_KEY_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    TIEBREAK_DYNAMODB_ENDPOINT: z.optional(z.url()),
  })
  .check(
    z.refine((env) => (env.TIEBREAK_TOKEN_KEY === undefined) !== (env.TIEBREAK_TOKEN_KEY_SECRET_ARN === undefined), {
      message: 'set exactly one of TIEBREAK_TOKEN_KEY (the key, base64) and TIEBREAK_TOKEN_KEY_SECRET_ARN (a secret holding it)',
      path: ['TIEBREAK_TOKEN_KEY'],
    }),
  );

export interface WitnessConfig {
  tableName: string;
  tokenKey: Buffer;
  dynamoEndpoint: string | undefined;
  settings: WitnessSettings;
  /** How long audit events and the webhook delivery log are kept (TIEBREAK_*_RETENTION_DAYS); unset, the defaults. */
  retention?: RetentionSettings;
}

type TokenKeySource = { key: Buffer } | { secretId: string };

function parseEnv(env: NodeJS.ProcessEnv): Omit<WitnessConfig, 'tokenKey'> & { tokenKey: TokenKeySource } {
  const parsed = Env.safeParse(env);
  const settings = parseSettingsEnv(env);
  const retention = parseRetentionEnv(env);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
    ...(settings.ok ? [] : settings.problems.map((p) => `${p.name}: ${p.message}`)),
    ...(retention.ok ? [] : retention.problems.map((p) => `${p.name}: ${p.message}`)),
  ];
  if (!parsed.success || !settings.ok || !retention.ok) throw new Error(`witness configuration is invalid: ${problems.join('; ')}`);
  const e = parsed.data;
  return {
    tableName: e.TIEBREAK_TABLE,
    // The refinement above makes exactly one of the two present.
    tokenKey: e.TIEBREAK_TOKEN_KEY ? { key: e.TIEBREAK_TOKEN_KEY } : { secretId: e.TIEBREAK_TOKEN_KEY_SECRET_ARN ?? '' },
    dynamoEndpoint: e.TIEBREAK_DYNAMODB_ENDPOINT,
    settings: settings.settings,
    retention: retention.retention,
  };
}

/** Local mode: the key is in the environment itself (`TIEBREAK_TOKEN_KEY`). */
export function witnessConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WitnessConfig {
  const { tokenKey, ...rest } = parseEnv(env);
  if (!('key' in tokenKey)) {
    throw new Error('witness configuration: the key is in a secret (TIEBREAK_TOKEN_KEY_SECRET_ARN); load it with loadWitnessConfig()');
  }
  return { ...rest, tokenKey: tokenKey.key };
}

/** Either mode: with `TIEBREAK_TOKEN_KEY_SECRET_ARN`, the key is read from that secret (one read). */
export async function loadWitnessConfig(env: NodeJS.ProcessEnv = process.env, readSecret?: SecretReader): Promise<WitnessConfig> {
  const { tokenKey, ...rest } = parseEnv(env);
  return { ...rest, tokenKey: 'key' in tokenKey ? tokenKey.key : await tokenKeyFromSecret(tokenKey.secretId, readSecret) };
}


export function witnessDeps(config: WitnessConfig, client?: DynamoDBClient): WitnessDeps {
  const dynamo =
    client ??
    new DynamoDBClient(config.dynamoEndpoint ? localDynamoClientConfig(config.dynamoEndpoint) : {});
  const doc = documentClient(dynamo);
  return {
    store: new DynamoSiteStore(doc, config.tableName),
    maintenance: new NodeMaintenanceStore(doc, config.tableName),
    settings: config.settings,
    tokenKey: config.tokenKey,
    now: () => Date.now(),
    limiter: new RateLimiter(nodeRateLimit),
  };
}


/** Lambda's deps: read from the environment (and the key from its secret) on the first invocation of a cold start, then kept. */
export const witnessDepsFromEnv: () => Promise<WitnessDeps> = loadOnce(async () => witnessDeps(await loadWitnessConfig()));

export { documentClient, loadOnce, localDynamoClientConfig };
