/**
 * One-click links (functions/adapters/incident-links.ts) through the API on DynamoDB Local: GET
 * only shows a page (mail scanners fetch every link), POST acts; a link does one thing for one
 * incident of one reseller until it expires, and nothing else passes for one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentLinkSigner } from '../../functions/adapters/incident-links.ts';
import { ErrorBody } from '../../protocol/errors.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { openIncident } from '../support/hostile-tenants.ts';

let api: TestApi;
let signer: IncidentLinkSigner;
beforeAll(async () => {
  api = await startApi();
  signer = new IncidentLinkSigner(api.api.tokenKey, `${api.url}/`);
});
afterAll(() => api.close());

/** A reseller with an open incident at its site, and that incident's two links (paths on the test server). */
async function incidentWithLinks() {
  const reseller = await setUpReseller(api);
  api.clock.advance(1_000);
  const incidentId = await openIncident(api, reseller, 'node-a', api.clock.now() - 10_000);
  const links = signer.linksFor(reseller.resellerId, reseller.siteId, incidentId, api.clock.now());
  const path = (url: string) => url.slice(api.url.length);
  const incident = async () =>
    (await api.call('GET', `/v1/sites/${reseller.siteId}/incidents/${incidentId}`, reseller.key)).body as Record<string, unknown>;
  return { ...reseller, incidentId, acknowledge: path(links.acknowledge), resolve: path(links.resolve), incident };
}

/** The link's token with its claims changed and its signature kept. */
function withClaims(path: string, change: (claims: Record<string, unknown>) => void): string {
  const [payload = '', signature = ''] = path.slice('/v1/links/'.length).split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(claims);
  return `/v1/links/${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

async function expectRefused(method: string, path: string, status: number, message?: RegExp): Promise<void> {
  const table = await api.snapshot();
  const answer = await api.call(method, path);
  expect(answer.status, answer.text).toBe(status);
  expect(ErrorBody.safeParse(answer.body).success, answer.text).toBe(true);
  if (message) expect((answer.body as { error: { message: string } }).error.message).toMatch(message);
  expect(await api.snapshot()).toEqual(table);
}

describe('one-click links', () => {
  it('are URLs under the public URL, one per action', async () => {
    const { acknowledge, resolve } = await incidentWithLinks();
    expect(acknowledge).toMatch(/^\/v1\/links\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(resolve).not.toBe(acknowledge);
  });

  it('GET shows a confirmation page with a button that posts back, and changes nothing', async () => {
    const { acknowledge, incidentId } = await incidentWithLinks();
    const table = await api.snapshot();
    const page = await api.call('GET', acknowledge);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.text).toContain(`Acknowledge incident ${incidentId}`);
    expect(page.text).toContain('<form method="post"><button type="submit">Acknowledge</button></form>');
    expect(await api.snapshot()).toEqual(table);
  });

  it('POST acknowledges (again: no change), as a browser posts the form', async () => {
    const { acknowledge, incidentId, incident } = await incidentWithLinks();
    const post = () =>
      fetch(`${api.url}${acknowledge}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    const answer = await post();
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain(`Incident ${incidentId} acknowledged`);
    const acked = await incident();
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'link' });

    api.clock.advance(1_000);
    const table = await api.snapshot();
    expect((await post()).status).toBe(200);
    expect(await api.snapshot()).toEqual(table);
    expect((await api.call('GET', acknowledge)).text).toContain('Nothing is left to do.');
  });

  it('a resolve link resolves; an acknowledge link of a resolved incident then acts no more (409)', async () => {
    const { acknowledge, resolve, incident } = await incidentWithLinks();
    const answer = await api.call('POST', resolve);
    expect(answer.status).toBe(200);
    expect(await incident()).toMatchObject({ state: 'resolved', resolvedBy: 'link', acknowledgedAt: null });
    expect((await api.call('GET', acknowledge)).text).not.toContain('<form');
    await expectRefused('POST', acknowledge, 409);
  });

  it('an acknowledge link altered to resolve, or to another incident, is refused (401) and changes nothing', async () => {
    const { acknowledge, incident } = await incidentWithLinks();
    await expectRefused(
      'POST',
      withClaims(acknowledge, (c) => (c.a = 'resolve')),
      401,
      /not valid/,
    );
    await expectRefused(
      'POST',
      withClaims(acknowledge, (c) => (c.i = 'node-lost-1')),
      401,
    );
    await expectRefused(
      'GET',
      withClaims(acknowledge, (c) => (c.e = Number(c.e) + 3600)),
      401,
    );
    expect(await incident()).toMatchObject({ state: 'open' });
  });

  it('an expired link is refused (401) and changes nothing', async () => {
    const { acknowledge, incident } = await incidentWithLinks();
    api.clock.advance(7 * 24 * 3_600_000);
    await expectRefused('GET', acknowledge, 401, /expired/);
    await expectRefused('POST', acknowledge, 401, /expired/);
    expect(await incident()).toMatchObject({ state: 'open' });
  });

  it("a link of reseller A never acts on B's incident, even at a site of the same name", async () => {
    const a = await incidentWithLinks();
    const b = await incidentWithLinks();
    expect(a.siteId).toBe(b.siteId);
    // Relabelled with B's reseller and incident: the signature no longer holds.
    await expectRefused(
      'POST',
      withClaims(a.acknowledge, (c) => ((c.r = b.resellerId), (c.i = b.incidentId))),
      401,
    );
    // A's own link acts on A's incident only.
    expect((await api.call('POST', a.resolve)).status).toBe(200);
    expect(await a.incident()).toMatchObject({ state: 'resolved' });
    expect(await b.incident()).toMatchObject({ state: 'open' });
  });

  it('a node token is not a link, nor a link a node token', async () => {
    const { codes, acknowledge } = await incidentWithLinks();
    const { token } = (await api.call('POST', '/v1/node/enroll', undefined, { code: codes['node-a'], nodeId: 'node-a' })).body as {
      token: string;
    };
    await expectRefused('GET', `/v1/links/${token}`, 400);
    // Its claims and signature alone have a link's shape, but not its key.
    await expectRefused('POST', `/v1/links/${token.split('.').slice(1).join('.')}`, 401);
    const heartbeat = await api.call('POST', '/v1/node/heartbeat', acknowledge.slice('/v1/links/'.length), {
      incarnation: 1,
      seq: 1,
      epoch: 0,
      role: 'secondary',
      peer: { reachable: true },
    });
    expect(heartbeat.status).toBe(401);
  });

  it('garbage in place of a token is refused with the error shape', async () => {
    await expectRefused('GET', '/v1/links/not-a-token', 401);
    await expectRefused('POST', `/v1/links/${'A'.repeat(10)}.${'B'.repeat(43)}`, 401);
    await expectRefused('POST', `/v1/links/${'A'.repeat(800)}.${'B'.repeat(43)}`, 400);
  });
});
