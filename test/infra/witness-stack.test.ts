import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Operation } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, test } from 'vitest';
import { incidentSk, siteStateSk, ttlAttribute } from '../../functions/adapters/tenancy-items.ts';
import { tableDefinition } from '../../functions/adapters/table.ts';
import {
  alertSk,
  apiKeySk,
  customerSk,
  detectorCursorKey,
  escalationSk,
  eventSk,
  inboundSeenSk,
  integrationSk,
  maintenanceSk,
  resellerSk,
  siteListingSk,
  webhookEndpointSk,
  webhookMessageSk,
  deliveryAttemptSk,
} from '../../functions/adapters/tenancy-items.ts';
import { incidentQueueEventTypes } from '../../functions/domain/incidents.ts';
import { apiRoutes } from '../../protocol/api-routes.ts';
import { EventType } from '../../protocol/events.ts';
import { esmRequireBanner, functionEntries, type FunctionName } from '../../lib/bundling.ts';
import { deployDefaults } from '../../lib/deploy-settings.ts';
import { routeAuthorizations } from '../../lib/node-api.ts';
import { webhookMaxReceiveCount } from '../../lib/webhook-queues.ts';
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
/** The functions the API invokes: all but those the table's stream, a queue or a schedule runs. */
const routed = names.filter((name) => routesOf(functionSpecs[name]).length > 0);
const context = { leaseMs: '20000', fastHeartbeatMs: 4000, alarmEmail: 'ops@example.com', logRetentionDays: 90, auditRetentionDays: '731' };

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
/**
 * The resellers' channels (functions/adapters/reseller-channels.ts), named at run time: an ARN of
 * this account and region by name prefix, as the template writes it.
 */
