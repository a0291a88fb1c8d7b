/**
 * One site's day, simulated on a virtual clock: the two agents' real pure cores (`step`), driven
 * by the real agent's loop (`agent/driver.ts`: a tick every 50 ms, a health check every 10 s,
 * requests answered as inputs, hooks that take time), with the peer link in memory and the witness
 * reached over real HTTP through the agent's own witness client. Events run one at a time in time order;
 * while a witness request is on the wire the virtual clock stands still, so a day takes as long as
 * its few thousand real requests do, and whatever the witness does (handler, log line, DynamoDB
 * request) belongs to the one request in flight.
 */
import type { Hook } from '../agent/core/messages.ts';
import { defaultTimings } from '../agent/core/settings.ts';
import { type AgentState, initialAgentState } from '../agent/core/state.ts';
import { AgentDriver, type ClaimAction, type DriverClock, type HeartbeatAction } from '../agent/driver.ts';
import { type WitnessResult, WitnessClient } from '../agent/io/witness-client.ts';
import type { ClaimResponse, HeartbeatResponse } from '../protocol/node.ts';
import { EventQueue } from '../harness/event-queue.ts';

/** The health hook's default interval (agent/config.ts). */
const healthEveryMs = 10_000;
/** The witness client's default timeout (agent/config.ts). */
const requestTimeoutMs = 3_000;

export interface SiteDayOptions {
  witnessUrl: string;
  tokens: Record<string, string>;
  /** Virtual ms from the start of the run: [countFrom, countFrom + dayMs) is the measured day. */
  countFromMs: number;
  dayMs: number;
  /** The peer link is cut for `linkLoss.forMs` from `linkLoss.atMs` (virtual ms from the start of the run). */
  linkLoss: { atMs: number; forMs: number } | null;
  /** The primary of that moment dies at `failure.atMs` and boots again after `failure.downMs`. */
  failure: { atMs: number; downMs: number } | null;
  /** Round trip between an agent and the witness, modelled (the real request takes no virtual time). */
  witnessRttMs: number;
  /** One way on the peer link. */
  peerDelayMs: number;
  hookMs: Record<Hook, number>;
  /** The witness's clock is set to this origin plus the virtual time when a request arrives. */
  setWitnessTime: (virtualMs: number) => void;
  /** Called once at `countFromMs`, before any counted request: reset the counters there (the day waits for a promise). */
  onCountStart: () => Promise<void> | undefined;
  progress: (line: string) => void;
}

export interface SiteDayResult {
  /** Within the measured day, by what happened. */
  events: Record<string, number>;
  /** Witness requests that did not get a 200 (the day's figures are void if any did unexpectedly). */
  failedRequests: number;
  timeline: string[];
  finalRoles: Record<string, string>;
  finalEpoch: number;
  /** Wall ms the simulation took, and virtual events processed. */
  wallMs: number;
  steps: number;
}

interface SimNode {
  id: string;
  client: WitnessClient;
  up: boolean;
  /** Machine boots: events of an earlier boot are dropped. */
  boot: number;
  incarnation: number;
  /** The agent's loop, one per boot; none while the machine is down. */
  driver: AgentDriver | undefined;
}

const stateOf = (n: SimNode): AgentState | undefined => n.driver?.state;

export async function runSiteDay(options: SiteDayOptions): Promise<SiteDayResult> {
  return new SiteDay(options).run();
}

class SiteDay {
  readonly queue = new EventQueue<() => Promise<void> | undefined>();
  readonly nodes: SimNode[];
  readonly end: number;
  now = 0;
  steps = 0;
  counting = false;
  linkUp = true;
  failedRequests = 0;
  readonly events: Record<string, number> = {};
  readonly timeline: string[] = [];
  /** Witness requests on the wire, started by the event being run: the virtual clock waits for them. */
  readonly onTheWire: Promise<void>[] = [];

  constructor(readonly o: SiteDayOptions) {
    this.nodes = Object.entries(o.tokens).map(([id, token]) => ({
      id,
      client: new WitnessClient(o.witnessUrl, token, requestTimeoutMs),
      up: false,
      boot: 0,
      incarnation: 0,
      driver: undefined,
    }));
    this.end = o.countFromMs + o.dayMs;
  }

