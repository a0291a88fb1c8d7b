import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { StoredEvent, type WitnessEvent } from '../../protocol/events.ts';
import { Identifier } from '../../protocol/ids.ts';
import { ServiceQueueMessage } from '../../protocol/incidents.ts';
import { logger } from '../adapters/logger.ts';
import { eachRecord } from '../jobs/sqs-records.ts';
import { type WebhookDeps, webhookDepsFromEnv } from '../adapters/webhook-config.ts';
import { nextJob } from '../adapters/webhook-jobs.ts';
import type { EndpointRecord } from '../adapters/webhook-endpoint-store.ts';
import { messageIdOf } from '../adapters/webhook-message-store.ts';
import { severityOf } from '../domain/incidents.ts';
import { endpointsFor, stepEvent } from '../domain/webhook-delivery.ts';
import { contextOf, renderWebhookBody } from '../domain/webhook-templates.ts';
import { WebhookContexts } from '../adapters/webhook-context.ts';
import { EndpointId, type WebhookContext } from '../../protocol/webhooks.ts';
import '../../protocol/zod-locale.ts';

/** SNS delivers raw (the event itself) when the subscription says so, else in its envelope. */
const SnsEnvelope = z.object({ Type: z.literal('Notification'), Message: z.string() });
/** An incident step an escalation policy sends to one endpoint (functions/adapters/notifier.ts). */
const OutboxStep = z.object({ resellerId: Identifier, endpointId: EndpointId, message: ServiceQueueMessage });

type Outbound = { kind: 'event'; event: StoredEvent } | { kind: 'step'; resellerId: string; endpointId: string; event: StoredEvent };

function parseRecord(record: SQSRecord): Outbound {
  const json: unknown = JSON.parse(record.body);
  const envelope = SnsEnvelope.safeParse(json);
  const inner: unknown = envelope.success ? JSON.parse(envelope.data.Message) : json;
  const step = OutboxStep.safeParse(inner);
  if (!step.success) return { kind: 'event', event: StoredEvent.parse(inner) };
  const { resellerId, endpointId, message } = step.data;
  // What the incident pages as (an inbound alert's mapping says); messages sent before it was given: its kind's.
  const severity =
    message.step === 'opened' || message.step === 'escalated' ? (message.incident.severity ?? severityOf(message.incident.kind)) : 'info';
  return { kind: 'step', resellerId, endpointId, event: stepEvent(resellerId, message, severity) };
}

/**
 * Stores the event as a message for the endpoint, rendered once by its template, and schedules its
 * first try. The message id comes from the event and the endpoint, so the same event handed twice
 * is one message; a message stored by an earlier run that failed before scheduling is scheduled now.
 */
async function enqueue(deps: WebhookDeps, endpoint: EndpointRecord, event: StoredEvent, context: WebhookContext): Promise<void> {
  const payload = renderWebhookBody(endpoint.template, event, { routingKey: endpoint.routingKey, context });
  if (payload === null) {
    logger.info('webhook not sent: the template has nothing for this event', {
      endpointId: endpoint.endpointId,
      template: endpoint.template,
      eventType: event.type,
    });
    return;
  }
  const eventAt = Date.parse(event.timestamp);
  const { created, record } = await deps.messages.addMessage(
    {
      resellerId: endpoint.resellerId,
      endpointId: endpoint.endpointId,
      messageId: messageIdOf(event.id, endpoint.endpointId, eventAt),
      eventId: event.id,
      eventType: event.type,
      siteId: event.data.siteId,
      payload,
      createdAt: eventAt,
    },
    endpoint.enabled ? 'pending' : 'failed',
  );
  if (record.status === 'pending' && record.round === 0 && record.attempts === 0) await deps.jobs.schedule(nextJob(record), deps.now());
  logger.info(created ? 'webhook message stored' : 'webhook message was already stored', {
    endpointId: endpoint.endpointId,
    messageId: record.messageId,
    eventId: event.id,
    status: record.status,
    why: record.status === 'failed' && created ? 'the endpoint is disabled: kept for a replay, not sent' : undefined,
  });
}

async function route(deps: WebhookDeps, contexts: WebhookContexts, outbound: Outbound): Promise<void> {
  if (outbound.kind === 'step') {
    const endpoint = await deps.endpoints.get(outbound.resellerId, outbound.endpointId, deps.now());
    if (!endpoint) {
      logger.warn('incident step for an endpoint that does not exist: not sent', {
        endpointId: outbound.endpointId,
        eventId: outbound.event.id,
      });
      return;
    }
    // The step's message has the names and links the incidents function found and signed.
    await enqueue(deps, endpoint, outbound.event, contextOf(outbound.event));
    return;
  }
  const { event } = outbound;
  if (event.type === 'webhook.failed' || event.type === 'webhook.disabled') await deps.notices.send(event as WitnessEvent); // checked by the publisher before it reached the topic
  // An incident event leaves out the endpoints its step reaches by escalation: they get that step once, from there.
  const endpoints = endpointsFor(event, await deps.endpoints.all(event.data.resellerId, deps.now()));
  if (endpoints.length === 0) return;
  const context = await contexts.of(event);
  for (const endpoint of endpoints) await enqueue(deps, endpoint, event, context);
}

/**
 * The webhook outbox → one message per endpoint. The outbox carries the events of the topic (every
 * type: each endpoint's filter picks) and the incident steps escalation policies send to named
 * endpoints. A record that fails is handed back for SQS to retry; storing is idempotent.
 */
export const webhookRouterHandler = (getDeps: () => WebhookDeps | Promise<WebhookDeps>) =>
  middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const deps = await getDeps();
      const contexts = new WebhookContexts(deps.names, deps.links, deps.now);
      return eachRecord(event.Records, 'webhook outbox', (record) => route(deps, contexts, parseRecord(record)));
    });

export const handler = webhookRouterHandler(webhookDepsFromEnv);
