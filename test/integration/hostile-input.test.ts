/**
 * Hostile input (DESIGN.md, "Testing the contract"): every route — the reseller API's table and
 * the node protocol's — is sent requests built to be refused: wrong types, missing and extra
 * fields, huge strings and arrays, 5,000 levels of nesting, `__proto__`/`constructor`/`prototype`
 * keys (raw JSON text; in free-form objects too, with values they accept), invalid UTF-8, numbers out of range, duplicated keys, hostile path segments and
 * query strings, broken Authorization headers, wrong methods and content types. Each must be
 * answered with a 4xx and DESIGN.md's error shape, never a 5xx and never a success, and must
 * change nothing: the whole table is compared before and after every batch of requests.
 *
 * Whether a request is invalid is decided by an oracle independent of the handler's code path
 * (route matching as API Gateway does it, the credential's kind against the route's access, the
 * route's own schemas for path, query and body, a reserved key anywhere in the body (zod's records
 * skip `__proto__` unseen: the schema alone called such a body valid), the 16 KiB limit, strict
 * UTF-8): a request the
 * generator made invalid carries the reasons (`defects`). Requests that may be valid (edge cases
 * on the valid side, and their random variations) are only held to "never a 5xx", and to a 4xx
 * with the error shape if refused.
 *
 * First a fixed sweep per route (every kind of hostility, each route: a route without a fixture
 * in test/support/hostile-tenants.ts fails here), then fast-check's random batches across all
 * routes (HOSTILE_SEED=<n> repeats a run), /openapi.json with garbage, then the may-be-valid
 * requests. Node's own HTTP parser answers a request line it cannot read (a method it does not
 * know, a raw non-ASCII byte in the path) with a bare 400 before any route; those are counted,
 * and held only to "a 4xx".
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  apiKeySkPrefix,
  customerSkPrefix,
  eventSkPrefix,
  maintenanceSkPrefix,
  resellerPk,
  resellerSkPrefix,
  resellersPk,
  siteListingSkPrefix,
  sitePk,
} from '../../functions/adapters/tenancy-items.ts';
import { matchRoute, type Routes } from '../../local/http-server.ts';
import { PathParam } from '../../protocol/api-routes.ts';
import { ErrorBody } from '../../protocol/errors.ts';
import { maxBodyBytes } from '../../protocol/node.ts';
import { startApi, type TestApi } from '../support/api.ts';
import {
  allTargets,
  fillPath,
  paramValue,
  prepareTenant,
  rawAgent,
  type RawAnswer,
  rawRequest,
  routeFixtures,
  setUpTenant,
  type Target,
  type Tenant,
  wrongSecretKey,
} from '../support/hostile-tenants.ts';

/** Random batches of the fast-check property (each of `batchSize` concurrent requests). */
const randomBatches = 450;
const batchSize = 8;
/** Random batches of requests that may be valid. */
const mayBeValidBatches = 50;
const seed = Number(process.env.HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonPath = (string | number)[];

type CredentialKind = 'none' | 'bad' | 'admin' | 'read-only' | 'read-write' | 'node';
interface Credential {
  name: string;
  header: string | undefined;
  kind: CredentialKind;
}

/** One request, exactly as sent, and why the generator expects it to be refused (empty: it may be valid). */
interface Hostile {
  target: string;
  method: string;
  /** Path and query string, raw. */
  path: string;
  credential: Credential;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  defects: string[];
}

const targets = allTargets();
const targetByKey = new Map(targets.map((target) => [target.key, target]));
/** The route table the local server (and API Gateway) matches against. */
const routeTable = Object.fromEntries(
  [...targets.map((t) => t.key), 'GET /openapi.json'].map((key) => [key, undefined]),
) as unknown as Routes;

let api: TestApi;
let a: Tenant;
let b: Tenant;
const agent = rawAgent();
let sent = 0;
/** Answers by status, for requests made to be refused and for those that may be valid. */
const statuses: Record<string, Record<string, number>> = {};
/** Requests Node's HTTP parser refused before any route (bare 400s). */
let parserRefusals = 0;
/** The table after the last batch: each batch of refused requests must leave it as it was. */
let table: unknown[] = [];
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  api = await startApi();
  a = await setUpTenant(api, 'tenant-a');
  b = await setUpTenant(api, 'tenant-b');
  await prepareTenant(api, a);
  table = await api.snapshot();
});
afterAll(async () => {
  console.log(`hostile requests tried: ${sent}`);
  console.log(`answers by status: ${JSON.stringify(statuses)}; bare 400s of Node's HTTP parser (before any route): ${parserRefusals}`);
  agent.destroy();
  await api.close();
});

// ---------------------------------------------------------------------------------------------
// The oracle: is this request one the service must refuse, and why?

const utf8 = new TextDecoder('utf-8', { fatal: true });
const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');

function credentialAllows(access: Target['access'], kind: CredentialKind): boolean {
  switch (access) {
    case 'public':
      return true;
    case 'admin':
      return kind === 'admin';
    case 'read':
      return kind === 'read-only' || kind === 'read-write';
    case 'write':
      return kind === 'read-write';
    case 'node':
      return kind === 'node';
  }
}

function queryDefect(target: Target, url: URL): string | undefined {
  const raw = url.search.slice(1);
  // The node protocol's endpoints do not read the query string: one there changes nothing.
  if (target.access === 'node') return undefined;
  if (!target.query) return raw ? 'a query on a route that takes none' : undefined;
  // As API Gateway passes them: a repeated parameter's values joined with commas.
  const params = raw ? Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k).join(',')])) : {};
  if (!target.query.safeParse(params).success) return 'the query fails its schema';
  if (typeof params.cursor === 'string' && params.cursor !== '' && !ownCursor(target, params.cursor))
    return "a cursor not of the caller's list";
  return undefined;
}

/** Each list's partition and sort-key prefix, for tenant A (functions/adapters/tenancy-items.ts). */
function listOf(targetKey: string): [string, string] | undefined {
  const lists: Record<string, [string, string]> = {
    'GET /v1/resellers': [resellersPk, resellerSkPrefix],
    'GET /v1/api-keys': [resellerPk(a.resellerId), apiKeySkPrefix],
    'GET /v1/customers': [resellerPk(a.resellerId), customerSkPrefix],
    'GET /v1/sites': [resellerPk(a.resellerId), siteListingSkPrefix],
    'GET /v1/sites/{siteId}/maintenance': [sitePk(a.resellerId, a.siteId), maintenanceSkPrefix],
    'GET /v1/sites/{siteId}/events': [sitePk(a.resellerId, a.siteId), eventSkPrefix],
  };
  return lists[targetKey];
}

/**
 * A cursor the service accepts by design (functions/adapters/pagination.ts): a key of the very
 * partition and prefix the caller is listing, wherever in it; it can only skip forward.
 */
function ownCursor(target: Target, cursor: string): boolean {
  const list = listOf(target.key);
  if (!list) return false;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  if (typeof key !== 'object' || key === null || Object.keys(key).length !== 2) return false;
  const { pk, sk } = key as { pk?: unknown; sk?: unknown };
  return pk === list[0] && typeof sk === 'string' && sk.startsWith(list[1]);
}

/**
 * Keys no body may have anywhere (protocol/reserved-keys.ts): strict objects refuse every unknown
 * key, free-form ones these. Written out here, not imported: the oracle does not lean on the code
 * it judges.
 */
const reservedNames = new Set(['__proto__', 'constructor', 'prototype']);

