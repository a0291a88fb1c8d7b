import { apiDepsFromEnv } from '../adapters/api-config.ts';
import { apiHandler, type ApiRouteImplementations } from './api-handler.ts';
import { enrollRoutes } from './api/enroll.ts';
import { escalationRoutes } from './api/escalation.ts';
import { incidentRoutes } from './api/incidents.ts';
import { integrationRoutes } from './api/integrations.ts';
import { linkRoutes } from './api/links.ts';
import type { reportRoutes } from './api/report.ts';
import { resellerRoutes } from './api/resellers.ts';
import { siteRecordRoutes } from './api/site-records.ts';
import { siteRoutes } from './api/sites.ts';
import { survivorRoutes } from './api/survivor.ts';
import { webhookRoutes } from './api/webhooks.ts';

/**
 * Every route of protocol/api-routes.ts but the SLA report's (its own function, handlers/report.ts:
 * the PDF renderer stays out of this bundle); the type makes a missing one an error.
 */
export const apiImplementations: ApiRouteImplementations<Exclude<keyof ApiRouteImplementations, keyof typeof reportRoutes>> = {
  ...resellerRoutes,
  ...siteRoutes,
  ...survivorRoutes,
  ...siteRecordRoutes,
  ...escalationRoutes,
  ...incidentRoutes,
  ...linkRoutes,
  ...enrollRoutes,
  ...webhookRoutes,
  ...integrationRoutes,
};

export const handler = apiHandler(apiDepsFromEnv, apiImplementations);
