import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Operation } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, test } from 'vitest';
import { tableDefinition } from '../../functions/adapters/table.ts';
import { apiRoutes } from '../../protocol/api-routes.ts';
import { esmRequireBanner, functionEntries, type FunctionName } from '../../lib/bundling.ts';
import { deployDefaults } from '../../lib/deploy-settings.ts';
import { routeAuthorizations } from '../../lib/node-api.ts';
import { iteratorAgeThresholdMs } from '../../lib/witness-monitoring.ts';
import { type FunctionSpec, functionSpecs, routesOf, tableActions } from '../../lib/witness-stack.ts';
import { buildWitness, logicalId, type Synthesized, synthWitness } from './synth.ts';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
}

const names = Object.keys(functionEntries) as FunctionName[];
/** The functions the API invokes: all but the one the table's stream feeds. */
const routed = names.filter((name) => routesOf(functionSpecs[name]).length > 0);
const context = { leaseMs: '20000', fastHeartbeatMs: 4000, alarmEmail: 'ops@example.com', logRetentionDays: 90 };

// One synthesis for the file, bundling included: it proves every function's bundle builds.
let s: Synthesized;
let resources: Record<string, Resource>;
beforeAll(() => {
  s = synthWitness(context);
  resources = s.template.toJSON().Resources as Record<string, Resource>;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const id = (construct: Parameters<typeof logicalId>[1]) => logicalId(s.stack, construct);
const fn = (name: FunctionName) => resources[id(s.stack.functions[name].function)]!;

describe('the table', () => {
  test('has the local table’s keys, billing and stream, plus PITR, deletion protection and TTL on expiresAt, and is retained', () => {
    const local = tableDefinition('any');
    const table = resources[id(s.stack.table.table)]!;
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      KeySchema: local.KeySchema,
      AttributeDefinitions: local.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(ofType('AWS::DynamoDB::Table')).toHaveLength(1);
  });
});

describe('the functions', () => {
  test('one per entry of lib/bundling.ts, and nothing else runs code in the stack', () => {
    expect(ofType('AWS::Lambda::Function')).toHaveLength(names.length);
    expect(Object.keys(functionSpecs).sort()).toEqual([...names].sort());
  });

  const timeouts: Partial<Record<FunctionName, number>> = { api: 29, publisher: 30 };
  test.each(names)('%s runs nodejs24.x on arm64 from an ESM bundle, 256 MB, 3 s (the API 29 s: reports; the publisher 30 s: a batch), logging JSON to its own log group', (name) => {
    const props = fn(name).Properties;
    expect(props).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: timeouts[name] ?? 3,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: id(s.stack.functions[name].logGroup) } },
    });
    expect(props).not.toHaveProperty('ReservedConcurrentExecutions');
    const logGroup = resources[id(s.stack.functions[name].logGroup)]!;
    expect(logGroup.Properties.RetentionInDays).toBe(context.logRetentionDays);
  });

  const variables = (name: FunctionName) => (fn(name).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const witnessVariables = () => ({
    POWERTOOLS_SERVICE_NAME: 'tiebreak-witness',
    NODE_OPTIONS: '--enable-source-maps',
    TIEBREAK_TABLE: { Ref: id(s.stack.table.table) },
    TIEBREAK_TOKEN_KEY_SECRET_ARN: { Ref: id(s.stack.tokenKey.secret) },
    TIEBREAK_LEASE_MS: '20000',
    TIEBREAK_SKEW_MARGIN_MS: '500',
    TIEBREAK_FAST_HEARTBEAT_MS: '4000',
    TIEBREAK_SLOW_HEARTBEAT_MS: '60000',
    TIEBREAK_FRESHNESS_MS: '15000',
    TIEBREAK_STARTUP_WINDOW_MS: '30000',
  });

  test.each(['heartbeat', 'claim'] as const)('%s gets the witness settings from context, the table and the token key’s secret, and source maps on', (name) => {
    expect(variables(name)).toEqual(witnessVariables());
  });

  test('api gets the same, and the admin key’s secret besides', () => {
    expect(variables('api')).toEqual({ ...witnessVariables(), TIEBREAK_ADMIN_KEY_SECRET_ARN: { Ref: id(s.stack.adminKey.secret) } });
  });

  test('publisher gets the witness settings, the table and the events topic, and no secret', () => {
    const expected = Object.entries(witnessVariables()).filter(([variable]) => variable !== 'TIEBREAK_TOKEN_KEY_SECRET_ARN');
    expect(variables('publisher')).toEqual({ ...Object.fromEntries(expected), TIEBREAK_EVENT_TOPIC_ARN: { Ref: id(s.stack.topics.events) } });
  });

  test('openapi gets nothing but the logger’s name and source maps: no table, no secret, no timings', () => {
    expect(variables('openapi')).toEqual({ POWERTOOLS_SERVICE_NAME: 'tiebreak-witness', NODE_OPTIONS: '--enable-source-maps' });
  });

  test.each(names)('%s was bundled by esbuild: a minified index.mjs with the ESM require banner, and its source map', (name) => {
    const key = (fn(name).Properties.Code as { S3Key: string }).S3Key;
    const dir = join(s.app.outdir, `asset.${key.replace(/\.zip$/, '')}`);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.startsWith(esmRequireBanner)).toBe(true);
    expect(code).toContain('//# sourceMappingURL=index.mjs.map');
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    expect(code.split('\n').length).toBeLessThan(500);
  });
});

