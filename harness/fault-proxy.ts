import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a link does to the requests crossing it. Probabilities are 0 to 1. */
export interface Faults {
  /** Refuse everything: connections are reset, requests in flight are dropped. */
  cut: boolean;
  /** Added to every request, plus a random jitter up to `jitterMs` (which also reorders). */
  delayMs: number;
  jitterMs: number;
  /** Send the request upstream a second time, later. */
  duplicate: number;
  /** Let the request through but lose the answer. */
  dropResponse: number;
}

export const noFaults = (): Faults => ({ cut: false, delayMs: 0, jitterMs: 0, duplicate: 0, dropResponse: 0 });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An HTTP proxy on loopback in front of one upstream, with faults that can change at any time. */
export class FaultProxy {
  faults: Faults = noFaults();
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #url = '';

  constructor(
    private readonly upstream: URL,
    private readonly random: () => number = Math.random,
  ) {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      if (this.faults.cut) {
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  get url(): string {
    return this.#url;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  cut(on: boolean): void {
    this.faults.cut = on;
    if (on) for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }

  #isCut(): boolean {
    return this.faults.cut;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const f = this.faults;
    const wait = f.delayMs + this.random() * f.jitterMs;
    if (wait > 0) await sleep(wait);
    if (this.#isCut()) {
      req.socket.destroy();
      return;
    }
    if (this.random() < f.duplicate) {
      void sleep(this.random() * (f.jitterMs + 50)).then(() => this.#forward(req, body).catch(() => undefined));
    }
    const answer = await this.#forward(req, body).catch(() => undefined);
    // The link may have been cut while the request was upstream.
    if (!answer || this.#isCut() || this.random() < f.dropResponse) {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, answer.headers).end(answer.body);
  }

  #forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value;
      }
      const upstream = httpRequest(
        new URL(req.url ?? '/', this.upstream),
        { method: req.method ?? 'GET', headers: { ...headers, 'content-length': String(body.length) } },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (chunk: Buffer) => parts.push(chunk));
          response.on('end', () => {
            const out: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (typeof value === 'string' && name !== 'connection' && name !== 'transfer-encoding') out[name] = value;
            }
            resolve({ status: response.statusCode ?? 502, headers: out, body: Buffer.concat(parts) });
          });
          response.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.setTimeout(10_000, () => upstream.destroy(new Error('upstream timeout')));
      upstream.end(body);
    });
  }
}
