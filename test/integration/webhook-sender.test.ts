import { randomBytes, randomUUID } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { checkWebhookUrl, guardedLookup, isAllowedAddress, type LookupAll } from '../../functions/adapters/address-policy.ts';
import { type Delivery, type SenderOptions, WebhookSender } from '../../functions/adapters/webhook-sender.ts';
import { verifyBySpec } from '../support/spec-signature.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;
const LOOPBACK_OK = { allowLoopback: true };
const PUBLIC_ONLY = { allowLoopback: false };

let receiver: WebhookReceiver;
let secret: string;
const senders: WebhookSender[] = [];
function sender(options: Partial<SenderOptions> = {}): WebhookSender {
  const created = new WebhookSender({ policy: LOOPBACK_OK, timeoutMs: 2_000, ...options });
  senders.push(created);
  return created;
}
function delivery(url: string, secrets: readonly string[] = [secret]): Delivery {
  return { url, messageId: `msg_${randomUUID()}`, body: JSON.stringify({ type: 'incident.opened', n: 1 }), secrets };
}

beforeAll(async () => {
  secret = newSecret();
  receiver = await startWebhookReceiver({ secret });
});
afterAll(() => receiver.close());
beforeEach(async () => {
  receiver.setSecrets([secret]);
  await receiver.setMode('ok');
});
afterEach(() => {
  for (const created of senders.splice(0)) created.close();
});

