/**
 * Maintenance windows as part of the SLA record: none declared in the past, a started one only
 * shortened, an ended one never changed or removed, a running one ended (not removed) by DELETE,
 * and each with who declared it and when. Through the API, on DynamoDB Local.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { documentClient, localDynamoClientConfig } from '../../functions/adapters/config.ts';
import { maintenanceSk, sitePk } from '../../functions/adapters/tenancy-items.ts';
import { ErrorBody } from '../../protocol/errors.ts';
import { MaintenanceWindow } from '../../protocol/reseller.ts';
import { type Answer, setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
beforeAll(async () => {
  api = await startApi();
  client = new DynamoDBClient(localDynamoClientConfig(inject('dynamoEndpoint')));
  doc = documentClient(client);
});
afterAll(async () => {
  await api.close();
  client.destroy();
});

const min = 60_000;
const hour = 60 * min;
const now = Date.parse('2026-12-06T13:45:00.000Z');
const at = (offsetMs: number) => new Date(api.clock.ms + offsetMs).toISOString();

interface Site {
  resellerId: string;
  siteId: string;
  key: string;
  keyId: string;
  path: string;
  /** The nodes' enrollment codes. */
  codes: Record<string, string>;
}

/** A fresh reseller and site, the clock at `now`. */
async function site(): Promise<Site> {
  api.clock.ms = now;
  const { resellerId, siteId, key, codes } = await setUpReseller(api);
  const keys = (await api.call('GET', '/v1/api-keys', key)).body as { items: { keyId: string }[] };
  return { resellerId, siteId, key, keyId: keys.items[0]!.keyId, path: `/v1/sites/${siteId}/maintenance`, codes };
}

async function declare(s: Site, start: string, end: string, reason = 'server firmware'): Promise<MaintenanceWindow> {
  const answer = await api.call('POST', s.path, s.key, { start, end, reason });
  expect(answer.status, answer.text).toBe(201);
  return MaintenanceWindow.parse(answer.body);
}

async function list(s: Site): Promise<MaintenanceWindow[]> {
  const answer = await api.call('GET', s.path, s.key);
  expect(answer.status).toBe(200);
  return (answer.body as { items: unknown[] }).items.map((item) => MaintenanceWindow.parse(item));
}

function refused(answer: Answer, status: number, code: string): string {
  expect(answer.status, answer.text).toBe(status);
  const body = ErrorBody.parse(answer.body);
  expect(body.error.code).toBe(code);
  return body.error.message;
}

/** Sends a request that must be refused, and checks that the table is as it was. */
async function refusedUnchanged(send: () => Promise<Answer>, status: number, code: string): Promise<string> {
  const before = await api.snapshot();
  const message = refused(await send(), status, code);
  expect(await api.snapshot()).toEqual(before);
  return message;
}

describe('POST /v1/sites/{siteId}/maintenance: no window in the past', () => {
  it('refuses a start more than 5 min before now (422 maintenance-in-past), and writes nothing', async () => {
    const s = await site();
    const message = await refusedUnchanged(
      () => api.call('POST', s.path, s.key, { start: at(-6 * min), end: at(hour), reason: 'the outage of this morning' }),
      422,
      'maintenance-in-past',
    );
    expect(message).toBe(
      'a maintenance window cannot start in the past (more than 5 min before now, 2026-12-06T13:45:00.000Z): ' +
        'declare it from now on; an outage that already happened stays in the SLA report',
    );
    expect(await list(s)).toEqual([]);
  });

  it('accepts a start 4 min before now, and records who declared it and when', async () => {
    const s = await site();
    const window = await declare(s, at(-4 * min), at(hour));
    expect(window).toMatchObject({
      start: '2026-12-06T13:41:00.000Z',
      declaredAt: '2026-12-06T13:45:00.000Z',
      declaredBy: { kind: 'api-key', keyId: s.keyId },
      changedAt: null,
      changedBy: null,
    });
    expect(await list(s)).toEqual([window]);
  });
});

