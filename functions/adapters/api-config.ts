import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RateLimit } from '../domain/rate-limit.ts';
import { documentClient, loadOnce, loadWitnessConfig, localDynamoClientConfig, type WitnessConfig } from './config.ts';
import { AuditTrail } from './audit-trail.ts';
import { sha256 } from './credentials.ts';
import { EscalationStore } from './escalation-store.ts';
import { RateLimiter } from './rate-limiter.ts';
import { ResellerStore } from './reseller-store.ts';
import { SiteAdminStore } from './site-admin-store.ts';
import type { SecretReader } from './token-key.ts';

/** What the reseller API needs, built once per cold start. */
export interface ApiDeps {
  resellers: ResellerStore;
  sites: SiteAdminStore;
  trail: AuditTrail;
  escalation: EscalationStore;
  /** Signs the node tokens handed out at enrollment. */
  tokenKey: Buffer;
  /** SHA-256 of the operator's admin key. */
  adminKeyHash: Buffer;
  limiter: RateLimiter;
  now: () => number;
}

export type ApiDepsSource = () => ApiDeps | Promise<ApiDeps>;

/** Per API key (or enrollment caller): 10 requests a second, 40 at once. A reseller's tools page through lists; nothing needs more. */
export const apiRateLimit: RateLimit = { perSecond: 10, burst: 40 };

const minAdminKeyLength = 32;

export function apiDeps(config: WitnessConfig, adminKey: string, client?: DynamoDBClient, limit: RateLimit = apiRateLimit): ApiDeps {
  if (adminKey.length < minAdminKeyLength) throw new Error(`the admin key must be at least ${minAdminKeyLength} characters`);
  const dynamo = client ?? new DynamoDBClient(config.dynamoEndpoint ? localDynamoClientConfig(config.dynamoEndpoint) : {});
  const doc = documentClient(dynamo);
  return {
    resellers: new ResellerStore(doc, config.tableName),
    sites: new SiteAdminStore(doc, config.tableName),
    trail: new AuditTrail(doc, config.tableName),
    escalation: new EscalationStore(doc, config.tableName),
    tokenKey: config.tokenKey,
    adminKeyHash: sha256(adminKey),
    limiter: new RateLimiter(limit),
    now: () => Date.now(),
  };
}

/** The admin key: `TIEBREAK_ADMIN_KEY` itself (local), or the secret `TIEBREAK_ADMIN_KEY_SECRET_ARN` names (Lambda). */
export async function loadAdminKey(env: NodeJS.ProcessEnv = process.env, read: SecretReader = (id) => getSecret(id)): Promise<string> {
  if (env.TIEBREAK_ADMIN_KEY) return env.TIEBREAK_ADMIN_KEY;
  const secretId = env.TIEBREAK_ADMIN_KEY_SECRET_ARN;
  if (!secretId) throw new Error('reseller API configuration: set TIEBREAK_ADMIN_KEY or TIEBREAK_ADMIN_KEY_SECRET_ARN');
  const value = await read(secretId);
  if (typeof value !== 'string') throw new Error(`admin key secret ${secretId}: expected a string value`);
  return value;
}

export const apiDepsFromEnv: () => Promise<ApiDeps> = loadOnce(async () => {
  const [config, adminKey] = await Promise.all([loadWitnessConfig(), loadAdminKey()]);
  return apiDeps(config, adminKey);
});