/** A throwaway server on 127.0.0.1 for behaviours the receiver does not model. */
async function adHocServer(handler: http.RequestListener): Promise<{ url: string; server: http.Server; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

describe('a delivery reaches the receiver signed', () => {
  test('a 204 is delivered, and both the library and the spec verifier accept the signature', async () => {
    const sent = delivery(receiver.url);
    const result = await sender().send(sent, new Date());

    expect(result).toMatchObject({ outcome: 'delivered', status: 204, error: null, response: '' });
    const received = receiver.unique.get(sent.messageId)!;
    expect(received).toMatchObject({ body: sent.body, verifiedByLibrary: true, verifiedBySpec: true });
    expect(received.headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': 'Tiebreak-Webhooks/1.0' });
    expect(receiver.badSignatures).toBe(0);
  });

  test('during a secret rotation the delivery carries two signatures and a receiver holding either secret accepts it', async () => {
    const next = newSecret();
    const now = new Date();
    const first = delivery(receiver.url, [secret, next]);
    const second = delivery(receiver.url, [secret, next]);

    receiver.setSecrets([secret]);
    expect((await sender().send(first, now)).outcome).toBe('delivered');
    receiver.setSecrets([next]);
    expect((await sender().send(second, now)).outcome).toBe('delivered');

    const { headers, body } = receiver.unique.get(second.messageId)!;
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    const signed = { id: second.messageId, timestamp: headers['webhook-timestamp']!, signature: headers['webhook-signature']! };
    const nowSeconds = Math.floor(now.getTime() / 1000);
    expect(verifyBySpec([secret], signed, body, nowSeconds)).toBe(true);
    expect(verifyBySpec([next], signed, body, nowSeconds)).toBe(true);
    expect(verifyBySpec([newSecret()], signed, body, nowSeconds)).toBe(false);
    expect(receiver.badSignatures).toBe(0);
  });

  test('the spec verifier refuses a tampered body and a timestamp outside the tolerance', async () => {
    const sent = delivery(receiver.url);
    await sender().send(sent, new Date());
    const { headers } = receiver.unique.get(sent.messageId)!;
    const signed = { id: sent.messageId, timestamp: headers['webhook-timestamp']!, signature: headers['webhook-signature']! };
    const nowSeconds = Number(signed.timestamp);

    expect(verifyBySpec([secret], signed, sent.body, nowSeconds)).toBe(true);
    expect(verifyBySpec([secret], signed, `${sent.body} `, nowSeconds)).toBe(false);
    expect(verifyBySpec([secret], signed, sent.body, nowSeconds + 301)).toBe(false);
  });

  test('a delivery signed with a stale timestamp is refused by the receiver and counted as a bad signature', async () => {
    const before = receiver.badSignatures;
    const result = await sender().send(delivery(receiver.url), new Date(Date.now() - 3_600_000));

    expect(result).toMatchObject({ outcome: 'failed', status: 400 });
    expect(receiver.badSignatures).toBe(before + 1);
  });

  test('consecutive sends reuse one kept-alive connection', async () => {
    let connections = 0;
    const server = await adHocServer((_request, response) => response.writeHead(204).end());
    server.server.on('connection', () => (connections += 1));
    const reused = sender();
    for (let i = 0; i < 3; i += 1) expect((await reused.send(delivery(server.url), new Date())).outcome).toBe('delivered');
    await server.close();

    expect(connections).toBe(1);
  });
});

describe('receiver answers decide the outcome', () => {
  test('a 500 fails with the status and the head of the response body', async () => {
    await receiver.setMode('error');
    const result = await sender().send(delivery(receiver.url), new Date());

    expect(result).toMatchObject({ outcome: 'failed', status: 500, response: 'receiver error: database unavailable' });
    expect(result.error).toContain('500');
  });

  test('a 410 means the endpoint is gone', async () => {
    await receiver.setMode('gone');
    expect(await sender().send(delivery(receiver.url), new Date())).toMatchObject({ outcome: 'gone', status: 410, error: null });
  });

  test('a 302 redirect is not followed: the delivery fails and the Location target is never hit', async () => {
    await receiver.setMode('redirect');
    const result = await sender().send(delivery(receiver.url), new Date());

    expect(result).toMatchObject({ outcome: 'failed', status: 302 });
    expect(result.error).toMatch(/redirect to http:\/\/127\.0\.0\.1:\d+\/redirected not followed/);
    expect(receiver.redirectsFollowed).toBe(0);
  });

  test('a receiver that never answers times out after timeoutMs with an error saying so', async () => {
    await receiver.setMode('hang');
    const result = await sender({ timeoutMs: 300 }).send(delivery(receiver.url), new Date());

    expect(result).toMatchObject({ outcome: 'failed', status: null, error: 'timed out after 300 ms' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.latencyMs).toBeLessThan(1_000);
  });

  test('a receiver that answers 200 then stalls its body still times out: the timeout covers reading the body', async () => {
    const server = await adHocServer((_request, response) => {
      response.writeHead(200);
      response.write('partial');
    });
    const result = await sender({ timeoutMs: 300 }).send(delivery(server.url), new Date());
    await server.close();

    expect(result).toMatchObject({ outcome: 'failed', status: 200, error: 'timed out after 300 ms' });
    expect(result.latencyMs).toBeLessThan(1_000);
  });

  test('a 10 MB streamed response is cut at 1024 bytes and the send returns quickly', async () => {
    let written = 0;
    const total = 10 * 1024 * 1024;
    const server = await adHocServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (written < total && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
    });
    const result = await sender().send(delivery(server.url), new Date());
    await server.close();

    expect(result.outcome).toBe('delivered');
    expect(result.response).toBe('x'.repeat(1024));
    expect(result.latencyMs).toBeLessThan(500);
    // The sender hung up long before the receiver got through its 10 MB.
    expect(written).toBeLessThan(total);
  });

  test('a closed port fails as connection refused with no status; the same URL works again once the receiver is back', async () => {
    await receiver.setMode('refuse');
    expect(await sender().send(delivery(receiver.url), new Date())).toMatchObject({
      outcome: 'failed',
      status: null,
      error: 'connection refused',
    });

    await receiver.setMode('ok');
    expect((await sender().send(delivery(receiver.url), new Date())).outcome).toBe('delivered');
  });

  test('a URL that is not http or https is refused without a request', async () => {
    for (const url of ['ftp://127.0.0.1/hook', 'file:///etc/passwd', 'not a url']) {
      const result = await sender().send(delivery(url), new Date());
      expect(result).toMatchObject({ outcome: 'failed', status: null });
    }
  });

  test('a delivery without any secret is a programmer error and throws', () => {
    expect(() => sender().send(delivery(receiver.url, []), new Date())).toThrow(/secret/);
  });
});

describe('SSRF: private, loopback and metadata targets are refused before connecting', () => {
  test.each(['http://127.0.0.1', 'http://localhost', 'http://[::1]', 'http://[::ffff:127.0.0.1]'])(
    'with loopback not allowed, %s is refused and the local receiver sees nothing',
    async (origin) => {
      const port = new URL(receiver.url).port;
      const before = receiver.requests;
      const result = await sender({ policy: PUBLIC_ONLY }).send(delivery(`${origin}:${port}/hook`), new Date());

      expect(result).toMatchObject({ outcome: 'failed', status: null });
      expect(result.error).toMatch(/^address not allowed: .*loopback/);
      expect(receiver.requests).toBe(before);
    },
  );

  describe('non-loopback targets', () => {
    // A safety net: should the pre-check ever regress, the test fails instead of reaching a real network.
    const attempts: unknown[] = [];
    beforeEach(() => {
      attempts.length = 0;
      vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
        attempts.push(args[0]);
        this.destroy(new Error('test safety net: connection blocked'));
        return this;
      });
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });

    test.each([
      ['http://169.254.169.254/latest/meta-data', 'link-local'],
      ['http://10.0.0.1/hook', 'private'],
      ['http://0.0.0.0/hook', 'unspecified'],
      ['https://[fd00:ec2::254]/latest/meta-data', 'unique-local'],
      ['https://100.64.0.1/hook', 'carrier-grade NAT'],
    ])('%s is refused as %s without opening a socket', async (url, kind) => {
      const result = await sender({ policy: PUBLIC_ONLY }).send(delivery(url), new Date());

      expect(result).toMatchObject({ outcome: 'failed', status: null });
      expect(result.error).toMatch(/^address not allowed: /);
      expect(result.error).toContain(kind);
      expect(attempts).toEqual([]);
      expect((await checkWebhookUrl(url.replace('http:', 'https:'), PUBLIC_ONLY)).ok).toBe(false);
    });
  });

  test('DNS rebinding: a host that passed registration as public but resolves to loopback at send time is refused at connect', async () => {
    const registration: LookupAll = () => Promise.resolve([{ address: '93.184.216.34', family: 4 }]);
    const atSendTime: LookupAll = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    const port = new URL(receiver.url).port;
    const url = `http://rebind.example:${port}/hook`;
    expect(await checkWebhookUrl(url.replace('http:', 'https:'), PUBLIC_ONLY, registration)).toEqual({ ok: true });

    const before = receiver.requests;
    const result = await sender({ policy: PUBLIC_ONLY, resolve: atSendTime }).send(delivery(url), new Date());

    expect(result).toMatchObject({ outcome: 'failed', status: null });
    expect(result.error).toBe(
      'address not allowed: rebind.example resolves to 127.0.0.1, a loopback address; webhook targets must be public',
    );
    expect(receiver.requests).toBe(before);
  });

  test('with loopback allowed, a host name resolving to loopback is delivered through the guarded lookup', async () => {
    const port = new URL(receiver.url).port;
    const sent = delivery(`http://localhost:${port}/hook`);
    expect((await sender().send(sent, new Date())).outcome).toBe('delivered');
    expect(receiver.unique.has(sent.messageId)).toBe(true);
  });
});

