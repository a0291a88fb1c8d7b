import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { startSnsSqs } from '../../local/sns-sqs.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    snsSqsEndpoint: string;
  }
}

/** One DynamoDB Local and one fauxqs (SNS and SQS) for the whole run; each test makes its own tables and topics. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [engine, snsSqs] = await Promise.all([startDynamoDbLocal({}), startSnsSqs()]);
  project.provide('dynamoEndpoint', engine.endpoint);
  project.provide('snsSqsEndpoint', snsSqs.endpoint);
  return async () => {
    await Promise.all([engine.stop(), snsSqs.stop()]);
  };
}
