import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Operation } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { defaultChannelPrefix } from '../functions/adapters/api-config.ts';
import { settingsEnv } from '../functions/adapters/settings-env.ts';
import { retentionEnv } from '../functions/adapters/retention.ts';
import { dueIndexName, legacyDueIndexName } from '../functions/adapters/site-item.ts';
import { apiFunctionRoutes } from '../protocol/api-routes.ts';
import { consoleRouteKeys } from '../protocol/console-routes.ts';
import { nodeRouteKeys } from '../protocol/node-routes.ts';
import type { FunctionName } from './bundling.ts';
import type { DeploySettings } from './deploy-settings.ts';
import { NodeApi, type RouteAuthorization, type RouteKey } from './node-api.ts';
import { SiteTable } from './site-table.ts';
import { adminKeyProps, KeySecret, tokenKeyProps } from './key-secret.ts';
import { IncidentQueues } from './incident-queues.ts';
import { TableStreamFeed } from './table-stream-feed.ts';
import { Topics } from './topics.ts';
import { type QueueTarget, WebhookQueues } from './webhook-queues.ts';
import { timeoutSeconds as defaultTimeoutSeconds, WitnessFunction } from './witness-function.ts';
import { WitnessMonitoring } from './witness-monitoring.ts';

/** The secrets a function may read, each named to it by a variable holding its ARN. */
export type SecretName = 'tokenKey' | 'adminKey';

export const secretVariables = {
  tokenKey: 'TIEBREAK_TOKEN_KEY_SECRET_ARN',
  adminKey: 'TIEBREAK_ADMIN_KEY_SECRET_ARN',
} as const satisfies Record<SecretName, string>;

/** What a TransactWriteItems may hold: IAM authorizes a transaction by these item actions, not by an action of its own. */
export type TransactionItemAction = 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem';

/** What one function is given: exactly what its code calls, nothing more. */
interface FunctionSpecBase {
  /**
   * The table operations it calls (see its store adapters: functions/adapters/*-store.ts): its IAM
   * actions on the table, and what the table's alarms watch. A function that calls the table gets
   * its name and the witness timings (TIEBREAK_TABLE, TIEBREAK_*_MS: functions/adapters/config.ts).
   */
  tableOperations: readonly Operation[];
  /** The table's indexes it queries: dynamodb:Query on those indexes only (not on the table). */
  indexQueries?: readonly string[];
  /** With TransactWriteItems among them: the item actions its transactions hold. */
  transactionItems?: readonly TransactionItemAction[];
  /** The secrets it reads (their ARNs in its environment: `secretVariables`). */
  secrets: readonly SecretName[];
  /** Its timeout, if not lib/witness-function.ts's 3 s. */
  timeoutSeconds?: number;
}

/** A function the API invokes. */
export interface RoutedFunctionSpec extends FunctionSpecBase {
  /** The API routes that invoke it. */
  routes: readonly RouteKey[];
  /** How it checks the callers of those routes (none has an API Gateway authorizer). */
  authorization: RouteAuthorization;
  fedBy?: never;
  everyMinutes?: never;
}

/** A function the table's stream feeds (lib/table-stream-feed.ts): no route, so no caller to check. */
export interface StreamFunctionSpec extends FunctionSpecBase {
  fedBy: 'table-stream';
  routes?: never;
  authorization?: never;
  everyMinutes?: never;
}

/** A function an EventBridge schedule runs: no route, no stream, so no caller to check. */
export interface ScheduledFunctionSpec extends FunctionSpecBase {
  /** How often it runs (an EventBridge `rate`). */
  everyMinutes: number;
  routes?: never;
  authorization?: never;
  fedBy?: never;
}

/**
 * The queues that feed a function, each exactly one: the incidents queue (lib/incident-queues.ts),
 * the webhook outbox and the webhook deliveries queue (lib/webhook-queues.ts).
 */
export type FeedingQueue = 'incidents-queue' | 'webhook-outbox' | 'webhook-deliveries';

/** A function a queue feeds: no route, so no caller to check. */
export interface QueueFunctionSpec extends FunctionSpecBase {
  fedBy: FeedingQueue;
  routes?: never;
  authorization?: never;
  everyMinutes?: never;
}

