import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundling, functionEntries, type FunctionName, packagedFiles } from './bundling.ts';

const projectRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const outputFormats = { esm: OutputFormat.ESM, cjs: OutputFormat.CJS } as const;

// The bundles measured must be the bundles deployed: an option added to lib/bundling.ts that is not
// passed on below stops the synthesis rather than being dropped. (NodejsFunction always builds for
// `platform: 'node'`, which is what lib/bundling.ts says.)
const passedOn = new Set(['format', 'target', 'platform', 'minify', 'sourcemap', 'mainFields', 'banner', 'external']);
const dropped = Object.keys(bundling).filter((option) => !passedOn.has(option));
if (dropped.length > 0) {
  throw new Error(`lib/bundling.ts has options lib/witness-function.ts does not pass to NodejsFunction: ${dropped.join(', ')}`);
}

/** A word of a shell command, quoted for bash (CDK runs the hooks' commands in a shell). */
function quoted(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Powertools' service name for every witness function (the logger names it too: functions/adapters/logger.ts). */
export const serviceName = 'tiebreak-witness';

/**
 * 256 MB: Lambda gives CPU in proportion to memory, and a cold start (loading the bundle, the first
 * TLS handshakes to DynamoDB and Secrets Manager) is CPU-bound; the price is about $0.05 a million
 * 15 ms requests on arm64, beside API Gateway's $1.00.
 */
export const memorySizeMb = 256;

/**
 * The handlers answer in milliseconds (a cold start with the key read in well under a second), and
 * the agent gives up on a request after 3 s (agent/config.ts, `requestTimeoutMs`): work past that
 * serves nobody, and a timeout shows as a Lambda error, which is alarmed.
 */
export const timeoutSeconds = 3;

export interface WitnessFunctionProps {
  /** Which entry of lib/bundling.ts this is. */
  name: FunctionName;
  environment: Record<string, string>;
  logRetention: RetentionDays;
  /** Longer than `timeoutSeconds` for a function whose callers wait longer than an agent does. */
  timeoutSeconds?: number;
}

/**
 * One Lambda function of the witness, bundled as lib/bundling.ts describes (the same bundle the
 * bundle benchmark measures), with its own log group and its own role. The role starts with no
 * permission but writing to that log group; `allow` adds exactly what the function calls.
 *
 * Reserved concurrency is left unset on purpose: it would carve capacity out of the account's pool
 * (and fail to deploy on a new account, whose pool is small), while the API's throttle already
 * bounds the request rate.
 */
export class WitnessFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: WitnessFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Operational logs only: the witness's record of what it decided lives in the table.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role rather than AWSLambdaBasicExecutionRole, which may write to every log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Tiebreak ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    const files = packagedFiles[props.name];
    this.function = new NodejsFunction(this, 'Function', {
      description: `Tiebreak witness: ${props.name}`,
      entry: join(projectRoot, functionEntries[props.name]),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: memorySizeMb,
      timeout: Duration.seconds(props.timeoutSeconds ?? timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        // Exactly lib/bundling.ts; esbuild is a dev dependency, so this runs locally (no Docker, no network).
        format: outputFormats[bundling.format],
        target: bundling.target,
        minify: bundling.minify,
        sourceMap: bundling.sourcemap,
        mainFields: [...bundling.mainFields],
        banner: bundling.banner,
        externalModules: [...bundling.external],
        logLevel: LogLevel.WARNING,
        // Files the function serves, built into its package after the bundle, locally and offline
        // (the same Node and esbuild as the synthesis): lib/bundling.ts, packagedFiles.
        ...(files
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_inputDir: string, outputDir: string) => [
                  [process.execPath, join(projectRoot, files.script), '--out', join(outputDir, files.folder)].map(quoted).join(' '),
                ],
              },
            }
          : {}),
      },
    });
  }

  /** Grants the function one more permission (the stack says which, per function). */
  allow(statement: PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}
