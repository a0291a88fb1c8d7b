import { jsPDF } from 'jspdf';
import { autoTable, type RowInput, type Styles, type UserOptions } from 'jspdf-autotable';
import { noneInPeriod, omittedLine, siteHeading } from '../domain/sla-customer-html.ts';
import type { CustomerReportView, CustomerSiteView, Verdict } from '../domain/sla-customer-view.ts';

// The SLA report as a customer reads it, as an A4 PDF: the same content, in the same order, as
// the HTML page (sla-customer-html.ts). jsPDF's standard fonts carry their metrics in its code,
// so the bundled Lambda reads no file; jspdf-autotable wraps cells and breaks pages.

type Rgb = [number, number, number];

const ink: Rgb = [31, 35, 40];
const muted: Rgb = [87, 96, 106];
const rule: Rgb = [208, 215, 222];
const headFill: Rgb = [246, 248, 250];
const green: Rgb = [26, 127, 55];
const red: Rgb = [207, 34, 46];
const grey: Rgb = [110, 119, 129];

const mm = 72 / 25.4;
const margin = 15 * mm;
/** Room kept under the content for the page footer. */
const footerRoom = 14;

// The standard fonts are WinAnsi (cp1252): Latin-1 and these. Anything else is drawn as "?"
// rather than as the wrong glyph.
const cp1252Extras = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const lookalikes: Record<string, string> = {
  '\u2002': ' ',
  '\u2003': ' ',
  '\u2007': ' ',
  '\u2009': ' ',
  '\u200A': ' ',
  '\u202F': ' ', // Intl puts a narrow no-break space before AM/PM
  '\u2010': '-',
  '\u2011': '-',
  '\u2212': '-',
  '\u2032': "'",
  '\u2033': '"',
  '\u2713': 'v',
  '\u2714': 'v',
  '\u2717': 'x',
  '\u2718': 'x',
};

/** `text` with only characters the standard fonts can draw. */
export function toWinAnsi(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || cp1252Extras.has(ch)) out += ch;
    else if (code < 0x20 || code === 0x7f) out += ' ';
    else out += lookalikes[ch] ?? '?';
  }
  return out;
}

interface TextStyle {
  size: number;
  style?: 'normal' | 'bold' | 'italic';
  color?: Rgb;
  /** Space under the last line. */
  after?: number;
  indent?: number;
  lineHeight?: number;
}

/** Where the next block goes; a block that does not fit starts a new page. */
class Flow {
  readonly doc = new jsPDF({ unit: 'pt', format: 'a4', orientation: 'portrait', compress: true, putOnlyUsedFonts: true });
  readonly width = this.doc.internal.pageSize.getWidth();
  readonly height = this.doc.internal.pageSize.getHeight();
  readonly left = margin;
  readonly contentWidth = this.width - 2 * margin;
  readonly bottom = this.height - margin - footerRoom;
  y = margin;

  /** Starts a new page unless `height` more points fit on this one. */
  keep(height: number): void {
    if (this.y + height > this.bottom) this.newPage();
  }

  newPage(): void {
    this.doc.addPage();
    this.y = margin;
  }

  text(text: string, s: TextStyle): void {
    const { doc } = this;
    const indent = s.indent ?? 0;
    const lineHeight = s.size * (s.lineHeight ?? 1.3);
    doc.setFont('helvetica', s.style ?? 'normal');
    doc.setFontSize(s.size);
    doc.setTextColor(...(s.color ?? ink));
    const lines = doc.splitTextToSize(toWinAnsi(text), this.contentWidth - indent) as string[];
    for (const line of lines) {
      this.keep(lineHeight);
      doc.text(line, this.left + indent, this.y, { baseline: 'top' });
      this.y += lineHeight;
    }
    this.y += s.after ?? 0;
  }

  line(color: Rgb, width = 0.6): void {
    this.doc.setDrawColor(...color);
    this.doc.setLineWidth(width);
    this.doc.line(this.left, this.y, this.left + this.contentWidth, this.y);
  }

