import type { CustomerReportView, CustomerSiteView, Verdict } from './sla-customer-view.ts';
import { escapeHtml } from './html-escape.ts';

// The SLA report as a customer reads it, one self-contained page: no script, no asset from
// elsewhere (the CSP says so to the browser too), laid out for an A4 sheet as much as a screen.

export const noneInPeriod = 'None in this period.';

/** "… and 12 more events in the detailed report (CSV/JSON)." */
export const omittedLine = (n: number): string => `… and ${n} more event${n === 1 ? '' : 's'} in the detailed report (CSV/JSON).`;

/** The heading of a site: its name, and whose it is when the report covers every customer. */
export const siteHeading = (view: CustomerReportView, site: CustomerSiteView): string =>
  view.customerName === null ? `${site.siteName} — ${site.customerName}` : site.siteName;

const style = `
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; padding: 8mm 0; max-width: 180mm; font: 10.5pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #fff; }
h1 { font-size: 18pt; line-height: 1.2; margin: 0 0 2mm; }
h2 { font-size: 13.5pt; line-height: 1.25; margin: 0 0 1.5mm; padding-bottom: 1mm; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 10.5pt; margin: 4mm 0 1.5mm; color: #424a53; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 2mm; }
header { margin-bottom: 6mm; }
.reseller { font-size: 9.5pt; color: #57606a; text-transform: uppercase; letter-spacing: .04em; margin-bottom: 1mm; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .5mm 4mm; margin: 0 0 2mm; }
.meta dt { color: #57606a; }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.partial { border-left: 3px solid #bf8700; background: #fff8c5; padding: 1.5mm 3mm; }
.generated { color: #57606a; font-size: 9pt; }
section { margin: 0 0 7mm; }
.site { break-inside: avoid; page-break-inside: avoid; }
.site.long { break-inside: auto; page-break-inside: auto; }
.summary { break-inside: avoid; page-break-inside: avoid; }
.customer { font-weight: normal; color: #57606a; }
.live { color: #57606a; font-style: italic; }
.verdicts { list-style: none; padding: 0; margin: 2mm 0 3mm; }
.verdicts li { display: flex; gap: 2mm; margin: .8mm 0; }
.mark { flex: none; width: 4.5mm; text-align: center; font-weight: bold; }
.met .mark { color: #1a7f37; }
.missed .mark { color: #cf222e; }
.open .mark { color: #6e7781; }
table { width: 100%; table-layout: fixed; border-collapse: collapse; margin: 0 0 2mm; font-size: 9.5pt; }
th, td { text-align: left; vertical-align: top; padding: 1mm 2mm; border-bottom: 1px solid #d8dee4; overflow-wrap: anywhere; word-break: normal; }
th { background: #f6f8fa; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
.figures { width: 100%; }
.figures th { width: 45%; background: none; font-weight: normal; color: #57606a; }
.timeline col.at { width: 25%; }
.incidents col.what, .incidents col.ack { width: 22%; }
.incidents col.when { width: 16%; }
.incidents col.tta { width: 24%; }
.maintenance col.when { width: 22%; }
.maintenance col.reason { width: 32%; }
.more, .none { color: #57606a; }
.notes { margin: 0; padding-left: 5mm; }
.notes li { margin: .8mm 0; }
.how p { color: #424a53; }
@media print { body { padding: 0; max-width: none; } a { color: inherit; } .partial, th, .mark { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
`;

const e = escapeHtml;

function verdictLine(v: Verdict): string {
  const [cls, mark] = v.met === true ? ['met', '✓'] : v.met === false ? ['missed', '✗'] : ['open', '—'];
  return `<li class="${cls}"><span class="mark" aria-hidden="true">${mark}</span><span>${e(v.text)}</span></li>`;
}

