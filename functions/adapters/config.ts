import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ClientEndpoints } from './client-endpoints.ts';
import { documentClient, dynamoClient, localDynamoClientConfig } from './dynamo-clients.ts';
import { type Env, endpointsPiece, readEnv, retentionPiece, tablePiece, timingsPiece } from './env-settings.ts';
import { tokenKeySourcePiece, type TokenKeySource } from './token-key-env.ts';
import { loadOnce } from './load-once.ts';
import type { WitnessSettings } from '../domain/settings.ts';
import type { RateLimit } from '../domain/rate-limit.ts';
import { DynamoSiteStore } from './dynamodb-site-store.ts';
import { NodeMaintenanceStore } from './node-maintenance.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { RetentionSettings } from './retention.ts';
import type { SiteStore } from './site-store.ts';
import { type SecretReader, tokenKeyFromSecret } from './token-key.ts';
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

export interface WitnessConfig {
  tableName: string;
  tokenKey: Buffer;
  /** Local engines' endpoints; unset, AWS. */
  endpoints?: ClientEndpoints;
  settings: WitnessSettings;
  /** How long audit events and the webhook delivery log are kept (TIEBREAK_*_RETENTION_DAYS); unset, the defaults. */
  retention?: RetentionSettings;
}

/** The witness functions' settings schema, from the shared pieces; the key may still be in its secret. */
function parseEnv(env: Env): Omit<WitnessConfig, 'tokenKey'> & { tokenKey: TokenKeySource } {
  const e = readEnv('witness', env, {
    tableName: tablePiece,
    tokenKey: tokenKeySourcePiece,
    endpoints: endpointsPiece,
    settings: timingsPiece,
    retention: retentionPiece,
  });
  return e;
}

/** Local mode: the key is in the environment itself (`TIEBREAK_TOKEN_KEY`). */
export function witnessConfigFromEnv(env: Env = process.env): WitnessConfig {
  const { tokenKey, ...rest } = parseEnv(env);
  if (!('key' in tokenKey)) {
    throw new Error('witness configuration: the key is in a secret (TIEBREAK_TOKEN_KEY_SECRET_ARN); load it with loadWitnessConfig()');
  }
  return { ...rest, tokenKey: tokenKey.key };
}

/** Either mode: with `TIEBREAK_TOKEN_KEY_SECRET_ARN`, the key is read from that secret (one read). */
export async function loadWitnessConfig(env: Env = process.env, readSecret?: SecretReader): Promise<WitnessConfig> {
  const { tokenKey, ...rest } = parseEnv(env);
  return { ...rest, tokenKey: 'key' in tokenKey ? tokenKey.key : await tokenKeyFromSecret(tokenKey.secretId, readSecret) };
}

/** The witness functions' assembly, the one Lambda (from the environment) and the local stack (from its settings) both use. */
export function witnessDeps(options: WitnessConfig & { dynamo: DynamoDBClient; now?: () => number }): WitnessDeps {
  const doc = documentClient(options.dynamo);
  return {
    store: new DynamoSiteStore(doc, options.tableName),
    maintenance: new NodeMaintenanceStore(doc, options.tableName),
    settings: options.settings,
    tokenKey: options.tokenKey,
    now: options.now ?? (() => Date.now()),
    limiter: new RateLimiter(nodeRateLimit),
  };
}

/** Lambda's deps: read from the environment (and the key from its secret) on the first invocation of a cold start, then kept. */
export const witnessDepsFromEnv: () => Promise<WitnessDeps> = loadOnce(async () => {
  const config = await loadWitnessConfig();
  return witnessDeps({ ...config, dynamo: dynamoClient(config.endpoints ?? {}) });
});

export { documentClient, loadOnce, localDynamoClientConfig };
