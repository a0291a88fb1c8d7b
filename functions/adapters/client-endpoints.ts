/**
 * Where a function's clients connect: the local engines (DynamoDB Local, fauxqs) when an endpoint
 * is set, else AWS. The one client factory is split by client (dynamo-clients.ts, sqs-client.ts,
 * messaging-clients.ts), so that each Lambda bundle carries only the SDK clients its function uses.
 */
export interface ClientEndpoints {
  /** DynamoDB Local (`TIEBREAK_DYNAMODB_ENDPOINT`). */
  dynamodb?: string | undefined;
  /** fauxqs, which serves SNS and SQS on one port (`TIEBREAK_SNS_ENDPOINT`). */
  snsSqs?: string | undefined;
}

/** Client settings for a local engine: any fixed credentials and region will do. */
export function localClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}