/** The first reserved key in the parsed body, at any depth (own keys: JSON.parse makes `"__proto__"` one); iterative, for deep bodies. */
function reservedKeyIn(json: unknown): string | undefined {
  const pending: unknown[] = [json];
  while (pending.length > 0) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) pending.push(...(node as unknown[]));
    else {
      const found = Object.keys(node).find((key) => reservedNames.has(key));
      if (found) return found;
      pending.push(...Object.values(node as Record<string, unknown>));
    }
  }
  return undefined;
}

function bodyDefect(target: Target, body: Uint8Array | undefined): string | undefined {
  if (!target.body) return body && body.length > 0 ? 'a body on a route that takes none' : undefined;
  if (!body || body.length === 0) return 'no body';
  if (body.length > maxBodyBytes) return 'a body over 16 KiB';
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body));
  } catch {
    return 'a body that is not JSON in UTF-8';
  }
  const reserved = reservedKeyIn(json);
  if (reserved) return `a reserved key (${reserved}) in the body`;
  if (!target.body.safeParse(json).success) return 'the body fails its schema';
  if (target.access === 'public') return 'an enrollment code no site issued';
  return undefined;
}

function defectsOf(method: string, path: string, credential: Credential, body: Uint8Array | undefined): string[] {
  const url = new URL(path, 'http://localhost');
  const match = matchRoute(routeTable, method, url.pathname);
  const target = match ? targetByKey.get(match.routeKey) : undefined;
  if (!match || !target) return [match ? 'not a route of the API' : 'no such route'];
  const defects: string[] = [];
  if (!credentialAllows(target.access, credential.kind)) defects.push(`credential: ${credential.name}`);
  for (const name of target.params) {
    const value = match.pathParameters?.[name];
    if (value === undefined || !PathParam.safeParse(value).success) defects.push(`path parameter ${name} fails its schema`);
    // Hostile segments never name a record (and B's ids are not A's).
    else if (value !== paramValue(a, name)) defects.push(`path parameter ${name} names no record of A`);
  }
  const query = queryDefect(target, url);
  if (query) defects.push(query);
  const bodyProblem = bodyDefect(target, body);
  if (bodyProblem) defects.push(bodyProblem);
  return defects;
}

// ---------------------------------------------------------------------------------------------
// Building requests: the route's valid request for tenant A, with parts replaced.

function baselineCredential(target: Target): Credential {
  switch (target.access) {
    case 'public':
      return { name: 'none', header: undefined, kind: 'none' };
    case 'admin':
      return { name: 'the admin key', header: `Bearer ${api.adminKey}`, kind: 'admin' };
    case 'read':
      return { name: "A's read-only key", header: `Bearer ${a.roKey}`, kind: 'read-only' };
    case 'write':
      return { name: "A's read-write key", header: `Bearer ${a.rwKey}`, kind: 'read-write' };
    case 'node':
      return { name: "A's node token", header: `Bearer ${a.nodeToken}`, kind: 'node' };
  }
}

function baselineBody(target: Target): Json | undefined {
  // A public route's credential: an enrollment code no site issued (a link's is in its path).
  if (target.access === 'public') return routeFixtures[target.key]?.forged?.(a).body as Json | undefined;
  return routeFixtures[target.key]?.body?.(a) as Json | undefined;
}

function baselineQuery(target: Target): [string, string][] {
  return Object.entries(routeFixtures[target.key]?.query?.(a) ?? {});
}

const encodeQuery = (entries: readonly (readonly [string, string])[]) =>
  entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

interface Parts {
  method?: string;
  pathname?: string;
  /** The raw query string after `?` (empty: none). */
  query?: string;
  /** null: no body at all. */
  body?: Uint8Array | null;
  credential?: Credential;
  headers?: Record<string, string>;
}

function build(target: Target, parts: Parts = {}): Hostile {
  const method = parts.method ?? target.method;
  const pathname = parts.pathname ?? fillPath(target.template, (name) => paramValue(a, name));
  const query = parts.query ?? encodeQuery(baselineQuery(target));
  const path = query ? `${pathname}?${query}` : pathname;
  const base = baselineBody(target);
  const body = parts.body === null ? undefined : (parts.body ?? (base === undefined ? undefined : bytes(JSON.stringify(base))));
  const credential = parts.credential ?? baselineCredential(target);
  const headers: Record<string, string> = {
    ...(body ? { 'content-type': 'application/json' } : {}),
    ...(credential.header === undefined ? {} : { authorization: credential.header }),
    ...parts.headers,
  };
  return { target: target.key, method, path, credential, headers, body, defects: defectsOf(method, path, credential, body) };
}

function describeRequest(request: Hostile): string {
  const cut = (text: string, n: number) => (text.length > n ? `${text.slice(0, n)}…(${text.length} chars)` : text);
  let body = 'none';
  if (request.body) {
    try {
      body = JSON.stringify(cut(utf8.decode(request.body), 160));
    } catch {
      body = `bytes ${Buffer.from(request.body.subarray(0, 48)).toString('hex')}${request.body.length > 48 ? `…(${request.body.length} bytes)` : ''}`;
    }
  }
  const headers = Object.entries(request.headers)
    .filter(([name]) => name !== 'authorization')
    .map(([name, value]) => `${name}: ${cut(value, 60)}`);
  return `${request.method} ${cut(request.path, 160)} [auth: ${request.credential.name}]${headers.length ? ` [${headers.join('; ')}]` : ''} body: ${body}; defects: ${request.defects.join(', ') || 'none'}`;
}

// ---------------------------------------------------------------------------------------------
// JSON surgery, for bodies that JSON.stringify cannot write (raw fragments, `__proto__` keys).

const rawMark = 'RAW-MARK-4d1c';
const keyMark = 'KEY-MARK-4d1c';

function clone(value: Json): Json {
  return structuredClone(value);
}

/** Sets (or with `undefined`, deletes) the value at `path`, on a copy; own properties even for `__proto__`. */
function setAt(root: Json, path: JsonPath, value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const copy = clone(root);
  let node: Json = copy;
  for (const step of path.slice(0, -1)) node = (node as Record<string | number, Json>)[step] ?? null;
  const last = path[path.length - 1]!;
  if (node === null || typeof node !== 'object') return copy;
  if (value === undefined) {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else Reflect.deleteProperty(node, last);
  } else Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

function allPaths(value: Json, prefix: JsonPath = []): JsonPath[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => [[...prefix, i], ...allPaths(item, [...prefix, i])]);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, item]) => [[...prefix, k], ...allPaths(item, [...prefix, k])]);
  return [];
}

function objectPaths(value: Json, prefix: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== 'object') return [];
  const children = Array.isArray(value)
    ? value.map((item, i) => [item, i] as const)
    : Object.entries(value).map(([k, item]) => [item, k] as const);
  const own = Array.isArray(value) ? [] : [prefix];
  return [...own, ...children.flatMap(([item, step]) => objectPaths(item, [...prefix, step]))];
}

/** The body's JSON text with the value at `path` replaced by a raw fragment. */
function withRaw(root: Json, path: JsonPath, fragment: string): string {
  if (path.length === 0) return fragment;
  return JSON.stringify(setAt(root, path, rawMark)).replace(JSON.stringify(rawMark), () => fragment);
}

