#!/usr/bin/env node
/**
 * `npm run report -- --reseller R --from 2026-11-01 --to 2026-12-01 [--format json|csv|html|pdf] …`
 * The reseller's SLA report, from the running service's `GET /v1/reports/sla` (computed there from
 * the audit trail). Where: `--url` (default: the local `npm start`), with the reseller's API key in
 * `--key` or TIEBREAK_API_KEY (default: the local demo reseller's key, for `--reseller demo-reseller`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const usage = `usage: npm run report -- --reseller R --from DAY --to DAY [options]

The SLA report of a period, from the running service (npm start, or --url).

  --reseller R      the reseller whose sites are reported (required)
  --from, --to      the period: days (2026-11-01, local midnight in the report's zone) or
                    instants (2026-11-01T08:00:00Z); --to is excluded (required)
  --format F        json (default) or csv: every figure with the event ids it comes from;
                    html or pdf: the customer's report, in words and local times, no ids
  --customer C      only customer C's sites, with the customer's name on the report
  --site S          only site S
  --tz ZONE         IANA time zone for days and times (default: the reseller's, else UTC)
  --out FILE        write to FILE (a pdf needs it unless standard output is redirected)
  --url URL         the service (default: the local npm start's, else http://127.0.0.1:8787)
  --key KEY         the reseller's API key (or TIEBREAK_API_KEY; the local demo reseller's by default)
  -h, --help        this text

A period that has not ended is measured up to now, and says so.`;

function fail(message: string): never {
  console.error(`report: ${message}\n\n${usage}`);
  process.exit(2);
}

const parsed = (() => {
  try {
    return parseArgs({
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
        key: { type: 'string' },
        data: { type: 'string', default: process.env.TIEBREAK_DATA_DIR ?? '.tiebreak/local' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
})();
if (parsed.help) {
  console.log(usage);
  process.exit(0);
}
const values = parsed;
if (!values.reseller || !values.from || !values.to) fail('--reseller, --from and --to are required');
if (!['json', 'csv', 'html', 'pdf'].includes(values.format)) fail(`--format ${values.format}: json, csv, html or pdf`);
if (values.format === 'pdf' && !values.out && process.stdout.isTTY) fail('a PDF is not for a terminal: pass --out report.pdf');

const demo = await readFile(resolve(values.data, 'demo-site.json'), 'utf8')
  .then((text) => JSON.parse(text) as { witnessUrl?: string; resellerId?: string; apiKey?: string })
  .catch(() => undefined);
const url = values.url ?? demo?.witnessUrl ?? 'http://127.0.0.1:8787';
const key = values.key ?? process.env.TIEBREAK_API_KEY ?? (demo?.resellerId === values.reseller ? demo.apiKey : undefined);
if (!key) fail(`no API key for reseller ${values.reseller}: pass --key or set TIEBREAK_API_KEY`);
if (!key.startsWith(`tbk.${values.reseller}.`)) fail(`the API key is not one of reseller ${values.reseller}`);

const query = new URLSearchParams({
  from: values.from,
  to: values.to,
  format: values.format,
  ...(values.site ? { siteId: values.site } : {}),
  ...(values.customer ? { customerId: values.customer } : {}),
  ...(values.tz ? { tz: values.tz } : {}),
});
const response = await fetch(new URL(`/v1/reports/sla?${query.toString()}`, url), { headers: { authorization: `Bearer ${key}` } }).catch(
  (error: unknown) => fail(`cannot reach ${url}: ${error instanceof Error ? error.message : String(error)} (is \`npm start\` running?)`),
);
const body = Buffer.from(await response.arrayBuffer());
if (!response.ok) {
  console.error(`report: the service answered ${response.status}: ${body.toString('utf8')}`);
  process.exit(1);
}
if (values.out) {
  await writeFile(values.out, body);
  console.error(`report: ${values.format} written to ${values.out} (${body.length} bytes)`);
} else {
  process.stdout.write(body);
  if (values.format !== 'pdf' && body.at(-1) !== 0x0a) process.stdout.write('\n');
}
