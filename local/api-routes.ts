import type { ApiDeps } from '../functions/adapters/api-config.ts';
import { apiImplementations } from '../functions/handlers/api.ts';
import { reportRoutes } from '../functions/http/api/report.ts';
import { apiHandler } from '../functions/http/api-handler.ts';
import { handler as openApiHandler } from '../functions/handlers/openapi.ts';
import type { ApiImplementations } from '../functions/http/api/call.ts';
import { apiRoutes, reportRouteKeys } from '../protocol/api-routes.ts';
import type { Routes } from './http-server.ts';

// Between them, the two functions serve every route (the type says so).
const everyRoute: ApiImplementations = { ...apiImplementations, ...reportRoutes };

/** The reseller API, node enrollment, the SLA report and the OpenAPI document, as the HTTP API in AWS declares them. */
export function apiRoutesFor(deps: ApiDeps): Routes {
  const api = { functionName: 'tiebreak-api', handler: apiHandler(() => deps, apiImplementations) };
  const report = { functionName: 'tiebreak-report', handler: apiHandler(() => deps, reportRoutes) };
  return {
    ...Object.fromEntries(Object.keys(everyRoute).map((key) => [key, reportRouteKeys.includes(key as keyof typeof apiRoutes) ? report : api])),
    'GET /openapi.json': { functionName: 'tiebreak-openapi', handler: openApiHandler },
  };
}
