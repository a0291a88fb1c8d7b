import { createHmac, timingSafeEqual } from 'node:crypto';

/** Peer messages older or newer than this (wall clock) are refused: a replay is useless after it. */
export const peerMaxSkewMs = 30_000;

function mac(key: Buffer, stamp: string, body: string): Buffer {
  return createHmac('sha256', key).update(`${stamp}.${body}`).digest();
}

export function signPeerBody(key: Buffer, body: string, wallNow: number): string {
  const stamp = String(Math.floor(wallNow));
  return `${stamp}.${mac(key, stamp, body).toString('base64url')}`;
}

/**
 * A signature checked, and if refused, why, for the technician: none or not one (`malformed`), not
 * made with this key (`bad-key`: `peer.key` differs, or someone else signed), or made with it but
 * stamped by a clock `skewMs` ahead (negative: behind) of this one (`clock-skew`). The reasons
 * only name the refusal: a signature is accepted exactly when it is well formed, made with this
 * key, and stamped within `peerMaxSkewMs`.
 */
export type PeerSignatureCheck =
  { ok: true } | { ok: false; problem: 'malformed' | 'bad-key' } | { ok: false; problem: 'clock-skew'; skewMs: number };

export function checkPeerSignature(key: Buffer, body: string, header: string | undefined, wallNow: number): PeerSignatureCheck {
  const [stamp, signature, ...rest] = (header ?? '').split('.');
  if (!stamp || !signature || rest.length > 0 || !/^\d{1,16}$/.test(stamp)) return { ok: false, problem: 'malformed' };
  const expected = mac(key, stamp, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'bad-key' };
  // Checked after the key, so that a clock difference is named only for a signer that holds it.
  const skewMs = Number(stamp) - wallNow;
  if (Math.abs(skewMs) > peerMaxSkewMs) return { ok: false, problem: 'clock-skew', skewMs: Math.round(skewMs) };
  return { ok: true };
}

export function verifyPeerBody(key: Buffer, body: string, header: string | undefined, wallNow: number): boolean {
  return checkPeerSignature(key, body, header, wallNow).ok;
}
