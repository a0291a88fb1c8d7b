import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { WitnessSettings } from '../domain/settings.ts';
import { type DetectorLimits, defaultDetectorLimits } from '../domain/silence.ts';
import { type DetectorStore, DynamoDetectorStore } from './detector-store.ts';
import { documentClient, localDynamoClientConfig } from './dynamo-clients.ts';
import { DynamoSiteStore } from './dynamodb-site-store.ts';
import { loadOnce } from './load-once.ts';
import { parseSettingsEnv } from './settings-env.ts';
import type { SiteStore } from './site-store.ts';
import '../../protocol/zod-locale.ts';

/** What the silence detector needs: the table (its index, its cursor, the sites' state items) and the timings. No key. */
export interface DetectorDeps {
  detector: DetectorStore;
  sites: SiteStore;
  settings: WitnessSettings;
  limits: DetectorLimits;
  /** The one clock: server ms. Tests pass their own. */
  now: () => number;
}

const Env = z.object({
  TIEBREAK_TABLE: z.string().check(z.minLength(3)),
  TIEBREAK_DYNAMODB_ENDPOINT: z.optional(z.url()),
});

export function detectorDeps(tableName: string, settings: WitnessSettings, client: DynamoDBClient): DetectorDeps {
  const doc = documentClient(client);
  return {
    detector: new DynamoDetectorStore(doc, tableName),
    sites: new DynamoSiteStore(doc, tableName),
    settings,
    limits: defaultDetectorLimits,
    now: () => Date.now(),
  };
}

export const detectorDepsFromEnv: () => Promise<DetectorDeps> = loadOnce(() => {
  const env = Env.safeParse(process.env);
  const settings = parseSettingsEnv(process.env);
  if (!env.success || !settings.ok) throw new Error('detector configuration is invalid: TIEBREAK_TABLE and the TIEBREAK_*_MS timings');
  const endpoint = env.data.TIEBREAK_DYNAMODB_ENDPOINT;
  const client = new DynamoDBClient(endpoint ? localDynamoClientConfig(endpoint) : {});
  return Promise.resolve(detectorDeps(env.data.TIEBREAK_TABLE, settings.settings, client));
});