describe('the API', () => {
  /** The function each route of the template invokes, by name. */
  function routedTo(): Record<string, FunctionName> {
    const byFunctionId = new Map(names.map((name) => [id(s.stack.functions[name].function), name]));
    return Object.fromEntries(
      ofType('AWS::ApiGatewayV2::Route').map(([routeId, route]) => {
        const target = (route.Properties.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        const integration = resources[(target[1] as { Ref: string }).Ref]!;
        expect(integration.Properties, routeId).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
        const functionId = (integration.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        expect(byFunctionId.has(functionId), routeId).toBe(true);
        return [route.Properties.RouteKey as string, byFunctionId.get(functionId)!];
      }),
    );
  }

  test('routes the node endpoints, every route of protocol/api-routes.ts, and GET /openapi.json to their functions with payload v2, and nothing else', () => {
    const expected: Record<string, FunctionName> = {
      'POST /v1/node/heartbeat': 'heartbeat',
      'POST /v1/node/claim': 'claim',
      ...Object.fromEntries(Object.keys(apiRoutes).map((key) => [key, 'api' as const])),
      'GET /openapi.json': 'openapi',
    };
    expect(Object.keys(apiRoutes)).toContain('POST /v1/node/enroll');
    expect(Object.keys(apiRoutes)).toContain('PATCH /v1/reseller');
    expect(routedTo()).toEqual(expected);
    expect(ofType('AWS::ApiGatewayV2::Route')).toHaveLength(Object.keys(expected).length);
  });

  test('one integration per routed function (none for the publisher), and each route may invoke its function from its own path only', () => {
    expect(routed).toEqual(names.filter((name) => name !== 'publisher'));
    expect(ofType('AWS::ApiGatewayV2::Integration')).toHaveLength(routed.length);
    const permissions = ofType('AWS::Lambda::Permission').map(([, p]) => p.Properties);
    for (const name of names) {
      const mine = permissions.filter((p) => JSON.stringify(p.FunctionName).includes(id(s.stack.functions[name].function)));
      const paths = mine.map((p) => {
        expect(p).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
        const parts = (p.SourceArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        return String(parts[parts.length - 1]);
      });
      const routePaths = routesOf(functionSpecs[name]).map((key) => `/*/*${key.split(' ')[1]!}`);
      expect(paths.sort(), name).toEqual(routePaths.sort());
    }
  });

  test('has one auto-deployed $default stage, throttled and access-logged', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const stage = stages[0]![1].Properties;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: deployDefaults.apiRateLimitPerSecond, ThrottlingBurstLimit: deployDefaults.apiBurstLimit },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [id(s.stack.api.accessLogs), 'Arn'] } },
    });
    const format = JSON.parse((stage.AccessLogSettings as { Format: string }).Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
    expect(JSON.stringify(format)).not.toMatch(/header|authorization/i);
  });
});

