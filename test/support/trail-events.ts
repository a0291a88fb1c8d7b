import { type EventData, type EventType, StoredEvent } from '../../protocol/events.ts';

/** What an event of a site's trail says beyond the envelope's own fields. */
export type TrailFields = Omit<Partial<EventData>, 'resellerId'>;

/**
 * Events of one site's audit trail, checked against the envelope's schema so that a test's trail
 * is one the publisher could write: `trailOf(reseller, site)('e-1', 'node.lost', at, { … })`.
 */
export function trailOf(resellerId: string, siteId: string) {
  return (id: string, type: EventType, at: number, data: TrailFields = {}): StoredEvent =>
    StoredEvent.parse({ id, type, timestamp: new Date(at).toISOString(), data: { resellerId, siteId, severity: 'info', ...data } });
}
