import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpHandler } from '../functions/http/node-endpoint.ts';
import type { ErrorBody, ErrorCode } from '../protocol/errors.ts';
import { apiGatewayEvent, lambdaContext } from './api-gateway-event.ts';

/** Routes as API Gateway declares them: `METHOD /path` → the function that serves it. */
export type Routes = Record<string, { functionName: string; handler: HttpHandler }>;

/** Bodies beyond this are cut off before buffering (API Gateway's own cap is far larger). */
const maxBufferedBytes = 1024 * 1024;

export interface LocalServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBufferedBytes) chunks.push(chunk);
    });
    request.on('end', () => {
      resolve(size <= maxBufferedBytes ? Buffer.concat(chunks) : undefined);
    });
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  const body: ErrorBody = { error: { code, message } };
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** What a request is told while the routes are still being filled in: short, as start-up takes seconds. */
export const startingRetryAfterSeconds = 1;

/** Once close() is called, requests in flight are answered for this long before their connections are cut. */
const closeGraceMs = 5_000;

/** One handler invocation as Lambda would bill it: wall time of the handler call, and the payloads. */
export interface Invocation {
  functionName: string;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

export interface LocalServerOptions {
  /** Called after each handler invocation (not for 404/413/503 answered by the server itself). */
  onInvocation?: (invocation: Invocation) => void;
  /**
   * False while the routes are still being filled in (the port is taken first): every request is
   * then answered 503 with Retry-After, so that a client started at the same time retries instead
   * of being told that its route does not exist. Absent: ready from the start.
   */
  isReady?: () => boolean;
}

/**
 * The route for a request, as API Gateway picks it: an exact route first, else a template whose
 * `{name}` segments each take one whole, non-empty path segment (URL-decoded into pathParameters),
 * else a template ending in a greedy `{name+}`, which takes the rest of the path (the console's
 * files). A greedy parameter takes an empty rest too (`/console/`): the console's handler reads
 * the raw path, so it answers alike whichever of its two routes API Gateway picks for that.
 */
export function matchRoute(
  routes: Routes,
  method: string,
  path: string,
): { routeKey: string; pathParameters?: Record<string, string> } | undefined {
  const exact = `${method} ${path}`;
  if (Object.hasOwn(routes, exact)) return { routeKey: exact };
  const segments = path.split('/');
  const templates = Object.keys(routes).filter((routeKey) => routeKey.includes('{'));
  for (const greedy of [false, true]) {
    for (const routeKey of templates) {
      const [routeMethod, template = ''] = routeKey.split(' ');
      const parts = template.split('/');
      const rest = /^\{(\w+)\+\}$/.exec(parts[parts.length - 1] ?? '')?.[1];
      if (routeMethod !== method || (rest !== undefined) !== greedy) continue;
      const fixed = greedy ? parts.slice(0, -1) : parts;
      if (greedy ? segments.length <= fixed.length : segments.length !== parts.length) continue;
      const pathParameters: Record<string, string> = {};
      const matches = fixed.every((part, i) => {
        const segment = segments[i] ?? '';
        const name = /^\{(\w+)\}$/.exec(part)?.[1];
        if (!name) return part === segment;
        if (!segment) return false;
        try {
          pathParameters[name] = decodeURIComponent(segment);
        } catch {
          return false;
        }
        return true;
      });
      if (!matches) continue;
      if (rest !== undefined) {
        try {
          pathParameters[rest] = decodeURIComponent(segments.slice(fixed.length).join('/'));
        } catch {
          continue;
        }
      }
      return { routeKey, pathParameters };
    }
  }
  return undefined;
}

/** What Node's own parser refuses (an unknown method, a raw control byte in the path) still gets the error shape. */
const unparsable = JSON.stringify({ error: { code: 'invalid-body', message: 'the request is not valid HTTP' } });

export function createLocalServer(routes: Routes, options: LocalServerOptions = {}): Server {
  const server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const body = await readBody(request);
      if (options.isReady?.() === false) {
        sendJson(response, 503, 'unavailable', 'the witness is starting; retry shortly', {
          'retry-after': String(startingRetryAfterSeconds),
        });
        return;
      }
      const match = matchRoute(routes, request.method ?? 'GET', path);
      const route = match ? routes[match.routeKey] : undefined;
      if (!match || !route) {
        sendJson(response, 404, 'not-found', `no route for ${request.method ?? 'GET'} ${path}`);
        return;
      }
      if (!body) {
        sendJson(response, 413, 'payload-too-large', 'the body is too large');
        return;
      }
      const event = apiGatewayEvent(request, body, match.routeKey, match.pathParameters);
      const started = performance.now();
      const result = await route.handler(event, lambdaContext(route.functionName, event.requestContext.requestId));
      // As API Gateway does: a base64 body (a PDF) goes out as its bytes.
      const answer = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
      options.onInvocation?.({
        functionName: route.functionName,
        status: result.statusCode ?? 200,
        durationMs: performance.now() - started,
        requestBytes: body.length,
        responseBytes: answer.length,
      });
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
      response.writeHead(result.statusCode ?? 200, headers).end(answer);
    })().catch((error: unknown) => {
      console.error('local server: request failed', error);
      if (!response.headersSent) sendJson(response, 500, 'internal', 'internal error');
    });
  });
  server.on('clientError', (error: Error & { rawPacket?: Buffer }, socket) => {
    if (socket.writable) {
      // An answer to HEAD has no body: a client reads one as the next response's garbage.
      const head = error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${unparsable.length}\r\nconnection: close\r\n\r\n${head ? '' : unparsable}`,
      );
    }
  });
  return server;
}

/** Listens on loopback; rejects with EADDRINUSE if the port is taken. */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<LocalServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${address.port}`,
    // Stops accepting and lets requests in flight be answered (their handlers may still use the
    // engines, which are stopped after this): idle connections close as they become idle, and
    // whatever is left is cut after a grace.
    close: () =>
      new Promise((resolve) => {
        const sweep = setInterval(() => {
          server.closeIdleConnections();
        }, 50);
        const cut = setTimeout(() => {
          server.closeAllConnections();
        }, closeGraceMs);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
