import { isSiteState, type SiteState } from './fleet.ts';

/**
 * The console's places, as hash routes (`#/sites/main-office`): the page is one file, and the
 * browser's history, bookmarks and links work without a router library or server routes. Pure.
 */
export type IncidentFilter = 'unresolved' | 'all' | 'resolved';

export type Route =
  | { view: 'sites'; customerId: string | null; status: SiteState | null }
  | { view: 'site'; siteId: string }
  | { view: 'incidents'; state: IncidentFilter }
  | { view: 'webhooks'; endpointId: string | null }
  | { view: 'reports' }
  | { view: 'not-found'; path: string };

/** The navigation's sections, in order. */
export const sections = [
  { view: 'sites', label: 'Sites' },
  { view: 'incidents', label: 'Incidents' },
  { view: 'webhooks', label: 'Webhooks' },
  { view: 'reports', label: 'Reports' },
] as const;

export type Section = (typeof sections)[number]['view'];

const incidentFilters: readonly IncidentFilter[] = ['unresolved', 'all', 'resolved'];

function decoded(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter((part) => part !== '');
  const [first, second, ...rest] = parts;
  const id = second === undefined ? null : decoded(second);
  if (rest.length > 0 || (second !== undefined && id === null)) return { view: 'not-found', path };
  switch (first ?? 'sites') {
    case 'sites': {
      if (id !== null) return { view: 'site', siteId: id };
      const status = query.get('status');
      const customer = query.get('customer');
      return { view: 'sites', customerId: customer === '' ? null : customer, status: isSiteState(status) ? status : null };
    }
    case 'incidents': {
      const state = query.get('state') as IncidentFilter | null;
      return id === null
        ? { view: 'incidents', state: state && incidentFilters.includes(state) ? state : 'unresolved' }
        : { view: 'not-found', path };
    }
    case 'webhooks':
      return { view: 'webhooks', endpointId: id };
    case 'reports':
      return id === null ? { view: 'reports' } : { view: 'not-found', path };
    default:
      return { view: 'not-found', path };
  }
}

/** The link to a route: `#/sites/main-office`, `#/sites?status=down`. */
export function hrefOf(route: Route): string {
  const query = (params: Record<string, string | null>) => {
    const text = new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== null)).toString();
    return text ? `?${text}` : '';
  };
  switch (route.view) {
    case 'sites':
      return `#/sites${query({ customer: route.customerId, status: route.status })}`;
    case 'site':
      return `#/sites/${encodeURIComponent(route.siteId)}`;
    case 'incidents':
      return `#/incidents${query({ state: route.state === 'unresolved' ? null : route.state })}`;
    case 'webhooks':
      return route.endpointId === null ? '#/webhooks' : `#/webhooks/${encodeURIComponent(route.endpointId)}`;
    case 'reports':
      return '#/reports';
    case 'not-found':
      return `#/${route.path}`;
  }
}

/** The section a route belongs to (the navigation marks it). */
export function sectionOf(route: Route): Section | null {
  if (route.view === 'site') return 'sites';
  return route.view === 'not-found' ? null : route.view;
}
