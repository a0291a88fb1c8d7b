import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionSpecs, routesOf } from '../../lib/witness-stack.ts';
import { apiRoutesFor } from '../../local/api-routes.ts';
import { consoleRoutes } from '../../local/console-routes.ts';
import { witnessRoutes } from '../../local/witness-routes.ts';
import { apiRoutes } from '../../protocol/api-routes.ts';
import { consoleRouteKeys } from '../../protocol/console-routes.ts';
import { nodeRoutes } from '../../protocol/node-routes.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

/** As much of a JSON Schema as these tests read. */
interface Schema {
  properties?: Record<string, Schema>;
  required?: string[];
}

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
}

interface Operation {
  security: unknown[];
  responses: Record<string, unknown>;
  requestBody: { content: Record<string, { schema: Schema }> };
}

/** The document itself: served beside the API, not a route of the API it describes. */
const theDocument = 'GET /openapi.json';
const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * Route keys (`METHOD /path/{param}`, as API Gateway and the local runtime name them) against the
 * document's operations, both ways: routes it does not describe, and operations no route serves.
 */
function routeDifferences(routeKeys: Iterable<string>, doc: Pick<Document, 'paths'>): { undocumented: string[]; unrouted: string[] } {
  const routes = new Set(routeKeys);
  routes.delete(theDocument);
  // The console's files are served beside the API, not part of it.
  for (const key of consoleRouteKeys) routes.delete(key);
  const described = new Set(
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => httpMethods.includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );
  return {
    undocumented: [...routes].filter((key) => !described.has(key)).sort(),
    unrouted: [...described].filter((key) => !routes.has(key)).sort(),
  };
}

