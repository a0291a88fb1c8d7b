import { SQSClient } from '@aws-sdk/client-sqs';
import { type ClientEndpoints, localClientConfig } from './client-endpoints.ts';
import { answerQueueUrlsAtEndpoint } from './local-queue-urls.ts';

// Apart from messaging-clients.ts, so that a function that sends to SQS only (the webhook deliverer) does
// not bundle the SNS client.

/** An SQS client of a local engine (fauxqs), whose queue URLs name the engine's port of now. */
export function localSqsClient(endpoint: string): SQSClient {
  const client = new SQSClient(localClientConfig(endpoint));
  answerQueueUrlsAtEndpoint(client, endpoint);
  return client;
}

/** An SQS client of fauxqs when `endpoints.snsSqs` is set, else of AWS. */
export function sqsClient(endpoints: ClientEndpoints): SQSClient {
  return endpoints.snsSqs ? localSqsClient(endpoints.snsSqs) : new SQSClient({});
}
