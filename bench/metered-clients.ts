import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { localDynamoClientConfig } from '../functions/adapters/dynamo-clients.ts';
import { localSnsClient, localSqsClient } from '../functions/adapters/messaging-clients.ts';
import { RequestCounter } from '../functions/adapters/request-counter.ts';
import { CapacityMeter } from './ddb-meter.ts';
import { MessagingMeter } from './messaging-meter.ts';

/** A DynamoDB, an SQS and an SNS client of one part of the replay, with the meters on them. */
export interface MeteredClients {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  sns: SNSClient;
  requests: RequestCounter;
  capacity: CapacityMeter;
  messaging: MessagingMeter;
  /** Forgets what setting the part's stack up sent (queues, subscriptions, the table's description). */
  reset(): void;
  destroy(): void;
}

export function meteredClients(dynamoEndpoint: string, snsSqsEndpoint: string): MeteredClients {
  const dynamo = new DynamoDBClient(localDynamoClientConfig(dynamoEndpoint));
  const sqs = localSqsClient(snsSqsEndpoint);
  const sns = localSnsClient(snsSqsEndpoint);
  const requests = new RequestCounter().attach(dynamo);
  const capacity = new CapacityMeter().attach(dynamo);
  const messaging = new MessagingMeter().attachSqs(sqs).attachSns(sns);
  return {
    dynamo,
    sqs,
    sns,
    requests,
    capacity,
    messaging,
    reset() {
      requests.reset();
      capacity.reset();
      messaging.reset();
    },
    destroy() {
      dynamo.destroy();
      sqs.destroy();
      sns.destroy();
    },
  };
}
