import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ConsoleAssets, consoleIndex, readConsoleAssets } from '../adapters/console-assets.ts';
import { loadOnce } from '../adapters/load-once.ts';
import { logger } from '../adapters/logger.ts';
import { errorResponse } from '../http/middleware/error-response.ts';
import type { HttpHandler } from '../http/node-endpoint.ts';

/**
 * The reseller console, served by the API itself (decided in issue 16): one origin for the page
 * and the API it calls, so no CORS and no second host to secure; the console's files travel in
 * this function's package (lib/witness-function.ts builds them there with console/build.ts).
 * The page holds no data and no credential: the user's API key stays in the tab's sessionStorage.
 *
 * Every answer carries a strict CSP (scripts and styles from this origin only, nothing inline; the
 * API on this origin; no framing), and says not to sniff types nor send referrers.
 */
export const consoleSecurityHeaders = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
} as const;

/** Hashed files change name when they change: cached a year. index.html is revalidated on each load. */
const cacheControl = { immutable: 'public, max-age=31536000, immutable', index: 'no-cache' } as const;

function answer(statusCode: number, headers: Record<string, string>, body: string | Buffer): APIGatewayProxyStructuredResultV2 {
  const binary = typeof body !== 'string';
  return {
    statusCode,
    headers: { ...consoleSecurityHeaders, ...headers },
    body: binary ? body.toString('base64') : body,
    isBase64Encoded: binary,
  };
}

/** GET /console and GET /console/{proxy+}: the console's files. */
export const consoleHandler = (getAssets: () => Promise<ConsoleAssets>): HttpHandler =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorResponse())
    .handler(async (event) => {
      // The raw path decides, not the route: API Gateway may hand `/console/` to either of them.
      // Relative, so that it holds under a custom domain's base path too.
      if (event.rawPath.endsWith('/console')) return answer(302, { location: 'console/', 'cache-control': cacheControl.index }, '');
      const name = event.pathParameters?.proxy ?? '';
      const assets = await getAssets();
      const file = assets.get(name === '' ? consoleIndex : name);
      if (!file) {
        const body = JSON.stringify({ error: { code: 'not-found', message: `the console has no file ${name}` } });
        return answer(404, { 'content-type': 'application/json', 'cache-control': 'no-store' }, body);
      }
      const gzip = /\bgzip\b/.test(event.headers['accept-encoding'] ?? '');
      return answer(
        200,
        {
          'content-type': file.contentType,
          'cache-control': file.immutable ? cacheControl.immutable : cacheControl.index,
          vary: 'accept-encoding',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        },
        gzip ? file.gzipped : file.body,
      );
    });

/** In Lambda: the files of the package's `console/` folder, read once per cold start. */
export const handler = consoleHandler(loadOnce(() => readConsoleAssets(join(dirname(fileURLToPath(import.meta.url)), 'console'))));
