import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import '../../protocol/zod-locale.ts';
import { defaultIncidentSettings, type IncidentSettings } from '../domain/incidents.ts';
import { documentClient, dynamoClient } from './dynamo-clients.ts';
import { channelPrefixPiece, type Env, endpointsPiece, envPiece, optionalUrlPiece, readEnv, tablePiece, urlPiece } from './env-settings.ts';
import { tokenKeySourcePiece } from './token-key-env.ts';
import { EscalationStore } from './escalation-store.ts';
import { IncidentStore } from './incident-store.ts';
import { IncidentTimers } from './incident-timers.ts';
import { loadOnce } from './load-once.ts';
import { snsClient, sqsClient } from './messaging-clients.ts';
import { Notifier } from './notifier.ts';
import { ResellerChannels } from './reseller-channels.ts';
import { IncidentLinkSigner } from './incident-links.ts';
import { ResellerStore } from './reseller-store.ts';
import { tokenKeyFromSecret } from './token-key.ts';
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

/** The settle time from `TIEBREAK_SETTLE_MS` (default 2 minutes). */
const settlePiece = envPiece(
  z.object({ TIEBREAK_SETTLE_MS: z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(24 * 3_600_000))) }),
  (e): IncidentSettings => ({ settleMs: e.TIEBREAK_SETTLE_MS ?? defaultIncidentSettings.settleMs }),
);

/** The incidents function's settings schema, from the shared pieces. */
const incidentEnv = {
  tableName: tablePiece,
  incidentsQueueUrl: urlPiece('TIEBREAK_INCIDENTS_QUEUE_URL'),
  webhookOutboxUrl: urlPiece('TIEBREAK_WEBHOOK_OUTBOX_URL'),
  channelPrefix: channelPrefixPiece,
  endpoints: endpointsPiece,
  settings: settlePiece,
  publicUrl: optionalUrlPiece('TIEBREAK_PUBLIC_URL'),
};

/** The settle time alone (the local runtime reads it so). */
export function incidentSettingsFromEnv(env: Env = process.env): IncidentSettings {
  return readEnv('incidents', env, { settings: settlePiece }).settings;
}

export function incidentWiringFromEnv(env: Env = process.env): IncidentWiring & { publicUrl: string | undefined } {
  const { endpoints, ...settings } = readEnv('incidents', env, incidentEnv);
  return { ...settings, dynamo: dynamoClient(endpoints), sqs: sqsClient(endpoints), sns: snsClient(endpoints) };
}

/**
 * The link signer, where a public URL is set: it signs with a key derived from the token key (its
 * secret, in Lambda). The incidents function's, and the webhook router's for `incident.*` events.
 */
export async function linksFromEnv(reader: string, env: Env, publicUrl: string | undefined): Promise<IncidentLinks> {
  if (!publicUrl) return noLinks;
  const source = readEnv(reader, env, { tokenKey: tokenKeySourcePiece }).tokenKey;
  const key = 'key' in source ? source.key : await tokenKeyFromSecret(source.secretId);
  return new IncidentLinkSigner(key, publicUrl);
}

export const incidentDepsFromEnv: () => Promise<IncidentDeps> = loadOnce(async () => {
  const { publicUrl, ...wiring } = incidentWiringFromEnv();
  return incidentDeps({ ...wiring, links: await linksFromEnv('incidents', process.env, publicUrl) });
});
