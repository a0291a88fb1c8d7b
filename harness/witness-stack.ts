import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoClientConfig, witnessDeps, type WitnessDeps } from '../functions/adapters/config.ts';
import { signNodeToken } from '../functions/adapters/node-token.ts';
import { ensureTable } from '../functions/adapters/table.ts';
import { defaultSettings, type WitnessSettings } from '../functions/domain/settings.ts';
import { newSite, type SitePolicy } from '../functions/domain/site-state.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { createLocalServer, listen } from '../local/http-server.ts';
import { witnessRoutes } from '../local/witness-routes.ts';

export interface WitnessStack {
  url: string;
  deps: WitnessDeps;
  /** Creates a site; returns each node's token. */
  createSite(siteId: string, nodeIds: readonly string[], policy?: SitePolicy): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** The local witness as `npm start` runs it, in memory, on free loopback ports, with the given timings. */
export async function startWitnessStack(settings: Partial<WitnessSettings>): Promise<WitnessStack> {
  const engine = await startDynamoDbLocal({});
  const client = new DynamoDBClient(localDynamoClientConfig(engine.endpoint));
  const tableName = 'tiebreak';
  await ensureTable(client, tableName);
  const tokenKey = randomBytes(32);
  const deps = witnessDeps({ tableName, tokenKey, dynamoEndpoint: engine.endpoint, settings: { ...defaultSettings, ...settings } }, client);
  const server = await listen(createLocalServer(witnessRoutes(deps)), 0);
  const resellerId = 'harness';
  return {
    url: server.url,
    deps,
    async createSite(siteId, nodeIds, policy) {
      await deps.store.create(newSite({ resellerId, siteId, nodeIds, ...(policy ? { policy } : {}) }));
      return Object.fromEntries(nodeIds.map((nodeId) => [nodeId, signNodeToken(tokenKey, { resellerId, siteId, nodeId, tokenVersion: 1 })]));
    },
    async close() {
      await server.close();
      client.destroy();
      await engine.stop();
    },
  };
}
