import type { MiddlewareObj } from '@middy/core';
import { HttpError } from '../http-error.ts';
import type { ApiEvent } from '../api-event.ts';

/** The one 429: how long to wait, in the message and (whole seconds, rounded up) in Retry-After. */
export function refuseIfLimited(waitMs: number | undefined, credential: string): void {
  if (waitMs === undefined) return;
  throw new HttpError(429, 'rate-limited', `too many requests for ${credential}; retry in ${waitMs} ms`, undefined, {
    'retry-after': String(Math.ceil(waitMs / 1000)),
  });
}

const failedFrom = (event: ApiEvent) => `failed:${event.requestContext.http.sourceIp}`;

/**
 * Failed authentications are charged to the caller's address, and refused before any read once it
 * has spent its budget: guessing keys costs the guesser, not the table. A 401 before the caller is
 * known is a failed authentication; a route's own 401s (a link, an inbound hook, an enrollment
 * code) come after and are not charged.
 */
export function failedAuthBudget(): MiddlewareObj<ApiEvent> {
  return {
    name: 'failedAuthBudget',
    before: ({ event }) => {
      refuseIfLimited(event.deps.limiter.waitFor(failedFrom(event), event.now), 'this credential');
    },
    onError: ({ event, error }) => {
      if (error instanceof HttpError && error.status === 401 && !Object.hasOwn(event, 'caller')) {
        event.deps.limiter.check(failedFrom(event), event.now);
      }
    },
  };
}

/** Each credential's own limit: a reseller's key, the admin key, or a public route's caller by address. */
export function credentialLimit(): MiddlewareObj<ApiEvent> {
  return {
    name: 'credentialLimit',
    before: ({ event }) => {
      const { caller } = event;
      const credential =
        caller.kind === 'reseller' ? `key:${caller.keyId}` : caller.kind === 'admin' ? 'admin' : `ip:${event.requestContext.http.sourceIp}`;
      refuseIfLimited(event.deps.limiter.check(credential, event.now), 'this credential');
    },
  };
}
