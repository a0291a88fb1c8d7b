import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { signNodeToken } from '../../functions/adapters/node-token.ts';
import { maxBodyBytes } from '../../protocol/node.ts';
import { startWitness, type TestWitness } from '../support/witness.ts';
import {
  claimPath,
  expectError,
  expireLeaseKeepingBothFresh,
  heartbeatPath,
  type Pair,
  pairWithPrimaryA,
  postTo,
  setTokenVersion,
} from './scenario.ts';

let witness: TestWitness;
let pair: Pair;
let stored: string;
beforeAll(async () => {
  witness = await startWitness();
  pair = await pairWithPrimaryA(witness);
});
afterAll(() => witness.close());

// Every request in this file is refused: the site must stay byte-identical throughout.
beforeEach(async () => {
  stored = JSON.stringify(await witness.rawItem(pair.key));
  return async () => {
    expect(JSON.stringify(await witness.rawItem(pair.key))).toBe(stored);
  };
});

const paths = [heartbeatPath, claimPath];
const validBody = (path: string) =>
  path === heartbeatPath ? { incarnation: 9, seq: 1, epoch: 1, role: 'primary' } : { incarnation: 9, seq: 1, epoch: 1, reason: 'operator' };

describe.each(paths)('POST %s answers bad input with a 4xx and the error shape', (path) => {
  test('400 invalid-json for a body that is not JSON, empty, or not UTF-8', async () => {
    const token = pair.a.node.token;
    for (const body of ['{"incarnation": 1,', 'not json', '']) {
      const error = expectError(await witness.post(path, token, body), 400, 'invalid-json');
      expect(error.details).toBeUndefined();
    }
    const notUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]);
    expectError(await postTo(witness.url, path, token, notUtf8), 400, 'invalid-json');
  });

  test('400 invalid-body with details naming each failing field', async () => {
    const token = pair.a.node.token;
    const wrongType = expectError(await witness.post(path, token, { ...validBody(path), seq: '7' }), 400, 'invalid-body');
    expect(wrongType.details).toEqual([{ path: 'seq', message: expect.stringMatching(/number/) as unknown }]);

    const negative = expectError(await witness.post(path, token, { ...validBody(path), incarnation: -1, epoch: 1.5 }), 400, 'invalid-body');
    expect(negative.details!.map((d) => d.path).sort()).toEqual(['epoch', 'incarnation']);

    const missing = expectError(await witness.post(path, token, { seq: 1 }), 400, 'invalid-body');
    expect(missing.details!.map((d) => d.path)).toEqual(expect.arrayContaining(['incarnation', 'epoch']));

    const outOfEnum = path === heartbeatPath ? { role: 'boss' } : { reason: 'whim' };
    const enumError = expectError(await witness.post(path, token, { ...validBody(path), ...outOfEnum }), 400, 'invalid-body');
    expect(enumError.details).toEqual([{ path: Object.keys(outOfEnum)[0], message: expect.stringMatching(/expected one of/) as unknown }]);

    if (path === heartbeatPath) {
      const nested = { ...validBody(path), health: { score: 101 }, acks: ['ok', 'not ok!'], peer: { reachable: 'yes' } };
      const nestedError = expectError(await witness.post(path, token, nested), 400, 'invalid-body');
      expect(nestedError.details!.map((d) => d.path).sort()).toEqual(['acks.1', 'health.score', 'peer.reachable']);
    }

    const several = expectError(await witness.post(path, token, { ...validBody(path), seq: '7', ...outOfEnum }), 400, 'invalid-body');
    expect(several.details!.map((d) => d.path).sort()).toEqual([Object.keys(outOfEnum)[0], 'seq'].sort());

    const extra = expectError(await witness.post(path, token, { ...validBody(path), extra: 1 }), 400, 'invalid-body');
    expect(extra.details).toEqual([{ path: 'extra', message: 'unknown field' }]);

    for (const body of [[], null, 42, '"a string"']) {
      const error = expectError(
        await witness.post(path, token, typeof body === 'string' ? body : JSON.stringify(body)),
        400,
        'invalid-body',
      );
      expect(error.details).toEqual([{ path: '(body)', message: expect.any(String) as unknown }]);
    }
  });

  test('401 unauthorized without an Authorization header, or with another scheme', async () => {
    const body = validBody(path);
    expectError(await witness.post(path, undefined, body), 401, 'unauthorized');
    for (const authorization of [
      'Basic bm9kZTpwdw==',
      'Bearer',
      'Bearer ',
      `Token ${pair.a.node.token}`,
      `Bearer ${pair.a.node.token} extra`,
    ]) {
      expectError(await postTo(witness.url, path, undefined, body, { authorization }), 401, 'unauthorized');
    }
  });

  test('401 unauthorized for a token signed with another key, a tampered token, or garbage', async () => {
    const body = validBody(path);
    const caller = pair.a.node.caller;
    const foreign = signNodeToken(randomBytes(32), caller);
    const [tag, payload, signature] = pair.a.node.token.split('.') as [string, string, string];
    const otherNode = Buffer.from(JSON.stringify({ r: caller.resellerId, s: caller.siteId, n: 'node-b', v: 1 })).toString('base64url');
    const newerVersion = Buffer.from(JSON.stringify({ r: caller.resellerId, s: caller.siteId, n: caller.nodeId, v: 2 })).toString(
      'base64url',
    );
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const tokens = [
      foreign,
      `${tag}.${otherNode}.${signature}`,
      `${tag}.${newerVersion}.${signature}`,
      `${tag}.${payload}.${flipped}`,
      `${tag}.${payload}`,
      `${tag}.${payload}.${signature}.x`,
      `tb2.${payload}.${signature}`,
      'not-a-token',
      'x'.repeat(2_000),
    ];
    for (const token of tokens) {
      const error = expectError(await witness.post(path, token, body), 401, 'unauthorized');
      expect(error.message).not.toContain(payload);
    }
  });

  test('authentication comes first: a bad token with a bad body is 401, not 400', async () => {
    expectError(await witness.post(path, 'not-a-token', '{oops'), 401, 'unauthorized');
    expectError(await witness.post(path, undefined, { seq: 'x' }), 401, 'unauthorized');
  });

  test('401 token-revoked for a token naming a node or a site the witness does not have', async () => {
    const key = witness.deps.tokenKey;
    const { resellerId, siteId } = pair.key;
    const unknownNode = signNodeToken(key, { resellerId, siteId, nodeId: 'node-c', tokenVersion: 1 });
    const unknownSite = signNodeToken(key, { resellerId, siteId: 'no-such-site', nodeId: 'node-a', tokenVersion: 1 });
    expectError(await witness.post(path, unknownNode, validBody(path)), 401, 'token-revoked');
    expectError(await witness.post(path, unknownSite, validBody(path)), 401, 'token-revoked');
  });

  test('409 stale-request for a request not newer than the last applied', async () => {
    const nodes = (await witness.rawItem(pair.key))!.nodes as Record<string, { incarnation: number; seq: number }>;
    const { incarnation, seq } = nodes['node-a']!;
    const error = expectError(await witness.post(path, pair.a.node.token, { ...validBody(path), incarnation, seq }), 409, 'stale-request');
    expect(error.details).toBeUndefined();
  });

  test('413 payload-too-large for a body over 16 KiB, and for one over 1 MiB cut off before the handler', async () => {
    const token = pair.a.node.token;
    const overLimit = JSON.stringify({ ...validBody(path), pad: 'x'.repeat(maxBodyBytes) });
    expectError(await witness.post(path, token, overLimit), 413, 'payload-too-large');
    // Exactly one byte over, even though it is not even valid JSON.
    expectError(await witness.post(path, token, ' '.repeat(maxBodyBytes + 1)), 413, 'payload-too-large');
    expectError(await witness.post(path, token, 'x'.repeat(1024 * 1024 + 1)), 413, 'payload-too-large');
    // The size check comes after authentication: without a token the answer is 401, still no 500.
    expectError(await witness.post(path, undefined, overLimit), 401, 'unauthorized');
  });

  test('a body of exactly 16 KiB is accepted for reading and judged on its content', async () => {
    const stale = JSON.stringify({ ...validBody(path), incarnation: 0, seq: 0 }).padEnd(maxBodyBytes, ' ');
    expect(Buffer.byteLength(stale)).toBe(maxBodyBytes);
    expectError(await witness.post(path, pair.a.node.token, stale), 409, 'stale-request');
  });
});

