import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, type HttpStage, LogGroupLogDestination, PayloadFormatVersion } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** A route as API Gateway names it (and the local runtime too: local/witness-routes.ts). */
export type RouteKey = `${'GET' | 'POST' | 'PUT' | 'DELETE'} /${string}`;

export interface NodeApiProps {
  rateLimitPerSecond: number;
  burstLimit: number;
  logRetention: RetentionDays;
}

/** What each access log line holds: enough to trace a request to its function's log, and no header (tokens stay out). */
const accessLogFields = {
  requestId: '$context.requestId',
  time: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};

/**
 * The node protocol's front door: an API Gateway HTTP API whose routes invoke the witness's
 * functions with payload v2, the event the handlers (and the local runtime) speak.
 *
 * Why not Lambda function URLs, which cost nothing beyond Lambda (API Gateway: $1.00 a million
 * requests, about half of a quiet site's $0.18 a month; shared/reference/aws-prices.md)? A function
 * URL is one host per function, without routing, throttling or access logs: the agent would need
 * a URL per endpoint, and a flood would reach Lambda and DynamoDB unchecked. Revisit when the
 * price of a site matters more than that (one routing function behind one URL, say).
 *
 * Authorization is the node token, verified by the function itself (no read; DESIGN.md), so the
 * routes carry no API Gateway authorizer.
 */
export class NodeApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: NodeApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      description: 'Tiebreak node protocol (v1)',
      createDefaultStage: false,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimitPerSecond, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
      },
    });
  }

  /** The base URL agents are given (`witness.url`); routes hang below it. */
  get url(): string {
    return this.stage.url;
  }

  addRoute(routeKey: RouteKey, target: IFunction): void {
    const [method, path] = routeKey.split(' ') as [keyof typeof HttpMethod, string];
    const routes = this.api.addRoutes({
      path,
      methods: [HttpMethod[method]],
      integration: new HttpLambdaIntegration('Integration', target, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });
    for (const route of routes) {
      // On the route resource itself, not its integration and permission below it.
      Validations.of(route.node.defaultChild ?? route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Nodes authenticate with a signed node token (Authorization: Bearer) that the function verifies in memory, ' +
          'without a read (DESIGN.md, "Authentication without a read"); an API Gateway authorizer would add a Lambda ' +
          'invocation or a JWT issuer to every heartbeat for no added safety.',
      });
    }
  }
}
