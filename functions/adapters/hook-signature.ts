import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { sha256 } from './credentials.ts';

export type HookVerdict =
  { ok: true; webhookId: string; /** ms */ at: number } | { ok: false; reason: 'missing-headers' | 'outside-window' | 'bad-signature' };

/** A webhook-id becomes part of a table key: printable ASCII without spaces, and short. */
const webhookIdPattern = /^[\x21-\x7e]{1,200}$/;
const timestampPattern = /^\d{1,12}$/;

/**
 * Verifies a Standard Webhooks request: the three headers, the timestamp within `toleranceMs` of
 * the server's `now`, and one of the `v1,` signatures made with `secret` over
 * `<webhook-id>.<webhook-timestamp>.<body>`. The library's `verify` reads the process clock; the
 * window here is the server clock the caller passes (one clock for the whole service, a test
 * clock in tests), so the library only signs, and the comparison is constant-time.
 */
export function verifyHook(
  secret: string,
  headers: Readonly<Record<string, string | undefined>>,
  body: string,
  now: number,
  toleranceMs: number,
): HookVerdict {
  const webhookId = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!webhookId || !timestamp || !signatures || !webhookIdPattern.test(webhookId) || !timestampPattern.test(timestamp)) {
    return { ok: false, reason: 'missing-headers' };
  }
  const at = Number(timestamp) * 1000;
  if (Math.abs(now - at) > toleranceMs) return { ok: false, reason: 'outside-window' };
  const expected = Buffer.from(new Webhook(secret).sign(webhookId, new Date(at), body));
  // Several signatures, space-separated, while the sender rotates its secret: one must match.
  const matches = signatures.split(' ').some((signature) => {
    const candidate = Buffer.from(signature);
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
  return matches ? { ok: true, webhookId, at } : { ok: false, reason: 'bad-signature' };
}

export type BearerVerdict =
  | { ok: true; /** The sender's `idempotency-key` (or `webhook-id`), if it sent one. */ key: string | undefined }
  | { ok: false; reason: 'plain-http' | 'missing-token' | 'bad-token' | 'bad-key' };

/**
 * Whether the request reached the service over HTTPS, as the proxy in front says: API Gateway
 * serves only HTTPS and sets `x-forwarded-proto`; the last value is the one the nearest proxy
 * added. No header (the local runtime's own server) is plain HTTP.
 */
export function cameOverHttps(headers: Readonly<Record<string, string | undefined>>): boolean {
  const proto = headers['x-forwarded-proto']?.split(',').at(-1)?.trim().toLowerCase();
  return proto === 'https';
}

/**
 * Checks a bearer-token hook: over HTTPS (unless `allowPlainHttp`: the local runtime, which serves
 * HTTP on loopback), then `Authorization: Bearer <token>` whose SHA-256 equals `tokenHash` (both
 * digests 32 bytes, compared in constant time), then the optional idempotency key.
 */
export function verifyBearer(
  tokenHash: string,
  headers: Readonly<Record<string, string | undefined>>,
  options: { allowPlainHttp: boolean },
): BearerVerdict {
  if (!options.allowPlainHttp && !cameOverHttps(headers)) return { ok: false, reason: 'plain-http' };
  const presented = /^Bearer (\S{1,512})$/i.exec(headers.authorization ?? '')?.[1];
  if (!presented) return { ok: false, reason: 'missing-token' };
  const expected = Buffer.from(tokenHash, 'base64url');
  const digest = sha256(presented);
  if (digest.length !== expected.length || !timingSafeEqual(digest, expected)) return { ok: false, reason: 'bad-token' };
  const key = headers['idempotency-key'] ?? headers['webhook-id'];
  if (key !== undefined && !webhookIdPattern.test(key)) return { ok: false, reason: 'bad-key' };
  return { ok: true, key };
}
