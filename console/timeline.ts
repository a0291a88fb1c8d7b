import type { EventType, Severity, StoredEvent } from '../protocol/events.ts';
import type { IncidentKind } from '../protocol/incidents.ts';
import { duration } from './format.ts';

/**
 * A site's audit trail in plain words: one sentence per event, as a technician would say it
 * ("node-a became primary (epoch 3)", "node-b stopped answering"). Pure: the event in, words out.
 */

/** The conditions incidents are about, named. */
export const incidentKindLabels: Record<IncidentKind, string> = {
  'node.lost': 'Node lost',
  'site.down': 'Site down',
  'link.lost': 'Link between the nodes lost',
  'node.degraded': 'Node degraded',
  'command.unacknowledged': 'Command not acknowledged',
  'alert.raised': 'Alert raised',
};

type Data = StoredEvent['data'] & Record<string, unknown>;

/** A field as text when it is a non-empty string or a number, else null: events come from storage, not from this code. */
function text(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value !== '' ? value : null;
}

const node = (data: Data, fallback = 'a node') => text(data.nodeId) ?? fallback;
const epoch = (data: Data) => (text(data.epoch) === null ? '' : ` (epoch ${String(data.epoch)})`);
const kindName = (data: Data) => {
  const kind = text(data.kind);
  return kind !== null && kind in incidentKindLabels ? incidentKindLabels[kind as IncidentKind].toLowerCase() : (kind ?? 'a condition');
};
const whoBy = (data: Data) => {
  const by = text(data.by);
  if (by === null) return '';
  if (by === 'recovery') return ' (the condition recovered)';
  if (by.startsWith('api-key:')) return ` with API key ${by.slice('api-key:'.length)}`;
  if (by === 'link') return ' from a one-click link';
  return ` (${by})`;
};
/** `Alert ups-power from UPS`, or as much of it as the event says. */
const alertName = (data: Data) => {
  const alert = text(data.alert);
  const from = text(data.integrationName);
  return `Alert${alert === null ? '' : ` ${alert}`}${from === null ? '' : ` from ${from}`}`;
};
/** `: <summary>` when the tool sent one: what it said is what a reader wants first. */
const alertSaid = (data: Data) => {
  const summary = text(data.summary);
  return summary === null ? '' : `: ${summary}`;
};
const commandName = (data: Data) => `${text(data.commandType) ?? 'a'} command`;

const readmittedBecause: Record<string, string> = {
  survivor: 'the survivor hears it again',
  operator: 'an operator readmitted it',
  force: 'an operator forced a failover',
  lapsed: 'the standalone lease ran out',
};

const sentences: Record<EventType, (data: Data, at: number) => string> = {
  'failover.granted': (data, at) => {
    const previous = text(data.previousPrimary);
    if (previous === null) return `${node(data)} became primary${epoch(data)}`;
    const endedAt = typeof data.previousLeaseEndedAt === 'number' ? data.previousLeaseEndedAt : null;
    const gap = endedAt === null || at <= endedAt ? '' : `, after ${duration(at - endedAt)} without a primary`;
    return `${node(data)} became primary${epoch(data)}, taking over from ${previous}${gap}`;
  },
  'failover.completed': (data) => `${node(data)} finished taking over as primary${epoch(data)}`,
  'failover.forced': (data) => {
    const confirm = text(data.confirm);
    const reason = text(data.reason);
    return `An operator forced ${node(data)} to primary${epoch(data)}${confirm === null ? '' : `, declaring “${confirm}”`}${reason === null ? '' : `: ${reason}`}`;
  },
  'node.lost': (data) =>
    `${node(data)} stopped answering${text(data.reportedBy) === null ? '' : ` (reported by ${String(data.reportedBy)})`}`,
  'node.recovered': (data) => {
    if (data.recoveredFrom === 'node.degraded')
      return `${node(data)} is healthy again${text(data.health) === null ? '' : ` (health ${String(data.health)})`}`;
    if (typeof data.leaseRenewedAt === 'number' && text(data.primary) !== null)
      return `${String(data.primary)} is answering again and still primary${epoch(data)}`;
    return `${node(data)} is answering again`;
  },
  'node.excluded': (data) => `${node(data)} was excluded: ${text(data.survivor) ?? 'the other node'} runs alone (survivor mode)`,
  'node.readmitted': (data) => {
    const why = readmittedBecause[text(data.by) ?? ''];
    return `${node(data)} was readmitted${why ? `: ${why}` : ''}`;
  },
  'site.down': () => 'No node answered: the site is down',
  'site.recovered': () => 'The site answers again',
  'link.lost': () => 'The link between the nodes was cut; both still answer',
  'link.restored': () => 'The link between the nodes is back',
  'node.degraded': (data) => {
    const health = text(data.health);
    const threshold = text(data.threshold);
    return `${node(data)}'s health fell${health === null ? '' : ` to ${health}`}${threshold === null ? '' : ` (under ${threshold})`}`;
  },
  'command.unacknowledged': (data) => `${node(data)} has not acknowledged its ${commandName(data)}${epoch(data)}`,
  'command.acknowledged': (data) =>
    data.outcome === 'superseded'
      ? `${node(data)}'s ${commandName(data)} was superseded by a newer epoch`
      : `${node(data)} acknowledged its ${commandName(data)}, late`,
  'incident.opened': (data) => `Incident opened: ${kindName(data)}`,
  'incident.escalated': (data) =>
    `Incident (${kindName(data)}) escalated${text(data.level) === null ? '' : ` to level ${String(data.level)}`}`,
  'incident.acknowledged': (data) => `Incident (${kindName(data)}) acknowledged${whoBy(data)}`,
  'incident.resolved': (data) => `Incident (${kindName(data)}) resolved${whoBy(data)}`,
  'alert.raised': (data) => `${alertName(data)} raised${alertSaid(data)}`,
  'alert.cleared': (data) => `${alertName(data)} cleared${alertSaid(data)}`,
  'webhook.failed': (data) =>
    `A webhook delivery${text(data.endpointId) === null ? '' : ` to ${String(data.endpointId)}`} failed after all its tries`,
  'webhook.test': (data) =>
    `A test event was sent to webhook endpoint${text(data.endpointId) === null ? '' : ` ${String(data.endpointId)}`}`,
  'webhook.disabled': (data) =>
    `Webhook endpoint${text(data.endpointId) === null ? '' : ` ${String(data.endpointId)}`} was disabled${text(data.reason) === null ? '' : ` (${String(data.reason)})`}`,
};

export interface TimelineEntry {
  id: string;
  at: number;
  severity: Severity;
  text: string;
}

/** One event in words. */
export function describeEvent(event: StoredEvent): TimelineEntry {
  const at = Date.parse(event.timestamp);
  const data = event.data as Data;
  const say = Object.hasOwn(sentences, event.type) ? sentences[event.type] : undefined;
  // Node ids are written as they are (`node-a became primary`), never capitalised.
  return { id: event.id, at, severity: event.data.severity, text: say ? say(data, at) : `${event.type} happened` };
}

/** The trail newest first, in words. */
export function timeline(events: readonly StoredEvent[]): TimelineEntry[] {
  return events.map(describeEvent).sort((a, b) => b.at - a.at || b.id.localeCompare(a.id));
}
