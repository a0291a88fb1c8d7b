import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WitnessClient } from '../../agent/io/witness-client.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

async function enrolledSite() {
  const site = await setUpReseller(api);
  const enroll = await api.call('POST', '/v1/node/enroll', undefined, { code: site.codes['node-a'], nodeId: 'node-a' });
  return { ...site, token: (enroll.body as { token: string }).token };
}

describe('POST /v1/node/maintenance: the agent declares a window for its own site', () => {
  it('declares a window from now, which the reseller sees among the site’s windows', async () => {
    const site = await enrolledSite();
    api.clock.ms = Date.parse('2026-11-29T10:00:00Z');
    const agent = new WitnessClient(api.url, site.token, 3_000);
    const declared = await agent.maintenance({ minutes: 90, reason: 'replacing the RAID controller' });
    expect(declared).toEqual({
      ok: true,
      body: {
        windowId: expect.any(String) as unknown,
        start: '2026-11-29T10:00:00.000Z',
        end: '2026-11-29T11:30:00.000Z',
        reason: 'replacing the RAID controller',
      },
    });
    const windows = await api.call('GET', `/v1/sites/${site.siteId}/maintenance`, site.key);
    expect((windows.body as { items: unknown[] }).items).toEqual([
      {
        windowId: declared.ok ? declared.body.windowId : '',
        start: '2026-11-29T10:00:00.000Z',
        end: '2026-11-29T11:30:00.000Z',
        reason: 'replacing the RAID controller',
        declaredAt: '2026-11-29T10:00:00.000Z',
        declaredBy: { kind: 'node', nodeId: 'node-a' },
        changedAt: null,
        changedBy: null,
      },
    ]);
  });

  it('refuses a revoked token, a bad body and no token, and writes nothing', async () => {
    const site = await enrolledSite();
    const before = await api.snapshot();
    const tooLong = await api.call('POST', '/v1/node/maintenance', site.token, { minutes: 24 * 60 + 1, reason: 'x' });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toMatchObject({ error: { code: 'invalid-body' } });
    expect((await api.call('POST', '/v1/node/maintenance', site.token, { minutes: 5 })).status).toBe(400);
    expect((await api.call('POST', '/v1/node/maintenance', undefined, { minutes: 5, reason: 'x' })).status).toBe(401);
    expect(await api.snapshot()).toEqual(before);

    expect((await api.call('POST', `/v1/sites/${site.siteId}/nodes/node-a/revoke`, site.key)).status).toBe(200);
    const revoked = await api.snapshot();
    const refused = await api.call('POST', '/v1/node/maintenance', site.token, { minutes: 5, reason: 'after revocation' });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'token-revoked' } });
    expect(await api.snapshot()).toEqual(revoked);
  });
});
