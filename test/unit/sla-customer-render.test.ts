/**
 * The customer's SLA report laid out as HTML and as PDF. The PDF is read back with poppler
 * (pdftotext, pdfinfo), as a reader's viewer would see it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderCustomerPdf, toWinAnsi } from '../../functions/adapters/sla-customer-pdf.ts';
import { renderCustomerHtml } from '../../functions/domain/sla-customer-html.ts';
import type { CustomerReportView } from '../../functions/domain/sla-customer-view.ts';
import { busyTimeline, empfang, labor, sampleView } from '../support/customer-report-sample.ts';

const run = promisify(execFile);
const verdictTexts = sampleView.sites.flatMap((s) => s.verdicts.map((v) => v.text));
/** pdftotext -layout pads columns with runs of spaces and wraps cells: compare on single spaces. */
const squeeze = (text: string): string => text.replace(/\s+/g, ' ');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sla-pdf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writePdf(name: string, view: CustomerReportView): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, await renderCustomerPdf(view));
  return file;
}

async function pdfText(file: string, pages?: { first: number; last: number }): Promise<string> {
  const range = pages ? ['-f', String(pages.first), '-l', String(pages.last)] : [];
  const { stdout } = await run('pdftotext', ['-layout', '-enc', 'UTF-8', ...range, file, '-']);
  return squeeze(stdout);
}

async function pdfInfo(file: string): Promise<{ pages: number; pageSize: string }> {
  const { stdout } = await run('pdfinfo', [file]);
  return { pages: Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]), pageSize: /^Page size:\s+(.*)$/m.exec(stdout)?.[1]?.trim() ?? '' };
}

describe('the HTML page', () => {
  const html = renderCustomerHtml(sampleView);

  test('shows the reseller, the customer, the period, the partial note and when it was made', () => {
    for (const text of [
      'Systemhaus Brandt GmbH',
      'Service report — Zahnarztpraxis Müller',
      sampleView.periodLabel,
      sampleView.partialNote!,
      sampleView.generatedAt,
    ]) {
      expect(html).toContain(text);
    }
  });

  test('shows each verdict, marked met, missed or open', () => {
    for (const text of verdictTexts) expect(html).toContain(text);
    expect(html).toMatch(
      /<li class="missed"><span class="mark" aria-hidden="true">✗<\/span><span>Availability 99.71 % — target 99.9 % missed<\/span><\/li>/,
    );
    expect(html).toMatch(
      /<li class="met"><span class="mark" aria-hidden="true">✓<\/span><span>Availability 100 % — target 99.9 % met<\/span><\/li>/,
    );
    expect(html).toMatch(/<li class="open"><span class="mark" aria-hidden="true">—<\/span>/);
  });

  test('lists the timeline, the omitted events, incidents, maintenance, notes and how it is measured', () => {
    for (const t of busyTimeline) expect(html).toContain(`<tr><td>${t.at}</td><td>${t.text}</td></tr>`);
    expect(html).toContain('… and 12 more events in the detailed report (CSV/JSON).');
    expect(html).toContain('<td>No primary: Praxis-Server 1 and Praxis-Server 2 both unreachable</td>');
    expect(html).toContain('<td>9 min (target 15 min met)</td>');
    expect(html).toContain('<td>Windows updates and a new UPS battery – planned with the practice</td>');
    expect(html).toContain('<li>Costs of the UPS battery (129 €) are billed separately.</li>');
    for (const p of sampleView.howMeasured) expect(html).toContain(`<p>${p}</p>`);
  });

  test('says "None in this period." instead of an empty table', () => {
    const labSection = html.slice(html.indexOf('Labor &lt;script&gt;'));
    expect(labSection.match(/None in this period\./g)).toHaveLength(3);
    expect(labSection).not.toContain('<table class="incidents">');
  });

  test('escapes the text it is given and runs no script', () => {
    expect(html).toContain('<h2>Labor &lt;script&gt;alert(1)&lt;/script&gt;</h2>');
    expect(html).toContain('Empfang &amp; Verwaltung');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/(src|href)=/);
  });

  test('is laid out for an A4 sheet', () => {
    expect(html).toContain('@page { size: A4; margin: 15mm; }');
    expect(html).toContain('max-width: 180mm');
    expect(html).toMatch(/\.site \{ break-inside: avoid;/);
  });

  test('keeps a short site on one sheet, and lets a site longer than a sheet flow from where it starts', () => {
    expect(html).toContain('<section class="site long">\n<div class="summary">\n<h2>Empfang &amp; Verwaltung</h2>');
    expect(html).toContain('<section class="site">\n<div class="summary">\n<h2>Labor &lt;script&gt;');
  });

  test("covering all customers, it names each site's customer", () => {
    const all = renderCustomerHtml({
      ...sampleView,
      title: 'Service report — Systemhaus Brandt GmbH',
      customerName: null,
      partialNote: null,
    });
    expect(all).toContain('<dt>Customer</dt><dd>All customers</dd>');
    expect(all).toContain('<h2>Empfang &amp; Verwaltung <span class="customer">— Zahnarztpraxis Müller</span></h2>');
    expect(all).not.toContain('class="partial"');
  });
});

