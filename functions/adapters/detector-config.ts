import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WitnessSettings } from '../domain/settings.ts';
import { type DetectorLimits, defaultDetectorLimits } from '../domain/silence.ts';
import type { ClientEndpoints } from './client-endpoints.ts';
import { type DetectorStore, DynamoDetectorStore } from './detector-store.ts';
import { documentClient, dynamoClient } from './dynamo-clients.ts';
import { DynamoSiteStore } from './dynamodb-site-store.ts';
import { type Env, endpointsPiece, readEnv, tablePiece, timingsPiece } from './env-settings.ts';
import { loadOnce } from './load-once.ts';
import type { SiteStore } from './site-store.ts';

/** What the silence detector needs: the table (its index, its cursor, the sites' state items) and the timings. No key. */
export interface DetectorDeps {
  detector: DetectorStore;
  sites: SiteStore;
  settings: WitnessSettings;
  limits: DetectorLimits;
  /** The one clock: server ms. Tests pass their own. */
  now: () => number;
}

/** The detector's settings. */
export interface DetectorConfig {
  tableName: string;
  settings: WitnessSettings;
  endpoints?: ClientEndpoints;
}

/** The detector's settings schema, from the shared pieces. */
export function detectorConfigFromEnv(env: Env = process.env): DetectorConfig {
  return readEnv('detector', env, { tableName: tablePiece, endpoints: endpointsPiece, settings: timingsPiece });
}

/** The detector's assembly, the one Lambda (from the environment) and the local stack (from its settings) both use. */
export function detectorDeps(options: DetectorConfig & { dynamo: DynamoDBClient; now?: () => number }): DetectorDeps {
  const doc = documentClient(options.dynamo);
  return {
    detector: new DynamoDetectorStore(doc, options.tableName),
    sites: new DynamoSiteStore(doc, options.tableName),
    settings: options.settings,
    limits: defaultDetectorLimits,
    now: options.now ?? (() => Date.now()),
  };
}

export const detectorDepsFromEnv: () => Promise<DetectorDeps> = loadOnce(() => {
  const config = detectorConfigFromEnv();
  return Promise.resolve(detectorDeps({ ...config, dynamo: dynamoClient(config.endpoints ?? {}) }));
});