const channelArn = (service: 'sqs' | 'sns', name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${name}`]],
});
const serviceQueues = channelArn('sqs', 'tiebreak-svc-*');
const alertTopics = channelArn('sns', 'tiebreak-alerts-*');

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
    // The attribute the writers set (audit events, webhook messages and tries, …) and the lists filter on.
    expect(ttlAttribute).toBe('expiresAt');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(ofType('AWS::DynamoDB::Table')).toHaveLength(1);
  });

  test('has the local table’s due indexes: the sharded one on `dueShard` (a string, `<bucket>#<shard>`), and the old one on `due` kept for the migration; sorted by pk, keys only', () => {
    const table = resources[id(s.stack.table.table)]!;
    const indexes = table.Properties.GlobalSecondaryIndexes as { IndexName: string }[];
    expect(indexes).toEqual(tableDefinition('any').GlobalSecondaryIndexes);
    expect(indexes.filter((index) => index.IndexName.startsWith('due'))).toEqual([
      {
        IndexName: 'due-shard-index',
        KeySchema: [
          { AttributeName: 'dueShard', KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: 'due-index',
        KeySchema: [
          { AttributeName: 'due', KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
    expect(table.Properties.AttributeDefinitions).toContainEqual({ AttributeName: 'dueShard', AttributeType: 'S' });
  });
});

describe('the functions', () => {
  test('one per entry of lib/bundling.ts, and nothing else runs code in the stack', () => {
    expect(ofType('AWS::Lambda::Function')).toHaveLength(names.length);
    expect(Object.keys(functionSpecs).sort()).toEqual([...names].sort());
  });

  const timeouts: Partial<Record<FunctionName, number>> = {
    api: 29,
    channels: 29,
    webhooks: 29,
    report: 29,
    publisher: 30,
    detector: 60,
    incidents: 30,
    webhookRouter: 30,
    webhookDeliverer: 60,
  };
  test.each(names)(
    '%s runs nodejs24.x on arm64 from an ESM bundle, 256 MB, 3 s (the API’s api, channels and webhooks 29 s: a cold start reads two secrets, channels makes a reseller’s queue and topic; the report 29 s: reading a period’s trails; the publisher 30 s: a batch; the detector 60 s: a run; incidents and the webhook router 30 s: a batch; the webhook deliverer 60 s: a batch of 15 s tries), logging JSON to its own log group',
    (name) => {
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
    },
  );

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
    TIEBREAK_SILENCE_MS: '180000',
    TIEBREAK_DUE_BUCKET_MS: '300000',
    // Twice the freshness window; an unbounded standalone lease (the default) is no variable.
    TIEBREAK_EXCLUSION_MS: '30000',
    TIEBREAK_COMMAND_ACK_MS: '30000',
    // What the audit trail and the webhook delivery log are written with (expiresAt): the audit trail's from context, the delivery log's by default.
    TIEBREAK_AUDIT_RETENTION_DAYS: '731',
    TIEBREAK_DELIVERY_LOG_RETENTION_DAYS: '30',
  });

  test.each(['heartbeat', 'claim', 'maintenance'] as const)(
    '%s gets the witness settings from context, the table and the token key’s secret, and source maps on',
    (name) => {
      expect(variables(name)).toEqual(witnessVariables());
    },
  );

  // The api function's variables before the split, each now on the function whose routes use it.
  test('api gets the same and the admin key’s secret; channels also the prefix of the resellers’ channels it creates; webhooks also the webhook deliveries queue (replays)', () => {
    const apiVariables = { ...witnessVariables(), TIEBREAK_ADMIN_KEY_SECRET_ARN: { Ref: id(s.stack.adminKey.secret) } };
    expect(variables('api')).toEqual(apiVariables);
    expect(variables('channels')).toEqual({ ...apiVariables, TIEBREAK_CHANNEL_PREFIX: 'tiebreak' });
    expect(variables('webhooks')).toEqual({
      ...apiVariables,
      TIEBREAK_WEBHOOK_DELIVERIES_URL: { Ref: id(s.stack.webhookQueues.deliveries) },
    });
  });

  test('incidents gets the witness settings, the table, the token key’s secret (its links’ key), its own queue for timers, the webhook outbox, the channel prefix, and the API’s URL for one-click links', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(variables('incidents')).toEqual({
      ...witnessVariables(),
      TIEBREAK_INCIDENTS_QUEUE_URL: { Ref: id(s.stack.incidentQueues.queue) },
      TIEBREAK_WEBHOOK_OUTBOX_URL: { Ref: id(s.stack.webhookQueues.outbox) },
      TIEBREAK_CHANNEL_PREFIX: 'tiebreak',
      TIEBREAK_PUBLIC_URL: outputs.ApiUrl!.Value,
    });
    // The very URL agents and resellers are given: the HTTP API's own.
    expect(JSON.stringify(variables('incidents').TIEBREAK_PUBLIC_URL)).toContain(`{"Ref":"${id(s.stack.api.api)}"}`);
  });

  test('publisher gets the witness settings, the table and the events topic, and no secret', () => {
    const expected = Object.entries(witnessVariables()).filter(([variable]) => variable !== 'TIEBREAK_TOKEN_KEY_SECRET_ARN');
    expect(variables('publisher')).toEqual({
      ...Object.fromEntries(expected),
      TIEBREAK_EVENT_TOPIC_ARN: { Ref: id(s.stack.topics.events) },
    });
  });

  test('detector gets the witness settings and the table, and no secret', () => {
    const expected = Object.entries(witnessVariables()).filter(([variable]) => variable !== 'TIEBREAK_TOKEN_KEY_SECRET_ARN');
    expect(variables('detector')).toEqual(Object.fromEntries(expected));
  });

  const webhookQueueVariables = () => ({
    TIEBREAK_WEBHOOK_DELIVERIES_URL: { Ref: id(s.stack.webhookQueues.deliveries) },
    TIEBREAK_WEBHOOK_DEAD_LETTERS_URL: { Ref: id(s.stack.webhookQueues.deadLetterQueue) },
    TIEBREAK_CHANNEL_PREFIX: 'tiebreak',
  });

  test('webhookDeliverer gets the witness settings, the table, the webhook deliveries and dead-letter queues and the channel prefix, and no secret', () => {
    const expected = Object.entries(witnessVariables()).filter(([variable]) => variable !== 'TIEBREAK_TOKEN_KEY_SECRET_ARN');
    expect(variables('webhookDeliverer')).toEqual({ ...Object.fromEntries(expected), ...webhookQueueVariables() });
  });

  test('webhookRouter gets the deliverer’s, and the token key’s secret and the API’s URL: it signs the one-click links of incident messages', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(variables('webhookRouter')).toEqual({
      ...witnessVariables(),
      ...webhookQueueVariables(),
      TIEBREAK_PUBLIC_URL: outputs.ApiUrl!.Value,
    });
  });

  test('no function may send webhooks to loopback addresses (TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK is for local runs only)', () => {
    for (const name of names) expect(Object.keys(variables(name)), name).not.toContain('TIEBREAK_WEBHOOKS_ALLOW_LOOPBACK');
    expect(JSON.stringify(resources)).not.toContain('ALLOW_LOOPBACK');
  });

  test('no function accepts inbound bearer tokens over plain HTTP (TIEBREAK_HOOKS_ALLOW_HTTP is for local runs only)', () => {
    for (const name of names) expect(Object.keys(variables(name)), name).not.toContain('TIEBREAK_HOOKS_ALLOW_HTTP');
    expect(JSON.stringify(resources)).not.toContain('HOOKS_ALLOW_HTTP');
  });

  test.each(['openapi', 'console'] as const)(
    '%s gets nothing but the logger’s name and source maps: no table, no secret, no timings',
    (name) => {
      expect(variables(name)).toEqual({ POWERTOOLS_SERVICE_NAME: 'tiebreak-witness', NODE_OPTIONS: '--enable-source-maps' });
    },
  );

  test('the console function’s package holds the console built by esbuild: index.html naming its content-hashed script and stylesheet', () => {
    const key = (fn('console').Properties.Code as { S3Key: string }).S3Key;
    const dir = join(s.app.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'console');
    const files = readdirSync(dir).sort();
    expect(files).toEqual([
      expect.stringMatching(/^console-[A-Z0-9]{8}\.css$/),
      expect.stringMatching(/^console-[A-Z0-9]{8}\.js$/),
      'index.html',
    ]);
    const page = readFileSync(join(dir, 'index.html'), 'utf8');
    for (const file of files.filter((f) => f !== 'index.html')) expect(page).toContain(file);
    // Only the console function carries files of its own.
    for (const name of names.filter((n) => n !== 'console')) {
      const other = (fn(name).Properties.Code as { S3Key: string }).S3Key;
      expect(existsSync(join(s.app.outdir, `asset.${other.replace(/\.zip$/, '')}`, 'console')), name).toBe(false);
    }
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

  test('routes the node endpoints, every route of protocol/api-routes.ts, GET /openapi.json and the console to their functions with payload v2, and nothing else', () => {
    const expected: Record<string, FunctionName> = {
      'POST /v1/node/heartbeat': 'heartbeat',
      'POST /v1/node/claim': 'claim',
      'POST /v1/node/maintenance': 'maintenance',
      // Each route of the reseller API to the function protocol/api-routes.ts names (apiFunctionRoutes).
      ...Object.fromEntries(Object.keys(apiRoutes).map((key) => [key, 'api' as const])),
      'POST /v1/resellers': 'channels',
      'GET /v1/reseller/service-queue': 'channels',
      ...Object.fromEntries(
        Object.keys(apiRoutes)
          .filter((key) => key.includes('escalation-polic'))
          .map((key) => [key, 'channels' as const]),
      ),
      ...Object.fromEntries(
        Object.keys(apiRoutes)
          .filter((key) => /^[A-Z]+ \/v1\/(webhooks|integrations|hooks)\b/.test(key))
          .map((key) => [key, 'webhooks' as const]),
      ),
      // Its own function: the PDF renderer stays out of the other bundles.
      'GET /v1/reports/sla': 'report',
      'GET /openapi.json': 'openapi',
      // The reseller console's files, from the API's own origin.
      'GET /console': 'console',
      'GET /console/{proxy+}': 'console',
    };
    expect(Object.keys(apiRoutes)).toContain('POST /v1/node/enroll');
    expect(Object.keys(apiRoutes)).toContain('PATCH /v1/reseller');
    expect(routedTo()).toEqual(expected);
    expect(ofType('AWS::ApiGatewayV2::Route')).toHaveLength(Object.keys(expected).length);
  });

  test('one integration per routed function (none for the publisher, the detector, incidents and the webhook router and deliverer), and each route may invoke its function from its own path only', () => {
    const unrouted: FunctionName[] = ['publisher', 'detector', 'incidents', 'webhookRouter', 'webhookDeliverer'];
    expect(routed).toEqual(names.filter((name) => !unrouted.includes(name)));
    expect(ofType('AWS::ApiGatewayV2::Integration')).toHaveLength(routed.length);
    const permissions = ofType('AWS::Lambda::Permission').map(([, p]) => p.Properties);
    for (const name of names) {
      // The detector's schedule may invoke it too (below): that permission is EventBridge's.
      const mine = permissions.filter(
        (p) => JSON.stringify(p.FunctionName).includes(id(s.stack.functions[name].function)) && p.Principal !== 'events.amazonaws.com',
      );
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
      DefaultRouteSettings: {
        ThrottlingRateLimit: deployDefaults.apiRateLimitPerSecond,
        ThrottlingBurstLimit: deployDefaults.apiBurstLimit,
      },
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

  // The api function's table actions before the split were GetItem, BatchGetItem, PutItem, UpdateItem, DeleteItem, Query and
  // ConditionCheckItem; each function of the split has those its routes use, no more (and together, all of them).
  const apiTableActions = ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'ConditionCheckItem'].map(
    (a) => `dynamodb:${a}`,
  );
  const splitTableActions = {
    api: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'ConditionCheckItem'],
    channels: ['GetItem', 'DeleteItem', 'Query', 'PutItem', 'ConditionCheckItem'],
    webhooks: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'ConditionCheckItem'],
  } as const;

  test('the api function’s old table actions are split among api, channels and webhooks: each a subset, together all', () => {
    const all = new Set(Object.values(splitTableActions).flatMap((actions) => actions.map((a) => `dynamodb:${a}`)));
    expect([...all].sort()).toEqual([...apiTableActions].sort());
  });

  test.each([
    ['heartbeat', ['dynamodb:UpdateItem'], ['tokenKey']],
    ['claim', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], ['tokenKey']],
    // TransactWriteItems is authorized by the item actions it holds: the window's Put, the token version's ConditionCheck and
    // the listing's Update; the listing's read and, once per site, the Query of its windows (listing-windows.ts).
    [
      'maintenance',
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem', 'dynamodb:UpdateItem'],
      ['tokenKey'],
    ],
    ['openapi', [], []],
    ['console', [], []],
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

  test.each(['api', 'channels', 'webhooks'] as const)(
    '%s may call exactly its table actions, read both keys, and write its own logs; channels also create and look up the resellers’ service queues (tiebreak-svc-*) and create and subscribe to their alerts topics (tiebreak-alerts-*); webhooks also send a replay’s or a test’s first try to the webhook deliveries queue',
    (name) => {
      const f = s.stack.functions[name];
      const table = id(s.stack.table.table);
      const logs = id(f.logGroup);
      expect(fn(name).Properties.Role).toEqual({ 'Fn::GetAtt': [id(f.role), 'Arn'] });
      const own = {
        api: [],
        channels: [
          // Each reseller's service queue and its dead-letter queue (…-svc-<reseller>-dlq), made with the reseller.
          `sqs:CreateQueue ${JSON.stringify(serviceQueues)}`,
          `sqs:GetQueueAttributes ${JSON.stringify(serviceQueues)}`,
          `sqs:GetQueueUrl ${JSON.stringify(serviceQueues)}`,
          // Its alerts topic, and the reseller's e-mail and SMS subscriptions to it.
          `sns:CreateTopic ${JSON.stringify(alertTopics)}`,
          `sns:Subscribe ${JSON.stringify(alertTopics)}`,
        ],
        // A replay of a webhook message, or a test of an endpoint, schedules its first try.
        webhooks: [`sqs:SendMessage ${id(s.stack.webhookQueues.deliveries)}`],
      }[name];
      expect(allowed(id(f.role))).toEqual(
        [
          // TransactWriteItems is authorized by the item actions it holds.
          ...splitTableActions[name].map((action) => `dynamodb:${action} ${table}`),
          `secretsmanager:GetSecretValue ${id(s.stack.tokenKey.secret)}`,
          `secretsmanager:GetSecretValue ${id(s.stack.adminKey.secret)}`,
          ...own,
          `logs:CreateLogStream ${logs}`,
          `logs:PutLogEvents ${logs}`,
        ].sort(),
      );
    },
  );

  test('only channels, incidents and the webhook router may touch the resellers’ channels (the router their service queues only), and each stack queue only the functions that use it', () => {
    const channels = {
      [JSON.stringify(serviceQueues)]: ['channels', 'incidents', 'webhookRouter'],
      [JSON.stringify(alertTopics)]: ['channels', 'incidents'],
    };
    const { queue, deadLetterQueue } = s.stack.incidentQueues;
    const { outbox, deliveries, deadLetterQueue: webhookDeadLetters } = s.stack.webhookQueues;
    const users: [string, FunctionName[]][] = [
      [id(queue), ['incidents']],
      [id(outbox), ['incidents', 'webhookRouter']],
      [id(deliveries), ['webhooks', 'webhookRouter', 'webhookDeliverer']],
      [id(webhookDeadLetters), ['webhookDeliverer']],
      // SQS moves dead letters there itself: no function needs a right on it.
      [id(deadLetterQueue), []],
    ];
    for (const name of names) {
      const pairs = allowed(id(s.stack.functions[name].role));
      const touches = (target: string) => pairs.some((pair) => pair.endsWith(` ${target}`));
      for (const [channel, allowedTo] of Object.entries(channels))
        expect(touches(channel), `${name} ${channel}`).toBe(allowedTo.includes(name));
      for (const [queueId, allowedTo] of users) expect(touches(queueId), `${name} ${queueId}`).toBe(allowedTo.includes(name));
      // Every ARN written out (not a resource of the stack) is one of the channels' prefixes.
      const written = pairs.filter((pair) => pair.includes('"arn:"'));
      expect(
        written.filter((pair) => !Object.keys(channels).some((channel) => pair.endsWith(` ${channel}`))),
        name,
      ).toEqual([]);
    }
    // And no policy of the stack names the channels but those functions'.
    const naming = ofType('AWS::IAM::Policy').filter(([, policy]) =>
      /tiebreak-(svc|alerts)-/.test(JSON.stringify(policy.Properties.PolicyDocument)),
    );
    expect(naming.map(([policyId]) => policyId).sort()).toEqual(
      (['channels', 'incidents', 'webhookRouter'] as const)
        .map((name) => id(s.stack.functions[name].role.node.findChild('DefaultPolicy')))
        .sort(),
    );
  });

  test('detector may GetItem and UpdateItem on the table, Query the due index only (not the table), and write its own logs', () => {
    const f = s.stack.functions.detector;
    const table = id(s.stack.table.table);
    const index = (name: string) => JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, `/index/${name}`]] });
    const logs = id(f.logGroup);
    expect(fn('detector').Properties.Role).toEqual({ 'Fn::GetAtt': [id(f.role), 'Arn'] });
    expect(allowed(id(f.role))).toEqual(
      [
        `dynamodb:GetItem ${table}`,
        `dynamodb:UpdateItem ${table}`,
        `dynamodb:Query ${index('due-shard-index')}`,
        `dynamodb:Query ${index('due-index')}`,
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
    // Only the publisher reads the stream, sends to its dead-letter queue, publishes events or uses the topics' key;
    // besides it, only channels, webhooks, incidents and the webhook functions use SQS or SNS at all (the resellers' channels, the queues: above).
    for (const name of names.filter((n) => n !== 'publisher')) {
      const pairs = allowed(id(s.stack.functions[name].role)).join('\n');
      expect(pairs, name).not.toMatch(/StreamArn|ListStreams|kms:/);
      expect(pairs, name).not.toContain(queue);
      expect(pairs, name).not.toContain(id(s.stack.topics.events));
      if (!(['channels', 'webhooks', 'incidents', 'webhookRouter', 'webhookDeliverer'] as FunctionName[]).includes(name))
        expect(pairs, name).not.toMatch(/sqs:|sns:/);
      if (name !== 'channels' && name !== 'incidents') expect(pairs, name).not.toMatch(/sns:/);
    }
  });

  test('only the functions that authenticate reseller calls (api, channels, webhooks, report) may read the admin key, and no function may Scan', () => {
    const adminKey = id(s.stack.adminKey.secret);
    const readers = names.filter((name) => allowed(id(s.stack.functions[name].role)).some((pair) => pair.endsWith(` ${adminKey}`)));
    expect(readers).toEqual(['api', 'channels', 'webhooks', 'report']);
    for (const name of names) expect(allowed(id(s.stack.functions[name].role)).join('\n'), name).not.toContain('dynamodb:Scan');
  });

  test('a transaction’s item actions are granted only with TransactWriteItems, and never without it', () => {
    const spec = { routes: [], authorization: 'public', secrets: [] } as const;
    expect(
      tableActions({
        ...spec,
        tableOperations: [Operation.QUERY, Operation.TRANSACT_WRITE_ITEMS],
        transactionItems: ['PutItem', 'ConditionCheckItem'],
      }),
    ).toEqual(['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem']);
    expect(() => tableActions({ ...spec, tableOperations: [Operation.TRANSACT_WRITE_ITEMS] })).toThrow(/transactionItems/);
    expect(() => tableActions({ ...spec, tableOperations: [Operation.GET_ITEM], transactionItems: ['PutItem'] })).toThrow(
      /transactionItems/,
    );
    expect(() => tableActions({ ...spec, tableOperations: [Operation.TRANSACT_GET_ITEMS] })).toThrow(/other transactions/);
  });

  test('no policy in the stack allows a wildcard action, and the only roles are the functions’', () => {
    for (const [policyId, policy] of ofType('AWS::IAM::Policy')) {
      for (const statement of (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement) {
        for (const action of [statement.Action].flat()) expect(action, policyId).not.toContain('*');
      }
    }
    expect(
      ofType('AWS::IAM::Role')
        .map(([roleId]) => roleId)
        .sort(),
    ).toEqual(names.map((n) => id(s.stack.functions[n].role)).sort());
  });
});

describe('the silence detector’s schedule', () => {
  test('an EventBridge rule runs the detector every minute, without retries, and only it may invoke the detector that way', () => {
    const rule = resources[id(s.stack.schedules.detector!)]!;
    expect(rule.Properties).toMatchObject({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [id(s.stack.functions.detector.function), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }],
    });
    const fromEvents = ofType('AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'events.amazonaws.com');
    expect(fromEvents.map(([, p]) => [p.Properties.FunctionName, p.Properties.SourceArn])).toEqual([
      [{ 'Fn::GetAtt': [id(s.stack.functions.detector.function), 'Arn'] }, { 'Fn::GetAtt': [id(s.stack.schedules.detector!), 'Arn'] }],
    ]);
  });
});

describe('the table stream', () => {
  const fromStream = () =>
    ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [id(s.stack.table.table), 'StreamArn'] }),
    );

  test('feeds the publisher, and only it: oldest first, state items, incident trackers, inbound alerts and webhook messages only, in order per shard, batched over 5 s, failed records reported, bisected, retried 10 times, 6 h at most, then the dead-letter queue', () => {
    const mappings = fromStream();
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
    expect(JSON.parse(filter!.Pattern)).toEqual({
      dynamodb: { Keys: { sk: { S: ['STATE', { prefix: 'INCIDENT#' }, { prefix: 'ALERT#' }, { prefix: 'MSG#' }] } } },
    });
  });

  test('its filter hands the publisher the changes of sites’ state items, of every incident tracker, of inbound alerts and of webhook messages (webhook.failed, webhook.disabled), and not of the events it writes nor any other item', () => {
    const [, mapping] = fromStream()[0]!;
    const [filter] = (mapping.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
    const values = (JSON.parse(filter!.Pattern) as { dynamodb: { Keys: { sk: { S: (string | { prefix: string })[] } } } }).dynamodb.Keys.sk
      .S;
    // Lambda's filter: a record passes when its sort key matches any of the values (equal, or beginning with a prefix).
    const passes = (sk: string) =>
      values.some((value) => (typeof value === 'string' ? sk === value : Object.keys(value).length === 1 && sk.startsWith(value.prefix)));
    expect(passes(siteStateSk)).toBe(true);
    for (const kind of ['node.lost', 'site.down', 'link.lost', 'node.degraded', 'command.unacknowledged', 'alert.raised'] as const) {
      expect(passes(incidentSk(kind)), kind).toBe(true);
    }
    expect(passes(alertSk('int_abc', 'ups-on-battery')), 'an inbound alert').toBe(true);
    expect(passes(webhookMessageSk('msg_00abc123')), 'a webhook message').toBe(true);
    const at = '2025-01-01T00:00:00.000Z';
    const others = [
      eventSk(at, 'e1'), // the audit trail the publisher itself writes: never fed back to it
      maintenanceSk(at, 'w1'),
      siteListingSk('s1'),
      resellerSk('r1'),
      customerSk('c1'),
      apiKeySk('k1'),
      escalationSk('site', 's1'),
      detectorCursorKey.sk,
      integrationSk('int_abc'),
      inboundSeenSk('msg_1'),
      webhookEndpointSk('ep_1'), // an endpoint's settings
      deliveryAttemptSk(at, 'msg_00abc123', 0, 1), // the delivery log: a line per try
      'INCIDENTS',
    ];
    for (const sk of others) expect(passes(sk), sk).toBe(false);
  });

  test('its dead-letter queue is encrypted (SQS-managed), refuses requests without TLS, and keeps messages 14 days', () => {
    const queueId = id(s.stack.eventFeed.deadLetterQueue);
    expect(resources[queueId]!.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    expect(queuePolicyStatements(queueId)).toEqual([denyWithoutTls(queueId)]);
  });
});

/** The statements of the one policy of a queue (each queue of the stack has exactly one). */
function queuePolicyStatements(queueId: string): unknown[] {
  const policies = ofType('AWS::SQS::QueuePolicy').filter(
    ([, p]) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: queueId }]),
  );
  expect(policies, queueId).toHaveLength(1);
  return (policies[0]![1].Properties.PolicyDocument as { Statement: unknown[] }).Statement;
}

