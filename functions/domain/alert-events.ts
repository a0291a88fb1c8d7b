import type { Severity, WitnessEvent } from '../../protocol/events.ts';
import { siteEvent } from './site-event.ts';

/**
 * An alert another tool keeps on a site through an inbound integration: the latest news of it
 * (raised or cleared, at the sender's webhook timestamp). Stored as one item per (integration,
 * alert) in the site's partition; the stream hands the publisher each change.
 */
export interface Alert {
  resellerId: string;
  siteId: string;
  integrationId: string;
  integrationName: string;
  alert: string;
  raised: boolean;
  /** The mapping's severity for a raise; `info` for a clear. */
  severity: Severity;
  /** ms: the sender's webhook-timestamp, which orders the news. */
  at: number;
  webhookId: string;
  /** The inbound event's type, as the sender named it. */
  type: string;
  summary?: string | undefined;
}

/** What an alert is to an incident: one subject of the site's `alert.raised` tracker. */
export const alertSubject = (alert: Pick<Alert, 'integrationId' | 'alert'>) => `${alert.integrationId}/${alert.alert}`;

/**
 * An alert in the words a person knows it by, for messages: the summary its tool sent, then the
 * alert's name and the integration's (`UPS on battery, 38 min left (ups-power from APC UPS)`);
 * without a summary, the names alone. Never the subject's integration id.
 */
export function alertWords(alert: Pick<Alert, 'alert' | 'integrationName' | 'summary'>): string {
  const source = `${alert.alert} from ${alert.integrationName}`;
  return alert.summary ? `${alert.summary} (${source})` : source;
}

/**
 * The events one change of an alert means: `alert.raised` when it turns raised, or is raised
 * again by newer news (an incident resolved meanwhile by a person opens again); `alert.cleared`
 * when it turns clear. Ids are stable (the news' time in them), so a change handed twice is
 * recorded once.
 */
export function alertEventsOf(before: Alert | undefined, after: Alert | undefined): WitnessEvent[] {
  if (!after) return [];
  const make = (type: 'alert.raised' | 'alert.cleared', severity: Severity): WitnessEvent =>
    siteEvent(type, {
      id: `${after.resellerId}/${after.siteId}/${type}/${after.integrationId}/${after.alert}/${String(after.at)}`,
      at: after.at,
      site: after,
      severity,
      data: {
        integrationId: after.integrationId,
        integrationName: after.integrationName,
        alert: after.alert,
        subject: alertSubject(after),
        type: after.type,
        ...(after.summary === undefined ? {} : { summary: after.summary }),
      },
    });
  if (after.raised && (!before?.raised || after.at > before.at)) return [make('alert.raised', after.severity)];
  if (!after.raised && before?.raised === true) return [make('alert.cleared', 'info')];
  return [];
}
