import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Operation } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { settingsEnv } from '../functions/adapters/settings-env.ts';
import { type ApiRouteKey, apiRoutes } from '../protocol/api-routes.ts';
import type { FunctionName } from './bundling.ts';
import type { DeploySettings } from './deploy-settings.ts';
import { NodeApi, type RouteAuthorization, type RouteKey } from './node-api.ts';
import { SiteTable } from './site-table.ts';
import { adminKeyProps, KeySecret, tokenKeyProps } from './key-secret.ts';
import { TableStreamFeed } from './table-stream-feed.ts';
import { Topics } from './topics.ts';
import { WitnessFunction } from './witness-function.ts';
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
}

/** A function the table's stream feeds (lib/table-stream-feed.ts): no route, so no caller to check. */
export interface StreamFunctionSpec extends FunctionSpecBase {
  fedBy: 'table-stream';
  routes?: never;
  authorization?: never;
}

export type FunctionSpec = RoutedFunctionSpec | StreamFunctionSpec;

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
    routes: ['POST /v1/node/heartbeat'],
    authorization: 'node-token',
    secrets: ['tokenKey'],
  },
  // store.load (a consistent GetItem) when the site was not seen lately, then store.apply.
  claim: {
    tableOperations: [Operation.GET_ITEM, Operation.UPDATE_ITEM],
    routes: ['POST /v1/node/claim'],
    authorization: 'node-token',
    secrets: ['tokenKey'],
  },
  // The reseller API and node enrollment (functions/adapters/reseller-store.ts, site-admin-store.ts,
  // pagination.ts): consistent reads and queries, conditional writes, and transactions (a reseller
  // with its first key, a site with its records, an enrollment). Never a Scan. It signs node tokens
  // at enrollment (the token key) and checks the operator's admin key.
  api: {
    tableOperations: [
      Operation.GET_ITEM,
      Operation.PUT_ITEM,
      Operation.UPDATE_ITEM,
      Operation.DELETE_ITEM,
      Operation.QUERY,
      Operation.TRANSACT_WRITE_ITEMS,
    ],
    transactionItems: ['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
    routes: Object.keys(apiRoutes) as ApiRouteKey[],
    authorization: 'api-key',
    secrets: ['tokenKey', 'adminKey'],
    // An SLA report reads every event of the reseller's sites in its period: more than an agent's
    // 3 s. API Gateway's HTTP API waits 30 s at most.
    timeoutSeconds: 29,
  },
  // The OpenAPI document, built from the route table in memory: no AWS call at all.
  openapi: { tableOperations: [], routes: ['GET /openapi.json'], authorization: 'public', secrets: [] },
  // The table's stream → the sites' audit trails (functions/handlers/publisher.ts): one conditional
  // PutItem per event (site-admin-store.ts appendEvent), no read. The stream's own reads are its
  // event source mapping's (lib/table-stream-feed.ts). Nobody waits on it: 30 s for a batch of 100
  // records, each of which may write a few events, after a cold start.
  publisher: { tableOperations: [Operation.PUT_ITEM], fedBy: 'table-stream', secrets: [], timeoutSeconds: 30 },
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

    const witnessEnvironment = { TIEBREAK_TABLE: table.tableName, ...settingsEnv(settings.witness) };
    const functions = {} as Record<FunctionName, WitnessFunction>;
    const feeds: { name: FunctionName; feed: TableStreamFeed }[] = [];
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
      // The secrets are encrypted with Secrets Manager's AWS-managed key, which needs no grant of its own.
      if (read.length > 0) fn.allow(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: read.map(({ arn }) => arn) }));
      if (spec.fedBy === 'table-stream') {
        feeds.push({ name, feed: new TableStreamFeed(this, `${title}Feed`, { table, target: fn }) });
        // It publishes what it records: on the events topic, encrypted with the topics' key, whose
        // data keys SNS asks for on the publisher's behalf (no wildcard action, unlike grantPublish).
        fn.function.addEnvironment('TIEBREAK_EVENT_TOPIC_ARN', this.topics.events.topicArn);
        fn.allow(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topics.events.topicArn] }));
        fn.allow(new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.topics.key.keyArn] }));
      } else for (const route of spec.routes) this.api.addRoute(route, fn.function, spec.authorization);
      functions[name] = fn;
    }
    this.functions = functions;
    // DynamoDB Streams serves at most two readers a shard at once: a second reader is a design decision, not an entry.
    const fed = feeds[0];
    if (feeds.length !== 1 || !fed) throw new Error(`the table stream feeds exactly one function (the event publisher), not ${feeds.length}`);
    this.eventFeed = fed.feed;

    const operations = [...new Set(Object.values(functionSpecs).flatMap((spec): readonly Operation[] => spec.tableOperations))];
    this.monitoring = new WitnessMonitoring(this, 'Monitoring', {
      alarmTopic: this.topics.alarms,
      api: this.api,
      functions: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fn.function])),
      table,
      tableOperations: operations,
      streamFeed: { name: fed.name, function: fed.feed.target, deadLetterQueue: fed.feed.deadLetterQueue },
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
    new CfnOutput(this, 'EventTopicArn', { value: this.topics.events.topicArn, description: 'Witness events (a later issue publishes them)' });
    new CfnOutput(this, 'EventDeadLetterQueueUrl', {
      value: this.eventFeed.deadLetterQueue.queueUrl,
      description:
        'Where the event publisher describes the table-stream records it gave up on (after retries, or older than 6 h): ' +
        'each message names the shard and sequence numbers to replay from the stream, which keeps them 24 h. Alarmed when not empty.',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.topics.alarms.topicArn, description: 'Where alarms go: subscribe more endpoints here' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' });
  }
}
