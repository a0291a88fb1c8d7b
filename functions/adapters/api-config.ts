import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import '../../protocol/zod-locale.ts';
import type { RateLimit } from '../domain/rate-limit.ts';
import type { WitnessSettings } from '../domain/settings.ts';
import { loadWitnessConfig, type WitnessConfig } from './config.ts';
import { documentClient, dynamoClient } from './dynamo-clients.ts';
import { addressPolicyPiece, type Env, httpHooksPiece, optionalChannelPrefixPiece, optionalUrlPiece, readEnv } from './env-settings.ts';
import { loadOnce } from './load-once.ts';
import { AuditTrail } from './audit-trail.ts';
import { DynamoSiteStore } from './dynamodb-site-store.ts';
import { sha256 } from './credentials.ts';
import type { EscalationStore } from './escalation-store.ts';
import { IncidentStore } from './incident-store.ts';
import type { IntegrationStore } from './integration-store.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { ResellerChannels } from './reseller-channels.ts';
import { ResellerStore } from './reseller-store.ts';
import { defaultRetention } from './retention.ts';
import { SiteAdminStore } from './site-admin-store.ts';
import type { SiteStore } from './site-store.ts';
import type { SecretReader } from './token-key.ts';
import type { AddressPolicy } from './address-policy.ts';
import type { DeliveryJobs } from './webhook-jobs.ts';
import type { WebhookDeliveryLog } from './webhook-delivery-log.ts';
import type { WebhookEndpointStore } from './webhook-endpoint-store.ts';
import type { WebhookMessageStore } from './webhook-message-store.ts';

/**
 * What the reseller API needs, all routes together (the local stack's shared deps). Each function
 * builds only what its routes use (`ApiFunctionDeps`): the api function here, the others in
 * channels-config.ts, webhook-api-config.ts and report-config.ts.
 */
export interface ApiDeps {
  resellers: ResellerStore;
  sites: SiteAdminStore;
  /**
   * The sites' state items as the witness writes them: an operator's decision on who leads
   * (survivor mode: force-primary, readmit) is one conditional write through the witness's own
   * store, the plan compiled by the same compiler as a heartbeat's (W3).
   */
  siteStates: SiteStore;
  /** The witness's timings (the same TIEBREAK_* variables as the node functions): the operator's decisions need them. */
  settings: WitnessSettings;
  trail: AuditTrail;
  escalation: EscalationStore;
  incidents: IncidentStore;
  integrations: IntegrationStore;
  /** Where the API is reached (`TIEBREAK_PUBLIC_URL`): integrations' hook URLs start with it; unset, with the request's host. */
  publicUrl?: string | undefined;
  /** Inbound hooks' bearer tokens accepted over plain HTTP (`TIEBREAK_HOOKS_ALLOW_HTTP=true`): the local runtime only; unset, HTTPS only. */
  allowHttpHooks?: boolean | undefined;
  /** Each reseller's service queue and alerts topic: made with the reseller, subscribed to by its policies. */
  channels: ResellerChannels;
  /** Signs the node tokens handed out at enrollment; the one-click links' key is derived from it. */
  tokenKey: Buffer;
  /** SHA-256 of the operator's admin key. */
  adminKeyHash: Buffer;
  limiter: RateLimiter;
  /** Outbound webhooks: the endpoints, their messages and their delivery log. */
  webhookEndpoints: WebhookEndpointStore;
  webhookMessages: WebhookMessageStore;
  deliveryLog: WebhookDeliveryLog;
  /** Where a replay's or an endpoint test's first try is scheduled (the webhook deliveries queue); unset, both are refused as unavailable. */
  webhookJobs: Pick<DeliveryJobs, 'schedule'> | undefined;
  /** Which addresses a webhook endpoint may point at (checked at registration, and again at each delivery). */
  addressPolicy: AddressPolicy;
  now: () => number;
}

/** What the middlewares of every function use: the API keys' store, the admin key's hash, the rate limiter and the clock. */
export type ApiBaseDeps = Pick<ApiDeps, 'resellers' | 'adminKeyHash' | 'limiter' | 'now'>;

export type ApiDepsSource<D extends ApiBaseDeps = ApiBaseDeps> = () => D | Promise<D>;

/** Per API key (or enrollment caller): 10 requests a second, 40 at once. A reseller's tools page through lists; nothing needs more. */
export const apiRateLimit: RateLimit = { perSecond: 10, burst: 40 };

const minAdminKeyLength = 32;

export const defaultChannelPrefix = 'tiebreak';

