import type { ClaimRequest, ClaimResponse, HeartbeatRequest, HeartbeatResponse } from '../../protocol/node.ts';
import { decideClaim } from '../../functions/domain/claim.ts';
import type { Caller, Decision } from '../../functions/domain/decision.ts';
import { decideHeartbeat } from '../../functions/domain/heartbeat.ts';
import { applyUpdates, holds } from '../../functions/domain/plan.ts';
import type { WitnessSettings } from '../../functions/domain/settings.ts';
import type { SiteState } from '../../functions/domain/site-state.ts';
import { decideForcePrimary, decideReadmit, type OperatorDecision } from '../../functions/domain/survivor.ts';

/** What a client sees: the HTTP status and body, as the real handlers would answer. */
export type Outcome<R> = { status: 200; body: R } | { status: 401 | 409; code: 'token-revoked' | 'stale-request' };

/** What an operator's call sees (survivor mode's force-primary and readmit): written, answered without a write, or refused. */
export type OperatorOutcome = { status: 200; written: boolean; reason: string } | { status: 404 | 409; code: string; message: string };

/** Carries a decision out on an in-memory state, exactly as the handler does on DynamoDB. */
export function carryOut<R>(state: SiteState, decision: Decision<R>): { state: SiteState; outcome: Outcome<R> } {
  switch (decision.kind) {
    case 'reject':
      return {
        state,
        outcome: decision.error === 'stale-request' ? { status: 409, code: 'stale-request' } : { status: 401, code: 'token-revoked' },
      };
    case 'answer':
      return { state, outcome: { status: 200, body: decision.response } };
    case 'write': {
      if (!holds(decision.plan.guard, state))
        throw new Error(`a decision's guard fails on the state it was decided on: ${decision.reason}`);
      const next = applyUpdates(state, decision.plan.updates);
      return { state: next, outcome: { status: 200, body: decision.respond(next) } };
    }
  }
}

/** Carries an operator's decision out on an in-memory state (its plan is pinned to the state's `rev`). */
export function carryOutOperator(state: SiteState, decision: OperatorDecision): { state: SiteState; outcome: OperatorOutcome } {
  switch (decision.kind) {
    case 'refuse':
      return { state, outcome: { status: decision.status, code: decision.code, message: decision.message } };
    case 'answer':
      return { state, outcome: { status: 200, written: false, reason: decision.reason } };
    case 'write': {
      if (!holds(decision.plan.guard, state))
        throw new Error(`an operator decision's guard fails on the state it was decided on: ${decision.reason}`);
      return { state: applyUpdates(state, decision.plan.updates), outcome: { status: 200, written: true, reason: decision.reason } };
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

  /** An operator forces the excluded node back as primary (survivor mode's override). */
  forcePrimary(nodeId: string, request: { confirm: string; reason: string }, keyId: string, now: number): OperatorOutcome {
    const { state, outcome } = carryOutOperator(this.state, decideForcePrimary(this.state, nodeId, request, keyId, now, this.settings));
    this.state = state;
    return outcome;
  }

  /** An operator asks the survivor to give its standalone lease back, so that the excluded node is readmitted. */
  readmit(nodeId: string, keyId: string, now: number): OperatorOutcome {
    const { state, outcome } = carryOutOperator(this.state, decideReadmit(this.state, nodeId, keyId, now, this.settings));
    this.state = state;
    return outcome;
  }
}
