/**
 * The agent as the single executable `npm run package:agent` builds (packaging/agent-binary.ts), run
 * as a server without Node would run it: no `node` on PATH, no project folder, an empty environment.
 * Two such agents enroll and run against the local witness (on the run's DynamoDB Local and fauxqs,
 * with the reseller API handing out their enrollment codes) until one is primary and the other
 * secondary; then `status`, `maintenance` and `watchdog --help`. The other architecture's binary
 * (arm64 on an x64 machine) cannot run here: its header, size and injected blob are checked instead.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { tokenFile } from '../../agent/io/enrollment.ts';
import { shortAgentTimings, shortWitnessSettings } from '../../harness/short-timings.ts';
import { freePort } from '../../harness/site-rig.ts';
import { type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { buildAgentBinary, buildCommit } from '../../packaging/agent-binary.ts';
import { type Arch, elfArch } from '../../packaging/target-node.ts';
import { sleep } from '../support/waiting.ts';

// Two builds (esbuild, a blob, postject on a 120 MB binary each), and a first fetch of Node's
// tarballs from the npm registry when the cache is cold, on a shared 2-core machine.
const buildTimeoutMs = 600_000;
const runTimeoutMs = 60_000;
const ids = ['node-a', 'node-b'] as const;
type Id = (typeof ids)[number];

const dir = mkdtempSync(join(tmpdir(), 'tiebreak-agent-binary-'));
// PATH: a folder with nothing in it. The binary needs no node (nor anything else) to find.
const emptyPath = join(dir, 'path');
mkdirSync(emptyPath);
const server = { PATH: emptyPath };

// This machine's architecture runs; the other one is only looked at.
const hostArch: Arch = process.arch === 'arm64' ? 'arm64' : 'x64';
const otherArch: Arch = hostArch === 'x64' ? 'arm64' : 'x64';
let binary: string;
let other: string;
let commit: string;
let witness: LocalStack | undefined;
const configs = {} as Record<Id, string>;
const stateDirs = {} as Record<Id, string>;
const running: ChildProcess[] = [];

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The binary with `args`, in the empty environment, from a folder that holds no project. */
function agent(args: string[]): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(binary, args, { cwd: dir, env: server, timeout: runTimeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** The reseller API's way to a site: a reseller, a customer, the site; the nodes' enrollment codes. */
async function enrollmentCodes(witness: LocalStack): Promise<Record<string, string>> {
  const call = async (path: string, key: string, body: unknown) => {
    const response = await fetch(`${witness.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`${path}: ${String(response.status)} ${await response.text()}`);
    return (await response.json()) as unknown;
  };
  const reseller = (await call('/v1/resellers', witness.adminKey, { resellerId: 'binary', name: 'Binary' })) as {
    apiKey: { secret: string };
  };
  const key = reseller.apiKey.secret;
  await call('/v1/customers', key, { customerId: 'dental', name: 'Dental office' });
  const site = (await call('/v1/sites', key, { siteId: 'office', customerId: 'dental', name: 'Office', nodeIds: [...ids] })) as {
    enrollment: { nodeId: string; code: string }[];
  };
  return Object.fromEntries(site.enrollment.map((e) => [e.nodeId, e.code]));
}

beforeAll(async () => {
  commit = await buildCommit();
  const outDir = join(dir, 'dist');
  binary = await buildAgentBinary({ arch: hostArch, outDir, commit });
  other = await buildAgentBinary({ arch: otherArch, outDir, commit });

  const tableName = `binary-${randomBytes(6).toString('hex')}`;
  const stack = await startLocalStack({
    dynamodb: { endpoint: inject('dynamoEndpoint') },
    snsSqs: { endpoint: inject('snsSqsEndpoint') },
    tableName,
    channelPrefix: `t-${randomBytes(4).toString('hex')}`,
    settings: shortWitnessSettings,
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    serve: { api: true },
  });
  witness = stack;
  const codes = await enrollmentCodes(stack);
  const key = Buffer.alloc(32, 7).toString('base64');
  const ports = { 'node-a': await freePort(), 'node-b': await freePort() };
  for (const id of ids) {
    const other = id === 'node-a' ? 'node-b' : 'node-a';
    stateDirs[id] = join(dir, `${id}-state`);
    configs[id] = join(dir, `${id}.json`);
    writeFileSync(
      configs[id],
      JSON.stringify({
        nodeId: id,
        witness: { url: stack.url, enrollmentCode: codes[id], requestTimeoutMs: 2_000 },
        peer: { listen: `127.0.0.1:${String(ports[id])}`, url: `http://127.0.0.1:${String(ports[other])}`, key },
        stateDir: stateDirs[id],
        hooks: { promote: { command: ['/bin/true'] }, demote: { command: ['/bin/true'] } },
        timings: shortAgentTimings,
      }),
    );
  }
}, buildTimeoutMs);

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await witness?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the single executable, on a server without Node', () => {
  test('the environment it runs in has no node to find', async () => {
    const found = await new Promise<Exit>((resolve) => {
      execFile('/bin/sh', ['-c', 'command -v node'], { env: server }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
    });
    // Not found: nothing printed, a non-zero exit (1 for bash, 127 for dash).
    expect(found.stdout).toBe('');
    expect(found.code).not.toBe(0);
  });

  test('--version names the version and the commit it was built from', async () => {
    expect(await agent(['--version'])).toEqual({ code: 0, stdout: `tiebreak-agent ${packageJson.version} (${commit})\n`, stderr: '' });
  });

  test(
    'enroll trades the code for the token, kept for the owner of the state folder; again, it says it is enrolled already',
    async () => {
      // As a package sets it up: the state folder belongs to the agent's user, and root runs enroll.
      mkdirSync(stateDirs['node-a'], { mode: 0o750 });
      const nobody = 65_534;
      const asRoot = process.getuid?.() === 0;
      if (asRoot) chownSync(stateDirs['node-a'], nobody, nobody);

      const first = await agent(['enroll', '--config', configs['node-a']]);
      expect(first, first.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toBe(
        `node-a is enrolled at ${witness!.url}: its token is kept in ${tokenFile(stateDirs['node-a'])}; the agent can start.\n`,
      );
      const kept = statSync(tokenFile(stateDirs['node-a']));
      expect(kept.mode & 0o777).toBe(0o600);
      // Not root here: the file is the runner's, and the ownership is not what this run can check.
      if (asRoot) expect(kept.uid).toBe(nobody);

      const again = await agent(['enroll', '--config', configs['node-a']]);
      expect(again).toEqual({
        code: 0,
        stdout: `node-a is already enrolled with this enrollment code: its token is in ${tokenFile(stateDirs['node-a'])}.\n`,
        stderr: '',
      });
    },
    runTimeoutMs * 2,
  );

  test('two agents run (node-b enrolling at its first start) until one is primary and the other secondary; status says so', async () => {
    const before = await agent(['status', '--config', configs['node-a']]);
    expect(before.code).toBe(3);

    for (const id of ids) {
      const child = spawn(binary, ['run', '--config', configs[id]], { cwd: dir, env: server, stdio: ['ignore', 'pipe', 'pipe'] });
      running.push(child);
    }
    const roles = async () => {
      const statuses = await Promise.all(ids.map((id) => agent(['status', '--config', configs[id]])));
      if (statuses.some((s) => s.code !== 0)) return undefined;
      const parsed = statuses.map((s) => JSON.parse(s.stdout) as { role: string; witness: { reachable: boolean } });
      if (!parsed.every((s) => s.witness.reachable)) return undefined;
      return parsed.map((s) => s.role).sort();
    };
    // A cold start waits for the peer lease and the witness's startup window: seconds; the deadline is generous.
    const deadline = performance.now() + 90_000;
    let seen = await roles();
    while (seen?.join() !== 'primary,secondary' && performance.now() < deadline) {
      await sleep(500);
      seen = await roles();
    }
    expect(seen).toEqual(['primary', 'secondary']);
    expect(JSON.parse(readFileSync(tokenFile(stateDirs['node-b']), 'utf8'))).toMatchObject({ token: expect.any(String) as unknown });
  }, 150_000);

  test(
    'maintenance declares a window at the witness, with the token enroll kept',
    async () => {
      const declared = await agent(['maintenance', '--config', configs['node-a'], '--minutes', '30', '--reason', 'replacing disks']);
      expect(declared, declared.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(declared.stdout).toMatch(/^maintenance window \S+: \S+ to \S+\. Nobody is paged for this site until then\.\n$/);
    },
    runTimeoutMs,
  );

  test(
    'enroll with a code the witness does not know: one line with its reason, exit 1, no token kept',
    async () => {
      const stateDir = join(dir, 'unknown-state');
      const config = join(dir, 'unknown.json');
      const raw = JSON.parse(readFileSync(configs['node-a'], 'utf8')) as { witness: Record<string, unknown> };
      writeFileSync(config, JSON.stringify({ ...raw, stateDir, witness: { ...raw.witness, enrollmentCode: `tbe-${'0'.repeat(40)}` } }));
      const refused = await agent(['enroll', '--config', config]);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/^tiebreak-agent: enrollment refused by the witness \(4\d\d\): .+\n$/);
      expect(() => statSync(tokenFile(stateDir))).toThrow();
    },
    runTimeoutMs,
  );

  test('watchdog --help prints its usage', async () => {
    const help = await agent(['watchdog', '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^usage: tiebreak-agent watchdog --config FILE --device/);
  });

  test(
    'run stops on SIGTERM with exit 0',
    async () => {
      const exits = running.map((child) => new Promise<number | null>((resolve) => child.once('exit', resolve)));
      for (const child of running) child.kill('SIGTERM');
      expect(await Promise.all(exits)).toEqual([0, 0]);
      running.length = 0;
    },
    runTimeoutMs,
  );
});

describe(`the linux-${otherArch} binary (it cannot run on this ${hostArch} machine: what can be checked without running it)`, () => {
  test(`is an ELF executable for ${otherArch}, of a Node binary with the agent injected`, () => {
    const bytes = readFileSync(other);
    expect(elfArch(bytes.subarray(0, 20))).toBe(otherArch);
    // Node's own binary is over 100 MB; the agent's blob adds a few.
    expect(bytes.length).toBeGreaterThan(100_000_000);
    // postject flips the fuse's last character from 0 to 1 when it injects the blob (Node's docs).
    expect(bytes.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
    expect(bytes.includes('tiebreak-agent <command>')).toBe(true);
  });
});
