import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Operation } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { settingsEnv } from '../functions/adapters/settings-env.ts';
import type { FunctionName } from './bundling.ts';
import type { DeploySettings } from './deploy-settings.ts';
import { NodeApi, type RouteKey } from './node-api.ts';
import { SiteTable } from './site-table.ts';
import { TokenKeySecret } from './token-key-secret.ts';
import { Topics } from './topics.ts';
import { WitnessFunction } from './witness-function.ts';
import { WitnessMonitoring } from './witness-monitoring.ts';

/** What one function is given: exactly what its code calls, nothing more. */
export interface FunctionSpec {
  /** The table operations it calls (see the store adapter: functions/adapters/dynamodb-site-store.ts). */
  tableOperations: readonly Operation[];
  /** The API routes that invoke it. */
  routes: readonly RouteKey[];
  /** Reads the token-signing key (TIEBREAK_TOKEN_KEY_SECRET_ARN). */
  readsTokenKey: boolean;
}

/**
 * Every function of lib/bundling.ts, and what it may do. A new function is an entry in
 * lib/bundling.ts and one here (the type makes the second one due).
 */
export const functionSpecs = {
  // store.apply: one conditional UpdateItem, whose failed condition returns the old item. No read.
  heartbeat: { tableOperations: [Operation.UPDATE_ITEM], routes: ['POST /v1/node/heartbeat'], readsTokenKey: true },
  // store.load (a consistent GetItem) when the site was not seen lately, then store.apply.
  claim: { tableOperations: [Operation.GET_ITEM, Operation.UPDATE_ITEM], routes: ['POST /v1/node/claim'], readsTokenKey: true },
} as const satisfies Record<FunctionName, FunctionSpec>;

export interface WitnessStackProps extends StackProps {
  settings: DeploySettings;
}

/** The cloud witness: its table, key, functions, API, topics, alarms and dashboard. */
export class WitnessStack extends Stack {
  readonly table: SiteTable;
  readonly tokenKey: TokenKeySecret;
  readonly topics: Topics;
  readonly api: NodeApi;
  readonly functions: Record<FunctionName, WitnessFunction>;
  readonly monitoring: WitnessMonitoring;

  constructor(scope: Construct, id: string, props: WitnessStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const table = (this.table = new SiteTable(this, 'Sites')).table;
    const secret = (this.tokenKey = new TokenKeySecret(this, 'TokenKey')).secret;
    this.topics = new Topics(this, 'Topics', { alarmEmail: settings.alarmEmail });
    this.api = new NodeApi(this, 'NodeApi', {
      rateLimitPerSecond: settings.apiRateLimitPerSecond,
      burstLimit: settings.apiBurstLimit,
      logRetention: settings.logRetention,
    });

    const witnessEnvironment = { TIEBREAK_TABLE: table.tableName, ...settingsEnv(settings.witness) };
    const functions = {} as Record<FunctionName, WitnessFunction>;
    for (const [name, spec] of Object.entries(functionSpecs) as [FunctionName, FunctionSpec][]) {
      const title = name.charAt(0).toUpperCase() + name.slice(1);
      const fn = new WitnessFunction(this, title, {
        name,
        logRetention: settings.logRetention,
        environment: { ...witnessEnvironment, ...(spec.readsTokenKey ? { TIEBREAK_TOKEN_KEY_SECRET_ARN: secret.secretArn } : {}) },
      });
      if (spec.tableOperations.length > 0) {
        fn.allow(new PolicyStatement({ actions: spec.tableOperations.map((op) => `dynamodb:${op}`), resources: [table.tableArn] }));
      }
      // The secret is encrypted with Secrets Manager's AWS-managed key, which needs no grant of its own.
      if (spec.readsTokenKey) fn.allow(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
      for (const route of spec.routes) this.api.addRoute(route, fn.function);
      functions[name] = fn;
    }
    this.functions = functions;

    const operations = [...new Set(Object.values(functionSpecs).flatMap((spec): readonly Operation[] => spec.tableOperations))];
    this.monitoring = new WitnessMonitoring(this, 'Monitoring', {
      alarmTopic: this.topics.alarms,
      api: this.api,
      functions: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fn.function])),
      table,
      tableOperations: operations,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'The witness URL for agents (witness.url)' });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'The site table (TIEBREAK_TABLE)' });
    new CfnOutput(this, 'TokenKeySecretArn', {
      value: secret.secretArn,
      description: 'The secret holding the node-token signing key (TIEBREAK_TOKEN_KEY_SECRET_ARN)',
    });
    new CfnOutput(this, 'EventTopicArn', { value: this.topics.events.topicArn, description: 'Witness events (a later issue publishes them)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.topics.alarms.topicArn, description: 'Where alarms go: subscribe more endpoints here' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' });
  }
}
