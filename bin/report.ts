#!/usr/bin/env node
/**
 * `npm run report -- --from 2026-11-01 --to 2026-12-01 [--format json|csv|html|pdf] …`
 * The reseller's SLA report, from the running service's `GET /v1/reports/sla` (computed there from
 * the audit trail). The service and the key are found as every command finds them (bin/cli/service.ts).
 */
import { writeFile } from 'node:fs/promises';
import { parseCommand } from './cli/command.ts';
import { askService, findService, keyFor, sayWhere } from './cli/service.ts';

const usage = `usage: npm run report -- --from DAY --to DAY [options]

The SLA report of a period, from the running service (npm start, or --url).

  --from, --to      the period: days (2026-11-01, local midnight in the report's zone) or
                    instants (2026-11-01T08:00:00Z); --to is excluded (required)
  --format F        json (default) or csv: every figure with the event ids it comes from;
                    html or pdf: the customer's report, in words and local times, no ids
  --customer C      only customer C's sites, with the customer's name on the report
  --site S          only site S
  --tz ZONE         IANA time zone for days and times (default: the reseller's, else UTC)
  --out FILE        write to FILE (a pdf needs it unless standard output is redirected)
  --reseller R      check that the key is reseller R's (the key says whose report it is)
  --url URL         the service (else TIEBREAK_URL, else the local npm start's, else http://127.0.0.1:8787)
  -h, --help        this text

The reseller's API key comes from TIEBREAK_API_KEY, else, for the local npm start, its demo
reseller's key (in .tiebreak/local/demo-site.json, or under TIEBREAK_DATA_DIR).
A period that has not ended is measured up to now, and says so.`;

const formats = ['json', 'csv', 'html', 'pdf'];
const command = parseCommand({
  name: 'report',
  usage,
  help: 'npm run report -- --help',
  options: {
    reseller: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string', default: 'json' },
    customer: { type: 'string' },
    site: { type: 'string' },
    tz: { type: 'string' },
    out: { type: 'string' },
    url: { type: 'string' },
  },
});
const { values, refuse } = command;
const from = values.from ?? refuse('--from and --to are required');
const to = values.to ?? refuse('--from and --to are required');
if (!formats.includes(values.format)) refuse(`--format ${values.format}: json, csv, html or pdf`);
if (values.format === 'pdf' && !values.out && process.stdout.isTTY) refuse('a PDF is not for a terminal: pass --out report.pdf');

const service = await findService({ url: values.url });
const key = keyFor(command, service);
// tbk.<resellerId>.<keyId>.<secret>
const keyReseller = key.split('.')[1];
if (values.reseller && keyReseller !== values.reseller) {
  refuse(`the API key (from ${service.keyFrom ?? '?'}) is not one of reseller ${values.reseller}: set TIEBREAK_API_KEY to one`);
}
sayWhere('report', service);

const query = new URLSearchParams({
  from,
  to,
  format: values.format,
  ...(values.site ? { siteId: values.site } : {}),
  ...(values.customer ? { customerId: values.customer } : {}),
  ...(values.tz ? { tz: values.tz } : {}),
});
const response = await askService(command, service, `/v1/reports/sla?${query.toString()}`);
const body = Buffer.from(await response.arrayBuffer());
if (values.out) {
  await writeFile(values.out, body);
  console.error(`report: ${values.format} written to ${values.out} (${body.length} bytes)`);
} else {
  process.stdout.write(body);
  if (values.format !== 'pdf' && body.at(-1) !== 0x0a) process.stdout.write('\n');
}
