import { useMemo, useRef, useState } from 'preact/hooks';
import type { Customer } from '../../protocol/reseller.ts';
import { allPages, get, withQuery } from '../api.ts';
import { Ago, DataTable, ErrorNote, Filters, IconText, SelectField, StatusBadge, useNow, ViewHeader } from '../components.tsx';
import {
  countByStatus,
  type FleetPage,
  type SiteState,
  type SiteSummary,
  filterFleet,
  fleetCounts,
  sortWorstFirst,
  statusLabels,
  worstFirst,
} from '../fleet.ts';
import { usePoll } from '../poll.ts';
import { hrefOf, type Route } from '../route.ts';
import { useFetched } from '../use-fetched.ts';

interface Fleet {
  sites: SiteSummary[];
  counts: Record<SiteState, number>;
}

/**
 * Every page of the fleet (the console shows it whole; filters apply here, so changing one asks
 * nothing of the service). Pages come one after the other (each one's cursor comes with the one
 * before): `onPage` hears the sites so far, for a first load to show them as they come.
 */
async function loadFleet(onPage?: (sites: SiteSummary[]) => void): Promise<Fleet> {
  const sites: SiteSummary[] = [];
  let counts: FleetPage['counts'] = null;
  let cursor: string | null = null;
  let first = true;
  do {
    const page: FleetPage = await get(withQuery('/v1/sites', { limit: '100', cursor }));
    sites.push(...page.items);
    // The first page's counts are the whole list's.
    if (first) counts = page.counts;
    first = false;
    cursor = page.nextCursor;
    if (cursor !== null) onPage?.(sites);
  } while (cursor !== null);
  return { sites: sortWorstFirst(sites), counts: fleetCounts(sites, counts) };
}

function incidentsText(open: SiteSummary['openIncidents']): string {
  const parts = (['critical', 'warning', 'info'] as const)
    .filter((severity) => open[severity] > 0)
    .map((severity) => `${open[severity]} ${severity}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** Every site with its status, worst first, refreshed on its own; filters by customer and status. */
export function SitesView({ route }: { route: Extract<Route, { view: 'sites' }> }) {
  const now = useNow();
  // A first load shows the sites as their pages come; refreshes replace the whole fleet at once.
  const [partial, setPartial] = useState<Fleet | null>(null);
  const fleet = usePoll(
    () =>
      loadFleet((sites) => {
        setPartial((shown) => (shown === null || !loaded.current ? { sites: sortWorstFirst(sites), counts: countByStatus(sites) } : shown));
      }),
    'fleet',
  );
  const loaded = useRef(false);
  if (fleet.data) loaded.current = true;
  const data = fleet.data ?? partial ?? undefined;
  const loading = !fleet.data && partial !== null;
  const [customersError, setCustomersError] = useState<Error | null>(null);
  const customers = useFetched(() => allPages<Customer>('/v1/customers'), setCustomersError);
  const customerNames = useMemo(() => new Map((customers ?? []).map((c) => [c.customerId, c.name])), [customers]);
  const filter = { customerId: route.customerId, status: route.status };
  const shown = useMemo(() => (data ? filterFleet(data.sites, filter) : []), [data, filter.customerId, filter.status]);
  const setFilter = (change: Partial<typeof filter>) => {
    location.hash = hrefOf({ view: 'sites', ...filter, ...change });
  };
  const total = data?.sites.length ?? 0;

  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Sites" polled={fleet} now={now} />

      <h2 class="visually-hidden">Sites by status</h2>
      <ul class="counts" aria-live="polite" aria-busy={loading} aria-label="Sites by status">
        {worstFirst.map((status) => {
          const count = data?.counts[status] ?? 0;
          return (
            <li key={status} class={count === 0 ? 'none' : undefined}>
              <a
                href={hrefOf({ view: 'sites', customerId: filter.customerId, status: filter.status === status ? null : status })}
                aria-current={filter.status === status ? 'true' : undefined}
                aria-label={`${count} ${statusLabels[status].label.toLowerCase()}: ${filter.status === status ? 'show all statuses' : 'show only these'}`}
              >
                <StatusBadge status={status} />
                <strong class="count" data-status={status}>
                  {data ? count : '…'}
                </strong>
              </a>
            </li>
          );
        })}
      </ul>

      <Filters>
        <SelectField
          id="filter-customer"
          label="Customer"
          value={filter.customerId ?? ''}
          onValue={(customerId) => {
            setFilter({ customerId: customerId || null });
          }}
        >
          <option value="">All customers</option>
          {(customers ?? []).map((c) => (
            <option key={c.customerId} value={c.customerId}>
              {c.name}
            </option>
          ))}
        </SelectField>
        <SelectField
          id="filter-status"
          label="Status"
          value={filter.status ?? ''}
          onValue={(status) => {
            setFilter({ status: (status as SiteState | '') || null });
          }}
        >
          <option value="">All statuses</option>
          {worstFirst.map((status) => (
            <option key={status} value={status}>
              {statusLabels[status].label}
            </option>
          ))}
        </SelectField>
      </Filters>
      <ErrorNote error={customersError} prefix="Customers could not be loaded" />

      <DataTable
        class="sites"
        busy={loading}
        caption={
          <>
            {shown.length === total
              ? `${total} ${total === 1 ? 'site' : 'sites'}, worst first`
              : `${shown.length} of ${total} sites, worst first`}
            {loading && ' (loading more…)'}
          </>
        }
        columns={['Status', 'Site', 'Customer', 'Primary', 'Nodes', 'Open incidents']}
        rows={data ? shown : undefined}
        after={shown.length === 0 && <p class="muted">No site matches these filters.</p>}
        row={(site) => (
          <tr key={site.siteId} data-site={site.siteId} data-status={site.status}>
            <td data-label="Status">
              <StatusBadge status={site.status} />
              {site.inMaintenance && (
                <IconText class="badge maintenance" icon="⚒">
                  In maintenance
                </IconText>
              )}
            </td>
            <th scope="row">
              <a href={hrefOf({ view: 'site', siteId: site.siteId })}>{site.name}</a>
              <div class="muted small">{site.siteId}</div>
            </th>
            <td data-label="Customer">{customerNames.get(site.customerId) ?? site.customerId}</td>
            <td data-label="Primary">
              {site.primary === null ? <span class="muted">none</span> : `${site.primary} (epoch ${site.epoch})`}
            </td>
            <td data-label="Nodes">
              <ul class="nodes">
                {site.nodes.map((node) => (
                  <li key={node.nodeId}>
                    <strong>{node.nodeId}</strong> {node.excluded ? 'excluded' : (node.role ?? 'not heard')}, heard{' '}
                    <Ago at={node.lastSeenAt} now={now} />
                    {node.peerReachable === false && ', cannot reach its peer'}
                    {node.health !== null && `, health ${node.health}`}
                  </li>
                ))}
              </ul>
            </td>
            <td data-label="Open incidents" class={site.openIncidents.critical > 0 ? 'critical' : undefined}>
              {incidentsText(site.openIncidents)}
            </td>
          </tr>
        )}
      />
    </section>
  );
}
