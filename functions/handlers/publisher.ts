import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type PublisherDeps, publisherDepsFromEnv } from '../adapters/publisher-config.ts';
import { logger } from '../adapters/logger.ts';
import { siteStateSk, siteStateFromItem } from '../adapters/site-item.ts';
import { eventsOf } from '../domain/events.ts';

type Image = Record<string, AttributeValue> | undefined;

const stateOf = (image: Image) => (image ? siteStateFromItem(unmarshall(image)) : undefined);

/** Only the witness's state items make events; the stream also carries every other record of the table. */
function isSiteState(record: DynamoDBRecord): boolean {
  return record.dynamodb?.Keys?.sk?.S === siteStateSk;
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
        if (!isSiteState(record)) continue;
        try {
          const before = stateOf(record.dynamodb?.OldImage as Image);
          const after = stateOf(record.dynamodb?.NewImage as Image);
          const events = eventsOf(before, after, deps.settings);
          // The trail first: an event on the topic is always one the trail can show.
          for (const e of events) await deps.trail.appendEvent(e);
          await deps.bus.publish(events);
          if (events.length > 0) logger.info('events recorded', { siteId: after?.siteId, types: events.map((e) => e.type) });
        } catch (error) {
          logger.error('stream record failed: the stream will retry from it', error as Error);
          return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
        }
      }
      return { batchItemFailures: [] };
    });

export const handler = publisherHandler(publisherDepsFromEnv);
