import { SQSClient } from '@aws-sdk/client-sqs';
import { type ClientEndpoints, localClientConfig } from './client-endpoints.ts';

// Apart from messaging-clients.ts, so that a function that sends to SQS only (the webhook deliverer) does
// not bundle the SNS client.

/** An SQS client of a local engine (fauxqs). */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient(localClientConfig(endpoint));
}

/** An SQS client of fauxqs when `endpoints.snsSqs` is set, else of AWS. */
export function sqsClient(endpoints: ClientEndpoints): SQSClient {
  return endpoints.snsSqs ? localSqsClient(endpoints.snsSqs) : new SQSClient({});
}
