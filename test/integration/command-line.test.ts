/**
 * Every command in bin/ as a user runs it, as a process of its own: --help, a wrong option, the
 * agent's --version (from the source and from its bundle), and the commands that ask the service
 * finding it and the key as the docs say (TIEBREAK_URL, TIEBREAK_API_KEY, the demo file).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { localSqsClient } from '../../functions/adapters/messaging-clients.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Each run starts Node and compiles a command's imports on a shared machine: seconds, not milliseconds.
const runTimeoutMs = 120_000;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

let emptyDataDir: string;

/** `npx tsx bin/<script> …args` in the project folder, with no service or key in the environment but `env`'s. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Exit> {
  const inherited = { ...process.env };
  delete inherited.TIEBREAK_URL;
  delete inherited.TIEBREAK_API_KEY;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bin', script), ...args], {
      cwd: root,
      env: { ...inherited, POWERTOOLS_LOG_LEVEL: 'WARN', TIEBREAK_DATA_DIR: emptyDataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: runTimeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

/** A refusal as the docs promise it: one line on stderr naming the command and how to get help, nothing on stdout. */
function expectOneLine(exit: Exit, code: number, line: RegExp): void {
  expect(exit.stderr.trimEnd().split('\n'), exit.stderr).toHaveLength(1);
  expect(exit.stderr.trimEnd()).toMatch(line);
  expect(exit.stderr).not.toMatch(/\n\s+at |ERR_PARSE_ARGS/);
  expect(exit.stdout).toBe('');
  expect(exit.code).toBe(code);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  emptyDataDir = await mkdtemp(join(tmpdir(), 'tiebreak-commands-'));
});
afterAll(() => rm(emptyDataDir, { recursive: true, force: true }));

describe.concurrent('every command answers --help, and refuses what it cannot take in one line', () => {
  const commands = [
    { script: 'local.ts', args: [], name: 'tiebreak', help: 'npm start -- --help', usage: 'usage: npm start' },
    { script: 'report.ts', args: [], name: 'report', help: 'npm run report -- --help', usage: 'usage: npm run report' },
    {
      script: 'service-queue.ts',
      args: [],
      name: 'service-queue',
      help: 'npm run service-queue -- --help',
      usage: 'usage: npm run service-queue',
    },
    {
      script: 'provision-site.ts',
      args: [],
      name: 'provision-site',
      help: 'npm run provision-site -- --help',
      usage: 'usage: npm run provision-site',
    },
    { script: 'chaos.ts', args: [], name: 'chaos', help: 'npm run chaos -- --help', usage: 'usage: npm run chaos' },
    { script: 'demo.ts', args: [], name: 'demo', help: 'npm run demo -- --help', usage: 'usage: npm run demo' },
    { script: 'model-check.ts', args: [], name: 'model-check', help: 'npm run model-check -- --help', usage: 'usage: npm run model-check' },
    {
      script: 'readme-check.ts',
      args: [],
      name: 'readme-check',
      help: 'npm run readme-check -- --help',
      usage: 'usage: npm run readme-check',
    },
    {
      script: 'package-agent.ts',
      args: [],
      name: 'package-agent',
      help: 'npm run package:agent -- --help',
      usage: 'usage: npm run package:agent',
    },
    ...['run', 'enroll', 'status', 'watchdog', 'maintenance'].map((sub) => ({
      script: 'agent.ts',
      args: [sub],
      name: `tiebreak-agent ${sub}`,
      help: `tiebreak-agent ${sub} --help`,
      usage: `usage: tiebreak-agent ${sub}`,
    })),
  ];

  test.each(commands)(
    '$name: --help prints its usage on stdout and exits 0; an unknown option is one line and exit 2',
    async ({ script, args, name, help, usage }) => {
      const [helped, refused] = await Promise.all([run(script, [...args, '--help']), run(script, [...args, '--no-such-option'])]);
      expect(helped.stdout.startsWith(usage), helped.stdout + helped.stderr).toBe(true);
      expect(helped.stdout).toContain('-h, --help');
      expect(helped).toMatchObject({ code: 0, stderr: '' });
      expectOneLine(refused, 2, new RegExp(`^${escape(name)}: unknown option --no-such-option \\(see ${escape(help)}\\)$`));
    },
    runTimeoutMs * 2,
  );

  test(
    'a missing value, a bad value and a config that is not there are one line and exit 2 too',
    async () => {
      const [missing, bad, arch, config] = await Promise.all([
        run('report.ts', ['--from']),
        run('model-check.ts', ['--jobs', 'two']),
        run('package-agent.ts', ['--arch', 'sparc']),
        run('agent.ts', ['status', '--config', join(emptyDataDir, 'agent.yaml')]),
      ]);
      expectOneLine(missing, 2, /^report: --from needs a value \(see npm run report -- --help\)$/);
      expectOneLine(bad, 2, /^model-check: --jobs two: a whole number, at least 1 \(see npm run model-check -- --help\)$/);
      expectOneLine(arch, 2, /^package-agent: --arch sparc: x64 or arm64 \(see npm run package:agent -- --help\)$/);
      expectOneLine(config, 2, /^tiebreak-agent: .*agent\.yaml/);
    },
    runTimeoutMs,
  );

  test(
    'tiebreak-agent: --version prints the version; help lists the commands; help <command> is that command’s usage',
    async () => {
      const [version, short, help, helpWatchdog, bare, unknown] = await Promise.all([
        run('agent.ts', ['--version']),
        run('agent.ts', ['-V']),
        run('agent.ts', ['help']),
        run('agent.ts', ['help', 'watchdog']),
        run('agent.ts', []),
        run('agent.ts', ['frobnicate']),
      ]);
      // From the source, no commit: a binary of npm run package:agent names its own (test/agent-io/agent-binary.e2e.test.ts).
      expect(version).toEqual({ code: 0, stdout: 'tiebreak-agent 0.1.0 (source)\n', stderr: '' });
      expect(short).toEqual(version);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      for (const sub of ['run', 'enroll', 'status', 'watchdog', 'maintenance']) expect(help.stdout).toContain(`  ${sub} `);
      expect(helpWatchdog).toMatchObject({ code: 0, stderr: '' });
      expect(helpWatchdog.stdout).toMatch(/^usage: tiebreak-agent watchdog --config FILE --device/);
      // Called bare, the usage too, on stderr: it is not what a script asked for.
      expect(bare).toMatchObject({ code: 2, stdout: '', stderr: help.stdout });
      expectOneLine(
        unknown,
        2,
        /^tiebreak-agent: no command frobnicate: run, enroll, status, watchdog, maintenance \(see tiebreak-agent --help\)$/,
      );
    },
    runTimeoutMs,
  );

  test(
    'the bundled agent (npm run build:agent) prints the same version',
    async () => {
      const out = join(emptyDataDir, 'tiebreak-agent.mjs');
      await promisify(execFile)('npm', ['run', '-s', 'build:agent', '--', `--outfile=${out}`], { cwd: root, timeout: runTimeoutMs });
      const { stdout } = await promisify(execFile)(process.execPath, [out, '--version'], { timeout: runTimeoutMs });
      expect(stdout).toBe('tiebreak-agent 0.1.0 (source)\n');
    },
    runTimeoutMs * 2,
  );
});

