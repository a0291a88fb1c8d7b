import { SQSClient } from '@aws-sdk/client-sqs';

// Apart from messaging-clients.ts, so that a function that sends to SQS only (the webhook deliverer)
// does not bundle the SNS client.

/** Client settings for a local engine (fauxqs): any fixed credentials will do. */
export const localMessagingConfig = (endpoint: string) => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

/** Client settings for a local SQS engine (fauxqs). */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient(localMessagingConfig(endpoint));
}

/** An SQS client of the local engine at `endpoint` (`TIEBREAK_SNS_ENDPOINT`: fauxqs serves SNS and SQS), else of AWS. */
export function sqsClient(endpoint: string | undefined): SQSClient {
  return endpoint ? localSqsClient(endpoint) : new SQSClient({});
}
