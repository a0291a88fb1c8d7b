import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import * as z from 'zod/mini';
import { Identifier } from '../../protocol/ids.ts';
import { IncidentId } from '../../protocol/incidents.ts';
import '../../protocol/zod-locale.ts';
import type { IncidentLinks } from './incident-config.ts';
import { openClaims, signClaims } from './signed-claims.ts';

/**
 * One-click links for people who cannot call the API (e-mail, SMS): `<base64url claims>.<base64url
 * HMAC-SHA256>`. The MAC key is derived from the token-signing key for this purpose only, so a
 * node token never passes as a link nor a link as a node token. A link names one reseller, site,
 * incident and action, and expires; the API verifies it without a read.
 */
export type LinkAction = 'acknowledge' | 'resolve';

export interface IncidentLink {
  resellerId: string;
  siteId: string;
  incidentId: string;
  action: LinkAction;
  /** Epoch ms after which it is refused. */
  expiresAt: number;
}

/** A week: long enough for a weekend's e-mail, short enough that an old message cannot act for long. */
export const defaultLinkTtlMs = 7 * 24 * 3_600_000;

/** The purpose the link key is derived for: changing it invalidates every link issued. */
const purpose = 'tiebreak incident links v1';
const maxTokenLength = 1024;

const Claims = z.strictObject({
  r: Identifier,
  s: Identifier,
  i: IncidentId,
  a: z.enum(['acknowledge', 'resolve']),
  e: z.number().check(z.int(), z.minimum(0)),
});

// Derived once per token key: the derivation is an HMAC itself.
const linkKeys = new WeakMap<Buffer, KeyObject>();

function linkKey(tokenKey: Buffer): KeyObject {
  let key = linkKeys.get(tokenKey);
  if (!key) {
    key = createSecretKey(createHmac('sha256', tokenKey).update(purpose).digest());
    linkKeys.set(tokenKey, key);
  }
  return key;
}

const mac = (tokenKey: Buffer, payload: string) => createHmac('sha256', linkKey(tokenKey)).update(payload).digest();

export function signIncidentLink(tokenKey: Buffer, link: IncidentLink): string {
  const claims = { r: link.resellerId, s: link.siteId, i: link.incidentId, a: link.action, e: Math.floor(link.expiresAt / 1000) };
  return signClaims((payload) => mac(tokenKey, payload), claims);
}

export type LinkVerdict = { ok: true; link: IncidentLink } | { ok: false; reason: 'invalid' | 'expired' };

/** The link a token names, if it was signed with this key and has not expired. */
export function verifyIncidentLink(tokenKey: Buffer, token: string, now: number): LinkVerdict {
  const claims = Claims.safeParse(openClaims((payload) => mac(tokenKey, payload), token, maxTokenLength));
  if (!claims.success) return { ok: false, reason: 'invalid' };
  const { r, s, i, a, e } = claims.data;
  if (now >= e * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, link: { resellerId: r, siteId: s, incidentId: i, action: a, expiresAt: e * 1000 } };
}

/** Links for the messages of an incident step: `<publicUrl>/v1/links/<token>`, one per action. */
export class IncidentLinkSigner implements IncidentLinks {
  private readonly base: string;

  constructor(
    private readonly tokenKey: Buffer,
    publicUrl: string,
    private readonly ttlMs = defaultLinkTtlMs,
  ) {
    this.base = publicUrl.replace(/\/+$/, '');
  }

  linksFor(resellerId: string, siteId: string, incidentId: string, now: number): { acknowledge: string; resolve: string } {
    const url = (action: LinkAction) =>
      `${this.base}/v1/links/${signIncidentLink(this.tokenKey, { resellerId, siteId, incidentId, action, expiresAt: now + this.ttlMs })}`;
    return { acknowledge: url('acknowledge'), resolve: url('resolve') };
  }

  verify(token: string, now: number): LinkVerdict {
    return verifyIncidentLink(this.tokenKey, token, now);
  }
}
