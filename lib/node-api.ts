import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, type HttpStage, LogGroupLogDestination, PayloadFormatVersion } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * A route as API Gateway names it (and the local runtime too: local/witness-routes.ts), path
 * parameters in braces: `GET /v1/sites/{siteId}`.
 */
export type RouteKey = `${'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} /${string}`;

/**
 * Who may call a route, as the function behind it checks: none of the routes has an API Gateway
 * authorizer, and each says why (the cdk-nag acknowledgement of AwsSolutions-APIG4 on the route).
 */
export const routeAuthorizations = {
  'node-token':
    'Nodes authenticate with a signed node token (Authorization: Bearer) that the function verifies in memory, ' +
    'without a read (DESIGN.md, "Authentication without a read"); an API Gateway authorizer would add a Lambda ' +
    'invocation or a JWT issuer to every heartbeat for no added safety.',
  'api-key':
    "Reseller routes take a reseller's API key or the operator's admin key (Authorization: Bearer), which the function " +
    'checks against the stored hash, revocation and scope the route needs (protocol/api-routes.ts); POST /v1/node/enroll is ' +
    'public on purpose, its single-use, expiring enrollment code being the credential. An authorizer would add an ' +
    'invocation to every call and split the access rules between two places.',
  public:
    "GET /openapi.json is the public description of the API, and GET /console/… the reseller console's static files " +
    '(its page, script and stylesheet), both meant to be read without a credential: they hold no data, and their ' +
    "functions call no AWS service (the console calls the API with the user's own key).",
} as const;

export type RouteAuthorization = keyof typeof routeAuthorizations;

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
 * The witness's front door: an API Gateway HTTP API (the node protocol, the reseller API with node
 * enrollment, and the OpenAPI document, all at one URL) whose routes invoke the witness's
 * functions with payload v2, the event the handlers (and the local runtime) speak.
 *
 * Why not Lambda function URLs, which cost nothing beyond Lambda (API Gateway: $1.00 a million
 * requests, about half of a quiet site's $0.18 a month; shared/reference/aws-prices.md)? A function
 * URL is one host per function, without routing, throttling or access logs: the agent would need
 * a URL per endpoint, and a flood would reach Lambda and DynamoDB unchecked. Revisit when the
 * price of a site matters more than that (one routing function behind one URL, say).
 *
 * Authorization is the function's own (a node token verified without a read, DESIGN.md; a
 * reseller's API key or the admin key; nothing for the public routes), so the routes carry no API
 * Gateway authorizer: each route says which (`routeAuthorizations`).
 */
export class NodeApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** One integration per function, whatever its number of routes. */
  readonly #integrations = new Map<IFunction, HttpLambdaIntegration>();

  constructor(scope: Construct, id: string, props: NodeApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      description: 'Tiebreak node protocol and reseller API (v1)',
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

  /**
   * The route invokes `target`, which checks its callers as `authorization` says. API Gateway may
   * invoke the function from this route only: one Lambda permission a route, each about 0.4 KB of
   * the function's resource policy, which Lambda caps at 20 KB. Past about 45 routes on one
   * function, give its integration `scopePermissionToRoute: false` (one permission for the API).
   */
  addRoute(routeKey: RouteKey, target: IFunction, authorization: RouteAuthorization): void {
    const [method, path] = routeKey.split(' ') as [keyof typeof HttpMethod, string];
    let integration = this.#integrations.get(target);
    if (!integration) {
      integration = new HttpLambdaIntegration('Integration', target, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
      this.#integrations.set(target, integration);
    }
    const routes = this.api.addRoutes({ path, methods: [HttpMethod[method]], integration });
    for (const route of routes) {
      // On the route resource itself, not its integration and permission below it.
      Validations.of(route.node.defaultChild ?? route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: routeAuthorizations[authorization],
      });
    }
  }
}
