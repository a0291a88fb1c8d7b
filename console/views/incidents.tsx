import { useMemo, useState } from 'preact/hooks';
import type { Incident } from '../../protocol/incidents.ts';
import type { Site } from '../../protocol/reseller.ts';
import { allPages, api, segment, withQuery } from '../api.ts';
import {
  ActionButton,
  Ago,
  DataTable,
  ErrorNote,
  Filters,
  IconText,
  SelectField,
  SeverityBadge,
  useAccess,
  useNow,
  ViewHeader,
} from '../components.tsx';
import { dateTime } from '../format.ts';
import { usePoll } from '../poll.ts';
import { hrefOf, type IncidentFilter, type Route } from '../route.ts';
import { incidentKindLabels } from '../timeline.ts';
import { useFetched } from '../use-fetched.ts';

/** Resolved incidents are many over time: the newest this many are shown. */
const resolvedShown = 200;

const stateOrder: Record<Incident['state'], number> = { open: 0, acknowledged: 1, resolved: 2 };
const stateMarks: Record<Incident['state'], string> = { open: '●', acknowledged: '◑', resolved: '○' };
const stateLabels: Record<Incident['state'], string> = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' };

/** Open first, then acknowledged, then resolved; newest first within each. */
export function sortIncidents(incidents: readonly Incident[]): Incident[] {
  return [...incidents].sort((a, b) => stateOrder[a.state] - stateOrder[b.state] || Date.parse(b.openedAt) - Date.parse(a.openedAt));
}

async function loadIncidents(filter: IncidentFilter): Promise<Incident[]> {
  const unresolved = filter === 'resolved' ? [] : await allPages<Incident>(withQuery('/v1/incidents', { state: 'unresolved' }));
  const resolved =
    filter === 'unresolved'
      ? []
      : await allPages<Incident>(withQuery('/v1/incidents', { state: 'resolved' }), { maxPages: resolvedShown / 100 });
  return sortIncidents([...unresolved, ...resolved]);
}

function escalationText(incident: Incident): string {
  const { level, levels } = incident.escalation;
  if (level === null) return 'not paged yet';
  const repeats = incident.stepsTaken - levels;
  return `level ${level} of ${levels}${repeats > 0 ? `, repeated ${repeats} ${repeats === 1 ? 'time' : 'times'}` : ''}`;
}

function byWhom(by: string | null): string {
  if (by === null) return '';
  if (by.startsWith('api-key:')) return ` with API key ${by.slice('api-key:'.length)}`;
  if (by === 'recovery') return ': the condition recovered';
  if (by === 'link') return ' from a one-click link';
  return ` (${by})`;
}

/** The reseller's incidents, open first: acknowledge and resolve, and how far each has escalated. */
export function IncidentsView({ route }: { route: Extract<Route, { view: 'incidents' }> }) {
  const now = useNow();
  const { canWrite } = useAccess();
  const polled = usePoll(() => loadIncidents(route.state), `incidents:${route.state}`);
  const [error, setError] = useState<Error | null>(null);
  // The sites' names, once: incidents name their site by id.
  const siteList = useFetched(() => allPages<Site>('/v1/sites'));
  const sites = useMemo(() => new Map((siteList ?? []).map((site) => [site.siteId, site.name])), [siteList]);
  const incidents = polled.data ?? [];
  const openCount = useMemo(() => incidents.filter((i) => i.state === 'open').length, [incidents]);
  const act = (incident: Incident, action: 'acknowledge' | 'resolve') => async () => {
    await api('POST', `/v1/sites/${segment(incident.siteId)}/incidents/${segment(incident.incidentId)}/${action}`);
    polled.refresh();
  };

  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Incidents" polled={polled} now={now} />
      <Filters>
        <SelectField
          id="incident-state"
          label="Show"
          value={route.state}
          onValue={(state) => {
            location.hash = hrefOf({ view: 'incidents', state: state as IncidentFilter });
          }}
        >
          <option value="unresolved">Open and acknowledged</option>
          <option value="all">All (newest {resolvedShown} resolved)</option>
          <option value="resolved">Resolved (newest {resolvedShown})</option>
        </SelectField>
      </Filters>
      <p class="summary" aria-live="polite">
        {polled.data ? `${openCount} open, ${incidents.filter((i) => i.state === 'acknowledged').length} acknowledged` : ''}
      </p>
      <ErrorNote error={error} />
      <DataTable
        class="incidents"
        caption={`${incidents.length} incidents, open first`}
        columns={['Severity', 'Incident', 'Site', 'Opened', 'State', 'Escalation', canWrite && 'Actions']}
        rows={polled.data}
        empty="No incident here."
        row={(incident) => (
          <tr key={`${incident.siteId}/${incident.incidentId}`} data-incident={incident.incidentId} data-state={incident.state}>
            <td>
              <SeverityBadge severity={incident.severity} />
            </td>
            <th scope="row">
              {incidentKindLabels[incident.kind]}
              {incident.affected.length > 0 && <div class="small">affects {incident.affected.join(', ')}</div>}
              <div class="muted small">{incident.incidentId}</div>
            </th>
            <td>
              <a href={hrefOf({ view: 'site', siteId: incident.siteId })}>{sites.get(incident.siteId) ?? incident.siteId}</a>
            </td>
            <td>
              <Ago at={incident.openedAt} now={now} />
              {incident.recoveredAt && <div class="small">recovered {dateTime(incident.recoveredAt)}</div>}
            </td>
            <td>
              <IconText class={`badge incident-${incident.state}`} icon={stateMarks[incident.state]}>
                {stateLabels[incident.state]}
              </IconText>
              {incident.acknowledgedAt && (
                <div class="small">
                  acknowledged {dateTime(incident.acknowledgedAt)}
                  {byWhom(incident.acknowledgedBy)}
                </div>
              )}
              {incident.resolvedAt && (
                <div class="small">
                  resolved {dateTime(incident.resolvedAt)}
                  {byWhom(incident.resolvedBy)}
                </div>
              )}
            </td>
            <td>{escalationText(incident)}</td>
            {canWrite && (
              <td class="actions">
                {incident.state === 'open' && (
                  <ActionButton
                    label="Acknowledge"
                    kind="primary"
                    name={`Acknowledge ${incidentKindLabels[incident.kind].toLowerCase()} at ${sites.get(incident.siteId) ?? incident.siteId}`}
                    run={act(incident, 'acknowledge')}
                    onError={setError}
                  />
                )}
                {incident.state !== 'resolved' && (
                  <ActionButton
                    label="Resolve"
                    name={`Resolve ${incidentKindLabels[incident.kind].toLowerCase()} at ${sites.get(incident.siteId) ?? incident.siteId}`}
                    run={act(incident, 'resolve')}
                    onError={setError}
                  />
                )}
              </td>
            )}
          </tr>
        )}
      />
    </section>
  );
}
