import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import { type AddressPolicy, guardedLookup, literalAddressRefusal, type LookupAll, urlHost } from './address-policy.ts';

export interface Delivery {
  url: string;
  messageId: string;
  body: string;
  /** whsec_… secrets; more than one while a secret is being rotated. */
  secrets: readonly string[];
}

export interface DeliveryResult {
  /** 2xx → 'delivered'; 410 → 'gone'; anything else (other status, 3xx, refused, timeout, address not allowed, TLS error) → 'failed'. */
  outcome: 'delivered' | 'gone' | 'failed';
  status: number | null;
  latencyMs: number;
  /** The response body's first bytes (at most maxResponseBytes), decoded as UTF-8. */
  response: string;
  error: string | null;
}

export interface SenderOptions {
  policy: AddressPolicy;
  /** Covers the whole exchange, reading the (capped) response included. Default 15000. */
  timeoutMs?: number;
  /** Default 1024. */
  maxResponseBytes?: number;
  /** Default 'Tiebreak-Webhooks/1.0'. */
  userAgent?: string;
  /** Tests only: the resolver behind the guarded lookup (to simulate a DNS answer that changed). */
  resolve?: LookupAll;
}

/** The Standard Webhooks headers: one `v1,` signature per secret, space-separated (the rotation form). */
export function signatureHeaders(messageId: string, now: Date, body: string, secrets: readonly string[]): Record<string, string> {
  if (secrets.length === 0) throw new Error('a webhook delivery needs at least one secret');
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, now, body)).join(' '),
  };
}

/** A human sentence for a request error (never the raw stack). */
function describeError(error: NodeJS.ErrnoException): string {
  const code = error.code ?? '';
  if (code === 'ERR_ADDRESS_NOT_ALLOWED') return `address not allowed: ${error.message}`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset by the receiver';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return `TLS error: ${error.message}`;
  }
  return error.message;
}

/** Sends one signed delivery per call over kept-alive connections. Never follows redirects. */
export class WebhookSender {
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;

  constructor(private readonly options: SenderOptions) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 1024;
    this.userAgent = options.userAgent ?? 'Tiebreak-Webhooks/1.0';
  }

  send(delivery: Delivery, now: Date): Promise<DeliveryResult> {
    const headers = signatureHeaders(delivery.messageId, now, delivery.body, delivery.secrets);
    const started = performance.now();
    const result = (outcome: DeliveryResult['outcome'], status: number | null, response: string, error: string | null): DeliveryResult => ({
      outcome,
      status,
      latencyMs: Math.round(performance.now() - started),
      response,
      error,
    });

    let url: URL;
    try {
      url = new URL(delivery.url);
    } catch {
      return Promise.resolve(result('failed', null, '', 'not a valid URL'));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return Promise.resolve(result('failed', null, '', `scheme ${url.protocol} is not supported (http or https only)`));
    }
    const host = urlHost(url);
    // Node connects to a literal IP without calling `lookup`, so the guard must check it here.
    const literal = literalAddressRefusal(host, this.options.policy);
    if (literal !== null) return Promise.resolve(result('failed', null, '', `address not allowed: ${literal}`));

    const secure = url.protocol === 'https:';
    const signal = AbortSignal.timeout(this.timeoutMs);
    return new Promise<DeliveryResult>((resolve) => {
      let settled = false;
      const finish = (value: DeliveryResult): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      let status: number | null = null;
      const onAbort = (): void => {
        request.destroy();
        finish(result('failed', status, '', `timed out after ${this.timeoutMs} ms`));
      };
      signal.addEventListener('abort', onAbort, { once: true });

      const request = (secure ? https : http).request(
        {
          method: 'POST',
          protocol: url.protocol,
          hostname: host,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(delivery.body)),
            'user-agent': this.userAgent,
          },
          agent: secure ? this.httpsAgent : this.httpAgent,
          lookup: guardedLookup(this.options.policy, this.options.resolve),
          signal,
        },
        (response) => {
          status = response.statusCode ?? null;
          this.readHead(response, (head) => {
            finish(this.classify(response, head, result));
          });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (signal.aborted) onAbort();
        else finish(result('failed', status, '', describeError(error)));
      });
      request.end(delivery.body);
    });
  }

  /** Reads at most maxResponseBytes, then stops: a receiver streaming a huge body costs neither memory nor time. */
  private readHead(response: IncomingMessage, done: (head: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const complete = (): void => {
      if (finished) return;
      finished = true;
      done(Buffer.concat(chunks).toString('utf8'));
    };
    response.on('data', (chunk: Buffer) => {
      if (finished) return;
      const part = chunk.subarray(0, this.maxResponseBytes - size);
      chunks.push(part);
      size += part.length;
      if (size >= this.maxResponseBytes) {
        complete();
        // Destroying drops this connection from the pool; the rest of the body is never read.
        response.destroy();
      }
    });
    response.on('end', complete);
    // A body cut off mid-way still has a status and a head to report.
    response.on('error', complete);
    response.on('close', complete);
  }

  private classify(
    response: IncomingMessage,
    head: string,
    result: (outcome: DeliveryResult['outcome'], status: number | null, response: string, error: string | null) => DeliveryResult,
  ): DeliveryResult {
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return result('delivered', status, head, null);
    if (status === 410) return result('gone', status, head, null);
    if (status >= 300 && status < 400) {
      const location = response.headers.location;
      return result('failed', status, head, location ? `redirect to ${location} not followed` : `redirect (${status}) not followed`);
    }
    return result('failed', status, head, `the receiver answered ${status}`);
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
