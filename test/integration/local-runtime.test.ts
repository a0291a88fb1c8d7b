import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { createLocalServer, listen, type LocalServer, type Routes } from '../../local/http-server.ts';
import { ErrorBody } from '../../protocol/errors.ts';
import { beat } from '../support/beats.ts';
import { sleep } from '../support/waiting.ts';

const projectRoot = resolve(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'tiebreak-local-runtime-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

async function ask(url: string, init: RequestInit = { method: 'POST', body: '{}' }): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text, which the assertions then show.
  }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

/** What a request during start-up must be told: retry soon, in the error shape, never "no route". */
function expectStarting(answer: Answer): void {
  expect(answer.status).toBe(503);
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number.isInteger(Number(answer.retryAfter))).toBe(true);
  const body = ErrorBody.parse(answer.body);
  expect(body.error.code).toBe('unavailable');
  expect(body.error.message).toMatch(/starting/);
}

test('until the server is ready, every request (a route or not) answers 503 with Retry-After in the error shape; then the routes answer', async () => {
  let ready = false;
  const routes: Routes = {};
  const local: LocalServer = await listen(createLocalServer(routes, { isReady: () => ready }), 0);
  try {
    // The port is taken before the routes exist, as `npm start` does.
    expectStarting(await ask(`${local.url}/v1/node/heartbeat`));
    expectStarting(await ask(`${local.url}/no/such/route`, { method: 'GET' }));

    routes['POST /v1/node/heartbeat'] = {
      functionName: 'tiebreak-node',
      handler: () => Promise.resolve({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }),
    };
    // Routes filled in, not yet declared ready: still starting.
    expectStarting(await ask(`${local.url}/v1/node/heartbeat`));

    ready = true;
    expect(await ask(`${local.url}/v1/node/heartbeat`)).toEqual({ status: 200, retryAfter: null, body: { ok: true } });
    const unknown = await ask(`${local.url}/no/such/route`, { method: 'GET' });
    expect(unknown.status).toBe(404);
    expect(ErrorBody.parse(unknown.body).error.code).toBe('not-found');
  } finally {
    await local.close();
  }
});

async function freePort(): Promise<number> {
  const probe: Server = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  await new Promise<void>((done) =>
    probe.close(() => {
      done();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (performance.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await sleep(20);
  }
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

test(
  'npm start: answers 503 from the first instant it listens until ready, then stops on Ctrl-C in order, quietly, with exit code 0',
  { timeout: 240_000 },
  async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${String(port)}`;
    // The runtime's own settings only: none of this test process's.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TIEBREAK_')));
    // A process group of its own, so that a signal to the group is what Ctrl-C in a terminal sends.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'bin', 'local.ts'), '--port', String(port), '--data', dataDir],
      {
        cwd: projectRoot,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
      child.on('exit', (code, signal) => {
        done({ code, signal });
      });
    });
    const running = () => child.exitCode === null && child.signalCode === null;
    const pid = child.pid ?? 0;
    try {
      // From the first instant the port accepts until the routes answer: every answer is "starting".
      const answers: Answer[] = [];
      const first = await waitFor('the witness to answer a heartbeat as ready', 180_000, async () => {
        if (!running()) throw new Error(`npm start exited early:\n${stderr}`);
        const answer = await ask(`${url}/v1/node/heartbeat`).catch(() => undefined);
        if (answer === undefined) return undefined;
        answers.push(answer);
        return answer.status === 503 ? undefined : answer;
      });
      // Not 404 "no route": the heartbeat route, refusing a request without a token.
      expect(first.status).toBe(401);
      expect(answers.length).toBeGreaterThan(1);
      answers.slice(0, -1).forEach(expectStarting);

      await waitFor('the banner', 60_000, () => (stdout.includes('Ctrl-C stops everything.') ? true : undefined));
      const engine = /DynamoDB Local: (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      expect(engine).toBeDefined();

      // Some writes, so the stream poller and the publisher have work under way when the signal comes.
      const demo = JSON.parse(readFileSync(join(dataDir, 'demo-site.json'), 'utf8')) as { nodes: { token: string }[] };
      for (const [i, node] of demo.nodes.entries()) {
        const answer = await ask(`${url}/v1/node/heartbeat`, {
          method: 'POST',
          headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(beat(Date.now() + i, 0, 'secondary', true)),
        });
        expect(answer.status).toBe(200);
      }

      process.kill(-pid, 'SIGINT');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(stderr).not.toMatch(/Error|ECONNREFUSED|\n\s+at /);
      expect(stdout.trimEnd().split('\n').at(-1)).toBe('Tiebreak witness (local) stopped.');
      // The engine stopped too, and the port is free again.
      expect(await refused(engine ?? '')).toBe(true);
      expect(await refused(url)).toBe(true);
    } finally {
      // A failed assertion above: the runtime still stops its engine (SIGTERM is handled as SIGINT).
      if (running()) {
        process.kill(-pid, 'SIGTERM');
        await exited;
      }
    }
  },
);
