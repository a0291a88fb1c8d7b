import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, test } from 'vitest';
import { tableDefinition } from '../../functions/adapters/table.ts';
import { esmRequireBanner, functionEntries, type FunctionName } from '../../lib/bundling.ts';
import { deployDefaults } from '../../lib/deploy-settings.ts';
import { functionSpecs } from '../../lib/witness-stack.ts';
import { buildWitness, logicalId, type Synthesized, synthWitness } from './synth.ts';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
}

const names = Object.keys(functionEntries) as FunctionName[];
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

  test.each(names)('%s runs nodejs24.x on arm64 from an ESM bundle, 256 MB, 3 s, logging JSON to its own log group', (name) => {
    const props = fn(name).Properties;
    expect(props).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 3,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: id(s.stack.functions[name].logGroup) } },
    });
    expect(props).not.toHaveProperty('ReservedConcurrentExecutions');
    const logGroup = resources[id(s.stack.functions[name].logGroup)]!;
    expect(logGroup.Properties.RetentionInDays).toBe(context.logRetentionDays);
  });

  test.each(names)('%s gets the witness settings from context, the table and the key’s secret, and source maps on', (name) => {
    const variables = (fn(name).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toEqual({
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
  test('routes each node endpoint to its function with payload v2', () => {
    for (const name of names) {
      for (const routeKey of functionSpecs[name].routes) {
        const [routeId, route] = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === routeKey)!;
        const target = (route.Properties.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        const integrationId = (target[1] as { Ref: string }).Ref;
        expect(resources[integrationId]!.Properties, routeId).toMatchObject({
          IntegrationType: 'AWS_PROXY',
          PayloadFormatVersion: '2.0',
          IntegrationUri: { 'Fn::GetAtt': [id(s.stack.functions[name].function), 'Arn'] },
        });
      }
    }
    expect(ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey).sort()).toEqual([
      'POST /v1/node/claim',
      'POST /v1/node/heartbeat',
    ]);
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

  test.each([
    ['heartbeat', ['dynamodb:UpdateItem']],
    ['claim', ['dynamodb:GetItem', 'dynamodb:UpdateItem']],
  ] as const)('%s may call exactly %j on the table, read its key, and write its own logs', (name, tableActions) => {
    const f = s.stack.functions[name];
    const table = id(s.stack.table.table);
    const logs = id(f.logGroup);
    expect(fn(name).Properties.Role).toEqual({ 'Fn::GetAtt': [id(f.role), 'Arn'] });
    expect(allowed(id(f.role))).toEqual(
      [
        ...tableActions.map((action) => `${action} ${table}`),
        `secretsmanager:GetSecretValue ${id(s.stack.tokenKey.secret)}`,
        `logs:CreateLogStream ${logs}`,
        `logs:PutLogEvents ${logs}`,
      ].sort(),
    );
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

describe('the signing key', () => {
  test('is generated by Secrets Manager as 64 letters and digits (48 bytes as base64), and retained', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const [, secret] = secrets[0]!;
    expect(secret.Properties.GenerateSecretString).toEqual({
      PasswordLength: 64,
      ExcludePunctuation: true,
      IncludeSpace: false,
      RequireEachIncludedType: false,
    });
    expect(secret.DeletionPolicy).toBe('Retain');
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
    expect(ofType('AWS::SQS::Queue')).toHaveLength(0);
    expect(ofType('AWS::Events::Rule')).toHaveLength(0);
  });

  test('errors and throttles per function, API 5xx, table throttles and system errors alarm the alarm topic, and clear there too', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(names.length * 2 + 3);
    const alarmTopic = { Ref: id(s.stack.topics.alarms) };
    for (const [alarmId, alarm] of alarms) {
      expect(alarm.Properties, alarmId).toMatchObject({
        AlarmActions: [alarmTopic],
        OKActions: [alarmTopic],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    const metricNames = alarms.map(([, a]) => a.Properties.MetricName ?? 'expression').sort();
    expect(metricNames).toEqual(['5xx', 'Errors', 'Errors', 'Throttles', 'Throttles', 'expression', 'expression']);
    // The table alarms sum its metrics over exactly the operations the functions call.
    for (const [, alarm] of alarms.filter(([, a]) => a.Properties.Metrics)) {
      const operations = (alarm.Properties.Metrics as { MetricStat?: { Metric: { Dimensions: { Name: string; Value: unknown }[] } } }[])
        .flatMap((m) => m.MetricStat?.Metric.Dimensions.filter((d) => d.Name === 'Operation').map((d) => d.Value) ?? [])
        .sort();
      expect(operations).toEqual(['GetItem', 'UpdateItem']);
    }
  });

  test('the alarm topic mails the alarmEmail from context', () => {
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: id(s.stack.topics.alarms) },
    });
  });

  test('a dashboard shows the alarms and the key metrics', () => {
    const dashboards = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]![1].Properties.DashboardBody);
    for (const metric of ['Count', '5xx', 'Latency', 'Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'ConsumedWriteCapacityUnits', 'SuccessfulRequestLatency', 'ThrottledRequests', 'SystemErrors']) {
      expect(body, metric).toContain(`\\"${metric}\\"`);
    }
  });
});

test('the outputs name the API URL, table, key secret, topics and dashboard', () => {
  const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
  expect(Object.keys(outputs).sort()).toEqual(['AlarmTopicArn', 'ApiUrl', 'DashboardName', 'EventTopicArn', 'TableName', 'TokenKeySecretArn']);
  expect(outputs.TableName!.Value).toEqual({ Ref: id(s.stack.table.table) });
  expect(outputs.TokenKeySecretArn!.Value).toEqual({ Ref: id(s.stack.tokenKey.secret) });
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
    expect(acknowledged.map((a) => `${a.id} ${a.resourceType}`).sort()).toEqual([
      'AwsSolutions-APIG4 AWS::ApiGatewayV2::Route',
      'AwsSolutions-APIG4 AWS::ApiGatewayV2::Route',
      'AwsSolutions-SMG4 AWS::SecretsManager::Secret',
    ]);
    for (const a of acknowledged) expect(a.reason.length, a.id).toBeGreaterThan(80);
  });
});

test('a finding nobody acknowledged stops the synthesis (cdk-nag runs as a validation plugin of the app)', () => {
  const { app, stack } = buildWitness({}, { bundle: false });
  new Secret(stack, 'UnrotatedSecret');
  expect(() => app.synth()).toThrow(/Tiebreak\/UnrotatedSecret[\s\S]*AwsSolutions-SMG4/);
});
