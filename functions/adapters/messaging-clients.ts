import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

const local = (endpoint: string) => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

/** Client settings for a local SQS engine (fauxqs): any fixed credentials will do. */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient(local(endpoint));
}

export function localSnsClient(endpoint: string): SNSClient {
  return new SNSClient(local(endpoint));
}

/** SQS and SNS clients: of the local engine at `endpoint` (`TIEBREAK_SNS_ENDPOINT`), else of AWS. */
export function messagingClients(endpoint: string | undefined): { sqs: SQSClient; sns: SNSClient } {
  return endpoint ? { sqs: localSqsClient(endpoint), sns: localSnsClient(endpoint) } : { sqs: new SQSClient({}), sns: new SNSClient({}) };
}
