import { readFile, writeFile } from 'node:fs/promises';
import type { ApiDeps } from '../functions/adapters/api-config.ts';
import { signNodeToken } from '../functions/adapters/node-token.ts';
import { newSite } from '../functions/domain/site-state.ts';
import { newKeyRecord } from '../functions/http/api/resellers.ts';
import { defaultTargets } from '../protocol/reseller.ts';

export interface DemoSite {
  witnessUrl: string;
  resellerId: string;
  /** A read-write API key of the demo reseller (shown once by the API; kept here for the local demo). */
  apiKey: string;
  siteId: string;
  nodes: { nodeId: string; token: string }[];
}

const demo = { resellerId: 'demo-reseller', customerId: 'demo-customer', siteId: 'demo-office', nodeIds: ['node-a', 'node-b'] } as const;

async function keptApiKey(file: string): Promise<string | undefined> {
  try {
    const kept = JSON.parse(await readFile(file, 'utf8')) as Partial<DemoSite>;
    return typeof kept.apiKey === 'string' ? kept.apiKey : undefined;
  } catch {
    return undefined;
  }
}

/**
 * On first start: a demo reseller (with an API key), customer and site whose two nodes are
 * enrolled at once (their tokens signed here, a shortcut of the local demo: real nodes enroll
 * with a code). Later starts keep it all. Writes where to reach it, with its credentials.
 */
export async function provisionDemoSite(api: ApiDeps, witnessUrl: string, file: string): Promise<{ site: DemoSite; created: boolean }> {
  const now = api.now();
  const first = newKeyRecord(demo.resellerId, 'demo key', 'read-write', now);
  const resellerCreated = await api.resellers.createReseller(
    { resellerId: demo.resellerId, name: 'Demo reseller', targets: defaultTargets, createdAt: now },
    first.record,
  );
  const apiKey = resellerCreated ? first.key : await keptApiKey(file);
  // Its service queue and alerts topic, as POST /v1/resellers makes them (idempotent on later starts).
  await api.channels.ensure(demo.resellerId);
  await api.resellers.createCustomer(demo.resellerId, { customerId: demo.customerId, name: 'Demo customer', createdAt: now });
  const state = newSite({ resellerId: demo.resellerId, siteId: demo.siteId, nodeIds: [...demo.nodeIds] });
  const listing = {
    siteId: demo.siteId,
    customerId: demo.customerId,
    name: 'Demo office',
    nodeIds: [...demo.nodeIds],
    createdAt: now,
    enrolledVersion: Object.fromEntries(demo.nodeIds.map((nodeId) => [nodeId, 1])),
  };
  const created = (await api.sites.createSite(demo.resellerId, listing, state, [])) === 'created';
  const site: DemoSite = {
    witnessUrl,
    resellerId: demo.resellerId,
    apiKey: apiKey ?? '(lost: create one with the admin key, see the README)',
    siteId: demo.siteId,
    nodes: demo.nodeIds.map((nodeId) => ({
      nodeId,
      token: signNodeToken(api.tokenKey, { resellerId: demo.resellerId, siteId: demo.siteId, nodeId, tokenVersion: 1 }),
    })),
  };
  await writeFile(file, `${JSON.stringify(site, null, 2)}\n`, { mode: 0o600 });
  return { site, created };
}
