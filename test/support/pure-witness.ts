import type { ClaimRequest, ClaimResponse, HeartbeatRequest, HeartbeatResponse } from '../../protocol/node.ts';
import { decideClaim } from '../../functions/domain/claim.ts';
import type { Caller, Decision } from '../../functions/domain/decision.ts';
import { decideHeartbeat } from '../../functions/domain/heartbeat.ts';
import { applyUpdates, holds } from '../../functions/domain/plan.ts';
import type { WitnessSettings } from '../../functions/domain/settings.ts';
import type { SiteState } from '../../functions/domain/site-state.ts';

/** What a client sees: the HTTP status and body, as the real handlers would answer. */
export type Outcome<R> = { status: 200; body: R } | { status: 401 | 409; code: 'token-revoked' | 'stale-request' };

/** Carries a decision out on an in-memory state, exactly as the handler does on DynamoDB. */
export function carryOut<R>(state: SiteState, decision: Decision<R>): { state: SiteState; outcome: Outcome<R> } {
  switch (decision.kind) {
    case 'reject':
      return { state, outcome: decision.error === 'stale-request' ? { status: 409, code: 'stale-request' } : { status: 401, code: 'token-revoked' } };
    case 'answer':
      return { state, outcome: { status: 200, body: decision.response } };
    case 'write': {
      if (!holds(decision.plan.guard, state)) throw new Error(`a decision's guard fails on the state it was decided on: ${decision.reason}`);
      const next = applyUpdates(state, decision.plan.updates);
      return { state: next, outcome: { status: 200, body: decision.respond(next) } };
    }
  }
}

/** The witness as pure rules: one site's state, requests applied one at a time. */
export class PureWitness {
  constructor(
    public state: SiteState,
    readonly settings: WitnessSettings,
  ) {}

  heartbeat(caller: Caller, request: HeartbeatRequest, now: number): Outcome<HeartbeatResponse> {
    const { state, outcome } = carryOut(this.state, decideHeartbeat(this.state, caller, request, now, this.settings));
    this.state = state;
    return outcome;
  }

  claim(caller: Caller, request: ClaimRequest, now: number): Outcome<ClaimResponse> {
    const { state, outcome } = carryOut(this.state, decideClaim(this.state, caller, request, now, this.settings));
    this.state = state;
    return outcome;
  }
}