/** The body's JSON text with a raw `"key": value` entry added to the object at `path` (as its last entry). */
function withRawEntry(root: Json, path: JsonPath, entry: string): string {
  const marked = setAt(root, [...path, keyMark], rawMark);
  return JSON.stringify(marked).replace(`${JSON.stringify(keyMark)}:${JSON.stringify(rawMark)}`, () => entry);
}

const valueAt = (root: Json, path: JsonPath): Json | undefined =>
  path.reduce<Json | undefined>(
    (node, step) => (node !== null && typeof node === 'object' ? (node as Record<string | number, Json>)[step] : undefined),
    root,
  );

/** A value of another JSON type than `value`. */
function otherType(value: Json | undefined): Json {
  if (typeof value === 'string') return 12345;
  if (typeof value === 'number') return '12345';
  if (typeof value === 'boolean') return 'true';
  if (Array.isArray(value)) return { 0: 'a' };
  if (value === null) return 0;
  return [];
}

const deep = {
  array: (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`,
  object: (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  unclosed: (depth: number) => '['.repeat(depth),
};

const invalidUtf8 = [
  [0xc3, 0x28],
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
];

function spliceBytes(text: string, at: number, inserted: readonly number[]): Uint8Array {
  const buffer = Buffer.from(text, 'utf8');
  const i = at % (buffer.length + 1);
  return Buffer.concat([buffer.subarray(0, i), Buffer.from(inserted), buffer.subarray(i)]);
}

/** The position just inside the first string value of the body's text (or 0). */
function insideFirstString(text: string): number {
  const match = /:"/.exec(text);
  return match ? Buffer.byteLength(text.slice(0, match.index + 2)) : 0;
}

const rawNumbers = [
  '1e309',
  '-1e309',
  '-1',
  '1152921504606846976',
  'NaN',
  'Infinity',
  '-Infinity',
  '1.5',
  '0x10',
  '01',
  '1e-400',
  '-0',
  '+1',
  '.5',
  '1.',
  '9007199254740993',
  '1e400',
  '123456789012345678901234567890',
];

const protoEntries = [
  '"__proto__":{"admin":true}',
  '"constructor":{"prototype":{"admin":true}}',
  '"__proto__":null',
  '"__proto__":[]',
  '"\\u005f_proto__":{"polluted":1}',
  '"prototype":{"admin":true}',
  '"__proto__":{"__proto__":{"admin":true}}',
  '"toString":"x"',
  '"hasOwnProperty":1',
];

/** Reserved keys as raw JSON keys (one spelled with an escape, which JSON.parse decodes to `__proto__`). */
const reservedSpellings = ['"__proto__"', '"\\u005f_proto__"', '"constructor"', '"prototype"'];

/**
 * Each object of the body with a reserved key beside its entries, and with only that key, whose
 * value is one the object takes (its first entry's): refused for the key, never for the value. A
 * free-form object (an integration's mapping, a heartbeat's checks) otherwise accepts the value: a
 * mapping of `{"__proto__": …}` was stored empty, and `{"constructor": …}` was a 500.
 */
function reservedKeyBodies(base: Json): string[] {
  return objectPaths(base).flatMap((path) => {
    const sibling = Object.values(valueAt(base, path) as Record<string, Json>)[0];
    if (sibling === undefined) return [];
    const value = JSON.stringify(sibling);
    return reservedSpellings.flatMap((key) => [withRawEntry(base, path, `${key}:${value}`), withRaw(base, path, `{${key}:${value}}`)]);
  });
}

const notObjects = [
  '[]',
  'null',
  '42',
  '"string"',
  'true',
  '',
  ' ',
  '{',
  '}',
  '{"a":1}{"b":2}',
  '[{}]',
  '{}',
  'undefined',
  "{'a':1}",
  '{"a":1,}',
  '/*c*/{}',
  '\u0000',
  '{"":""}',
  '\ufeff',
];

// ---------------------------------------------------------------------------------------------
// Credentials

/** One character of the signature changed (not the last: its low bits are padding). */
function tampered(token: string): string {
  const i = token.length - 5;
  return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
}

function credentials(): Credential[] {
  const bad = (name: string, header: string | undefined): Credential => ({ name, header, kind: header === undefined ? 'none' : 'bad' });
  return [
    bad('no Authorization header', undefined),
    bad('Bearer without a token', 'Bearer'),
    bad('Bearer and a space', 'Bearer '),
    bad('Basic scheme', `Basic ${Buffer.from('admin:admin').toString('base64')}`),
    bad('Token scheme', `Token ${a.rwKey}`),
    bad('a key without a scheme', a.rwKey),
    bad('a key and more', `Bearer ${a.rwKey} extra`),
    bad('two spaces', `Bearer  ${a.rwKey}`),
    bad('10 KB of token', `Bearer ${'A'.repeat(10_240)}`),
    bad('10 KB of header', 'x'.repeat(10_240)),
    bad('a key with one more character', `Bearer ${a.rwKey}x`),
    bad("A's key id with a wrong secret", `Bearer ${wrongSecretKey(a)}`),
    bad("A's revoked key", `Bearer ${a.revokedKey}`),
    bad("B's key relabelled as A's", `Bearer ${b.rwKey.replace(`tbk.${b.resellerId}.`, `tbk.${a.resellerId}.`)}`),
    bad('a tampered node token', `Bearer ${tampered(a.nodeToken)}`),
    bad('a node token of garbage', `Bearer tb1.e30.${'A'.repeat(43)}`),
    bad('latin-1 in the token', 'Bearer caf\u00e9'),
    { name: 'the admin key', header: `Bearer ${api.adminKey}`, kind: 'admin' },
    { name: "A's read-only key", header: `Bearer ${a.roKey}`, kind: 'read-only' },
    { name: "A's read-write key", header: `Bearer ${a.rwKey}`, kind: 'read-write' },
    { name: "A's node token", header: `Bearer ${a.nodeToken}`, kind: 'node' },
  ];
}

function credentialArb(): fc.Arbitrary<Credential> {
  const printable = fc.constantFrom(
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~+/=!#$%&*:;<>?@[]^`{|}'.split(''),
  );
  return fc.oneof(
    fc.constantFrom(...credentials()),
    fc
      .string({ unit: printable, minLength: 1, maxLength: 600 })
      .map((token): Credential => ({ name: `random token ${token.slice(0, 20)}`, header: `Bearer ${token}`, kind: 'bad' })),
    fc
      .string({ unit: printable, minLength: 1, maxLength: 40 })
      .map((token): Credential => ({ name: 'tbk. and garbage', header: `Bearer tbk.${a.resellerId}.${token}`, kind: 'bad' })),
  );
}

// ---------------------------------------------------------------------------------------------
// Paths

const percentEncodeBytes = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

function hostileSegments(name: string): string[] {
  const ofB: Record<string, string> = {
    siteId: b.siteId,
    customerId: b.customerId,
    keyId: b.roKeyId,
    windowId: b.windowId,
    nodeId: b.nodeId,
    endpointId: b.endpointId,
    messageId: b.messageId,
    integrationId: b.integrationId,
  };
  return [
    '..%2F..',
    '..%2f..%2f..%2f..%2fetc%2fpasswd',
    '%00',
    `${paramValue(a, name)}%00`,
    '%2e%2e',
    '..',
    '.',
    '%',
    '%zz',
    '%C3%28',
    '%FF%FE',
    'x'.repeat(200),
    'A'.repeat(65),
    'Z'.repeat(49),
    '%E2%80%AE',
    encodeURIComponent('ñandú'),
    encodeURIComponent('🦄'),
    'caf\u00e9',
    '%20',
    '+',
    "'%20OR%201%3D1--",
    '%3Cscript%3E',
    `RESELLER%23${b.resellerId}`,
    encodeURIComponent(`${paramValue(a, name)}/..`),
    paramValue(a, name).toUpperCase(),
    ofB[name] ?? 'nothing',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'prototype',
    'NaN',
    'null',
    'undefined',
    '%7B%7D',
    '*',
    '$%7B7*7%7D',
    'a;b',
    '%0d%0aX-Injected:%201',
    '~',
  ];
}

