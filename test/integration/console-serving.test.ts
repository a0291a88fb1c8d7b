import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSecurityHeaders } from '../../functions/handlers/console.ts';
import { startApi, type TestApi } from '../support/api.ts';

// The console's files as the API serves them (the console function's handler, behind the local
// server as npm start runs it): the page, its hashed script and stylesheet, the headers that keep
// it safe, the caching that keeps it fast.

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${api.url}${path}`, { redirect: 'manual', headers });

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(consoleSecurityHeaders)) expect(response.headers.get(name), name).toBe(value);
}

describe('the console, served by the API', () => {
  it('GET /console sends the browser to /console/, whose page is revalidated on every load and names a hashed script and stylesheet', async () => {
    const redirect = await get('/console');
    expect(redirect.status).toBe(302);
    expect(new URL(redirect.headers.get('location') ?? '', `${api.url}/console`).pathname).toBe('/console/');
    expectSecurityHeaders(redirect);

    const page = await get('/console/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expectSecurityHeaders(page);
    const html = await page.text();
    const script = /src="(console-[A-Z0-9]{8}\.js)"/.exec(html)?.[1];
    const style = /href="(console-[A-Z0-9]{8}\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    // No inline script or style: the CSP would refuse them.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
    expect((await get('/console/index.html')).status).toBe(200);

    for (const [name, type] of [
      [script, 'text/javascript; charset=utf-8'],
      [style, 'text/css; charset=utf-8'],
    ] as const) {
      const file = await get(`/console/${name ?? ''}`);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe(type);
      expect(file.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expectSecurityHeaders(file);
    }
  });

  it('the CSP allows this origin only, with no inline script, no framing and no other host to call', () => {
    const csp = consoleSecurityHeaders['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(consoleSecurityHeaders['x-content-type-options']).toBe('nosniff');
    expect(consoleSecurityHeaders['referrer-policy']).toBe('no-referrer');
  });

  it('gzips for clients that accept it (API Gateway does not compress), the same bytes', async () => {
    const page = await (await get('/console/')).text();
    const script = /src="(console-[A-Z0-9]{8}\.js)"/.exec(page)?.[1] ?? '';
    const plain = Buffer.from(await (await get(`/console/${script}`)).arrayBuffer());
    // Node's fetch asks for gzip and unpacks it itself: ask by hand to see the wire.
    const raw = await new Promise<{ encoding: string | undefined; vary: string | undefined; body: Buffer }>((resolve, reject) => {
      import('node:http')
        .then(({ get: httpGet }) => {
          httpGet(`${api.url}/console/${script}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              resolve({ encoding: response.headers['content-encoding'], vary: response.headers.vary, body: Buffer.concat(chunks) });
            });
          }).on('error', reject);
        })
        .catch(reject);
    });
    expect(raw.encoding).toBe('gzip');
    expect(raw.vary).toBe('accept-encoding');
    expect(gunzipSync(raw.body).equals(plain)).toBe(true);
    expect(raw.body.length).toBeLessThan(plain.length / 2);
  });

  it('answers 404 for a file it does not have, a path that climbs out or a folder, with the security headers too', async () => {
    for (const path of ['/console/nothing.js', '/console/..%2Fpackage.json', '/console/a/b.js', '/console/%2Fetc%2Fpasswd']) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expectSecurityHeaders(answer);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('not-found');
    }
    // Dot segments are resolved before routing (`/console/%2e%2e/x` is `/x`): never the console's to answer.
    for (const path of ['/consoles/', '/console/%2e%2e/package.json']) expect((await get(path)).status, path).toBe(404);
  });

  it('is public: the page needs no key (the console asks for one), and a key sent along changes nothing', async () => {
    const without = await get('/console/');
    const withKey = await get('/console/', { authorization: 'Bearer tbk.nobody.000000000000.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' });
    expect(withKey.status).toBe(200);
    expect(await withKey.text()).toBe(await without.text());
  });
});
