import { apiDepsFromEnv, type ApiBaseDeps } from '../adapters/api-config.ts';
import { reportFunctionDeps, type ReportDeps } from '../adapters/report-config.ts';
import { apiHandler, type FunctionImplementations } from '../http/api-handler.ts';
import { reportRoutes } from '../http/api/report.ts';

/** The SLA report (apiFunctionRoutes.report) in a function of its own: the PDF renderer is in no other bundle, nor loaded at another's cold start. */
export const reportImplementations: FunctionImplementations<'report', ApiBaseDeps & ReportDeps> = reportRoutes;

export const handler = apiHandler(apiDepsFromEnv(reportFunctionDeps), reportImplementations);