describe('guardedLookup answers both callback shapes and refuses any bad address', () => {
  const lookupWith = (addresses: LookupAddress[], all: boolean) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family: number | undefined }>((resolve) => {
      guardedLookup(PUBLIC_ONLY, () => Promise.resolve(addresses))('hooks.example.com', { all }, (error, address, family) => {
        resolve({ error, address, family });
      });
    });

  test('public addresses are handed to the socket as a list (all: true) or as one address (all: false)', async () => {
    const addresses = [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ];
    expect(await lookupWith(addresses, true)).toMatchObject({ error: null, address: addresses });
    expect(await lookupWith(addresses, false)).toMatchObject({ error: null, address: '93.184.216.34', family: 4 });
  });

  test('one private address among public ones refuses the connection with ERR_ADDRESS_NOT_ALLOWED', async () => {
    for (const all of [true, false]) {
      const { error } = await lookupWith(
        [
          { address: '93.184.216.34', family: 4 },
          { address: '10.0.0.5', family: 4 },
        ],
        all,
      );
      expect(error?.code).toBe('ERR_ADDRESS_NOT_ALLOWED');
      expect(error?.message).toContain('10.0.0.5, a private address');
    }
  });
});

describe('checkWebhookUrl at registration', () => {
  const resolvesTo =
    (...addresses: string[]): LookupAll =>
    () =>
      Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

  test('an https URL whose host resolves only to public addresses is accepted', async () => {
    expect(
      await checkWebhookUrl('https://hooks.example.com/tiebreak', PUBLIC_ONLY, resolvesTo('93.184.216.34', '2606:4700:4700::1111')),
    ).toEqual({
      ok: true,
    });
  });

  test('plain http is refused for a public host, even when loopback is allowed', async () => {
    for (const policy of [PUBLIC_ONLY, LOOPBACK_OK]) {
      const answer = await checkWebhookUrl('http://hooks.example.com/tiebreak', policy, resolvesTo('93.184.216.34'));
      expect(answer).toMatchObject({ ok: false, reason: expect.stringContaining('https') as unknown });
    }
  });

  test('plain http to the local receiver is accepted only when loopback is allowed', async () => {
    expect(await checkWebhookUrl(receiver.url, LOOPBACK_OK)).toEqual({ ok: true });
    expect(await checkWebhookUrl(receiver.url, PUBLIC_ONLY)).toMatchObject({ ok: false });
  });

  test('a loopback receiver refused where loopback is not allowed is told where it is allowed (the local runtime) and by which setting', async () => {
    const refusals = [
      await checkWebhookUrl(receiver.url, PUBLIC_ONLY),
      await checkWebhookUrl(receiver.url.replace('http:', 'https:'), PUBLIC_ONLY),
      await checkWebhookUrl('https://localhost:9000/hooks', PUBLIC_ONLY, resolvesTo('127.0.0.1')),
      await checkWebhookUrl('http://hooks.example.com/tiebreak', PUBLIC_ONLY, resolvesTo('93.184.216.34')),
    ];
    for (const answer of refusals) {
      expect(answer).toMatchObject({ ok: false, reason: expect.stringContaining('only by the local runtime') as unknown });
      expect(answer).toMatchObject({ reason: expect.stringContaining('TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK') as unknown });
    }
    // A private address is no loopback receiver: no such hint.
    const privateHost = await checkWebhookUrl('https://10.0.0.5/hooks', PUBLIC_ONLY);
    expect(privateHost).toEqual({ ok: false, reason: 'the host 10.0.0.5 is a private address; webhook targets must be public' });
  });

  test('a URL with a user name or password is refused', async () => {
    const answer = await checkWebhookUrl('https://user:pass@hooks.example.com/', PUBLIC_ONLY, resolvesTo('93.184.216.34'));
    expect(answer).toEqual({ ok: false, reason: 'the webhook URL must not carry a user name or password' });
  });

  test('a host resolving to one private address among public ones is refused, naming the address', async () => {
    const answer = await checkWebhookUrl('https://hooks.example.com/', PUBLIC_ONLY, resolvesTo('93.184.216.34', '10.0.0.5'));
    expect(answer).toEqual({
      ok: false,
      reason: 'the host hooks.example.com resolves to 10.0.0.5, a private address; webhook targets must be public',
    });
  });

  test('a literal metadata address is refused without resolving anything', async () => {
    const lookup = vi.fn<LookupAll>();
    const answer = await checkWebhookUrl('https://169.254.169.254/latest/meta-data', PUBLIC_ONLY, lookup);
    expect(answer).toMatchObject({ ok: false, reason: expect.stringContaining('link-local') as unknown });
    expect(lookup).not.toHaveBeenCalled();
  });

  test('a host that does not resolve is refused with the resolver error', async () => {
    const notFound: LookupAll = () => Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    expect(await checkWebhookUrl('https://nowhere.example/', PUBLIC_ONLY, notFound)).toEqual({
      ok: false,
      reason: 'the host nowhere.example does not resolve (ENOTFOUND)',
    });
  });
});

describe('isAllowedAddress', () => {
  test.each([
    ['8.8.8.8', true, true],
    ['2606:4700:4700::1111', true, true],
    ['127.0.0.1', false, true],
    ['::1', false, true],
    ['::ffff:127.0.0.1', false, true],
    ['169.254.169.254', false, false],
    ['fd00:ec2::254', false, false],
    ['10.0.0.1', false, false],
    ['172.16.5.4', false, false],
    ['192.168.1.1', false, false],
    ['100.64.0.1', false, false],
    ['fe80::1', false, false],
    ['0.0.0.0', false, false],
    ['::', false, false],
    ['::ffff:10.0.0.1', false, false],
    ['224.0.0.1', false, false],
    ['255.255.255.255', false, false],
    ['not-an-ip', false, false],
  ])('%s: allowed=%s, with loopback allowed=%s', (ip, publicOnly, withLoopback) => {
    expect(isAllowedAddress(ip, PUBLIC_ONLY)).toBe(publicOnly);
    expect(isAllowedAddress(ip, LOOPBACK_OK)).toBe(withLoopback);
  });
});
