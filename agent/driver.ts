import type { ClaimResponse, HeartbeatResponse } from '../protocol/node.ts';
import type { PeerHello, PeerReply } from '../protocol/peer.ts';
import type { AgentAction, AgentInput } from './core/messages.ts';
import type { AgentState } from './core/state.ts';
import { step as coreStep } from './core/step.ts';
import type { WitnessResult } from './io/witness-client.ts';

/** How often the loop wakes to review leases and timers when nothing else happens. */
export const tickMs = 50;

export type HeartbeatAction = Extract<AgentAction, { type: 'witness-heartbeat' }>;
export type ClaimAction = Extract<AgentAction, { type: 'witness-claim' }>;
export type RunHookAction = Extract<AgentAction, { type: 'run-hook' }>;
export type LogAction = Extract<AgentAction, { type: 'log' }>;

/** The agent's monotonic clock (local ms) and its timers: real, or virtual in the simulations. */
export interface DriverClock {
  now(): number;
  /**
   * Calls `run` every `periodMs` until the returned function cancels it, the first time `firstInMs`
   * from now (0: now, or as soon as the clock's owner runs timers). A virtual clock may fire late.
   */
  every(periodMs: number, run: () => void, firstInMs: number): () => void;
}

/** The way to the witness: `answered` is called once, whenever the answer (or the failure) comes. */
export interface WitnessTransport {
  heartbeat(action: HeartbeatAction, answered: (result: WitnessResult<HeartbeatResponse>) => void): void;
  claim(action: ClaimAction, answered: (result: WitnessResult<ClaimResponse>) => void): void;
}

/** The way to the peer: `answered` gets its reply, or undefined when none came in time. */
export interface PeerTransport {
  hello(hello: PeerHello, sentAt: number, answered: (reply: PeerReply | undefined) => void): void;
}

export interface HookRunner {
  run(action: RunHookAction, exited: (code: number | null) => void): void;
}

/** The health check, every `intervalMs` from the start: `report` takes its result. */
export interface HealthCheck {
  intervalMs: number;
  check(report: (input: Extract<AgentInput, { type: 'health' }>) => void): void;
}

/** One step, as the loop took it: for logs, traces and the simulation's checks. */
export interface StepRecord {
  before: AgentState;
  input: AgentInput;
  after: AgentState;
  actions: AgentAction[];
  now: number;
}

export interface AgentDriverOptions {
  clock: DriverClock;
  witness: WitnessTransport;
  peer: PeerTransport;
  hooks: HookRunner;
  health?: HealthCheck;
  /** Where the core's `log` actions go. */
  log?: (action: LogAction) => void;
  /** Called after each step, before its actions are carried out. */
  observe?: (record: StepRecord) => void;
  /** The core; replaceable so that the simulation's checks can be shown to catch a broken one. */
  step?: typeof coreStep;
}

/** A failed answer as the core takes it. */
function failure(r: Extract<WitnessResult<unknown>, { ok: false }>): Omit<Extract<AgentInput, { type: 'witness-failed' }>, 'type' | 'seq'> {
  return { status: r.status, code: r.code, ...(r.unreachable && { unreachable: r.unreachable }) };
}

/**
 * The thin loop around the pure core, once for the real agent, the chaos simulation and the cost
 * bench: it feeds inputs to `step` one at a time (ticks, witness answers, peer hellos and replies,
 * hook exits, health) and carries out the actions through the ports it is given. Nothing here
 * decides anything, and nothing here does I/O of its own. One driver is one run of the agent
 * process: once stopped, late answers are dropped.
 */
export class AgentDriver {
  #state: AgentState;
  #stopped = false;
  readonly #cancels: (() => void)[] = [];
  readonly #o: AgentDriverOptions;
  readonly #step: typeof coreStep;

  constructor(initial: AgentState, options: AgentDriverOptions) {
    this.#state = initial;
    this.#o = options;
    this.#step = options.step ?? coreStep;
  }

  get state(): AgentState {
    return this.#state;
  }

  /** Starts the timers (ticks, health), then takes the first step at once. */
  start(): void {
    const { clock, health } = this.#o;
    this.#cancels.push(clock.every(tickMs, () => this.dispatch({ type: 'tick' }), tickMs));
    if (health) {
      const check = () => {
        health.check((input) => this.dispatch(input));
      };
      this.#cancels.push(clock.every(health.intervalMs, check, 0));
    }
    this.dispatch({ type: 'tick' });
  }

  /** Stops at once: no more timers, and whatever arrives later is dropped. */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#cancels.splice(0)) cancel();
  }

  /** One input through the core, then its actions, in order; returns the actions. */
  dispatch(input: AgentInput): AgentAction[] {
    return this.#take(input, undefined);
  }

  /**
   * A hello from the peer: `answer` gets the core's reply as soon as the core has taken the hello,
   * before the actions it caused are carried out (the reply leaves first). Not called once stopped.
   */
  hearHello(hello: PeerHello, answer: (reply: PeerReply) => void): void {
    this.#take({ type: 'peer-hello', hello }, answer);
  }

  #take(input: AgentInput, answer: ((reply: PeerReply) => void) | undefined): AgentAction[] {
    if (this.#stopped) return [];
    const now = this.#o.clock.now();
    const before = this.#state;
    const { state, actions } = this.#step(before, input, now);
    this.#state = state;
    this.#o.observe?.({ before, input, after: state, actions, now });
    if (answer) {
      const reply = actions.find((a) => a.type === 'peer-answer');
      if (reply) answer(reply.reply);
    }
    for (const action of actions) this.#carryOut(action);
    return actions;
  }

  #carryOut(action: AgentAction): void {
    switch (action.type) {
      case 'log':
        this.#o.log?.(action);
        return;
      case 'witness-heartbeat': {
        const { seq } = action.request;
        this.#o.witness.heartbeat(action, (r) => {
          this.dispatch(r.ok ? { type: 'witness-heartbeat-ok', seq, body: r.body } : { type: 'witness-failed', seq, ...failure(r) });
        });
        return;
      }
      case 'witness-claim': {
        const { seq } = action.request;
        this.#o.witness.claim(action, (r) => {
          this.dispatch(r.ok ? { type: 'witness-claim-ok', seq, body: r.body } : { type: 'witness-failed', seq, ...failure(r) });
        });
        return;
      }
      case 'peer-hello': {
        const sentAt = this.#o.clock.now();
        this.#o.peer.hello(action.hello, sentAt, (reply) => {
          this.dispatch(reply ? { type: 'peer-reply', sentAt, reply } : { type: 'peer-failed', sentAt });
        });
        return;
      }
      case 'peer-answer':
        // Given to `hearHello`'s caller, who answers the hello.
        return;
      case 'run-hook':
        this.#o.hooks.run(action, (code) => {
          this.dispatch({ type: 'hook-exited', hook: action.hook, code });
        });
        return;
    }
  }
}
