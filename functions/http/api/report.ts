import { customerNamesOf, loadSlaReport } from '../../adapters/sla-source.ts';
import { renderCustomerPdf } from '../../adapters/sla-customer-pdf.ts';
import { customerView } from '../../domain/sla-customer-report.ts';
import { renderCustomerHtml } from '../../domain/sla-customer-html.ts';
import { renderSlaData } from '../../domain/sla-render.ts';
import { HttpError } from '../http-error.ts';
import { type ApiImplementations, notFound, resellerOf } from './call.ts';
import type { ApiDeps } from '../../adapters/api-config.ts';

/** The SLA report: the reseller, its sites and their trails. */
export type ReportRouteDeps = Pick<ApiDeps, 'resellers' | 'sites' | 'trail'>;

const contentTypes = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
} as const;

export const reportRoutes = {
  'GET /v1/reports/sla': async (call) => {
    const { from, to, siteId, customerId, tz } = call.query;
    const format = call.query.format ?? 'json';
    const loaded = await loadSlaReport(call.deps, {
      resellerId: resellerOf(call),
      from,
      to,
      now: call.now,
      siteId,
      customerId,
      timeZone: tz,
    });
    if ('missing' in loaded) throw notFound(loaded.missing === 'reseller' ? 'the reseller' : `the ${loaded.missing}`);
    if ('invalid' in loaded) throw new HttpError(400, 'invalid-body', loaded.invalid, [{ path: 'query.to', message: 'not after from' }]);
    const headers = { 'content-type': contentTypes[format], 'cache-control': 'no-store' };
    if (format === 'json' || format === 'csv') return { statusCode: 200, headers, body: renderSlaData(loaded.report, format) };
    const view = customerView(loaded.report, {
      resellerName: loaded.reseller.name,
      customerName: loaded.customer?.name ?? null,
      customerNames: await customerNamesOf(call.deps.resellers, loaded),
      now: call.now,
    });
    if (format === 'html') return { statusCode: 200, headers, body: renderCustomerHtml(view) };
    const pdf = await renderCustomerPdf(view);
    // Binary through API Gateway (and the local runtime): base64 with the flag set.
    const name = `sla-report-${customerId ?? resellerOf(call)}-${from.slice(0, 10)}.pdf`;
    return {
      statusCode: 200,
      headers: { ...headers, 'content-disposition': `attachment; filename="${name}"` },
      body: Buffer.from(pdf).toString('base64'),
      isBase64Encoded: true,
    };
  },
} satisfies Partial<ApiImplementations<ReportRouteDeps>>;