describe('PATCH /v1/sites/{siteId}/maintenance/{windowId}', () => {
  it('moves a window that has not started: listed once, at its new start, with the change recorded', async () => {
    const s = await site();
    const window = await declare(s, '2026-12-07T20:00:00Z', '2026-12-07T22:00:00Z');
    api.clock.advance(10 * min);
    const moved = await api.call('PATCH', `${s.path}/${window.windowId}`, s.key, {
      start: '2026-12-08T20:00:00Z',
      end: '2026-12-08T23:00:00Z',
    });
    expect(moved.status, moved.text).toBe(200);
    const expected = {
      ...window,
      start: '2026-12-08T20:00:00.000Z',
      end: '2026-12-08T23:00:00.000Z',
      changedAt: '2026-12-06T13:55:00.000Z',
      changedBy: { kind: 'api-key', keyId: s.keyId },
    };
    expect(moved.body).toEqual(expected);
    expect(await list(s)).toEqual([expected]);
    // One item: the old start's is gone, the new one keeps its retention after its new end.
    const items = (await api.snapshot()) as { pk: string; sk: string; windowId?: string; expiresAt?: number }[];
    const stored = items.filter((item) => item.pk === sitePk(s.resellerId, s.siteId) && item.windowId === window.windowId);
    expect(stored.map((item) => item.sk)).toEqual([maintenanceSk('2026-12-08T20:00:00.000Z', window.windowId)]);
    expect(stored[0]?.expiresAt).toBe(Math.ceil((Date.parse('2026-12-08T23:00:00Z') + 400 * 24 * hour) / 1000));
  });

  it('resizes a window that has not started, and changes its reason', async () => {
    const s = await site();
    const window = await declare(s, at(hour), at(3 * hour));
    const changed = await api.call('PATCH', `${s.path}/${window.windowId}`, s.key, { end: at(2 * hour), reason: 'firmware, faster' });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({
      start: window.start,
      end: at(2 * hour),
      reason: 'firmware, faster',
      declaredAt: window.declaredAt,
    });
  });

  it('refuses to move a window that has not started into the past, or to break the window rules', async () => {
    const s = await site();
    const window = await declare(s, at(hour), at(2 * hour));
    const path = `${s.path}/${window.windowId}`;
    const message = await refusedUnchanged(() => api.call('PATCH', path, s.key, { start: at(-10 * min) }), 422, 'maintenance-in-past');
    expect(message).toContain('declare it from now on');
    // Only the end sent, before the stored start: the merged window is checked by the same rules.
    const before = await refusedUnchanged(() => api.call('PATCH', path, s.key, { end: at(30 * min) }), 400, 'invalid-body');
    expect(before).toContain('end must be after start');
    await refusedUnchanged(() => api.call('PATCH', path, s.key, { end: at(hour + 7 * 24 * hour + 1000) }), 400, 'invalid-body');
    await refusedUnchanged(() => api.call('PATCH', path, s.key, {}), 400, 'invalid-body');
    await refusedUnchanged(() => api.call('PATCH', path, s.key, { reason: 'x', extra: 1 }), 400, 'invalid-body');
    await refusedUnchanged(() => api.call('PATCH', `${s.path}/abcdef123456`, s.key, { reason: 'x' }), 404, 'not-found');
  });

  it('a started window: its end cannot be extended or its start changed; it can be shortened, not into the past', async () => {
    const s = await site();
    const window = await declare(s, at(0), at(2 * hour));
    const path = `${s.path}/${window.windowId}`;
    api.clock.advance(30 * min);

    const longer = await refusedUnchanged(() => api.call('PATCH', path, s.key, { end: at(3 * hour) }), 422, 'maintenance-started');
    expect(longer).toContain('cannot be extended: declare a new window from now');
    const moved = await refusedUnchanged(() => api.call('PATCH', path, s.key, { start: at(-2 * hour) }), 422, 'maintenance-started');
    expect(moved).toBe('the window has started: only its end can be brought forward');
    await refusedUnchanged(() => api.call('PATCH', path, s.key, { start: at(10 * min) }), 422, 'maintenance-started');
    const past = await refusedUnchanged(() => api.call('PATCH', path, s.key, { end: at(-10 * min) }), 422, 'maintenance-in-past');
    expect(past).toContain(`end it now with end=${at(0)}`);

    // The same start sent again is no change of it.
    const shorter = await api.call('PATCH', path, s.key, { start: window.start, end: at(15 * min), reason: 'firmware, done early' });
    expect(shorter.status, shorter.text).toBe(200);
    expect(shorter.body).toMatchObject({ start: window.start, end: at(15 * min), reason: 'firmware, done early', changedAt: at(0) });
    expect(await list(s)).toEqual([shorter.body]);
    const { Item } = await doc.send(
      new GetCommand({
        TableName: api.tableName,
        Key: { pk: sitePk(s.resellerId, s.siteId), sk: maintenanceSk(window.start, window.windowId) },
      }),
    );
    expect(Item?.expiresAt).toBe(Math.ceil((api.clock.ms + 15 * min + 400 * 24 * hour) / 1000));
  });

  it('a window that has ended changes no more, not even its reason (422 maintenance-ended)', async () => {
    const s = await site();
    const window = await declare(s, at(0), at(hour));
    api.clock.advance(hour);
    const message = await refusedUnchanged(
      () => api.call('PATCH', `${s.path}/${window.windowId}`, s.key, { reason: 'it was something else' }),
      422,
      'maintenance-ended',
    );
    expect(message).toContain('part of the SLA record');
    await refusedUnchanged(
      () => api.call('PATCH', `${s.path}/${window.windowId}`, s.key, { end: at(-30 * min) }),
      422,
      'maintenance-ended',
    );
  });
});

