import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ClientEndpoints, localClientConfig } from './client-endpoints.ts';

// Apart from the settings and the Secrets Manager client, so that a function that needs no key (the
// publisher) does not bundle that client with this one.

/** Client settings for a local engine (DynamoDB Local): any fixed credentials will do. */
export function localDynamoClientConfig(endpoint: string): DynamoDBClientConfig {
  return localClientConfig(endpoint);
}

/** A DynamoDB client of DynamoDB Local when `endpoints.dynamodb` is set, else of AWS. */
export function dynamoClient(endpoints: ClientEndpoints): DynamoDBClient {
  return new DynamoDBClient(endpoints.dynamodb ? localDynamoClientConfig(endpoints.dynamodb) : {});
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
