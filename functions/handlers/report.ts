import { apiDepsFromEnv } from '../adapters/api-config.ts';
import { apiHandler } from '../http/api-handler.ts';
import { reportRoutes } from '../http/api/report.ts';

/** The SLA report (GET /v1/reports/sla) in a function of its own: the PDF renderer is not in the api's bundle, nor loaded at its cold start. */
export const handler = apiHandler(apiDepsFromEnv, reportRoutes);
