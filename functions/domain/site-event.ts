import type { EventFields, EventOf, Severity, SiteEventType } from '../../protocol/events.ts';

/**
 * One event of a site, in the envelope every producer shares (protocol/events.ts): typed by its
 * type, so a producer can only build the fields that type's schema has.
 */
export function siteEvent<T extends SiteEventType>(
  type: T,
  e: { id: string; at: number; site: { resellerId: string; siteId: string }; severity: Severity; data: EventFields<T> },
): EventOf<T> {
  const data = { resellerId: e.site.resellerId, siteId: e.site.siteId, severity: e.severity, ...e.data };
  // The schema's own type for this `type`: TypeScript cannot tie a generic `type` to its member of the union.
  return { id: e.id, type, timestamp: new Date(e.at).toISOString(), data } as unknown as EventOf<T>;
}
