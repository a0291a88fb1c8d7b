import type { MiddlewareObj } from '@middy/core';
import type * as z from 'zod/mini';
import { PathParam } from '../../../protocol/api-routes.ts';
import type { ApiEvent } from '../api-event.ts';
import { HttpError } from '../http-error.ts';
import { issueDetails, parseJsonBody } from './json-body.ts';

function parseWith<S extends z.ZodMiniType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new HttpError(400, 'invalid-body', `the ${where} does not match the schema`, issueDetails(parsed.error.issues, [where]));
  return parsed.data;
}

/**
 * The path, query and body against the route's schemas (400 with the failing fields otherwise); a
 * query or body the route does not take is refused. A route that reads its body itself (`rawBody`)
 * gets the bytes.
 */
export function apiInput(): MiddlewareObj<ApiEvent> {
  return {
    name: 'apiInput',
    before: ({ event }) => {
      const route = event.route.spec;
      const params: Record<string, string> = {};
      for (const name of route.params ?? []) params[name] = parseWith(PathParam, event.pathParameters?.[name], `path.${name}`);
      const query = route.query ? parseWith(route.query, event.queryStringParameters ?? {}, 'query') : undefined;
      if (!route.query && event.rawQueryString) throw new HttpError(400, 'invalid-body', 'this route takes no query parameters');
      const body = route.body ? parseJsonBody(event, route.body) : undefined;
      if (!route.body && !route.rawBody && event.body) throw new HttpError(400, 'invalid-body', 'this route takes no body');
      const raw = {
        headers: event.headers,
        body: Buffer.from(route.rawBody ? (event.body ?? '') : '', event.isBase64Encoded ? 'base64' : 'utf8'),
      };
      // The call's query and body types are its route's; the schemas above are what made them so.
      event.input = { params, query, body, raw } as ApiEvent['input'];
    },
  };
}
