import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedHeaders {
  id: string;
  timestamp: string;
  signature: string;
}

/**
 * Standard Webhooks verification written from the specification, independently of the
 * `standardwebhooks` package, so a bug shared by signer and library verifier cannot hide:
 * HMAC-SHA256 over `${id}.${timestamp}.${body}` keyed by the base64 secret after `whsec_`,
 * base64-encoded; the header holds space-separated `v1,<signature>` entries, any of which may match.
 */
export function verifyBySpec(
  secrets: readonly string[],
  headers: SignedHeaders,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!/^\d+$/.test(headers.timestamp)) return false;
  if (Math.abs(nowSeconds - Number(headers.timestamp)) > toleranceSeconds) return false;

  const content = `${headers.id}.${headers.timestamp}.${body}`;
  const expected = secrets.map((secret) => {
    const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
    return Buffer.from(createHmac('sha256', key).update(content, 'utf8').digest('base64'));
  });
  for (const entry of headers.signature.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1));
    // timingSafeEqual needs equal lengths; a length mismatch reveals nothing about the key.
    if (expected.some((mac) => mac.length === given.length && timingSafeEqual(mac, given))) return true;
  }
  return false;
}
