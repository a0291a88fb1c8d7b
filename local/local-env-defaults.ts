import type { Env } from '../functions/adapters/env-settings.ts';

/**
 * `npm start`'s defaults for what only a machine of one's own may allow, each kept as set when set
 * (`false` refuses there too). In AWS these variables are never set, so both stay refused there
 * (test/infra/witness-stack.test.ts):
 * - TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: webhook receivers on this machine (docs/webhooks.md starts one);
 * - TIEBREAK_HOOKS_ALLOW_HTTP: inbound hooks' bearer tokens over this server's plain HTTP on loopback.
 */
export function withLocalDefaults(env: Env): Env {
  return { TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: 'true', TIEBREAK_HOOKS_ALLOW_HTTP: 'true', ...stripUndefined(env) };
}

function stripUndefined(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}