/** A table of `rows`, or the sentence that there is nothing, under its own heading. */
function listTable(
  caption: string,
  cls: string,
  cols: readonly string[],
  head: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const heading = `<h3>${e(caption)}</h3>`;
  if (rows.length === 0) return `${heading}\n<p class="none">${noneInPeriod}</p>`;
  const colgroup = `<colgroup>${cols.map((c) => (c === '' ? '<col>' : `<col class="${c}">`)).join('')}</colgroup>`;
  const th = head.map((h) => `<th scope="col">${e(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('\n');
  return `${heading}\n<table class="${cls}">${colgroup}\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/**
 * Rows of a site's section, roughly. A section kept whole that is longer than a sheet would
 * still break, after a page left blank below the one before it: such a site flows instead.
 */
const rowsOf = (s: CustomerSiteView): number =>
  8 + s.verdicts.length + s.figures.length + s.timeline.length + 2 * (s.incidents.length + s.maintenance.length) + s.notes.length;
const rowsOnASheet = 40;

function siteSection(view: CustomerReportView, site: CustomerSiteView): string {
  const name =
    view.customerName === null ? `${e(site.siteName)} <span class="customer">— ${e(site.customerName)}</span>` : e(site.siteName);
  const summary = [`<h2>${name}</h2>`];
  if (site.liveNote !== null) summary.push(`<p class="live">${e(site.liveNote)}</p>`);
  if (site.verdicts.length > 0) summary.push(`<ul class="verdicts">\n${site.verdicts.map(verdictLine).join('\n')}\n</ul>`);
  if (site.figures.length > 0) {
    const rows = site.figures.map((f) => `<tr><th scope="row">${e(f.label)}</th><td>${e(f.value)}</td></tr>`).join('\n');
    summary.push(`<table class="figures">\n<tbody>\n${rows}\n</tbody>\n</table>`);
  }
  const parts = [`<div class="summary">\n${summary.join('\n')}\n</div>`];
  parts.push(
    listTable(
      'What happened',
      'timeline',
      ['at', ''],
      ['When', 'Event'],
      site.timeline.map((t) => [t.at, t.text]),
    ),
  );
  if (site.timelineOmitted > 0) parts.push(`<p class="more">${e(omittedLine(site.timelineOmitted))}</p>`);
  parts.push(
    listTable(
      'Incidents',
      'incidents',
      ['what', 'when', 'ack', 'when', 'tta'],
      ['What', 'Opened', 'Acknowledged', 'Resolved', 'Time to acknowledge'],
      site.incidents.map((i) => [i.what, i.opened, i.acknowledged, i.resolved, i.timeToAcknowledge]),
    ),
  );
  parts.push(
    listTable(
      'Planned maintenance',
      'maintenance',
      ['when', 'when', 'reason', ''],
      ['From', 'To', 'Reason', 'Declared'],
      site.maintenance.map((m) => [m.from, m.to, m.reason, m.declared]),
    ),
  );
  parts.push('<h3>Notes</h3>');
  parts.push(
    site.notes.length === 0
      ? `<p class="none">${noneInPeriod}</p>`
      : `<ul class="notes">\n${site.notes.map((n) => `<li>${e(n)}</li>`).join('\n')}\n</ul>`,
  );
  const cls = rowsOf(site) > rowsOnASheet ? 'site long' : 'site';
  return `<section class="${cls}">\n${parts.join('\n')}\n</section>`;
}

export function renderCustomerHtml(view: CustomerReportView): string {
  const header = [
    `<p class="reseller">${e(view.resellerName)}</p>`,
    `<h1>${e(view.title)}</h1>`,
    '<dl class="meta">',
    `<dt>Customer</dt><dd>${e(view.customerName ?? 'All customers')}</dd>`,
    `<dt>Period</dt><dd>${e(view.periodLabel)}</dd>`,
    '</dl>',
    view.partialNote === null ? '' : `<p class="partial">${e(view.partialNote)}</p>`,
    `<p class="generated">Generated ${e(view.generatedAt)}</p>`,
  ].filter((line) => line !== '');
  const sites =
    view.sites.length === 0
      ? `<section><p class="none">No sites in this report.</p></section>`
      : view.sites.map((s) => siteSection(view, s)).join('\n');
  const how = `<section class="how">\n<h2>How these figures are measured</h2>\n${view.howMeasured.map((p) => `<p>${e(p)}</p>`).join('\n')}\n</section>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(view.title)}</title>
<style>${style}</style>
</head>
<body>
<header>
${header.join('\n')}
</header>
<main>
${sites}
${how}
</main>
</body>
</html>
`;
}
