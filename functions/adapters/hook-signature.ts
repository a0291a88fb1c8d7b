import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

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
