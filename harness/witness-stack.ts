import type { WitnessDeps } from '../functions/adapters/config.ts';
import type { WitnessSettings } from '../functions/domain/settings.ts';
import type { SitePolicy } from '../functions/domain/site-state.ts';
import { startLocalStack } from '../local/local-stack.ts';

export interface WitnessStack {
  url: string;
  deps: WitnessDeps;
  /** Creates a site; returns each node's token. */
  createSite(siteId: string, nodeIds: readonly string[], policy?: SitePolicy): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** The local witness as `npm start` assembles it (startLocalStack), in memory, on free loopback ports, with the given timings. */
export async function startWitnessStack(settings: Partial<WitnessSettings>): Promise<WitnessStack> {
  const stack = await startLocalStack({ settings });
  return {
    url: stack.url,
    deps: stack.witness,
    createSite: (siteId, nodeIds, policy) => stack.createSite(siteId, nodeIds, policy ? { policy } : {}),
    close: () => stack.stop(),
  };
}
