import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import type { WitnessSettings } from '../domain/settings.ts';
import { documentClient, localDynamoClientConfig } from './dynamo-clients.ts';
import { loadOnce } from './load-once.ts';
import { parseSettingsEnv } from './settings-env.ts';
import { SiteAdminStore } from './site-admin-store.ts';
import '../../protocol/zod-locale.ts';

/** What the event publisher needs: the table (to append to the audit trail) and the timings (freshness). No key. */
export interface PublisherDeps {
  sites: SiteAdminStore;
  settings: WitnessSettings;
}

const Env = z.object({ TIEBREAK_TABLE: z.string().check(z.minLength(3)), TIEBREAK_DYNAMODB_ENDPOINT: z.optional(z.url()) });

export function publisherDeps(tableName: string, settings: WitnessSettings, client: DynamoDBClient): PublisherDeps {
  return { sites: new SiteAdminStore(documentClient(client), tableName), settings };
}

export const publisherDepsFromEnv: () => Promise<PublisherDeps> = loadOnce(() => {
  const env = Env.safeParse(process.env);
  const settings = parseSettingsEnv(process.env);
  if (!env.success || !settings.ok) throw new Error('publisher configuration is invalid: TIEBREAK_TABLE and the TIEBREAK_*_MS timings');
  const endpoint = env.data.TIEBREAK_DYNAMODB_ENDPOINT;
  const client = new DynamoDBClient(endpoint ? localDynamoClientConfig(endpoint) : {});
  return Promise.resolve(publisherDeps(env.data.TIEBREAK_TABLE, settings.settings, client));
});
