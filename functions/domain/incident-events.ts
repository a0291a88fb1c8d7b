import type { EventFields, EventOf, OmitEach, Severity, WitnessEvent } from '../../protocol/events.ts';
import { siteEvent } from './site-event.ts';
import { activeSubjects, type IncidentRecord, incidentSeverity, stepLevel, stepTargets, type Tracker } from './incidents.ts';

// An incident step sent to an endpoint has the same types and another `data` (webhook-delivery.ts).
type IncidentEventType = 'incident.opened' | 'incident.escalated' | 'incident.acknowledged' | 'incident.resolved';

/**
 * The events one change of an incident tracker means: `incident.opened`, one `incident.escalated`
 * per step taken, `incident.acknowledged`, `incident.resolved`. The stream hands the publisher each
 * change, as it does a site's; ids are stable, so a change handed twice is recorded once. The
 * deliveries to the reseller's targets are made from these events, so each step reaches its
 * targets at least once whatever fails on the way.
 */
export function incidentEventsOf(before: Tracker | undefined, after: Tracker | undefined): WitnessEvent[] {
  const incident = after?.incident;
  if (!after || !incident) return [];
  const was = before?.incident?.incidentId === incident.incidentId ? before.incident : null;
  // `openedAt` rides on every step: a step delivered after its tracker moved on to a newer incident still says it.
  const about = { incidentId: incident.incidentId, kind: after.kind, openedAt: incident.openedAt };
  const make = <T extends IncidentEventType>(type: T, at: number, key: string, severity: Severity, data: OmitEach<Exclude<EventFields<T>, { incident: unknown }>, keyof typeof about>): EventOf<T> =>
    siteEvent(type, {
      id: `${after.resellerId}/${after.siteId}/${type}/${incident.incidentId}${key}`,
      at,
      site: after,
      severity,
      // The tracker's shape of the type's `data` (TypeScript cannot follow a generic type into it).
      data: { ...about, ...data } as unknown as EventFields<T>,
    });
  const events: WitnessEvent[] = [];

  if (!was) {
    events.push(make('incident.opened', incident.openedAt, '', incidentSeverity(after), { subjects: activeSubjects(after), openingEventId: incident.openingEventId }));
  }
  for (let step = was?.stepsTaken ?? 0; step < incident.stepsTaken; step++) {
    events.push(
      make('incident.escalated', incident.lastEscalatedAt ?? incident.openedAt, `/${String(step + 1)}`, incidentSeverity(after), {
        step: step + 1,
        level: stepLevel(incident.policy, step),
        targets: stepTargets(incident.policy, step),
      }),
    );
  }
  const turned = (state: IncidentRecord['state']) => incident.state === state && was?.state !== state;
  if (turned('acknowledged') && incident.acknowledgedAt !== null) {
    events.push(make('incident.acknowledged', incident.acknowledgedAt, '', 'info', { by: incident.acknowledgedBy, notified: incident.notified }));
  }
  if (turned('resolved') && incident.resolvedAt !== null) {
    events.push(make('incident.resolved', incident.resolvedAt, '', 'info', { by: incident.resolvedBy, notified: incident.notified }));
  }
  return events;
}
