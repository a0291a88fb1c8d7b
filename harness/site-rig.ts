import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { AgentConfig } from '../agent/config.ts';
import type { AgentTimings } from '../agent/core/settings.ts';
import { monotonicClock } from '../agent/io/clock.ts';
import { AgentRuntime } from '../agent/io/runtime.ts';
import { FaultProxy } from './fault-proxy.ts';
import { monotonicMs, recordKill } from './workload-log.ts';

const root = resolve(import.meta.dirname, '..');
const hookScript = join(root, 'harness', 'workload-hook.mjs');
const agentEntry = join(root, 'bin', 'agent.ts');

export interface AgentLine {
  /** Monotonic ms when the harness read the line. */
  t: number;
  node: string;
  message: string;
  [field: string]: unknown;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        done(port);
      });
    });
  });
}

interface RigNode {
  id: string;
  configFile: string;
  config: AgentConfig;
  clockRate: number;
  /** Between this agent and the witness. */
  witnessLink: FaultProxy;
  /** In front of this agent's peer server: the link the other agent's hellos cross. */
  peerLinkIn: FaultProxy;
  process: ChildProcess | undefined;
  runtime: AgentRuntime | undefined;
}

export interface RigOptions {
  dir: string;
  witnessUrl: string;
  tokens: Record<string, string>;
  timings: Partial<AgentTimings>;
  requestTimeoutMs: number;
  /** `process` (default): each agent its own process; `in-process`: agents share this one. */
  mode?: 'process' | 'in-process';
  /** The command that runs the agent CLI (default: this checkout's bin/agent.ts through tsx). */
  agentCommand?: string[];
  /** Each agent's clock rate (1 = true time), to drift within the margin. */
  clockRates?: Record<string, number>;
  /** Randomness of the links' faults (seeded in chaos runs). */
  random?: () => number;
}

/**
 * One site: two real agent processes on loopback, each link behind a fault proxy, the workload
 * hooks writing ground truth to `workloadLog`.
 */
export class SiteRig {
  readonly nodes: Record<string, RigNode> = {};
  readonly lines: AgentLine[] = [];
  readonly workloadLog: string;
  onLine: ((line: AgentLine) => void) | undefined;

  private constructor(
    readonly dir: string,
    private readonly options: RigOptions,
  ) {
    this.workloadLog = join(dir, 'workload.log');
  }

  static async create(options: RigOptions): Promise<SiteRig> {
    const rig = new SiteRig(options.dir, options);
    mkdirSync(options.dir, { recursive: true });
    writeFileSync(rig.workloadLog, '');
    const peerKey = randomBytes(32).toString('base64');
    const ids = Object.keys(options.tokens);
    const ports = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await freePort()] as const)));
    const links = new Map<string, { witnessLink: FaultProxy; peerLinkIn: FaultProxy }>();
    for (const id of ids) {
      links.set(id, {
        peerLinkIn: await new FaultProxy(new URL(`http://127.0.0.1:${ports[id]}`), options.random).listen(),
        witnessLink: await new FaultProxy(new URL(options.witnessUrl), options.random).listen(),
      });
    }
    for (const id of ids) {
      const other = ids.find((o) => o !== id)!;
      const { witnessLink, peerLinkIn } = links.get(id)!;
      const hook = (event: string) => ({ command: [process.execPath, hookScript, rig.workloadLog, event], timeoutMs: 5_000 });
      const raw = {
        nodeId: id,
        witness: { url: witnessLink.url, token: options.tokens[id], requestTimeoutMs: options.requestTimeoutMs },
        peer: { listen: `127.0.0.1:${ports[id]}`, url: links.get(other)!.peerLinkIn.url, key: peerKey },
        stateDir: join(options.dir, `${id}-state`),
        hooks: { promote: hook('start'), demote: hook('stop') },
        timings: options.timings,
      };
      const configFile = join(options.dir, `${id}.json`);
      writeFileSync(configFile, JSON.stringify(raw, null, 2));
      const config = AgentConfig.parse(raw);
      rig.nodes[id] = {
        id,
        configFile,
        config,
        clockRate: options.clockRates?.[id] ?? 1,
        witnessLink,
        peerLinkIn,
        process: undefined,
        runtime: undefined,
      };
    }
    return rig;
  }

  /** Starts (or restarts) a node's agent. */
  start(id: string): void {
    const node = this.nodes[id]!;
    if (this.options.mode === 'in-process') {
      const runtime = new AgentRuntime(node.config, {
        clock: monotonicClock(node.clockRate),
        log: (line) => {
          this.#push({ ...line, t: monotonicMs(), node: id });
        },
      });
      node.runtime = runtime;
      runtime.start().catch((error: unknown) => {
        this.#push({ t: monotonicMs(), node: id, level: 'error', message: `agent failed to start: ${String(error)}` });
      });
      return;
    }
    const [program, ...args] = this.options.agentCommand ?? [process.execPath, '--import', 'tsx', agentEntry];
    const child = spawn(program!, [...args, 'run', '--config', node.configFile], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TIEBREAK_AGENT_CLOCK_RATE: String(node.clockRate) },
    });
    node.process = child;
    const read = (stream: NodeJS.ReadableStream) => {
      createInterface({ input: stream }).on('line', (text) => {
        try {
          this.#push({ ...(JSON.parse(text) as Record<string, unknown>), t: monotonicMs(), node: id } as AgentLine);
        } catch {
          this.#push({ t: monotonicMs(), node: id, message: text });
        }
      });
    };
    read(child.stdout);
    read(child.stderr);
  }

  #push(line: AgentLine): void {
    this.lines.push(line);
    this.onLine?.(line);
  }

  running(id: string): boolean {
    const node = this.nodes[id]!;
    return node.process !== undefined || node.runtime !== undefined;
  }

  /** SIGKILL: the server dies, and its workloads with it (recorded as `killed`). */
  kill(id: string): number {
    const node = this.nodes[id]!;
    node.process?.kill('SIGKILL');
    node.process = undefined;
    void node.runtime?.stop();
    node.runtime = undefined;
    return recordKill(this.workloadLog, id);
  }

  /** Cuts (or heals) the peer link in both directions. */
  cutPeerLink(on: boolean): void {
    for (const node of Object.values(this.nodes)) node.peerLinkIn.cut(on);
  }

  cutWitness(id: string, on: boolean): void {
    this.nodes[id]!.witnessLink.cut(on);
  }

  /** Waits until a line matching `match` arrives (searching those already read too), or throws. */
  async waitFor(match: (line: AgentLine) => boolean, timeoutMs: number, what: string, since = 0): Promise<AgentLine> {
    const deadline = monotonicMs() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => line.t >= since && match(line));
      if (found) return found;
      if (monotonicMs() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    for (const node of Object.values(this.nodes)) {
      node.process?.kill('SIGKILL');
      await node.runtime?.stop();
      await node.witnessLink.close();
      await node.peerLinkIn.close();
    }
  }
}
