import { createHash, randomBytes } from 'node:crypto';

/**
 * Secrets the reseller API hands out: API keys and enrollment codes. Each carries 256 (keys) or
 * 160 (codes) random bits, so a plain SHA-256 is the right hash to store: a slow password hash
 * protects guessable secrets, and these are not guessable.
 */

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A short random id for keys and maintenance windows: 12 hex digits (48 bits; writes refuse a repeat). */
export function newId(): string {
  return randomBytes(6).toString('hex');
}

/** A reseller API key: `tbk.<resellerId>.<keyId>.<secret>`; the ids tell where its hash is kept. */
export interface ApiKeyParts {
  resellerId: string;
  keyId: string;
  secret: string;
}

const apiKeyPattern = /^tbk\.([a-z0-9][a-z0-9-]{0,47})\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

export function newApiKey(resellerId: string): { key: string; keyId: string; hash: Buffer } {
  const keyId = newId();
  const key = `tbk.${resellerId}.${keyId}.${randomBytes(32).toString('base64url')}`;
  return { key, keyId, hash: sha256(key) };
}

export function parseApiKey(key: string): ApiKeyParts | undefined {
  const match = apiKeyPattern.exec(key);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { resellerId: match[1], keyId: match[2], secret: match[3] };
}

/** An enrollment code: `tbe-` and 40 hex digits (160 bits), easy to paste into a config. */
export function newEnrollmentCode(): { code: string; hash: string } {
  const code = `tbe-${randomBytes(20).toString('hex')}`;
  return { code, hash: enrollmentCodeHash(code) };
}

export function enrollmentCodeHash(code: string): string {
  return sha256(code).toString('base64url');
}
