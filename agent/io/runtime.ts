import type { Server } from 'node:http';
import type { PeerReply } from '../../protocol/peer.ts';
import type { AgentConfig } from '../config.ts';
import { AgentDriver, type DriverClock, tickMs } from '../driver.ts';
import { type AgentState, initialAgentState, leaseEnd, mayRunWorkloads, peerLost } from '../core/state.ts';
import { type MonotonicClock, monotonicClock, realDriverClock } from './clock.ts';
import { runHook } from './hooks.ts';
import { type PeerProblemKind, peerServer, sayHello } from './peer-link.ts';
import { PeerProblems } from './peer-problems.ts';
import { nextIncarnation, writeStatus } from './state-file.ts';
import { WitnessClient } from './witness-client.ts';

/** How often the agent rewrites its status file: the promise `tiebreak-agent status` judges it by. */
export const statusEveryMs = 1_000;

/**
 * A status older than this does not describe a running agent: three writes missed in a row, and
 * two seconds more for a busy machine.
 */
export const staleAfterMs = (everyMs: number): number => 3 * everyMs + 2_000;

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
  /** `problem`: why the last hello got no reply to use (null: it got one), with `problemDetail` in words. */
  peer: {
    reachable: boolean;
    lastHeardMsAgo: number | null;
    role: string | null;
    problem: PeerProblemKind | null;
    problemDetail: string | null;
  };
  witness: { reachable: boolean; lastOkMsAgo: number | null; primary: string | null; heartbeatMs: number };
  claiming: boolean;
  /** The agent rewrites this file this often: a status much older is stale (`staleAfterMs`). */
  statusEveryMs: number;
  /** True in the last status of an agent stopped on purpose (`shutdown()`). */
  stopped?: boolean;
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

/** A peer link problem in words, with what to check; null when the last hello got its reply. */
export function peerInWords(status: unknown): string | null {
  const s = status as Partial<AgentStatus> | null;
  if (typeof s !== 'object' || s === null || typeof s.peer?.problemDetail !== 'string') return null;
  return `Peer link: ${s.peer.problemDetail}.`;
}

export interface StatusJudgement {
  /** Wall-clock ms since the agent wrote it; null when it says no time. */
  ageMs: number | null;
  /** True: it does not describe a running agent. */
  stale: boolean;
  /** Why it is stale, in words. */
  why: string | null;
}

/**
 * Whether a status file describes a running agent, judged by its age against the writer's promise
 * (`statusEveryMs`, in the file): the file outlives its agent (a kill -9, a crash, a hang) and
 * still says `primary`. The last status of an agent stopped on purpose says so (`stopped`).
 */
export function judgeStatus(status: unknown, wallNowMs: number): StatusJudgement {
  const s = status as Partial<AgentStatus> | null;
  const writtenAt = typeof s === 'object' && s !== null && typeof s.writtenAt === 'string' ? Date.parse(s.writtenAt) : Number.NaN;
  if (Number.isNaN(writtenAt)) return { ageMs: null, stale: true, why: 'the status says no time (writtenAt)' };
  const everyMs = typeof s?.statusEveryMs === 'number' && s.statusEveryMs > 0 ? s.statusEveryMs : statusEveryMs;
  const ageMs = Math.round(wallNowMs - writtenAt);
  if (s?.stopped === true) return { ageMs, stale: true, why: `the agent stopped at ${new Date(writtenAt).toISOString()}` };
  if (ageMs <= staleAfterMs(everyMs)) return { ageMs, stale: false, why: null };
  return {
    ageMs,
    stale: true,
    why: `the status is ${formatDuration(ageMs)} old, and the agent rewrites it every ${formatDuration(everyMs)}`,
  };
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes >= 120) return `${String(Math.round(minutes / 60))} hours`;
  if (minutes >= 2) return `${String(minutes)} minutes`;
  const seconds = ms / 1000;
  if (seconds >= 10 || Number.isInteger(seconds))
    return `${String(Math.round(seconds))} ${Math.round(seconds) === 1 ? 'second' : 'seconds'}`;
  return `${seconds.toFixed(1)} seconds`;
}

