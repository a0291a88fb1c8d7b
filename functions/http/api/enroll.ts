import { enrollmentCodeHash } from '../../adapters/credentials.ts';
import { logger } from '../../adapters/logger.ts';
import { signNodeToken } from '../../adapters/node-token.ts';
import { HttpError } from '../http-error.ts';
import { nodeRouteKeys } from '../../../protocol/node-routes.ts';
import type { ApiImplementations } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** Node enrollment: the enrollment codes, and the token key that signs the node's token. */
export type EnrollRouteDeps = Pick<ApiDeps, 'sites' | 'tokenKey'>;

const refused = () => new HttpError(401, 'unauthorized', 'the enrollment code is unknown, used or expired');

// 400, like a preferred node that is not the site's: the request contradicts what the code is for,
// and no change of state will make it succeed. Not 409, which this route answers for a code that is
// dead (superseded or revoked: ask for a new one); this code is fine, on its own node.
const otherNode = (codeNode: string, sent: string) =>
  new HttpError(
    400,
    'wrong-node',
    `the enrollment code is for node ${codeNode}, not ${sent}: it is still unused; put it in ${codeNode}'s config`,
    [{ path: 'nodeId', message: `the code is for ${codeNode}` }],
  );

export const enrollRoutes = {
  /** The code is the credential: one read to find what it enrolls, one transaction to use it up. */
  [nodeRouteKeys.enroll]: async ({ body, deps, now }) => {
    const hash = enrollmentCodeHash(body.code);
    const code = await deps.sites.getEnrollmentCode(hash);
    if (!code || code.validUntil < now) throw refused();
    // Before any write: the code's node stays enrolled with its token, and the code stays usable.
    if (code.nodeId !== body.nodeId) throw otherNode(code.nodeId, body.nodeId);
    const outcome = await deps.sites.enroll(hash, code, now);
    if (!outcome.ok) {
      if (outcome.why === 'used') throw refused();
      throw new HttpError(
        409,
        'conflict',
        'a newer enrollment of this node was used first, or its token was revoked since: ask for a new code',
      );
    }
    const caller = { resellerId: code.resellerId, siteId: code.siteId, nodeId: code.nodeId, tokenVersion: code.tokenVersion };
    logger.appendKeys({ resellerId: caller.resellerId, siteId: caller.siteId, nodeId: caller.nodeId });
    logger.info('node enrolled', { tokenVersion: caller.tokenVersion });
    return { ...caller, token: signNodeToken(deps.tokenKey, caller) };
  },
} satisfies Partial<ApiImplementations<EnrollRouteDeps>>;
