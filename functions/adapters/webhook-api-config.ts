import type { SQSClient } from '@aws-sdk/client-sqs';
import { type ApiBaseDeps, apiBaseDeps, type ApiDeps, type ApiDepsOptions } from './api-config.ts';
import { documentClient } from './dynamo-clients.ts';
import { IncidentStore } from './incident-store.ts';
import { IntegrationStore } from './integration-store.ts';
import { defaultRetention } from './retention.ts';
import { sqsClient } from './sqs-client.ts';
import { DeliveryJobs } from './webhook-jobs.ts';
import { WebhookDeliveryLog } from './webhook-delivery-log.ts';
import { WebhookEndpointStore } from './webhook-endpoint-store.ts';
import { WebhookMessageStore } from './webhook-message-store.ts';

/**
 * The webhooks function's own deps (protocol/api-routes.ts apiFunctionRoutes.webhooks): outbound
 * endpoints with their messages, log and deliveries queue (SQS, no SNS), and inbound integrations.
 */
export type WebhookApiDeps = Pick<
  ApiDeps,
  | 'webhookEndpoints'
  | 'webhookMessages'
  | 'deliveryLog'
  | 'webhookJobs'
  | 'addressPolicy'
  | 'integrations'
  | 'incidents'
  | 'publicUrl'
  | 'allowHttpHooks'
>;

export type WebhookApiDepsOptions = ApiDepsOptions & {
  /** Given, or made for `endpoints` by the client factory (only when there is a deliveries queue). */
  sqs?: SQSClient;
};

export function webhookApiDeps(options: WebhookApiDepsOptions): WebhookApiDeps {
  const doc = documentClient(options.dynamo);
  const { tableName } = options;
  const deliveriesUrl = options.webhookDeliveriesUrl;
  return {
    webhookEndpoints: new WebhookEndpointStore(doc, tableName),
    webhookMessages: new WebhookMessageStore(doc, tableName, (options.retention ?? defaultRetention).deliveryLogDays),
    deliveryLog: new WebhookDeliveryLog(doc, tableName),
    webhookJobs: deliveriesUrl ? new DeliveryJobs(options.sqs ?? sqsClient(options.endpoints ?? {}), deliveriesUrl) : undefined,
    addressPolicy: options.addressPolicy,
    integrations: new IntegrationStore(doc, tableName),
    incidents: new IncidentStore(doc, tableName),
    publicUrl: options.publicUrl,
    allowHttpHooks: options.allowHttpHooks,
  };
}

/** The webhooks function's assembly. */
export function webhookApiFunctionDeps(options: WebhookApiDepsOptions): ApiBaseDeps & WebhookApiDeps {
  return { ...apiBaseDeps(options), ...webhookApiDeps(options) };
}
