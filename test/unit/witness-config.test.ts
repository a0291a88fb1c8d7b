import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { loadOnce, loadWitnessConfig, witnessConfigFromEnv } from '../../functions/adapters/config.ts';
import { tokenKeyFromSecret } from '../../functions/adapters/token-key.ts';

const key = randomBytes(32);
const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:TokenKey-AbCdEf';
const base = { TIEBREAK_TABLE: 'tiebreak' };

/** A secret reader that counts its calls and answers from a table. */
function reader(values: Record<string, unknown>) {
  const calls: string[] = [];
  const read = (id: string) => {
    calls.push(id);
    return Promise.resolve(values[id]);
  };
  return { read, calls };
}

describe('where the token-signing key comes from', () => {
  test('locally the key is TIEBREAK_TOKEN_KEY itself, and no secret is read', async () => {
    const secrets = reader({});
    const config = await loadWitnessConfig({ ...base, TIEBREAK_TOKEN_KEY: key.toString('base64') }, secrets.read);
    expect(config.tokenKey.equals(key)).toBe(true);
    expect(witnessConfigFromEnv({ ...base, TIEBREAK_TOKEN_KEY: key.toString('base64') }).tokenKey.equals(key)).toBe(true);
    expect(secrets.calls).toEqual([]);
  });

  test('in AWS the key is the base64 value of the secret TIEBREAK_TOKEN_KEY_SECRET_ARN names', async () => {
    const secrets = reader({ [secretArn]: key.toString('base64') });
    const config = await loadWitnessConfig({ ...base, TIEBREAK_TOKEN_KEY_SECRET_ARN: secretArn }, secrets.read);
    expect(config.tokenKey.equals(key)).toBe(true);
    expect(secrets.calls).toEqual([secretArn]);
  });

  test('the 64 letters and digits the stack generates read as a 48-byte key', async () => {
    const generated = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ01';
    expect(generated).toHaveLength(64);
    const tokenKey = await tokenKeyFromSecret(secretArn, () => Promise.resolve(generated));
    expect(tokenKey).toHaveLength(48);
    expect(tokenKey.toString('base64')).toBe(generated);
  });

  test('a secret that is too short, binary or missing is refused, naming the secret', async () => {
    const short = reader({ [secretArn]: randomBytes(16).toString('base64') });
    await expect(loadWitnessConfig({ ...base, TIEBREAK_TOKEN_KEY_SECRET_ARN: secretArn }, short.read)).rejects.toThrow(
      `token key secret ${secretArn}: must be at least 32 bytes, base64`,
    );
    const binary = reader({ [secretArn]: new Uint8Array(48) });
    await expect(loadWitnessConfig({ ...base, TIEBREAK_TOKEN_KEY_SECRET_ARN: secretArn }, binary.read)).rejects.toThrow(
      'expected a base64 string value',
    );
    const missing = reader({});
    await expect(loadWitnessConfig({ ...base, TIEBREAK_TOKEN_KEY_SECRET_ARN: secretArn }, missing.read)).rejects.toThrow(
      'expected a base64 string value',
    );
  });

  test('both a key and a secret, or neither, is refused before anything is read', async () => {
    const secrets = reader({ [secretArn]: key.toString('base64') });
    const both = { ...base, TIEBREAK_TOKEN_KEY: key.toString('base64'), TIEBREAK_TOKEN_KEY_SECRET_ARN: secretArn };
    await expect(loadWitnessConfig(both, secrets.read)).rejects.toThrow('set exactly one of TIEBREAK_TOKEN_KEY');
    await expect(loadWitnessConfig(base, secrets.read)).rejects.toThrow('set exactly one of TIEBREAK_TOKEN_KEY');
    expect(secrets.calls).toEqual([]);
  });

  test('the synchronous reader of the local runtime refuses a secret and says what reads one', () => {
    expect(() => witnessConfigFromEnv({ ...base, TIEBREAK_TOKEN_KEY_SECRET_ARN: secretArn })).toThrow('load it with loadWitnessConfig()');
  });

  test('every problem is named at once, the key and the timings alike', () => {
    expect(() => witnessConfigFromEnv({ ...base, TIEBREAK_TOKEN_KEY: 'c2hvcnQ=', TIEBREAK_LEASE_MS: '1000' })).toThrow(
      'witness configuration is invalid: TIEBREAK_TOKEN_KEY: must be at least 32 bytes, base64; TIEBREAK_LEASE_MS: at least 5000 ms is supported',
    );
  });
});

describe('loading once per cold start', () => {
  test('callers that come while the load runs, and after it, share that one load', async () => {
    let loads = 0;
    const get = loadOnce(async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { n: loads };
    });
    const [a, b] = await Promise.all([get(), get()]);
    const c = await get();
    expect(loads).toBe(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  test('a failed load is not kept: the next caller loads again, and a success is kept from then on', async () => {
    let loads = 0;
    const get = loadOnce(() => (++loads === 1 ? Promise.reject(new Error('unreachable')) : Promise.resolve(loads)));
    await expect(get()).rejects.toThrow('unreachable');
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    expect(loads).toBe(2);
  });
});
