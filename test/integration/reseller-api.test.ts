import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const heartbeat = (seq: number) => ({ incarnation: 1, seq, epoch: 0, role: 'secondary', peer: { reachable: true } });

describe('the reseller API, end to end', () => {
  it('creates a reseller, a customer and a site; each node enrolls once and its token works at the witness', async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const enrolled = await api.call('POST', '/v1/node/enroll', undefined, { code: codes['node-a'], nodeId: 'node-a' });
    expect(enrolled.status).toBe(200);
    const token = (enrolled.body as { token: string }).token;
    expect(enrolled.body).toMatchObject({ siteId, nodeId: 'node-a', tokenVersion: 1 });

    expect((await api.call('POST', '/v1/node/heartbeat', token, heartbeat(1))).status).toBe(200);
    // The code is used up.
    const again = await api.call('POST', '/v1/node/enroll', undefined, { code: codes['node-a'], nodeId: 'node-a' });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ error: { code: 'unauthorized' } });

    const status = await api.call('GET', `/v1/sites/${siteId}`, key);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      siteId,
      customerId: 'dental',
      epoch: 0,
      primary: null,
      nodes: [
        { nodeId: 'node-a', enrolled: true, tokenVersion: 1, role: 'secondary' },
        { nodeId: 'node-b', enrolled: false, tokenVersion: 0, lastSeenAt: null },
      ],
    });
  });

  it("rotates a node's token: the old token works until the new code is used, then is refused", async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const first = (await api.call('POST', '/v1/node/enroll', undefined, { code: codes['node-b'], nodeId: 'node-b' })).body as {
      token: string;
    };
    const code = await api.call('POST', `/v1/sites/${siteId}/nodes/node-b/enrollment`, key);
    expect(code.status).toBe(201);
    expect(code.body).toMatchObject({ nodeId: 'node-b', tokenVersion: 2 });
    expect((await api.call('POST', '/v1/node/heartbeat', first.token, heartbeat(1))).status).toBe(200);

    const second = await api.call('POST', '/v1/node/enroll', undefined, { code: (code.body as { code: string }).code, nodeId: 'node-b' });
    expect(second.body).toMatchObject({ tokenVersion: 2 });
    const old = await api.call('POST', '/v1/node/heartbeat', first.token, heartbeat(2));
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ error: { code: 'token-revoked' } });
    expect((await api.call('POST', '/v1/node/heartbeat', (second.body as { token: string }).token, heartbeat(3))).status).toBe(200);
  });

  it("revokes a node's token at once, and outstanding codes with it", async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const { token } = (await api.call('POST', '/v1/node/enroll', undefined, { code: codes['node-a'], nodeId: 'node-a' })).body as {
      token: string;
    };
    const pending = (await api.call('POST', `/v1/sites/${siteId}/nodes/node-a/enrollment`, key)).body as { code: string };
    const revoked = await api.call('POST', `/v1/sites/${siteId}/nodes/node-a/revoke`, key);
    expect(revoked.body).toEqual({ nodeId: 'node-a', tokenVersion: 2 });
    expect((await api.call('POST', '/v1/node/heartbeat', token, heartbeat(1))).status).toBe(401);
    expect((await api.call('POST', '/v1/node/enroll', undefined, { code: pending.code, nodeId: 'node-a' })).status).toBe(409);
    const fresh = (await api.call('POST', `/v1/sites/${siteId}/nodes/node-a/enrollment`, key)).body as {
      code: string;
      tokenVersion: number;
    };
    expect(fresh.tokenVersion).toBe(3);
    const back = await api.call('POST', '/v1/node/enroll', undefined, { code: fresh.code, nodeId: 'node-a' });
    expect((await api.call('POST', '/v1/node/heartbeat', (back.body as { token: string }).token, heartbeat(2))).status).toBe(200);
  });

  it("refuses a node's code sent as the other node, naming both, and changes nothing: both tokens keep working, the code still enrolls its node", async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const enroll = async (code: string | undefined, nodeId: string) =>
      (await api.call('POST', '/v1/node/enroll', undefined, { code, nodeId })).body as { token: string };
    const a = await enroll(codes['node-a'], 'node-a');
    const b = await enroll(codes['node-b'], 'node-b');
    // A rotation code for the running node-a, typed into node-b's config: using it would cut node-a off.
    const rotation = (await api.call('POST', `/v1/sites/${siteId}/nodes/node-a/enrollment`, key)).body as { code: string };
    const before = await api.snapshot();

    const wrong = await api.call('POST', '/v1/node/enroll', undefined, { code: rotation.code, nodeId: 'node-b' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ error: { code: 'wrong-node', details: [{ path: 'nodeId' }] } });
    const { message } = (wrong.body as { error: { message: string } }).error;
    expect(message).toContain('node-a');
    expect(message).toContain('node-b');
    expect(await api.snapshot()).toEqual(before);

    expect((await api.call('POST', '/v1/node/heartbeat', b.token, heartbeat(1))).status).toBe(200);
    expect((await api.call('POST', '/v1/node/heartbeat', a.token, heartbeat(1))).status).toBe(200);
    const rotated = await api.call('POST', '/v1/node/enroll', undefined, { code: rotation.code, nodeId: 'node-a' });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ nodeId: 'node-a', tokenVersion: 2 });
  });

  it('refuses an enrollment that does not say which node it is for (400), and uses nothing', async () => {
    const { codes } = await setUpReseller(api);
    const before = await api.snapshot();
    const missing = await api.call('POST', '/v1/node/enroll', undefined, { code: codes['node-a'] });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { code: 'invalid-body', details: [{ path: 'nodeId' }] } });
    expect(await api.snapshot()).toEqual(before);
  });

  it('an enrollment code expires after 7 days', async () => {
    const { codes } = await setUpReseller(api);
    api.clock.advance(7 * 24 * 3_600_000 + 1);
    expect((await api.call('POST', '/v1/node/enroll', undefined, { code: codes['node-a'], nodeId: 'node-a' })).status).toBe(401);
  });

  it('API keys: shown once, listed without secrets, read-only ones cannot write, rotated and revoked keys stop working', async () => {
    const { key } = await setUpReseller(api);
    const readOnly = await api.call('POST', '/v1/api-keys', key, { name: 'dashboard', scope: 'read-only' });
    expect(readOnly.status).toBe(201);
    const ro = readOnly.body as { keyId: string; secret: string };
    expect(ro.secret).toMatch(/^tbk\./);
    const listed = await api.call('GET', '/v1/api-keys', key);
    expect(listed.text).not.toContain(ro.secret);
    expect((listed.body as { items: unknown[] }).items).toHaveLength(2);

    expect((await api.call('GET', '/v1/sites', ro.secret)).status).toBe(200);
    const write = await api.call('POST', '/v1/customers', ro.secret, { customerId: 'x', name: 'X' });
    expect(write.status).toBe(403);
    // Each key can tell its own scope (the console hides what a read-only key may not do).
    expect((await api.call('GET', '/v1/reseller', ro.secret)).body).toMatchObject({ caller: { keyId: ro.keyId, scope: 'read-only' } });
    expect((await api.call('GET', '/v1/reseller', key)).body).toMatchObject({ caller: { scope: 'read-write' } });

    const rotated = await api.call('POST', `/v1/api-keys/${ro.keyId}/rotate`, key);
    expect(rotated.status).toBe(201);
    expect((await api.call('GET', '/v1/sites', ro.secret)).status).toBe(401);
    const next = rotated.body as { keyId: string; secret: string; scope: string };
    expect(next.scope).toBe('read-only');
    expect((await api.call('GET', '/v1/sites', next.secret)).status).toBe(200);
    expect((await api.call('DELETE', `/v1/api-keys/${next.keyId}`, key)).status).toBe(200);
    expect((await api.call('GET', '/v1/sites', next.secret)).status).toBe(401);
  });

  it('pages through lists with a cursor, and refuses a cursor of another list', async () => {
    const { key } = await setUpReseller(api);
    for (let i = 0; i < 5; i++) await api.call('POST', '/v1/customers', key, { customerId: `c-${i}`, name: `C ${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = (await api.call('GET', `/v1/customers?limit=2${query}`, key)).body as {
        items: { customerId: string }[];
        nextCursor: string | null;
      };
      seen.push(...page.items.map((c) => c.customerId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'dental']);
    const other = ((await api.call('GET', '/v1/api-keys?limit=1', key)).body as { nextCursor: string }).nextCursor;
    expect((await api.call('GET', `/v1/customers?cursor=${other}`, key)).status).toBe(400);
  });

  it('maintenance windows: declared, listed, cancelled; a window ending before it starts is refused', async () => {
    const { key, siteId } = await setUpReseller(api);
    const created = await api.call('POST', `/v1/sites/${siteId}/maintenance`, key, {
      start: '2027-02-01T20:00:00Z',
      end: '2027-02-01T22:00:00Z',
      reason: 'firmware update',
    });
    expect(created.status).toBe(201);
    const { windowId } = created.body as { windowId: string };
    const list = await api.call('GET', `/v1/sites/${siteId}/maintenance`, key);
    expect(list.body).toMatchObject({ items: [{ windowId, start: '2027-02-01T20:00:00.000Z', reason: 'firmware update' }] });
    const bad = await api.call('POST', `/v1/sites/${siteId}/maintenance`, key, {
      start: '2027-02-01T22:00:00Z',
      end: '2027-02-01T20:00:00Z',
      reason: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { details: [{ path: 'end' }] } });
    expect((await api.call('DELETE', `/v1/sites/${siteId}/maintenance/${windowId}`, key)).status).toBe(204);
    expect((await api.call('DELETE', `/v1/sites/${siteId}/maintenance/${windowId}`, key)).status).toBe(404);
  });

  it('sets a tie-break policy, and refuses a preferred node the site does not have', async () => {
    const { key, siteId } = await setUpReseller(api);
    const set = await api.call('PUT', `/v1/sites/${siteId}/policy`, key, {
      tieBreak: 'preferred-node',
      preferredNode: 'node-b',
      healthThreshold: 40,
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ policy: { tieBreak: 'preferred-node', preferredNode: 'node-b', healthThreshold: 40 } });
    const bad = await api.call('PUT', `/v1/sites/${siteId}/policy`, key, {
      tieBreak: 'preferred-node',
      preferredNode: 'node-z',
      healthThreshold: 0,
    });
    expect(bad.status).toBe(400);
  });

  it('refuses duplicates with 409 and a site of an unknown customer with 404', async () => {
    const { resellerId, key, siteId } = await setUpReseller(api);
    expect((await api.call('POST', '/v1/resellers', api.adminKey, { resellerId, name: 'again' })).status).toBe(409);
    expect((await api.call('POST', '/v1/customers', key, { customerId: 'dental', name: 'again' })).status).toBe(409);
    const site = { siteId, customerId: 'dental', name: 'again', nodeIds: ['node-a', 'node-b'] };
    expect((await api.call('POST', '/v1/sites', key, site)).status).toBe(409);
    expect((await api.call('POST', '/v1/sites', key, { ...site, siteId: 'other', customerId: 'nobody' })).status).toBe(404);
  });

  it('limits each API key: 429 with Retry-After past its burst', async () => {
    const limited = await startApi({ rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const created = await limited.call('POST', '/v1/resellers', limited.adminKey, { resellerId: 'busy', name: 'Busy' });
      const key = (created.body as { apiKey: { secret: string } }).apiKey.secret;
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.call('GET', '/v1/reseller', key)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await limited.call('GET', '/v1/reseller', key);
      expect(refused.headers.get('retry-after')).toBe('1');
      limited.clock.advance(1000);
      expect((await limited.call('GET', '/v1/reseller', key)).status).toBe(200);
      // Guessing keys: three failures from one address, then 429 before any read, whatever key is tried next.
      const guess = `tbk.busy.000000000000.${'x'.repeat(43)}`;
      const guesses = [];
      for (let i = 0; i < 4; i++) guesses.push((await limited.call('GET', '/v1/reseller', guess)).status);
      expect(guesses).toEqual([401, 401, 401, 429]);
      expect((await limited.call('GET', '/v1/reseller', key)).status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('limits each node token too: 50 requests at once, then 429 with Retry-After until it refills, and nothing is written', async () => {
    const { codes } = await setUpReseller(api);
    const { token } = (await api.call('POST', '/v1/node/enroll', undefined, { code: codes['node-a'], nodeId: 'node-a' })).body as {
      token: string;
    };
    for (let seq = 1; seq <= 50; seq++) expect((await api.call('POST', '/v1/node/heartbeat', token, heartbeat(seq))).status).toBe(200);
    const before = await api.snapshot();
    const refused = await api.call('POST', '/v1/node/heartbeat', token, heartbeat(51));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: { code: 'rate-limited' } });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await api.snapshot()).toEqual(before);
    api.clock.advance(100);
    expect((await api.call('POST', '/v1/node/heartbeat', token, heartbeat(52))).status).toBe(200);
  });

  it("escalation policies: the reseller's, overridden per customer and per site; checked on the way in", async () => {
    const { key, siteId } = await setUpReseller(api);
    const policy = {
      levels: [
        { afterMs: 0, targets: [{ type: 'service-queue' }] },
        {
          afterMs: 900_000,
          targets: [
            { type: 'email', address: 'oncall@example.com' },
            { type: 'sms', phoneNumber: '+14155550100' },
          ],
        },
      ],
      repeatLast: { times: 3, everyMs: 1_800_000 },
    };
    expect((await api.call('GET', '/v1/escalation-policy', key)).status).toBe(404);
    const set = await api.call('PUT', '/v1/escalation-policy', key, policy);
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ scope: 'reseller', id: null, policy });
    const override = { ...policy, levels: [{ afterMs: 0, targets: [{ type: 'webhook', endpointId: 'psa' }] }] };
    expect((await api.call('PUT', `/v1/sites/${siteId}/escalation-policy`, key, override)).status).toBe(200);
    expect((await api.call('PUT', '/v1/customers/dental/escalation-policy', key, override)).status).toBe(200);
    expect((await api.call('PUT', '/v1/customers/nobody/escalation-policy', key, override)).status).toBe(404);
    const all = (await api.call('GET', '/v1/escalation-policies', key)).body as { items: { scope: string; id: string | null }[] };
    expect(all.items.map((p) => `${p.scope}:${String(p.id)}`)).toEqual(['customer:dental', 'reseller:null', `site:${siteId}`]);
    expect((await api.call('DELETE', `/v1/sites/${siteId}/escalation-policy`, key)).status).toBe(204);
    expect((await api.call('GET', `/v1/sites/${siteId}/escalation-policy`, key)).status).toBe(404);

    const unordered = { ...policy, levels: [...policy.levels].reverse() };
    const refused = await api.call('PUT', '/v1/escalation-policy', key, unordered);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { details: [{ path: 'levels' }] } });
    const badPhone = await api.call('PUT', '/v1/escalation-policy', key, {
      ...policy,
      levels: [{ afterMs: 0, targets: [{ type: 'sms', phoneNumber: '555-0100' }] }],
    });
    expect(badPhone.body).toMatchObject({ error: { details: [{ path: 'levels.0.targets.0.phoneNumber' }] } });
  });
});
