import * as z from 'zod/mini';
import type { EventFields, EventOf, OmitEach, Severity, StoredEvent, WitnessEvent } from '../../protocol/events.ts';
import { type Incident, IncidentKind, type IncidentStep, type ServiceQueueMessage } from '../../protocol/incidents.ts';
import { EscalationTarget } from '../../protocol/reseller.ts';
import { siteEvent } from './site-event.ts';
import {
  activeSubjects,
  affectedWords,
  type IncidentRecord,
  incidentSeverity,
  severityOf,
  stepLevel,
  stepTargets,
  type Tracker,
} from './incidents.ts';

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
  const make = <T extends IncidentEventType>(
    type: T,
    at: number,
    key: string,
    severity: Severity,
    data: OmitEach<Exclude<EventFields<T>, { incident: unknown }>, keyof typeof about>,
  ): EventOf<T> =>
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
    events.push(
      make('incident.opened', incident.openedAt, '', incidentSeverity(after), {
        subjects: activeSubjects(after),
        affected: affectedWords(after, activeSubjects(after)),
        openingEventId: incident.openingEventId,
        // The webhook router leaves this event to the first step for the endpoints it names (one message each).
        firstTargets: stepTargets(incident.policy, 0),
      }),
    );
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
    events.push(
      make('incident.acknowledged', incident.acknowledgedAt, '', 'info', { by: incident.acknowledgedBy, notified: incident.notified }),
    );
  }
  if (turned('resolved') && incident.resolvedAt !== null) {
    events.push(make('incident.resolved', incident.resolvedAt, '', 'info', { by: incident.resolvedBy, notified: incident.notified }));
  }
  return events;
}

/** What a step's message says besides its event: the incident as its tracker holds it now, the site's name, its customer, the one-click links. */
export interface StepContext {
  /** The tracker's view of the incident, when it still holds this one (not a newer one). */
  current: Incident | undefined;
  siteName: string | null;
  customer: { customerId: string; name: string } | null;
  /** Absent for a resolved step: nothing is left to click. */
  links: { acknowledge: string; resolve: string } | null;
}

/**
 * The step an incident event of the trail asks to deliver, and to whom: the first
 * `incident.escalated` is the opening step; an acknowledgement or resolution goes to everyone told
 * so far. None for `incident.opened` (its first step is told by `incident.escalated`) or other events.
 */
export function incidentStepOf(event: StoredEvent): { step: IncidentStep; targets: EscalationTarget[] } | undefined {
  if (!event.data.incidentId) return undefined;
  const step: IncidentStep | undefined =
    event.type === 'incident.escalated'
      ? event.data.step === 1
        ? 'opened'
        : 'escalated'
      : event.type === 'incident.acknowledged'
        ? 'acknowledged'
        : event.type === 'incident.resolved'
          ? 'resolved'
          : undefined;
  if (!step) return undefined;
  return { step, targets: Targets.parse(step === 'opened' || step === 'escalated' ? event.data.targets : event.data.notified) };
}

const Targets = z.array(EscalationTarget);
const EventMillis = z.number().check(z.int(), z.minimum(0), z.maximum(8.64e15));

/**
 * When a step's incident opened, for an incident its tracker no longer holds (a newer one opened
 * since): the incident events carry it. Events published before they did fall back to the time
 * at the end of an id of the `<kind>-<ms>` format, then to the step's own time (the latest the
 * incident can have opened): a step is delivered, never dead-lettered, for want of it.
 */
function openedAtOf(event: StoredEvent, incidentId: string): string {
  const carried = EventMillis.safeParse(event.data.openedAt);
  if (carried.success) return new Date(carried.data).toISOString();
  const legacy = EventMillis.safeParse(Number(/^[a-z]+-[a-z]+-(\d{1,15})$/.exec(incidentId)?.[1]));
  return legacy.success ? new Date(legacy.data).toISOString() : event.timestamp;
}

/**
 * An incident step's message (the reseller's service queue, e-mail, SMS, and in `data` the
 * webhook event an escalation sends): from its incident event, as the tracker holds the incident
 * now. Read from the trail's tolerant form (StoredEvent): steps of incidents whose id is not of the
 * `<kind>-<ms>` form, and events from before `openedAt` was carried, are still delivered.
 */
export function stepMessage(
  event: StoredEvent & { data: { incidentId: string } },
  step: IncidentStep,
  context: StepContext,
): ServiceQueueMessage {
  const { siteId, incidentId } = event.data;
  // The tracker by the kind the event names, not by parsing the id: an id is a name.
  const kind = IncidentKind.parse(event.data.kind);
  const { current } = context;
  return {
    messageId: event.id,
    step,
    level: typeof event.data.level === 'number' ? event.data.level : null,
    at: event.timestamp,
    incident: {
      incidentId,
      kind,
      state: current?.state ?? (step === 'resolved' ? 'resolved' : step === 'acknowledged' ? 'acknowledged' : 'open'),
      // An opened or escalated step's event says what it pages as, for an incident its tracker no longer holds.
      severity: current?.severity ?? (step === 'opened' || step === 'escalated' ? event.data.severity : severityOf(kind)),
      openedAt: current?.openedAt ?? openedAtOf(event, incidentId),
      subjects: current?.subjects ?? [],
      affected: current?.affected ?? [],
      acknowledgedBy: current?.acknowledgedBy ?? null,
      resolvedBy: current?.resolvedBy ?? null,
    },
    site: { siteId, name: context.siteName },
    customer: context.customer,
    links: step === 'resolved' ? null : context.links,
  };
}
