import type { EventOf, EventType, StoredEvent, WitnessEvent } from '../../protocol/events.ts';
import type { ServiceQueueMessage } from '../../protocol/incidents.ts';
import * as z from 'zod/mini';
import { EscalationTarget } from '../../protocol/reseller.ts';
import type { MessageFailure, MessageStatus, WebhookEndpoint } from '../../protocol/webhooks.ts';
import '../../protocol/zod-locale.ts';

/**
 * The rules of outbound webhooks (DESIGN.md, "Webhooks"), pure: which endpoints hear an event,
 * when a failed delivery is tried again, and what one attempt's outcome changes. Time and
 * randomness come in as arguments; the handlers do the I/O.
 */

export interface WebhookSettings {
  /** The wait after each failed try; one try more than there are waits (the first is immediate). */
  retryDelaysMs: readonly number[];
  /** Each wait is stretched or shrunk by up to this share, at random, so that retries to a recovering receiver spread out. */
  jitter: number;
  /** An endpoint whose every delivery has failed this long is disabled. */
  disableAfterFailingMs: number;
}

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** An immediate try, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h: eight tries over about 28 hours. */
export const defaultWebhookSettings: WebhookSettings = {
  retryDelaysMs: [5 * second, 5 * minute, 30 * minute, 2 * hour, 5 * hour, 10 * hour, 10 * hour],
  jitter: 0.2,
  disableAfterFailingMs: 5 * 24 * hour,
};

/** The endpoint as the rules read it (the stored record, secrets aside). */
export type EndpointRules = Pick<WebhookEndpoint, 'endpointId' | 'enabled'> & {
  eventTypes: readonly EventType[];
  failingSince: number | null;
};

/**
 * The endpoints an event from the topic is for: its type is in their filter. A disabled endpoint is
 * among them (its message is kept, not sent, for a replay once it is enabled again). News of a
 * webhook failing never goes to the endpoint it is about (that would feed on itself). An incident
 * event is not for the endpoints its step reaches as escalation targets (`stepEndpointsOf`).
 */
export function endpointsFor<E extends EndpointRules>(event: StoredEvent, endpoints: readonly E[]): E[] {
  const about = event.type.startsWith('webhook.') ? event.data.endpointId : undefined;
  const byEscalation = stepEndpointsOf(event);
  return endpoints.filter((e) => e.eventTypes.includes(event.type) && e.endpointId !== about && !byEscalation.has(e.endpointId));
}

const Targets = z.array(EscalationTarget);

/**
 * The endpoints an incident event's step reaches as escalation targets: they hear that step from
 * the escalation (its message has the incident, names and links), so the event's subscription
 * does not send it again: one step, one message per endpoint. Read from the event alone (its
 * `firstTargets`, `targets` or `notified`), so a redelivered event decides the same; the step's
 * message id is the event's for both paths (stepEvent), so a redelivered step is stored once.
 * `incident.opened` is the first step's (`incident.escalated` step 1, delivered as `opened`).
 */
export function stepEndpointsOf(event: StoredEvent): Set<string> {
  const listed =
    event.type === 'incident.opened'
      ? event.data.firstTargets
      : event.type === 'incident.escalated'
        ? event.data.targets
        : event.type === 'incident.acknowledged' || event.type === 'incident.resolved'
          ? event.data.notified
          : undefined;
  const targets = Targets.safeParse(listed ?? []);
  // A step's message id is its event's: names a malformed list would drop are sent by subscription (at worst twice, never not).
  return new Set(targets.success ? targets.data.flatMap((t) => (t.type === 'webhook' ? [t.endpointId] : [])) : []);
}

/**
 * An incident step an escalation policy sends to an endpoint, as an event envelope: the step's
 * type (`incident.opened`, …), its stable id, and the step's whole message in `data` (site name,
 * customer, links), so every template reads one shape.
 */
export function stepEvent(
  resellerId: string,
  message: ServiceQueueMessage,
  severity: WitnessEvent['data']['severity'],
): EventOf<`incident.${ServiceQueueMessage['step']}`> {
  const { incident, site, customer, links, level } = message;
  return {
    id: message.messageId,
    type: `incident.${message.step}`,
    timestamp: message.at,
    data: {
      resellerId,
      siteId: site.siteId,
      severity,
      incidentId: incident.incidentId,
      kind: incident.kind,
      level,
      incident,
      site,
      customer,
      links,
    },
  };
}

/** The wait before try `attempt + 1` after try `attempt` failed (attempt counts from 1), or null when the tries are spent. */
export function retryDelayMs(attempt: number, settings: WebhookSettings, random: number): number | null {
  const base = settings.retryDelaysMs[attempt - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 - settings.jitter + 2 * settings.jitter * random));
}

/** What one try came to (the sender's result, or the endpoint's state when nothing was sent). */
export type AttemptOutcome = { kind: 'delivered' } | { kind: 'gone' } | { kind: 'failed' } | { kind: 'endpoint-disabled' };

export interface MessageAfterAttempt {
  status: MessageStatus;
  failure: MessageFailure | null;
  attempts: number;
  nextAttemptAt: number | null;
  /** When this try was made. */
  lastAttemptAt: number;
  /** Set when this try disabled the endpoint, and why: the stream turns it into `webhook.disabled`. */
  disabledEndpoint: 'gone' | 'failing' | null;
}

/**
 * The message after try `attempt` (1-based) of the current round: delivered; failed for good (410,
 * the endpoint disabled, the tries spent); or pending with the time of the next try. An endpoint
 * that has failed every delivery for `disableAfterFailingMs` is disabled by the try that finds it so.
 */
export function afterAttempt(
  attempt: number,
  outcome: AttemptOutcome,
  endpoint: Pick<EndpointRules, 'failingSince'>,
  now: number,
  settings: WebhookSettings,
  random: number,
): MessageAfterAttempt {
  const done = { attempts: attempt, nextAttemptAt: null, lastAttemptAt: now, disabledEndpoint: null };
  switch (outcome.kind) {
    case 'delivered':
      return { ...done, status: 'delivered', failure: null };
    case 'gone':
      return { ...done, status: 'failed', failure: 'gone', disabledEndpoint: 'gone' };
    case 'endpoint-disabled':
      return { ...done, status: 'failed', failure: 'endpoint-disabled' };
    case 'failed': {
      if (endpoint.failingSince !== null && now - endpoint.failingSince >= settings.disableAfterFailingMs) {
        return { ...done, status: 'failed', failure: 'endpoint-disabled', disabledEndpoint: 'failing' };
      }
      const wait = retryDelayMs(attempt, settings, random);
      if (wait === null) return { ...done, status: 'failed', failure: 'exhausted' };
      return { ...done, status: 'pending', failure: null, nextAttemptAt: now + wait };
    }
  }
}

/** The secrets that sign now: the current one and any previous one still inside its overlap. */
export function signingSecrets(secrets: readonly { secret: string; expiresAt: number | null }[], now: number): string[] {
  return secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret);
}

/** After a rotation: the new secret first, each older one signing until the overlap ends (or its own earlier end), expired ones dropped. */
export function rotatedSecrets<S extends { secret: string; createdAt: number; expiresAt: number | null }>(
  secrets: readonly S[],
  fresh: S,
  now: number,
  overlapMs: number,
): S[] {
  const until = now + overlapMs;
  const kept = secrets
    .filter((s) => s.expiresAt === null || s.expiresAt > now)
    .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? until, until) }))
    .filter((s) => s.expiresAt > now);
  return [fresh, ...kept];
}
