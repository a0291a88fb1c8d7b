import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { Identifier } from '../../protocol/ids.ts';
import '../../protocol/zod-locale.ts';
import type { Caller } from '../domain/decision.ts';

/**
 * Node tokens: `tb1.<base64url claims>.<base64url HMAC-SHA256>`. Verified with a key held in
 * memory, so authentication costs no read; the token version is checked by the decision
 * write's condition, so a revoked token fails there (DESIGN.md, "Authentication without a read").
 */
const prefix = 'tb1';

const Claims = z.strictObject({ r: Identifier, s: Identifier, n: Identifier, v: z.number().check(z.int(), z.minimum(1)) });

// A key object per key, made once: building one from bytes costs more than the HMAC itself.
const keyObjects = new WeakMap<Buffer, KeyObject>();

function mac(key: Buffer, payload: string): Buffer {
  let keyObject = keyObjects.get(key);
  if (!keyObject) {
    keyObject = createSecretKey(key);
    keyObjects.set(key, keyObject);
  }
  return createHmac('sha256', keyObject).update(`${prefix}.${payload}`).digest();
}

export function signNodeToken(key: Buffer, caller: Caller): string {
  const payload = Buffer.from(
    JSON.stringify({ r: caller.resellerId, s: caller.siteId, n: caller.nodeId, v: caller.tokenVersion }),
  ).toString('base64url');
  return `${prefix}.${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The caller a token names, or undefined if it is malformed or not signed with this key. */
export function verifyNodeToken(key: Buffer, token: string): Caller | undefined {
  const [tag, payload, signature, ...rest] = token.split('.');
  if (tag !== prefix || !payload || !signature || rest.length > 0 || token.length > 1024) return undefined;
  const expected = mac(key, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const claims = Claims.safeParse(json);
  if (!claims.success) return undefined;
  return { resellerId: claims.data.r, siteId: claims.data.s, nodeId: claims.data.n, tokenVersion: claims.data.v };
}
