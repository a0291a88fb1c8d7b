import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** Builds the HTTP API (payload format 2.0) event that API Gateway would hand the function. */
export function apiGatewayEvent(
  request: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters?: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const now = Date.now();
  const requestId = randomUUID();
  // API Gateway passes text bodies as they are and anything else base64-encoded.
  const text = isUtf8(body);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    // API Gateway joins a repeated parameter's values with commas.
    ...(url.search
      ? {
          queryStringParameters: Object.fromEntries(
            [...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k).join(',')]),
          ),
        }
      : {}),
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body.length > 0
      ? { body: text ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !text }
      : { isBase64Encoded: false }),
  };
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The time a local handler is given: API Gateway's 29 s, the longest any function is deployed with
 * (lib/witness-stack.ts gives the api and report functions that). Shorter, and a busy machine cut
 * off a replay of 200 messages that AWS would let finish.
 */
const localTimeoutMs = 29_000;

/** Just enough of a Lambda context for the handlers and Powertools' logger. */
export function lambdaContext(functionName: string, requestId: string): Context {
  const unused = () => undefined;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => localTimeoutMs,
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the Context type requires them; nothing calls them
    ...{ done: unused, fail: unused, succeed: unused },
  };
}
