import { enrollmentCodeHash } from '../../adapters/credentials.ts';
import { logger } from '../../adapters/logger.ts';
import { signNodeToken } from '../../adapters/node-token.ts';
import { HttpError } from '../http-error.ts';
import type { ApiImplementations } from './call.ts';

const refused = () => new HttpError(401, 'unauthorized', 'the enrollment code is unknown, used or expired');

export const enrollRoutes = {
  /** The code is the credential: one read to find what it enrolls, one transaction to use it up. */
  'POST /v1/node/enroll': async ({ body, deps, now }) => {
    const hash = enrollmentCodeHash(body.code);
    const code = await deps.sites.getEnrollmentCode(hash);
    if (!code || code.validUntil < now) throw refused();
    const outcome = await deps.sites.enroll(hash, code, now);
    if (!outcome.ok) {
      if (outcome.why === 'used') throw refused();
      throw new HttpError(409, 'conflict', 'a newer enrollment of this node was used first, or its token was revoked since: ask for a new code');
    }
    const caller = { resellerId: code.resellerId, siteId: code.siteId, nodeId: code.nodeId, tokenVersion: code.tokenVersion };
    logger.appendKeys({ resellerId: caller.resellerId, siteId: caller.siteId, nodeId: caller.nodeId });
    logger.info('node enrolled', { tokenVersion: caller.tokenVersion });
    return { ...caller, token: signNodeToken(deps.tokenKey, caller) };
  },
} satisfies Partial<ApiImplementations>;
