import { timingSafeEqual } from 'node:crypto';

/** The MAC of a payload, under a key of the caller's (and a purpose of its own: node tokens and links never verify as each other). */
export type Mac = (payload: string) => Buffer;

/** `<base64url JSON claims>.<base64url MAC>`: verified with a key in memory, so checking one costs no read. */
export function signClaims(mac: Mac, claims: object): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(payload).toString('base64url')}`;
}

/** The claims of a signed string, if its MAC is right (compared in constant time) and it is JSON; undefined otherwise. */
export function openClaims(mac: Mac, signed: string, maxLength: number): unknown {
  const [payload, signature, ...rest] = signed.split('.');
  if (!payload || !signature || rest.length > 0 || signed.length > maxLength) return undefined;
  const expected = mac(payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
