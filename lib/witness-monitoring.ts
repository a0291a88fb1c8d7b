import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Operation, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { NodeApi } from './node-api.ts';

export interface WitnessMonitoringProps {
  alarmTopic: ITopic;
  api: NodeApi;
  functions: Record<string, IFunction>;
  table: Table;
  /** The table operations the functions call: the ones whose throttles and errors are watched. */
  tableOperations: Operation[];
  /** The function the table's stream feeds (by its name in `functions`), and the dead-letter queue of its event source. */
  streamFeed: { name: string; function: IFunction; deadLetterQueue: IQueue };
  /** The incidents queue's dead-letter queue: a message there is an incident step or timer given up on. */
  incidentDeadLetters: IQueue;
  /** The webhook dead-letter queue: a message there is a webhook whose tries ran out, or one the webhook functions kept failing. */
  webhookDeadLetters: IQueue;
}

/** Alarms look at 5-minute sums: each condition below should never happen, so one occurrence is worth a look. */
const alarmPeriod = Duration.minutes(5);
const graphPeriod = Duration.minutes(1);

/**
 * The stream's reader lags: its oldest record unprocessed for longer than this (the maximum over
 * the 5 minutes), events reach the audit trail late. A healthy reader stays well under a second
 * behind; a minute means a batch retried over and over, or a reader throttled.
 */
export const iteratorAgeThresholdMs = 60_000;

/**
 * Alarms (to the alarm topic, also when they clear) and one dashboard.
 *
 * - Lambda errors and throttles, per function (every function of the stack alike): the handlers
 *   turn every failure into a response, so an error here is a crash, a timeout or a failed cold start.
 * - API 5xx, over all routes (node protocol and reseller API): a handler's 500 (an unexpected
 *   failure) or 503 (a site contended past the retries), or API Gateway failing to reach a function.
 * - DynamoDB throttled requests and system errors, on the operations the functions call
 *   (TransactWriteItems is an operation of its own in DynamoDB's metrics).
 *
 * - The incidents queue's dead-letter queue: any message in it (an event, a timer or a delivery the
 *   incidents function failed 10 times: somebody may not have been told).
 * - The webhook dead-letter queue: any message in it (a webhook message whose tries ran out, or an
 *   outbox message or delivery job the webhook router or deliverer failed 10 times).
 * - The table stream's reader (the event publisher): its iterator age (the age of the last record
 *   it was handed, maximum over 5 minutes) past `iteratorAgeThresholdMs`, and any message in its
 *   dead-letter queue (records given up on: the events of those changes are missing until replayed).
 *   The publisher reports a failed record rather than throwing, so its Errors alarm sees crashes
 *   and timeouts only: the iterator age is what says it is stuck.
 */
