import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../protocol/api-routes.ts';
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

  it('describes every route the service serves, with its security and its error answers', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document;
    const described = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(described.sort()).toEqual([...Object.keys(apiRoutes), 'POST /v1/node/heartbeat', 'POST /v1/node/claim'].sort());
    expect(doc.paths['/v1/sites/{siteId}']?.get?.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/v1/resellers']?.post?.security).toEqual([{ adminKey: [] }]);
    expect(doc.paths['/v1/node/enroll']?.post?.security).toEqual([]);
    expect(Object.keys(doc.paths['/v1/sites']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '401', '403', '413', '429']));
  });

  it('describes survivor mode: the status, force-primary (200, its confirmation) and readmit (202, pending), both refused with 409', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as Document & { components: { schemas: Record<string, Schema> } };
    const content = (responses: Record<string, unknown>, status: string) =>
      (responses[status] as { content?: Record<string, { schema: Schema }> }).content?.['application/json']?.schema ?? {};
    const force = doc.paths['/v1/sites/{siteId}/nodes/{nodeId}/force-primary']?.post as { security: unknown[]; responses: Record<string, unknown>; requestBody: { content: Record<string, { schema: Schema }> } };
    expect(force.security).toEqual([{ apiKey: [] }]);
    expect(Object.keys(force.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409']));
    expect(force.requestBody.content['application/json']?.schema.required?.sort()).toEqual(['confirm', 'reason']);
    expect(Object.keys(content(force.responses, '200').properties ?? {})).toEqual(expect.arrayContaining(['epoch', 'primary', 'previousPrimary', 'keyId', 'site']));
    const readmit = doc.paths['/v1/sites/{siteId}/nodes/{nodeId}/readmit']?.post as { responses: Record<string, unknown>; requestBody?: unknown };
    expect(Object.keys(readmit.responses)).toEqual(expect.arrayContaining(['202', '409']));
    expect(readmit.requestBody).toBeUndefined();
    expect(content(readmit.responses, '202').properties?.status).toEqual({ type: 'string', const: 'pending' });
    const status = JSON.stringify(doc.paths['/v1/sites/{siteId}']?.get?.responses['200']);
    for (const field of ['survivor', 'excludedNode', 'standaloneLeaseMs', 'excluded']) expect(status).toContain(`"${field}"`);
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
      ['POST /v1/sites/{siteId}/maintenance', `/v1/sites/${siteId}/maintenance`, key, { start: '2026-12-01T20:00:00Z', end: '2026-12-01T21:00:00Z', reason: 'patch' }],
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