describe('/openapi.json', () => {
  it('is served without a credential and is a valid OpenAPI 3.1 document (checked by a third-party validator)', async () => {
    const served = await api.call('GET', '/openapi.json');
    expect(served.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(served.body as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes every route of the route tables, and no other: the local runtime, the CDK stack, protocol/api-routes.ts and node-routes.ts', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document;
    const none = { undocumented: [], unrouted: [] };
    // What `npm start` (and startApi) serves.
    expect(
      routeDifferences(Object.keys({ ...witnessRoutes(api.witness), ...apiRoutesFor(api.api), ...(await consoleRoutes()) }), doc),
    ).toEqual(none);
    // What API Gateway routes in AWS.
    expect(
      routeDifferences(
        Object.values(functionSpecs).flatMap((spec) => routesOf(spec)),
        doc,
      ),
    ).toEqual(none);
    expect(routeDifferences([...Object.keys(apiRoutes), ...Object.keys(nodeRoutes)], doc)).toEqual(none);
    expect(Object.keys(doc.paths)).toContain('/v1/node/maintenance');
  });

  it('the comparison fails both ways: a route missing from the document, and a documented operation with no route', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document;
    const table = Object.keys({ ...witnessRoutes(api.witness), ...apiRoutesFor(api.api) });
    const withoutPost = { ...doc.paths['/v1/node/maintenance'] };
    delete withoutPost.post;
    const missing = { paths: { ...doc.paths, '/v1/node/maintenance': withoutPost } };
    expect(routeDifferences(table, missing)).toEqual({ undocumented: ['POST /v1/node/maintenance'], unrouted: [] });
    const extra = { paths: { ...doc.paths, '/v1/node/reboot': { post: { responses: {} } } } };
    expect(routeDifferences(table, extra)).toEqual({ undocumented: [], unrouted: ['POST /v1/node/reboot'] });
    const wrongMethod = { paths: { ...doc.paths, '/v1/node/maintenance': { put: doc.paths['/v1/node/maintenance']!.post! } } };
    expect(routeDifferences(table, wrongMethod)).toEqual({
      undocumented: ['POST /v1/node/maintenance'],
      unrouted: ['PUT /v1/node/maintenance'],
    });
  });

  it('describes the node protocol (maintenance among it) with its security, body, answer and errors', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document;
    const maintenance = doc.paths['/v1/node/maintenance']?.post as Operation | undefined;
    expect(maintenance?.security).toEqual([{ nodeToken: [] }]);
    expect(maintenance?.requestBody.content['application/json']?.schema.required?.sort()).toEqual(['minutes', 'reason']);
    expect(Object.keys(maintenance?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '413', '429']));
    const answer = (maintenance?.responses['200'] as { content: Record<string, { schema: Schema }> }).content['application/json']?.schema;
    expect(Object.keys(answer?.properties ?? {}).sort()).toEqual(['end', 'reason', 'start', 'windowId']);
  });

  it('describes every route with its security and its error answers', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document;
    expect(doc.paths['/v1/sites/{siteId}']?.get?.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/v1/resellers']?.post?.security).toEqual([{ adminKey: [] }]);
    expect(doc.paths['/v1/node/enroll']?.post?.security).toEqual([]);
    expect(Object.keys(doc.paths['/v1/sites']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '413', '429']),
    );
  });

  it('describes survivor mode: the status, force-primary (200, its confirmation) and readmit (202, pending), both refused with 409', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document & { components: { schemas: Record<string, Schema> } };
    const content = (responses: Record<string, unknown>, status: string) =>
      (responses[status] as { content?: Record<string, { schema: Schema }> }).content?.['application/json']?.schema ?? {};
    const force = doc.paths['/v1/sites/{siteId}/nodes/{nodeId}/force-primary']?.post as {
      security: unknown[];
      responses: Record<string, unknown>;
      requestBody: { content: Record<string, { schema: Schema }> };
    };
    expect(force.security).toEqual([{ apiKey: [] }]);
    expect(Object.keys(force.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409']));
    expect(force.requestBody.content['application/json']?.schema.required?.sort()).toEqual(['confirm', 'reason']);
    expect(Object.keys(content(force.responses, '200').properties ?? {})).toEqual(
      expect.arrayContaining(['epoch', 'primary', 'previousPrimary', 'keyId', 'site']),
    );
    const readmit = doc.paths['/v1/sites/{siteId}/nodes/{nodeId}/readmit']?.post as {
      responses: Record<string, unknown>;
      requestBody?: unknown;
    };
    expect(Object.keys(readmit.responses)).toEqual(expect.arrayContaining(['202', '409']));
    expect(readmit.requestBody).toBeUndefined();
    expect(content(readmit.responses, '202').properties?.status).toEqual({ type: 'string', const: 'pending' });
    const status = JSON.stringify(doc.paths['/v1/sites/{siteId}']?.get?.responses['200']);
    for (const field of ['survivor', 'excludedNode', 'standaloneLeaseMs', 'excluded']) expect(status).toContain(`"${field}"`);
  });

  it('describes the maintenance windows: PATCH, the 422 refusals (codes in their descriptions), and who declared each', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document;
    const windows = doc.paths['/v1/sites/{siteId}/maintenance'];
    const one = doc.paths['/v1/sites/{siteId}/maintenance/{windowId}'];
    const patch = one?.patch as Operation | undefined;
    expect(patch?.security).toEqual([{ apiKey: [] }]);
    expect(Object.keys(patch?.requestBody.content['application/json']?.schema.properties ?? {}).sort()).toEqual(['end', 'reason', 'start']);
    expect(patch?.requestBody.content['application/json']?.schema.required ?? []).toEqual([]);
    const described = (responses: Record<string, unknown> | undefined, status: string) =>
      (responses?.[status] as { description?: string } | undefined)?.description ?? '';
    expect(described(windows?.post?.responses, '422')).toContain('maintenance-in-past');
    for (const code of ['maintenance-in-past', 'maintenance-started', 'maintenance-ended'])
      expect(described(patch?.responses, '422')).toContain(code);
    expect(described(patch?.responses, '409')).toContain('changed meanwhile');
    expect(described(one?.delete?.responses, '422')).toContain('maintenance-ended');
    // Routes that refuse nothing of the kind do not say they might.
    expect(doc.paths['/v1/sites']?.post?.responses['422']).toBeUndefined();
    const listed = JSON.stringify(windows?.get?.responses['200']);
    for (const field of ['declaredAt', 'declaredBy', 'changedAt', 'changedBy']) expect(listed).toContain(`"${field}"`);
  });

  it("describes an endpoint's test: no body, 202 with the message to follow, 409 endpoint-disabled and 503 unavailable; the answer matches", async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document;
    const test = doc.paths['/v1/webhooks/{endpointId}/test']?.post as (Operation & { requestBody?: unknown }) | undefined;
    expect(test?.security).toEqual([{ apiKey: [] }]);
    expect(test?.requestBody).toBeUndefined();
    expect(Object.keys(test?.responses ?? {})).toEqual(expect.arrayContaining(['202', '401', '403', '404', '409', '503']));
    const described = (status: string) => (test?.responses[status] as { description?: string } | undefined)?.description ?? '';
    expect(described('409')).toContain('endpoint-disabled');
    expect(described('503')).toContain('unavailable');
    const accepted = (test?.responses['202'] as { content: Record<string, { schema: Schema }> }).content['application/json']?.schema;
    expect(accepted?.required?.sort()).toEqual(['endpointId', 'eventId', 'eventType', 'message', 'messageId', 'status']);

    const { key } = await setUpReseller(api);
    const created = await api.call('POST', '/v1/webhooks', key, { endpointId: 'psa', url: 'http://127.0.0.1:9/hook', eventTypes: [] });
    expect(created.status, created.text).toBe(201);
    const answer = await api.call('POST', '/v1/webhooks/psa/test', key);
    const spec = apiRoutes['POST /v1/webhooks/{endpointId}/test'];
    expect(answer.status, answer.text).toBe(spec.status);
    expect(spec.response.safeParse(answer.body).success, answer.text).toBe(true);
    // The message it names is in the endpoint's messages, as their schema says.
    const messages = await api.call('GET', '/v1/webhooks/psa/messages', key);
    expect(apiRoutes['GET /v1/webhooks/{endpointId}/messages'].response.safeParse(messages.body).success, messages.text).toBe(true);
    expect(messages.body).toMatchObject({
      items: [{ messageId: (answer.body as { messageId: string }).messageId, eventType: 'webhook.test', siteId: null }],
    });
  });

  it("the service's answers match the documented response schemas", async () => {
    const { key, siteId, codes } = await setUpReseller(api);
    const checks: [keyof typeof apiRoutes, string, string | undefined, unknown?][] = [
      ['GET /v1/resellers', '/v1/resellers', api.adminKey],
      ['GET /v1/reseller', '/v1/reseller', key],
      ['GET /v1/api-keys', '/v1/api-keys', key],
      ['GET /v1/customers', '/v1/customers', key],
      ['GET /v1/customers/{customerId}', '/v1/customers/dental', key],
      ['GET /v1/sites', '/v1/sites', key],
      ['GET /v1/sites/{siteId}', `/v1/sites/${siteId}`, key],
      ['POST /v1/node/enroll', '/v1/node/enroll', undefined, { code: codes['node-a'], nodeId: 'node-a' }],
      ['POST /v1/sites/{siteId}/nodes/{nodeId}/enrollment', `/v1/sites/${siteId}/nodes/node-b/enrollment`, key],
      [
        'POST /v1/sites/{siteId}/maintenance',
        `/v1/sites/${siteId}/maintenance`,
        key,
        { start: '2027-02-01T20:00:00Z', end: '2027-02-01T21:00:00Z', reason: 'patch' },
      ],
      ['GET /v1/sites/{siteId}/maintenance', `/v1/sites/${siteId}/maintenance`, key],
      ['GET /v1/sites/{siteId}/events', `/v1/sites/${siteId}/events`, key],
      ['POST /v1/api-keys', '/v1/api-keys', key, { name: 'ci', scope: 'read-only' }],
    ];
    for (const [route, path, token, body] of checks) {
      const method = route.split(' ')[0] ?? 'GET';
      const answer = await api.call(method, path, token, body);
      const spec = apiRoutes[route];
      expect(answer.status, `${route}: ${answer.text}`).toBe(spec.status);
      if ('response' in spec) expect(spec.response.safeParse(answer.body).success, route).toBe(true);
    }
  });
});
