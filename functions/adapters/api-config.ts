import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import type { RateLimit } from '../domain/rate-limit.ts';
import type { WitnessSettings } from '../domain/settings.ts';
import { documentClient, loadOnce, loadWitnessConfig, localDynamoClientConfig, type WitnessConfig } from './config.ts';
import { AuditTrail } from './audit-trail.ts';
import { DynamoSiteStore } from './dynamodb-site-store.ts';
import { sha256 } from './credentials.ts';
import { EscalationStore } from './escalation-store.ts';
import { IncidentStore } from './incident-store.ts';
import { messagingClients } from './messaging-clients.ts';
import { IntegrationStore } from './integration-store.ts';
import { RateLimiter } from './rate-limiter.ts';
import { ResellerChannels } from './reseller-channels.ts';
import { ResellerStore } from './reseller-store.ts';
import { defaultRetention } from './retention.ts';
import { SiteAdminStore } from './site-admin-store.ts';
import type { SiteStore } from './site-store.ts';
import type { SecretReader } from './token-key.ts';
import { type AddressPolicy, addressPolicyFromEnv } from './address-policy.ts';
import { DeliveryJobs } from './webhook-jobs.ts';
import { WebhookDeliveryLog } from './webhook-delivery-log.ts';
import { WebhookEndpointStore } from './webhook-endpoint-store.ts';
import { WebhookMessageStore } from './webhook-message-store.ts';

/** What the reseller API needs, built once per cold start. */
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

export type ApiDepsSource = () => ApiDeps | Promise<ApiDeps>;

/** Per API key (or enrollment caller): 10 requests a second, 40 at once. A reseller's tools page through lists; nothing needs more. */
export const apiRateLimit: RateLimit = { perSecond: 10, burst: 40 };

const minAdminKeyLength = 32;

/** Where the resellers' channels live: a local SNS/SQS engine (fauxqs) or, without an endpoint, AWS. */
export interface ChannelWiring {
  snsSqsEndpoint?: string | undefined;
  /** Names each reseller's queues and topic (`<prefix>-svc-<reseller>`, …); the stack grants exactly those. */
  channelPrefix?: string | undefined;
  /** The webhook deliveries queue (replays' and endpoint tests' first tries are sent there). */
  webhookDeliveriesUrl?: string | undefined;
  /** Webhook endpoints may be loopback addresses (the local runtime's receivers). */
  allowLoopbackWebhooks?: boolean | undefined;
}

export const defaultChannelPrefix = 'tiebreak';

export function apiDeps(
  config: WitnessConfig,
  adminKey: string,
  client?: DynamoDBClient,
  limit: RateLimit = apiRateLimit,
  channels: ChannelWiring = {},
): ApiDeps {
  if (adminKey.length < minAdminKeyLength) throw new Error(`the admin key must be at least ${minAdminKeyLength} characters`);
  const dynamo = client ?? new DynamoDBClient(config.dynamoEndpoint ? localDynamoClientConfig(config.dynamoEndpoint) : {});
  const doc = documentClient(dynamo);
  const local = channels.snsSqsEndpoint;
  const { sqs, sns } = messagingClients(local);
  return {
    resellers: new ResellerStore(doc, config.tableName),
    sites: new SiteAdminStore(doc, config.tableName),
    siteStates: new DynamoSiteStore(doc, config.tableName),
    settings: config.settings,
    trail: new AuditTrail(doc, config.tableName, (config.retention ?? defaultRetention).auditTrailDays),
    escalation: new EscalationStore(doc, config.tableName),
    incidents: new IncidentStore(doc, config.tableName),
    integrations: new IntegrationStore(doc, config.tableName),
    channels: new ResellerChannels(
      sqs,
      sns,
      channels.channelPrefix ?? defaultChannelPrefix,
    ),
    tokenKey: config.tokenKey,
    adminKeyHash: sha256(adminKey),
    limiter: new RateLimiter(limit),
    webhookEndpoints: new WebhookEndpointStore(doc, config.tableName),
    webhookMessages: new WebhookMessageStore(doc, config.tableName, (config.retention ?? defaultRetention).deliveryLogDays),
    deliveryLog: new WebhookDeliveryLog(doc, config.tableName),
    webhookJobs: channels.webhookDeliveriesUrl ? new DeliveryJobs(sqs, channels.webhookDeliveriesUrl) : undefined,
    addressPolicy: { allowLoopback: channels.allowLoopbackWebhooks ?? false },
    now: () => Date.now(),
  };
}

/** The admin key: `TIEBREAK_ADMIN_KEY` itself (local), or the secret `TIEBREAK_ADMIN_KEY_SECRET_ARN` names (Lambda). */
export async function loadAdminKey(env: NodeJS.ProcessEnv = process.env, read: SecretReader = (id) => getSecret(id)): Promise<string> {
  if (env.TIEBREAK_ADMIN_KEY) return env.TIEBREAK_ADMIN_KEY;
  const secretId = env.TIEBREAK_ADMIN_KEY_SECRET_ARN;
  if (!secretId) throw new Error('reseller API configuration: set TIEBREAK_ADMIN_KEY or TIEBREAK_ADMIN_KEY_SECRET_ARN');
  const value = await read(secretId);
  if (typeof value !== 'string') throw new Error(`admin key secret ${secretId}: expected a string value`);
  return value;
}

const ChannelEnv = z.object({
  TIEBREAK_SNS_ENDPOINT: z.optional(z.url()),
  TIEBREAK_WEBHOOK_DELIVERIES_URL: z.optional(z.url()),
  TIEBREAK_CHANNEL_PREFIX: z.optional(z.string().check(z.regex(/^[A-Za-z0-9-]{1,20}$/))),
});

/** The channels as the environment says: `TIEBREAK_SNS_ENDPOINT` (local engine), `TIEBREAK_CHANNEL_PREFIX` (default `tiebreak`). */
export function channelWiringFromEnv(env: NodeJS.ProcessEnv = process.env): ChannelWiring {
  const parsed = ChannelEnv.safeParse(env);
  if (!parsed.success) throw new Error('reseller API configuration: TIEBREAK_SNS_ENDPOINT must be a URL, TIEBREAK_CHANNEL_PREFIX 1-20 letters, digits or dashes');
  return {
    snsSqsEndpoint: parsed.data.TIEBREAK_SNS_ENDPOINT,
    channelPrefix: parsed.data.TIEBREAK_CHANNEL_PREFIX,
    webhookDeliveriesUrl: parsed.data.TIEBREAK_WEBHOOK_DELIVERIES_URL,
    allowLoopbackWebhooks: addressPolicyFromEnv(env).allowLoopback,
  };
}

export const apiDepsFromEnv: () => Promise<ApiDeps> = loadOnce(async () => {
  const [config, adminKey] = await Promise.all([loadWitnessConfig(), loadAdminKey()]);
  return { ...apiDeps(config, adminKey, undefined, apiRateLimit, channelWiringFromEnv()), publicUrl: process.env.TIEBREAK_PUBLIC_URL };
});
