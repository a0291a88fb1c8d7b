import type { EscalationPolicy } from '../../../protocol/reseller.ts';
import type { PolicyScope } from '../../adapters/escalation-store.ts';
import { logger } from '../../adapters/logger.ts';
import { HttpError } from '../http-error.ts';
import { type AnyCall, type ApiImplementations, notFound, param, resellerOf } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** Escalation policies, and the subscriptions of their addresses to the reseller's alerts topic (SNS). */
export type EscalationRouteDeps = Pick<ApiDeps, 'escalation' | 'channels'>;

const reseller: PolicyScope = { scope: 'reseller', id: null };
const customer = (call: AnyCall<EscalationRouteDeps>): PolicyScope => ({ scope: 'customer', id: param(call, 'customerId') });
const site = (call: AnyCall<EscalationRouteDeps>): PolicyScope => ({ scope: 'site', id: param(call, 'siteId') });

/** The policy's e-mail addresses and phone numbers, once each. */
function alertTargets(policy: EscalationPolicy) {
  const targets = new Map<string, { type: 'email'; address: string } | { type: 'sms'; phoneNumber: string }>();
  for (const target of policy.levels.flatMap((level) => level.targets)) {
    if (target.type === 'email') targets.set(`email:${target.address}`, target);
    if (target.type === 'sms') targets.set(`sms:${target.phoneNumber}`, target);
  }
  return [...targets.values()];
}

/**
 * Stores the policy, then subscribes its addresses to the reseller's alerts topic (subscribing
 * again changes nothing, so saving the same policy again repairs a subscription that failed).
 */
async function put(call: AnyCall<EscalationRouteDeps>, at: PolicyScope, policy: EscalationPolicy) {
  const resellerId = resellerOf(call);
  const stored = await call.deps.escalation.put(resellerId, at, policy, call.now);
  if (!stored) throw notFound(`the ${at.scope}`);
  logger.info('escalation policy set', { scope: at.scope, id: at.id, levels: policy.levels.length });
  const targets = alertTargets(policy);
  await Promise.all(
    targets.map((target) =>
      call.deps.channels.subscribe(resellerId, target).catch((error: unknown) => {
        if (error instanceof Error && error.name.startsWith('InvalidParameter')) {
          const where = target.type === 'email' ? target.address : target.phoneNumber;
          throw new HttpError(400, 'invalid-body', `the policy is saved, but SNS refused ${where}: correct it and save the policy again`);
        }
        throw error;
      }),
    ),
  );
  if (targets.length > 0) logger.info('alert targets subscribed', { scope: at.scope, id: at.id, targets: targets.length });
  return stored;
}

async function get(call: AnyCall<EscalationRouteDeps>, at: PolicyScope) {
  const stored = await call.deps.escalation.get(resellerOf(call), at);
  if (!stored) throw notFound(`an escalation policy for this ${at.scope}`);
  return stored;
}

async function remove(call: AnyCall<EscalationRouteDeps>, at: PolicyScope): Promise<undefined> {
  if (!(await call.deps.escalation.remove(resellerOf(call), at))) throw notFound(`an escalation policy for this ${at.scope}`);
  logger.info('escalation policy removed', { scope: at.scope, id: at.id });
  return undefined;
}

export const escalationRoutes = {
  'GET /v1/escalation-policies': async (call) => call.deps.escalation.list(resellerOf(call), call.query),
  'PUT /v1/escalation-policy': async (call) => put(call, reseller, call.body),
  'GET /v1/escalation-policy': async (call) => get(call, reseller),
  'PUT /v1/customers/{customerId}/escalation-policy': async (call) => put(call, customer(call), call.body),
  'GET /v1/customers/{customerId}/escalation-policy': async (call) => get(call, customer(call)),
  'DELETE /v1/customers/{customerId}/escalation-policy': async (call) => remove(call, customer(call)),
  'PUT /v1/sites/{siteId}/escalation-policy': async (call) => put(call, site(call), call.body),
  'GET /v1/sites/{siteId}/escalation-policy': async (call) => get(call, site(call)),
  'DELETE /v1/sites/{siteId}/escalation-policy': async (call) => remove(call, site(call)),
} satisfies Partial<ApiImplementations<EscalationRouteDeps>>;
