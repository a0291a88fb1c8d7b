import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { openApiDocument } from '../../protocol/openapi.ts';
import { jsonResponse } from './json-response.ts';

// Generated once per cold start: the document never changes while the code does not.
let body: string | undefined;

/** GET /openapi.json: the API's OpenAPI 3.1 document, public. */
export const handler = (): Promise<APIGatewayProxyStructuredResultV2> => {
  body ??= JSON.stringify(openApiDocument());
  return Promise.resolve({ ...jsonResponse(200, null), body, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' } });
};
