import { Duration, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventSourceMapping, FilterCriteria, FilterRule, type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { alertSkPrefix, incidentSkPrefix, siteStateSk, webhookMessageSkPrefix } from '../functions/adapters/tenancy-items.ts';
import type { WitnessFunction } from './witness-function.ts';

/** Lambda's retries of a failing batch (halved each time: `bisectBatchOnError`) before its records go to the dead-letter queue. */
export const streamRetryAttempts = 10;

/**
 * A record older than this is given up (to the dead-letter queue) rather than retried: the table's
 * stream keeps records 24 h, which leaves 18 h to replay it from the queue's message (which names
 * the shard and the sequence numbers, not the record itself).
 */
export const streamMaxRecordAge = Duration.hours(6);

/**
 * Every heartbeat changes its site's state item, so without a window the publisher would run once
 * per heartbeat (about 3,400 times a site a day). Waiting up to 5 s for a batch lets one run take
 * up to 100 changes across sites; an event reaches the trail and the topic at most 5 s later.
 */
export const streamBatchingWindow = Duration.seconds(5);

export interface TableStreamFeedProps {
  table: Table;
  /** The function the stream feeds (functionSpecs: `fedBy: 'table-stream'`). */
  target: WitnessFunction;
}

/**
 * The table's stream feeding a function (the event publisher): a DynamoDB event source mapping
 * that hands it the changes of the sites' state items, incident trackers, inbound alerts and webhook
 * messages only (the filter, on `sk = STATE` or `sk` beginning `INCIDENT#`, `ALERT#` or `MSG#`), oldest
 * first (TRIM_HORIZON), one batch at a time per shard (parallelization 1: a site's changes arrive
 * in order). The function reports the first record it failed (`batchItemFailures`) and the stream
 * retries from it; a batch that keeps failing is halved, and a record still failing after
 * `streamRetryAttempts` retries, or older than `streamMaxRecordAge`, is described in the
 * dead-letter queue and skipped, so that one bad record does not stop a shard for a day.
 *
 * Permissions, from CDK's `DynamoEventSource` and `SqsDlq`: the stream's reads (DescribeStream,
 * GetRecords, GetShardIterator) on the stream only, `dynamodb:ListStreams` (which IAM cannot scope
 * to a resource), and sending to the dead-letter queue.
 */
export class TableStreamFeed extends Construct {
  readonly deadLetterQueue: Queue;
  readonly target: IFunction;
  readonly mapping: EventSourceMapping;

  constructor(scope: Construct, id: string, props: TableStreamFeedProps) {
    super(scope, id);
    this.target = props.target.function;
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      // What it holds is the batch's description (shard, sequence numbers, the error), no site data;
      // SQS-managed keys need no key grant to the function that sends to it.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // On the queue resource itself, not its policy below it.
    Validations.of(this.deadLetterQueue.node.defaultChild ?? this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself the dead-letter queue: the on-failure destination of the table stream's event source mapping, " +
        'where Lambda describes the records it gave up on. Nothing consumes it automatically; its visible messages are alarmed.',
    });

    props.target.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        parallelizationFactor: 1,
        maxBatchingWindow: streamBatchingWindow,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: streamRetryAttempts,
        maxRecordAge: streamMaxRecordAge,
        onFailure: new SqsDlq(this.deadLetterQueue),
        // Sites' state items, incident trackers, inbound alerts and webhook messages (any value matches): the records that make events.
        filters: [
          FilterCriteria.filter({
            dynamodb: {
              Keys: {
                sk: {
                  S: [
                    ...(FilterRule.isEqual(siteStateSk) as string[]),
                    ...(FilterRule.beginsWith(incidentSkPrefix) as unknown[]),
                    ...(FilterRule.beginsWith(alertSkPrefix) as unknown[]),
                    ...(FilterRule.beginsWith(webhookMessageSkPrefix) as unknown[]),
                  ],
                },
              },
            },
          }),
        ],
      }),
    );

    const mapping = props.target.function.node.children.find((child) => child instanceof EventSourceMapping);
    if (!mapping) throw new Error(`${props.target.node.path} has no event source mapping after its event source was added`);
    this.mapping = mapping;

    // DynamoEventSource grants dynamodb:ListStreams on '*' beside the stream's reads on the stream: on the policy only.
    const policy = props.target.role.node.tryFindChild('DefaultPolicy');
    if (!policy) throw new Error(`${props.target.node.path} has no policy after its event source was added`);
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "dynamodb:ListStreams, which Lambda needs to read the table stream, supports no resource-level permission (IAM's " +
        "service authorization reference): it lists stream ARNs and reads nothing. The stream's reads are on the stream only.",
    });
  }
}