describe('permissions', () => {
  /** Every (action, resource) pair a role's policies allow, resources named by logical id. */
  function allowed(roleId: string): string[] {
    const role = resources[roleId]!;
    expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
    expect(role.Properties).not.toHaveProperty('Policies');
    const pairs: string[] = [];
    for (const [, policy] of ofType('AWS::IAM::Policy')) {
      if (!(policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId)) continue;
      for (const statement of (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement) {
        expect(statement.Effect).toBe('Allow');
        expect(statement).not.toHaveProperty('Condition');
        const actions = [statement.Action].flat() as string[];
        const targets = [statement.Resource].flat().map((r) => {
          const ref = r as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
          if (ref.Ref) return ref.Ref;
          if (ref['Fn::GetAtt']?.[1] === 'Arn') return ref['Fn::GetAtt'][0];
          return JSON.stringify(r);
        });
        for (const action of actions) for (const target of targets) pairs.push(`${action} ${target}`);
      }
    }
    return pairs.sort();
  }

  const apiTableActions = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'ConditionCheckItem'].map((a) => `dynamodb:${a}`);

  test.each([
    ['heartbeat', ['dynamodb:UpdateItem'], ['tokenKey']],
    ['claim', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], ['tokenKey']],
    // TransactWriteItems is authorized by the item actions it holds: Put, Update, Delete and ConditionCheck.
    ['api', apiTableActions, ['tokenKey', 'adminKey']],
    ['openapi', [], []],
  ] as const)('%s may call exactly %j on the table, read exactly the secrets %j, and write its own logs', (name, actions, secrets) => {
    const f = s.stack.functions[name];
    const table = id(s.stack.table.table);
    const logs = id(f.logGroup);
    expect(fn(name).Properties.Role).toEqual({ 'Fn::GetAtt': [id(f.role), 'Arn'] });
    expect(allowed(id(f.role))).toEqual(
      [
        ...actions.map((action) => `${action} ${table}`),
        ...secrets.map((secret) => `secretsmanager:GetSecretValue ${id(s.stack[secret].secret)}`),
        `logs:CreateLogStream ${logs}`,
        `logs:PutLogEvents ${logs}`,
      ].sort(),
    );
  });

  test('publisher may PutItem on the table and nothing else there, read the stream only, send to its own dead-letter queue, and write its own logs', () => {
    const f = s.stack.functions.publisher;
    const table = id(s.stack.table.table);
    const stream = JSON.stringify({ 'Fn::GetAtt': [table, 'StreamArn'] });
    const queue = id(s.stack.eventFeed.deadLetterQueue);
    const logs = id(f.logGroup);
    expect(fn('publisher').Properties.Role).toEqual({ 'Fn::GetAtt': [id(f.role), 'Arn'] });
    expect(allowed(id(f.role))).toEqual(
      [
        `dynamodb:PutItem ${table}`,
        // The event source mapping's reads, on the stream; ListStreams has no resource-level permission (acknowledged below).
        `dynamodb:DescribeStream ${stream}`,
        `dynamodb:GetRecords ${stream}`,
        `dynamodb:GetShardIterator ${stream}`,
        'dynamodb:ListStreams "*"',
        // SqsDlq: the on-failure destination.
        `sqs:GetQueueAttributes ${queue}`,
        `sqs:GetQueueUrl ${queue}`,
        `sqs:SendMessage ${queue}`,
        // The events topic, and the data keys of the key it is encrypted with.
        `sns:Publish ${id(s.stack.topics.events)}`,
        `kms:Decrypt ${id(s.stack.topics.key)}`,
        `kms:GenerateDataKey ${id(s.stack.topics.key)}`,
        `logs:CreateLogStream ${logs}`,
        `logs:PutLogEvents ${logs}`,
      ].sort(),
    );
    // Only the publisher reads the stream, sends to the queue or publishes events.
    for (const name of names.filter((n) => n !== 'publisher')) {
      expect(allowed(id(s.stack.functions[name].role)).join('\n'), name).not.toMatch(/StreamArn|ListStreams|sqs:|sns:|kms:/);
    }
  });

  test('only the api function may read the admin key, and no function may Scan', () => {
    const adminKey = id(s.stack.adminKey.secret);
    const readers = names.filter((name) => allowed(id(s.stack.functions[name].role)).some((pair) => pair.endsWith(` ${adminKey}`)));
    expect(readers).toEqual(['api']);
    for (const name of names) expect(allowed(id(s.stack.functions[name].role)).join('\n'), name).not.toContain('dynamodb:Scan');
  });

  test('a transaction’s item actions are granted only with TransactWriteItems, and never without it', () => {
    const spec = { routes: [], authorization: 'public', secrets: [] } as const;
    expect(tableActions({ ...spec, tableOperations: [Operation.QUERY, Operation.TRANSACT_WRITE_ITEMS], transactionItems: ['PutItem', 'ConditionCheckItem'] })).toEqual([
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:ConditionCheckItem',
    ]);
    expect(() => tableActions({ ...spec, tableOperations: [Operation.TRANSACT_WRITE_ITEMS] })).toThrow(/transactionItems/);
    expect(() => tableActions({ ...spec, tableOperations: [Operation.GET_ITEM], transactionItems: ['PutItem'] })).toThrow(/transactionItems/);
    expect(() => tableActions({ ...spec, tableOperations: [Operation.TRANSACT_GET_ITEMS] })).toThrow(/other transactions/);
  });

  test('no policy in the stack allows a wildcard action, and the only roles are the functions’', () => {
    for (const [policyId, policy] of ofType('AWS::IAM::Policy')) {
      for (const statement of (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement) {
        for (const action of [statement.Action].flat()) expect(action, policyId).not.toContain('*');
      }
    }
    expect(ofType('AWS::IAM::Role').map(([roleId]) => roleId).sort()).toEqual(names.map((n) => id(s.stack.functions[n].role)).sort());
  });
});

