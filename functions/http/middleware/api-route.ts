import type { MiddlewareObj } from '@middy/core';
import { apiRoutes, type ApiRouteKey } from '../../../protocol/api-routes.ts';
import type { ApiBaseDeps, ApiDepsSource } from '../../adapters/api-config.ts';
import type { ApiImplementations } from '../api/call.ts';
import type { ApiEvent } from '../api-event.ts';
import { HttpError } from '../http-error.ts';

function isRoute(key: string): key is ApiRouteKey {
  return Object.hasOwn(apiRoutes, key);
}

/** The call's route, if this function serves it (404 otherwise), then its deps and the clock, read once for the whole call. */
export function apiRoute<D extends ApiBaseDeps>(
  getDeps: ApiDepsSource<D>,
  served: Partial<ApiImplementations<D>>,
): MiddlewareObj<ApiEvent> {
  return {
    name: 'apiRoute',
    before: async ({ event }) => {
      const key = event.routeKey;
      if (!isRoute(key) || !served[key]) throw new HttpError(404, 'not-found', `no route ${key}`);
      event.route = { key, spec: apiRoutes[key] };
      event.deps = await getDeps();
      event.now = event.deps.now();
    },
  };
}
