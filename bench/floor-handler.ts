/**
 * The floor of the bundle benchmark: the least a witness function could be, one DynamoDB
 * UpdateItem through the same SDK client packages (client-dynamodb and lib-dynamodb's document
 * client) built the way the witness builds its client (functions/adapters/config.ts), bundled with
 * the same options. Bundled and run by `bundles.ts` only; nothing imports it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const endpoint = process.env.TIEBREAK_DYNAMODB_ENDPOINT;
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient(endpoint ? { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  { marshallOptions: { removeUndefinedValues: true } },
);

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const { Attributes } = await client.send(
    new UpdateCommand({
      TableName: process.env.TIEBREAK_TABLE,
      Key: { pk: 'bench#floor', sk: 'floor' },
      UpdateExpression: 'SET #body = :body ADD #n :one',
      ExpressionAttributeNames: { '#body': 'body', '#n': 'n' },
      ExpressionAttributeValues: { ':body': event.body ?? '', ':one': 1 },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: Attributes?.n as unknown }) };
};
