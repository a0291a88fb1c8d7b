import { apiDepsFromEnv, apiFunctionDeps, type AccountDeps, type ApiBaseDeps } from '../adapters/api-config.ts';
import { apiHandler, type FunctionImplementations } from '../http/api-handler.ts';
import { enrollRoutes } from '../http/api/enroll.ts';
import { incidentRoutes } from '../http/api/incidents.ts';
import { linkRoutes } from '../http/api/links.ts';
import { resellerRoutes } from '../http/api/resellers.ts';
import { siteRecordRoutes } from '../http/api/site-records.ts';
import { siteRoutes } from '../http/api/sites.ts';
import { survivorRoutes } from '../http/api/survivor.ts';

/**
 * The reseller's account, customers, sites (survivor mode, maintenance, trails), incidents with
 * their one-click links, and node enrollment: the routes of apiFunctionRoutes.api, on the table
 * alone (no queue, topic or PDF library in this bundle).
 */
export const apiImplementations: FunctionImplementations<'api', ApiBaseDeps & AccountDeps> = {
  ...resellerRoutes,
  ...siteRoutes,
  ...survivorRoutes,
  ...siteRecordRoutes,
  ...incidentRoutes,
  ...linkRoutes,
  ...enrollRoutes,
};

export const handler = apiHandler(apiDepsFromEnv(apiFunctionDeps), apiImplementations);
