import type { Plan } from './plan.ts';
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

/** Rejections shared by every node request: revoked token (W-auth) and stale order (W4). */
export function rejectIfInvalid(
  state: SiteState | undefined,
  caller: Caller,
  request: { incarnation: number; seq: number },
): { kind: 'reject'; error: Rejection; reason: string } | undefined {
  const node = state?.nodes[caller.nodeId];
  if (node?.tokenVersion !== caller.tokenVersion) {
    return { kind: 'reject', error: 'token-revoked', reason: node ? 'token version revoked' : 'node or site no longer exists' };
  }
  const newer =
    request.incarnation > node.incarnation || (request.incarnation === node.incarnation && request.seq > node.seq);
  if (!newer) {
    return {
      kind: 'reject',
      error: 'stale-request',
      reason: `request (${request.incarnation}, ${request.seq}) is not newer than (${node.incarnation}, ${node.seq})`,
    };
  }
  return undefined;
}
