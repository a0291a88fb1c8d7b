/**
 * `npm run bench -- console [--sites N] [--runs N]`: what the reseller console costs a browser.
 *
 * 1. Its size: the console as built for serving (console/build.ts: minified, content-hashed),
 *    its script and its stylesheet gzipped at level 9, as the console function sends them
 *    (functions/adapters/console-assets.ts). Goal: 100 KB together.
 * 2. The time to show the fleet: one process, one DynamoDB Local (in memory), the API's and the
 *    console's real handlers behind the local HTTP server as `npm start` serves them, a reseller
 *    with `--sites` sites (default 1,000), seeded with BatchWriteItem as the fleet bench seeds them
 *    (bench/fleet.ts: every status, an open incident on every 10th site, a maintenance window on
 *    every 7th). Then Debian's Chromium, headless (test/support/browser.ts), opens
 *    `/console/#/sites` with the reseller's read-only key already in the tab's sessionStorage (as
 *    after a sign-in), and the time is measured in the page from the navigation's start to the
 *    first frame that shows the table's last (the `--sites`th) row: the page, the script and the
 *    stylesheet loaded, the key checked (`GET /v1/reseller`), the customers read, the fleet
 *    read page by page (100 sites a request, one after the other: each page's cursor comes with
 *    the previous one) and every row rendered. One uncounted load warms the engine, the server and
 *    the browser's cache up (the hashed files are cached for a year, as a returning reader has
 *    them); then `--runs` loads (default 5), each in a new tab; the figure is their median, and
 *    the cold first load is printed beside it. Goal: 1 s at 1,000 sites.
 *
 * Prints `name: value` lines on stdout (progress on stderr).
 */
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { buildConsole } from '../console/build.ts';
import { customerSk, resellerPk } from '../functions/adapters/tenancy-items.ts';
import { defaultSettings } from '../functions/domain/settings.ts';
import { newKeyRecord } from '../functions/http/api/resellers.ts';
import { startLocalStack } from '../local/local-stack.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { customerId, itemsOf, now, resellerId, seed } from './fleet.ts';
import { percentile } from './load.ts';
import { UsageError } from './usage-error.ts';

/** The goals of issue 16. */
const goals = { gzipBytes: 100 * 1024, sitesViewMs: 1_000 };

/** Longest wait for one load of the Sites view before the bench gives up. */
const loadTimeoutMs = 120_000;

/** One load of the Sites view, in ms from the navigation's start. */
interface Load {
  /** The frame that shows the last row. */
  shownMs: number;
  /** The fleet's last page received. */
  fleetMs: number;
  fleetRequests: number;
}