/** The route's path with parameter `index` replaced by a raw segment. */
function withSegment(target: Target, index: number, segment: string): string {
  const name = target.params[index % target.params.length]!;
  return fillPath(target.template, (param) => (param === name ? segment : encodeURIComponent(paramValue(a, param))), true);
}

const mangles: ((path: string) => string)[] = [
  (p) => `${p}/`,
  (p) => `${p}//`,
  (p) => p.replace('/v1/', '/v1//'),
  (p) => p.toUpperCase(),
  (p) => p.replace('/v1/', '/v2/'),
  (p) => p.replace('/v1/', '/V1/'),
  (p) => p.replace('/v1/', '/%761/'),
  (p) => `${p}%00`,
  (p) => `${p}.json`,
  (p) => `${p}/..;/`,
  (p) => `${p}/${'x'.repeat(200)}`,
  (p) => `/${p}`.replace('//', '/./../x/'),
  (p) => `/api${p}`,
  (p) => p.replace(/\/[^/]+$/, '/%2e%2e'),
];

// ---------------------------------------------------------------------------------------------
// Queries

function crossCursors(): string[] {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    b64({ pk: resellerPk(b.resellerId), sk: 'CUSTOMER#dental' }),
    b64({ pk: resellerPk(b.resellerId), sk: 'SITE#main-office' }),
    b64({ pk: sitePk(b.resellerId, b.siteId), sk: 'MAINT#' }),
    b64({ pk: sitePk(b.resellerId, b.siteId), sk: 'EVENT#' }),
    b64({ pk: resellerPk(a.resellerId), sk: 'ZZZ#' }),
    b64({ pk: resellerPk(a.resellerId), sk: 5 }),
    b64({ pk: resellerPk(a.resellerId), sk: 'APIKEY#', extra: 1 }),
    b64({ pk: resellerPk(a.resellerId) }),
    b64(null),
    b64([]),
    b64('x'),
    b64({ __proto__: { pk: resellerPk(a.resellerId) } }),
    Buffer.from(`{"pk":"${resellerPk(a.resellerId)}","sk":"APIKEY#","__proto__":{}}`).toString('base64url'),
    'x'.repeat(1025),
    '!!!',
    '=',
    '\u0000',
    'e30',
  ];
}

const badQueryValues = [
  '-1',
  '0',
  '1e9',
  '1.5',
  'abc',
  '',
  '101',
  'NaN',
  'Infinity',
  '-0',
  '1e2',
  '0x10',
  ' 7 ',
  '2026-02-30',
  '2026-13-01',
  '2026-01-01T25:00:00Z',
  '２０２６-01-01',
  'now',
  '2027-01-01T00:00:00+24:00',
  'pdf',
  'CSV',
  'json,csv',
  'TENANT-A-SITE',
  '../x',
  'x'.repeat(1100),
  '9'.repeat(400),
];

const unknownQueryKeys = ['admin', 'resellerId', '__proto__', 'constructor', 'x', 'LIMIT', 'limit ', 'cursor[]', 'toString', 'siteid', ''];

const rawQueries = [
  '%',
  '%zz',
  '&&&',
  '=',
  '==',
  'limit',
  'limit=%FF',
  'limit=1%00',
  '__proto__[admin]=1',
  'a=1&a=2',
  '%00=%00',
  '?',
  'x'.repeat(2000),
];

function queryArb(target: Target): fc.Arbitrary<string> {
  const base = baselineQuery(target);
  const keys = [...new Set([...base.map(([k]) => k), 'limit', 'cursor', 'from', 'to', 'format', 'siteId'])];
  const set = (key: string, value: string) => encodeQuery([...base.filter(([k]) => k !== key), [key, value]]);
  return fc.oneof(
    fc
      .tuple(fc.oneof(fc.constantFrom(...unknownQueryKeys), fc.string({ minLength: 1, maxLength: 20 })), fc.string({ maxLength: 20 }))
      .map(([k, v]) => encodeQuery([...base, [k, v]])),
    fc
      .tuple(fc.constantFrom(...keys), fc.oneof(fc.constantFrom(...badQueryValues), fc.string({ maxLength: 40 })))
      .map(([k, v]) => set(k, v)),
    fc
      .tuple(fc.constantFrom(...keys), fc.oneof(fc.constantFrom(...badQueryValues), fc.string({ maxLength: 10 })))
      .map(([k, v]) => encodeQuery([...base, [k, v]])),
    base.length > 0 ? fc.constantFrom(...base.map(([key]) => encodeQuery(base.filter(([k]) => k !== key)))) : fc.constant('x=1'),
    fc.constantFrom(...crossCursors()).map((cursor) => encodeQuery([...base, ['cursor', cursor]])),
    fc.constantFrom(...rawQueries),
  );
}

// ---------------------------------------------------------------------------------------------
// Bodies

