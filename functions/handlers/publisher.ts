import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type PublisherDeps, publisherDepsFromEnv } from '../adapters/publisher-config.ts';
import { logger } from '../adapters/logger.ts';
import { alertFromItem, isAlertSk } from '../adapters/alert-item.ts';
import { isTrackerSk, trackerFromItem } from '../adapters/incident-store.ts';
import { siteStateFromItem } from '../adapters/site-item.ts';
import { siteStateSk } from '../adapters/tenancy-items.ts';
import { alertEventsOf } from '../domain/alert-events.ts';
import { eventsOf } from '../domain/events.ts';
import { incidentEventsOf } from '../domain/incident-events.ts';
import { webhookEventsOf } from '../domain/webhook-events.ts';
import { isWebhookMessageSk, messageFromImage } from '../adapters/webhook-message-item.ts';
import { WitnessEvent } from '../../protocol/events.ts';

type Image = Record<string, AttributeValue> | undefined;

const stateOf = (image: Image) => (image ? siteStateFromItem(unmarshall(image)) : undefined);
const trackerOf = (image: Image) => (image ? trackerFromItem(unmarshall(image)) : undefined);
const messageOf = (image: Image) => (image ? messageFromImage(image) : undefined);
const alertOf = (image: Image) => (image ? alertFromItem(unmarshall(image)) : undefined);

/**
 * Only sites' state items, incident trackers and inbound alerts make events; the stream also carries every other
 * record of the table (the event source mapping filters those out in AWS; this is the same rule).
 */
function eventsOfRecord(record: DynamoDBRecord, deps: PublisherDeps): WitnessEvent[] | undefined {
  const sk = record.dynamodb?.Keys?.sk?.S;
  const before = record.dynamodb?.OldImage as Image;
  const after = record.dynamodb?.NewImage as Image;
  if (sk === siteStateSk) return eventsOf(stateOf(before), stateOf(after), deps.settings);
  if (isTrackerSk(sk)) return incidentEventsOf(trackerOf(before), trackerOf(after));
  if (isWebhookMessageSk(sk)) return webhookEventsOf(messageOf(before), messageOf(after));
  if (isAlertSk(sk)) return alertEventsOf(alertOf(before), alertOf(after));
  return undefined;
}

/** An event its own schema refuses is a bug of its producer: it is never recorded or published. */
export class InvalidEventError extends Error {
  constructor(
    readonly event: WitnessEvent,
    readonly issues: readonly { path: readonly PropertyKey[]; message: string }[],
  ) {
    super(`event ${event.id} (${event.type}) does not match its published schema`);
    this.name = 'InvalidEventError';
  }
}

/** Each event checked against the contract /openapi.json publishes (protocol/events.ts), once. */
function checked(events: readonly WitnessEvent[]): WitnessEvent[] {
  for (const event of events) {
    const result = WitnessEvent.safeParse(event);
    if (!result.success)
      throw new InvalidEventError(
        event,
        result.error.issues.map(({ path, message }) => ({ path, message })),
      );
  }
  return [...events];
}

/**
 * The table's stream → events (DESIGN.md, "Events"): each change of a site's state becomes the
 * events `eventsOf` derives, appended to the site's audit trail and published on the SNS topic.
 * A record that fails is reported
 * back (with every later one) so that the stream retries from it: nothing is skipped, and a
 * record retried after a partial success writes the same events again, which changes nothing.
 */
export const publisherHandler = (getDeps: () => PublisherDeps | Promise<PublisherDeps>) =>
  middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const deps = await getDeps();
      for (const record of event.Records) {
        try {
          const produced = eventsOfRecord(record, deps);
          if (!produced) continue;
          const events = checked(produced);
          // The trail first: an event on the topic is always one the trail can show.
          for (const e of events) await deps.trail.appendEvent(e);
          await deps.bus.publish(events);
          if (events.length > 0) logger.info('events recorded', { siteId: events[0]?.data.siteId, types: events.map((e) => e.type) });
        } catch (error) {
          if (error instanceof InvalidEventError) {
            logger.error('event refused by its schema: not recorded or published (a bug of its producer)', {
              eventId: error.event.id,
              type: error.event.type,
              issues: error.issues,
            });
          }
          logger.error('stream record failed: the stream will retry from it', error as Error);
          return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
        }
      }
      return { batchItemFailures: [] };
    });

export const handler = publisherHandler(publisherDepsFromEnv);