const denyWithoutTls = (queueId: string) => ({
  Effect: 'Deny',
  Action: 'sqs:*',
  Principal: { AWS: '*' },
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
});

describe('the incidents queues', () => {
  const fourteenDays = 14 * 24 * 3600;

  test('the incidents queue is encrypted (SQS-managed), keeps messages 4 days (so its dead letters keep 10 more), hides one 3 min while it is handled (6 × the function’s 30 s), and moves one failed 10 times to its dead-letter queue', () => {
    const { queue, deadLetterQueue } = s.stack.incidentQueues;
    expect(resources[id(queue)]!.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 4 * 24 * 3600,
      VisibilityTimeout: 6 * 30,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(deadLetterQueue), 'Arn'] }, maxReceiveCount: 10 },
    });
    expect(functionSpecs.incidents.timeoutSeconds).toBe(30);
  });

  test('its dead-letter queue is encrypted (SQS-managed) and keeps messages 14 days, with no redrive of its own', () => {
    const { deadLetterQueue } = s.stack.incidentQueues;
    expect(resources[id(deadLetterQueue)]!.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: fourteenDays });
  });

  test('every queue refuses requests without TLS, and the events topic is the only one given a right by a queue policy: to send to the incidents queue and the webhook outbox', () => {
    const { queue, deadLetterQueue } = s.stack.incidentQueues;
    const { outbox, deliveries, deadLetterQueue: webhookDeadLetters } = s.stack.webhookQueues;
    expect(ofType('AWS::SQS::QueuePolicy')).toHaveLength(6);
    for (const q of [s.stack.eventFeed.deadLetterQueue, deadLetterQueue, deliveries, webhookDeadLetters]) {
      expect(queuePolicyStatements(id(q)), q.node.path).toEqual([denyWithoutTls(id(q))]);
    }
    for (const q of [queue, outbox]) {
      expect(queuePolicyStatements(id(q)), q.node.path).toEqual([
        denyWithoutTls(id(q)),
        {
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Principal: { Service: 'sns.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': { Ref: id(s.stack.topics.events) } } },
          Resource: { 'Fn::GetAtt': [id(q), 'Arn'] },
        },
      ]);
    }
  });

  test('the events topic delivers raw to the incidents queue exactly the conditions, their recoveries and the incident steps (no failover events, no incident.opened, no webhook news), by the `type` attribute', () => {
    const events = { Ref: id(s.stack.topics.events) };
    const subscriptions = ofType('AWS::SNS::Subscription').filter(
      ([, sub]) =>
        JSON.stringify(sub.Properties.TopicArn) === JSON.stringify(events) &&
        JSON.stringify(sub.Properties.Endpoint) === JSON.stringify({ 'Fn::GetAtt': [id(s.stack.incidentQueues.queue), 'Arn'] }),
    );
    expect(subscriptions).toHaveLength(1);
    const [, subscription] = subscriptions[0]!;
    expect(subscription.Properties).toEqual({
      TopicArn: events,
      Protocol: 'sqs',
      Endpoint: { 'Fn::GetAtt': [id(s.stack.incidentQueues.queue), 'Arn'] },
      RawMessageDelivery: true,
      FilterPolicy: { type: [...incidentQueueEventTypes] },
    });
    // webhook.failed and webhook.disabled reach the reseller's service queue through the webhook router;
    // failover.forced is an operator's act, not a condition (its node.readmitted clears the exclusion);
    // webhook.test is never on the topic (the API stores it straight as the endpoint's message).
    const excluded = [
      'failover.granted',
      'failover.completed',
      'failover.forced',
      'incident.opened',
      'webhook.failed',
      'webhook.disabled',
      'webhook.test',
    ];
    expect([...incidentQueueEventTypes].sort()).toEqual(EventType.options.filter((type) => !excluded.includes(type)).sort());
    // The topics' subscriptions: the incidents queue's, the webhook outbox's, and the operator's e-mail on the alarm topic.
    expect(ofType('AWS::SNS::Subscription')).toHaveLength(3);
  });

  test('the incidents queue feeds the incidents function, and only it, 10 messages at a time, each failed message handed back on its own', () => {
    const fromQueue = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) =>
        JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [id(s.stack.incidentQueues.queue), 'Arn'] }),
    );
    expect(fromQueue).toHaveLength(1);
    expect(fromQueue[0]![1].Properties).toEqual({
      FunctionName: { Ref: id(s.stack.functions.incidents.function) },
      EventSourceArn: { 'Fn::GetAtt': [id(s.stack.incidentQueues.queue), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Nothing consumes its dead-letter queue.
    expect(JSON.stringify(ofType('AWS::Lambda::EventSourceMapping'))).not.toContain(`"${id(s.stack.incidentQueues.deadLetterQueue)}"`);
  });
});

