import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { verifyBySpec } from './spec-signature.ts';

export type ReceiverMode =
  | 'ok'
  | 'refuse' /* server closed: connections refused */
  | 'error' /* 500 */
  | 'hang' /* never answers */
  | 'gone' /* 410 */
  | 'redirect'; /* 302 to /redirected on this server */

export interface ReceivedDelivery {
  id: string;
  timestamp: number;
  body: string;
  headers: Record<string, string>;
  verifiedByLibrary: boolean;
  verifiedBySpec: boolean;
  at: number;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port>/hook; the port is kept across 'refuse' and back. */
  url: string;
  setMode(mode: ReceiverMode): Promise<void>;
  /** The secrets a delivery may be signed with (any one verifies), e.g. to test rotation. */
  setSecrets(secrets: readonly string[]): void;
  /** Accepted deliveries, first arrival of each webhook-id. */
  readonly unique: Map<string, ReceivedDelivery>;
  /** Every request that reached the handler, duplicates included. */
  readonly requests: number;
  readonly duplicates: number;
  /** Deliveries whose signature failed either check (must stay 0). */
  readonly badSignatures: number;
  /** Requests to the redirect target (must stay 0: the sender never follows redirects). */
  readonly redirectsFollowed: number;
  waitFor(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

function libraryVerifies(secrets: readonly string[], body: string, headers: Record<string, string>): boolean {
  return secrets.some((secret) => {
    try {
      new Webhook(secret).verify(body, headers, { jsonParse: false });
      return true;
    } catch {
      return false;
    }
  });
}

/** A real HTTP receiver on 127.0.0.1 that checks every signature twice (library and spec). */
export async function startWebhookReceiver(options: { secret: string; maxSkewSeconds?: number }): Promise<WebhookReceiver> {
  let secrets: readonly string[] = [options.secret];
  let mode: ReceiverMode = 'ok';
  const stats = { requests: 0, duplicates: 0, badSignatures: 0, redirectsFollowed: 0 };
  const unique = new Map<string, ReceivedDelivery>();

  const server = http.createServer((request: IncomingMessage, response: ServerResponse) => {
    stats.requests += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/redirected') {
        stats.redirectsFollowed += 1;
        response.writeHead(204).end();
        return;
      }
      if (mode === 'hang') return;
      if (mode === 'error') return void response.writeHead(500).end('receiver error: database unavailable');
      if (mode === 'gone') return void response.writeHead(410).end('endpoint disabled');
      if (mode === 'redirect') return void response.writeHead(302, { location: `${origin}/redirected` }).end();

      const body = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string') headers[name] = value;
      }
      const signed = {
        id: headers['webhook-id'] ?? '',
        timestamp: headers['webhook-timestamp'] ?? '',
        signature: headers['webhook-signature'] ?? '',
      };
      const verifiedByLibrary = libraryVerifies(secrets, body, headers);
      const verifiedBySpec = verifyBySpec(secrets, signed, body, Math.floor(Date.now() / 1000), options.maxSkewSeconds);
      if (!verifiedByLibrary || !verifiedBySpec) {
        stats.badSignatures += 1;
        return void response.writeHead(400).end('bad signature');
      }
      if (unique.has(signed.id)) stats.duplicates += 1;
      else
        unique.set(signed.id, {
          id: signed.id,
          timestamp: Number(signed.timestamp),
          body,
          headers,
          verifiedByLibrary,
          verifiedBySpec,
          at: Date.now(),
        });
      response.writeHead(204).end();
    });
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      // Kept-alive and hanging connections would otherwise keep the server (and the port) open.
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });

  const port = await listen(0);
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/hook`,
    unique,
    get requests() {
      return stats.requests;
    },
    get duplicates() {
      return stats.duplicates;
    },
    get badSignatures() {
      return stats.badSignatures;
    },
    get redirectsFollowed() {
      return stats.redirectsFollowed;
    },
    async setMode(next) {
      if (next === 'refuse' && server.listening) await stop();
      if (next !== 'refuse' && !server.listening) await listen(port);
      mode = next;
    },
    setSecrets(next) {
      secrets = [...next];
    },
    async waitFor(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (unique.size < count) {
        if (Date.now() > deadline) throw new Error(`received ${unique.size} of ${count} deliveries within ${timeoutMs} ms`);
        await sleep(10);
      }
    },
    async close() {
      if (server.listening) await stop();
    },
  };
}