describe('the table stream', () => {
  test('feeds the publisher, and only it: oldest first, state items only, in order per shard, batched over 5 s, failed records reported, bisected, retried 10 times, 6 h at most, then the dead-letter queue', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings.map(([mappingId]) => mappingId)).toEqual([id(s.stack.eventFeed.mapping)]);
    const props = mappings[0]![1].Properties;
    expect(props).toEqual({
      FunctionName: { Ref: id(s.stack.functions.publisher.function) },
      EventSourceArn: { 'Fn::GetAtt': [id(s.stack.table.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [id(s.stack.eventFeed.deadLetterQueue), 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: expect.any(String) as string }] },
    });
    const [filter] = (props.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    expect(JSON.parse(filter!.Pattern)).toEqual({ dynamodb: { Keys: { sk: { S: ['STATE'] } } } });
  });

  test('its dead-letter queue is encrypted (SQS-managed), refuses requests without TLS, and keeps messages 14 days', () => {
    const queue = resources[id(s.stack.eventFeed.deadLetterQueue)]!;
    expect(queue.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const policies = ofType('AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(1);
    expect(policies[0]![1].Properties.Queues).toEqual([{ Ref: id(s.stack.eventFeed.deadLetterQueue) }]);
    expect((policies[0]![1].Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
  });
});

describe('the keys', () => {
  test('the stack holds two secrets: the signing key and the admin key', () => {
    expect(ofType('AWS::SecretsManager::Secret').map(([secretId]) => secretId).sort()).toEqual(
      [id(s.stack.tokenKey.secret), id(s.stack.adminKey.secret)].sort(),
    );
  });

  test.each(['tokenKey', 'adminKey'] as const)('the %s is generated by Secrets Manager as 64 letters and digits, and retained', (key) => {
    const secret = resources[id(s.stack[key].secret)]!;
    expect(secret.Properties.GenerateSecretString).toEqual({
      PasswordLength: 64,
      ExcludePunctuation: true,
      IncludeSpace: false,
      RequireEachIncludedType: false,
    });
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(secret.Properties).not.toHaveProperty('SecretString');
  });
});

describe('topics, alarms and dashboard', () => {
  test('both topics are encrypted with one rotating key that CloudWatch may use, and refuse publishers without TLS', () => {
    const keyId = id(s.stack.topics.key);
    expect(resources[keyId]!.Properties.EnableKeyRotation).toBe(true);
    const keyStatements = (resources[keyId]!.Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    expect(keyStatements).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
    );
    const topics = ofType('AWS::SNS::Topic');
    expect(topics).toHaveLength(2);
    for (const [, topic] of topics) expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    for (const [, policy] of ofType('AWS::SNS::TopicPolicy')) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
    // The only queue is the table stream's dead-letter queue (below).
    expect(ofType('AWS::SQS::Queue').map(([queueId]) => queueId)).toEqual([id(s.stack.eventFeed.deadLetterQueue)]);
    expect(ofType('AWS::Events::Rule')).toHaveLength(0);
  });

  test('errors and throttles per function, API 5xx, table throttles and system errors, the stream reader’s lag and dead letters alarm the alarm topic, and clear there too', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(names.length * 2 + 3 + 2);
    const alarmTopic = { Ref: id(s.stack.topics.alarms) };
    for (const [alarmId, alarm] of alarms) {
      expect(alarm.Properties, alarmId).toMatchObject({ AlarmActions: [alarmTopic], OKActions: [alarmTopic], EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
      if (alarm.Properties.MetricName === 'IteratorAge') continue;
      expect(alarm.Properties, alarmId).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
    const metricNames = alarms.map(([, a]) => a.Properties.MetricName ?? 'expression').sort();
    expect(metricNames).toEqual(
      ['5xx', ...names.map(() => 'Errors'), ...names.map(() => 'Throttles'), 'expression', 'expression', 'IteratorAge', 'ApproximateNumberOfMessagesVisible'].sort(),
    );
    // Each function's errors and throttles, by its own dimension.
    for (const name of names) {
      const dimension = [{ Name: 'FunctionName', Value: { Ref: id(s.stack.functions[name].function) } }];
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms.filter(([, a]) => a.Properties.MetricName === metric && JSON.stringify(a.Properties.Dimensions) === JSON.stringify(dimension)), `${name} ${metric}`).toHaveLength(1);
      }
    }
    // The table alarms sum its metrics over exactly the operations the functions call.
    for (const [, alarm] of alarms.filter(([, a]) => a.Properties.Metrics)) {
      const operations = (alarm.Properties.Metrics as { MetricStat?: { Metric: { Dimensions: { Name: string; Value: unknown }[] } } }[])
        .flatMap((m) => m.MetricStat?.Metric.Dimensions.filter((d) => d.Name === 'Operation').map((d) => d.Value) ?? [])
        .sort();
      expect(operations).toEqual(['DeleteItem', 'GetItem', 'PutItem', 'Query', 'TransactWriteItems', 'UpdateItem']);
    }
  });

  test('the publisher’s iterator age alarms past a minute behind the stream (maximum over 5 minutes), and its dead-letter queue on any message', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const publisher = [{ Name: 'FunctionName', Value: { Ref: id(s.stack.functions.publisher.function) } }];
    expect(alarms.filter((a) => a.MetricName === 'IteratorAge')).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        Dimensions: publisher,
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 60_000,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    ]);
    expect(iteratorAgeThresholdMs).toBe(60_000);
    expect(alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(s.stack.eventFeed.deadLetterQueue), 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    ]);
  });

  test('the alarm topic mails the alarmEmail from context', () => {
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: id(s.stack.topics.alarms) },
    });
  });

  test('a dashboard shows the alarms and the key metrics, of every function', () => {
    const dashboards = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]![1].Properties.DashboardBody);
    for (const metric of ['Count', '5xx', 'Latency', 'Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'ConsumedWriteCapacityUnits', 'SuccessfulRequestLatency', 'ThrottledRequests', 'SystemErrors', 'IteratorAge', 'ApproximateNumberOfMessagesVisible']) {
      expect(body, metric).toContain(`\\"${metric}\\"`);
    }
    for (const name of names) {
      expect(body, name).toContain(`{"Ref":"${id(s.stack.functions[name].function)}"}`);
      expect(body, name).toContain(`\\"label\\":\\"${name} errors\\"`);
    }
    expect(body).toContain('\\"TransactWriteItems\\"');
    expect(body).toContain('\\"label\\":\\"publisher iterator age\\"');
    expect(body).toContain('\\"label\\":\\"publisher dead letters\\"');
  });
});

