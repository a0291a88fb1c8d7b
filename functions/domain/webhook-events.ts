import type { EventFields, EventType, Severity, WitnessEvent } from '../../protocol/events.ts';
import { siteEvent } from './site-event.ts';
import type { MessageFailure, MessageStatus } from '../../protocol/webhooks.ts';

/** A webhook message as the stream shows it (functions/adapters/webhook-message-item.ts). */
export interface MessageImage {
  resellerId: string;
  endpointId: string;
  messageId: string;
  eventId: string;
  eventType: EventType;
  /** Null for a test's message (`webhook.test`): it is about no site. */
  siteId: string | null;
  status: MessageStatus;
  failure: MessageFailure | null;
  attempts: number;
  round: number;
  lastStatus: number | null;
  lastAttemptAt: number | null;
  disabledEndpoint: 'gone' | 'failing' | null;
}

/**
 * The events one change of a webhook message means: `webhook.failed` when its tries ran out (it is
 * in the dead-letter queue; a replay can send it again), `webhook.disabled` when the try disabled
 * its endpoint (the receiver answered 410, or every delivery had failed for days). The reseller
 * hears of both in the site's audit trail, on the topic (so on any other endpoint that asks for
 * them) and on its service queue. Ids are stable per round: a change handed twice is one event.
 * A test's message (POST /v1/webhooks/{endpointId}/test) means none: it is about no site, so there
 * is no trail to put them in; whoever asked for the test follows it in the endpoint's messages and
 * delivery log, where its failure (`exhausted`, `gone`) and the endpoint's state show.
 */
export function webhookEventsOf(before: MessageImage | undefined, after: MessageImage | undefined): WitnessEvent[] {
  if (!after?.lastAttemptAt || after.siteId === null) return [];
  const at = after.lastAttemptAt;
  const siteId = after.siteId;
  const sameTry = before?.round === after.round && before.attempts === after.attempts;
  const delivery: EventFields<'webhook.failed'> = {
    endpointId: after.endpointId,
    messageId: after.messageId,
    eventId: after.eventId,
    eventType: after.eventType,
    attempts: after.attempts,
    lastStatus: after.lastStatus,
  };
  const envelope = (type: 'webhook.failed' | 'webhook.disabled', severity: Severity) => ({
    id: `${after.resellerId}/${siteId}/${type}/${after.endpointId}/${after.messageId}/${String(after.round)}`,
    at,
    site: { resellerId: after.resellerId, siteId },
    severity,
  });
  const events: WitnessEvent[] = [];
  if (after.failure === 'exhausted' && !(sameTry && before.failure === 'exhausted')) {
    events.push(siteEvent('webhook.failed', { ...envelope('webhook.failed', 'warning'), data: delivery }));
  }
  if (after.disabledEndpoint !== null && !(sameTry && before.disabledEndpoint !== null)) {
    events.push(
      siteEvent('webhook.disabled', { ...envelope('webhook.disabled', 'critical'), data: { ...delivery, reason: after.disabledEndpoint } }),
    );
  }
  return events;
}