  async run(): Promise<SiteDayResult> {
    const started = performance.now();
    for (const n of this.nodes) {
      this.at(0, () => {
        this.boot(n);
        return undefined;
      });
    }
    this.at(this.o.countFromMs, () => {
      this.counting = true;
      this.note(`counting starts: ${this.describeSite()}`);
      return this.o.onCountStart();
    });
    const { linkLoss, failure } = this.o;
    if (linkLoss) {
      this.at(linkLoss.atMs, () => {
        this.linkUp = false;
        this.note(`peer link cut for ${linkLoss.forMs / 60_000} min`);
        return undefined;
      });
      this.at(linkLoss.atMs + linkLoss.forMs, () => {
        this.linkUp = true;
        this.note('peer link back');
        return undefined;
      });
    }
    if (failure) {
      this.at(failure.atMs, () => {
        const primary = this.nodes.find((n) => n.up && stateOf(n)?.role === 'primary');
        if (!primary) throw new Error(`no primary to fail at ${failure.atMs} ms: ${this.describeSite()}`);
        this.crash(primary);
        this.note(`${primary.id} (primary) dies; boots again in ${failure.downMs / 60_000} min`);
        this.at(this.now + failure.downMs, () => {
          this.note(`${primary.id} boots`);
          this.boot(primary);
          return undefined;
        });
        return undefined;
      });
    }
    let nextProgress = 0;
    for (;;) {
      const event = this.queue.pop();
      if (!event || event.t >= this.end) break;
      this.now = event.t;
      this.steps++;
      const pending = [event.run(), ...this.onTheWire.splice(0)].filter((p) => p !== undefined);
      if (pending.length > 0) await Promise.all(pending);
      if (this.now >= nextProgress) {
        this.o.progress(`virtual ${(this.now / 3_600_000).toFixed(1)} h of ${(this.end / 3_600_000).toFixed(1)} h`);
        nextProgress += 3 * 3_600_000;
      }
    }
    this.now = this.end;
    this.note(`counting ends: ${this.describeSite()}`);
    return {
      events: this.events,
      failedRequests: this.failedRequests,
      timeline: this.timeline,
      finalRoles: Object.fromEntries(this.nodes.map((n) => [n.id, n.up ? (stateOf(n)?.role ?? 'starting') : 'down'])),
      finalEpoch: Math.max(0, ...this.nodes.map((n) => stateOf(n)?.epoch ?? 0)),
      wallMs: performance.now() - started,
      steps: this.steps,
    };
  }

  at(t: number, run: () => Promise<void> | undefined): void {
    this.queue.push(t, run);
  }

  count(what: string): void {
    if (this.counting) this.events[what] = (this.events[what] ?? 0) + 1;
  }

  /** A line of the timeline, stamped with the time of the measured day (negative during start-up). */
  note(text: string): void {
    const t = this.now - this.o.countFromMs;
    const a = Math.round(Math.abs(t) / 10) * 10;
    const h = Math.floor(a / 3_600_000);
    const m = Math.floor((a % 3_600_000) / 60_000);
    const s = ((a % 60_000) / 1000).toFixed(2).padStart(5, '0');
    this.timeline.push(`${t < 0 ? '-' : ' '}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s} ${text}`);
  }

  describeSite(): string {
    return this.nodes.map((n) => `${n.id} ${n.up ? `${stateOf(n)?.role ?? '?'} e${stateOf(n)?.epoch ?? 0}` : 'down'}`).join(', ');
  }

  /** The machine (re)boots and the agent starts: a new incarnation, as the state file gives it. */
  boot(n: SimNode): void {
    n.up = true;
    n.boot++;
    n.incarnation++;
    n.driver = this.newDriver(n, initialAgentState(n.id, n.incarnation, defaultTimings, this.now));
    n.driver.start();
  }

  crash(n: SimNode): void {
    n.up = false;
    n.boot++;
    n.driver?.stop();
    n.driver = undefined;
  }

