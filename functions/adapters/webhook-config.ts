import type { SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import type { WitnessEvent } from '../../protocol/events.ts';
import '../../protocol/zod-locale.ts';
import { type DelivererDeps, type DelivererWiring, delivererDeps, delivererWiringFromEnv } from './deliverer-config.ts';
import { loadOnce } from './load-once.ts';
import { snsClient } from './messaging-clients.ts';
import { ResellerChannels } from './reseller-channels.ts';

/** News of a failing webhook on the reseller's service queue: the failing endpoint may be how they would have heard. */
export class ServiceQueueNotices {
  constructor(
    private readonly sqs: SQSClient,
    private readonly channels: ResellerChannels,
  ) {}

  async send(event: WitnessEvent): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: await this.channels.queueUrl(event.data.resellerId),
        MessageBody: JSON.stringify(event),
        MessageAttributes: { type: { DataType: 'String', StringValue: event.type }, messageId: { DataType: 'String', StringValue: event.id } },
      }),
    );
  }
}

/** What the webhook router needs (the deliverer's, deliverer-config.ts, and the resellers' service queues), built once per cold start. */
export interface WebhookDeps extends DelivererDeps {
  notices: Pick<ServiceQueueNotices, 'send'>;
}

export interface WebhookWiring extends DelivererWiring {
  sns: SNSClient;
  channelPrefix: string;
}

export function webhookDeps(wiring: WebhookWiring): WebhookDeps {
  return { ...delivererDeps(wiring), notices: new ServiceQueueNotices(wiring.sqs, new ResellerChannels(wiring.sqs, wiring.sns, wiring.channelPrefix)) };
}

const Env = z.object({
  TIEBREAK_CHANNEL_PREFIX: z.string().check(z.regex(/^[A-Za-z0-9-]{1,20}$/)),
  TIEBREAK_SNS_ENDPOINT: z.optional(z.url()),
});

export function webhookWiringFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookWiring {
  const delivery = delivererWiringFromEnv(env);
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(`webhook configuration is invalid: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  return { ...delivery, sns: snsClient(parsed.data.TIEBREAK_SNS_ENDPOINT), channelPrefix: parsed.data.TIEBREAK_CHANNEL_PREFIX };
}

export const webhookDepsFromEnv: () => Promise<WebhookDeps> = loadOnce(() => Promise.resolve(webhookDeps(webhookWiringFromEnv())));
