import { computeSlaReport, type SlaReport, type SlaSiteInput } from '../domain/sla-report.ts';
import type { AuditTrail } from './audit-trail.ts';
import type { ResellerStore } from './reseller-store.ts';
import { dayMs } from './retention.ts';
import type { SiteAdminStore, SiteListing } from './site-admin-store.ts';

/** Midnight UTC of a day (`2026-11-01`), or an instant as it is. */
export const parseBound = (value: string): number => Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);

/** How far past the period the report reads the trail for the period's incidents' acknowledgements and resolutions. */
const lateEventsMs = 31 * 24 * 3_600_000;

/**
 * Reads what a reseller's SLA report is computed from (each site's audit trail up to `to`, and
 * its maintenance windows), then computes it; a period that starts before the trail's retention
 * (`now` − its days) is noted as such. Undefined if there is no such reseller.
 */
export async function loadSlaReport(
  stores: { resellers: ResellerStore; sites: SiteAdminStore; trail: AuditTrail },
  resellerId: string,
  from: number,
  to: number,
  now: number,
  siteId?: string,
): Promise<SlaReport | undefined> {
  const reseller = await stores.resellers.getReseller(resellerId);
  if (!reseller) return undefined;
  const listings: SiteListing[] = [];
  if (siteId) {
    const listing = await stores.sites.getListing(resellerId, siteId);
    if (!listing) return undefined;
    listings.push(listing);
  } else {
    let cursor: string | undefined;
    do {
      const page = await stores.sites.listSites(resellerId, { cursor, limit: 100 });
      listings.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
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
  return computeSlaReport({ resellerId, from, to, sites, targets: reseller.targets, auditRetention: { days, since: now - days * dayMs } });
}
