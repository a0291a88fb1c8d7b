import { parseBound, loadSlaReport } from '../../adapters/sla-source.ts';
import { renderSlaReport } from '../../domain/sla-render.ts';
import { type ApiImplementations, notFound, resellerOf } from './call.ts';

const contentTypes = { json: 'application/json', csv: 'text/csv; charset=utf-8', html: 'text/html; charset=utf-8' } as const;

export const reportRoutes = {
  'GET /v1/reports/sla': async (call) => {
    const format = call.query.format ?? 'json';
    const report = await loadSlaReport(call.deps, resellerOf(call), parseBound(call.query.from), parseBound(call.query.to), call.now, call.query.siteId);
    if (!report) throw notFound(call.query.siteId ? 'the site' : 'the reseller');
    return {
      statusCode: 200,
      headers: { 'content-type': contentTypes[format], 'cache-control': 'no-store' },
      body: renderSlaReport(report, format),
    };
  },
} satisfies Partial<ApiImplementations>;
