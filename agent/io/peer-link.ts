import { createServer, type Server } from 'node:http';
import * as z from 'zod';
import { PeerHello, PeerReply, peerAuthHeader, peerPath } from '../../protocol/peer.ts';
import { fetchFailureCause } from './fetch-failure.ts';
import { checkPeerSignature, peerMaxSkewMs, signPeerBody } from './peer-auth.ts';

const maxPeerBodyBytes = 4 * 1024;

/**
 * A refused hello's answer (401): why, so that the agent that sent it can say what to fix. A clock
 * difference (`skewMs`: the sender's clock ahead of the server's) is only told to a sender whose
 * signature was made with the key; anyone else hears `bad-key` or `malformed`.
 */
const PeerRefusal = z.object({
  error: z.literal('unauthorized'),
  reason: z.enum(['malformed', 'bad-key', 'clock-skew']).optional(),
  skewMs: z.number().optional(),
});

/** What a reply's signature covers: the hello's own signature header, then the reply body. */
const replyToSign = (helloAuth: string, replyBody: string): string => `${helloAuth}\n${replyBody}`;

/**
 * Serves the peer's hellos. Authentication comes first and a request that fails it reaches
 * nothing else (it changes no state); the answer comes from the agent's core.
 */
export function peerServer(key: Buffer, answer: (hello: PeerHello) => PeerReply, wallClock: () => number = Date.now): Server {
  const answerRequest = (
    method: string | undefined,
    url: string | undefined,
    auth: string | undefined,
    size: number,
    chunks: Buffer[],
  ): [number, unknown] => {
    if (method !== 'POST' || url !== peerPath) return [404, { error: 'not-found' }];
    if (size > maxPeerBodyBytes) return [413, { error: 'payload-too-large' }];
    const body = Buffer.concat(chunks).toString('utf8');
    const check = checkPeerSignature(key, body, auth, wallClock());
    if (!check.ok)
      return [401, { error: 'unauthorized', reason: check.problem, ...(check.problem === 'clock-skew' && { skewMs: check.skewMs }) }];
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return [400, { error: 'invalid-json' }];
    }
    const hello = PeerHello.safeParse(json);
    return hello.success ? [200, answer(hello.data)] : [400, { error: 'invalid-body' }];
  };
  return createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxPeerBodyBytes) chunks.push(chunk);
    });
    request.on('end', () => {
      const header = request.headers[peerAuthHeader];
      const auth = typeof header === 'string' ? header : undefined;
      const [status, body] = answerRequest(request.method, request.url, auth, size, chunks);
      const text = JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      // The answer to an authenticated hello is signed too, bound to that hello's signature: a
      // forged or replayed reply (a peer lease nobody granted) is refused by `sayHello` (A1).
      if (status === 200 && auth) headers[peerAuthHeader] = signPeerBody(key, replyToSign(auth, text), wallClock());
      response.writeHead(status, headers).end(text);
    });
  });
}

/** Why a hello got no reply to use: what the technician checks differs for each. */
export type PeerProblemKind = 'unreachable' | 'key-mismatch' | 'clock-skew' | 'wrong-answer';
export interface PeerProblem {
  kind: PeerProblemKind;
  /** In words, with the peer's address and what to check. */
  detail: string;
  /** clock-skew: how far the peer's clock is ahead of this server's (negative: behind), in ms. */
  peerAheadMs?: number;
}

export type PeerHelloResult = { ok: true; reply: PeerReply } | { ok: false; problem: PeerProblem };

export interface SayHelloOptions {
  /** The wall clock the signatures are stamped with and checked against. */
  wallClock?: () => number;
}

const keyMismatch = (url: string, what: string): PeerProblem => ({
  kind: 'key-mismatch',
  detail: `the peer at ${url} answers, but ${what}: peer.key must be the same on both servers`,
});

function clockSkew(url: string, peerAheadMs: number): PeerProblem {
  const way = peerAheadMs > 0 ? 'ahead of' : 'behind';
  return {
    kind: 'clock-skew',
    peerAheadMs,
    detail:
      `the clock of the peer at ${url} is ${String(Math.abs(peerAheadMs))} ms ${way} this server's, more than the ` +
      `${String(peerMaxSkewMs)} ms allowed: check NTP/chrony on both servers`,
  };
}

const wrongAnswer = (url: string, what: string): PeerProblem => ({
  kind: 'wrong-answer',
  detail: `the peer at ${url} ${what}: peer.url must be the other server's peer.listen`,
});

/** The peer refused this hello's signature: why, from its answer. */
function refused(url: string, text: string): PeerProblem {
  let refusal: z.infer<typeof PeerRefusal> | undefined;
  try {
    refusal = PeerRefusal.parse(JSON.parse(text));
  } catch {
    // Not the agent's refusal: said as a key mismatch below, the likeliest.
  }
  if (refusal?.reason === 'clock-skew' && refusal.skewMs !== undefined) return clockSkew(url, -refusal.skewMs);
  return keyMismatch(url, "it refuses this server's signature");
}

/**
 * Says hello to the peer: its reply, or why there is none to use (it cannot be reached in time,
 * answers wrongly, or its reply is not signed for this hello). Only a reply signed with the key for
 * this hello is one (A1); the problem only names the failure.
 */
export async function sayHello(
  baseUrl: string,
  key: Buffer,
  hello: PeerHello,
  timeoutMs: number,
  options: SayHelloOptions = {},
): Promise<PeerHelloResult> {
  const wallClock = options.wallClock ?? Date.now;
  const body = JSON.stringify(hello);
  const auth = signPeerBody(key, body, wallClock());
  const url = new URL(peerPath, baseUrl).href;
  let status: number;
  let text: string;
  let signature: string | undefined;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [peerAuthHeader]: auth },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    signature = response.headers.get(peerAuthHeader) ?? undefined;
    text = await response.text();
  } catch (error) {
    return {
      ok: false,
      problem: { kind: 'unreachable', detail: `cannot reach the peer at ${url}: ${fetchFailureCause(error, timeoutMs)}` },
    };
  }
  if (status === 401) return { ok: false, problem: refused(url, text) };
  if (status < 200 || status > 299) return { ok: false, problem: wrongAnswer(url, `answers ${String(status)}, not a peer reply`) };
  const check = checkPeerSignature(key, replyToSign(auth, text), signature, wallClock());
  if (!check.ok) {
    if (check.problem === 'clock-skew') return { ok: false, problem: clockSkew(url, check.skewMs) };
    if (check.problem === 'bad-key')
      return { ok: false, problem: keyMismatch(url, "its signature does not verify with this server's key") };
    return { ok: false, problem: wrongAnswer(url, 'answers without a peer signature') };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = PeerReply.safeParse(json);
  return parsed.success
    ? { ok: true, reply: parsed.data }
    : { ok: false, problem: wrongAnswer(url, 'answers a signed reply that is not one') };
}
