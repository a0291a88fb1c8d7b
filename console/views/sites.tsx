import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Customer } from '../../protocol/reseller.ts';
import { allPages, get, withQuery } from '../api.ts';
import { Ago, ErrorNote, RefreshNote, StatusBadge, useNow, ViewHeader } from '../components.tsx';
import { countByStatus, type FleetPage, type SiteState, type SiteSummary, filterFleet, fleetCounts, sortWorstFirst, statusLabels, worstFirst } from '../fleet.ts';
import { usePoll } from '../poll.ts';
import { hrefOf, type Route } from '../route.ts';

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
  const parts = (['critical', 'warning', 'info'] as const).filter((severity) => open[severity] > 0).map((severity) => `${open[severity]} ${severity}`);
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
  const [customers, setCustomers] = useState<Customer[] | null>(null);
  const [customersError, setCustomersError] = useState<Error | null>(null);
  useEffect(() => {
    allPages<Customer>('/v1/customers')
      .then(setCustomers)
      .catch((error: unknown) => {
        setCustomersError(error instanceof Error ? error : new Error(String(error)));
      });
  }, []);
  const customerNames = useMemo(() => new Map((customers ?? []).map((c) => [c.customerId, c.name])), [customers]);
  const filter = { customerId: route.customerId, status: route.status };
  const shown = useMemo(() => (data ? filterFleet(data.sites, filter) : []), [data, filter.customerId, filter.status]);
  const setFilter = (change: Partial<typeof filter>) => {
    location.hash = hrefOf({ view: 'sites', ...filter, ...change });
  };
  const total = data?.sites.length ?? 0;

  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Sites">
        <RefreshNote polled={fleet} now={now} />
      </ViewHeader>

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

      <form class="filters" onSubmit={(event) => {
        event.preventDefault();
      }}>
        <div class="field">
          <label for="filter-customer">Customer</label>
          <select
            id="filter-customer"
            value={filter.customerId ?? ''}
            onChange={(event) => {
              setFilter({ customerId: event.currentTarget.value || null });
            }}
          >
            <option value="">All customers</option>
            {(customers ?? []).map((c) => (
              <option key={c.customerId} value={c.customerId}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-status">Status</label>
          <select
            id="filter-status"
            value={filter.status ?? ''}
            onChange={(event) => {
              const value = event.currentTarget.value as SiteState | '';
              setFilter({ status: value || null });
            }}
          >
            <option value="">All statuses</option>
            {worstFirst.map((status) => (
              <option key={status} value={status}>
                {statusLabels[status].label}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorNote error={customersError} prefix="Customers could not be loaded" />

      {data && (
        <div class="table-wrap">
          <table class="sites" aria-busy={loading}>
            <caption>
              {shown.length === total ? `${total} ${total === 1 ? 'site' : 'sites'}, worst first` : `${shown.length} of ${total} sites, worst first`}
              {loading && ' (loading more…)'}
            </caption>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Site</th>
                <th scope="col">Customer</th>
                <th scope="col">Primary</th>
                <th scope="col">Nodes</th>
                <th scope="col">Open incidents</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((site) => (
                <tr key={site.siteId} data-site={site.siteId} data-status={site.status}>
                  <td data-label="Status">
                    <StatusBadge status={site.status} />
                    {site.inMaintenance && (
                      <span class="badge maintenance">
                        <span class="icon" aria-hidden="true">
                          ⚒
                        </span>
                        In maintenance
                      </span>
                    )}
                  </td>
                  <th scope="row">
                    <a href={hrefOf({ view: 'site', siteId: site.siteId })}>{site.name}</a>
                    <div class="muted small">{site.siteId}</div>
                  </th>
                  <td data-label="Customer">{customerNames.get(site.customerId) ?? site.customerId}</td>
                  <td data-label="Primary">{site.primary === null ? <span class="muted">none</span> : `${site.primary} (epoch ${site.epoch})`}</td>
                  <td data-label="Nodes">
                    <ul class="nodes">
                      {site.nodes.map((node) => (
                        <li key={node.nodeId}>
                          <strong>{node.nodeId}</strong> {node.excluded ? 'excluded' : (node.role ?? 'not heard')}, heard <Ago at={node.lastSeenAt} now={now} />
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
              ))}
            </tbody>
          </table>
          {shown.length === 0 && <p class="muted">No site matches these filters.</p>}
        </div>
      )}
    </section>
  );
}