const wrongValueArb: fc.Arbitrary<Json> = fc.oneof<fc.Arbitrary<Json>[]>(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 30 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant<Json>([]),
  fc.constant<Json>({}),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** Mutations of a valid body: most make it invalid, a few leave it valid (the oracle tells). */
function bodyArb(base: Json): fc.Arbitrary<Uint8Array> {
  const text = JSON.stringify(base);
  const paths = allPaths(base);
  const objects = objectPaths(base);
  const keyed = paths.filter((path) => typeof path[path.length - 1] === 'string');
  const pathArb = paths.length > 0 ? fc.constantFrom(...paths) : fc.constant<JsonPath>([]);
  const pathOrRoot = fc.oneof(pathArb, fc.constant<JsonPath>([]));
  const objectArb = objects.length > 0 ? fc.constantFrom(...objects) : fc.constant<JsonPath>([]);
  const keyedArb = keyed.length > 0 ? fc.constantFrom(...keyed) : fc.constant<JsonPath>(['x']);
  const reservedKeyed = reservedKeyBodies(base);
  return fc.oneof(
    // A wrong type, a missing field, an extra field.
    fc.tuple(pathArb, wrongValueArb).map(([path, value]) => bytes(JSON.stringify(setAt(base, path, value)))),
    pathArb.map((path) => bytes(JSON.stringify(setAt(base, path, undefined)))),
    fc
      .tuple(
        objectArb,
        fc.oneof(
          fc.constantFrom('admin', 'resellerId', 'isAdmin', 'role', 'toString', 'constructor', 'prototype', 'valueOf'),
          fc.string({ maxLength: 30 }),
        ),
        wrongValueArb,
      )
      .map(([path, key, value]) => bytes(JSON.stringify(setAt(base, [...path, key], value)))),
    // Huge strings (up to ~20 KB) and arrays.
    fc
      .tuple(pathArb, fc.integer({ min: 121, max: 20_000 }), fc.constantFrom('x', 'é', '🦄', '\u0000', '"', '\\', '\u202e'))
      .map(([path, n, unit]) => bytes(JSON.stringify(setAt(base, path, unit.repeat(Math.ceil(n / Buffer.byteLength(unit))))))),
    fc
      .tuple(pathOrRoot, fc.integer({ min: 17, max: 3000 }), fc.constantFrom<Json>(0, 'x', 'node-a', {}, null, [1]))
      .map(([path, n, item]) => bytes(withRaw(base, path, JSON.stringify(Array.from({ length: n }, () => item))))),
    // Deep nesting, up to 5,000 levels.
    fc
      .tuple(pathOrRoot, fc.integer({ min: 100, max: 5000 }), fc.constantFrom<keyof typeof deep>('array', 'object', 'unclosed'))
      .map(([path, depth, kind]) => bytes(withRaw(base, path, deep[kind](kind === 'object' ? Math.min(depth, 3000) : depth)))),
    // `__proto__`, `constructor` and friends as keys, in raw text.
    fc.tuple(objectArb, fc.constantFrom(...protoEntries)).map(([path, entry]) => bytes(withRawEntry(base, path, entry))),
    ...(reservedKeyed.length > 0 ? [fc.constantFrom(...reservedKeyed).map(bytes)] : []),
    // Numbers out of range, or not JSON numbers at all.
    fc.tuple(pathArb, fc.constantFrom(...rawNumbers)).map(([path, number]) => bytes(withRaw(base, path, number))),
    // Duplicated keys: the last one wins, valid or not.
    fc.tuple(keyedArb, wrongValueArb, fc.boolean()).map(([path, wrong, lastIsWrong]) => {
      const key = String(path[path.length - 1]);
      const original = valueAt(base, path) ?? null;
      const first = setAt(base, path, lastIsWrong ? original : wrong);
      return bytes(withRawEntry(first, path.slice(0, -1), `${JSON.stringify(key)}:${JSON.stringify(lastIsWrong ? wrong : original)}`));
    }),
    // Invalid UTF-8, anywhere or inside a string.
    fc
      .tuple(fc.nat(), fc.constantFrom(...invalidUtf8), fc.boolean())
      .map(([at, sequence, inString]) => spliceBytes(text, inString ? insideFirstString(text) : at, sequence)),
    // Not an object, truncated, trailing garbage, other encodings.
    fc.constantFrom(...notObjects).map(bytes),
    fc.nat().map((cut) => bytes(text.slice(0, cut % text.length))),
    fc.constantFrom('x', ',', '}', ']', '\u0000', '//', ' 1').map((tail) => bytes(`${text}${tail}`)),
    fc.constant(Buffer.from(text, 'utf16le')),
    fc.constant(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])),
    // Anything at all.
    fc.json({ maxDepth: 3 }).map(bytes),
    fc.uint8Array({ maxLength: 600 }),
    fc.string({ unit: 'binary', maxLength: 300 }).map(bytes),
  );
}

/** A body for a route that takes none. */
const strayBodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom('{}', ' ', 'x', '\u0000', 'null', '{"name":"x"}', '[]').map(bytes),
  fc.json({ maxDepth: 2 }).map(bytes),
  fc.uint8Array({ minLength: 1, maxLength: 300 }),
);

const noiseHeaders: Record<string, string>[] = [
  {},
  { 'content-type': 'text/plain' },
  { 'content-type': 'application/x-www-form-urlencoded' },
  { 'content-type': 'multipart/form-data; boundary=x' },
  { 'content-type': 'application/json; charset=utf-16' },
  { 'content-type': 'application/xml' },
  { 'content-type': '' },
  { 'content-type': 'application/json'.repeat(200) },
  { 'x-forwarded-for': '1.2.3.4, 5.6.7.8' },
  { 'content-encoding': 'gzip' },
  { accept: 'text/html' },
  { 'x-amzn-trace-id': 'x'.repeat(1000) },
  { origin: 'https://evil.example' },
  { 'x-custom': 'caf\u00e9' },
];

// ---------------------------------------------------------------------------------------------
// The fixed sweep: each kind of hostility on each route.

