import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import { defaultIncidentSettings, type IncidentSettings } from '../domain/incidents.ts';
import { documentClient, localDynamoClientConfig } from './dynamo-clients.ts';
import { EscalationStore } from './escalation-store.ts';
import { IncidentStore } from './incident-store.ts';
import { IncidentTimers } from './incident-timers.ts';
import { loadOnce } from './load-once.ts';
import { messagingClients } from './messaging-clients.ts';
import { Notifier } from './notifier.ts';
import { ResellerChannels } from './reseller-channels.ts';
import { IncidentLinkSigner } from './incident-links.ts';
import { ResellerStore } from './reseller-store.ts';
import { TokenKey, tokenKeyFromSecret } from './token-key.ts';
import { SiteAdminStore } from './site-admin-store.ts';

/** One-click links for an incident step, or null where no public URL is configured. */
export interface IncidentLinks {
  linksFor(resellerId: string, siteId: string, incidentId: string, now: number): { acknowledge: string; resolve: string } | null;
}

export const noLinks: IncidentLinks = { linksFor: () => null };

/** What the incidents function needs: the table's stores, the queues and topics it sends to, the settle time. */
export interface IncidentDeps {
  incidents: IncidentStore;
  sites: SiteAdminStore;
  resellers: ResellerStore;
  escalation: EscalationStore;
  timers: IncidentTimers;
  notifier: Notifier;
  links: IncidentLinks;
  settings: IncidentSettings;
  now: () => number;
}

export interface IncidentWiring {
  tableName: string;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  sns: SNSClient;
  /** The incidents queue: its own timers are sent here. */
  incidentsQueueUrl: string;
  webhookOutboxUrl: string;
  channelPrefix: string;
  settings?: IncidentSettings;
  links?: IncidentLinks;
  now?: () => number;
}

export function incidentDeps(wiring: IncidentWiring): IncidentDeps {
  const doc = documentClient(wiring.dynamo);
  const channels = new ResellerChannels(wiring.sqs, wiring.sns, wiring.channelPrefix);
  return {
    incidents: new IncidentStore(doc, wiring.tableName),
    sites: new SiteAdminStore(doc, wiring.tableName),
    resellers: new ResellerStore(doc, wiring.tableName),
    escalation: new EscalationStore(doc, wiring.tableName),
    timers: new IncidentTimers(wiring.sqs, wiring.incidentsQueueUrl),
    notifier: new Notifier(wiring.sqs, wiring.sns, channels, wiring.webhookOutboxUrl),
    links: wiring.links ?? noLinks,
    settings: wiring.settings ?? defaultIncidentSettings,
    now: wiring.now ?? (() => Date.now()),
  };
}

const Env = z.object({
  TIEBREAK_TABLE: z.string().check(z.minLength(3)),
  TIEBREAK_INCIDENTS_QUEUE_URL: z.url(),
  TIEBREAK_WEBHOOK_OUTBOX_URL: z.url(),
  TIEBREAK_CHANNEL_PREFIX: z.string().check(z.regex(/^[A-Za-z0-9-]{1,20}$/)),
  TIEBREAK_DYNAMODB_ENDPOINT: z.optional(z.url()),
  TIEBREAK_SNS_ENDPOINT: z.optional(z.url()),
});

/** The settle time from `TIEBREAK_SETTLE_MS` (default 2 minutes). */
export function incidentSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): IncidentSettings {
  const parsed = z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(24 * 3_600_000))).safeParse(env.TIEBREAK_SETTLE_MS);
  if (!parsed.success) throw new Error('TIEBREAK_SETTLE_MS must be a whole number of ms, at most a day');
  return { settleMs: parsed.data ?? defaultIncidentSettings.settleMs };
}

export function incidentWiringFromEnv(env: NodeJS.ProcessEnv = process.env): IncidentWiring {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`incidents configuration is invalid: ${fields}`);
  }
  const e = parsed.data;
  return {
    tableName: e.TIEBREAK_TABLE,
    dynamo: new DynamoDBClient(e.TIEBREAK_DYNAMODB_ENDPOINT ? localDynamoClientConfig(e.TIEBREAK_DYNAMODB_ENDPOINT) : {}),
    ...messagingClients(e.TIEBREAK_SNS_ENDPOINT),
    incidentsQueueUrl: e.TIEBREAK_INCIDENTS_QUEUE_URL,
    webhookOutboxUrl: e.TIEBREAK_WEBHOOK_OUTBOX_URL,
    channelPrefix: e.TIEBREAK_CHANNEL_PREFIX,
    settings: incidentSettingsFromEnv(env),
  };
}

/** The link signer, where a public URL is set: it signs with a key derived from the token key (its secret, in Lambda). */
async function linksFromEnv(env: NodeJS.ProcessEnv): Promise<IncidentLinks> {
  const publicUrl = env.TIEBREAK_PUBLIC_URL;
  if (!publicUrl) return noLinks;
  const inline = env.TIEBREAK_TOKEN_KEY === undefined ? undefined : TokenKey.safeParse(env.TIEBREAK_TOKEN_KEY);
  if (inline && !inline.success) throw new Error('TIEBREAK_TOKEN_KEY must be base64 of at least 32 bytes');
  const secretId = env.TIEBREAK_TOKEN_KEY_SECRET_ARN;
  const key = inline?.data ?? (secretId ? await tokenKeyFromSecret(secretId) : undefined);
  if (!key) throw new Error('TIEBREAK_PUBLIC_URL is set: the links need TIEBREAK_TOKEN_KEY or TIEBREAK_TOKEN_KEY_SECRET_ARN');
  return new IncidentLinkSigner(key, publicUrl);
}

export const incidentDepsFromEnv: () => Promise<IncidentDeps> = loadOnce(async () =>
  incidentDeps({ ...incidentWiringFromEnv(), links: await linksFromEnv(process.env) }),
);
