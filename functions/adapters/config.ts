import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { defaultSettings, shortestSettings, type WitnessSettings } from '../domain/settings.ts';
import { DynamoSiteStore } from './dynamodb-site-store.ts';
import type { SiteStore } from './site-store.ts';

/** What a witness handler needs, built once per cold start. */
export interface WitnessDeps {
  store: SiteStore;
  settings: WitnessSettings;
  tokenKey: Buffer;
  /** The one clock: server ms. Tests pass their own. */
  now: () => number;
}

const ms = (fallback: number) => z.coerce.number().int().min(1).max(86_400_000).default(fallback);

const Env = z
  .object({
    TIEBREAK_TABLE: z.string().min(3),
    TIEBREAK_TOKEN_KEY: z
      .string()
      .transform((s) => Buffer.from(s, 'base64'))
      .refine((key) => key.length >= 32, 'must be at least 32 bytes, base64'),
    TIEBREAK_DYNAMODB_ENDPOINT: z.url().optional(),
    TIEBREAK_LEASE_MS: ms(defaultSettings.leaseMs).refine((v) => v >= shortestSettings.leaseMs, `at least ${shortestSettings.leaseMs} ms is supported`),
    TIEBREAK_SKEW_MARGIN_MS: ms(defaultSettings.skewMarginMs),
    TIEBREAK_FAST_HEARTBEAT_MS: ms(defaultSettings.fastHeartbeatMs),
    TIEBREAK_SLOW_HEARTBEAT_MS: ms(defaultSettings.slowHeartbeatMs),
    TIEBREAK_FRESHNESS_MS: ms(defaultSettings.freshnessMs),
    TIEBREAK_STARTUP_WINDOW_MS: ms(defaultSettings.startupWindowMs),
  })
  .refine((env) => env.TIEBREAK_FAST_HEARTBEAT_MS < env.TIEBREAK_LEASE_MS, {
    message: 'the fast heartbeat must come more often than a lease lasts',
    path: ['TIEBREAK_FAST_HEARTBEAT_MS'],
  });

export interface WitnessConfig {
  tableName: string;
  tokenKey: Buffer;
  dynamoEndpoint: string | undefined;
  settings: WitnessSettings;
}

export function witnessConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WitnessConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`witness configuration is invalid: ${problems}`);
  }
  const e = parsed.data;
  return {
    tableName: e.TIEBREAK_TABLE,
    tokenKey: e.TIEBREAK_TOKEN_KEY,
    dynamoEndpoint: e.TIEBREAK_DYNAMODB_ENDPOINT,
    settings: {
      leaseMs: e.TIEBREAK_LEASE_MS,
      skewMarginMs: e.TIEBREAK_SKEW_MARGIN_MS,
      fastHeartbeatMs: e.TIEBREAK_FAST_HEARTBEAT_MS,
      slowHeartbeatMs: e.TIEBREAK_SLOW_HEARTBEAT_MS,
      freshnessMs: e.TIEBREAK_FRESHNESS_MS,
      startupWindowMs: e.TIEBREAK_STARTUP_WINDOW_MS,
    },
  };
}

/** Client settings for a local engine (DynamoDB Local): any fixed credentials will do. */
export function localDynamoClientConfig(endpoint: string): DynamoDBClientConfig {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function witnessDeps(config: WitnessConfig, client?: DynamoDBClient): WitnessDeps {
  const dynamo =
    client ??
    new DynamoDBClient(config.dynamoEndpoint ? localDynamoClientConfig(config.dynamoEndpoint) : {});
  return {
    store: new DynamoSiteStore(documentClient(dynamo), config.tableName),
    settings: config.settings,
    tokenKey: config.tokenKey,
    now: () => Date.now(),
  };
}

let fromEnv: WitnessDeps | undefined;

/** Lambda's deps: read from the environment on the first invocation of a cold start, then kept. */
export function witnessDepsFromEnv(): WitnessDeps {
  fromEnv ??= witnessDeps(witnessConfigFromEnv());
  return fromEnv;
}