export class WitnessMonitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: WitnessMonitoringProps) {
    super(scope, id);
    // At or over 1 by default (any error, throttle, dead letter); another threshold is strictly over it.
    const alarmWhen = (alarmId: string, metric: IMetric, description: string, over?: number) => {
      const alarm = new Alarm(this, alarmId, {
        alarmDescription: `Tiebreak: ${description}`,
        metric,
        threshold: over ?? 1,
        comparisonOperator:
          over === undefined ? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD : ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new SnsAction(props.alarmTopic));
      alarm.addOkAction(new SnsAction(props.alarmTopic));
      this.alarms.push(alarm);
    };

    const sum = { period: alarmPeriod, statistic: Stats.SUM };
    for (const [name, fn] of Object.entries(props.functions)) {
      const title = name.charAt(0).toUpperCase() + name.slice(1);
      alarmWhen(`${title}Errors`, fn.metricErrors(sum), `the ${name} function failed (crash, timeout or cold start)`);
      alarmWhen(`${title}Throttles`, fn.metricThrottles(sum), `the ${name} function was throttled (account concurrency)`);
    }
    const feed = props.streamFeed;
    const feedTitle = feed.name.charAt(0).toUpperCase() + feed.name.slice(1);
    alarmWhen(
      `${feedTitle}IteratorAge`,
      feed.function.metric('IteratorAge', { period: alarmPeriod, statistic: Stats.MAXIMUM }),
      `the ${feed.name} function lags the table stream by more than ${iteratorAgeThresholdMs / 1000} s (a batch retried, or throttled)`,
      iteratorAgeThresholdMs,
    );
    alarmWhen(
      `${feedTitle}DeadLetters`,
      feed.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: alarmPeriod, statistic: Stats.MAXIMUM }),
      `the ${feed.name} function gave up on table-stream records (see its dead-letter queue: their events are missing until replayed)`,
    );
    alarmWhen(
      'IncidentDeadLetters',
      props.incidentDeadLetters.metricApproximateNumberOfMessagesVisible({ period: alarmPeriod, statistic: Stats.MAXIMUM }),
      'the incidents function gave up on a message (an event, an escalation timer or a delivery): see its dead-letter queue, and redrive it once fixed',
    );
    alarmWhen(
      'WebhookDeadLetters',
      props.webhookDeadLetters.metricApproximateNumberOfMessagesVisible({ period: alarmPeriod, statistic: Stats.MAXIMUM }),
      'a webhook was given up on (its tries ran out, or the webhook router or deliverer failed a message 10 times): see the webhook dead-letter queue',
    );
    alarmWhen('Api5xx', props.api.api.metricServerError(sum), 'the API (node protocol or reseller API) answered 5xx');
    const operations = { operations: props.tableOperations, ...sum };
    alarmWhen('TableThrottles', props.table.metricThrottledRequestsForOperations(operations), 'DynamoDB throttled requests of the witness');
    alarmWhen(
      'TableSystemErrors',
      props.table.metricSystemErrorsForOperations(operations),
      'DynamoDB failed requests of the witness (system errors)',
    );

    this.dashboard = this.#dashboard(props);
  }

  #dashboard(props: WitnessMonitoringProps): Dashboard {
    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const api = props.api.api;
    const fns = Object.entries(props.functions);
    const per = (statistic: string) => ({ period: graphPeriod, statistic });
    const graph = (title: string, left: IMetric[], width = 8) => new GraphWidget({ title, left, width, height: 6, period: graphPeriod });

    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }));
    dashboard.addWidgets(
      graph('API requests', [
        api.metricCount({ ...per(Stats.SUM), label: 'requests' }),
        api.metricClientError({ ...per(Stats.SUM), label: '4xx' }),
        api.metricServerError({ ...per(Stats.SUM), label: '5xx' }),
      ]),
      graph('API latency (ms)', [
        api.metricLatency({ ...per(Stats.p(50)), label: 'p50' }),
        api.metricLatency({ ...per(Stats.p(99)), label: 'p99' }),
        api.metricIntegrationLatency({ ...per(Stats.p(99)), label: 'integration p99' }),
      ]),
      graph(
        'Requests by function',
        fns.map(([name, fn]) => fn.metricInvocations({ ...per(Stats.SUM), label: name })),
      ),
    );
    dashboard.addWidgets(
      graph('Function errors and throttles', [
        ...fns.map(([name, fn]) => fn.metricErrors({ ...per(Stats.SUM), label: `${name} errors` })),
        ...fns.map(([name, fn]) => fn.metricThrottles({ ...per(Stats.SUM), label: `${name} throttles` })),
      ]),
      graph(
        'Function duration p99 (ms)',
        fns.map(([name, fn]) => fn.metricDuration({ ...per(Stats.p(99)), label: name })),
      ),
      graph(
        'Concurrent executions',
        fns.map(([name, fn]) => fn.metric('ConcurrentExecutions', { ...per(Stats.MAXIMUM), label: name })),
      ),
    );
    const feed = props.streamFeed;
    dashboard.addWidgets(
      graph(
        'Table stream: reader lag (ms)',
        [feed.function.metric('IteratorAge', { ...per(Stats.MAXIMUM), label: `${feed.name} iterator age` })],
        12,
      ),
      graph(
        'Table stream: dead-letter queue (messages)',
        [feed.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...per(Stats.MAXIMUM), label: `${feed.name} dead letters` })],
        12,
      ),
    );
    const operations = { operations: props.tableOperations, period: graphPeriod };
    dashboard.addWidgets(
      graph(
        'DynamoDB capacity used (units)',
        [
          props.table.metricConsumedWriteCapacityUnits({ ...per(Stats.SUM), label: 'write' }),
          props.table.metricConsumedReadCapacityUnits({ ...per(Stats.SUM), label: 'read' }),
        ],
        6,
      ),
      graph(
        'DynamoDB latency p99 (ms)',
        props.tableOperations.map((operation) =>
          props.table.metricSuccessfulRequestLatency({
            ...per(Stats.p(99)),
            dimensionsMap: { TableName: props.table.tableName, Operation: operation },
            label: operation,
          }),
        ),
        6,
      ),
      // Each of these is a sum over the operations, with per-operation ids: one per graph.
      graph('DynamoDB throttled requests', [withLabel(props.table.metricThrottledRequestsForOperations(operations), 'throttled')], 6),
      graph('DynamoDB system errors', [withLabel(props.table.metricSystemErrorsForOperations(operations), 'system errors')], 6),
    );
    return dashboard;
  }
}

function withLabel(metric: IMetric, label: string): IMetric {
  return metric instanceof MathExpression ? metric.with({ label }) : metric;
}