function sweep(target: Target): Hostile[] {
  const cases: Parts[] = [];
  for (const credential of credentials()) cases.push({ credential });
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'PURGE']) {
    if (method !== target.method) cases.push({ method });
  }
  for (const [i, name] of target.params.entries())
    for (const segment of hostileSegments(name)) cases.push({ pathname: withSegment(target, i, segment) });
  const pathname = fillPath(target.template, (name) => paramValue(a, name));
  for (const mangle of mangles) cases.push({ pathname: mangle(pathname) });

  const base = baselineQuery(target);
  if (target.query) {
    const keys = [...new Set([...base.map(([k]) => k), 'limit', 'cursor'])];
    for (const key of unknownQueryKeys.slice(0, 4)) cases.push({ query: encodeQuery([...base, [key, '1']]) });
    for (const value of ['-1', '1e9', '0', '1.5', 'abc', ''])
      cases.push({ query: encodeQuery([...base.filter(([k]) => k !== 'limit'), ['limit', value]]) });
    cases.push({ query: encodeQuery([...base, ['limit', '5'], ['limit', '6']]) });
    for (const cursor of crossCursors()) cases.push({ query: encodeQuery([...base, ['cursor', cursor]]) });
    for (const key of keys) cases.push({ query: encodeQuery([...base, [key, 'x'.repeat(1100)]]) });
    for (const [key] of base) cases.push({ query: encodeQuery(base.filter(([k]) => k !== key)) });
    if (target.key === 'GET /v1/reports/sla') {
      cases.push({
        query: encodeQuery([
          ['from', '2027-01-01'],
          ['to', '2026-01-01'],
        ]),
      });
      cases.push({ query: encodeQuery([...base.filter(([k]) => k !== 'format'), ['format', 'pdf']]) });
    }
    for (const raw of rawQueries) cases.push({ query: raw });
  } else {
    for (const raw of ['x=1', '__proto__=1', 'limit=10', 'cursor=e30', ...rawQueries.slice(0, 3)]) cases.push({ query: raw });
  }

  const body = baselineBody(target);
  if (body !== undefined) {
    const text = JSON.stringify(body);
    const paths = allPaths(body);
    const first = paths[0] ?? [];
    const firstString = paths.find((path) => typeof valueAt(body, path) === 'string') ?? first;
    const numeric = paths.filter((path) => typeof valueAt(body, path) === 'number');
    const bodies: (string | Uint8Array)[] = [
      deep.unclosed(5000),
      deep.array(5000),
      deep.object(3000),
      withRaw(body, first, deep.array(2500)),
      withRaw(body, first, deep.unclosed(5000)),
      ...objectPaths(body).flatMap((path) => protoEntries.slice(0, 2).map((entry) => withRawEntry(body, path, entry))),
      ...reservedKeyBodies(body),
      spliceBytes(text, insideFirstString(text), [0xc3, 0x28]),
      Buffer.from([0xc3, 0x28]),
      spliceBytes(text, 0, [0xff, 0xfe]),
      ...[...new Set([...numeric, first])].flatMap((path) => ['1e309', '-1', String(2 ** 60), 'NaN'].map((n) => withRaw(body, path, n))),
      ...Object.keys(body as Record<string, Json>).map((key) => withRawEntry(body, [], `${JSON.stringify(key)}:{"nested":true}`)),
      JSON.stringify(setAt(body, firstString, 'x'.repeat(20_000))),
      JSON.stringify(setAt(body, firstString, 'x'.repeat(15_000))),
      JSON.stringify(Array.from({ length: 5000 }, () => 0)),
      JSON.stringify(
        setAt(
          body,
          first,
          Array.from({ length: 3000 }, () => 'x'),
        ),
      ),
      ...paths.map((path) => JSON.stringify(setAt(body, path, otherType(valueAt(body, path))))),
      ...Object.keys(body as Record<string, Json>).map((key) => JSON.stringify(setAt(body, [key], undefined))),
      JSON.stringify(setAt(body, ['admin'], true)),
      ...notObjects,
      Buffer.from(text, 'utf16le'),
      `${text}garbage`,
      text.slice(0, -1),
    ];
    for (const item of bodies) cases.push({ body: typeof item === 'string' ? bytes(item) : item });
    cases.push({ body: bytes('{'), headers: { 'content-type': 'text/plain' } });
    cases.push({ body: bytes(text.slice(1)), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  } else {
    for (const item of ['{}', 'x', ' ', '\u0000']) cases.push({ body: bytes(item) });
    cases.push({ body: bytes('{}'), headers: { 'content-type': 'text/plain' } });
  }
  return cases.map((parts) => build(target, parts)).filter((request) => request.defects.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Sending, judging, and watching the table.

async function send(request: Hostile): Promise<RawAnswer | Error> {
  sent++;
  try {
    return await rawRequest(api.url, agent, {
      method: request.method,
      path: request.path,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
    });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** What is wrong with the answer to one request, if anything: `[kind, details]`. */
function judge(request: Hostile, answer: RawAnswer | Error): [string, string] | undefined {
  const kind = request.defects.length > 0 ? 'refusable' : 'may be valid';
  const status = answer instanceof Error ? 'no answer' : String(answer.status);
  statuses[kind] ??= {};
  statuses[kind][status] = (statuses[kind][status] ?? 0) + 1;
  const said = (what: string) => `${describeRequest(request)} → ${what}`;
  if (answer instanceof Error) return [`no answer (${request.target})`, said(answer.message)];
  const reply = `${answer.status} ${answer.text.slice(0, 300)}`;
  if (answer.status >= 500) return [`${answer.status} on ${request.target}`, said(reply)];
  if (request.defects.length > 0 && (answer.status < 400 || answer.status >= 500))
    return [`accepted (${answer.status}) on ${request.target}`, said(reply)];
  // Node's HTTP parser refuses a request line it cannot read (a raw non-ASCII byte in the path, a
  // method it does not know) with a bare 400 before any route: no body, so no error shape to check.
  const bareParserRefusal = answer.status === 400 && answer.text === '' && answer.contentType === undefined;
  if (bareParserRefusal) parserRefusals++;
  if (answer.status >= 400 && request.method !== 'HEAD' && !bareParserRefusal && !ErrorBody.safeParse(answer.json).success) {
    return [`no error shape (${answer.status}) on ${request.target}`, said(reply)];
  }
  return undefined;
}

function keyOf(item: unknown): string {
  const { pk, sk } = item as { pk?: unknown; sk?: unknown };
  return `${String(pk)} ${String(sk)}`;
}

function tableDiff(before: unknown[], after: unknown[]): string {
  const old = new Map(before.map((item) => [keyOf(item), item]));
  const now = new Map(after.map((item) => [keyOf(item), item]));
  const added = [...now.keys()].filter((k) => !old.has(k));
  const removed = [...old.keys()].filter((k) => !now.has(k));
  const changed = [...now.keys()].filter((k) => old.has(k) && !isDeepStrictEqual(old.get(k), now.get(k)));
  return `added [${added.join(', ')}], removed [${removed.join(', ')}], changed [${changed.join(', ')}]`;
}

/** Problems seen, by kind: the first example of each and how often it happened. */
class Findings {
  readonly byKind = new Map<string, { count: number; example: string }>();
  add(kind: string, example: string): void {
    const seen = this.byKind.get(kind);
    if (seen) seen.count++;
    else this.byKind.set(kind, { count: 1, example });
  }
  report(): string[] {
    return [...this.byKind.entries()].map(([kind, { count, example }]) => `${kind} ×${count}: ${example}`);
  }
}

/**
 * Sends the batch concurrently; then checks every answer, that Object.prototype is untouched
 * (the service runs in this process), and — when `unchanged` — that the table is as before; if
 * it is not, replays the batch one request at a time to find which changed it.
 */
async function runBatch(batch: Hostile[], findings: Findings, unchanged: boolean): Promise<void> {
  // A second per batch: each node token's rate limit (10 a second) never answers for the body.
  api.clock.advance(1000);
  const answers = await Promise.all(batch.map(send));
  batch.forEach((request, i) => {
    const problem = judge(request, answers[i]!);
    if (problem) findings.add(...problem);
  });
  const polluted = Object.getOwnPropertyNames(Object.prototype).sort();
  if (!isDeepStrictEqual(polluted, prototypeNames) || ({} as Record<string, unknown>).admin !== undefined) {
    findings.add('Object.prototype polluted', batch.map(describeRequest).join('\n'));
  }
  const after = await api.snapshot();
  if (unchanged && !isDeepStrictEqual(after, table)) {
    const diff = tableDiff(table, after);
    let found = false;
    for (const request of batch) {
      const before = await api.snapshot();
      await send(request);
      const then = await api.snapshot();
      if (!isDeepStrictEqual(before, then)) {
        found = true;
        findings.add(`state changed by a refused request on ${request.target}`, `${describeRequest(request)}: ${tableDiff(before, then)}`);
      }
    }
    if (!found) findings.add('state changed by a batch (not reproduced one by one)', `${diff}\n${batch.map(describeRequest).join('\n')}`);
    table = await api.snapshot();
  } else {
    table = after;
  }
}

async function runAll(requests: Hostile[], findings: Findings, unchanged = true): Promise<void> {
  for (let i = 0; i < requests.length; i += batchSize) await runBatch(requests.slice(i, i + batchSize), findings, unchanged);
}

// ---------------------------------------------------------------------------------------------
// Random requests: a route, then which of its parts to break, then how.

type Part = 'credential' | 'path' | 'query' | 'body' | 'method';

function hostileArb(target: Target): fc.Arbitrary<Hostile> {
  const parts: Part[] = ['credential', 'path', 'query', 'body', 'method'];
  const pathname = fillPath(target.template, (name) => paramValue(a, name));
  const base = baselineBody(target);
  const pathArb: fc.Arbitrary<string> = fc.oneof(
    fc.constantFrom(...mangles).map((mangle) => mangle(pathname)),
    ...(target.params.length > 0
      ? [
          fc
            .tuple(fc.nat(), fc.constantFrom(...target.params.flatMap((name) => hostileSegments(name))))
            .map(([i, segment]) => withSegment(target, i, segment)),
          fc
            .tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }))
            .map(([i, text]) => withSegment(target, i, percentEncodeBytes(text))),
        ]
      : []),
  );
  // Mostly one part broken, with the route's own credential, so that validation is what answers;
  // a broken credential (or none) in about one request in eight.
  const primary = fc.oneof(
    { arbitrary: fc.constant<Part>('body'), weight: 45 },
    { arbitrary: fc.constant<Part>('query'), weight: target.query ? 20 : 6 },
    { arbitrary: fc.constant<Part>('path'), weight: 15 },
    { arbitrary: fc.constant<Part>('credential'), weight: 10 },
    { arbitrary: fc.constant<Part>('method'), weight: 6 },
  );
  const extra = fc.oneof(
    { arbitrary: fc.constant<Part[]>([]), weight: 7 },
    { arbitrary: fc.constantFrom(...parts).map((part) => [part]), weight: 3 },
  );
  return fc.tuple(primary, extra).chain(([first, more]) => {
    const broken = [first, ...more];
    return fc
      .record({
        method: broken.includes('method')
          ? fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'PURGE', 'LINK')
          : fc.constant(target.method),
        pathname: broken.includes('path') ? pathArb : fc.constant(pathname),
        query: broken.includes('query') ? queryArb(target) : fc.constant(encodeQuery(baselineQuery(target))),
        body: broken.includes('body') ? (base === undefined ? strayBodyArb : bodyArb(base)) : fc.constant(undefined),
        credential: broken.includes('credential') ? credentialArb() : fc.constant(baselineCredential(target)),
        headers: fc.constantFrom(...noiseHeaders),
      })
      .map((parts) => build(target, parts));
  });
}

/** Requests that may well be valid: the route's own request, varied in ways that may or may not matter. */
function mayBeValidArb(target: Target): fc.Arbitrary<Hostile> {
  const base = baselineBody(target);
  const credential = baselineCredential(target);
  const token = credential.header?.slice('Bearer '.length);
  const credentialVariants: Credential[] = [
    credential,
    ...(token
      ? [
          { ...credential, name: `${credential.name} (bearer)`, header: `bearer ${token}` },
          { ...credential, name: `${credential.name} (BEARER)`, header: `BEARER ${token}` },
        ]
      : []),
  ];
  const list = listOf(target.key);
  const instant = fc
    .date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
    .map((d) => d.toISOString());
  const queryVariants: fc.Arbitrary<string>[] = [fc.constant(encodeQuery(baselineQuery(target)))];
  if (target.query) {
    queryVariants.push(queryArb(target), fc.constantFrom('cursor=', 'limit=1e2', 'limit=0x10', 'limit=%207%20', 'limit=100', 'limit=1'));
    // A cursor of the caller's own list, anywhere in it: accepted by design (it can only skip forward).
    if (list)
      queryVariants.push(
        fc
          .string({ maxLength: 40 })
          .map((tail) =>
            encodeQuery([['cursor', Buffer.from(JSON.stringify({ pk: list[0], sk: `${list[1]}${tail}` })).toString('base64url')]]),
          ),
      );
    if (target.key === 'GET /v1/sites/{siteId}/events' || target.key === 'GET /v1/reports/sla') {
      queryVariants.push(
        fc.tuple(instant, instant).map(([from, to]) =>
          encodeQuery([
            ['from', from],
            ['to', to],
          ]),
        ),
      );
      queryVariants.push(instant.map((from) => encodeQuery([['from', from]])));
    }
  }
  const bodyVariants: fc.Arbitrary<Uint8Array | undefined>[] = [fc.constant(undefined)];
  if (base !== undefined) {
    const text = JSON.stringify(base);
    const names = allPaths(base).filter((path) => ['name', 'reason'].includes(String(path[path.length - 1])));
    bodyVariants.push(
      bodyArb(base),
      fc.constant(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(text)])),
      fc.constant(bytes(`\n ${text} \t\n`)),
      ...(names.length > 0
        ? [
            fc
              .tuple(fc.constantFrom(...names), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }))
              .map(([path, name]) => bytes(JSON.stringify(setAt(base, path, name)))),
          ]
        : []),
    );
    if (target.key === 'POST /v1/node/heartbeat') {
      // Check names may be any of [a-z0-9_.-] but the reserved ones (`__proto__`, `constructor`: refused); others every object has are just names.
      bodyVariants.push(
        fc
          .tuple(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasownproperty', '__defineGetter__'), fc.nat({ max: 2 ** 40 }))
          .map(([check, seq]) =>
            bytes(
              withRawEntry(
                setAt(setAt(base, ['seq'], seq + 2), ['health', 'checks'], {}),
                ['health', 'checks'],
                `${JSON.stringify(check)}:"ok"`,
              ),
            ),
          ),
      );
    }
  }
  return fc
    .record({
      credential: fc.constantFrom(...credentialVariants),
      query: fc.oneof(...queryVariants),
      body: fc.oneof(...bodyVariants),
      headers: fc.constantFrom(...noiseHeaders),
    })
    .map(({ body, ...parts }) => build(target, { ...parts, ...(body ? { body } : {}) }));
}

