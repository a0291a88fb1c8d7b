import { SNSClient } from '@aws-sdk/client-sns';
import { type ClientEndpoints, localClientConfig } from './client-endpoints.ts';

// The SNS side of the client factory; SQS alone is sqs-client.ts (re-exported here for callers that use both).
export { localSqsClient, sqsClient } from './sqs-client.ts';

/** An SNS client of a local engine (fauxqs). */
export function localSnsClient(endpoint: string): SNSClient {
  return new SNSClient(localClientConfig(endpoint));
}

/** An SNS client of fauxqs when `endpoints.snsSqs` is set, else of AWS. */
export function snsClient(endpoints: ClientEndpoints): SNSClient {
  return endpoints.snsSqs ? localSnsClient(endpoints.snsSqs) : new SNSClient({});
}
