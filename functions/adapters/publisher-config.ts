import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod/mini';
import type { WitnessSettings } from '../domain/settings.ts';
import { AuditTrail } from './audit-trail.ts';
import { documentClient, localDynamoClientConfig } from './dynamo-clients.ts';
import { EventBus } from './event-bus.ts';
import { loadOnce } from './load-once.ts';
import { localSnsClient } from './messaging-clients.ts';
import { parseSettingsEnv } from './settings-env.ts';
import { defaultRetention, parseRetentionEnv, type RetentionSettings } from './retention.ts';
import '../../protocol/zod-locale.ts';

/** What the event publisher needs: the table (the audit trail), the topic, the timings (freshness). No key. */
export interface PublisherDeps {
  trail: AuditTrail;
  bus: EventBus;
  settings: WitnessSettings;
}

const Env = z.object({
  TIEBREAK_TABLE: z.string().check(z.minLength(3)),
  TIEBREAK_EVENT_TOPIC_ARN: z.string().check(z.startsWith('arn:')),
  TIEBREAK_DYNAMODB_ENDPOINT: z.optional(z.url()),
  TIEBREAK_SNS_ENDPOINT: z.optional(z.url()),
});

/** Client settings for a local SNS engine (fauxqs): any fixed credentials will do. */
export function publisherDeps(
  tableName: string,
  settings: WitnessSettings,
  client: DynamoDBClient,
  sns: SNSClient,
  topicArn: string,
  retention: RetentionSettings = defaultRetention,
): PublisherDeps {
  return { trail: new AuditTrail(documentClient(client), tableName, retention.auditTrailDays), bus: new EventBus(sns, topicArn), settings };
}

export const publisherDepsFromEnv: () => Promise<PublisherDeps> = loadOnce(() => {
  const env = Env.safeParse(process.env);
  const settings = parseSettingsEnv(process.env);
  const retention = parseRetentionEnv(process.env);
  if (!retention.ok) throw new Error(`publisher configuration is invalid: ${retention.problems.map((p) => `${p.name}: ${p.message}`).join('; ')}`);
  if (!env.success || !settings.ok) {
    throw new Error('publisher configuration is invalid: TIEBREAK_TABLE, TIEBREAK_EVENT_TOPIC_ARN and the TIEBREAK_*_MS timings');
  }
  const { TIEBREAK_DYNAMODB_ENDPOINT: dynamo, TIEBREAK_SNS_ENDPOINT: sns } = env.data;
  const client = new DynamoDBClient(dynamo ? localDynamoClientConfig(dynamo) : {});
  return Promise.resolve(publisherDeps(env.data.TIEBREAK_TABLE, settings.settings, client, sns ? localSnsClient(sns) : new SNSClient({}), env.data.TIEBREAK_EVENT_TOPIC_ARN, retention.retention));
});
