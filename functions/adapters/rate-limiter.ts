import { type Bucket, type RateLimit, take } from '../domain/rate-limit.ts';

/** Credentials tracked at once; the least recently used is forgotten first (it then starts full). */
const maxTracked = 10_000;

/**
 * Per-credential limits, in this process's memory. In Lambda that is per execution environment:
 * a credential spread over many environments gets more in total, which the API's own throttle
 * bounds (lib/node-api.ts). No shared counter: it would cost a write per request.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(readonly limit: RateLimit) {}

  /** How long until `credential` may make a request again (undefined: now), without spending anything. */
  waitFor(credential: string, now: number): number | undefined {
    const bucket = this.#buckets.get(credential);
    if (!bucket) return undefined;
    const result = take(bucket, now, this.limit);
    return result.ok ? undefined : result.retryAfterMs;
  }

  /** undefined if allowed, else how long to wait before the next request is. */
  check(credential: string, now: number): number | undefined {
    const result = take(this.#buckets.get(credential), now, this.limit);
    this.#buckets.delete(credential);
    this.#buckets.set(credential, result.bucket);
    if (this.#buckets.size > maxTracked) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
    return result.ok ? undefined : result.retryAfterMs;
  }
}