export type FunctionSpec = RoutedFunctionSpec | StreamFunctionSpec | ScheduledFunctionSpec | QueueFunctionSpec;

/** The routes that invoke a function: none for one the stream feeds. */
export function routesOf(spec: FunctionSpec): readonly RouteKey[] {
  return spec.routes ?? [];
}

/**
 * Every function of lib/bundling.ts, and what it may do. A new function is an entry in
 * lib/bundling.ts and one here (the type makes the second one due).
 */
export const functionSpecs = {
  // store.apply: one conditional UpdateItem, whose failed condition returns the old item. No read.
  heartbeat: {
    tableOperations: [Operation.UPDATE_ITEM],
    routes: [nodeRouteKeys.heartbeat],
    authorization: 'node-token',
    secrets: ['tokenKey'],
  },
  // store.load (a consistent GetItem) when the site was not seen lately, then store.apply.
  claim: {
    tableOperations: [Operation.GET_ITEM, Operation.UPDATE_ITEM],
    routes: [nodeRouteKeys.claim],
    authorization: 'node-token',
    secrets: ['tokenKey'],
  },
  // The reseller API's functions serve the routes protocol/api-routes.ts apiFunctionRoutes names for
  // each. Every one authenticates its callers: the API key's consistent GetItem, the admin key.
  // A cold start reads two secrets: more than an agent's 3 s. API Gateway's HTTP API waits 30 s at most.
  //
  // api: the reseller's account, keys and customers (functions/adapters/reseller-store.ts), sites
  // and their records (site-admin-store.ts, pagination.ts), survivor mode (the witness's own store),
  // trails and incidents: consistent reads and queries, conditional writes, and transactions (a site
  // with its records, an enrollment, a maintenance window with its listing). The fleet view (GET
  // /v1/sites) reads a page's state items and the incident trackers their listings name with
  // BatchGetItem (site-admin-store.ts, listFleet). Never a Scan. It signs node
  // tokens at enrollment (the token key) and checks the operator's admin key. No queue or topic.
  api: {
    tableOperations: [
      Operation.GET_ITEM,
      Operation.BATCH_GET_ITEM,
      Operation.PUT_ITEM,
      Operation.UPDATE_ITEM,
      Operation.QUERY,
      Operation.TRANSACT_WRITE_ITEMS,
    ],
    transactionItems: ['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
    routes: apiFunctionRoutes.api,
    authorization: 'api-key',
    secrets: ['tokenKey', 'adminKey'],
    timeoutSeconds: 29,
  },
  // channels: a new reseller with its first key (one transaction of two Puts) after its SQS queue
  // and SNS topic; escalation policies (functions/adapters/escalation-store.ts: a GetItem, a Query,
  // a conditional DeleteItem, a transaction of a Put and the check that the customer or site exists).
  channels: {
    tableOperations: [Operation.GET_ITEM, Operation.QUERY, Operation.DELETE_ITEM, Operation.TRANSACT_WRITE_ITEMS],
    transactionItems: ['PutItem', 'ConditionCheckItem'],
    routes: apiFunctionRoutes.channels,
    authorization: 'api-key',
    secrets: ['tokenKey', 'adminKey'],
    timeoutSeconds: 29,
  },
  // webhooks: endpoints, their messages and delivery log (functions/adapters/webhook-*-store.ts),
  // inbound integrations and the incidents their hooks raise (integration-store.ts, incident-store.ts):
  // reads, queries, conditional writes and deletes, transactions. It sends a replay's or an endpoint
  // test's first try to the webhook deliveries queue.
  webhooks: {
    tableOperations: [
      Operation.GET_ITEM,
      Operation.PUT_ITEM,
      Operation.UPDATE_ITEM,
      Operation.DELETE_ITEM,
      Operation.QUERY,
      Operation.TRANSACT_WRITE_ITEMS,
    ],
    transactionItems: ['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
    routes: apiFunctionRoutes.webhooks,
    authorization: 'api-key',
    secrets: ['tokenKey', 'adminKey'],
    timeoutSeconds: 29,
  },
  // The SLA report (functions/handlers/report.ts): the api's authentication, then consistent reads
  // and queries of the reseller's sites, trails and windows; it renders PDFs, whose library stays
  // out of the other bundles. It reads every event of the reseller's sites in its period: more than
  // an agent's 3 s. API Gateway's HTTP API waits 30 s at most.
  report: {
    tableOperations: [Operation.GET_ITEM, Operation.QUERY],
    routes: apiFunctionRoutes.report,
    authorization: 'api-key',
    secrets: ['tokenKey', 'adminKey'],
    timeoutSeconds: 29,
  },
  // The OpenAPI document, built from the route table in memory: no AWS call at all.
  openapi: { tableOperations: [], routes: ['GET /openapi.json'], authorization: 'public', secrets: [] },
  // The reseller console's static files (functions/handlers/console.ts), from its own package
  // (lib/bundling.ts, packagedFiles): no AWS call at all. Served from the API's origin, so the
  // console calls the API without CORS; its users' API keys never pass through this function.
  console: { tableOperations: [], routes: consoleRouteKeys, authorization: 'public', secrets: [] },
  // The table's stream → the sites' audit trails (functions/handlers/publisher.ts): one conditional
  // PutItem per event (site-admin-store.ts appendEvent), no read. The stream's own reads are its
  // event source mapping's (lib/table-stream-feed.ts). Nobody waits on it: 30 s for a batch of 100
  // records, each of which may write a few events, after a cold start.
  publisher: { tableOperations: [Operation.PUT_ITEM], fedBy: 'table-stream', secrets: [], timeoutSeconds: 30 },
  // The silence detector (functions/handlers/detector.ts, functions/adapters/detector-store.ts),
  // every minute: its cursor item and each listed site's state item (a consistent GetItem, a
  // conditional UpdateItem), the due index's buckets (Query, on the indexes only: the sharded one,
  // and the old one while the migration's release keeps it, functions/adapters/detector-store.ts). Never a Scan.
  // 60 s: a run begins no bucket after 40 s (functions/jobs/detect-silence.ts).
  detector: {
    tableOperations: [Operation.GET_ITEM, Operation.UPDATE_ITEM],
    indexQueries: [dueIndexName, legacyDueIndexName],
    everyMinutes: 1,
    secrets: [],
    timeoutSeconds: 60,
  },
  // Incidents (functions/handlers/incidents.ts, functions/adapters/incident-store.ts): per message,
  // consistent GetItems (the tracker, the site listing, the customer, the escalation policies), a
  // Query of the site's maintenance windows, a conditional PutItem of the tracker (and, before a
  // site's first tracker of a kind, an UpdateItem of its listing's incidentKinds: the fleet view's). It sends to the
  // queues and topics of lib/incident-queues.ts and the resellers' channels, and signs one-click
  // links with a key derived from the token key.
  incidents: {
    tableOperations: [Operation.GET_ITEM, Operation.PUT_ITEM, Operation.UPDATE_ITEM, Operation.QUERY],
    fedBy: 'incidents-queue',
    secrets: ['tokenKey'],
    timeoutSeconds: 30,
  },
  // An agent declares a maintenance window (functions/adapters/node-maintenance.ts): one
  // transaction, the window's Put, a check of the node's token version (authentication without a
  // read) and the site listing's record of its windows (listing-windows.ts), after a consistent
  // GetItem of the listing (to drop the windows that ended) and, once per site whose listing
  // predates that record, a Query of its windows.
  maintenance: {
    tableOperations: [Operation.GET_ITEM, Operation.QUERY, Operation.TRANSACT_WRITE_ITEMS],
    transactionItems: ['PutItem', 'ConditionCheckItem', 'UpdateItem'],
    routes: [nodeRouteKeys.maintenance],
    authorization: 'node-token',
    secrets: ['tokenKey'],
  },
  // Webhooks, out (functions/handlers/webhook-router.ts, functions/adapters/webhook-*-store.ts): per
  // outbox message, the reseller's endpoints (a Query of its partition, or a consistent GetItem of
  // the one an incident step names), the site's listing and customer (GetItems: their names, in every
  // template) and a conditional PutItem of each endpoint's message. It sends each message's first try
  // to the deliveries queue, and webhook.failed/disabled news to the reseller's service queue. It
  // signs the one-click links of `incident.*` messages as the incidents function does (a key derived
  // from the token key). 30 s: a batch of 10, each a few writes, after a cold start.
  webhookRouter: {
    tableOperations: [Operation.GET_ITEM, Operation.QUERY, Operation.PUT_ITEM],
    fedBy: 'webhook-outbox',
    secrets: ['tokenKey'],
    timeoutSeconds: 30,
  },
  // One try per job (functions/handlers/webhook-deliverer.ts): consistent GetItems (the message, the
  // endpoint), one transaction of the message's conditional Update and the Put of the delivery log's
  // line (a plain UpdateItem when nothing was sent), conditional UpdateItems of the endpoint's failing
  // streak. It sends the next try to the deliveries queue and messages whose tries ran out to the
  // dead-letter queue. 60 s: a batch's 10 tries run at once, each up to 15 s
  // (functions/adapters/webhook-sender.ts), then their writes.
  webhookDeliverer: {
    tableOperations: [Operation.GET_ITEM, Operation.UPDATE_ITEM, Operation.TRANSACT_WRITE_ITEMS],
    transactionItems: ['UpdateItem', 'PutItem'],
    fedBy: 'webhook-deliveries',
    secrets: [],
    timeoutSeconds: 60,
  },
} as const satisfies Record<FunctionName, FunctionSpec>;

/** The IAM actions of a function's table operations: a transaction's are the item actions it holds. */
export function tableActions(spec: FunctionSpec): string[] {
  const transactional = spec.tableOperations.includes(Operation.TRANSACT_WRITE_ITEMS);
  const items = spec.transactionItems ?? [];
  if (transactional !== items.length > 0) {
    throw new Error('a function spec lists TransactWriteItems without transactionItems, or transactionItems without TransactWriteItems');
  }
  const direct = spec.tableOperations.filter((op) => op !== Operation.TRANSACT_WRITE_ITEMS);
  if (direct.some((op) => op === Operation.TRANSACT_GET_ITEMS || op === Operation.EXECUTE_TRANSACTION)) {
    throw new Error('tableActions knows the item actions of TransactWriteItems only: say those of the other transactions too');
  }
  return [...new Set<string>([...direct, ...items])].map((action) => `dynamodb:${action}`);
}

export interface WitnessStackProps extends StackProps {
  settings: DeploySettings;
}

/** The cloud witness: its table, keys, functions, API, the table stream's feed of the event publisher, topics, alarms and dashboard. */
export class WitnessStack extends Stack {
  readonly table: SiteTable;
  readonly tokenKey: KeySecret;
  readonly adminKey: KeySecret;
  readonly topics: Topics;
  readonly api: NodeApi;
  readonly functions: Record<FunctionName, WitnessFunction>;
  /** The table's stream into the event publisher, with its dead-letter queue. */
  readonly eventFeed: TableStreamFeed;
  readonly monitoring: WitnessMonitoring;
  /** The incidents queue (fed by the events topic) and its dead-letter queue. */
  readonly incidentQueues: IncidentQueues;
  /** The webhook outbox (fed by the events topic and the incidents function), the deliveries queue, and their dead-letter queue. */
  readonly webhookQueues: WebhookQueues;
  /** The EventBridge rules that run the scheduled functions, by function. */
  readonly schedules: Partial<Record<FunctionName, Rule>> = {};

  constructor(scope: Construct, id: string, props: WitnessStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const table = (this.table = new SiteTable(this, 'Sites')).table;
    this.tokenKey = new KeySecret(this, 'TokenKey', tokenKeyProps);
    this.adminKey = new KeySecret(this, 'AdminKey', adminKeyProps);
    const secrets = { tokenKey: this.tokenKey.secret, adminKey: this.adminKey.secret } satisfies Record<SecretName, ISecret>;
    this.topics = new Topics(this, 'Topics', { alarmEmail: settings.alarmEmail });
    this.api = new NodeApi(this, 'NodeApi', {
      rateLimitPerSecond: settings.apiRateLimitPerSecond,
      burstLimit: settings.apiBurstLimit,
      logRetention: settings.logRetention,
    });

    // Every function that calls the table gets the timings and the retention alike: one place to read them.
    const witnessEnvironment = { TIEBREAK_TABLE: table.tableName, ...settingsEnv(settings.witness), ...retentionEnv(settings.retention) };
    const functions = {} as Record<FunctionName, WitnessFunction>;
    const feeds: { name: FunctionName; feed: TableStreamFeed }[] = [];
    const queueFed: Record<FeedingQueue, QueueTarget[]> = { 'incidents-queue': [], 'webhook-outbox': [], 'webhook-deliveries': [] };
    for (const [name, spec] of Object.entries(functionSpecs) as [FunctionName, FunctionSpec][]) {
      const title = name.charAt(0).toUpperCase() + name.slice(1);
      const read = spec.secrets.map((secret) => ({ variable: secretVariables[secret], arn: secrets[secret].secretArn }));
      const fn = new WitnessFunction(this, title, {
        name,
        logRetention: settings.logRetention,
        ...(spec.timeoutSeconds ? { timeoutSeconds: spec.timeoutSeconds } : {}),
        environment: {
          ...(spec.tableOperations.length > 0 ? witnessEnvironment : {}),
          ...Object.fromEntries(read.map(({ variable, arn }) => [variable, arn])),
        },
      });
      if (spec.tableOperations.length > 0) {
        fn.allow(new PolicyStatement({ actions: tableActions(spec), resources: [table.tableArn] }));
      }
      const indexes = spec.indexQueries ?? [];
      if (indexes.length > 0) {
        fn.allow(
          new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexes.map((index) => `${table.tableArn}/index/${index}`) }),
        );
      }
      // The secrets are encrypted with Secrets Manager's AWS-managed key, which needs no grant of its own.
      if (read.length > 0)
        fn.allow(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: read.map(({ arn }) => arn) }));
      if (spec.fedBy === 'table-stream') {
        feeds.push({ name, feed: new TableStreamFeed(this, `${title}Feed`, { table, target: fn }) });
        // It publishes what it records: on the events topic, encrypted with the topics' key, whose
        // data keys SNS asks for on the publisher's behalf (no wildcard action, unlike grantPublish).
        fn.function.addEnvironment('TIEBREAK_EVENT_TOPIC_ARN', this.topics.events.topicArn);
        fn.allow(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topics.events.topicArn] }));
        fn.allow(new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.topics.key.keyArn] }));
      } else if (spec.everyMinutes !== undefined) {
        this.schedules[name] = new Rule(this, `${title}Schedule`, {
          description: `Runs the Tiebreak ${name} function every ${spec.everyMinutes} min`,
          schedule: Schedule.rate(Duration.minutes(spec.everyMinutes)),
          // No retry: the next scheduled run comes as soon as a retry would, and does the same work.
          targets: [new LambdaFunction(fn.function, { retryAttempts: 0 })],
        });
      } else if (spec.fedBy !== undefined) {
        queueFed[spec.fedBy].push({ target: fn, timeoutSeconds: spec.timeoutSeconds ?? defaultTimeoutSeconds });
      } else for (const route of spec.routes) this.api.addRoute(route, fn.function, spec.authorization);
      functions[name] = fn;
    }
    this.functions = functions;
    const fedBy = (queue: FeedingQueue): QueueTarget => {
      const [one, ...more] = queueFed[queue];
      if (!one || more.length > 0) throw new Error(`the ${queue} feeds exactly one function, not ${queueFed[queue].length}`);
      return one;
    };
    this.webhookQueues = this.#webhooks(fedBy('webhook-outbox'), fedBy('webhook-deliveries'), functions.webhooks);
    this.incidentQueues = this.#incidents(fedBy('incidents-queue'), functions.channels, this.webhookQueues.outbox);
    // DynamoDB Streams serves at most two readers a shard at once: a second reader is a design decision, not an entry.
    const fed = feeds[0];
    if (feeds.length !== 1 || !fed)
      throw new Error(`the table stream feeds exactly one function (the event publisher), not ${feeds.length}`);
    this.eventFeed = fed.feed;

    const operations = [...new Set(Object.values(functionSpecs).flatMap((spec): readonly Operation[] => spec.tableOperations))];
    this.monitoring = new WitnessMonitoring(this, 'Monitoring', {
      alarmTopic: this.topics.alarms,
      api: this.api,
      functions: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fn.function])),
      table,
      tableOperations: operations,
      streamFeed: { name: fed.name, function: fed.feed.target, deadLetterQueue: fed.feed.deadLetterQueue },
      incidentDeadLetters: this.incidentQueues.deadLetterQueue,
      webhookDeadLetters: this.webhookQueues.deadLetterQueue,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'The witness URL for agents (witness.url), and the base URL of the reseller API (/v1/...) and its /openapi.json',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'The site table (TIEBREAK_TABLE)' });
    new CfnOutput(this, 'TokenKeySecretArn', {
      value: this.tokenKey.secret.secretArn,
      description: 'The secret holding the node-token signing key (TIEBREAK_TOKEN_KEY_SECRET_ARN)',
    });
    new CfnOutput(this, 'AdminKeySecretArn', {
      value: this.adminKey.secret.secretArn,
      description:
        "The secret holding the operator's admin key for the reseller API (Authorization: Bearer <key>). Read it with: " +
        'aws secretsmanager get-secret-value --secret-id <this ARN> --query SecretString --output text',
    });
    new CfnOutput(this, 'EventTopicArn', {
      value: this.topics.events.topicArn,
      description: 'Witness events (a later issue publishes them)',
    });
    new CfnOutput(this, 'EventDeadLetterQueueUrl', {
      value: this.eventFeed.deadLetterQueue.queueUrl,
      description:
        'Where the event publisher describes the table-stream records it gave up on (after retries, or older than 6 h): ' +
        'each message names the shard and sequence numbers to replay from the stream, which keeps them 24 h. Alarmed when not empty.',
    });
    new CfnOutput(this, 'IncidentDeadLetterQueueUrl', {
      value: this.incidentQueues.deadLetterQueue.queueUrl,
      description:
        'Incident events, timers and deliveries the incidents function gave up on after 10 tries. Alarmed when not empty; redrive once fixed.',
    });
    new CfnOutput(this, 'WebhookDeadLetterQueueUrl', {
      value: this.webhookQueues.deadLetterQueue.queueUrl,
      description:
        'Webhook messages whose tries ran out (also in the delivery log, where the reseller can replay them), and outbox messages or ' +
        'delivery jobs the webhook functions failed 10 times. Alarmed when not empty; redrive the latter once fixed.',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.topics.alarms.topicArn,
      description: 'Where alarms go: subscribe more endpoints here',
    });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' });
  }

  /**
   * The incidents function's queues and its rights on the resellers' channels, which the channels
   * function creates with each reseller (`<prefix>-svc-<reseller>` queues, `<prefix>-alerts-<reseller>`
   * topics: functions/adapters/reseller-channels.ts). Both functions get exactly those names.
   */
  #incidents({ target: incidents, timeoutSeconds }: QueueTarget, channels: WitnessFunction, webhookOutbox: IQueue): IncidentQueues {
    const queues = new IncidentQueues(this, 'IncidentQueues', { events: this.topics.events, target: incidents, timeoutSeconds });
    const { serviceQueues, alertTopics } = this.#channels();
    incidents.function.addEnvironment('TIEBREAK_INCIDENTS_QUEUE_URL', queues.queue.queueUrl);
    incidents.function.addEnvironment('TIEBREAK_WEBHOOK_OUTBOX_URL', webhookOutbox.queueUrl);
    incidents.function.addEnvironment('TIEBREAK_PUBLIC_URL', this.api.url);
    for (const fn of [incidents, channels]) fn.function.addEnvironment('TIEBREAK_CHANNEL_PREFIX', defaultChannelPrefix);
    // Its timers, on its own queue; steps for webhook endpoints, in the outbox.
    incidents.allow(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queues.queue.queueArn, webhookOutbox.queueArn] }));
    incidents.allow(new PolicyStatement({ actions: ['sqs:GetQueueUrl', 'sqs:SendMessage'], resources: [serviceQueues] }));
    // CreateTopic answers an existing topic's ARN: how the function finds a reseller's alerts topic.
    incidents.allow(new PolicyStatement({ actions: ['sns:CreateTopic', 'sns:Publish'], resources: [alertTopics] }));
    channels.allow(
      new PolicyStatement({ actions: ['sqs:CreateQueue', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], resources: [serviceQueues] }),
    );
    channels.allow(new PolicyStatement({ actions: ['sns:CreateTopic', 'sns:Subscribe'], resources: [alertTopics] }));
    for (const fn of [incidents, channels]) acknowledgeChannels(fn, ['sqs', 'sns']);
    return queues;
  }

  /**
   * The webhook queues, and the rights of the functions that use them: the router sends first tries
   * to the deliveries queue and news of failing webhooks to the resellers' service queues (found by
   * name, as the incidents function finds them); the deliverer sends next tries to the deliveries
   * queue and exhausted messages to the dead-letter queue; the webhooks function sends a replay's, or an endpoint test's, first try.
   * Both webhook functions read the same configuration (functions/adapters/webhook-config.ts).
   */
  #webhooks(router: QueueTarget, deliverer: QueueTarget, webhooksApi: WitnessFunction): WebhookQueues {
    const queues = new WebhookQueues(this, 'WebhookQueues', { events: this.topics.events, router, deliverer });
    for (const { target } of [router, deliverer]) {
      target.function.addEnvironment('TIEBREAK_WEBHOOK_DELIVERIES_URL', queues.deliveries.queueUrl);
      target.function.addEnvironment('TIEBREAK_WEBHOOK_DEAD_LETTERS_URL', queues.deadLetterQueue.queueUrl);
      target.function.addEnvironment('TIEBREAK_CHANNEL_PREFIX', defaultChannelPrefix);
    }
    webhooksApi.function.addEnvironment('TIEBREAK_WEBHOOK_DELIVERIES_URL', queues.deliveries.queueUrl);
    for (const fn of [router.target, deliverer.target, webhooksApi]) {
      fn.allow(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queues.deliveries.queueArn] }));
    }
    deliverer.target.allow(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queues.deadLetterQueue.queueArn] }));
    // The one-click links in incident messages start with the API's URL, as the incidents function's do.
    router.target.function.addEnvironment('TIEBREAK_PUBLIC_URL', this.api.url);
    router.target.allow(
      new PolicyStatement({ actions: ['sqs:GetQueueUrl', 'sqs:SendMessage'], resources: [this.#channels().serviceQueues] }),
    );
    acknowledgeChannels(router.target, ['sqs']);
    return queues;
  }

  /** The resellers' channels' ARNs, by their name prefix (functions/adapters/reseller-channels.ts). */
  #channels(): { serviceQueues: string; alertTopics: string } {
    return {
      serviceQueues: `arn:${this.partition}:sqs:${this.region}:${this.account}:${defaultChannelPrefix}-svc-*`,
      alertTopics: `arn:${this.partition}:sns:${this.region}:${this.account}:${defaultChannelPrefix}-alerts-*`,
    };
  }
}

/** The channels' names by service: `<prefix>-svc-*` queues, `<prefix>-alerts-*` topics. */
const channelNames = { sqs: ['svc', "The resellers' service queues"], sns: ['alerts', "The resellers' alerts topics"] } as const;

/** The resellers' channels are made at run time, one per reseller: a name prefix is the narrowest scope there is (said to cdk-nag on the function's policy). */
function acknowledgeChannels(fn: WitnessFunction, services: readonly (keyof typeof channelNames)[]): void {
  const policy = fn.role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${fn.node.path} has no policy after its grants`);
  Validations.of(policy).acknowledge(
    ...services.map((service) => {
      const [infix, what] = channelNames[service];
      return {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${service}:<AWS::Region>:<AWS::AccountId>:${defaultChannelPrefix}-${infix}-*]`,
        reason:
          `${what} are created per reseller at run time (functions/adapters/reseller-channels.ts), so they cannot be named in the ` +
          `template: the grant is on their name prefix, which nothing else of the account uses.`,
      };
    }),
  );
}
