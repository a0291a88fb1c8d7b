import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { openApiDocument } from '../../protocol/openapi.ts';

// Generated once per cold start: the document never changes while the code does not.
let body: string | undefined;

/** GET /openapi.json: the API's OpenAPI 3.1 document, public. */
export const handler = (): Promise<APIGatewayProxyStructuredResultV2> => {
  body ??= JSON.stringify(openApiDocument());
  return Promise.resolve({
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
    body,
  });
};
