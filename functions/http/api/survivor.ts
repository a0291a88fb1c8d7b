import type { ForcedFailover, ReadmitPending } from '../../../protocol/reseller.ts';
import { logger } from '../../adapters/logger.ts';
import type { SiteListing } from '../../adapters/site-admin-store.ts';
import { iso } from '../../adapters/tenancy-items.ts';
import type { SiteState } from '../../domain/site-state.ts';
import { decideForcePrimary, decideReadmit, type OperatorDecision } from '../../domain/survivor.ts';
import { HttpError } from '../http-error.ts';
import { type AnyCall, type ApiImplementations, notFound, param } from './call.ts';
import { ownSite, siteStatus } from './sites.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** Survivor mode: the site as the reseller owns it, and its state item written through the witness's own store. */
export type SurvivorRouteDeps = Pick<ApiDeps, 'sites' | 'siteStates' | 'settings'>;

/** Writes lost to concurrent writers (the nodes' heartbeats) before the call gives up with 503, as the node protocol's (`retryConditionalWrite`). */
const maxAttempts = 5;

/** A refusal of the decision, in the error shape, with its own code (`not-excluded`, `confirmation-mismatch`, …). */
function refusal(decision: Extract<OperatorDecision, { kind: 'refuse' }>): HttpError {
  return new HttpError(decision.status, decision.code, decision.message);
}

interface OperatorWrite {
  listing: SiteListing;
  /** The state written, or the one the answer was decided on. */
  state: SiteState;
  written: boolean;
  reason: string;
}

/**
 * Decides on the site's state and writes the plan as one conditional write through the witness's
 * store (pinned to the state's `rev`). A lost race (a heartbeat in between) returns the state the
 * guard failed on, and the decision is taken again on it, without another read.
 */
async function retryOperatorWrite(
  call: AnyCall<SurvivorRouteDeps>,
  decide: (state: SiteState) => OperatorDecision,
): Promise<OperatorWrite> {
  const { resellerId, siteId, listing, state: read } = await ownSite(call);
  let state: SiteState | undefined = read;
  for (let attempt = 1; attempt <= maxAttempts && state; attempt++) {
    const decision = decide(state);
    if (decision.kind === 'refuse') throw refusal(decision);
    if (decision.kind === 'answer') return { listing, state, written: false, reason: decision.reason };
    const result = await call.deps.siteStates.apply({ resellerId, siteId }, decision.plan);
    if (result.ok) return { listing, state: result.state, written: true, reason: decision.reason };
    state = result.current;
  }
  if (!state) throw notFound('the site');
  throw new HttpError(503, 'unavailable', 'the site changed under this request too often; retry', undefined, { 'retry-after': '1' });
}

function keyOf(call: AnyCall<SurvivorRouteDeps>): string {
  if (call.caller.kind !== 'reseller') throw new Error('a survivor-mode route was called without a reseller key');
  return call.caller.keyId;
}

export const survivorRoutes = {
  'POST /v1/sites/{siteId}/nodes/{nodeId}/force-primary': async (call) => {
    const nodeId = param(call, 'nodeId');
    const keyId = keyOf(call);
    const { listing, state, written, reason } = await retryOperatorWrite(call, (s) =>
      decideForcePrimary(s, nodeId, call.body, keyId, call.now, call.deps.settings),
    );
    const previousPrimary = state.decision?.inputs.previousPrimary;
    if (!written || state.decision?.kind !== 'force' || typeof previousPrimary !== 'string')
      throw new Error('force-primary returned without writing a forced failover');
    // Who did it, and what they declared: the audit trail has it too (failover.forced), from the decision written.
    logger.warn('failover forced by an operator', {
      siteId: listing.siteId,
      nodeId,
      epoch: state.epoch,
      previousPrimary,
      keyId,
      confirm: call.body.confirm,
      operatorReason: call.body.reason,
      reason,
    });
    return {
      epoch: state.epoch,
      primary: nodeId,
      previousPrimary,
      forcedAt: iso(call.now),
      keyId,
      message:
        `${nodeId} is the primary at epoch ${String(state.epoch)}: it promotes once its agent's next claim is granted. ` +
        `${previousPrimary} is told to demote if it is heard again; if it is running now, cut its power or network at once.`,
      site: siteStatus(listing, state, call.now, call.deps.settings),
    } satisfies ForcedFailover;
  },

  'POST /v1/sites/{siteId}/nodes/{nodeId}/readmit': async (call) => {
    const nodeId = param(call, 'nodeId');
    const keyId = keyOf(call);
    const { listing, state, written, reason } = await retryOperatorWrite(call, (s) =>
      decideReadmit(s, nodeId, keyId, call.now, call.deps.settings),
    );
    const ending = state.exclusion?.ending;
    const survivor = state.primary;
    if (!ending || survivor === null) throw new Error('readmit returned without a pending end of the standalone lease');
    logger.info(written ? 'readmission asked by an operator' : 'readmission already pending', {
      siteId: listing.siteId,
      nodeId,
      survivor,
      keyId,
      reason,
    });
    return {
      status: 'pending',
      nodeId,
      survivor,
      commandId: ending.commandId,
      requestedAt: iso(ending.at),
      requestedBy: ending.by,
      message:
        `${nodeId} is readmitted once ${survivor} acknowledges the end of its standalone lease (command ${ending.commandId}, ` +
        `delivered with its next heartbeat, at most ${String(Math.round(call.deps.settings.slowHeartbeatMs / 1000))} s apart); ` +
        `if ${survivor} is off too, use force-primary`,
    } satisfies ReadmitPending;
  },
} satisfies Partial<ApiImplementations<SurvivorRouteDeps>>;
