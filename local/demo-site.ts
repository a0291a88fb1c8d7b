import { writeFile } from 'node:fs/promises';
import type { SiteStore } from '../functions/adapters/site-store.ts';
import { signNodeToken } from '../functions/adapters/node-token.ts';
import { newSite } from '../functions/domain/site-state.ts';

export interface DemoSite {
  witnessUrl: string;
  resellerId: string;
  siteId: string;
  nodes: { nodeId: string; token: string }[];
}

const demo = { resellerId: 'demo-reseller', siteId: 'demo-office', nodeIds: ['node-a', 'node-b'] } as const;

/** Creates the demo site on first start (later starts keep its state) and writes where to reach it. */
export async function provisionDemoSite(
  store: SiteStore,
  tokenKey: Buffer,
  witnessUrl: string,
  file: string,
): Promise<{ site: DemoSite; created: boolean }> {
  const created = await store.create(newSite({ ...demo, nodeIds: [...demo.nodeIds] }));
  const site: DemoSite = {
    witnessUrl,
    resellerId: demo.resellerId,
    siteId: demo.siteId,
    nodes: demo.nodeIds.map((nodeId) => ({
      nodeId,
      token: signNodeToken(tokenKey, { resellerId: demo.resellerId, siteId: demo.siteId, nodeId, tokenVersion: 1 }),
    })),
  };
  await writeFile(file, `${JSON.stringify(site, null, 2)}\n`, { mode: 0o600 });
  return { site, created };
}
