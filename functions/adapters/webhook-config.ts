import type { SNSClient } from '@aws-sdk/client-sns';
import { type DelivererDeps, type DelivererWiring, delivererDeps, delivererEnv } from './deliverer-config.ts';
import { documentClient, dynamoClient } from './dynamo-clients.ts';
import { channelPrefixPiece, type Env, optionalUrlPiece, readEnv } from './env-settings.ts';
import { type IncidentLinks, linksFromEnv, noLinks } from './incident-config.ts';
import { ResellerStore } from './reseller-store.ts';
import { SiteAdminStore } from './site-admin-store.ts';
import type { SiteNameSources } from './webhook-context.ts';
import { loadOnce } from './load-once.ts';
import { snsClient, sqsClient } from './messaging-clients.ts';
import { ResellerChannels } from './reseller-channels.ts';
import { ServiceQueueNotices } from './service-queue-notices.ts';

/**
 * What the webhook router needs (the deliverer's, deliverer-config.ts, the resellers' service
 * queues, where sites' and customers' names are read, and the incidents' one-click links it signs
 * for the messages of `incident.*` events), built once per cold start.
 */
export interface WebhookDeps extends DelivererDeps {
  notices: Pick<ServiceQueueNotices, 'send'>;
  names: SiteNameSources;
  links: IncidentLinks;
}

export interface WebhookWiring extends DelivererWiring {
  sns: SNSClient;
  channelPrefix: string;
  /** The incidents' link signer (as the incidents function's); unset, messages carry no links. */
  links?: IncidentLinks;
}

/** The router's assembly, the one Lambda (from the environment) and the local stack (from its settings) both use. */
export function webhookDeps(wiring: WebhookWiring): WebhookDeps {
  const doc = documentClient(wiring.dynamo);
  return {
    ...delivererDeps(wiring),
    notices: new ServiceQueueNotices(wiring.sqs, new ResellerChannels(wiring.sqs, wiring.sns, wiring.channelPrefix)),
    names: { sites: new SiteAdminStore(doc, wiring.tableName), resellers: new ResellerStore(doc, wiring.tableName) },
    links: wiring.links ?? noLinks,
  };
}

/** The router's settings schema: the deliverer's, the channel prefix, and the public URL its links start with. */
export function webhookWiringFromEnv(env: Env = process.env): WebhookWiring & { publicUrl: string | undefined } {
  const { endpoints, ...settings } = readEnv('webhook', env, {
    ...delivererEnv,
    channelPrefix: channelPrefixPiece,
    publicUrl: optionalUrlPiece('TIEBREAK_PUBLIC_URL'),
  });
  return { ...settings, dynamo: dynamoClient(endpoints), sqs: sqsClient(endpoints), sns: snsClient(endpoints) };
}

export const webhookDepsFromEnv: () => Promise<WebhookDeps> = loadOnce(async () => {
  const { publicUrl, ...wiring } = webhookWiringFromEnv();
  return webhookDeps({ ...wiring, links: await linksFromEnv('webhook', process.env, publicUrl) });
});
