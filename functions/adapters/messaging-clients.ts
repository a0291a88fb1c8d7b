import { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { localMessagingConfig, sqsClient } from './sqs-client.ts';

export { localSqsClient } from './sqs-client.ts';

export function localSnsClient(endpoint: string): SNSClient {
  return new SNSClient(localMessagingConfig(endpoint));
}

/** An SNS client of the local engine at `endpoint` (`TIEBREAK_SNS_ENDPOINT`), else of AWS. */
export function snsClient(endpoint: string | undefined): SNSClient {
  return endpoint ? localSnsClient(endpoint) : new SNSClient({});
}

/** SQS and SNS clients: of the local engine at `endpoint` (`TIEBREAK_SNS_ENDPOINT`), else of AWS. */
export function messagingClients(endpoint: string | undefined): { sqs: SQSClient; sns: SNSClient } {
  return { sqs: sqsClient(endpoint), sns: snsClient(endpoint) };
}