describe('unknown routes', () => {
  test('404 not-found for a path or a method the witness does not serve', async () => {
    const token = pair.a.node.token;
    for (const path of ['/v1/node/nope', '/v1/node', '/', '/v1/node/heartbeat/extra', '/V1/NODE/HEARTBEAT']) {
      expectError(await witness.post(path, token, { incarnation: 1, seq: 1 }), 404, 'not-found');
    }
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await fetch(`${witness.url}${heartbeatPath}`, { method, headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'not-found' } });
    }
  });
});

describe('a revoked token version', () => {
  test('401 token-revoked for the old token, even from a process that saw the site before the revocation', async () => {
    const revokedPair = await pairWithPrimaryA(witness);
    await expireLeaseKeepingBothFresh(witness, revokedPair);
    // This process remembers both nodes at token version 1; the revocation below does not tell it.
    await setTokenVersion(witness, revokedPair.key, 'node-a', 2);
    await setTokenVersion(witness, revokedPair.key, 'node-b', 2);
    const before = JSON.stringify(await witness.rawItem(revokedPair.key));

    // node-b may take over (its claim would grant), node-a is the primary (its claim would renew).
    for (const agent of [revokedPair.b, revokedPair.a]) {
      const error = expectError(await agent.claimRaw(1), 401, 'token-revoked');
      expect(error.message).toMatch(/no longer valid/);
      expectError(await agent.heartbeatRaw('secondary', 1), 401, 'token-revoked');
    }
    expectError(await revokedPair.a.heartbeatRaw('primary', 1), 401, 'token-revoked');

    expect(JSON.stringify(await witness.rawItem(revokedPair.key))).toBe(before);
  });
});