test('the outputs name the API URL, table, key secrets, topics, the event dead-letter queue and dashboard', () => {
  const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
  expect(Object.keys(outputs).sort()).toEqual([
    'AdminKeySecretArn',
    'AlarmTopicArn',
    'ApiUrl',
    'DashboardName',
    'EventDeadLetterQueueUrl',
    'EventTopicArn',
    'TableName',
    'TokenKeySecretArn',
  ]);
  expect(outputs.EventDeadLetterQueueUrl!.Value).toEqual({ Ref: id(s.stack.eventFeed.deadLetterQueue) });
  expect(outputs.EventDeadLetterQueueUrl!.Description).toMatch(/event publisher[\s\S]*replay/);
  expect(outputs.TableName!.Value).toEqual({ Ref: id(s.stack.table.table) });
  expect(outputs.TokenKeySecretArn!.Value).toEqual({ Ref: id(s.stack.tokenKey.secret) });
  expect(outputs.AdminKeySecretArn!.Value).toEqual({ Ref: id(s.stack.adminKey.secret) });
  expect(outputs.AdminKeySecretArn!.Description).toContain('aws secretsmanager get-secret-value --secret-id <this ARN> --query SecretString --output text');
  expect(outputs.ApiUrl!.Description).toContain('reseller API');
  expect(outputs.EventTopicArn!.Value).toEqual({ Ref: id(s.stack.topics.events) });
  expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain(id(s.stack.api.api));
});

