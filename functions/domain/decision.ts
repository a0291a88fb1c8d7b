import { and, eq, type Guard, holds, lt, or, type Plan } from './plan.ts';
import type { SiteState } from './site-state.ts';

/** Who is asking: read from the verified token, never from the body. */
export interface Caller {
  resellerId: string;
  siteId: string;
  nodeId: string;
  tokenVersion: number;
}

export type Rejection = 'token-revoked' | 'stale-request';

/**
 * What the witness does with one request. `write`: apply the plan with its guard, then answer
 * from the state the write produced. `answer`: nothing changes. `reject`: an error, nothing changes.
 */
export type Decision<R> =
  | { kind: 'write'; plan: Plan; reason: string; respond: (next: SiteState) => R }
  | { kind: 'answer'; response: R; reason: string }
  | { kind: 'reject'; error: Rejection; reason: string };

/** W-auth: the caller's token is the node's current one (a revocation bumps the node's version). */
export function currentToken(caller: Caller): Guard {
  return eq(['nodes', caller.nodeId, 'tokenVersion'], caller.tokenVersion);
}

/** W4: the request's (incarnation, seq) is newer than the last one applied for the node. */
export function newerRequest(nodeId: string, incarnation: number, seq: number): Guard {
  const node = ['nodes', nodeId];
  return or(lt([...node, 'incarnation'], incarnation), and(eq([...node, 'incarnation'], incarnation), lt([...node, 'seq'], seq)));
}

/**
 * Rejections shared by every node request: revoked token (W-auth) and stale order (W4), read off
 * the same guards the write carries, so the check before the write and the write agree.
 */
export function rejectIfInvalid(
  state: SiteState | undefined,
  caller: Caller,
  request: { incarnation: number; seq: number },
): { kind: 'reject'; error: Rejection; reason: string } | undefined {
  const node = state?.nodes[caller.nodeId];
  if (!node || !holds(currentToken(caller), state)) {
    return { kind: 'reject', error: 'token-revoked', reason: node ? 'token version revoked' : 'node or site no longer exists' };
  }
  if (!holds(newerRequest(caller.nodeId, request.incarnation, request.seq), state)) {
    return {
      kind: 'reject',
      error: 'stale-request',
      reason: `request (${request.incarnation}, ${request.seq}) is not newer than (${node.incarnation}, ${node.seq})`,
    };
  }
  return undefined;
}
