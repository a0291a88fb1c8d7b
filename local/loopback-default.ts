import type { Env } from '../functions/adapters/env-settings.ts';

/**
 * `npm start`'s environment for the webhook address policy: loopback receivers (a receiver on this
 * machine, as docs/webhooks.md starts one) are allowed unless TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK says
 * otherwise (`false` refuses them). Only the local runtime calls this: in AWS the variable is never
 * set, so they stay refused there (test/infra/witness-stack.test.ts).
 */
export function withLocalLoopbackDefault(env: Env): Env {
  return env.TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK === undefined ? { ...env, TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: 'true' } : env;
}