describe('the webhook queues', () => {
  const days = (n: number) => n * 24 * 3600;
  const fromQueue = (queueId: string) =>
    ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => JSON.stringify(m.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }),
    );

  test('the events topic delivers every event raw to the webhook outbox, unfiltered (each endpoint picks its event types)', () => {
    const outbox = { 'Fn::GetAtt': [id(s.stack.webhookQueues.outbox), 'Arn'] };
    const subscriptions = ofType('AWS::SNS::Subscription').filter(
      ([, sub]) => JSON.stringify(sub.Properties.Endpoint) === JSON.stringify(outbox),
    );
    expect(subscriptions.map(([, sub]) => sub.Properties)).toEqual([
      { TopicArn: { Ref: id(s.stack.topics.events) }, Protocol: 'sqs', Endpoint: outbox, RawMessageDelivery: true },
    ]);
  });

  test('the incidents function leaves its webhook steps in the very outbox the webhook router consumes', () => {
    const incidents = (fn('incidents').Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const [mapping] = fromQueue(id(s.stack.webhookQueues.outbox));
    expect(incidents.TIEBREAK_WEBHOOK_OUTBOX_URL).toEqual({ Ref: id(s.stack.webhookQueues.outbox) });
    expect(mapping![1].Properties.FunctionName).toEqual({ Ref: id(s.stack.functions.webhookRouter.function) });
  });

  test.each([
    ['outbox', 'webhookRouter'],
    ['deliveries', 'webhookDeliverer'],
  ] as const)('the %s queue feeds %s, and only it, 10 messages at a time, each failed message handed back on its own', (queue, name) => {
    const queueId = id(s.stack.webhookQueues[queue]);
    const mappings = fromQueue(queueId);
    expect(mappings.map(([, m]) => m.Properties)).toEqual([
      {
        FunctionName: { Ref: id(s.stack.functions[name].function) },
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
    expect(functionSpecs[name].fedBy).toBe(queue === 'outbox' ? 'webhook-outbox' : 'webhook-deliveries');
  });

  test.each([
    ['outbox', 'webhookRouter', 30],
    ['deliveries', 'webhookDeliverer', 60],
  ] as const)(
    'the %s queue is encrypted (SQS-managed), keeps messages 4 days a hop, hides one 6 × %s’s %i s while it is handled, and moves one failed 10 times to the webhook dead-letter queue',
    (queue, name, timeout) => {
      expect(resources[id(s.stack.webhookQueues[queue])]!.Properties).toEqual({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: days(4),
        VisibilityTimeout: 6 * timeout,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [id(s.stack.webhookQueues.deadLetterQueue), 'Arn'] }, maxReceiveCount: 10 },
      });
      expect(functionSpecs[name].timeoutSeconds).toBe(timeout);
      expect(webhookMaxReceiveCount).toBe(10);
    },
  );

  test('the webhook dead-letter queue is encrypted (SQS-managed), keeps messages 14 days, has no redrive of its own, and nothing consumes it', () => {
    const queueId = id(s.stack.webhookQueues.deadLetterQueue);
    expect(resources[queueId]!.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: days(14) });
    expect(fromQueue(queueId)).toEqual([]);
  });

  test('the stack’s only event sources: the table stream (the publisher), the incidents queue, the webhook outbox and the deliveries queue', () => {
    const sources = ofType('AWS::Lambda::EventSourceMapping').map(([, m]) => JSON.stringify(m.Properties.EventSourceArn));
    const arn = (queueId: string) => JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] });
    expect(sources.sort()).toEqual(
      [
        JSON.stringify({ 'Fn::GetAtt': [id(s.stack.table.table), 'StreamArn'] }),
        arn(id(s.stack.incidentQueues.queue)),
        arn(id(s.stack.webhookQueues.outbox)),
        arn(id(s.stack.webhookQueues.deliveries)),
      ].sort(),
    );
  });
});