  /** A table from here on, flowing over as many pages as it needs. */
  table(options: UserOptions, after = 8): void {
    autoTable(this.doc, {
      theme: 'plain',
      startY: this.y,
      margin: { top: margin, bottom: this.height - this.bottom, left: margin, right: margin },
      rowPageBreak: 'avoid',
      tableWidth: this.contentWidth,
      ...options,
      styles: {
        font: 'helvetica',
        fontSize: 9,
        textColor: ink,
        cellPadding: { top: 3, bottom: 3, left: 4, right: 4 },
        overflow: 'linebreak',
        ...options.styles,
      },
      didDrawPage: (data) => {
        this.y = data.cursor?.y ?? this.y;
      },
    });
    this.y += after;
  }
}

const pct = (flow: Flow, share: number): number => flow.contentWidth * share;

/** Thin rules between rows, a tinted header repeated on each page the table runs onto. */
function listStyles(flow: Flow, widths: readonly number[]): UserOptions {
  const columnStyles: Record<string, Partial<Styles>> = {};
  widths.forEach((w, i) => {
    if (w > 0) columnStyles[String(i)] = { cellWidth: pct(flow, w) };
  });
  return {
    showHead: 'everyPage',
    styles: { lineColor: rule, lineWidth: { bottom: 0.5 } },
    headStyles: { fillColor: headFill, fontStyle: 'bold', textColor: ink },
    columnStyles,
  };
}

const cells = (row: readonly string[]): RowInput => row.map(toWinAnsi);

function subheading(flow: Flow, text: string): void {
  // A heading alone at the foot of a page reads as cut off: keep it with its first rows.
  flow.keep(60);
  flow.y += 4;
  flow.text(text, { size: 10.5, style: 'bold', color: [66, 74, 83], after: 4 });
}

function none(flow: Flow): void {
  flow.text(noneInPeriod, { size: 9.5, color: muted, after: 6 });
}

function listTable(
  flow: Flow,
  caption: string,
  head: readonly string[],
  widths: readonly number[],
  rows: readonly (readonly string[])[],
): void {
  subheading(flow, caption);
  if (rows.length === 0) {
    none(flow);
    return;
  }
  flow.table({ ...listStyles(flow, widths), head: [cells(head)], body: rows.map(cells) });
}

// ZapfDingbats ✔ and ✘, coloured; a grey dash when there is nothing to judge yet.
const marks = {
  met: { glyph: '4', color: green, font: 'zapfdingbats' },
  missed: { glyph: '8', color: red, font: 'zapfdingbats' },
  open: { glyph: '—', color: grey, font: 'helvetica' },
} as const;

const markOf = (v: Verdict) => (v.met === true ? marks.met : v.met === false ? marks.missed : marks.open);

function verdicts(flow: Flow, list: readonly Verdict[]): void {
  if (list.length === 0) return;
  flow.table(
    {
      body: list.map((v) => {
        const mark = markOf(v);
        return [
          { content: mark.glyph, styles: { font: mark.font, textColor: mark.color, fontStyle: 'normal', halign: 'center' } },
          toWinAnsi(v.text),
        ];
      }),
      styles: { fontSize: 10, cellPadding: { top: 2, bottom: 2, left: 0, right: 4 } },
      columnStyles: { '0': { cellWidth: 16 } },
    },
    6,
  );
}

function figures(flow: Flow, list: CustomerSiteView['figures']): void {
  if (list.length === 0) return;
  flow.table({
    body: list.map((f) => cells([f.label, f.value])),
    styles: { lineColor: rule, lineWidth: { bottom: 0.5 } },
    columnStyles: { '0': { cellWidth: pct(flow, 0.45), textColor: muted } },
  });
}

