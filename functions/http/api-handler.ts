import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiFunctionName, ApiRouteKey, RoutesOf } from '../../protocol/api-routes.ts';
import type { ApiBaseDeps, ApiDepsSource } from '../adapters/api-config.ts';
import { logger } from '../adapters/logger.ts';
import { InvalidCursorError } from '../adapters/pagination.ts';
import type { ApiCall, ApiImplementations } from './api/call.ts';
import type { ApiEvent } from './api-event.ts';
import { HttpError } from './http-error.ts';
import { jsonResponse } from './json-response.ts';
import { apiAuth } from './middleware/api-auth.ts';
import { apiInput } from './middleware/api-input.ts';
import { apiRoute } from './middleware/api-route.ts';
import { errorResponse } from './middleware/error-response.ts';
import { credentialLimit, failedAuthBudget } from './middleware/rate-limit.ts';
import type { HttpHandler } from './node-endpoint.ts';

/**
 * The implementations of the routes function F serves (protocol/api-routes.ts apiFunctionRoutes),
 * each given the deps D that F builds: the type makes a missing route, or one whose deps F does
 * not build, an error.
 */
export type FunctionImplementations<F extends ApiFunctionName, D> = Pick<ApiImplementations<D>, RoutesOf<F>>;

/**
 * The reseller API (and node enrollment), for the routes given: each of the API's functions serves
 * its own (protocol/api-routes.ts apiFunctionRoutes). The middlewares find the route, hold failed authentications to
 * their address's budget, authenticate, hold the credential to its rate limit and validate path,
 * query and body; then the route's implementation answers. Every refusal has DESIGN.md's error shape.
 */
export function apiHandler<D extends ApiBaseDeps>(getDeps: ApiDepsSource<D>, implementations: Partial<ApiImplementations<D>>): HttpHandler {
  const handler = middy<ApiEvent, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorResponse())
    .use(apiRoute(getDeps, implementations))
    .use(failedAuthBudget())
    .use(apiAuth())
    .use(credentialLimit())
    .use(apiInput())
    .handler(async ({ route, caller, input, deps, now }) => {
      // Each implementation's call type is its route's; apiInput's schemas are what made it so.
      const implementation = implementations[route.key] as (call: ApiCall<ApiRouteKey, D>) => Promise<unknown>;
      const answer = await implementation({ caller, ...input, deps: deps as D, now }).catch((error: unknown) => {
        if (error instanceof InvalidCursorError)
          throw new HttpError(400, 'invalid-body', error.message, [{ path: 'query.cursor', message: 'unknown cursor' }]);
        throw error;
      });
      if (route.spec.alsoProduces) return answer as APIGatewayProxyStructuredResultV2;
      if (route.spec.status === 204) return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
      return jsonResponse(route.spec.status, answer);
    });
  // Lambda hands the raw event; the middlewares add the route, deps, caller and input before the handler runs.
  return handler as unknown as HttpHandler;
}
