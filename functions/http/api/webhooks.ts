import { randomUUID } from 'node:crypto';
import type { WebhookTestEvent } from '../../../protocol/events.ts';
import { maxReplayedPerCall, type PutEndpointRequest, type WebhookTestAccepted } from '../../../protocol/webhooks.ts';
import { checkWebhookUrl } from '../../adapters/address-policy.ts';
import { logger } from '../../adapters/logger.ts';
import { nextJob } from '../../adapters/webhook-jobs.ts';
import { type EndpointRecord, endpointView, newWebhookSecret } from '../../adapters/webhook-endpoint-store.ts';
import { messageIdOf, messageView, type WebhookMessageStore } from '../../adapters/webhook-message-store.ts';
import { iso } from '../../adapters/tenancy-items.ts';
import { rotatedSecrets } from '../../domain/webhook-delivery.ts';
import { renderWebhookBody } from '../../domain/webhook-templates.ts';
import { HttpError } from '../http-error.ts';
import { type AnyCall, type ApiImplementations, notFound, param, resellerOf } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** Webhook endpoints: their stores, the deliveries queue (replays, tests) and the address policy. */
export type WebhookRouteDeps = Pick<ApiDeps, 'webhookEndpoints' | 'webhookMessages' | 'deliveryLog' | 'webhookJobs' | 'addressPolicy'>;

/** Replays written at once: a call's 200 take a fraction of the API's 29 s. */
const replayConcurrency = 10;

/** The previous secret signs beside a new one for a day unless the rotation says otherwise. */
const defaultOverlapSeconds = 86_400;

/** A URL that points inside a network (or, in AWS, at the machine itself) is refused before it is stored. */
async function checkUrl(call: AnyCall<WebhookRouteDeps>, settings: PutEndpointRequest): Promise<void> {
  const verdict = await checkWebhookUrl(settings.url, call.deps.addressPolicy);
  if (!verdict.ok)
    throw new HttpError(400, 'invalid-body', `the URL is refused: ${verdict.reason}`, [{ path: 'url', message: verdict.reason }]);
}

async function endpointOf(call: AnyCall<WebhookRouteDeps>) {
  const endpoint = await call.deps.webhookEndpoints.getEndpoint(resellerOf(call), param(call, 'endpointId'));
  if (!endpoint) throw notFound('the webhook endpoint');
  return endpoint;
}

/** A replay to a disabled endpoint would only fail again at once: it is refused, with what to do. */
function refuseIfDisabled(endpoint: { enabled: boolean; endpointId: string }): void {
  if (!endpoint.enabled)
    throw new HttpError(409, 'conflict', `the endpoint ${endpoint.endpointId} is disabled: enable it (PUT) before replaying`);
}

function jobsOf(call: AnyCall<WebhookRouteDeps>, what = 'replays') {
  const jobs = call.deps.webhookJobs;
  if (!jobs) throw new HttpError(503, 'unavailable', `${what} need the webhook deliveries queue, which this deployment does not configure`);
  return jobs;
}

/** The API key a call was made with (a write route's caller is always a reseller's key). */
function keyIdOf(call: AnyCall<WebhookRouteDeps>): string {
  if (call.caller.kind !== 'reseller') throw new Error('a reseller route was called without a reseller key');
  return call.caller.keyId;
}

/**
 * A test event for one endpoint: about no site, asked for by one API key, and saying so. Its id is
 * new each time (each test is a message of its own, with a `webhook-id` of its own).
 */
export function testEvent(endpoint: EndpointRecord, keyId: string, now: number): WebhookTestEvent {
  const { resellerId, endpointId } = endpoint;
  return {
    id: `${resellerId}/webhook.test/${endpointId}/${randomUUID()}`,
    type: 'webhook.test',
    timestamp: iso(now),
    data: {
      resellerId,
      test: true,
      severity: 'info',
      endpointId,
      keyId,
      message: `This is a test of webhook endpoint ${endpointId}, asked for with API key ${keyId}: nothing happened at any site, and no action is needed.`,
    },
  };
}

