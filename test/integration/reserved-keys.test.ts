/**
 * Reserved keys in free-form objects (issue 14): JSON.parse makes `"__proto__"` an own key, which
 * zod's records and loose objects skip without a word, so a mapping of `{"__proto__": …}` was
 * stored empty with a 201. `__proto__`, `constructor` and `prototype` are refused (400, the error
 * shape, the key named) wherever a body has free-form keys: an integration's mapping, a
 * heartbeat's checks, an inbound hook and its data, at any depth; and nothing is stored.
 *
 * Bodies are JSON text written by hand: an object literal's `__proto__` sets a prototype, and
 * JSON.stringify would not write it.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ErrorBody } from '../../protocol/errors.ts';
import { type Answer, setUpReseller, startApi, type TestApi } from '../support/api.ts';
import { beat } from '../support/beats.ts';

let api: TestApi;
let reseller: Awaited<ReturnType<typeof setUpReseller>>;
let nodeToken: string;

beforeAll(async () => {
  api = await startApi();
  reseller = await setUpReseller(api);
  const enrolled = await api.call('POST', '/v1/node/enroll', undefined, { code: reseller.codes['node-a'], nodeId: 'node-a' });
  expect(enrolled.status, enrolled.text).toBe(200);
  nodeToken = (enrolled.body as { token: string }).token;
});
afterAll(() => api.close());

const raise = '{"action":"raise","alert":"ups-power","severity":"warning"}';
const clear = '{"action":"clear","alert":"ups-power"}';

/** Sends a request that must be refused with a 400 naming `path`, and checks that the table is exactly as before. */
async function expectRefused(path: string, request: () => Promise<Answer>): Promise<void> {
  const before = await api.snapshot();
  const answer = await request();
  expect(answer.status, answer.text).toBe(400);
  const body = ErrorBody.parse(answer.body);
  expect(body.error.code).toBe('invalid-body');
  expect(body.error.details, answer.text).toContainEqual({ path, message: expect.stringContaining(path.split('.').pop()!) as string });
  expect(await api.snapshot()).toEqual(before);
}

describe("an integration's mapping", () => {
  const create = (mapping: string) => () =>
    api.call('POST', '/v1/integrations', reseller.key, `{"siteId":"${reseller.siteId}","name":"UPS","mapping":${mapping}}`);

  test.each([
    ['`__proto__` alone, with a valid action', `{"__proto__":${raise}}`, 'mapping.__proto__'],
    ['`__proto__` alone, with an invalid action', '{"__proto__":{"action":"explode"}}', 'mapping.__proto__'],
    ['`__proto__` beside valid types', `{"ups.on-battery":${raise},"__proto__":${clear},"ups.on-mains":${clear}}`, 'mapping.__proto__'],
    ['`__proto__` spelled with an escape', `{"\\u005f_proto__":${raise}}`, 'mapping.__proto__'],
    ['`constructor`', `{"constructor":${raise}}`, 'mapping.constructor'],
    ['`prototype` beside a valid type', `{"ups.on-battery":${raise},"prototype":${clear}}`, 'mapping.prototype'],
  ])('%s: 400, and no integration stored', async (_, mapping, path) => {
    await expectRefused(path, create(mapping));
    const list = await api.call('GET', '/v1/integrations?limit=100', reseller.key);
    expect(list.status).toBe(200);
    expect((list.body as { items: unknown[] }).items).toEqual([]);
  });

  test('the same mapping without the reserved key is accepted (the control)', async () => {
    const answer = await create(`{"ups.on-battery":${raise},"ups.on-mains":${clear}}`)();
    expect(answer.status, answer.text).toBe(201);
    const created = answer.body as { integration: { integrationId: string } };
    expect((await api.call('DELETE', `/v1/integrations/${created.integration.integrationId}`, reseller.key)).status).toBe(204);
  });
});

describe("a heartbeat's checks", () => {
  test.each(['__proto__', 'constructor', 'prototype'])('a check named %s: 400, nothing stored', async (name) => {
    const body = { ...beat(1, 0, 'secondary', true), health: { score: 90, checks: { disk: 'ok' } } };
    const text = JSON.stringify(body).replace('"disk":"ok"', `"disk":"ok","${name}":"ok"`);
    await expectRefused(`health.checks.${name}`, () => api.call('POST', '/v1/node/heartbeat', nodeToken, text));
  });
});

describe('an inbound hook', () => {
  let integration: { integrationId: string; secret: string };
  beforeAll(async () => {
    const answer = await api.call('POST', '/v1/integrations', reseller.key, {
      siteId: reseller.siteId,
      name: 'UPS',
      mapping: { 'ups.on-battery': JSON.parse(raise) as unknown },
    });
    expect(answer.status, answer.text).toBe(201);
    const created = answer.body as { integration: { integrationId: string }; secret: string };
    integration = { integrationId: created.integration.integrationId, secret: created.secret };
  });

  function send(body: string): Promise<Answer> {
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const at = new Date(api.clock.now());
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(integration.secret).sign(id, at, body),
    };
    return api.call('POST', `/v1/hooks/${integration.integrationId}`, undefined, body, headers);
  }

  test.each([
    ['beside `type`', '{"type":"ups.on-battery","__proto__":{"type":"x"}}', '__proto__'],
    ['in `data`', '{"type":"ups.on-battery","data":{"__proto__":{"summary":"x"}}}', 'data.__proto__'],
    ['deep in `data`', '{"type":"ups.on-battery","data":{"ups":[{"constructor":{"prototype":1}}]}}', 'data.ups.0.constructor'],
  ])('`__proto__` or `constructor` %s: 400, no alert raised', async (_, body, path) => {
    await expectRefused(path, () => send(body));
  });

  test('the same hook without it raises the alert (the control)', async () => {
    const answer = await send('{"type":"ups.on-battery","data":{"summary":"on battery"}}');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ action: 'raised', alert: 'ups-power' });
  });
});