export interface RuntimeOptions {
  clock?: MonotonicClock;
  /** The wall clock the peer link's signatures are stamped with (Date.now; a test sets one off). */
  wallClock?: () => number;
  log?: (line: LogLine) => void;
}

/**
 * The real agent: the driver (`agent/driver.ts`) on the real clock, the witness over HTTP, the peer
 * link (server and client), hooks as processes; the incarnation persisted before anything is sent,
 * and the status file written every second. Nothing here decides anything.
 */
export class AgentRuntime {
  #driver: AgentDriver | undefined;
  readonly #clock: MonotonicClock;
  readonly #timers: DriverClock;
  readonly #log: (line: LogLine) => void;
  readonly #witness: WitnessClient;
  readonly #peerKey: Buffer;
  readonly #wallClock: () => number;
  readonly #peerProblems: PeerProblems;
  #server: Server | undefined;
  #cancelStatus: (() => void) | undefined;
  #statusWrites: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    readonly config: AgentConfig,
    options: RuntimeOptions = {},
  ) {
    this.#clock = options.clock ?? monotonicClock();
    this.#timers = realDriverClock(this.#clock);
    this.#log = options.log ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
    this.#witness = new WitnessClient(config.witness.url, config.witness.token, config.witness.requestTimeoutMs);
    this.#peerKey = Buffer.from(config.peer.key, 'base64');
    this.#wallClock = options.wallClock ?? Date.now;
    this.#peerProblems = new PeerProblems((line) => {
      this.#emit(line);
    }, config.peer.url);
  }

  get state(): AgentState | undefined {
    return this.#driver?.state;
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
    const driver = this.#newDriver(initialAgentState(this.config.nodeId, incarnation, this.config.timings, this.#clock.now()));
    this.#driver = driver;
    this.#emit({ level: 'info', message: 'agent started', incarnation, pid: process.pid });
    const [host, port] = this.config.peer.listen.split(/:(?=\d+$)/);
    this.#server = peerServer(
      this.#peerKey,
      (hello) => {
        let reply: PeerReply | undefined;
        driver.hearHello(hello, (r) => {
          reply = r;
        });
        if (!reply) throw new Error('the core answered no peer hello');
        return reply;
      },
      this.#wallClock,
    );
    await new Promise<void>((resolve, reject) => {
      this.#server?.once('error', reject);
      this.#server?.listen(Number(port), host, resolve);
    });
    if (this.#wasStopped()) return;
    this.#cancelStatus = this.#timers.every(statusEveryMs, () => void this.#writeStatus(), statusEveryMs);
    driver.start();
  }

  /** The driver with this agent's ports: the witness client, the peer link, hook processes. */
  #newDriver(initial: AgentState): AgentDriver {
    const { config } = this;
    const health = config.hooks.health;
    return new AgentDriver(initial, {
      clock: this.#timers,
      witness: {
        heartbeat: (action, answered) => void this.#witness.heartbeat(action.request).then(answered),
        claim: (action, answered) => {
          this.#emit({ level: 'info', message: 'claiming', ...action.request });
          void this.#witness.claim(action.request).then(answered);
        },
      },
      peer: {
        hello: (hello, _sentAt, answered) =>
          void sayHello(config.peer.url, this.#peerKey, hello, config.timings.peerHelloMs, { wallClock: this.#wallClock }).then(
            (result) => {
              // Logged by the link, not the core: a peer that does not verify is simply not heard (A1).
              if (!this.#stopped) this.#peerProblems.saw(result.ok ? undefined : result.problem, this.#clock.now());
              answered(result.ok ? result.reply : undefined);
            },
          ),
      },
      hooks: {
        run: (action, exited) => {
          this.#emit({ level: 'info', message: `running ${action.hook} hook`, epoch: action.epoch, reason: action.reason });
          void runHook(config.hooks[action.hook], {
            TIEBREAK_HOOK: action.hook,
            TIEBREAK_NODE_ID: config.nodeId,
            TIEBREAK_EPOCH: String(action.epoch),
            TIEBREAK_REASON: action.reason,
          }).then(({ code, ms, output }) => {
            this.#emit({
              level: code === 0 ? 'info' : 'error',
              message: `${action.hook} hook finished`,
              code,
              ms: Math.round(ms),
              output: output.trim(),
            });
            exited(code);
          });
        },
      },
      ...(health && {
        health: {
          intervalMs: health.intervalMs,
          check: (report) =>
            void runHook(health, { TIEBREAK_HOOK: 'health', TIEBREAK_NODE_ID: config.nodeId }).then(({ code }) => {
              // Exit 0: healthy (100); 1: degraded (50); anything else: failing (0).
              const score = code === 0 ? 100 : code === 1 ? 50 : 0;
              report({ type: 'health', score, checks: { hook: code === 0 ? 'ok' : code === 1 ? 'warn' : 'fail' } });
            }),
        },
      }),
      log: (action) => {
        this.#emit({ level: action.level, message: action.message, ...action.fields });
      },
      observe: ({ before, after }) => {
        if (after.role !== before.role || after.epoch !== before.epoch) {
          this.#emit({ level: 'info', message: 'role', role: after.role, epoch: after.epoch, was: before.role, wasEpoch: before.epoch });
        }
      },
    });
  }

  /**
   * Stops the agent. A node that may be running workloads demotes first (within the demote
   * hook's timeout, plus a second), since once it stops nothing renews their lease.
   */
  async shutdown(): Promise<void> {
    this.#driver?.dispatch({ type: 'shutdown' });
    const deadline = performance.now() + this.config.hooks.demote.timeoutMs + 1_000;
    while (this.state && mayRunWorkloads(this.state.role) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    if (this.state && mayRunWorkloads(this.state.role)) {
      this.#emit({
        level: 'error',
        message: 'stopping while workloads may still run: the demote hook did not succeed',
        role: this.state.role,
      });
    }
    // The last status shows the role the agent stops in, not the one it had a second before, and
    // that it stopped: `tiebreak-agent status` says so at once rather than once the file is old.
    this.#cancelStatus?.();
    await this.#writeStatus({ stopped: true });
    await this.stop();
  }

  /** Stops at once, workloads or not (a crash, as far as the site can tell). */
  async stop(): Promise<void> {
    this.#stopped = true;
    // Answers still on their way are dropped from now on.
    this.#driver?.stop();
    // A start still under way finishes first (it then starts nothing), so nothing outlives the stop.
    await this.#starting?.catch(() => undefined);
    this.#cancelStatus?.();
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

  #emit(line: LogLine): void {
    this.#log({ time: new Date().toISOString(), node: this.config.nodeId, ...line });
  }

  /**
   * What `tiebreak-agent status` shows: remaining times computed now, stamped with the wall clock.
   * A standalone lease without end (survivor mode, A5) has no remaining time: `witnessRemainingMs`
   * and `heldRemainingMs` are then null (JSON has no Infinity), with `leases.standalone: true`.
   */
  status(): AgentStatus | undefined {
    const s = this.state;
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
      peer: {
        reachable: !peerLost(s, now),
        lastHeardMsAgo: s.peerLastHeard === null ? null : Math.round(now - s.peerLastHeard),
        role: s.peerRole,
        problem: this.#peerProblems.current?.kind ?? null,
        problemDetail: this.#peerProblems.current?.detail ?? null,
      },
      witness: {
        reachable: s.witnessLastOk !== null && now - s.witnessLastOk < 2 * s.heartbeatMs + this.config.witness.requestTimeoutMs,
        lastOkMsAgo: s.witnessLastOk === null ? null : Math.round(now - s.witnessLastOk),
        primary: s.witnessPrimary ?? null,
        heartbeatMs: s.heartbeatMs,
      },
      claiming: s.claiming,
      statusEveryMs,
    };
  }

  /** One write at a time, in order: the last one called is the one the file keeps. */
  #writeStatus(extra: Pick<AgentStatus, 'stopped'> = {}): Promise<void> {
    this.#statusWrites = this.#statusWrites.then(async () => {
      const status = this.status();
      if (status) await writeStatus(this.config.stateDir, { ...status, ...extra }).catch(() => undefined);
    });
    return this.#statusWrites;
  }
}