/** Starts a new round of tries for one message and schedules its first; undefined if there is no such message. */
async function replay(call: AnyCall<WebhookRouteDeps>, store: WebhookMessageStore, endpointId: string, messageId: string) {
  const jobs = jobsOf(call);
  const message = await store.replay(resellerOf(call), endpointId, messageId, call.now);
  if (message) await jobs.schedule(nextJob(message), call.now);
  return message;
}

export const webhookRoutes = {
  'POST /v1/webhooks': async (call) => {
    const { endpointId, ...settings } = call.body;
    await checkUrl(call, settings);
    const secret = newWebhookSecret();
    const endpoint = await call.deps.webhookEndpoints.createEndpoint(resellerOf(call), endpointId, settings, secret, call.now);
    if (!endpoint) throw new HttpError(409, 'conflict', `a webhook endpoint ${endpointId} exists already`);
    logger.info('webhook endpoint registered', { endpointId, template: endpoint.template, eventTypes: endpoint.eventTypes });
    return { endpoint: endpointView(endpoint), secret: { endpointId, secret, previousExpiresAt: null } };
  },

  'GET /v1/webhooks': async (call) => {
    const page = await call.deps.webhookEndpoints.listEndpoints(resellerOf(call), call.query);
    return { items: page.items.map(endpointView), nextCursor: page.nextCursor };
  },

  'GET /v1/webhooks/{endpointId}': async (call) => endpointView(await endpointOf(call)),

  'PUT /v1/webhooks/{endpointId}': async (call) => {
    await checkUrl(call, call.body);
    const endpoint = await call.deps.webhookEndpoints.updateEndpoint(resellerOf(call), param(call, 'endpointId'), call.body, call.now);
    if (!endpoint) throw notFound('the webhook endpoint');
    logger.info('webhook endpoint changed', { endpointId: endpoint.endpointId, enabled: endpoint.enabled });
    return endpointView(endpoint);
  },

  'DELETE /v1/webhooks/{endpointId}': async (call) => {
    if (!(await call.deps.webhookEndpoints.deleteEndpoint(resellerOf(call), param(call, 'endpointId'))))
      throw notFound('the webhook endpoint');
    logger.info('webhook endpoint removed', { endpointId: param(call, 'endpointId') });
    return undefined;
  },

  'POST /v1/webhooks/{endpointId}/rotate-secret': async (call) => {
    const endpoint = await endpointOf(call);
    const fresh = { secret: newWebhookSecret(), createdAt: call.now, expiresAt: null };
    const secrets = rotatedSecrets(endpoint.secrets, fresh, call.now, (call.body.overlapSeconds ?? defaultOverlapSeconds) * 1000);
    if (!(await call.deps.webhookEndpoints.replaceSecrets(endpoint.resellerId, endpoint.endpointId, endpoint.secrets, secrets, call.now))) {
      throw new HttpError(409, 'conflict', 'the secret changed while it was being rotated: rotate again');
    }
    const previous = secrets.slice(1).map((s) => s.expiresAt ?? call.now);
    logger.info('webhook secret rotated', { endpointId: endpoint.endpointId, signing: secrets.length });
    return {
      endpointId: endpoint.endpointId,
      secret: fresh.secret,
      previousExpiresAt: previous.length > 0 ? iso(Math.max(...previous)) : null,
    };
  },

  'GET /v1/webhooks/{endpointId}/messages': async (call) => {
    const endpoint = await endpointOf(call);
    const page = await call.deps.webhookMessages.listMessages(endpoint.resellerId, endpoint.endpointId, call.query, call.now);
    return { items: page.items.map(messageView), nextCursor: page.nextCursor };
  },

  'GET /v1/webhooks/{endpointId}/attempts': async (call) => {
    const endpoint = await endpointOf(call);
    return call.deps.deliveryLog.listAttempts(endpoint.resellerId, endpoint.endpointId, call.query, call.now);
  },

  'POST /v1/webhooks/{endpointId}/messages/{messageId}/replay': async (call) => {
    const endpoint = await endpointOf(call);
    refuseIfDisabled(endpoint);
    const message = await replay(call, call.deps.webhookMessages, endpoint.endpointId, param(call, 'messageId'));
    if (!message) throw notFound('the message');
    logger.info('webhook message replayed', { endpointId: endpoint.endpointId, messageId: message.messageId, round: message.round });
    return messageView(message);
  },

  'POST /v1/webhooks/{endpointId}/replay': async (call) => {
    const endpoint = await endpointOf(call);
    refuseIfDisabled(endpoint);
    jobsOf(call);
    // One more than a call replays: whether there are more to come.
    const ids = await call.deps.webhookMessages.failedSince(
      endpoint.resellerId,
      endpoint.endpointId,
      Date.parse(call.body.since),
      maxReplayedPerCall + 1,
    );
    const batch = ids.slice(0, maxReplayedPerCall);
    let replayed = 0;
    for (let i = 0; i < batch.length; i += replayConcurrency) {
      const done = await Promise.all(
        batch.slice(i, i + replayConcurrency).map((messageId) => replay(call, call.deps.webhookMessages, endpoint.endpointId, messageId)),
      );
      replayed += done.filter(Boolean).length;
    }
    const more = ids.length > maxReplayedPerCall;
    logger.info('failed webhook messages replayed', { endpointId: endpoint.endpointId, since: call.body.since, replayed, more });
    return { replayed, more };
  },

  // Through the real pipeline: a message stored as the router stores one (rendered once by the
  // endpoint's template), its first try on the deliveries queue as a replay's; the deliverer signs,
  // sends, retries and logs it as any. Only this endpoint gets it, whatever its eventTypes.
  'POST /v1/webhooks/{endpointId}/test': async (call): Promise<WebhookTestAccepted> => {
    const endpoint = await endpointOf(call);
    if (!endpoint.enabled) {
      throw new HttpError(
        409,
        'endpoint-disabled',
        `the endpoint ${endpoint.endpointId} is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}, so nothing is sent to it: ` +
          `enable it (PUT /v1/webhooks/${endpoint.endpointId} with "enabled": true), then test again`,
      );
    }
    const jobs = jobsOf(call, 'tests');
    const event = testEvent(endpoint, keyIdOf(call), call.now);
    const payload = renderWebhookBody(endpoint.template, event, { routingKey: endpoint.routingKey });
    // Every template renders a test; a stored endpoint without what its template needs cannot be tested.
    if (payload === null) throw new Error(`the ${endpoint.template} template rendered nothing for a test of ${endpoint.endpointId}`);
    const { record } = await call.deps.webhookMessages.addMessage(
      {
        resellerId: endpoint.resellerId,
        endpointId: endpoint.endpointId,
        messageId: messageIdOf(event.id, endpoint.endpointId, call.now),
        eventId: event.id,
        eventType: event.type,
        siteId: null,
        payload,
        createdAt: call.now,
      },
      'pending',
    );
    await jobs.schedule(nextJob(record), call.now);
    logger.info('webhook test sent', { endpointId: endpoint.endpointId, messageId: record.messageId, template: endpoint.template });
    const { endpointId } = endpoint;
    return {
      messageId: record.messageId,
      eventId: event.id,
      endpointId,
      eventType: 'webhook.test',
      status: 'pending',
      message:
        `a webhook.test message is on its way to ${endpointId}, tried and retried as any message: ` +
        `GET /v1/webhooks/${endpointId}/messages shows its status (delivered, or pending with its next try), ` +
        `GET /v1/webhooks/${endpointId}/attempts each try's HTTP status, latency and answer`,
    };
  },
} satisfies Partial<ApiImplementations<WebhookRouteDeps>>;
