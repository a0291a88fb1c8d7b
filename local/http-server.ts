import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpHandler } from '../functions/handlers/node-endpoint.ts';
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

function sendJson(response: import('node:http').ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
}

/** One handler invocation as Lambda would bill it: wall time of the handler call, and the payloads. */
export interface Invocation {
  functionName: string;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
}

export interface LocalServerOptions {
  /** Called after each handler invocation (not for 404/413 answered by the server itself). */
  onInvocation?: (invocation: Invocation) => void;
}

/**
 * The route for a request, as API Gateway picks it: an exact route first, else a template whose
 * `{name}` segments each take one whole, non-empty path segment (URL-decoded into pathParameters).
 */
export function matchRoute(routes: Routes, method: string, path: string): { routeKey: string; pathParameters?: Record<string, string> } | undefined {
  const exact = `${method} ${path}`;
  if (Object.hasOwn(routes, exact)) return { routeKey: exact };
  const segments = path.split('/');
  for (const routeKey of Object.keys(routes)) {
    const [routeMethod, template = ''] = routeKey.split(' ');
    const parts = template.split('/');
    if (routeMethod !== method || parts.length !== segments.length || !template.includes('{')) continue;
    const pathParameters: Record<string, string> = {};
    const matches = parts.every((part, i) => {
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
    if (matches) return { routeKey, pathParameters };
  }
  return undefined;
}

/** What Node's own parser refuses (an unknown method, a raw control byte in the path) still gets the error shape. */
const unparsable = JSON.stringify({ error: { code: 'invalid-body', message: 'the request is not valid HTTP' } });

export function createLocalServer(routes: Routes, options: LocalServerOptions = {}): Server {
  const server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const match = matchRoute(routes, request.method ?? 'GET', path);
      const route = match ? routes[match.routeKey] : undefined;
      const body = await readBody(request);
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
      options.onInvocation?.({
        functionName: route.functionName,
        status: result.statusCode ?? 200,
        durationMs: performance.now() - started,
        requestBytes: body.length,
        responseBytes: Buffer.byteLength(result.body ?? ''),
      });
      const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
      response.writeHead(result.statusCode ?? 200, headers).end(result.body ?? '');
    })().catch((error: unknown) => {
      console.error('local server: request failed', error);
      if (!response.headersSent) sendJson(response, 500, 'internal', 'internal error');
    });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) {
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${unparsable.length}\r\nconnection: close\r\n\r\n${unparsable}`);
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
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
