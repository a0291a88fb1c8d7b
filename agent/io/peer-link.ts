import { createServer, type Server } from 'node:http';
import { PeerHello, PeerReply, peerAuthHeader, peerPath } from '../../protocol/peer.ts';
import { signPeerBody, verifyPeerBody } from './peer-auth.ts';

const maxPeerBodyBytes = 4 * 1024;

/** What a reply's signature covers: the hello's own signature header, then the reply body. */
const replyToSign = (helloAuth: string, replyBody: string): string => `${helloAuth}\n${replyBody}`;

/**
 * Serves the peer's hellos. Authentication comes first and a request that fails it reaches
 * nothing else (it changes no state); the answer comes from the agent's core.
 */
export function peerServer(key: Buffer, answer: (hello: PeerHello) => PeerReply): Server {
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
    if (!verifyPeerBody(key, body, auth, Date.now())) return [401, { error: 'unauthorized' }];
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
      if (status === 200 && auth) headers[peerAuthHeader] = signPeerBody(key, replyToSign(auth, text), Date.now());
      response.writeHead(status, headers).end(text);
    });
  });
}

/** Says hello to the peer; undefined when it cannot be reached in time, answers wrongly, or its reply is not signed for this hello. */
export async function sayHello(baseUrl: string, key: Buffer, hello: PeerHello, timeoutMs: number): Promise<PeerReply | undefined> {
  const body = JSON.stringify(hello);
  const auth = signPeerBody(key, body, Date.now());
  try {
    const response = await fetch(new URL(peerPath, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [peerAuthHeader]: auth },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return undefined;
    const text = await response.text();
    if (!verifyPeerBody(key, replyToSign(auth, text), response.headers.get(peerAuthHeader) ?? undefined, Date.now())) return undefined;
    const parsed = PeerReply.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
