import type { SiteStore } from '../adapters/site-store.ts';
import type { SiteKey } from '../adapters/site-item.ts';
import { logger } from '../adapters/logger.ts';
import type { Decision } from '../domain/decision.ts';
import type { SiteState } from '../domain/site-state.ts';
import { HttpError } from './http-error.ts';

/** Guarded writes lost to concurrent writers before the request gives up with 503. */
const maxAttempts = 5;

/**
 * Decides on the state in hand and writes with the decision's guard. A failed guard returns the
 * state it was checked against, so the next round decides on that without another read.
 */
export async function retryConditionalWrite<R>(
  store: SiteStore,
  key: SiteKey,
  initial: SiteState | undefined,
  decide: (state: SiteState | undefined) => Decision<R>,
  what: string,
): Promise<R> {
  let state = initial;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const decision = decide(state);
    switch (decision.kind) {
      case 'reject':
        if (decision.error === 'stale-request') throw new HttpError(409, 'stale-request', decision.reason);
        throw new HttpError(401, 'token-revoked', `this node token is no longer valid: ${decision.reason}`);
      case 'answer':
        logger.info(`${what} answered`, { reason: decision.reason, response: decision.response, epoch: state?.epoch });
        return decision.response;
      case 'write': {
        const result = await store.apply(key, decision.plan);
        if (result.ok) {
          logger.info(`${what} applied`, { reason: decision.reason, epoch: result.state.epoch, primary: result.state.primary, attempt });
          return decision.respond(result.state);
        }
        state = result.current;
      }
    }
  }
  throw new HttpError(503, 'unavailable', 'the site changed under this request too often; retry', undefined, { 'retry-after': '1' });
}