  /** The agent's loop on the day's ports: the virtual clock, the witness over HTTP, the peer link in memory, hooks that take time. */
  newDriver(n: SimNode, initial: AgentState): AgentDriver {
    return new AgentDriver(initial, {
      clock: this.clock(),
      witness: {
        heartbeat: (action, answered) => {
          this.onTheWire.push(this.heartbeat(n, action, answered));
        },
        claim: (action, answered) => {
          this.onTheWire.push(this.claim(n, action, answered));
        },
      },
      peer: {
        hello: (hello, sentAt, answered) => {
          const failed = () => {
            answered(undefined);
            return undefined;
          };
          const other = this.nodes.find((o) => o !== n)!;
          if (!this.linkUp || !other.up) {
            // Nothing answers: the hello times out (the runtime's timeout is peerHelloMs).
            this.at(sentAt + defaultTimings.peerHelloMs, failed);
            return;
          }
          const otherBoot = other.boot;
          this.at(sentAt + this.o.peerDelayMs, () => {
            if (other.boot !== otherBoot) return undefined;
            other.driver?.hearHello(hello, (reply) => {
              if (this.linkUp) {
                this.at(this.now + this.o.peerDelayMs, () => {
                  answered(reply);
                  return undefined;
                });
              } else {
                this.at(sentAt + defaultTimings.peerHelloMs, failed);
              }
            });
            return undefined;
          });
        },
      },
      hooks: {
        run: (action, exited) => {
          this.count(`hook ${action.hook}`);
          this.at(this.now + this.o.hookMs[action.hook], () => {
            exited(0);
            return undefined;
          });
        },
      },
      health: {
        intervalMs: healthEveryMs,
        check: (report) => {
          report({ type: 'health', score: 100, checks: { hook: 'ok' } });
        },
      },
      log: (action) => {
        if (/^(peer lost|peer back|deciding to claim|promoting|demoting|running as primary)/.test(action.message))
          this.note(`${n.id}: ${action.message}`);
      },
      observe: ({ before, after }) => {
        if (after.role !== before.role || after.epoch !== before.epoch) {
          this.note(`${n.id}: ${before.role} e${before.epoch} → ${after.role} e${after.epoch}`);
        }
      },
    });
  }

  /** The virtual clock: a timer's next run is queued before the current one runs. */
  clock(): DriverClock {
    return {
      now: () => this.now,
      every: (periodMs, run, firstInMs) => {
        let cancelled = false;
        const fire = (): undefined => {
          if (cancelled) return undefined;
          this.at(this.now + periodMs, fire);
          run();
          return undefined;
        };
        this.at(this.now + firstInMs, fire);
        return () => {
          cancelled = true;
        };
      },
    };
  }

  /** A real HTTP heartbeat to the witness, its answer delivered one modelled round trip later. */
  async heartbeat(n: SimNode, action: HeartbeatAction, answered: (result: WitnessResult<HeartbeatResponse>) => void): Promise<void> {
    const sentAt = this.now;
    this.o.setWitnessTime(sentAt + this.o.witnessRttMs / 2);
    const r = await n.client.heartbeat(action.request);
    this.count(`heartbeat ${action.request.role}${action.request.peer?.reachable === false ? ' peer-lost' : ''}`);
    if (r.ok) {
      this.count(`heartbeat answer every ${r.body.heartbeatMs / 1000} s`);
      for (const c of r.body.commands) this.count(`command delivered: ${c.type}`);
      if (action.request.acks?.length) this.count('heartbeat carrying acks');
    }
    this.answerAfterRoundTrip(n, action, sentAt, r, answered);
  }

  /** A real HTTP claim to the witness, its answer delivered one modelled round trip later. */
  async claim(n: SimNode, action: ClaimAction, answered: (result: WitnessResult<ClaimResponse>) => void): Promise<void> {
    const sentAt = this.now;
    this.o.setWitnessTime(sentAt + this.o.witnessRttMs / 2);
    const r = await n.client.claim(action.request);
    this.count(r.ok ? (r.body.granted ? 'claim granted' : `claim refused: ${r.body.reason}`) : 'claim failed');
    if (r.ok)
      this.note(
        `${n.id}: claim (${action.request.reason}) → ${r.body.granted ? `granted e${r.body.epoch}` : `refused (${r.body.reason}, retry in ${r.body.retryAfterMs} ms)`}`,
      );
    this.answerAfterRoundTrip(n, action, sentAt, r, answered);
  }

  answerAfterRoundTrip<T>(
    n: SimNode,
    action: HeartbeatAction | ClaimAction,
    sentAt: number,
    r: WitnessResult<T>,
    answered: (result: WitnessResult<T>) => void,
  ): void {
    if (!r.ok) {
      this.failedRequests++;
      this.note(`${n.id}: witness ${action.type} failed: ${String(r.status)} ${String(r.code)}`);
    }
    this.at(sentAt + this.o.witnessRttMs, () => {
      answered(r);
      return undefined;
    });
  }
}
