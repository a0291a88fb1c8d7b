/** A token bucket: `burst` requests at once, refilled at `perSecond`. Pure: time comes in. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface Bucket {
  tokens: number;
  at: number;
}

export type Take = { ok: true; bucket: Bucket } | { ok: false; bucket: Bucket; retryAfterMs: number };

export function take(bucket: Bucket | undefined, now: number, limit: RateLimit): Take {
  const elapsed = bucket ? Math.max(0, now - bucket.at) : 0;
  const tokens = Math.min(limit.burst, (bucket?.tokens ?? limit.burst) + (elapsed * limit.perSecond) / 1000);
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now } };
  return { ok: false, bucket: { tokens, at: now }, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / limit.perSecond) };
}
