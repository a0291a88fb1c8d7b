import { createHmac, timingSafeEqual } from 'node:crypto';

/** Peer messages older or newer than this (wall clock) are refused: a replay is useless after it. */
const maxAgeMs = 30_000;

function mac(key: Buffer, stamp: string, body: string): Buffer {
  return createHmac('sha256', key).update(`${stamp}.${body}`).digest();
}

export function signPeerBody(key: Buffer, body: string, wallNow: number): string {
  const stamp = String(Math.floor(wallNow));
  return `${stamp}.${mac(key, stamp, body).toString('base64url')}`;
}

export function verifyPeerBody(key: Buffer, body: string, header: string | undefined, wallNow: number): boolean {
  const [stamp, signature, ...rest] = (header ?? '').split('.');
  if (!stamp || !signature || rest.length > 0 || !/^\d{1,16}$/.test(stamp)) return false;
  if (Math.abs(wallNow - Number(stamp)) > maxAgeMs) return false;
  const expected = mac(key, stamp, body);
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