describe('cdk-nag', () => {
  test('AwsSolutions finds no unacknowledged error or warning, and CDK itself warns of nothing', () => {
    const violations = new AwsSolutionsChecks().validateScope(s.stack).violations;
    expect(violations.filter((v) => v.severity === 'error')).toEqual([]);
    expect(violations.filter((v) => v.severity === 'warning')).toEqual([]);
    expect(Annotations.fromStack(s.stack).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(s.stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('the acknowledged findings are exactly these, each with its reason written into the template', () => {
    const acknowledged = Object.entries(resources).flatMap(([resourceId, r]) =>
      ((r.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] } | undefined)?.rules_to_suppress ?? []).map(
        (rule) => ({ resourceType: resources[resourceId]!.Type, id: rule.id, reason: rule.reason }),
      ),
    );
    const routeCount = names.reduce((n, name) => n + routesOf(functionSpecs[name]).length, 0);
    expect(acknowledged.map((a) => `${a.id} ${a.resourceType}`).sort()).toEqual([
      ...Array<string>(routeCount).fill('AwsSolutions-APIG4 AWS::ApiGatewayV2::Route'),
      'AwsSolutions-IAM5[Resource::*] AWS::IAM::Policy',
      'AwsSolutions-SMG4 AWS::SecretsManager::Secret',
      'AwsSolutions-SMG4 AWS::SecretsManager::Secret',
      'AwsSolutions-SQS3 AWS::SQS::Queue',
    ]);
    for (const a of acknowledged) expect(a.reason.length, a.id).toBeGreaterThan(80);
  });

  test('each route’s missing authorizer is acknowledged with the reason of its function’s authentication', () => {
    for (const name of names) {
      const spec: FunctionSpec = functionSpecs[name];
      if (spec.fedBy === 'table-stream') continue;
      for (const routeKey of spec.routes) {
        const [, route] = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === routeKey)!;
        const rules = (route.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] }).rules_to_suppress;
        expect(rules, routeKey).toEqual([{ id: 'AwsSolutions-APIG4', reason: routeAuthorizations[spec.authorization] }]);
      }
    }
    expect(functionSpecs.heartbeat.authorization).toBe('node-token');
    expect(functionSpecs.claim.authorization).toBe('node-token');
    expect(functionSpecs.api.authorization).toBe('api-key');
    expect(functionSpecs.openapi.authorization).toBe('public');
    expect(functionSpecs.publisher).not.toHaveProperty('authorization');
    expect(functionSpecs.publisher).not.toHaveProperty('routes');
  });

  test('the publisher’s ListStreams on * and the dead-letter queue’s own missing DLQ are acknowledged there only', () => {
    const rulesOf = (resourceId: string) =>
      (resources[resourceId]!.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] } | undefined)?.rules_to_suppress;
    const policy = id(s.stack.functions.publisher.role.node.findChild('DefaultPolicy'));
    expect(rulesOf(policy)?.map((r) => r.id)).toEqual(['AwsSolutions-IAM5[Resource::*]']);
    expect(rulesOf(policy)![0]!.reason).toMatch(/ListStreams/);
    expect(rulesOf(id(s.stack.eventFeed.deadLetterQueue))?.map((r) => r.id)).toEqual(['AwsSolutions-SQS3']);
    expect(rulesOf(id(s.stack.eventFeed.deadLetterQueue))![0]!.reason).toMatch(/itself the dead-letter queue/);
  });

  test('the admin key’s rotation is acknowledged as a manual operator action', () => {
    const rules = (resources[id(s.stack.adminKey.secret)]!.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] }).rules_to_suppress;
    expect(rules).toHaveLength(1);
    expect(rules[0]!.id).toBe('AwsSolutions-SMG4');
    expect(rules[0]!.reason).toMatch(/manual operator action/);
  });
});

test('a finding nobody acknowledged stops the synthesis (cdk-nag runs as a validation plugin of the app)', () => {
  const { app, stack } = buildWitness({}, { bundle: false });
  new Secret(stack, 'UnrotatedSecret');
  expect(() => app.synth()).toThrow(/Tiebreak\/UnrotatedSecret[\s\S]*AwsSolutions-SMG4/);
});
