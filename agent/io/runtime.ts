import type { Server } from 'node:http';
import type { AgentConfig } from '../config.ts';
import type { AgentAction, AgentInput } from '../core/messages.ts';
import { type AgentState, initialAgentState, leaseEnd, mayRunWorkloads, peerLost } from '../core/state.ts';
import { step } from '../core/step.ts';
import { type MonotonicClock, monotonicClock } from './clock.ts';
import { runHook } from './hooks.ts';
import { peerServer, sayHello } from './peer-link.ts';
import { nextIncarnation, writeStatus } from './state-file.ts';
import { WitnessClient } from './witness-client.ts';

/** How often the loop wakes to review leases and timers when nothing else happens. */
const tickMs = 50;
const statusEveryMs = 1_000;

export type LogLine = Record<string, unknown> & { level: string; message: string };

/** The status file (`status.json`), as `AgentRuntime.status()` writes it. */
export interface AgentStatus {
  nodeId: string;
  pid: number;
  writtenAt: string;
  role: AgentState['role'];
  epoch: number;
  incarnation: number;
  leases: {
    /** A5: the witness lease is standalone (survivor mode). */
    standalone: boolean;
    /** Null: standalone without end. */
    witnessRemainingMs: number | null;
    peerRemainingMs: number;
    /** Null: standalone without end. */
    heldRemainingMs: number | null;
    grantedToPeerRemainingMs: number;
  };
  /** W5: the witness excludes this node; it will not claim until readmitted. */
  excluded: boolean;
  peer: { reachable: boolean; lastHeardMsAgo: number | null; role: string | null };
  witness: { reachable: boolean; lastOkMsAgo: number | null; primary: string | null; heartbeatMs: number };
  claiming: boolean;
}

/**
 * Survivor mode in words a technician understands, for `tiebreak-agent status`; null when the
 * site is not in survivor mode (or the status is not one this agent writes).
 */
export function statusInWords(status: unknown): string | null {
  const s = status as Partial<AgentStatus> | null;
  if (typeof s !== 'object' || s === null) return null;
  if (s.leases?.standalone === true && (s.role === 'primary' || s.role === 'promoting')) {
    const left = s.leases.witnessRemainingMs;
    const until =
      typeof left === 'number'
        ? `for up to ${formatDuration(left)} more without the witness, unless the peer is back first (it rejoins by itself once this server hears it) or an operator forces a failover.`
        : 'through internet or cloud outages until the peer is back (it rejoins by itself once this server hears it) or an operator forces a failover.';
    return `Survivor mode: this server runs alone; its peer is excluded. It keeps running ${until}`;
  }
  if (s.excluded === true) {
    return 'Excluded: the other server runs alone. This server will rejoin as secondary once the other server hears it on the peer link; it will not take over by itself.';
  }
  return null;
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes >= 120) return `${String(Math.round(minutes / 60))} hours`;
  if (minutes >= 2) return `${String(minutes)} minutes`;
  return `${String(Math.round(ms / 1000))} seconds`;
}

export interface RuntimeOptions {
  clock?: MonotonicClock;
  log?: (line: LogLine) => void;
}

/**
 * The thin I/O loop around the pure core: it feeds inputs to `step` one at a time and carries out
 * the actions (requests, hooks, logs). Nothing here decides anything.
 */
export class AgentRuntime {
  #state: AgentState | undefined;
  readonly #clock: MonotonicClock;
  readonly #log: (line: LogLine) => void;
  readonly #witness: WitnessClient;
  readonly #peerKey: Buffer;
  #server: Server | undefined;
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;

  constructor(
    readonly config: AgentConfig,
    options: RuntimeOptions = {},
  ) {
    this.#clock = options.clock ?? monotonicClock();
    this.#log = options.log ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
    this.#witness = new WitnessClient(config.witness.url, config.witness.token, config.witness.requestTimeoutMs);
    this.#peerKey = Buffer.from(config.peer.key, 'base64');
  }

