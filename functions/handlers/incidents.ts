import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { StoredEvent } from '../../protocol/events.ts';
import { IncidentKind } from '../../protocol/incidents.ts';
import { type IncidentDeps, incidentDepsFromEnv } from '../adapters/incident-config.ts';
import { incidentView } from '../adapters/incident-store.ts';
import { TimerMessage, timerMessage } from '../adapters/incident-timers.ts';
import { logger } from '../adapters/logger.ts';
import {
  applyChange,
  type ChangeContext,
  type ConditionChange,
  conditionChangesOf,
  defaultPolicy,
  escalate,
  settle,
  type Tracker,
  timersFor,
} from '../domain/incidents.ts';
import { incidentStepOf, stepMessage } from '../domain/incident-events.ts';
import '../../protocol/zod-locale.ts';

/** SNS delivers raw (the event itself) when the subscription says so, else in its envelope. */
const SnsEnvelope = z.object({ Type: z.literal('Notification'), Message: z.string() });

type Body = { kind: 'event'; event: StoredEvent } | { kind: 'timer'; timer: TimerMessage };

function parseBody(record: SQSRecord): Body {
  const json: unknown = JSON.parse(record.body);
  const envelope = SnsEnvelope.safeParse(json);
  const inner: unknown = envelope.success ? JSON.parse(envelope.data.Message) : json;
  const timer = TimerMessage.safeParse(inner);
  if (timer.success) return { kind: 'timer', timer: timer.data };
  return { kind: 'event', event: StoredEvent.parse(inner) };
}

/** Arms what the tracker needs after a change, or again on a redelivery (the first arming may have failed after the write). */
async function armTimers(deps: IncidentDeps, tracker: Tracker | undefined, armAnyway: boolean, changed: boolean): Promise<void> {
  if (!tracker || (!changed && !armAnyway)) return;
  for (const timer of timersFor(tracker, deps.settings)) await deps.timers.arm(timerMessage(tracker, timer), deps.now());
}

/** The policy for a site: its own override, else its customer's, else the reseller's, else the service queue at once. */
async function policyFor(deps: IncidentDeps, resellerId: string, siteId: string) {
  const listing = await deps.sites.getListing(resellerId, siteId);
  const scopes = [
    { scope: 'site' as const, id: siteId },
    ...(listing ? [{ scope: 'customer' as const, id: listing.customerId }] : []),
    { scope: 'reseller' as const, id: null },
  ];
  for (const at of scopes) {
    const found = await deps.escalation.get(resellerId, at);
    if (found) return found.policy;
  }
  return defaultPolicy;
}

async function onConditionChange(deps: IncidentDeps, event: StoredEvent, change: ConditionChange, redelivered: boolean): Promise<void> {
  const { resellerId, siteId } = event.data;
  const context: ChangeContext = { eventId: event.id, inMaintenance: false, policy: defaultPolicy };
  if (change.phase === 'raised') {
    context.policy = await policyFor(deps, resellerId, siteId);
    context.inMaintenance = (await deps.sites.maintenanceBetween(resellerId, siteId, change.at, change.at + 1)).length > 0;
  }
  let outcome = 'unchanged';
  const { after, changed } = await deps.incidents.update(resellerId, siteId, change.kind, (current) => {
    const result = applyChange(current, { resellerId, siteId }, change, context);
    outcome = result.outcome;
    return result.outcome === 'unchanged' ? undefined : result.tracker;
  });
  logger.info(`incident tracker: ${outcome}`, {
    siteId,
    kind: change.kind,
    subject: change.subject,
    phase: change.phase,
    eventId: event.id,
    incidentId: after?.incident?.incidentId,
    why:
      outcome === 'suppressed'
        ? 'inside a maintenance window: recorded in the audit trail, nobody paged'
        : outcome === 'unchanged'
          ? 'a repeat or older news than the tracker holds'
          : undefined,
  });
  await armTimers(deps, after, redelivered, changed);
}

async function onTimer(deps: IncidentDeps, message: TimerMessage, redelivered: boolean): Promise<void> {
  const now = deps.now();
  const { timer } = message;
  if (timer.dueAt > now) {
    // SQS holds a message 15 minutes at most (and a host's clock may run behind): early, it goes round again.
    await deps.timers.arm(message, now);
    return;
  }
  const { after, changed } = await deps.incidents.update(message.resellerId, message.siteId, message.kind, (current) =>
    current === undefined
      ? undefined
      : timer.type === 'escalate'
        ? escalate(current, timer.incidentId, timer.step, now)
        : settle(current, timer.incidentId, now, deps.settings),
  );
  logger.info(
    changed ? `incident ${timer.type === 'escalate' ? 'escalated' : 'resolved on recovery'}` : `incident timer had nothing to do`,
    {
      siteId: message.siteId,
      incidentId: timer.incidentId,
      timer,
    },
  );
  await armTimers(deps, after, redelivered, changed);
}

/** Incident steps reach their targets from the incident events, so a step is delivered whatever failed after its write. */
async function deliverStep(deps: IncidentDeps, event: StoredEvent): Promise<void> {
  const { resellerId, siteId, incidentId } = event.data;
  const found = incidentStepOf(event);
  if (!found || !incidentId || found.targets.length === 0) return;
  const { step, targets } = found;
  const kind = IncidentKind.parse(event.data.kind);
  const [tracker, listing] = await Promise.all([deps.incidents.get(resellerId, siteId, kind), deps.sites.getListing(resellerId, siteId)]);
  const customer = listing ? await deps.resellers.getCustomer(resellerId, listing.customerId) : undefined;
  const message = stepMessage({ ...event, data: { ...event.data, incidentId } }, step, {
    current: tracker?.incident?.incidentId === incidentId ? incidentView(tracker) : undefined,
    siteName: listing?.name ?? null,
    customer: customer ? { customerId: customer.customerId, name: customer.name } : null,
    links: step === 'resolved' ? null : deps.links.linksFor(resellerId, siteId, incidentId, deps.now()),
  });
  await deps.notifier.deliver(resellerId, message, targets);
  logger.info('incident step delivered', { siteId, incidentId, step, targets: targets.map((t) => t.type), messageId: event.id });
}

/**
 * The incidents queue → trackers, timers and deliveries. The queue carries three things: the
 * witness's condition events (from the SNS topic), the incident events (the same way, after the
 * stream has recorded each incident change), and the incident timers (delayed messages). Each
 * record is handled on its own; a failed one is handed back for SQS to retry, then dead-lettered.
 */
export const incidentsHandler = (getDeps: () => IncidentDeps | Promise<IncidentDeps>) =>
  middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const deps = await getDeps();
      const failures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const redelivered = Number(record.attributes.ApproximateReceiveCount) > 1;
        try {
          const body = parseBody(record);
          if (body.kind === 'timer') {
            await onTimer(deps, body.timer, redelivered);
          } else if (body.event.type.startsWith('incident.')) {
            await deliverStep(deps, body.event);
          } else {
            for (const change of conditionChangesOf(body.event)) await onConditionChange(deps, body.event, change, redelivered);
          }
        } catch (error) {
          logger.error('incidents queue message failed: SQS will retry it', { messageId: record.messageId, error: error as Error });
          failures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures: failures };
    });

export const handler = incidentsHandler(incidentDepsFromEnv);
