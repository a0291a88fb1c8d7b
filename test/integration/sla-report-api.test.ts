import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../protocol/events.ts';
import { setUpReseller, startApi, type TestApi } from '../support/api.ts';

let api: TestApi;
let reseller: Awaited<ReturnType<typeof setUpReseller>>;
const day = Date.parse('2026-11-10T00:00:00Z');
const h = 3_600_000;

function event(id: string, type: StoredEvent['type'], at: number, data: Partial<StoredEvent['data']> = {}): StoredEvent {
  return {
    id,
    type,
    timestamp: new Date(at).toISOString(),
    data: { resellerId: reseller.resellerId, siteId: reseller.siteId, severity: 'info', ...data },
  };
}

beforeAll(async () => {
  api = await startApi();
  // The site exists from October: the report judges a site from its creation on.
  api.clock.ms = Date.parse('2026-10-01T00:00:00Z');
  reseller = await setUpReseller(api);
  // The synthetic trail of November: node-a primary since before the month; on the 10th it is
  // lost at 10:00 (lease ended 10:00) and node-b is granted at 10:00:30; an incident opened at
  // 10:00:10 is acknowledged at 10:05:10 and resolved at 10:30:10.
  const trail = [
    event('e1', 'failover.granted', Date.parse('2026-10-20T08:00:00Z'), {
      nodeId: 'node-a',
      epoch: 1,
      previousPrimary: null,
      previousLeaseEndedAt: null,
    }),
    event('e2', 'node.lost', day + 10 * h, { nodeId: 'node-a', leaseEndedAt: day + 10 * h, severity: 'critical' }),
    event('e3', 'incident.opened', day + 10 * h + 10_000, { incidentId: 'i1', kind: 'node.lost' }),
    event('e4', 'failover.granted', day + 10 * h + 30_000, {
      nodeId: 'node-b',
      epoch: 2,
      previousPrimary: 'node-a',
      previousLeaseEndedAt: day + 10 * h,
    }),
    event('e5', 'incident.acknowledged', day + 10 * h + 310_000, { incidentId: 'i1' }),
    event('e6', 'incident.resolved', day + 10 * h + 1_810_000, { incidentId: 'i1' }),
  ];
  // Delivered twice (at least once): the trail keeps one of each.
  for (const e of [...trail, ...trail]) await api.api.trail.appendEvent(e);
  // Reports are made in December, after the month they cover.
  api.clock.ms = Date.parse('2026-12-06T12:00:00Z');
  dir = await mkdtemp(join(tmpdir(), 'sla-report-'));
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

let dir: string;
const run = promisify(execFile);

/** The text of a PDF as a reader's viewer shows it (poppler), on single spaces. */
async function pdfText(bytes: Buffer): Promise<string> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.pdf`);
  await writeFile(file, bytes);
  const { stdout } = await run('pdftotext', ['-layout', file, '-']);
  return stdout.replace(/\s+/g, ' ');
}

async function download(path: string, key: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const response = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

describe('the SLA report, from the audit trail', () => {
  it('GET /v1/reports/sla answers the figures of the period, each traced to its events', async () => {
    const answer = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01', reseller.key);
    expect(answer.status).toBe(200);
    const report = answer.body as {
      sites: {
        heldMs: number;
        downtimeMs: number;
        availability: number;
        failovers: { durationMs: number; eventIds: string[] }[];
        incidents: { timeToAcknowledgeMs: number; timeToResolveMs: number }[];
        targets: { availability: { met: boolean }; timeToAcknowledge: { met: boolean } };
      }[];
    };
    const [site] = report.sites;
    // 30 days = 2,592,000 s; no primary for 30 s (10:00:00 to 10:00:30 on the 10th).
    expect(site?.downtimeMs).toBe(30_000);
    expect(site?.heldMs).toBe(30 * 24 * h - 30_000);
    expect(site?.availability).toBeCloseTo(1 - 30 / 2_592_000, 12);
    expect(site?.failovers).toEqual([expect.objectContaining({ durationMs: 30_000, eventIds: expect.arrayContaining(['e4']) as unknown })]);
    // Acknowledged after 300 s (within the default 15 min), resolved after 1,800 s.
    expect(site?.incidents).toEqual([expect.objectContaining({ timeToAcknowledgeMs: 300_000, timeToResolveMs: 1_800_000 })]);
    expect(site?.targets.availability.met).toBe(true);
    expect(site?.targets.timeToAcknowledge.met).toBe(true);
  });

  it('serves CSV, and the customer report as HTML, and lists the trail itself at /v1/sites/{siteId}/events', async () => {
    const csv = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01&format=csv', reseller.key);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text).toContain(reseller.siteId);
    const html = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01&format=html&customerId=dental', reseller.key);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.text).toContain(`Reseller ${reseller.resellerId}`);
    expect(html.text).toContain('Dental office');
    expect(html.text).toContain('Availability 99.998 % — target 99.9 % met');
    expect(html.text).toContain('Server node-a stopped; server node-b took over in 30 s.');
    // The customer reads names and words, not the trail's ids.
    expect(html.text).not.toMatch(/"e4"|>e4<|\be4\b/);
    const events = await api.call(
      'GET',
      `/v1/sites/${reseller.siteId}/events?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z`,
      reseller.key,
    );
    expect((events.body as { items: { id: string }[] }).items.map((e) => e.id)).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
  });

  it('refuses a period that ends before it starts, and a site that is not the caller’s', async () => {
    expect((await api.call('GET', '/v1/reports/sla?from=2026-12-01&to=2026-11-01', reseller.key)).status).toBe(400);
    const other = await setUpReseller(api);
    const foreign = await api.call('GET', `/v1/reports/sla?from=2026-11-01&to=2026-12-01&siteId=${reseller.siteId}`, other.key);
    // The other reseller's site of that name has an empty trail: its report holds no figure of ours.
    // Quoted: a random reseller id such as "r-306ce4" may hold the bare letters.
    expect(foreign.status).toBe(200);
    expect(foreign.text).not.toContain('"e4"');
    const [site] = (foreign.body as { sites: { failovers: unknown[] }[] }).sites;
    expect(site?.failovers ?? []).toEqual([]);
  });

  it('the PDF for one customer: names, the verdict and what happened, read back as a viewer shows it', async () => {
    const pdf = await download('/v1/reports/sla?from=2026-11-01&to=2026-12-01&format=pdf&customerId=dental', reseller.key);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toBe('attachment; filename="sla-report-dental-2026-11-01.pdf"');
    expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = await pdfText(pdf.bytes);
    // The letterhead sets the reseller's name in capitals.
    for (const words of [
      'Service report — Dental office',
      `Reseller ${reseller.resellerId}`.toUpperCase(),
      'Main office',
      '1 Nov 2026 – 30 Nov 2026 (times in UTC)',
      'Availability 99.998 % — target 99.9 % met',
      'took over in 30 s',
    ]) {
      expect(text).toContain(words);
    }
  });

  it('a customer the reseller does not have is 404; a bad zone is 400', async () => {
    expect((await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01&customerId=nobody', reseller.key)).status).toBe(404);
    const zone = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01&tz=Mars/Olympus', reseller.key);
    expect(zone.status).toBe(400);
    expect(zone.text).toContain('IANA time zone');
  });

  it('days are local midnights in the reseller’s zone, or the one asked for', async () => {
    const period = async (query: string) =>
      (await api.call('GET', `/v1/reports/sla?from=2026-11-01&to=2026-12-01${query}`, reseller.key)).body as {
        period: { from: number };
        timeZone: string;
      };
    expect(await period('&tz=Asia/Kolkata')).toMatchObject({
      period: { from: Date.parse('2026-10-31T18:30:00Z') },
      timeZone: 'Asia/Kolkata',
    });
    expect((await api.call('PATCH', '/v1/reseller', reseller.key, { timeZone: 'Europe/Berlin' })).status).toBe(200);
    expect(await period('')).toMatchObject({ period: { from: Date.parse('2026-10-31T23:00:00Z') }, timeZone: 'Europe/Berlin' });
    expect((await api.call('PATCH', '/v1/reseller', reseller.key, { timeZone: 'UTC' })).status).toBe(200);
  });

  it('a period not over is measured up to now, and says so', async () => {
    const answer = await api.call('GET', '/v1/reports/sla?from=2026-12-01&to=2027-01-01', reseller.key);
    const report = answer.body as {
      period: { observedUntil: number; partial: boolean };
      sites: { periodMs: number; downtimeMs: number }[];
    };
    expect(report.period).toMatchObject({ observedUntil: api.clock.ms, partial: true });
    expect(report.sites[0]).toMatchObject({ periodMs: api.clock.ms - Date.parse('2026-12-01T00:00:00Z'), downtimeMs: 0 });
  });

  it('`npm run report -- --format pdf --out` writes the PDF the API serves', async () => {
    const out = join(dir, 'report.pdf');
    const { stderr } = await run(
      'npx',
      [
        'tsx',
        'bin/report.ts',
        '--reseller',
        reseller.resellerId,
        '--customer',
        'dental',
        '--from',
        '2026-11-01',
        '--to',
        '2026-12-01',
        '--format',
        'pdf',
        '--out',
        out,
      ],
      // The service and the key as a reseller gives them: in the environment, not on the command line.
      { timeout: 30_000, env: { ...process.env, TIEBREAK_URL: api.url, TIEBREAK_API_KEY: reseller.key, TIEBREAK_DATA_DIR: dir } },
    );
    expect(stderr).toMatch(/report: pdf written to .*report\.pdf \(\d+ bytes\)/);
    expect(await pdfText(await readFile(out))).toContain('Availability 99.998 % — target 99.9 % met');
  });

  it('`npm run report` prints the same report', async () => {
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'bin/report.ts', '--reseller', reseller.resellerId, '--from', '2026-11-01', '--to', '2026-12-01', '--format', 'csv'],
      // The service and the key as a reseller gives them: in the environment, not on the command line.
      { timeout: 30_000, env: { ...process.env, TIEBREAK_URL: api.url, TIEBREAK_API_KEY: reseller.key, TIEBREAK_DATA_DIR: dir } },
    );
    const served = await api.call('GET', '/v1/reports/sla?from=2026-11-01&to=2026-12-01&format=csv', reseller.key);
    expect(stdout.trimEnd()).toBe(served.text.trimEnd());
  });
});
