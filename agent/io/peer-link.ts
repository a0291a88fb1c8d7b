import { createServer, type Server } from 'node:http';
import { PeerHello, PeerReply, peerAuthHeader, peerPath } from '../../protocol/peer.ts';
import { signPeerBody, verifyPeerBody } from './peer-auth.ts';

const maxPeerBodyBytes = 4 * 1024;

/**
 * Serves the peer's hellos. Authentication comes first and a request that fails it reaches
 * nothing else (it changes no state); the answer comes from the agent's core.
 */
export function peerServer(key: Buffer, answer: (hello: PeerHello) => PeerReply): Server {
  const answerRequest = (
    method: string | undefined,
    url: string | undefined,
    auth: string | string[] | undefined,
    size: number,
    chunks: Buffer[],
  ): [number, unknown] => {
    if (method !== 'POST' || url !== peerPath) return [404, { error: 'not-found' }];
    if (size > maxPeerBodyBytes) return [413, { error: 'payload-too-large' }];
    const body = Buffer.concat(chunks).toString('utf8');
    if (!verifyPeerBody(key, body, typeof auth === 'string' ? auth : undefined, Date.now())) return [401, { error: 'unauthorized' }];
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
      const [status, body] = answerRequest(request.method, request.url, request.headers[peerAuthHeader], size, chunks);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
}

/** Says hello to the peer; undefined when it cannot be reached in time or answers wrongly. */
export async function sayHello(baseUrl: string, key: Buffer, hello: PeerHello, timeoutMs: number): Promise<PeerReply | undefined> {
  const body = JSON.stringify(hello);
  try {
    const response = await fetch(new URL(peerPath, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [peerAuthHeader]: signPeerBody(key, body, Date.now()) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return undefined;
    const parsed = PeerReply.safeParse(await response.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
