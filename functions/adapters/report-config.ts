import { type ApiBaseDeps, apiBaseDeps, type ApiDeps, type ApiDepsOptions } from './api-config.ts';
import { AuditTrail } from './audit-trail.ts';
import { documentClient } from './dynamo-clients.ts';
import { defaultRetention } from './retention.ts';
import { SiteAdminStore } from './site-admin-store.ts';

/** The report function's own deps: the reseller's sites and their trails (the reseller store is the middlewares'). */
export type ReportDeps = Pick<ApiDeps, 'sites' | 'trail'>;

/** The report function's assembly. */
export function reportFunctionDeps(options: ApiDepsOptions): ApiBaseDeps & ReportDeps {
  const doc = documentClient(options.dynamo);
  return {
    ...apiBaseDeps(options),
    sites: new SiteAdminStore(doc, options.tableName),
    trail: new AuditTrail(doc, options.tableName, (options.retention ?? defaultRetention).auditTrailDays),
  };
}