describe('the keys', () => {
  test('the stack holds two secrets: the signing key and the admin key', () => {
    expect(
      ofType('AWS::SecretsManager::Secret')
        .map(([secretId]) => secretId)
        .sort(),
    ).toEqual([id(s.stack.tokenKey.secret), id(s.stack.adminKey.secret)].sort());
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
    // The queues: the table stream's dead-letter queue, the incidents queue and its dead-letter queue, and the webhook queues (above).
    const { queue, deadLetterQueue } = s.stack.incidentQueues;
    const { outbox, deliveries, deadLetterQueue: webhookDeadLetters } = s.stack.webhookQueues;
    expect(
      ofType('AWS::SQS::Queue')
        .map(([queueId]) => queueId)
        .sort(),
    ).toEqual(
      [id(s.stack.eventFeed.deadLetterQueue), id(queue), id(deadLetterQueue), id(outbox), id(deliveries), id(webhookDeadLetters)].sort(),
    );
    expect(ofType('AWS::Events::Rule').map(([ruleId]) => ruleId)).toEqual([id(s.stack.schedules.detector!)]);
  });

  test('errors and throttles per function, API 5xx, table throttles and system errors, the stream reader’s lag and dead letters, and the incidents and webhook dead letters alarm the alarm topic, and clear there too', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(names.length * 2 + 3 + 4);
    const alarmTopic = { Ref: id(s.stack.topics.alarms) };
    for (const [alarmId, alarm] of alarms) {
      expect(alarm.Properties, alarmId).toMatchObject({
        AlarmActions: [alarmTopic],
        OKActions: [alarmTopic],
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      if (alarm.Properties.MetricName === 'IteratorAge') continue;
      expect(alarm.Properties, alarmId).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
    const metricNames = alarms.map(([, a]) => a.Properties.MetricName ?? 'expression').sort();
    expect(metricNames).toEqual(
      [
        '5xx',
        ...names.map(() => 'Errors'),
        ...names.map(() => 'Throttles'),
        'expression',
        'expression',
        'IteratorAge',
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesVisible',
      ].sort(),
    );
    // Each function's errors and throttles, by its own dimension.
    for (const name of names) {
      const dimension = [{ Name: 'FunctionName', Value: { Ref: id(s.stack.functions[name].function) } }];
      for (const metric of ['Errors', 'Throttles']) {
        expect(
          alarms.filter(
            ([, a]) => a.Properties.MetricName === metric && JSON.stringify(a.Properties.Dimensions) === JSON.stringify(dimension),
          ),
          `${name} ${metric}`,
        ).toHaveLength(1);
      }
    }
    // The table alarms sum its metrics over exactly the operations the functions call.
    for (const [, alarm] of alarms.filter(([, a]) => a.Properties.Metrics)) {
      const operations = (alarm.Properties.Metrics as { MetricStat?: { Metric: { Dimensions: { Name: string; Value: unknown }[] } } }[])
        .flatMap((m) => m.MetricStat?.Metric.Dimensions.filter((d) => d.Name === 'Operation').map((d) => d.Value) ?? [])
        .sort();
      expect(operations).toEqual(['BatchGetItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'TransactWriteItems', 'UpdateItem']);
    }
  });

  const deadLetterAlarm = (queueId: string) =>
    expect.objectContaining({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }) as unknown;
  const alarmsOnQueue = (queueId: string) =>
    ofType('AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties)
      .filter((a) => JSON.stringify(a.Dimensions ?? []).includes(`"${queueId}"`));

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
    expect(alarmsOnQueue(id(s.stack.eventFeed.deadLetterQueue))).toEqual([deadLetterAlarm(id(s.stack.eventFeed.deadLetterQueue))]);
  });

  test('any message in the incidents dead-letter queue alarms (maximum over 5 minutes): an incident step, timer or delivery given up on, to redrive once fixed', () => {
    const { queue, deadLetterQueue } = s.stack.incidentQueues;
    const alarms = alarmsOnQueue(id(deadLetterQueue));
    expect(alarms).toEqual([deadLetterAlarm(id(deadLetterQueue))]);
    expect(alarms[0]!.AlarmDescription).toMatch(/^Tiebreak: the incidents function gave up on a message[\s\S]*redrive/);
    expect(alarmsOnQueue(id(queue))).toEqual([]);
  });

  test('any message in the webhook dead-letter queue alarms (maximum over 5 minutes): a webhook whose tries ran out, or one the webhook functions kept failing', () => {
    const { outbox, deliveries, deadLetterQueue } = s.stack.webhookQueues;
    const alarms = alarmsOnQueue(id(deadLetterQueue));
    expect(alarms).toEqual([deadLetterAlarm(id(deadLetterQueue))]);
    expect(alarms[0]!.AlarmDescription).toMatch(/^Tiebreak: a webhook was given up on[\s\S]*webhook dead-letter queue/);
    // The queue alarms are on the three dead-letter queues only.
    expect(alarmsOnQueue(id(outbox))).toEqual([]);
    expect(alarmsOnQueue(id(deliveries))).toEqual([]);
    expect(ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.Namespace === 'AWS/SQS')).toHaveLength(3);
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
    for (const metric of [
      'Count',
      '5xx',
      'Latency',
      'Invocations',
      'Errors',
      'Throttles',
      'Duration',
      'ConcurrentExecutions',
      'ConsumedWriteCapacityUnits',
      'SuccessfulRequestLatency',
      'ThrottledRequests',
      'SystemErrors',
      'IteratorAge',
      'ApproximateNumberOfMessagesVisible',
    ]) {
      expect(body, metric).toContain(`\\"${metric}\\"`);
    }
    for (const name of names) {
      expect(body, name).toContain(`{"Ref":"${id(s.stack.functions[name].function)}"}`);
      expect(body, name).toContain(`\\"label\\":\\"${name} errors\\"`);
    }
    expect(body).toContain('\\"TransactWriteItems\\"');
    expect(body).toContain('\\"label\\":\\"publisher iterator age\\"');
    expect(body).toContain('\\"label\\":\\"publisher dead letters\\"');
    // Every alarm is on its alarm widget, the incidents dead letters' included.
    for (const [alarmId] of ofType('AWS::CloudWatch::Alarm')) expect(body, alarmId).toContain(`{"Fn::GetAtt":["${alarmId}","Arn"]}`);
  });
});

test('the outputs name the API URL, table, key secrets, topics, the event, incident and webhook dead-letter queues and dashboard', () => {
  const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
  expect(Object.keys(outputs).sort()).toEqual([
    'AdminKeySecretArn',
    'AlarmTopicArn',
    'ApiUrl',
    'DashboardName',
    'EventDeadLetterQueueUrl',
    'EventTopicArn',
    'IncidentDeadLetterQueueUrl',
    'TableName',
    'TokenKeySecretArn',
    'WebhookDeadLetterQueueUrl',
  ]);
  expect(outputs.EventDeadLetterQueueUrl!.Value).toEqual({ Ref: id(s.stack.eventFeed.deadLetterQueue) });
  expect(outputs.EventDeadLetterQueueUrl!.Description).toMatch(/event publisher[\s\S]*replay/);
  expect(outputs.IncidentDeadLetterQueueUrl!.Value).toEqual({ Ref: id(s.stack.incidentQueues.deadLetterQueue) });
  expect(outputs.IncidentDeadLetterQueueUrl!.Description).toMatch(/incidents function gave up[\s\S]*Alarmed[\s\S]*redrive/);
  expect(outputs.WebhookDeadLetterQueueUrl!.Value).toEqual({ Ref: id(s.stack.webhookQueues.deadLetterQueue) });
  expect(outputs.WebhookDeadLetterQueueUrl!.Description).toMatch(/tries ran out[\s\S]*replay[\s\S]*Alarmed/);
  expect(outputs.TableName!.Value).toEqual({ Ref: id(s.stack.table.table) });
  expect(outputs.TokenKeySecretArn!.Value).toEqual({ Ref: id(s.stack.tokenKey.secret) });
  expect(outputs.AdminKeySecretArn!.Value).toEqual({ Ref: id(s.stack.adminKey.secret) });
  expect(outputs.AdminKeySecretArn!.Description).toContain(
    'aws secretsmanager get-secret-value --secret-id <this ARN> --query SecretString --output text',
  );
  expect(outputs.ApiUrl!.Description).toContain('reseller API');
  expect(outputs.EventTopicArn!.Value).toEqual({ Ref: id(s.stack.topics.events) });
  expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain(id(s.stack.api.api));
});

describe('cdk-nag', () => {
  /** How cdk-nag names a resource ARN built of the partition, region and account. */
  const channelPattern = (service: 'sqs' | 'sns', name: string) => `arn:<AWS::Partition>:${service}:<AWS::Region>:<AWS::AccountId>:${name}`;

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
      // The resellers' channels, on the api's and the incidents function's policies, and their service queues on the webhook router's.
      ...Array<string>(2).fill(`AwsSolutions-IAM5[Resource::${channelPattern('sns', 'tiebreak-alerts-*')}] AWS::IAM::Policy`),
      ...Array<string>(3).fill(`AwsSolutions-IAM5[Resource::${channelPattern('sqs', 'tiebreak-svc-*')}] AWS::IAM::Policy`),
      'AwsSolutions-SMG4 AWS::SecretsManager::Secret',
      'AwsSolutions-SMG4 AWS::SecretsManager::Secret',
      // The three dead-letter queues: the table stream's, the incidents queue's and the webhook queues'.
      ...Array<string>(3).fill('AwsSolutions-SQS3 AWS::SQS::Queue'),
    ]);
    for (const a of acknowledged) expect(a.reason.length, a.id).toBeGreaterThan(80);
  });

  test('each route’s missing authorizer is acknowledged with the reason of its function’s authentication', () => {
    for (const name of names) {
      const spec: FunctionSpec = functionSpecs[name];
      if (spec.routes === undefined) continue;
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
    expect(functionSpecs.console.authorization).toBe('public');
    expect(functionSpecs.maintenance.authorization).toBe('node-token');
    for (const name of ['publisher', 'detector', 'incidents', 'webhookRouter', 'webhookDeliverer'] as const) {
      expect(functionSpecs[name], name).not.toHaveProperty('authorization');
      expect(functionSpecs[name], name).not.toHaveProperty('routes');
    }
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

  test('the resellers’ channel prefixes are acknowledged on the policies of the functions granted them only (the webhook router: service queues), and the missing DLQ on the incidents and webhook dead-letter queues only', () => {
    const rulesOf = (resourceId: string) =>
      (resources[resourceId]!.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] } | undefined)?.rules_to_suppress;
    const serviceQueueRule = `AwsSolutions-IAM5[Resource::${channelPattern('sqs', 'tiebreak-svc-*')}]`;
    const alertTopicRule = `AwsSolutions-IAM5[Resource::${channelPattern('sns', 'tiebreak-alerts-*')}]`;
    const expected: Partial<Record<FunctionName, string[]>> = {
      channels: [serviceQueueRule, alertTopicRule],
      incidents: [serviceQueueRule, alertTopicRule],
      webhookRouter: [serviceQueueRule],
    };
    for (const name of names) {
      const policy = s.stack.functions[name].role.node.tryFindChild('DefaultPolicy');
      const rules = policy ? (rulesOf(id(policy)) ?? []) : [];
      const channels = rules.filter((rule) => rule.id === serviceQueueRule || rule.id === alertTopicRule);
      expect(
        channels.map((rule) => rule.id),
        name,
      ).toEqual(expected[name] ?? []);
      for (const rule of channels) expect(rule.reason, name).toMatch(/created per reseller at run time[\s\S]*name prefix/);
    }
    const { deadLetterQueue, queue } = s.stack.incidentQueues;
    expect(rulesOf(id(deadLetterQueue))?.map((r) => r.id)).toEqual(['AwsSolutions-SQS3']);
    expect(rulesOf(id(deadLetterQueue))![0]!.reason).toMatch(/itself the dead-letter queue of the incidents queue/);
    const webhooks = s.stack.webhookQueues;
    expect(rulesOf(id(webhooks.deadLetterQueue))?.map((r) => r.id)).toEqual(['AwsSolutions-SQS3']);
    expect(rulesOf(id(webhooks.deadLetterQueue))![0]!.reason).toMatch(
      /itself the dead-letter queue of the webhook outbox and deliveries queues[\s\S]*alarmed/,
    );
    // The queues that feed functions have their dead-letter queues: nothing to acknowledge.
    for (const q of [queue, webhooks.outbox, webhooks.deliveries]) expect(rulesOf(id(q)), q.node.path).toBeUndefined();
  });

  test('the admin key’s rotation is acknowledged as a manual operator action', () => {
    const rules = (resources[id(s.stack.adminKey.secret)]!.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] })
      .rules_to_suppress;
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
