/**
 * Tenant isolation, route by route (the table protocol/api-routes.ts declares, plus the node
 * protocol's of protocol/node-routes.ts): with two resellers A and B set up in one table, every route is called
 * on A's records (path parameters naming A's site, customer, key, window, node) with every
 * credential that must not reach them. Each refusal is a 401, 403 or 404 with DESIGN.md's error
 * shape, and the whole table is deep-equal before and after it. Where B's key acts on B's own
 * data (lists and creations without path parameters), B never sees A's records and A's items
 * stay as they were.
 *
 * Each route needs a valid request (test/support/hostile-tenants.ts, `routeFixtures`): a route
 * added to the table without one fails here, and the fixtures are proved valid (by the route's
 * schemas, and by the route succeeding for its owner) so that a refusal is the credential's.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resellerPk, resellerSitesPkPrefix, resellerSk } from '../../functions/adapters/tenancy-items.ts';
import { ErrorBody } from '../../protocol/errors.ts';
import { PathParam } from '../../protocol/api-routes.ts';
import { type Answer, startApi, type TestApi } from '../support/api.ts';
import {
  allTargets,
  fillPath,
  paramValue,
  prepareTenant,
  routeFixtures,
  setUpTenant,
  type Target,
  type Tenant,
  wrongSecretKey,
} from '../support/hostile-tenants.ts';

let api: TestApi;
let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  api = await startApi();
  a = await setUpTenant(api, 'tenant-a');
  b = await setUpTenant(api, 'tenant-b');
  await prepareTenant(api, a);
  await prepareTenant(api, b);
});
afterAll(() => api.close());

const targets = allTargets();

function fixtureOf(target: Target) {
  const fixture = routeFixtures[target.key];
  if (!fixture)
    throw new Error(`route ${target.key} has no fixture: add a valid request for it to routeFixtures in test/support/hostile-tenants.ts`);
  return fixture;
}

/** A's (or the given tenant's) request on this route: path naming its records, a valid query and body. */
function requestOf(target: Target, tenant: Tenant, options: { refusable?: boolean } = {}) {
  const fixture = fixtureOf(target);
  const query = fixture.query ? `?${new URLSearchParams(fixture.query(tenant)).toString()}` : '';
  // A public route takes no credential: the refusals are made with one nobody issued (a code, a link).
  const forged = target.access === 'public' && options.refusable ? fixture.forged?.(tenant) : undefined;
  if (target.access === 'public' && options.refusable && !forged) throw new Error(`public route ${target.key} needs a \`forged\` fixture`);
  const body = forged ? forged.body : fixture.body?.(tenant);
  return { path: `${fillPath(target.template, (name) => forged?.params?.[name] ?? paramValue(tenant, name))}${query}`, body };
}

/** Every item of the table that belongs to the tenant: its reseller record, its partitions, its enrollment codes. */
function itemsOf(items: unknown[], tenant: Tenant): unknown[] {
  return items.filter((item) => {
    const { pk, sk, resellerId } = item as { pk?: unknown; sk?: unknown; resellerId?: unknown };
    return (
      String(pk).startsWith(resellerPk(tenant.resellerId)) ||
      String(pk).startsWith(resellerSitesPkPrefix(tenant.resellerId)) ||
      String(sk) === resellerSk(tenant.resellerId) ||
      resellerId === tenant.resellerId
    );
  });
}

/** Strings that only A's records contain: none may appear in an answer to B. */
const markersOf = (tenant: Tenant) => [
  tenant.resellerId,
  tenant.siteId,
  tenant.customerId,
  tenant.nodeId,
  tenant.rwKeyId,
  tenant.roKeyId,
  tenant.revokedKeyId,
  tenant.windowId,
];

const errorCodes = new Set<string>(ErrorBody.shape.error.shape.code.options);

function expectErrorShape(answer: Answer, label: string): void {
  const parsed = ErrorBody.safeParse(answer.body);
  expect.soft(parsed.success, `${label}: the body has the error shape: ${answer.text}`).toBe(true);
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  expect
    .soft(
      typeof error?.code === 'string' && errorCodes.has(error.code),
      `${label}: error.code is one of protocol/errors.ts: ${answer.text}`,
    )
    .toBe(true);
  expect.soft(typeof error?.message, `${label}: error.message is a string`).toBe('string');
}

/** The table as of the last call: each refused call compares against it (one scan per call). */
let table: unknown[] | undefined;

