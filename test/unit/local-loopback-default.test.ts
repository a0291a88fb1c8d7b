import { expect, test } from 'vitest';
import { apiChannelsFromEnv } from '../../functions/adapters/api-config.ts';
import { withLocalLoopbackDefault } from '../../local/loopback-default.ts';

const allowLoopback = (env: Record<string, string>): boolean =>
  apiChannelsFromEnv(withLocalLoopbackDefault(env)).addressPolicy.allowLoopback;

test('npm start accepts a loopback webhook receiver by default; TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK=false refuses it', () => {
  expect(allowLoopback({})).toBe(true);
  expect(allowLoopback({ TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: 'false' })).toBe(false);
  expect(allowLoopback({ TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK: 'true' })).toBe(true);
});

test('outside the local runtime (the functions in AWS, where the variable is never set) loopback receivers stay refused', () => {
  expect(apiChannelsFromEnv({}).addressPolicy.allowLoopback).toBe(false);
});
