import { expect, test } from 'vitest';
import { apiChannelsFromEnv } from '../../functions/adapters/api-config.ts';
import { withLocalDefaults } from '../../local/local-env-defaults.ts';

const local = (env: Record<string, string>) => {
  const channels = apiChannelsFromEnv(withLocalDefaults(env));
  return { loopback: channels.addressPolicy.allowLoopback, httpHooks: channels.allowHttpHooks === true };
};

test('npm start accepts loopback webhook receivers and bearer hooks over plain HTTP by default; false refuses each', () => {
  expect(local({})).toEqual({ loopback: true, httpHooks: true });
  expect(local({ TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: 'false' })).toEqual({ loopback: false, httpHooks: true });
  expect(local({ TIEBREAK_HOOKS_ALLOW_HTTP: 'false' })).toEqual({ loopback: true, httpHooks: false });
});

test('outside the local runtime (the functions in AWS, where the variables are never set) both stay refused', () => {
  const channels = apiChannelsFromEnv({});
  expect(channels.addressPolicy.allowLoopback).toBe(false);
  expect(channels.allowHttpHooks === true).toBe(false);
});