  get state(): AgentState | undefined {
    return this.#state;
  }

  #starting: Promise<void> | undefined;

  start(): Promise<void> {
    this.#starting = this.#start();
    return this.#starting;
  }

  /** Read afresh after each await: `stop()` may have come meanwhile. */
  #wasStopped(): boolean {
    return this.#stopped;
  }

  async #start(): Promise<void> {
    const incarnation = await nextIncarnation(this.config.stateDir);
    if (this.#wasStopped()) return;
    this.#state = initialAgentState(this.config.nodeId, incarnation, this.config.timings, this.#clock.now());
    this.#emit({ level: 'info', message: 'agent started', incarnation, pid: process.pid });
    const [host, port] = this.config.peer.listen.split(/:(?=\d+$)/);
    this.#server = peerServer(this.#peerKey, (hello) => {
      const reply = this.#dispatch({ type: 'peer-hello', hello }).find((a) => a.type === 'peer-answer');
      if (!reply) throw new Error('the core answered no peer hello');
      return reply.reply;
    });
    await new Promise<void>((resolve, reject) => {
      this.#server?.once('error', reject);
      this.#server?.listen(Number(port), host, resolve);
    });
    if (this.#wasStopped()) return;
    this.#timers.push(setInterval(() => this.#dispatch({ type: 'tick' }), tickMs));
    this.#timers.push(setInterval(() => void this.#writeStatus(), statusEveryMs));
    const health = this.config.hooks.health;
    if (health) {
      const check = async () => {
        const { code } = await runHook(health, { TIEBREAK_HOOK: 'health', TIEBREAK_NODE_ID: this.config.nodeId });
        // Exit 0: healthy (100); 1: degraded (50); anything else: failing (0).
        const score = code === 0 ? 100 : code === 1 ? 50 : 0;
        this.#dispatch({ type: 'health', score, checks: { hook: code === 0 ? 'ok' : code === 1 ? 'warn' : 'fail' } });
      };
      void check();
      this.#timers.push(setInterval(() => void check(), health.intervalMs));
    }
    this.#dispatch({ type: 'tick' });
  }

  /**
   * Stops the agent. A node that may be running workloads demotes first (within the demote
   * hook's timeout, plus a second), since once it stops nothing renews their lease.
   */
  async shutdown(): Promise<void> {
    this.#dispatch({ type: 'shutdown' });
    const deadline = performance.now() + this.config.hooks.demote.timeoutMs + 1_000;
    while (this.#state && mayRunWorkloads(this.#state.role) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    if (this.#state && mayRunWorkloads(this.#state.role)) {
      this.#emit({ level: 'error', message: 'stopping while workloads may still run: the demote hook did not succeed', role: this.#state.role });
    }
    // The last status shows the role the agent stops in, not the one it had a second before.
    await this.#writeStatus();
    await this.stop();
  }

  /** Stops at once, workloads or not (a crash, as far as the site can tell). */
  async stop(): Promise<void> {
    this.#stopped = true;
    // A start still under way finishes first (it then starts nothing), so nothing outlives the stop.
    await this.#starting?.catch(() => undefined);
    for (const timer of this.#timers) clearInterval(timer);
    await new Promise<void>((resolve) => {
      if (!this.#server) {
        resolve();
        return;
      }
      this.#server.close(() => {
        resolve();
      });
      this.#server.closeAllConnections();
    });
  }

  #dispatch(input: AgentInput): AgentAction[] {
    if (!this.#state || this.#stopped) return [];
    const before = this.#state;
    const { state, actions } = step(before, input, this.#clock.now());
    this.#state = state;
    if (state.role !== before.role || state.epoch !== before.epoch) {
      this.#emit({ level: 'info', message: 'role', role: state.role, epoch: state.epoch, was: before.role, wasEpoch: before.epoch });
    }
    for (const action of actions) this.#carryOut(action);
    return actions;
  }

  #carryOut(action: AgentAction): void {
    switch (action.type) {
      case 'log':
        this.#emit({ level: action.level, message: action.message, ...action.fields });
        return;
      case 'witness-heartbeat': {
        const { seq } = action.request;
        void this.#witness.heartbeat(action.request).then((r) => {
          this.#dispatch(r.ok ? { type: 'witness-heartbeat-ok', seq, body: r.body } : { type: 'witness-failed', seq, status: r.status, code: r.code });
        });
        return;
      }
      case 'witness-claim': {
        const { seq } = action.request;
        this.#emit({ level: 'info', message: 'claiming', ...action.request });
        void this.#witness.claim(action.request).then((r) => {
          this.#dispatch(r.ok ? { type: 'witness-claim-ok', seq, body: r.body } : { type: 'witness-failed', seq, status: r.status, code: r.code });
        });
        return;
      }
      case 'peer-hello': {
        const sentAt = this.#clock.now();
        void sayHello(this.config.peer.url, this.#peerKey, action.hello, this.config.timings.peerHelloMs).then((reply) => {
          this.#dispatch(reply ? { type: 'peer-reply', sentAt, reply } : { type: 'peer-failed', sentAt });
        });
        return;
      }
      case 'peer-answer':
        return;
      case 'run-hook': {
        const spec = this.config.hooks[action.hook];
        this.#emit({ level: 'info', message: `running ${action.hook} hook`, epoch: action.epoch, reason: action.reason });
        void runHook(spec, {
          TIEBREAK_HOOK: action.hook,
          TIEBREAK_NODE_ID: this.config.nodeId,
          TIEBREAK_EPOCH: String(action.epoch),
          TIEBREAK_REASON: action.reason,
        }).then(({ code, ms, output }) => {
          this.#emit({ level: code === 0 ? 'info' : 'error', message: `${action.hook} hook finished`, code, ms: Math.round(ms), output: output.trim() });
          this.#dispatch({ type: 'hook-exited', hook: action.hook, code });
        });
        return;
      }
    }
  }

  #emit(line: LogLine): void {
    this.#log({ time: new Date().toISOString(), node: this.config.nodeId, ...line });
  }

  /**
   * What `tiebreak-agent status` shows: remaining times computed now, stamped with the wall clock.
   * A standalone lease without end (survivor mode, A5) has no remaining time: `witnessRemainingMs`
   * and `heldRemainingMs` are then null (JSON has no Infinity), with `leases.standalone: true`.
   */
  status(): AgentStatus | undefined {
    const s = this.#state;
    if (!s) return undefined;
    const now = this.#clock.now();
    const remaining = (end: number) => (end === Infinity ? null : Math.max(0, Math.round(end - now)));
    return {
      nodeId: s.nodeId,
      pid: process.pid,
      writtenAt: new Date().toISOString(),
      role: s.role,
      epoch: s.epoch,
      incarnation: s.incarnation,
      leases: {
        standalone: s.standalone,
        witnessRemainingMs: remaining(s.witnessLeaseEnd),
        peerRemainingMs: remaining(s.peerLeaseEnd) ?? 0,
        heldRemainingMs: remaining(leaseEnd(s)),
        grantedToPeerRemainingMs: remaining(s.grantedUntil) ?? 0,
      },
      excluded: s.excluded,
      peer: { reachable: !peerLost(s, now), lastHeardMsAgo: s.peerLastHeard === null ? null : Math.round(now - s.peerLastHeard), role: s.peerRole },
      witness: {
        reachable: s.witnessLastOk !== null && now - s.witnessLastOk < 2 * s.heartbeatMs + this.config.witness.requestTimeoutMs,
        lastOkMsAgo: s.witnessLastOk === null ? null : Math.round(now - s.witnessLastOk),
        primary: s.witnessPrimary ?? null,
        heartbeatMs: s.heartbeatMs,
      },
      claiming: s.claiming,
    };
  }

  async #writeStatus(): Promise<void> {
    const status = this.status();
    if (status) await writeStatus(this.config.stateDir, status).catch(() => undefined);
  }
}
