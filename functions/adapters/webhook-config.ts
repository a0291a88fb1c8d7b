import type { SNSClient } from '@aws-sdk/client-sns';
import { type DelivererDeps, type DelivererWiring, delivererDeps, delivererEnv } from './deliverer-config.ts';
import { dynamoClient } from './dynamo-clients.ts';
import { channelPrefixPiece, type Env, readEnv } from './env-settings.ts';
import { loadOnce } from './load-once.ts';
import { snsClient, sqsClient } from './messaging-clients.ts';
import { ResellerChannels } from './reseller-channels.ts';
import { ServiceQueueNotices } from './service-queue-notices.ts';

/** What the webhook router needs (the deliverer's, deliverer-config.ts, and the resellers' service queues), built once per cold start. */
export interface WebhookDeps extends DelivererDeps {
  notices: Pick<ServiceQueueNotices, 'send'>;
}

export interface WebhookWiring extends DelivererWiring {
  sns: SNSClient;
  channelPrefix: string;
}

/** The router's assembly, the one Lambda (from the environment) and the local stack (from its settings) both use. */
export function webhookDeps(wiring: WebhookWiring): WebhookDeps {
  return {
    ...delivererDeps(wiring),
    notices: new ServiceQueueNotices(wiring.sqs, new ResellerChannels(wiring.sqs, wiring.sns, wiring.channelPrefix)),
  };
}

/** The router's settings schema: the deliverer's and the channel prefix. */
export function webhookWiringFromEnv(env: Env = process.env): WebhookWiring {
  const { endpoints, ...settings } = readEnv('webhook', env, { ...delivererEnv, channelPrefix: channelPrefixPiece });
  return { ...settings, dynamo: dynamoClient(endpoints), sqs: sqsClient(endpoints), sns: snsClient(endpoints) };
}

export const webhookDepsFromEnv: () => Promise<WebhookDeps> = loadOnce(() => Promise.resolve(webhookDeps(webhookWiringFromEnv())));