describe('the commands that ask the service find it and the key the one way the docs say', () => {
  let api: TestApi;
  let reseller: Awaited<ReturnType<typeof setUpReseller>>;
  let queueUrl: string;
  beforeAll(async () => {
    api = await startApi();
    api.clock.ms = Date.parse('2026-11-01T00:00:00Z');
    reseller = await setUpReseller(api);
    queueUrl = ((await api.call('GET', '/v1/reseller/service-queue', reseller.key)).body as { queueUrl: string }).queueUrl;
  });
  afterAll(() => api.close());

  const sqs = () => localSqsClient(inject('snsSqsEndpoint'));
  const service = () => ({ TIEBREAK_URL: api.url, TIEBREAK_API_KEY: reseller.key });

  test(
    'service-queue with TIEBREAK_URL and TIEBREAK_API_KEY prints the queue’s message as a JSON line and deletes it',
    async () => {
      const client = sqs();
      const message = JSON.stringify({ messageId: `${reseller.resellerId}/test/1`, step: 'opened' });
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message }));

      const read = await run('service-queue.ts', ['--wait', '1'], service());

      expect(read.code, read.stderr).toBe(0);
      expect(read.stdout).toBe(`${message}\n`);
      // Named by the environment: no line saying where it went.
      expect(read.stderr).not.toContain('asking');
      const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
      expect(Messages).toEqual([]);
      client.destroy();
    },
    runTimeoutMs,
  );

  test(
    'report with TIEBREAK_URL and TIEBREAK_API_KEY prints the report the API serves',
    async () => {
      const report = await run('report.ts', ['--from', '2026-10-01', '--to', '2026-11-01', '--format', 'csv'], service());
      const served = await api.call('GET', '/v1/reports/sla?from=2026-10-01&to=2026-11-01&format=csv', reseller.key);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout.trimEnd()).toBe(served.text.trimEnd());
    },
    runTimeoutMs,
  );

  test(
    'without either, service-queue and report find the service and the key in the demo file npm start wrote, and say so on stderr',
    async () => {
      const dataDir = join(emptyDataDir, 'demo');
      await mkdir(dataDir);
      await writeFile(
        join(dataDir, 'demo-site.json'),
        JSON.stringify({ witnessUrl: api.url, resellerId: reseller.resellerId, apiKey: reseller.key }),
      );
      const [queue, report] = await Promise.all([
        run('service-queue.ts', ['--wait', '0'], { TIEBREAK_DATA_DIR: dataDir }),
        run('report.ts', ['--from', '2026-10-01', '--to', '2026-11-01'], { TIEBREAK_DATA_DIR: dataDir }),
      ]);
      const said = new RegExp(`^(service-queue|report): asking ${escape(api.url)} \\(from .*demo-site\\.json\\)$`, 'm');
      expect(queue.code, queue.stderr).toBe(0);
      expect(queue.stderr).toMatch(said);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stderr).toMatch(said);
      expect(JSON.parse(report.stdout)).toMatchObject({ period: { from: expect.any(Number) as unknown } });
    },
    runTimeoutMs,
  );

  test(
    'a service that is not there is one line with its URL and the cause, exit 1; no key at all is one line, exit 2',
    async () => {
      const closed = await freePort();
      const url = `http://127.0.0.1:${String(closed)}`;
      const [unreachable, keyless] = await Promise.all([
        run('report.ts', ['--from', '2026-10-01', '--to', '2026-11-01'], { TIEBREAK_URL: url, TIEBREAK_API_KEY: reseller.key }),
        run('service-queue.ts', [], { TIEBREAK_URL: api.url }),
      ]);
      expectOneLine(
        unreachable,
        1,
        new RegExp(
          `^report: cannot reach ${escape(url)}: connect ECONNREFUSED 127\\.0\\.0\\.1:${String(closed)} \\(is npm start running\\?\\)$`,
        ),
      );
      expectOneLine(keyless, 2, new RegExp(`^service-queue: no API key for ${escape(api.url)}: set TIEBREAK_API_KEY \\(see .*--help\\)$`));
    },
    runTimeoutMs,
  );
});

/** A port nothing listens on (it did a moment ago). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
