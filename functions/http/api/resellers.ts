import { newApiKey } from '../../adapters/credentials.ts';
import type { ApiKeyRecord } from '../../adapters/reseller-store.ts';
import { apiKeyView } from '../../adapters/reseller-store.ts';
import { logger } from '../../adapters/logger.ts';
import { HttpError } from '../http-error.ts';
import { type ApiImplementations, notFound, param, resellerOf } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** The reseller's account, API keys and customers: the reseller store only. */
export type ResellerRouteDeps = Pick<ApiDeps, 'resellers'>;

export function newKeyRecord(
  resellerId: string,
  name: string,
  scope: ApiKeyRecord['scope'],
  now: number,
): { record: ApiKeyRecord; key: string } {
  const { key, keyId, hash } = newApiKey(resellerId);
  return { key, record: { resellerId, keyId, name, scope, hash: hash.toString('base64url'), createdAt: now, revokedAt: null } };
}

export const resellerRoutes = {
  'GET /v1/resellers': async ({ query, deps }) => deps.resellers.listResellers(query),

  'GET /v1/reseller': async (call) => {
    const reseller = await call.deps.resellers.getReseller(resellerOf(call));
    if (!reseller || call.caller.kind !== 'reseller') throw notFound('the reseller');
    return { ...reseller, caller: { keyId: call.caller.keyId, scope: call.caller.scope } };
  },

  'PATCH /v1/reseller': async (call) => {
    const reseller = await call.deps.resellers.updateReseller(resellerOf(call), call.body);
    if (!reseller) throw notFound('the reseller');
    return reseller;
  },

  'POST /v1/api-keys': async (call) => {
    const { record, key } = newKeyRecord(resellerOf(call), call.body.name, call.body.scope, call.now);
    await call.deps.resellers.putApiKey(record);
    logger.info('API key created', { keyId: record.keyId, scope: record.scope });
    return { ...apiKeyView(record), secret: key };
  },

  'GET /v1/api-keys': async (call) => {
    const page = await call.deps.resellers.listApiKeys(resellerOf(call), call.query);
    return { items: page.items.map(apiKeyView), nextCursor: page.nextCursor };
  },

  'POST /v1/api-keys/{keyId}/rotate': async (call) => {
    const resellerId = resellerOf(call);
    const old = await call.deps.resellers.getApiKey(resellerId, param(call, 'keyId'));
    if (old?.revokedAt !== null) throw notFound('an unrevoked API key with this id');
    const { record, key } = newKeyRecord(resellerId, old.name, old.scope, call.now);
    if (!(await call.deps.resellers.rotateApiKey(resellerId, old.keyId, record, call.now)))
      throw notFound('an unrevoked API key with this id');
    logger.info('API key rotated', { keyId: old.keyId, newKeyId: record.keyId });
    return { ...apiKeyView(record), secret: key };
  },

  'DELETE /v1/api-keys/{keyId}': async (call) => {
    const revoked = await call.deps.resellers.revokeApiKey(resellerOf(call), param(call, 'keyId'), call.now);
    if (!revoked) throw notFound('an unrevoked API key with this id');
    logger.info('API key revoked', { keyId: revoked.keyId });
    return apiKeyView(revoked);
  },

  'POST /v1/customers': async (call) => {
    const customer = { customerId: call.body.customerId, name: call.body.name, createdAt: call.now };
    if (!(await call.deps.resellers.createCustomer(resellerOf(call), customer))) {
      throw new HttpError(409, 'conflict', `customer ${customer.customerId} exists already`);
    }
    return { ...customer, createdAt: new Date(call.now).toISOString() };
  },

  'GET /v1/customers': async (call) => call.deps.resellers.listCustomers(resellerOf(call), call.query),

  'GET /v1/customers/{customerId}': async (call) => {
    const customer = await call.deps.resellers.getCustomer(resellerOf(call), param(call, 'customerId'));
    if (!customer) throw notFound('the customer');
    return customer;
  },
} satisfies Partial<ApiImplementations<ResellerRouteDeps>>;
