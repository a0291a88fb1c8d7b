#!/usr/bin/env node
/**
 * `npm run report -- --reseller R --from 2026-11-01 --to 2026-12-01 [--format json|csv|html] [--site S] [--out FILE]`
 * The reseller's SLA report, from the running service's `GET /v1/reports/sla` (computed there from
 * the audit trail). Where: `--url` (default: the local `npm start`), with the reseller's API key in
 * `--key` or TIEBREAK_API_KEY (default: the local demo reseller's key, for `--reseller demo-reseller`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const usage =
  'usage: npm run report -- --reseller R --from 2026-11-01 --to 2026-12-01 [--format json|csv|html] [--site S] [--out FILE] [--url URL] [--key API_KEY]';

function fail(message: string): never {
  console.error(`report: ${message}\n${usage}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    reseller: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string', default: 'json' },
    site: { type: 'string' },
    out: { type: 'string' },
    url: { type: 'string' },
    key: { type: 'string' },
    data: { type: 'string', default: process.env.TIEBREAK_DATA_DIR ?? '.tiebreak/local' },
  },
});
if (!values.reseller || !values.from || !values.to) fail('--reseller, --from and --to are required');

const demo = await readFile(resolve(values.data, 'demo-site.json'), 'utf8')
  .then((text) => JSON.parse(text) as { witnessUrl?: string; resellerId?: string; apiKey?: string })
  .catch(() => undefined);
const url = values.url ?? demo?.witnessUrl ?? 'http://127.0.0.1:8787';
const key = values.key ?? process.env.TIEBREAK_API_KEY ?? (demo?.resellerId === values.reseller ? demo.apiKey : undefined);
if (!key) fail(`no API key for reseller ${values.reseller}: pass --key or set TIEBREAK_API_KEY`);
if (!key.startsWith(`tbk.${values.reseller}.`)) fail(`the API key is not one of reseller ${values.reseller}`);

const query = new URLSearchParams({ from: values.from, to: values.to, format: values.format, ...(values.site ? { siteId: values.site } : {}) });
const response = await fetch(new URL(`/v1/reports/sla?${query.toString()}`, url), { headers: { authorization: `Bearer ${key}` } }).catch(
  (error: unknown) => fail(`cannot reach ${url}: ${error instanceof Error ? error.message : String(error)} (is \`npm start\` running?)`),
);
const body = await response.text();
if (!response.ok) {
  console.error(`report: the service answered ${response.status}: ${body}`);
  process.exit(1);
}
if (values.out) {
  await writeFile(values.out, body);
  console.error(`report: written to ${values.out}`);
} else {
  process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
}
