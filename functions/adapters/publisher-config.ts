import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { WitnessSettings } from '../domain/settings.ts';
import { AuditTrail } from './audit-trail.ts';
import type { ClientEndpoints } from './client-endpoints.ts';
import { documentClient, dynamoClient } from './dynamo-clients.ts';
import { type Env, endpointsPiece, readEnv, retentionPiece, tablePiece, timingsPiece, topicArnPiece } from './env-settings.ts';
import { EventBus } from './event-bus.ts';
import { loadOnce } from './load-once.ts';
import { snsClient } from './messaging-clients.ts';
import { defaultRetention, type RetentionSettings } from './retention.ts';

/** What the event publisher needs: the table (the audit trail), the topic, the timings (freshness). No key. */
export interface PublisherDeps {
  trail: AuditTrail;
  bus: EventBus;
  settings: WitnessSettings;
}

/** The publisher's settings. */
export interface PublisherConfig {
  tableName: string;
  topicArn: string;
  settings: WitnessSettings;
  /** Unset: the defaults. */
  retention?: RetentionSettings;
  endpoints?: ClientEndpoints;
}

/** The publisher's settings schema, from the shared pieces. */
export function publisherConfigFromEnv(env: Env = process.env): PublisherConfig {
  return readEnv('publisher', env, {
    tableName: tablePiece,
    topicArn: topicArnPiece,
    endpoints: endpointsPiece,
    settings: timingsPiece,
    retention: retentionPiece,
  });
}

/** The publisher's assembly, the one Lambda (from the environment) and the local stack (from its settings) both use. */
export function publisherDeps(options: PublisherConfig & { dynamo: DynamoDBClient; sns: SNSClient }): PublisherDeps {
  const retention = options.retention ?? defaultRetention;
  return {
    trail: new AuditTrail(documentClient(options.dynamo), options.tableName, retention.auditTrailDays),
    bus: new EventBus(options.sns, options.topicArn),
    settings: options.settings,
  };
}

export const publisherDepsFromEnv: () => Promise<PublisherDeps> = loadOnce(() => {
  const config = publisherConfigFromEnv();
  const endpoints = config.endpoints ?? {};
  return Promise.resolve(publisherDeps({ ...config, dynamo: dynamoClient(endpoints), sns: snsClient(endpoints) }));
});
