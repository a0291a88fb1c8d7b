import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { DepsSource, WitnessDeps } from '../adapters/config.ts';
import { logger } from '../adapters/logger.ts';
import { jsonResponse } from './json-response.ts';
import { errorResponse } from './middleware/error-response.ts';
import { jsonBody } from './middleware/json-body.ts';
import { nodeAuth } from './middleware/node-auth.ts';
import type { NodeEvent } from './node-event.ts';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** A node protocol endpoint: authenticated, validated, answering 200 with what `decide` returns. */
export function nodeEndpoint<S extends z.ZodMiniType>(
  schema: S,
  getDeps: DepsSource,
  decide: (event: NodeEvent<z.output<S>>, deps: WitnessDeps) => Promise<unknown>,
): HttpHandler {
  const handler = middy<NodeEvent<z.output<S>>, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorResponse())
    .use(nodeAuth(getDeps))
    .use(jsonBody(schema))
    .handler(async (event) => jsonResponse(200, await decide(event, await getDeps())));
  // Lambda hands the raw event; the middlewares add `caller` and `input` before the handler runs.
  return handler as unknown as HttpHandler;
}
