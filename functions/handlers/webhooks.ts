import { apiDepsFromEnv, type ApiBaseDeps } from '../adapters/api-config.ts';
import { webhookApiFunctionDeps, type WebhookApiDeps } from '../adapters/webhook-api-config.ts';
import { apiHandler, type FunctionImplementations } from '../http/api-handler.ts';
import { integrationRoutes } from '../http/api/integrations.ts';
import { webhookRoutes } from '../http/api/webhooks.ts';

/**
 * Webhook endpoints and inbound integrations (apiFunctionRoutes.webhooks): the deliveries queue
 * (SQS, for replays and tests) and the address checks of endpoints' URLs are in this bundle only.
 */
export const webhooksImplementations: FunctionImplementations<'webhooks', ApiBaseDeps & WebhookApiDeps> = {
  ...webhookRoutes,
  ...integrationRoutes,
};

export const handler = apiHandler(apiDepsFromEnv(webhookApiFunctionDeps), webhooksImplementations);