/** The reseller API's settings: the witness's, the admin key, and where the resellers' channels and the webhook deliveries queue live. */
export interface ApiConfig extends WitnessConfig {
  adminKey: string;
  /** Names each reseller's queues and topic (`<prefix>-svc-<reseller>`, …); the stack grants exactly those. */
  channelPrefix: string;
  /** The webhook deliveries queue (replays' and endpoint tests' first tries are sent there); unset, both are refused as unavailable. */
  webhookDeliveriesUrl?: string | undefined;
  /** Which addresses a webhook endpoint may point at. */
  addressPolicy: AddressPolicy;
  /** Where the API is reached (`TIEBREAK_PUBLIC_URL`); unset, the request's host. */
  publicUrl?: string | undefined;
  /** Inbound hooks' bearer tokens accepted over plain HTTP (`TIEBREAK_HOOKS_ALLOW_HTTP=true`): the local runtime only. */
  allowHttpHooks?: boolean | undefined;
}

/** What an api function's assembly is given: its settings, the clients (made for `endpoints` unless given), the limit and the clock. */
export type ApiDepsOptions = ApiConfig & {
  dynamo: DynamoDBClient;
  /** Per API key; default `apiRateLimit`. */
  rateLimit?: RateLimit;
  now?: () => number;
};

/** The part of every api function's deps the middlewares use (authentication, rate limits, the clock). */
export function apiBaseDeps(options: ApiDepsOptions): ApiBaseDeps {
  const { adminKey, tableName } = options;
  if (adminKey.length < minAdminKeyLength) throw new Error(`the admin key must be at least ${minAdminKeyLength} characters`);
  return {
    resellers: new ResellerStore(documentClient(options.dynamo), tableName),
    adminKeyHash: sha256(adminKey),
    limiter: new RateLimiter(options.rateLimit ?? apiRateLimit),
    now: options.now ?? (() => Date.now()),
  };
}

/** The api function's own deps (protocol/api-routes.ts apiFunctionRoutes.api): the table's stores and the token key, no queue or topic. */
export type AccountDeps = Pick<ApiDeps, 'sites' | 'siteStates' | 'settings' | 'trail' | 'incidents' | 'tokenKey'>;

export function accountDeps(options: ApiDepsOptions): AccountDeps {
  const doc = documentClient(options.dynamo);
  const { tableName } = options;
  return {
    sites: new SiteAdminStore(doc, tableName),
    siteStates: new DynamoSiteStore(doc, tableName),
    settings: options.settings,
    trail: new AuditTrail(doc, tableName, (options.retention ?? defaultRetention).auditTrailDays),
    incidents: new IncidentStore(doc, tableName),
    tokenKey: options.tokenKey,
  };
}

/** The api function's assembly, the one its Lambda (from the environment) and the local stack (from its settings) both use. */
export function apiFunctionDeps(options: ApiDepsOptions): ApiBaseDeps & AccountDeps {
  return { ...apiBaseDeps(options), ...accountDeps(options) };
}

/** The admin key: `TIEBREAK_ADMIN_KEY` itself (local), or the secret `TIEBREAK_ADMIN_KEY_SECRET_ARN` names (Lambda). */
export async function loadAdminKey(env: Env = process.env, read: SecretReader = (id) => getSecret(id)): Promise<string> {
  if (env.TIEBREAK_ADMIN_KEY) return env.TIEBREAK_ADMIN_KEY;
  const secretId = env.TIEBREAK_ADMIN_KEY_SECRET_ARN;
  if (!secretId) throw new Error('reseller API configuration: set TIEBREAK_ADMIN_KEY or TIEBREAK_ADMIN_KEY_SECRET_ARN');
  const value = await read(secretId);
  if (typeof value !== 'string') throw new Error(`admin key secret ${secretId}: expected a string value`);
  return value;
}

/** The API's own variables, beside the witness's (`TIEBREAK_CHANNEL_PREFIX` default `tiebreak`). */
export function apiChannelsFromEnv(env: Env = process.env): Omit<ApiConfig, keyof WitnessConfig | 'adminKey'> {
  return readEnv('reseller API', env, {
    channelPrefix: optionalChannelPrefixPiece(defaultChannelPrefix),
    webhookDeliveriesUrl: optionalUrlPiece('TIEBREAK_WEBHOOK_DELIVERIES_URL'),
    addressPolicy: addressPolicyPiece,
    publicUrl: optionalUrlPiece('TIEBREAK_PUBLIC_URL'),
    allowHttpHooks: httpHooksPiece,
  });
}

/** The whole of the API's settings, the keys read from their secrets where the environment names secrets. */
export async function loadApiConfig(env: Env = process.env): Promise<ApiConfig> {
  const channels = apiChannelsFromEnv(env);
  const [config, adminKey] = await Promise.all([loadWitnessConfig(env), loadAdminKey(env)]);
  return { ...config, ...channels, adminKey };
}

/** Builds a function's deps once per cold start from the environment, with `assemble` its own assembly. */
export function apiDepsFromEnv<D extends ApiBaseDeps>(assemble: (options: ApiDepsOptions) => D): () => Promise<D> {
  return loadOnce(async () => {
    const config = await loadApiConfig();
    return assemble({ ...config, dynamo: dynamoClient(config.endpoints ?? {}) });
  });
}
