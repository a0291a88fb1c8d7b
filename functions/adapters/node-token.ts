import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import * as z from 'zod/mini';
import { Identifier } from '../../protocol/ids.ts';
import '../../protocol/zod-locale.ts';
import type { Caller } from '../domain/decision.ts';
import { openClaims, signClaims } from './signed-claims.ts';

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
  const claims = { r: caller.resellerId, s: caller.siteId, n: caller.nodeId, v: caller.tokenVersion };
  return `${prefix}.${signClaims((payload) => mac(key, payload), claims)}`;
}

/** The caller a token names, or undefined if it is malformed or not signed with this key. */
export function verifyNodeToken(key: Buffer, token: string): Caller | undefined {
  if (!token.startsWith(`${prefix}.`)) return undefined;
  const claims = Claims.safeParse(openClaims((payload) => mac(key, payload), token.slice(prefix.length + 1), 1024 - prefix.length - 1));
  if (!claims.success) return undefined;
  return { resellerId: claims.data.r, siteId: claims.data.s, nodeId: claims.data.n, tokenVersion: claims.data.v };
}