describe('DELETE /v1/sites/{siteId}/maintenance/{windowId}', () => {
  it('removes a window that has not started', async () => {
    const s = await site();
    const window = await declare(s, at(hour), at(2 * hour));
    expect((await api.call('DELETE', `${s.path}/${window.windowId}`, s.key)).status).toBe(204);
    expect(await list(s)).toEqual([]);
    refused(await api.call('DELETE', `${s.path}/${window.windowId}`, s.key), 404, 'not-found');
  });

  it('ends a running window now instead of removing it', async () => {
    const s = await site();
    const window = await declare(s, at(0), at(2 * hour));
    api.clock.advance(20 * min);
    expect((await api.call('DELETE', `${s.path}/${window.windowId}`, s.key)).status).toBe(204);
    expect(await list(s)).toEqual([{ ...window, end: at(0), changedAt: at(0), changedBy: { kind: 'api-key', keyId: s.keyId } }]);
  });

  it('refuses to remove a window that has ended (422 maintenance-ended)', async () => {
    const s = await site();
    const window = await declare(s, at(0), at(hour));
    api.clock.advance(2 * hour);
    const message = await refusedUnchanged(() => api.call('DELETE', `${s.path}/${window.windowId}`, s.key), 422, 'maintenance-ended');
    expect(message).toBe(`the window ended at ${window.end}: a window that has ended is part of the SLA record and cannot be removed`);
    expect(await list(s)).toEqual([window]);
  });
});

describe('who declared a window, and when', () => {
  it('an agent-declared window names its node', async () => {
    const s = await site();
    const enroll = await api.call('POST', '/v1/node/enroll', undefined, { code: s.codes['node-a'], nodeId: 'node-a' });
    const { token } = enroll.body as { token: string };
    const declared = await api.call('POST', '/v1/node/maintenance', token, { minutes: 30, reason: 'replacing a disk' });
    expect(declared.status, declared.text).toBe(200);
    expect(await list(s)).toEqual([
      {
        windowId: (declared.body as { windowId: string }).windowId,
        start: at(0),
        end: at(30 * min),
        reason: 'replacing a disk',
        declaredAt: at(0),
        declaredBy: { kind: 'node', nodeId: 'node-a' },
        changedAt: null,
        changedBy: null,
      },
    ]);
  });

  it('a window stored before these were recorded still lists (nulls), and can still be changed', async () => {
    const s = await site();
    const start = Date.parse('2026-12-10T20:00:00Z');
    const end = start + 2 * hour;
    await doc.send(
      new PutCommand({
        TableName: api.tableName,
        Item: {
          pk: sitePk(s.resellerId, s.siteId),
          sk: maintenanceSk(new Date(start).toISOString(), 'old0window00'),
          windowId: 'old0window00',
          start,
          end,
          reason: 'old',
          expiresAt: 1,
        },
      }),
    );
    const old = { windowId: 'old0window00', start: '2026-12-10T20:00:00.000Z', end: '2026-12-10T22:00:00.000Z', reason: 'old' };
    expect(await list(s)).toEqual([{ ...old, declaredAt: null, declaredBy: null, changedAt: null, changedBy: null }]);
    const changed = await api.call('PATCH', `${s.path}/old0window00`, s.key, { reason: 'old, renamed' });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toEqual({
      ...old,
      reason: 'old, renamed',
      declaredAt: null,
      declaredBy: null,
      changedAt: at(0),
      changedBy: { kind: 'api-key', keyId: s.keyId },
    });
  });
});

describe('a change decided on a window that changed meanwhile writes nothing', () => {
  it('the store holds each write on the start and end read (the handler answers 409 conflict)', async () => {
    const s = await site();
    const window = await declare(s, at(hour), at(2 * hour));
    const read = await api.api.sites.getMaintenance(s.resellerId, s.siteId, window.windowId);
    if (!read) throw new Error('the window was not found');
    const change = { changedAt: now, changedBy: { kind: 'admin' } as const };
    expect(await api.api.sites.changeMaintenance(s.resellerId, s.siteId, read, { ...read, end: read.end - 10 * min, ...change }, now)).toBe(
      true,
    );
    const after = await api.snapshot();
    // Each of these was decided on the window as first read: its end has changed since.
    expect(await api.api.sites.changeMaintenance(s.resellerId, s.siteId, read, { ...read, reason: 'racing', ...change }, now)).toBe(false);
    expect(
      await api.api.sites.changeMaintenance(
        s.resellerId,
        s.siteId,
        read,
        { ...read, start: read.start + hour, end: read.end + hour, ...change },
        now,
      ),
    ).toBe(false);
    expect(await api.api.sites.deleteMaintenance(s.resellerId, s.siteId, read, now)).toBe(false);
    expect(await api.snapshot()).toEqual(after);
  });
});
