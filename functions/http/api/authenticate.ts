import { timingSafeEqual } from 'node:crypto';
import type { Access } from '../../../protocol/api-routes.ts';
import type { ApiBaseDeps } from '../../adapters/api-config.ts';
import { parseApiKey, sha256 } from '../../adapters/credentials.ts';
import { HttpError } from '../http-error.ts';
import type { ApiCaller } from './call.ts';

const unauthorized = (why: string) => new HttpError(401, 'unauthorized', why);

/**
 * The bearer credential against what the route allows. An API key costs one read (its hash and
 * revocation); the admin key is compared in memory. Refusals name the rule, never a secret.
 */
export async function authenticate(
  access: Access,
  header: string | undefined,
  deps: Pick<ApiBaseDeps, 'resellers' | 'adminKeyHash'>,
): Promise<ApiCaller> {
  if (access === 'public') return { kind: 'public' };
  const match = /^Bearer (\S{1,512})$/i.exec(header ?? '');
  const presented = match?.[1];
  if (!presented) throw unauthorized('an Authorization: Bearer <API key> header is required');

  const parts = parseApiKey(presented);
  if (!parts) {
    if (!timingSafeEqual(sha256(presented), deps.adminKeyHash)) throw unauthorized('the credential is not an API key of this service');
    if (access !== 'admin') throw new HttpError(403, 'forbidden', "the admin key manages resellers; use a reseller's API key here");
    return { kind: 'admin' };
  }
  const record = await deps.resellers.getApiKey(parts.resellerId, parts.keyId);
  if (!record || !timingSafeEqual(sha256(presented), Buffer.from(record.hash, 'base64url'))) {
    throw unauthorized('the API key is not known');
  }
  if (record.revokedAt !== null) throw unauthorized('the API key was revoked');
  if (access === 'admin') throw new HttpError(403, 'forbidden', 'this route needs the admin key');
  if (access === 'write' && record.scope !== 'read-write') throw new HttpError(403, 'forbidden', 'this API key is read-only');
  return { kind: 'reseller', resellerId: record.resellerId, keyId: record.keyId, scope: record.scope };
}
