import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { AgentTimings } from '../agent/core/settings.ts';
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

async function freePort(): Promise<number> {
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
  /** Between this agent and the witness. */
  witnessLink: FaultProxy;
  /** In front of this agent's peer server: the link the other agent's hellos cross. */
  peerLinkIn: FaultProxy;
  process: ChildProcess | undefined;
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

  private constructor(readonly dir: string) {
    this.workloadLog = join(dir, 'workload.log');
  }

  static async create(options: {
    dir: string;
    witnessUrl: string;
    tokens: Record<string, string>;
    timings: Partial<AgentTimings>;
    requestTimeoutMs: number;
  }): Promise<SiteRig> {
    const rig = new SiteRig(options.dir);
    mkdirSync(options.dir, { recursive: true });
    writeFileSync(rig.workloadLog, '');
    const peerKey = randomBytes(32).toString('base64');
    const ids = Object.keys(options.tokens);
    const ports = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await freePort()] as const)));
    for (const id of ids) {
      const peerLinkIn = await new FaultProxy(new URL(`http://127.0.0.1:${ports[id]}`)).listen();
      const witnessLink = await new FaultProxy(new URL(options.witnessUrl)).listen();
      rig.nodes[id] = { id, configFile: join(options.dir, `${id}.json`), witnessLink, peerLinkIn, process: undefined };
    }
    for (const id of ids) {
      const other = ids.find((o) => o !== id)!;
      const hook = (event: string) => ({ command: [process.execPath, hookScript, rig.workloadLog, event], timeoutMs: 5_000 });
      const config = {
        nodeId: id,
        witness: { url: rig.nodes[id]!.witnessLink.url, token: options.tokens[id], requestTimeoutMs: options.requestTimeoutMs },
        peer: { listen: `127.0.0.1:${ports[id]}`, url: rig.nodes[other]!.peerLinkIn.url, key: peerKey },
        stateDir: join(options.dir, `${id}-state`),
        hooks: { promote: hook('start'), demote: hook('stop') },
        timings: options.timings,
      };
      writeFileSync(rig.nodes[id]!.configFile, JSON.stringify(config, null, 2));
    }
    return rig;
  }

  /** Starts (or restarts) a node's agent as its own process. */
  start(id: string): void {
    const node = this.nodes[id]!;
    const child = spawn(process.execPath, ['--import', 'tsx', agentEntry, 'run', '--config', node.configFile], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env },
    });
    node.process = child;
    const read = (stream: NodeJS.ReadableStream) => {
      createInterface({ input: stream }).on('line', (text) => {
        let line: AgentLine;
        try {
          line = { ...(JSON.parse(text) as Record<string, unknown>), t: monotonicMs(), node: id } as AgentLine;
        } catch {
          line = { t: monotonicMs(), node: id, message: text };
        }
        this.lines.push(line);
        this.onLine?.(line);
      });
    };
    read(child.stdout);
    read(child.stderr);
  }

  /** SIGKILL: the server dies, and its workloads with it (recorded as `killed`). */
  kill(id: string): number {
    const node = this.nodes[id]!;
    node.process?.kill('SIGKILL');
    node.process = undefined;
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
      await node.witnessLink.close();
      await node.peerLinkIn.close();
    }
  }
}
