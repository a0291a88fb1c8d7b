import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import type { WitnessSettings } from '../functions/domain/settings.ts';
import { parseSettingsEnv, settingsEnvNames } from '../functions/adapters/settings-env.ts';
import { parseRetentionEnv, retentionEnvNames, type RetentionSettings } from '../functions/adapters/retention.ts';

/** Everything a deployment may choose, read from CDK context (`-c name=value` or cdk.json). */
export interface DeploySettings {
  stackName: string;
  /** The witness's timings: they become the functions' TIEBREAK_* variables. */
  witness: WitnessSettings;
  /** How long audit events and the webhook delivery log are kept: the functions' TIEBREAK_*_RETENTION_DAYS. */
  retention: RetentionSettings;
  /** How long function and API access logs are kept. */
  logRetention: RetentionDays;
  /** Who hears of alarms by e-mail (confirmed by a link AWS sends); none by default. */
  alarmEmail: string | undefined;
  /** API Gateway's throttle for all routes together: steady requests per second, and the burst above it. */
  apiRateLimitPerSecond: number;
  apiBurstLimit: number;
}

export const deployDefaults = {
  stackName: 'Tiebreak',
  logRetentionDays: 30,
  // A site sends 2 requests a minute when healthy and 0.4 per second when its peer link is down,
  // so 1,000 per second covers thousands of sites mid-failover; it caps what a runaway client
  // or a flood costs, far below the account's default of 10,000.
  apiRateLimitPerSecond: 1_000,
  apiBurstLimit: 2_000,
} as const;

/** The retention's context keys, by the settings they give. */
const retentionContext = { auditRetentionDays: 'auditTrailDays', deliveryLogRetentionDays: 'deliveryLogDays' } as const satisfies Record<
  string,
  keyof RetentionSettings
>;

const retentionKeys = Object.keys(retentionContext) as (keyof typeof retentionContext)[];

/** Context keys: the witness timings under their WitnessSettings names, then the deployment's own. */
export const contextKeys = [
  ...(Object.keys(settingsEnvNames) as (keyof WitnessSettings)[]),
  // `auditRetentionDays`, `deliveryLogRetentionDays`.
  ...retentionKeys,
  'stackName',
  'logRetentionDays',
  'alarmEmail',
  'apiRateLimitPerSecond',
  'apiBurstLimit',
] as const;

const retentionDays = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number');
const retentionByDays = new Map<number, RetentionDays>(retentionDays.map((days) => [days, days]));

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Reads and checks the deployment's settings. Every problem is reported at once, by its context
 * name, before anything is synthesized; an unknown plain key (a typo such as `leaseMS`) is one.
 */
export function deploySettingsFromContext(node: Node): DeploySettings {
  const problems: string[] = [];
  const get = (key: (typeof contextKeys)[number]) => text(node.tryGetContext(key));

  const known = new Set<string>(contextKeys);
  // CDK's own keys carry a prefix (`@aws-cdk/…`, `aws:cdk:…`) or a colon (lookups); ours are plain words.
  for (const key of Object.keys(node.getAllContext() as object)) {
    if (/^[A-Za-z][A-Za-z0-9]*$/.test(key) && !known.has(key)) {
      problems.push(`${key}: not a setting of this app (known: ${contextKeys.join(', ')})`);
    }
  }

  const witnessKeys = Object.keys(settingsEnvNames) as (keyof WitnessSettings)[];
  const parsed = parseSettingsEnv(Object.fromEntries(witnessKeys.map((key) => [settingsEnvNames[key], get(key)])));
  if (!parsed.ok) {
    const contextName = (envName: string) => witnessKeys.find((key) => settingsEnvNames[key] === envName) ?? envName;
    problems.push(...parsed.problems.map((p) => `${contextName(p.name)}: ${p.message}`));
  }

  const retention = parseRetentionEnv(Object.fromEntries(retentionKeys.map((key) => [retentionEnvNames[retentionContext[key]], get(key)])));
  if (!retention.ok) {
    const contextName = (envName: string) => retentionKeys.find((key) => retentionEnvNames[retentionContext[key]] === envName) ?? envName;
    problems.push(...retention.problems.map((p) => `${contextName(p.name)}: ${p.message}`));
  }

  const integer = (key: 'logRetentionDays' | 'apiRateLimitPerSecond' | 'apiBurstLimit', fallback: number, min: number, max: number) => {
    const raw = get(key);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      problems.push(`${key}: must be a whole number from ${min} to ${max}, not ${raw}`);
    return value;
  };
  const logRetentionDays = integer('logRetentionDays', deployDefaults.logRetentionDays, 1, 3653);
  const logRetention = retentionByDays.get(logRetentionDays);
  if (Number.isInteger(logRetentionDays) && logRetention === undefined) {
    problems.push(
      `logRetentionDays: CloudWatch keeps logs for one of ${[...retentionDays].sort((a, b) => a - b).join(', ')} days, not ${logRetentionDays}`,
    );
  }
  const apiRateLimitPerSecond = integer('apiRateLimitPerSecond', deployDefaults.apiRateLimitPerSecond, 1, 10_000);
  const apiBurstLimit = integer('apiBurstLimit', deployDefaults.apiBurstLimit, 1, 5_000);

  const alarmEmail = get('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail))
    problems.push(`alarmEmail: not an e-mail address: ${alarmEmail}`);

  const stackName = get('stackName') ?? deployDefaults.stackName;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName))
    problems.push(`stackName: letters, digits and hyphens, starting with a letter, not ${stackName}`);

  if (problems.length > 0 || !parsed.ok || !retention.ok || logRetention === undefined)
    throw new Error(`Tiebreak deployment settings are invalid:\n  ${problems.join('\n  ')}`);
  return {
    stackName,
    witness: parsed.settings,
    retention: retention.retention,
    logRetention,
    alarmEmail,
    apiRateLimitPerSecond,
    apiBurstLimit,
  };
}
