import type { ApiDeps } from '../functions/adapters/api-config.ts';
import { apiHandler } from '../functions/handlers/api.ts';
import { handler as openApiHandler } from '../functions/handlers/openapi.ts';
import { apiRoutes } from '../protocol/api-routes.ts';
import type { Routes } from './http-server.ts';

/** The reseller API, node enrollment and the OpenAPI document, as the HTTP API in AWS declares them. */
export function apiRoutesFor(deps: ApiDeps): Routes {
  const handler = apiHandler(() => deps);
  return {
    ...Object.fromEntries(Object.keys(apiRoutes).map((key) => [key, { functionName: 'tiebreak-api', handler }])),
    'GET /openapi.json': { functionName: 'tiebreak-openapi', handler: openApiHandler },
  };
}
