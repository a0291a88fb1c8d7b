import { type DepsSource, witnessDepsFromEnv } from '../adapters/config.ts';
import { decideClaim } from '../domain/claim.ts';
import { ClaimRequest } from '../../protocol/node.ts';
import { nodeEndpoint } from '../http/node-endpoint.ts';
import { retryConditionalWrite } from '../http/retry-conditional-write.ts';

/**
 * POST /v1/node/claim. One guarded write, plus one read when this process has not seen the site
 * lately or its last sight would refuse (a refusal is answered from a fresh read, never a guess).
 */
export const claimHandler = (getDeps: DepsSource) =>
  nodeEndpoint(ClaimRequest, getDeps, async ({ caller, input }, { store, settings, now }) => {
    const at = now();
    const decide = (state: Parameters<typeof decideClaim>[0]) => decideClaim(state, caller, input, at, settings);
    const recent = store.recent(caller);
    const state = recent && decide(recent).kind === 'write' ? recent : await store.load(caller);
    return retryConditionalWrite(store, caller, state, decide, 'claim');
  });

export const handler = claimHandler(witnessDepsFromEnv);
