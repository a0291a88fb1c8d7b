import { localSnsClient } from '../functions/adapters/messaging-clients.ts';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { startFauxqs } from 'fauxqs';

/** The name of the events topic locally (in AWS, the stack's `EventTopicArn`). */
export const eventTopicName = 'tiebreak-events';

export interface LocalSnsSqs {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * fauxqs, the SNS and SQS emulator from npm, on loopback: in memory, or kept under `dataDir`
 * (so queued messages survive a restart of `npm start`).
 */
export async function startSnsSqs(options: { dataDir?: string; port?: number } = {}): Promise<LocalSnsSqs> {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
  return { endpoint: server.address, stop: () => server.stop() };
}

/** Creates the events topic if it is not there (SNS's CreateTopic is idempotent) and answers its ARN. */
export async function ensureEventTopic(endpoint: string, name = eventTopicName): Promise<string> {
  const sns = localSnsClient(endpoint);
  try {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
    if (!TopicArn) throw new Error(`fauxqs gave no ARN for topic ${name}`);
    return TopicArn;
  } finally {
    sns.destroy();
  }
}
