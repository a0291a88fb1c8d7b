import { apiDepsFromEnv } from '../adapters/api-config.ts';
import { apiHandler, type ApiRouteImplementations } from '../http/api-handler.ts';
import { enrollRoutes } from '../http/api/enroll.ts';
import { escalationRoutes } from '../http/api/escalation.ts';
import { incidentRoutes } from '../http/api/incidents.ts';
import { integrationRoutes } from '../http/api/integrations.ts';
import { linkRoutes } from '../http/api/links.ts';
import type { reportRoutes } from '../http/api/report.ts';
import { resellerRoutes } from '../http/api/resellers.ts';
import { siteRecordRoutes } from '../http/api/site-records.ts';
import { siteRoutes } from '../http/api/sites.ts';
import { survivorRoutes } from '../http/api/survivor.ts';
import { webhookRoutes } from '../http/api/webhooks.ts';

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
