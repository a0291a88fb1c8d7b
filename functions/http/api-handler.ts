import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { type ApiRoute, type ApiRouteKey, apiRoutes, PathParam } from '../../protocol/api-routes.ts';
import type { ApiDepsSource } from '../adapters/api-config.ts';
import { logger } from '../adapters/logger.ts';
import { InvalidCursorError } from '../adapters/pagination.ts';
import { authenticate } from './api/authenticate.ts';
import type { ApiCall, ApiImplementations } from './api/call.ts';
import { HttpError } from './http-error.ts';
import { jsonResponse } from './json-response.ts';
import { errorResponse } from './middleware/error-response.ts';
import { issueDetails, parseJsonBody } from './middleware/json-body.ts';
import type { HttpHandler } from './node-endpoint.ts';

/** Implementations of some of the routes (each function serves its own: api.ts, report.ts). */
export type ApiRouteImplementations<K extends ApiRouteKey = ApiRouteKey> = Pick<ApiImplementations, K>;

function parseWith<S extends z.ZodMiniType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'invalid-body', `the ${where} does not match the schema`, issueDetails(parsed.error.issues, [where]));
  return parsed.data;
}

function refuseIfLimited(waitMs: number | undefined): void {
  if (waitMs === undefined) return;
  throw new HttpError(429, 'rate-limited', `too many requests for this credential; retry in ${waitMs} ms`, undefined, {
    'retry-after': String(Math.ceil(waitMs / 1000)),
  });
}

function isRoute(key: string): key is ApiRouteKey {
  return Object.hasOwn(apiRoutes, key);
}

/**
 * The reseller API (and node enrollment), for the routes given: the api function serves most, the report function the SLA report.
 * Per call: find the route, authenticate, rate-limit per credential, validate path, query and
 * body, then the route's implementation; every refusal has DESIGN.md's error shape.
 */
export const apiHandler = (getDeps: ApiDepsSource, implementations: Partial<ApiImplementations>): HttpHandler =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorResponse())
    .handler(async (event) => {
      const key = event.routeKey;
      if (!isRoute(key) || !implementations[key]) throw new HttpError(404, 'not-found', `no route ${key}`);
      const route: ApiRoute = apiRoutes[key];
      const deps = await getDeps();
      const now = deps.now();
      // Failed authentications are charged to the caller's address, and refused before any read
      // once it has spent its budget: guessing keys costs the guesser, not the table.
      const address = `failed:${event.requestContext.http.sourceIp}`;
      refuseIfLimited(deps.limiter.waitFor(address, now));
      const caller = await authenticate(route.access, event.headers.authorization, deps).catch((error: unknown) => {
        if (error instanceof HttpError && error.status === 401) deps.limiter.check(address, now);
        throw error;
      });
      if (caller.kind === 'reseller') logger.appendKeys({ resellerId: caller.resellerId, keyId: caller.keyId });
      const credential = caller.kind === 'reseller' ? `key:${caller.keyId}` : caller.kind === 'admin' ? 'admin' : `ip:${event.requestContext.http.sourceIp}`;
      refuseIfLimited(deps.limiter.check(credential, now));

      const params: Record<string, string> = {};
      for (const name of route.params ?? []) params[name] = parseWith(PathParam, event.pathParameters?.[name], `path.${name}`);
      const query = route.query ? parseWith(route.query, event.queryStringParameters ?? {}, 'query') : undefined;
      if (!route.query && event.rawQueryString) throw new HttpError(400, 'invalid-body', 'this route takes no query parameters');
      const body = route.body ? parseJsonBody(event, route.body) : undefined;
      if (!route.body && !route.rawBody && event.body) throw new HttpError(400, 'invalid-body', 'this route takes no body');
      const raw = { headers: event.headers, body: Buffer.from(route.rawBody ? (event.body ?? '') : '', event.isBase64Encoded ? 'base64' : 'utf8') };

      // Each implementation's call type is its route's; the schemas above are what made it so.
      const implementation = implementations[key] as (call: ApiCall<ApiRouteKey>) => Promise<unknown>;
      const answer = await implementation({ caller, params, query, body, deps, now, raw } as ApiCall<ApiRouteKey>).catch((error: unknown) => {
        if (error instanceof InvalidCursorError) throw new HttpError(400, 'invalid-body', error.message, [{ path: 'query.cursor', message: 'unknown cursor' }]);
        throw error;
      });
      if (route.alsoProduces) return answer as APIGatewayProxyStructuredResultV2;
      if (route.status === 204) return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
      return jsonResponse(route.status, answer);
    });

