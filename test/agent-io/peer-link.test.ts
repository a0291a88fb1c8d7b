import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { checkPeerSignature, peerMaxSkewMs, signPeerBody, verifyPeerBody } from '../../agent/io/peer-auth.ts';
import { peerServer, sayHello } from '../../agent/io/peer-link.ts';
import { type PeerHello, type PeerReply, peerAuthHeader, peerPath } from '../../protocol/peer.ts';

const key = randomBytes(32);
const hello: PeerHello = { nodeId: 'node-a', incarnation: 3, epoch: 7, role: 'primary', wantLease: true };
const grant: PeerReply = { nodeId: 'node-b', incarnation: 2, epoch: 7, role: 'secondary', leaseMs: 10_000 };

/** Every hello that reached the answer (the agent's core, in the runtime). */
const answered: PeerHello[] = [];
let server: Server;
let base: string;

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${String((s.address() as AddressInfo).port)}`;
}
async function close(s: Server): Promise<void> {
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
}

beforeAll(async () => {
  server = peerServer(key, (h) => {
    answered.push(h);
    return grant;
  });
  base = await listen(server);
});
afterAll(() => close(server));
afterEach(() => {
  answered.length = 0;
});

async function post(
  body: string,
  auth: string | undefined,
  options: { path?: string; method?: string } = {},
): Promise<{ status: number; json: unknown; signature: string | null }> {
  const response = await fetch(new URL(options.path ?? peerPath, base), {
    method: options.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { [peerAuthHeader]: auth }) },
    ...(options.method === 'GET' ? {} : { body }),
  });
  return { status: response.status, json: await response.json(), signature: response.headers.get(peerAuthHeader) };
}

describe('the peer server', () => {
  test('answers a signed hello with what the core answers, and signs the reply for that hello', async () => {
    const body = JSON.stringify(hello);
    const auth = signPeerBody(key, body, Date.now());
    const response = await post(body, auth);
    expect(response.status).toBe(200);
    expect(response.json).toEqual(grant);
    expect(answered).toEqual([hello]);
    expect(verifyPeerBody(key, `${auth}\n${JSON.stringify(grant)}`, response.signature ?? undefined, Date.now())).toBe(true);
  });

  const body = JSON.stringify(hello);
  const refused: [string, number, () => Promise<{ status: number; json: unknown; signature: string | null }>][] = [
    ['no signature', 401, () => post(body, undefined)],
    ['an empty signature', 401, () => post(body, '')],
    ['a signature that is not one', 401, () => post(body, 'hello.there.you')],
    ['a signature under another key', 401, () => post(body, signPeerBody(randomBytes(32), body, Date.now()))],
    ['a signature of another body', 401, () => post(body, signPeerBody(key, JSON.stringify({ ...hello, epoch: 8 }), Date.now()))],
    ['a signature 31 s old (a replay)', 401, () => post(body, signPeerBody(key, body, Date.now() - 31_000))],
    ['a signature 31 s in the future', 401, () => post(body, signPeerBody(key, body, Date.now() + 31_000))],
    [
      'a signature with its stamp changed',
      401,
      () =>
        post(
          body,
          signPeerBody(key, body, Date.now()).replace(/^\d+/, (s) => String(Number(s) - 1)),
        ),
    ],
    ['a wrong path, signed', 404, () => post(body, signPeerBody(key, body, Date.now()), { path: '/v1/peer/hello/' })],
    ['a path with a query, signed', 404, () => post(body, signPeerBody(key, body, Date.now()), { path: `${peerPath}?x=1` })],
    ['GET', 404, () => post('', undefined, { method: 'GET' })],
    ['PUT, signed', 404, () => post(body, signPeerBody(key, body, Date.now()), { method: 'PUT' })],
    [
      'a body over 4 KiB, signed',
      413,
      () => {
        const big = JSON.stringify({ ...hello, padding: 'x'.repeat(5_000) });
        return post(big, signPeerBody(key, big, Date.now()));
      },
    ],
    ['a body over 4 KiB, unsigned', 413, () => post('x'.repeat(100_000), undefined)],
    ['invalid JSON, signed', 400, () => post('{"nodeId":', signPeerBody(key, '{"nodeId":', Date.now()))],
    ['JSON that is not a hello, signed', 400, () => post('[1,2]', signPeerBody(key, '[1,2]', Date.now()))],
    [
      'a hello with an unknown field, signed',
      400,
      () => {
        const extra = JSON.stringify({ ...hello, leaseMs: 60_000 });
        return post(extra, signPeerBody(key, extra, Date.now()));
      },
    ],
    [
      'a hello with a negative epoch, signed',
      400,
      () => {
        const negative = JSON.stringify({ ...hello, epoch: -1 });
        return post(negative, signPeerBody(key, negative, Date.now()));
      },
    ],
  ];
  test.each(refused)('refuses %s with %i and reaches nothing', async (_, status, send) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.json).toHaveProperty('error');
    expect(response.signature).toBeNull();
    expect(answered).toEqual([]);
  });
});

describe('the peer server, refusing a signature, says why', () => {
  test('a signature under another key: bad-key, and no clock reading', async () => {
    const response = await post(body(), signPeerBody(randomBytes(32), body(), Date.now() - 60_000));
    expect(response).toMatchObject({ status: 401, json: { error: 'unauthorized', reason: 'bad-key' } });
    expect(response.json).not.toHaveProperty('skewMs');
  });

  test('a signature with the key, from a clock 45 s behind: clock-skew, and by how much', async () => {
    const response = await post(body(), signPeerBody(key, body(), Date.now() - 45_000));
    expect(response).toMatchObject({ status: 401, json: { error: 'unauthorized', reason: 'clock-skew' } });
    expect((response.json as { skewMs: number }).skewMs).toBeLessThanOrEqual(-45_000);
    expect((response.json as { skewMs: number }).skewMs).toBeGreaterThan(-50_000);
  });

  function body(): string {
    return JSON.stringify(hello);
  }
});

describe('checkPeerSignature', () => {
  const now = 1_800_000_000_000;
  const text = 'a body';
  test.each([
    ['none', undefined, { ok: false, problem: 'malformed' }],
    ['not one', 'x.y.z', { ok: false, problem: 'malformed' }],
    ['another key, however old', signPeerBody(randomBytes(32), text, now - 3_600_000), { ok: false, problem: 'bad-key' }],
    ['this key, 31 s ahead', signPeerBody(key, text, now + 31_000), { ok: false, problem: 'clock-skew', skewMs: 31_000 }],
    ['this key, 31 s behind', signPeerBody(key, text, now - 31_000), { ok: false, problem: 'clock-skew', skewMs: -31_000 }],
    ['this key, 30 s behind', signPeerBody(key, text, now - peerMaxSkewMs), { ok: true }],
    ['this key, now', signPeerBody(key, text, now), { ok: true }],
  ])('%s', (_, header, verdict) => {
    expect(checkPeerSignature(key, text, header, now)).toEqual(verdict);
    expect(verifyPeerBody(key, text, header, now)).toBe(verdict.ok);
  });
});

describe('sayHello', () => {
  test('returns the reply of a peer that holds the key', async () => {
    expect(await sayHello(base, key, hello, 1_000)).toEqual({ ok: true, reply: grant });
    expect(answered).toEqual([hello]);
  });

  test('returns no reply from a peer under another key (it refused the hello), and names the key mismatch', async () => {
    const result = await sayHello(base, randomBytes(32), hello, 1_000);
    expect(result).toMatchObject({ ok: false, problem: { kind: 'key-mismatch' } });
    expect(!result.ok && result.problem.detail).toBe(
      `the peer at ${base}${peerPath} answers, but it refuses this server's signature: peer.key must be the same on both servers`,
    );
    expect(answered).toEqual([]);
  });

  test('returns no reply from a peer whose clock is 45 s behind, and names the clock problem', async () => {
    const result = await sayHello(base, key, hello, 1_000, { wallClock: () => Date.now() + 45_000 });
    expect(result).toMatchObject({ ok: false, problem: { kind: 'clock-skew' } });
    expect(!result.ok && result.problem.detail).toMatch(
      /^the clock of the peer at \S+ is 4\d{4} ms behind this server's, more than the 30000 ms allowed: check NTP\/chrony on both servers$/,
    );
    expect(answered).toEqual([]);
  });

  test('returns no reply when nobody listens, or nobody answers in time, and says which', async () => {
    const silent = createServer(() => undefined);
    const silentUrl = await listen(silent);
    const started = performance.now();
    expect(await sayHello(silentUrl, key, hello, 300)).toEqual({
      ok: false,
      problem: { kind: 'unreachable', detail: `cannot reach the peer at ${silentUrl}${peerPath}: no answer within 300 ms` },
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    await close(silent);
    const port = new URL(silentUrl).port;
    expect(await sayHello(silentUrl, key, hello, 300)).toEqual({
      ok: false,
      problem: { kind: 'unreachable', detail: `cannot reach the peer at ${silentUrl}${peerPath}: connect ECONNREFUSED 127.0.0.1:${port}` },
    });
  });

  test('ignores a granting reply that is not signed for this hello: a forged or replayed peer lease (A1)', async () => {
    // An impostor at the peer's address answers every hello with a lease: unsigned, signed for an
    // older hello (a recorded reply), or signed under another key.
    const recorded = signPeerBody(key, JSON.stringify(hello), Date.now() - 1_000);
    const text = JSON.stringify(grant);
    const signatures = [undefined, signPeerBody(key, `${recorded}\n${text}`, Date.now()), signPeerBody(randomBytes(32), text, Date.now())];
    let next = 0;
    const impostor = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const signature = signatures[next++];
        response.writeHead(200, { 'content-type': 'application/json', ...(signature ? { [peerAuthHeader]: signature } : {}) }).end(text);
      });
    });
    const impostorUrl = await listen(impostor);
    expect(await sayHello(impostorUrl, key, hello, 1_000)).toMatchObject({ ok: false, problem: { kind: 'wrong-answer' } }); // unsigned
    expect(await sayHello(impostorUrl, key, hello, 1_000)).toMatchObject({ ok: false, problem: { kind: 'key-mismatch' } }); // signed for an older hello
    expect(await sayHello(impostorUrl, key, hello, 1_000)).toMatchObject({ ok: false, problem: { kind: 'key-mismatch' } }); // signed under another key
    expect(next).toBe(signatures.length);
    await close(impostor);
  });
});