function site(flow: Flow, view: CustomerReportView, s: CustomerSiteView): void {
  // A site's heading starts where its verdicts fit under it.
  flow.keep(110);
  flow.text(siteHeading(view, s), { size: 13.5, style: 'bold', after: 2 });
  flow.line(rule);
  flow.y += 6;
  if (s.liveNote !== null) flow.text(s.liveNote, { size: 9.5, style: 'italic', color: muted, after: 4 });
  verdicts(flow, s.verdicts);
  figures(flow, s.figures);

  listTable(
    flow,
    'What happened',
    ['When', 'Event'],
    [0.25, 0],
    s.timeline.map((t) => [t.at, t.text]),
  );
  if (s.timelineOmitted > 0) flow.text(omittedLine(s.timelineOmitted), { size: 9.5, color: muted, after: 6 });
  listTable(
    flow,
    'Incidents',
    ['What', 'Opened', 'Acknowledged', 'Resolved', 'Time to acknowledge'],
    [0.22, 0.16, 0.22, 0.16, 0],
    s.incidents.map((i) => [i.what, i.opened, i.acknowledged, i.resolved, i.timeToAcknowledge]),
  );
  listTable(
    flow,
    'Planned maintenance',
    ['From', 'To', 'Reason', 'Declared'],
    [0.22, 0.22, 0.32, 0],
    s.maintenance.map((m) => [m.from, m.to, m.reason, m.declared]),
  );
  subheading(flow, 'Notes');
  if (s.notes.length === 0) none(flow);
  for (const note of s.notes) {
    // The bullet first, on the page where the note's first line will be.
    flow.keep(9.5 * 1.3);
    flow.doc.setFont('helvetica', 'normal');
    flow.doc.setTextColor(...ink);
    flow.doc.text('•', flow.left + 2, flow.y, { baseline: 'top' });
    flow.text(note, { size: 9.5, indent: 10, after: 2 });
  }
  flow.y += 14;
}

function header(flow: Flow, view: CustomerReportView): void {
  flow.text(view.resellerName.toUpperCase(), { size: 9, color: muted, after: 3 });
  flow.text(view.title, { size: 18, style: 'bold', lineHeight: 1.2, after: 6 });
  flow.table(
    {
      body: [cells(['Customer', view.customerName ?? 'All customers']), cells(['Period', view.periodLabel])],
      styles: { fontSize: 10, cellPadding: { top: 1.5, bottom: 1.5, left: 0, right: 8 } },
      columnStyles: { '0': { cellWidth: 60, textColor: muted } },
    },
    6,
  );
  if (view.partialNote !== null) {
    flow.table(
      {
        body: [cells([view.partialNote])],
        styles: {
          fontSize: 10,
          fillColor: [255, 248, 197],
          lineColor: [191, 135, 0],
          lineWidth: { left: 2.5 },
          cellPadding: { top: 5, bottom: 5, left: 8, right: 8 },
        },
      },
      6,
    );
  }
  flow.text(`Generated ${view.generatedAt}`, { size: 9, color: muted, after: 16 });
}

function footers(flow: Flow, view: CustomerReportView): void {
  const { doc } = flow;
  const pages = doc.getNumberOfPages();
  const y = flow.height - margin;
  for (let page = 1; page <= pages; page++) {
    doc.setPage(page);
    doc.setDrawColor(...rule);
    doc.setLineWidth(0.5);
    doc.line(flow.left, y - 6, flow.left + flow.contentWidth, y - 6);
    doc.setFont('helvetica', 'normal');
    doc.setFontSize(8);
    doc.setTextColor(...muted);
    const pageText = `Page ${page} of ${pages}`;
    const room = flow.contentWidth - doc.getTextWidth(pageText) - 12;
    const title = (doc.splitTextToSize(toWinAnsi(`${view.title} · ${view.periodLabel}`), room) as string[])[0] ?? '';
    doc.text(title, flow.left, y, { baseline: 'top' });
    doc.text(pageText, flow.left + flow.contentWidth, y, { baseline: 'top', align: 'right' });
  }
}

export function renderCustomerPdf(view: CustomerReportView): Promise<Uint8Array> {
  const flow = new Flow();
  flow.doc.setProperties({ title: toWinAnsi(view.title), author: toWinAnsi(view.resellerName), creator: 'Tiebreak' });
  header(flow, view);
  if (view.sites.length === 0) flow.text('No sites in this report.', { size: 10, color: muted, after: 12 });
  for (const s of view.sites) site(flow, view, s);
  flow.keep(80);
  flow.text('How these figures are measured', { size: 13.5, style: 'bold', after: 2 });
  flow.line(rule);
  flow.y += 6;
  for (const paragraph of view.howMeasured) flow.text(paragraph, { size: 9.5, color: [66, 74, 83], after: 5 });
  footers(flow, view);
  return Promise.resolve(new Uint8Array(flow.doc.output('arraybuffer')));
}