/** Routes whose valid requests leave the tenant usable (no revocations, rotations or deletions). */
const harmless = targets.filter((target) => target.method !== 'DELETE' && !/\/(rotate|revoke)$/.test(target.template));

/** Edge cases on the valid side (or on the line): each must be answered, and never with a 5xx. */
function edges(target: Target): Hostile[] {
  const cases: Parts[] = [];
  const credential = baselineCredential(target);
  const token = credential.header?.slice('Bearer '.length);
  if (token) cases.push({ credential: { ...credential, name: `${credential.name} (bearer)`, header: `bearer ${token}` } });
  const base = baselineQuery(target);
  const withQuery = (...entries: [string, string | undefined][]) =>
    encodeQuery([
      ...base.filter(([k]) => !entries.some(([e]) => e === k)),
      ...entries.filter((e): e is [string, string] => e[1] !== undefined),
    ]);
  if (target.query) {
    for (const [k, v] of [
      ['cursor', ''],
      ['limit', '1'],
      ['limit', '100'],
      ['limit', '1e2'],
      ['limit', '0x10'],
    ] as const)
      cases.push({ query: withQuery([k, v]) });
    const list = listOf(target.key);
    for (const tail of list ? ['', '~', '0', '\uffff', '9999-12-31T23:59:59.999Z#zzz', '0000-01-01T00:00:00.000Z#a', ' '] : []) {
      cases.push({
        query: withQuery(['cursor', Buffer.from(JSON.stringify({ pk: list![0], sk: `${list![1]}${tail}` })).toString('base64url')]),
      });
    }
  }
  if (target.key === 'GET /v1/sites/{siteId}/events') {
    const ranges: [string | undefined, string | undefined][] = [
      ['2028-01-01T00:00:00Z', undefined],
      ['2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z'],
      ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z'],
      [undefined, '1900-01-01T00:00:00Z'],
      ['2026-01-01T00:00:00+23:59', '2026-01-01T00:00:00-23:59'],
    ];
    for (const [from, to] of ranges) cases.push({ query: withQuery(['from', from], ['to', to]) });
  }
  if (target.key === 'GET /v1/reports/sla') {
    const ranges = [
      ['0000-01-01', '0001-01-01'],
      ['1900-01-01', '1900-02-01'],
      ['1969-12-01', '1970-01-02'],
      ['2026-01-01', '9999-12-31'],
      ['9999-12-01', '9999-12-31'],
      ['2026-01-01T00:00:00-23:59', '2026-01-01T00:00:00+23:59'],
    ];
    for (const [from, to] of ranges)
      for (const format of ['json', 'csv']) cases.push({ query: withQuery(['from', from], ['to', to], ['format', format]) });
    cases.push({ query: withQuery(['siteId', undefined], ['format', 'html']) });
  }
  const body = baselineBody(target);
  if (body !== undefined) {
    const text = JSON.stringify(body);
    cases.push({ body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(text)]) });
    cases.push({ body: bytes(`\n ${text} \t\n`) });
    for (const key of Object.keys(body as Record<string, Json>)) {
      cases.push({
        body: bytes(withRawEntry(setAt(body, [key], 'wrong'), [], `${JSON.stringify(key)}:${JSON.stringify(valueAt(body, [key]))}`)),
      });
    }
    for (const path of allPaths(body).filter((p) => ['name', 'reason'].includes(String(p[p.length - 1])))) {
      for (const value of ['<script>alert(1)</script>', '\u0000', '🦄'.repeat(60), 'é'.repeat(120), '\u202eevil', '\ud800'])
        cases.push({ body: bytes(JSON.stringify(setAt(body, path, value))) });
    }
    // `constructor` is a valid identifier, and the name of a property every object inherits.
    const identifiers = allPaths(body).filter((p) => {
      const value = valueAt(body, p);
      return typeof value === 'string' && /^[a-z0-9][a-z0-9-]*$/.test(value);
    });
    for (const path of identifiers) {
      cases.push({ body: bytes(JSON.stringify(setAt(body, path, 'constructor'))) });
    }
    if (target.key === 'POST /v1/node/heartbeat') {
      for (const check of ['__proto__', 'constructor', 'prototype', 'tostring']) {
        const next = setAt(setAt(body, ['seq'], 10 + cases.length), ['health', 'checks'], {});
        cases.push({ body: bytes(withRawEntry(next, ['health', 'checks'], `${JSON.stringify(check)}:"ok"`)) });
      }
    }
  }
  return cases.map((parts) => build(target, parts));
}

