import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { loadOnce, loadWitnessConfig, witnessConfigFromEnv } from '../../functions/adapters/config.ts';
import { parseSettingsEnv, settingsEnv } from '../../functions/adapters/settings-env.ts';
import { tokenKeyFromSecret } from '../../functions/adapters/token-key.ts';
import { defaultSettings } from '../../functions/domain/settings.ts';

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

describe("survivor mode's timings (W5)", () => {
  const settingsOf = (env: Record<string, string>) => {
    const parsed = parseSettingsEnv(env);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    return parsed.settings;
  };
  const problemsOf = (env: Record<string, string>) => {
    const parsed = parseSettingsEnv(env);
    return parsed.ok ? [] : parsed.problems;
  };

  test('TIEBREAK_EXCLUSION_MS unset is twice the freshness window, whatever that is set to; set, it is taken as it is', () => {
    expect(settingsOf({}).exclusionMs).toBe(2 * defaultSettings.freshnessMs);
    expect(defaultSettings.exclusionMs).toBe(2 * defaultSettings.freshnessMs);
    expect(settingsOf({ TIEBREAK_FRESHNESS_MS: '20000' }).exclusionMs).toBe(40_000);
    expect(settingsOf({ TIEBREAK_EXCLUSION_MS: '45000' }).exclusionMs).toBe(45_000);
  });

  test('TIEBREAK_EXCLUSION_MS must be an integer of at least one lease: every problem names the variable', () => {
    expect(settingsOf({ TIEBREAK_EXCLUSION_MS: String(defaultSettings.leaseMs) }).exclusionMs).toBe(defaultSettings.leaseMs);
    for (const value of [String(defaultSettings.leaseMs - 1), '0', '-5', '1.5', 'soon', String(86_400_001)]) {
      const problems = problemsOf({ TIEBREAK_EXCLUSION_MS: value });
      expect([...new Set(problems.map((p) => p.name))], `TIEBREAK_EXCLUSION_MS=${value}`).toEqual(['TIEBREAK_EXCLUSION_MS']);
    }
    expect(problemsOf({ TIEBREAK_EXCLUSION_MS: String(defaultSettings.leaseMs - 1) })[0]?.message).toBe(
      'a node must be unheard for at least one lease before it is excluded',
    );
  });

  test('TIEBREAK_STANDALONE_LEASE_MS unset means no end (null, and no variable written back); set, at least two leases and at most 30 days', () => {
    expect(settingsOf({}).standaloneLeaseMs).toBeNull();
    expect(settingsEnv(defaultSettings)).not.toHaveProperty('TIEBREAK_STANDALONE_LEASE_MS');
    expect(settingsOf({ TIEBREAK_STANDALONE_LEASE_MS: '30000' }).standaloneLeaseMs).toBe(30_000);
    expect(settingsOf({ TIEBREAK_STANDALONE_LEASE_MS: String(30 * 86_400_000) }).standaloneLeaseMs).toBe(30 * 86_400_000);
    for (const value of ['29999', '0', 'forever', '2.5', String(30 * 86_400_000 + 1)]) {
      const problems = problemsOf({ TIEBREAK_STANDALONE_LEASE_MS: value });
      expect([...new Set(problems.map((p) => p.name))], `TIEBREAK_STANDALONE_LEASE_MS=${value}`).toEqual(['TIEBREAK_STANDALONE_LEASE_MS']);
    }
    expect(problemsOf({ TIEBREAK_LEASE_MS: '20000', TIEBREAK_STANDALONE_LEASE_MS: '39999' })[0]?.message).toMatch(
      /at least two ordinary leases/,
    );
    expect(() =>
      witnessConfigFromEnv({ ...base, TIEBREAK_TOKEN_KEY: key.toString('base64'), TIEBREAK_STANDALONE_LEASE_MS: '1000' }),
    ).toThrow(
      'witness configuration is invalid: TIEBREAK_STANDALONE_LEASE_MS: a bounded standalone lease must last at least two ordinary leases',
    );
  });

  test('TIEBREAK_COMMAND_ACK_MS: 30 s unset; set, an integer of at least two fast heartbeats, and a bad value names the variable', () => {
    expect(settingsOf({}).commandAckMs).toBe(30_000);
    expect(settingsOf({ TIEBREAK_COMMAND_ACK_MS: '90000' }).commandAckMs).toBe(90_000);
    expect(settingsOf({ TIEBREAK_COMMAND_ACK_MS: String(2 * defaultSettings.fastHeartbeatMs) }).commandAckMs).toBe(
      2 * defaultSettings.fastHeartbeatMs,
    );
    for (const value of [String(2 * defaultSettings.fastHeartbeatMs - 1), '0', '-5', '1.5', 'soon', String(86_400_001)]) {
      const problems = problemsOf({ TIEBREAK_COMMAND_ACK_MS: value });
      expect([...new Set(problems.map((p) => p.name))], `TIEBREAK_COMMAND_ACK_MS=${value}`).toEqual(['TIEBREAK_COMMAND_ACK_MS']);
    }
    expect(problemsOf({ TIEBREAK_COMMAND_ACK_MS: '9999' })[0]?.message).toBe(
      'a node must have at least two fast heartbeats to acknowledge a command',
    );
    expect(() => witnessConfigFromEnv({ ...base, TIEBREAK_TOKEN_KEY: key.toString('base64'), TIEBREAK_COMMAND_ACK_MS: 'soon' })).toThrow(
      'witness configuration is invalid: TIEBREAK_COMMAND_ACK_MS:',
    );
  });

  test('the timings written back as variables (what the CDK app sets on each function) read as the same timings', () => {
    const envs: Record<string, string>[] = [
      {},
      { TIEBREAK_STANDALONE_LEASE_MS: '60000' },
      { TIEBREAK_COMMAND_ACK_MS: '45000' },
      { TIEBREAK_EXCLUSION_MS: '20000', TIEBREAK_FRESHNESS_MS: '9000' },
    ];
    for (const env of envs) {
      const settings = settingsOf(env);
      expect(settingsOf(settingsEnv(settings))).toEqual(settings);
    }
  });

  // The default exclusion time, twice the freshness window, is never under one lease: with
  // TIEBREAK_FRESHNESS_MS=5000 under a 15 s lease it is 15 s, and the same timings written back by
  // settingsEnv() (what a deployment carries) are accepted again at every cold start.
  test('a default exclusion time is held to the same bound as a set one: accepted timings are accepted again once written back', () => {
    const env = { TIEBREAK_FRESHNESS_MS: '5000' };
    const parsed = parseSettingsEnv(env);
    if (parsed.ok) {
      expect(parsed.settings.exclusionMs).toBeGreaterThanOrEqual(parsed.settings.leaseMs);
      expect(parseSettingsEnv(settingsEnv(parsed.settings)).ok).toBe(true);
    } else {
      expect(parsed.problems.map((p) => p.name)).toContain('TIEBREAK_EXCLUSION_MS');
    }
  });
});
