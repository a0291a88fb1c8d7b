import type { MiddlewareObj } from '@middy/core';
import { logger } from '../../adapters/logger.ts';
import { authenticate } from '../api/authenticate.ts';
import type { ApiEvent } from '../api-event.ts';

/** The bearer credential against what the route allows (`api/authenticate.ts`); the caller goes on the event. */
export function apiAuth(): MiddlewareObj<ApiEvent> {
  return {
    name: 'apiAuth',
    before: async ({ event }) => {
      const caller = await authenticate(event.route.spec.access, event.headers.authorization, event.deps);
      event.caller = caller;
      if (caller.kind === 'reseller') logger.appendKeys({ resellerId: caller.resellerId, keyId: caller.keyId });
    },
  };
}
