import { Agent, request } from 'node:http';

export interface JsonReply {
  status: number;
  body: unknown;
}

/**
 * A bearer-token JSON client on node:http with a keep-alive agent: sockets are reused, as an
 * agent's connection to API Gateway would be, and no client-side pool is bigger than `maxSockets`.
 * Plain node:http rather than fetch: the bench's own client shares the CPU with the server it
 * measures, so it should be the cheapest honest client.
 */
export class JsonClient {
  readonly #agent: Agent;
  readonly #host: string;
  readonly #port: number;

  constructor(
    baseUrl: string,
    maxSockets: number,
    /** Names this client in its transport errors. */
    private readonly label: string,
  ) {
    const url = new URL(baseUrl);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    // Node's agent honours a server's keep-alive hint (closing idle sockets 1 s before the server
    // would) only when the hint is shorter than the agent's own timeout; with none, it keeps idle
    // sockets forever and now and then reuses one the server is closing: ECONNRESET.
    this.#agent = new Agent({ keepAlive: true, maxSockets, timeout: 60_000 });
  }

  post(path: string, token: string, body: unknown): Promise<JsonReply> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#host,
          port: this.#port,
          path,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined });
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        reject(new Error(`${this.label} POST ${path}: ${error.code ?? error.message}`, { cause: error }));
      });
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
