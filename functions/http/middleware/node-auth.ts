import type { MiddlewareObj } from '@middy/core';
import type { DepsSource } from '../../adapters/config.ts';
import { logger } from '../../adapters/logger.ts';
import { verifyNodeToken } from '../../adapters/node-token.ts';
import { HttpError } from '../http-error.ts';
import type { NodeEvent } from '../node-event.ts';
import { refuseIfLimited } from './rate-limit.ts';

/** Verifies the bearer node token in memory (no read), puts its caller on the event, and holds it to its rate limit. */
export function nodeAuth(getDeps: DepsSource): MiddlewareObj<NodeEvent<unknown>> {
  return {
    name: 'nodeAuth',
    before: async (request) => {
      const header = request.event.headers.authorization ?? '';
      const match = /^Bearer (\S+)$/i.exec(header);
      if (!match?.[1]) throw new HttpError(401, 'unauthorized', 'an Authorization: Bearer <node token> header is required');
      const deps = await getDeps();
      const caller = verifyNodeToken(deps.tokenKey, match[1]);
      if (!caller) throw new HttpError(401, 'unauthorized', 'the node token is malformed or not signed by this witness');
      request.event.caller = caller;
      logger.appendKeys({ resellerId: caller.resellerId, siteId: caller.siteId, nodeId: caller.nodeId });
      const waitMs = deps.limiter.check(`${caller.resellerId}/${caller.siteId}/${caller.nodeId}`, deps.now());
      refuseIfLimited(waitMs, 'this node token');
    },
  };
}