function count(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  if (!Number.isInteger(x) || x < min || x > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return x;
}

export async function consoleBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { sites: { type: 'string' }, runs: { type: 'string' } }, strict: true });
  const sites = count('sites', values.sites, 1_000, 1, 10_000);
  const runs = count('runs', values.runs, 5, 1, 51);
  const progress = (line: string) => {
    console.error(`bench console: ${line}`);
  };

  progress('building the console (esbuild)');
  const files = await buildConsole();
  const gzipped = (extension: string) =>
    Object.entries(files)
      .filter(([name]) => name.endsWith(extension))
      .reduce((sum, [, bytes]) => sum + gzipSync(bytes, { level: 9 }).length, 0);
  const raw = (extension: string) =>
    Object.entries(files)
      .filter(([name]) => name.endsWith(extension))
      .reduce((sum, [, bytes]) => sum + bytes.length, 0);
  const js = gzipped('.js');
  const css = gzipped('.css');

  progress('starting DynamoDB Local (in memory) and the local stack (the reseller API and the console)');
  const stack = await startLocalStack({
    tableName: 'console',
    settings: defaultSettings,
    clock: () => now,
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    serve: { api: true, console: 'now' },
  });
  const { dynamo: client, tableName, api: deps, url } = stack;
  const browser = await launchBrowser();
  const browserVersion = browser.version();
  const loads: Load[] = [];
  let cold: number;
  try {
    const key = newKeyRecord(resellerId, 'bench', 'read-only', now);
    await deps.resellers.createReseller(
      { resellerId, name: 'Bench reseller', targets: { availability: 0.999, timeToAcknowledgeMs: 900_000 }, createdAt: now },
      key.record,
    );
    const items: Record<string, unknown>[] = [
      { pk: resellerPk(resellerId), sk: customerSk(customerId), customerId, name: 'Bench customer', createdAt: now },
    ];
    for (let i = 0; i < sites; i++) items.push(...itemsOf(i));
    progress(`seeding ${sites} sites (${items.length} items)`);
    await seed(client, tableName, items, progress);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // As after a sign-in: the key in the tab's sessionStorage before the console's script runs.
    await context.addInitScript((secret) => {
      sessionStorage.setItem('tiebreak.apiKey', secret);
    }, key.key);
    const load = async (): Promise<Load> => {
      const page = await context.newPage();
      try {
        await page.goto(`${url}/console/#/sites`, { waitUntil: 'commit' });
        // Measured in the page: from the navigation's start (performance's time origin) to the frame
        // that shows the last row; and, from Resource Timing, when the last page of the fleet arrived.
        const shown = await page.waitForFunction(
          (expected) => {
            const rows = document.querySelectorAll('table.sites tbody tr').length;
            if (rows < expected) return false;
            const fleet = performance
              .getEntriesByType('resource')
              .filter((entry) => entry.name.includes('/v1/sites')) as PerformanceResourceTiming[];
            return {
              shownMs: performance.now(),
              fleetMs: Math.max(...fleet.map((entry) => entry.responseEnd)),
              fleetRequests: fleet.length,
            };
          },
          sites,
          { polling: 'raf', timeout: loadTimeoutMs },
        );
        return (await shown.jsonValue()) as Load;
      } finally {
        await page.close();
      }
    };
    progress('one load to warm up (uncounted but printed: the cold first load)');
    cold = (await load()).shownMs;
    for (let run = 1; run <= runs; run++) {
      const one = await load();
      progress(
        `load ${run} of ${runs}: ${one.shownMs.toFixed(0)} ms (the fleet's last page at ${one.fleetMs.toFixed(0)} ms, ${one.fleetRequests} requests)`,
      );
      loads.push(one);
    }
    await context.close();
  } finally {
    await browser.close();
    await stack.stop();
  }

  const figures: [string, string | number][] = [
    ['console_js_bytes', raw('.js')],
    ['console_css_bytes', raw('.css')],
    ['console_js_gzip_bytes', js],
    ['console_css_gzip_bytes', css],
    ['console_gzip_bytes', js + css],
    ['console_gzip_goal_bytes', goals.gzipBytes],
    ['sites', sites],
    [
      'sites_view_ms_median',
      percentile(
        loads.map((l) => l.shownMs),
        50,
      ).toFixed(0),
    ],
    ['sites_view_ms_runs', loads.map((l) => l.shownMs.toFixed(0)).join(', ')],
    [
      'fleet_loaded_ms_median',
      percentile(
        loads.map((l) => l.fleetMs),
        50,
      ).toFixed(0),
    ],
    ['fleet_requests', loads[0]?.fleetRequests ?? 0],
    [
      'render_after_fleet_ms_median',
      percentile(
        loads.map((l) => l.shownMs - l.fleetMs),
        50,
      ).toFixed(0),
    ],
    ['sites_view_ms_cold_first_load', cold.toFixed(0)],
    ['sites_view_goal_ms', goals.sitesViewMs],
    ['browser', `Chromium ${browserVersion}, headless, 1280×900`],
    ['engine', 'DynamoDB Local in memory and the local server, this machine: latencies are local ones'],
  ];
  for (const [name, value] of figures) console.log(`${name}: ${String(value)}`);
  return 0;
}