async function expectRefused(label: string, allowed: readonly number[], send: () => Promise<Answer>): Promise<void> {
  const before = table ?? (await api.snapshot());
  const answer = await send();
  const after = await api.snapshot();
  table = after;
  expect.soft(allowed, `${label}: status ${answer.status} ${answer.text}`).toContain(answer.status);
  expectErrorShape(answer, label);
  expect.soft(after, `${label}: the table is unchanged`).toEqual(before);
}

interface Credential {
  name: string;
  token: () => string | undefined;
}

/** Credentials that never pass authentication for anything but a public route. */
const badCredentials: Credential[] = [
  { name: "A's node token", token: () => a.nodeToken },
  { name: "A's revoked API key", token: () => a.revokedKey },
  { name: "A's key id with a wrong secret", token: () => wrongSecretKey(a) },
  { name: "B's key relabelled with A's reseller id", token: () => b.rwKey.replace(`tbk.${b.resellerId}.`, `tbk.${a.resellerId}.`) },
  { name: 'no Authorization header', token: () => undefined },
];

/** What each credential must get on each route, if it is refused there at all. */
function refusals(target: Target): { credential: Credential; allowed: readonly number[] }[] {
  const unauthorized = [401] as const;
  const forbidden = [403] as const;
  const hidden = [404] as const;
  const bKey: Credential = { name: "B's read-write key", token: () => b.rwKey };
  const roKey: Credential = { name: "A's read-only key", token: () => a.roKey };
  const rwKey: Credential = { name: "A's read-write key", token: () => a.rwKey };
  const admin: Credential = { name: 'the admin key', token: () => api.adminKey };
  switch (target.access) {
    case 'public':
      // The code is the credential: with a code no site issued, whatever else is presented, 401.
      return [...badCredentials, bKey, roKey, rwKey, admin].map((credential) => ({ credential, allowed: unauthorized }));
    case 'node':
      return [...badCredentials.filter((c) => c.name !== "A's node token"), bKey, roKey, rwKey, admin].map((credential) => ({
        credential,
        allowed: unauthorized,
      }));
    case 'admin':
      return [
        ...badCredentials.map((credential) => ({ credential, allowed: unauthorized })),
        ...[bKey, roKey, rwKey].map((credential) => ({ credential, allowed: forbidden })),
      ];
    case 'read':
    case 'write':
      return [
        ...badCredentials.map((credential) => ({ credential, allowed: unauthorized })),
        { credential: admin, allowed: forbidden },
        ...(target.access === 'write' ? [{ credential: roKey, allowed: forbidden }] : []),
        // B's key on a route naming A's records: B cannot even learn that they exist.
        ...(target.params.length > 0 ? [{ credential: bKey, allowed: hidden }] : []),
      ];
  }
}

describe('the fixtures', () => {
  test('every route of apiRoutes (and the node protocol) has a fixture, valid for its schemas', () => {
    const missing = targets.filter((target) => !routeFixtures[target.key]).map((target) => target.key);
    expect(missing, 'routes without a fixture in test/support/hostile-tenants.ts').toEqual([]);
    for (const target of targets) {
      const fixture = fixtureOf(target);
      for (const name of target.params) expect(PathParam.safeParse(paramValue(a, name)).success, `${target.key} {${name}}`).toBe(true);
      // A signed route reads its raw body: its fixture's body is what its headers sign.
      expect(Boolean(fixture.body), `${target.key}: a fixture body exactly when the route takes one`).toBe(
        Boolean(target.body) || Boolean(fixture.headers),
      );
      if (fixture.query) expect(Boolean(target.query), `${target.key}: fixture query parameters only when the route takes some`).toBe(true);
      if (target.body) expect(target.body.safeParse(fixture.body?.(a)).success, `${target.key}: the fixture body is valid`).toBe(true);
      if (target.query)
        expect(target.query.safeParse(fixture.query?.(a) ?? {}).success, `${target.key}: the fixture query is valid`).toBe(true);
    }
  });

  test("each route's fixture succeeds for its owner (so refusals below are the credential's)", async () => {
    // On a table of its own: reads share one tenant; every other route gets a fresh one, since
    // some of them revoke, rotate or delete what another would use.
    const own = await startApi();
    try {
      const reads = targets.filter((target) => target.method === 'GET');
      const others = targets.filter((target) => target.method !== 'GET');
      const shared = await setUpTenant(own, 'owner-reads');
      const fresh: Tenant[] = [];
      for (let i = 0; i < others.length; i += 4) {
        fresh.push(...(await Promise.all(others.slice(i, i + 4).map((_, j) => setUpTenant(own, `owner-${i + j}`)))));
      }
      const runs = [...reads.map((target) => [target, shared] as const), ...others.map((target, i) => [target, fresh[i]!] as const)];
      for (const [target, tenant] of runs) {
        await prepareTenant(own, tenant, [target.key]);
        const token = { public: undefined, admin: own.adminKey, read: tenant.roKey, write: tenant.rwKey, node: tenant.nodeToken }[
          target.access
        ];
        const { path, body } = requestOf(target, tenant);
        const answer = await own.call(target.method, path, token, body, fixtureOf(target).headers?.(tenant, own.clock.now()));
        expect.soft(answer.status, `${target.key} by its owner: ${answer.text}`).toBe(target.status);
      }
    } finally {
      await own.close();
    }
  });
});

