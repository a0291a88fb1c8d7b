import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface LocalQueue {
  url: string;
  arn: string;
}

/** Creates a queue on the local engine (creating one that exists answers it) and reads its ARN, for subscriptions and redrive policies. */
export async function localQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}): Promise<LocalQueue> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`fauxqs gave no URL for queue ${name}`);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

/** The outbox the incidents function leaves webhook steps in and the topic feeds: one name for both runtimes. */
export const webhookOutboxName = (prefix: string) => `${prefix}-webhook-outbox`;