// ---------------------------------------------------------------------------------------------

describe('hostile input: a fixed sweep of every kind, per route', () => {
  test.each(targets.map((target) => [target.key, target] as const))('%s', async (_, target) => {
    expect(routeFixtures[target.key], `a fixture for ${target.key} in test/support/hostile-tenants.ts`).toBeDefined();
    const requests = sweep(target);
    expect(requests.length).toBeGreaterThan(30);
    const findings = new Findings();
    await runAll(requests, findings);
    expect(findings.report()).toEqual([]);
  });

  test('a body over 1 MiB is cut off before any handler (413), on a route with and one without a body', async () => {
    const findings = new Findings();
    const huge = bytes(`{"name":"${'x'.repeat(1024 * 1024)}"}`);
    await runAll(
      [build(targetByKey.get('PATCH /v1/reseller')!, { body: huge }), build(targetByKey.get('GET /v1/sites')!, { body: huge })],
      findings,
    );
    expect(findings.report()).toEqual([]);
  });
});

test(`hostile input: ${randomBatches} random batches of ${batchSize} over every route (fast-check, seed ${seed})`, async () => {
  const findings = new Findings();
  const requestArb = fc.constantFrom(...targets).chain((target) => hostileArb(target).filter((request) => request.defects.length > 0));
  await fc.assert(
    fc.asyncProperty(fc.array(requestArb, { minLength: batchSize, maxLength: batchSize }), async (batch) => {
      await runBatch(batch, findings, true);
    }),
    { numRuns: randomBatches, seed, endOnFailure: true },
  );
  expect(findings.report(), `seed ${seed} (HOSTILE_SEED=${seed} repeats this run)`).toEqual([]);
});

test('a HEAD request Node cannot parse (bytes not allowed in its path) is 400 with no body, which the client would read as garbage', async () => {
  const answer = await rawRequest(api.url, agent, { method: 'HEAD', path: '/v1/sites/tenant-a-site/incidents/café', headers: {} });
  expect(answer instanceof Error ? answer.message : answer.status).toBe(400);
});

test('/openapi.json: garbage methods and paths are 404 with the error shape, never a 5xx', async () => {
  const findings = new Findings();
  const openapi = (method: string, path: string): Hostile => ({
    target: 'GET /openapi.json',
    method,
    path,
    credential: { name: 'none', header: undefined, kind: 'none' },
    headers: {},
    body: undefined,
    defects: ['not a route of the API'],
  });
  const methods = [
    'POST',
    'PUT',
    'PATCH',
    'DELETE',
    'OPTIONS',
    'TRACE',
    'PROPFIND',
    'PROPPATCH',
    'MKCOL',
    'COPY',
    'MOVE',
    'LOCK',
    'UNLOCK',
    'PURGE',
    'LINK',
    'UNLINK',
    'SEARCH',
    'REPORT',
    'NOTIFY',
    'SUBSCRIBE',
    'UNSUBSCRIBE',
    'ACL',
    'MKACTIVITY',
    'CHECKOUT',
    'MERGE',
    'M-SEARCH',
    'MKCALENDAR',
  ];
  const paths = [
    '/openapi.json/',
    '/openapi.json/x',
    '/openapi.JSON',
    '/OPENAPI.json',
    '/openapi.json%00',
    '/openapi%2Ejson',
    '/openapi.json;x',
    '/openapi.json.bak',
    '/openapi.json/..%2F..%2Fetc%2Fpasswd',
    '/v1/openapi.json',
    `/openapi.json/${'x'.repeat(2000)}`,
    '/openapi.json/%C3%28',
    '/openapi.yaml',
    '/%6Fpenapi.json',
    '/openapi.json/../openapi.json/x',
  ];
  const requests = [
    ...methods.map((method) => openapi(method, '/openapi.json')),
    openapi('HEAD', '/openapi.json'),
    ...paths.map((path) => openapi('GET', path)),
    ...paths.slice(0, 5).flatMap((path) => methods.slice(0, 4).map((method) => openapi(method, path))),
  ];
  await runAll(requests, findings);
  const answers = await Promise.all(requests.filter((r) => r.method !== 'HEAD').map(async (r) => [r, await send(r)] as const));
  for (const [request, answer] of answers) {
    if (answer instanceof Error || answer.status !== 404)
      findings.add('not 404', `${describeRequest(request)} → ${answer instanceof Error ? answer.message : answer.status}`);
  }
  // Method tokens Node's HTTP parser does not know never reach a route: a 4xx, never a 5xx.
  for (const method of ['FOO', 'GETT', 'G_T', 'X'.repeat(100)]) {
    const answer = await send(openapi(method, '/openapi.json'));
    if (answer instanceof Error || answer.status < 400 || answer.status >= 500) {
      findings.add(`garbage method ${method.slice(0, 10)}`, answer instanceof Error ? answer.message : `${answer.status} ${answer.text}`);
    }
  }
  // The document itself is still there.
  expect((await api.call('GET', '/openapi.json')).status).toBe(200);
  expect(findings.report()).toEqual([]);
});

test('edge cases that may be valid (or are on the line) never get a 5xx, on every route but those that revoke or delete', async () => {
  const findings = new Findings();
  await runAll(harmless.flatMap(edges), findings, false);
  expect(findings.report()).toEqual([]);
});

test(`requests that may be valid never get a 5xx (${mayBeValidBatches} random batches of ${batchSize}, seed ${seed})`, async () => {
  const findings = new Findings();
  const requestArb = fc.constantFrom(...harmless).chain((target) => mayBeValidArb(target));
  await fc.assert(
    fc.asyncProperty(fc.array(requestArb, { minLength: batchSize, maxLength: batchSize }), async (batch) => {
      await runBatch(batch, findings, false);
    }),
    { numRuns: mayBeValidBatches, seed, endOnFailure: true },
  );
  expect(findings.report(), `seed ${seed}`).toEqual([]);
});

test('at least 5,000 hostile requests were sent', () => {
  expect(sent).toBeGreaterThanOrEqual(5000);
});
