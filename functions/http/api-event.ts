import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiRoute, ApiRouteKey } from '../../protocol/api-routes.ts';
import type { ApiBaseDeps } from '../adapters/api-config.ts';
import type { ApiCall, ApiCaller } from './api/call.ts';

/**
 * An HTTP API (payload v2) event after the api middlewares, each adding its part in this order:
 * the route with the deps and the call's clock (`apiRoute`), who is calling (`apiAuth`), and the
 * validated path, query and body (`apiInput`).
 */
export type ApiEvent = APIGatewayProxyEventV2 & {
  route: { key: ApiRouteKey; spec: ApiRoute };
  /** The function's deps: the middlewares use the part every function builds; the route's implementation gets them whole. */
  deps: ApiBaseDeps;
  /** Server ms, read once per call. */
  now: number;
  caller: ApiCaller;
  input: Pick<ApiCall<ApiRouteKey>, 'params' | 'query' | 'body' | 'raw'>;
};
