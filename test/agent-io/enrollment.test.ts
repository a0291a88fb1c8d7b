import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentFileConfig, AgentFileConfig as Schema } from '../../agent/config.ts';
import { tokenFile, withNodeToken } from '../../agent/io/enrollment.ts';
import { freePort } from '../../harness/site-rig.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;
const dir = mkdtempSync(join(tmpdir(), 'tiebreak-enroll-'));
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

let configs = 0;
function config(nodeId: string, enrollmentCode: string, url = api.url): AgentFileConfig {
  return Schema.parse({
    nodeId,
    witness: { url, enrollmentCode },
    peer: { listen: '127.0.0.1:7400', url: 'http://127.0.0.1:7401', key: Buffer.alloc(32, 1).toString('base64') },
    stateDir: join(dir, `state-${String(++configs)}`),
    hooks: { promote: { command: ['true'] }, demote: { command: ['true'] } },
  });
}

const heartbeat = (seq: number) => ({ incarnation: 1, seq, epoch: 0, role: 'secondary' });

describe('an agent configured with an enrollment code', () => {
  it('exchanges it once for a token, keeps the token readable by itself only, and uses it on later starts', async () => {
    const { codes } = await setUpReseller(api);
    const file = config('node-a', codes['node-a']!);
    const first = await withNodeToken(file);
    expect((await api.call('POST', '/v1/node/heartbeat', first.witness.token, heartbeat(1))).status).toBe(200);
    expect(statSync(tokenFile(file.stateDir)).mode & 0o777).toBe(0o600);
    // The code is used up at the witness, yet a restart still has its token.
    const again = await withNodeToken(file);
    expect(again.witness.token).toBe(first.witness.token);
  });

  it('enrolls again when the config gets a new code (token rotation), and the old token stops working', async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const file = config('node-b', codes['node-b']!);
    const old = await withNodeToken(file);
    const rotated = (await api.call('POST', `/v1/sites/${siteId}/nodes/node-b/enrollment`, key)).body as { code: string };
    const next = await withNodeToken({ ...file, witness: { ...file.witness, enrollmentCode: rotated.code } });
    expect(next.witness.token).not.toBe(old.witness.token);
    expect((await api.call('POST', '/v1/node/heartbeat', old.witness.token, heartbeat(1))).status).toBe(401);
    expect((await api.call('POST', '/v1/node/heartbeat', next.witness.token, heartbeat(2))).status).toBe(200);
  });

  it("is refused a code of the other node, says so, and the code stays unused: the other node's running token keeps working", async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const a = await withNodeToken(config('node-a', codes['node-a']!));
    // A rotation code for the running node-a, typed into node-b's config.
    const rotation = (await api.call('POST', `/v1/sites/${siteId}/nodes/node-a/enrollment`, key)).body as { code: string };
    await expect(withNodeToken(config('node-b', rotation.code))).rejects.toThrow(
      /belongs to the other node, not to this one \(node-b\); it is still unused.*for node node-a, not node-b/,
    );
    expect((await api.call('POST', '/v1/node/heartbeat', a.witness.token, heartbeat(1))).status).toBe(200);
    const rotated = await withNodeToken(config('node-a', rotation.code));
    expect((await api.call('POST', '/v1/node/heartbeat', rotated.witness.token, heartbeat(2))).status).toBe(200);
  });

  it('waits for a witness that is not there yet, or still starting (503, Retry-After), and enrolls once it answers', async () => {
    const { codes } = await setUpReseller(api);
    // A witness still starting, in front of the real one: its first answer is 503 with Retry-After.
    let starting = 1;
    const front: Server = createServer((request, response) => {
      if (starting-- > 0) {
        response
          .writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'starting', message: 'the witness is starting' } }));
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void fetch(new URL(request.url ?? '/', api.url), {
          method: request.method,
          headers: { 'content-type': 'application/json' },
          body: Buffer.concat(chunks),
        }).then(async (answer) => {
          response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
        });
      });
    });
    // Its port, free until the witness listens on it a moment after the agent first asks.
    const port = await new Promise<number>((resolve) =>
      front.listen(0, '127.0.0.1', () => {
        resolve((front.address() as AddressInfo).port);
      }),
    );
    await new Promise((resolve) => front.close(resolve));
    // The witness listens once the agent has found nobody there (its first retry logged).
    const logged: Record<string, unknown>[] = [];
    let listening: Promise<void> | undefined;
    const enrolling = withNodeToken(config('node-a', codes['node-a']!, `http://127.0.0.1:${String(port)}/`), (line) => {
      logged.push(line);
      listening ??= new Promise<void>((resolve) => front.listen(port, '127.0.0.1', resolve));
    });
    try {
      const ready = await enrolling;
      expect((await api.call('POST', '/v1/node/heartbeat', ready.witness.token, heartbeat(1))).status).toBe(200);
    } finally {
      await listening;
      await new Promise((resolve) => front.close(resolve));
    }
    const retries = logged.filter((l) => l.event === 'enrollment-retry');
    const url = `http://127.0.0.1:${String(port)}/v1/node/enroll`;
    expect(retries[0]).toMatchObject({ url, cause: `connect ECONNREFUSED 127.0.0.1:${String(port)}` });
    expect(retries.at(-1)).toMatchObject({ url, cause: expect.stringMatching(/^answered 503 .*starting/) as unknown, retryInMs: 1_000 });
    expect(logged.at(-1)).toMatchObject({ event: 'enrolled' });
  });

  it('cannot reach a witness where nothing listens: each retry and the final error name the URL and the cause', async () => {
    const port = String(await freePort());
    const url = `http://127.0.0.1:${port}/v1/node/enroll`;
    const logged: Record<string, unknown>[] = [];
    await expect(
      withNodeToken(config('node-a', `tbe-${'c'.repeat(40)}`, `http://127.0.0.1:${port}/`), (line) => logged.push(line), 2_500),
    ).rejects.toThrow(`cannot reach the witness at ${url}: connect ECONNREFUSED 127.0.0.1:${port} (2 tries;`);
    expect(logged).toEqual([
      { event: 'enrollment-retry', attempt: 1, url, cause: `connect ECONNREFUSED 127.0.0.1:${port}`, retryInMs: 1_000 },
    ]);
  });

  it('gives up after the time it is given, saying what the witness answered', async () => {
    const down: Server = createServer((_request, response) => response.writeHead(502).end('bad gateway'));
    const port = await new Promise<number>((resolve) =>
      down.listen(0, '127.0.0.1', () => {
        resolve((down.address() as AddressInfo).port);
      }),
    );
    try {
      await expect(
        withNodeToken(config('node-a', `tbe-${'b'.repeat(40)}`, `http://127.0.0.1:${String(port)}/`), () => undefined, 2_500),
      ).rejects.toThrow(/could not enroll this node after 2 tries: answered 502 bad gateway/);
    } finally {
      await new Promise((resolve) => down.close(resolve));
    }
  });

  it('reports a refused code with the witness answer', async () => {
    await expect(withNodeToken(config('node-a', `tbe-${'a'.repeat(40)}`))).rejects.toThrow(/enrollment refused by the witness \(401\)/);
  });
});