describe.each(targets.map((target) => [target.key, target] as const))('%s', (_, target) => {
  test('refuses every credential that may not reach A’s records, and changes nothing', async () => {
    const { path, body } = requestOf(target, a, { refusable: true });
    for (const { credential, allowed } of refusals(target)) {
      await expectRefused(`${target.key} with ${credential.name}`, allowed, () => api.call(target.method, path, credential.token(), body));
    }
  });

  if (target.params.length === 0 && (target.access === 'read' || target.access === 'write')) {
    test("B's key acts on B's own data only: no record of A in the answer, A's items unchanged", async () => {
      const { path, body } = requestOf(target, a);
      const before = await api.snapshot();
      const answer = await api.call(target.method, path, b.rwKey, body);
      const after = await api.snapshot();
      table = after;
      const label = `${target.key} with B's key`;
      if (answer.status >= 400) {
        // A fixture naming one of A's records (a site of A's customer, the report of A's site): B cannot use it.
        expect.soft([404], `${label}: ${answer.status} ${answer.text}`).toContain(answer.status);
        expectErrorShape(answer, label);
        expect.soft(after, `${label}: the table is unchanged`).toEqual(before);
      } else {
        expect.soft(answer.status, `${label}: ${answer.text}`).toBe(target.status);
        for (const marker of markersOf(a)) expect.soft(answer.text, `${label}: the answer names A's ${marker}`).not.toContain(marker);
        expect.soft(itemsOf(after, a), `${label}: A's items are unchanged`).toEqual(itemsOf(before, a));
      }
    });
  }
});

describe("B's view of the shared names", () => {
  test('lists of B hold only B’s records, and B’s `main-office`/`dental` are not A’s', async () => {
    for (const list of ['/v1/sites', '/v1/customers', '/v1/api-keys']) {
      const answer = await api.call('GET', `${list}?limit=100`, b.rwKey);
      expect(answer.status).toBe(200);
      for (const marker of markersOf(a)) expect.soft(answer.text, `GET ${list} by B names A's ${marker}`).not.toContain(marker);
    }
    const keys = (await api.call('GET', '/v1/api-keys?limit=100', b.rwKey)).body as { items: { keyId: string }[] };
    expect(keys.items.map((key) => key.keyId)).toEqual(expect.arrayContaining([b.rwKeyId, b.roKeyId, b.revokedKeyId]));

    // Both tenants have a site `main-office`: A enrolls node-a there, and B's stays unenrolled.
    const { codes } = await (async () => {
      const code = await api.call('POST', '/v1/sites/main-office/nodes/node-a/enrollment', a.rwKey);
      expect(code.status).toBe(201);
      return { codes: code.body as { code: string } };
    })();
    expect((await api.call('POST', '/v1/node/enroll', undefined, { code: codes.code, nodeId: 'node-a' })).status).toBe(200);
    const mine = (await api.call('GET', '/v1/sites/main-office', a.rwKey)).body as { nodes: { nodeId: string; enrolled: boolean }[] };
    const theirs = (await api.call('GET', '/v1/sites/main-office', b.rwKey)).body as { nodes: { nodeId: string; enrolled: boolean }[] };
    expect(mine.nodes.find((n) => n.nodeId === 'node-a')?.enrolled).toBe(true);
    expect(theirs.nodes.find((n) => n.nodeId === 'node-a')?.enrolled).toBe(false);
    table = undefined;
  });

  test("a cursor of A's list is refused on B's list", async () => {
    const page = (await api.call('GET', '/v1/api-keys?limit=1', a.rwKey)).body as { nextCursor: string | null };
    expect(page.nextCursor).not.toBeNull();
    await expectRefused("GET /v1/api-keys by B with A's cursor", [400], () =>
      api.call('GET', `/v1/api-keys?cursor=${page.nextCursor}`, b.rwKey),
    );
  });
});
