import type { ApiDeps } from '../functions/adapters/api-config.ts';
import { apiImplementations } from '../functions/handlers/api.ts';
import { channelsImplementations } from '../functions/handlers/channels.ts';
import { handler as openApiHandler } from '../functions/handlers/openapi.ts';
import { reportImplementations } from '../functions/handlers/report.ts';
import { webhooksImplementations } from '../functions/handlers/webhooks.ts';
import { apiHandler } from '../functions/http/api-handler.ts';
import { type ApiFunctionName, apiFunctionOf, type ApiRouteKey } from '../protocol/api-routes.ts';
import type { ApiImplementations } from '../functions/http/api/call.ts';
import type { Routes } from './http-server.ts';

// Each function implements exactly its routes of apiFunctionRoutes (their types say so); between
// them, every route of protocol/api-routes.ts (this says so): a route of no function is an error here.
const everyRoute: ApiImplementations = {
  ...apiImplementations,
  ...channelsImplementations,
  ...webhooksImplementations,
  ...reportImplementations,
};

/**
 * The reseller API, node enrollment, the SLA report and the OpenAPI document, as the HTTP API in
 * AWS declares them: each route to the function protocol/api-routes.ts names for it. Every
 * function gets `deps` (one memory for all), or with `depsOf` each its own, as separate Lambda
 * functions have.
 */
export function apiRoutesFor(deps: ApiDeps, options: { depsOf?: (name: ApiFunctionName) => ApiDeps } = {}): Routes {
  const own = (name: ApiFunctionName) => {
    const those = options.depsOf?.(name) ?? deps;
    return () => those;
  };
  const handlers = {
    api: apiHandler(own('api'), apiImplementations),
    channels: apiHandler(own('channels'), channelsImplementations),
    webhooks: apiHandler(own('webhooks'), webhooksImplementations),
    report: apiHandler(own('report'), reportImplementations),
  } satisfies Record<ApiFunctionName, unknown>;
  const routes: Routes = { 'GET /openapi.json': { functionName: 'tiebreak-openapi', handler: openApiHandler } };
  for (const route of Object.keys(everyRoute) as ApiRouteKey[]) {
    const name = apiFunctionOf(route);
    routes[route] = { functionName: `tiebreak-${name}`, handler: handlers[name] };
  }
  return routes;
}
