import { useState } from 'preact/hooks';
import type { Customer } from '../../protocol/reseller.ts';
import type { SiteSla, SlaReport } from '../../functions/domain/sla-report.ts';
import { allPages, download, get, withQuery } from '../api.ts';
import { DataTable, ErrorNote, IconText, InputField, SelectField, useBusy, ViewHeader } from '../components.tsx';
import { date, dateTime, duration, percent } from '../format.ts';
import { useFetched } from '../use-fetched.ts';

/** `YYYY-MM-DD` of a date in UTC. */
const day = (date: Date) => date.toISOString().slice(0, 10);

function thisMonth(): { from: string; to: string } {
  const now = new Date();
  return {
    from: day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))),
    to: day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))),
  };
}

/** The availability verdict in the customer report's words: "Availability 99.95 % — target 99.9 % met". */
export function availabilityVerdict(site: Pick<SiteSla, 'targets'>): { text: string; met: boolean | null } {
  const { target, actual, met } = site.targets.availability;
  if (actual === null || met === null) return { text: `Not yet live — target ${percent(target)}`, met: null };
  return { text: `Availability ${percent(actual)} — target ${percent(target)} ${met ? 'met' : 'missed'}`, met };
}

function Verdict({ site }: { site: SiteSla }) {
  const { text, met } = availabilityVerdict(site);
  const [mark, tone] = met === null ? ['○', 'unknown'] : met ? ['✔', 'good'] : ['✖', 'bad'];
  return (
    <IconText class={`flag flag-${tone} verdict`} icon={mark}>
      {text}
    </IconText>
  );
}

/** The SLA report of a period: the verdicts from its figures, and the customer's PDF to download. */
export function ReportsView() {
  const [query, setQuery] = useState({ ...thisMonth(), customerId: '' });
  const setQueryField = (field: keyof typeof query) => (value: string) => {
    setQuery({ ...query, [field]: value });
  };
  const [report, setReport] = useState<SlaReport | null>(null);
  const [shownFor, setShownFor] = useState<typeof query | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const customers = useFetched(() => allPages<Customer>('/v1/customers'), setError) ?? [];
  // One task at a time: either disables both buttons.
  const [loadingReport, runReport] = useBusy(setError);
  const [preparingPdf, runPdf] = useBusy(setError);
  const busy = loadingReport || preparingPdf;
  const path = (format: 'json' | 'pdf', q: typeof query) =>
    withQuery('/v1/reports/sla', { from: q.from, to: q.to, customerId: q.customerId, format });

  const show = async (event: Event) => {
    event.preventDefault();
    setSaved(null);
    await runReport(async () => {
      setReport(await get<SlaReport>(path('json', query)));
      setShownFor(query);
    });
  };
  // The key goes in the request's header, never in a link: the PDF is fetched, then saved from memory.
  const downloadPdf = async () => {
    if (!shownFor) return;
    await runPdf(async () => {
      const { blob, fileName } = await download(path('pdf', shownFor));
      const name = fileName ?? `sla-report-${shownFor.customerId || 'all'}-${shownFor.from}.pdf`;
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => {
        URL.revokeObjectURL(url);
      }, 10_000);
      setSaved(`Saved ${name}.`);
    });
  };
  const customerName = (id: string | null) => customers.find((c) => c.customerId === id)?.name ?? id ?? '';

  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Reports" />
      <p class="help">
        The SLA report of a period, from the sites' audit trails: each site's availability against its target, downtime and failovers. The
        PDF is the customer's report.
      </p>
      <form class="filters report-form" onSubmit={(event) => void show(event)}>
        <InputField id="report-from" label="From (first day)" type="date" required value={query.from} onValue={setQueryField('from')} />
        <InputField id="report-to" label="To (day after the last)" type="date" required value={query.to} onValue={setQueryField('to')} />
        <SelectField id="report-customer" label="Customer" value={query.customerId} onValue={setQueryField('customerId')}>
          <option value="">All customers</option>
          {customers.map((c) => (
            <option key={c.customerId} value={c.customerId}>
              {c.name}
            </option>
          ))}
        </SelectField>
        <button type="submit" class="button primary" disabled={busy}>
          {loadingReport ? 'Loading…' : 'Show report'}
        </button>
      </form>
      <ErrorNote error={error} />
      {report && shownFor && (
        <section class="panel report" aria-labelledby="report-title">
          <h2 id="report-title">
            {shownFor.customerId ? customerName(shownFor.customerId) : 'All customers'}: {date(report.period.from, report.timeZone)} to{' '}
            {date(report.period.to - 1, report.timeZone)}
          </h2>
          <p class="muted">
            Times in {report.timeZone}.{' '}
            {report.period.partial
              ? `The period is not over: measured up to ${dateTime(report.period.observedUntil, report.timeZone)}.`
              : 'The period is over.'}
          </p>
          <div class="actions">
            <button type="button" class="button secondary" disabled={busy} onClick={() => void downloadPdf()}>
              {preparingPdf ? 'Preparing the PDF…' : 'Download PDF'}
            </button>
            {saved && (
              <span class="done" role="status">
                {saved}
              </span>
            )}
          </div>
          <DataTable
            class="report-sites"
            caption={`${report.totals.sitesMeetingAvailabilityTarget} of ${report.sites.length - report.totals.sitesNotYetLive} live sites met their availability target`}
            columns={['Site', 'Verdict', 'Downtime', 'Failovers', 'Survivor mode', 'Incidents']}
            rows={report.sites}
            empty="No site in this report."
            row={(site) => (
              <tr key={site.siteId} data-site={site.siteId}>
                <th scope="row">
                  {site.name ?? site.siteId}
                  <div class="muted small">{customerName(site.customerId)}</div>
                </th>
                <td>
                  <Verdict site={site} />
                </td>
                <td>
                  {duration(site.downtimeMs)}
                  {site.downtimeInMaintenanceMs > 0 && (
                    <div class="small">{duration(site.downtimeInMaintenanceMs)} of it in maintenance</div>
                  )}
                </td>
                <td>{site.failovers.length}</td>
                <td>{site.survivorModeMs > 0 ? duration(site.survivorModeMs) : <span class="muted">none</span>}</td>
                <td>
                  {site.incidents.length}
                  {site.targets.timeToAcknowledge.missedEventIds.length > 0 && (
                    <div class="small">{site.targets.timeToAcknowledge.missedEventIds.length} acknowledged late</div>
                  )}
                </td>
              </tr>
            )}
          />
        </section>
      )}
    </section>
  );
}
