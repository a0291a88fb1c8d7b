import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { apiRoutes, ApiRouteKey } from '../../../protocol/api-routes.ts';
import type { ApiKeyScope } from '../../../protocol/reseller.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';
import { HttpError } from '../http-error.ts';

/** Who is calling, as the credential says. */
export type ApiCaller =
  { kind: 'public' } | { kind: 'admin' } | { kind: 'reseller'; resellerId: string; keyId: string; scope: ApiKeyScope };

type Route<K extends ApiRouteKey> = (typeof apiRoutes)[K];
type Parsed<T> = T extends z.ZodMiniType ? z.output<T> : undefined;

/** One authenticated, validated call of route K, with the deps D its function builds (ApiDeps: all of them). */
export interface ApiCall<K extends ApiRouteKey, D = ApiDeps> {
  caller: ApiCaller;
  params: Record<string, string>;
  query: Parsed<Route<K> extends { query: infer Q } ? Q : undefined>;
  body: Parsed<Route<K> extends { body: infer B } ? B : undefined>;
  deps: D;
  /** Server ms, read once per call. */
  now: number;
  /** The body's bytes and the headers (names in lower case), for a route that reads them itself (`rawBody`). */
  raw: RawRequest;
}

export interface RawRequest {
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

/** What a route answers: its response schema's value, or (the report) a response of its own. */
export type ApiAnswer<K extends ApiRouteKey> =
  | (Route<K> extends { response: infer R extends z.ZodMiniType } ? z.input<R> : never)
  | (Route<K> extends { status: 204 } ? undefined : never)
  | (Route<K> extends { alsoProduces: readonly string[] } ? APIGatewayProxyStructuredResultV2 : never);

/**
 * Every route's implementation, each given the deps D: a route group says with D what it uses
 * (functions/adapters/api-deps.ts), so that a function that does not build it cannot serve it.
 */
export type ApiImplementations<D = ApiDeps> = { [K in ApiRouteKey]: (call: ApiCall<K, D>) => Promise<ApiAnswer<K>> };

/** The reseller a read or write route acts for: the one its key belongs to, never one named in the request. */
export function resellerOf(call: { caller: ApiCaller }): string {
  if (call.caller.kind !== 'reseller') throw new Error('a reseller route was called without a reseller key');
  return call.caller.resellerId;
}

/** What every route's call has, whatever its route. */
export type AnyCall<D = ApiDeps> = Pick<ApiCall<ApiRouteKey, D>, 'caller' | 'params' | 'deps' | 'now'>;

export function param(call: { params: Record<string, string> }, name: string): string {
  const value = call.params[name];
  if (value === undefined) throw new Error(`route has no path parameter ${name}`);
  return value;
}

export function notFound(what: string): HttpError {
  return new HttpError(404, 'not-found', `${what} does not exist`);
}