describe('the PDF', () => {
  let file: string;
  let text: string;
  beforeAll(async () => {
    file = await writePdf('sample.pdf', sampleView);
    text = await pdfText(file);
  });

  test('is A4 portrait, several pages long', async () => {
    const info = await pdfInfo(file);
    expect(info.pageSize).toBe('595.28 x 841.89 pts (A4)');
    expect(info.pages).toBeGreaterThanOrEqual(2);
  });

  test('shows the reseller, the customer with its umlaut, the period and the partial note', () => {
    expect(text).toContain('SYSTEMHAUS BRANDT GMBH');
    expect(text).toContain('Service report — Zahnarztpraxis Müller');
    expect(text).toContain('Customer Zahnarztpraxis Müller');
    expect(text).toContain('Period 1 Dec 2026 – 31 Dec 2026 (times in Europe/Berlin)');
    expect(text).toContain(sampleView.partialNote);
    expect(text).toContain(`Generated ${sampleView.generatedAt}`);
  });

  test('shows each verdict', () => {
    for (const verdict of verdictTexts) expect(text).toContain(verdict);
  });

  test('lets a long timeline flow onto the next pages, every event kept, the header repeated', async () => {
    for (const t of busyTimeline) expect(text).toContain(t.text);
    const second = await pdfText(file, { first: 2, last: 2 });
    expect(second).toMatch(/^ ?When Event /);
    expect(busyTimeline.some((t) => second.includes(`${t.at} ${t.text}`))).toBe(true);
    expect(text).toContain('… and 12 more events in the detailed report (CSV/JSON).');
  });

  test('shows incidents, maintenance, notes, the empty lists and how it is measured, in the order of the HTML', () => {
    const order = [
      'Empfang & Verwaltung',
      'What happened',
      'Incidents What Opened Acknowledged Resolved Time to acknowledge',
      'Planned maintenance From To Reason Declared',
      '• Costs of the UPS battery (129 €) are billed separately.',
      'Labor <script>alert(1)</script>',
      'Incidents None in this period. Planned maintenance None in this period. Notes None in this period.',
      'How these figures are measured',
      'Time to acknowledge runs from the moment an incident opened until a person confirmed they were working on it.',
    ];
    const positions = order.map((part) => text.indexOf(part));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  test('numbers its pages in the footer', async () => {
    const { pages } = await pdfInfo(file);
    expect(text).toContain(`Page 1 of ${pages}`);
    expect(text).toContain(`Page 2 of ${pages}`);
  });

  test('draws a name in a script its font lacks as question marks, and still renders', async () => {
    const tokyo = await writePdf('tokyo.pdf', {
      ...sampleView,
      customerName: '東京オフィス',
      title: 'Service report — 東京オフィス 🏢',
      sites: [
        { ...labor, siteName: '東京オフィス', customerName: '東京オフィス' },
        { ...empfang, timeline: busyTimeline.slice(0, 3) },
      ],
    });
    expect((await pdfInfo(tokyo)).pages).toBeGreaterThanOrEqual(1);
    const tokyoText = await pdfText(tokyo);
    expect(tokyoText).toContain('Service report — ?????? ?');
    expect(tokyoText).toContain('Customer ??????');
  });
});

describe('toWinAnsi', () => {
  test('keeps what the standard fonts draw, spaces out narrow spaces, replaces the rest', () => {
    expect(toWinAnsi('Müller – — é € “x” …')).toBe('Müller – — é € “x” …');
    expect(toWinAnsi('1:45\u202FPM')).toBe('1:45 PM');
    expect(toWinAnsi('東京 👍 a\tb')).toBe('?? ? a b');
  });
});
