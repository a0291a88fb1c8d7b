import { computeSlaReport, type SlaReport, type SlaSiteInput } from '../domain/sla-report.ts';
import { localMidnight } from '../domain/time-words.ts';
import type { Customer, Reseller } from '../../protocol/reseller.ts';
import type { AuditTrail } from './audit-trail.ts';
import type { ResellerStore } from './reseller-store.ts';
import { dayMs } from './retention.ts';
import type { SiteAdminStore, SiteListing } from './site-admin-store.ts';

/** Local midnight starting a day (`2026-11-01`) in the report's zone, or an instant as it is. */
export const parseBound = (value: string, zone: string): number =>
  /^\d{4}-\d{2}-\d{2}$/.test(value) ? localMidnight(value, zone) : Date.parse(value);

/** How far past the period the report reads the trail for the period's incidents' acknowledgements and resolutions. */
const lateEventsMs = 31 * 24 * 3_600_000;

export interface SlaRequest {
  resellerId: string;
  /** Bounds as the API takes them: a day (local midnight in the zone) or an instant. */
  from: string;
  to: string;
  now: number;
  siteId?: string | undefined;
  customerId?: string | undefined;
  /** Default: the reseller's zone, else UTC. */
  timeZone?: string | undefined;
}

export interface LoadedSlaReport {
  report: SlaReport;
  reseller: Reseller;
  /** The customer the report is scoped to, if any. */
  customer: Customer | null;
}

export type SlaLoadFailure = { missing: 'reseller' | 'site' | 'customer' } | { invalid: string };

async function allPages<T>(list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

/**
 * Reads what a reseller's SLA report is computed from (each site's audit trail up to `to`, and
 * its maintenance windows), then computes it, observed up to `now`; a period that starts before
 * the trail's retention (`now` − its days) is noted as such.
 */
export async function loadSlaReport(
  stores: { resellers: ResellerStore; sites: SiteAdminStore; trail: AuditTrail },
  request: SlaRequest,
): Promise<LoadedSlaReport | SlaLoadFailure> {
  const { resellerId, siteId, customerId, now } = request;
  const reseller = await stores.resellers.getReseller(resellerId);
  if (!reseller) return { missing: 'reseller' };
  const timeZone = request.timeZone ?? reseller.timeZone ?? 'UTC';
  const from = parseBound(request.from, timeZone);
  const to = parseBound(request.to, timeZone);
  if (!(to > from))
    return { invalid: `to (${new Date(to).toISOString()}) must be after from (${new Date(from).toISOString()}) in ${timeZone}` };
  const customer = customerId === undefined ? null : ((await stores.resellers.getCustomer(resellerId, customerId)) ?? null);
  if (customerId !== undefined && !customer) return { missing: 'customer' };
  let listings: SiteListing[];
  if (siteId) {
    const listing = await stores.sites.getListing(resellerId, siteId);
    if (!listing) return { missing: 'site' };
    listings = [listing];
  } else listings = await allPages((cursor) => stores.sites.listSites(resellerId, { cursor, limit: 100 }));
  if (customerId !== undefined) listings = listings.filter((listing) => listing.customerId === customerId);
  const sites: SlaSiteInput[] = await Promise.all(
    listings.map(async (listing) => ({
      siteId: listing.siteId,
      activeFrom: listing.createdAt,
      customerId: listing.customerId,
      name: listing.name,
      // Past `to` too: an incident of the period may be acknowledged or resolved after it.
      events: await stores.trail.eventsUntil(resellerId, listing.siteId, to + lateEventsMs, now),
      maintenance: await stores.sites.maintenanceBetween(resellerId, listing.siteId, from, to),
    })),
  );
  const days = stores.trail.retentionDays;
  const report = computeSlaReport({
    resellerId,
    from,
    to,
    now,
    timeZone,
    sites,
    targets: reseller.targets,
    auditRetention: { days, since: now - days * dayMs },
  });
  return { report, reseller, customer };
}

/** Customers' names by id, for the customer's rendering: only the one the report is scoped to, else all the reseller's. */
export async function customerNamesOf(resellers: ResellerStore, loaded: LoadedSlaReport): Promise<Record<string, string>> {
  if (loaded.customer) return { [loaded.customer.customerId]: loaded.customer.name };
  const customers = await allPages((cursor) => resellers.listCustomers(loaded.reseller.resellerId, { cursor, limit: 100 }));
  return Object.fromEntries(customers.map((c) => [c.customerId, c.name]));
}
