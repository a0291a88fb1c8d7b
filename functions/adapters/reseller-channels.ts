import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface ServiceQueueUrls {
  queueUrl: string;
  deadLetterQueueUrl: string;
}

/** Messages the reseller has not read within this long are dropped (SQS's longest). */
const retentionSeconds = String(14 * 24 * 3600);
/** A message the reseller's tool received this many times without deleting it moves to the dead-letter queue. */
const maxReceiveCount = 10;

/**
 * Each reseller's own channels, created with the reseller: its SQS service queue (with a
 * dead-letter queue) and its SNS alerts topic, to which its e-mail addresses and phone numbers
 * are subscribed, each with a filter policy on the `target` attribute. Delivery to a reseller never
 * passes through one shared topic's filter policies (those are capped per topic): each reseller's
 * queue is sent to directly, so thousands of resellers scale. Names are `<prefix>-svc-<reseller>`,
 * `…-dlq` and `<prefix>-alerts-<reseller>`: the stack grants exactly those.
 */
export class ResellerChannels {
  private readonly queueUrls = new Map<string, string>();
  private readonly topicArns = new Map<string, string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly sns: SNSClient,
    private readonly prefix: string,
  ) {}

  names(resellerId: string) {
    return {
      queue: `${this.prefix}-svc-${resellerId}`,
      deadLetterQueue: `${this.prefix}-svc-${resellerId}-dlq`,
      alertsTopic: `${this.prefix}-alerts-${resellerId}`,
    };
  }

  /** Creates the reseller's queues and topic; creating what exists changes nothing (CreateQueue and CreateTopic are idempotent). */
  async ensure(resellerId: string): Promise<ServiceQueueUrls> {
    const names = this.names(resellerId);
    const dlq = await this.sqs.send(
      new CreateQueueCommand({
        QueueName: names.deadLetterQueue,
        Attributes: { MessageRetentionPeriod: retentionSeconds, SqsManagedSseEnabled: 'true' },
      }),
    );
    if (!dlq.QueueUrl) throw new Error(`SQS gave no URL for ${names.deadLetterQueue}`);
    const { Attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }));
    const queue = await this.sqs.send(
      new CreateQueueCommand({
        QueueName: names.queue,
        Attributes: {
          MessageRetentionPeriod: retentionSeconds,
          SqsManagedSseEnabled: 'true',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount }),
        },
      }),
    );
    if (!queue.QueueUrl) throw new Error(`SQS gave no URL for ${names.queue}`);
    this.queueUrls.set(resellerId, queue.QueueUrl);
    await this.alertsTopicArn(resellerId);
    return { queueUrl: queue.QueueUrl, deadLetterQueueUrl: dlq.QueueUrl };
  }

  /** The reseller's service queue URL (looked up once per process). */
  async queueUrl(resellerId: string): Promise<string> {
    const known = this.queueUrls.get(resellerId);
    if (known) return known;
    const { QueueUrl } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: this.names(resellerId).queue }));
    if (!QueueUrl) throw new Error(`no service queue for reseller ${resellerId}`);
    this.queueUrls.set(resellerId, QueueUrl);
    return QueueUrl;
  }

  async serviceQueue(resellerId: string): Promise<ServiceQueueUrls> {
    const names = this.names(resellerId);
    const [queueUrl, dlq] = await Promise.all([
      this.queueUrl(resellerId),
      this.sqs.send(new GetQueueUrlCommand({ QueueName: names.deadLetterQueue })),
    ]);
    return { queueUrl, deadLetterQueueUrl: dlq.QueueUrl ?? '' };
  }

  /** The reseller's alerts topic ARN (CreateTopic answers the existing topic's ARN). */
  async alertsTopicArn(resellerId: string): Promise<string> {
    const known = this.topicArns.get(resellerId);
    if (known) return known;
    const { TopicArn } = await this.sns.send(new CreateTopicCommand({ Name: this.names(resellerId).alertsTopic }));
    if (!TopicArn) throw new Error(`SNS gave no ARN for the alerts topic of ${resellerId}`);
    this.topicArns.set(resellerId, TopicArn);
    return TopicArn;
  }

  /**
   * Subscribes an e-mail address or phone number to the reseller's alerts topic, receiving only
   * messages meant for it. SNS asks an e-mail address to confirm before it receives anything.
   * Subscribing the same endpoint again changes nothing.
   */
  async subscribe(resellerId: string, target: { type: 'email'; address: string } | { type: 'sms'; phoneNumber: string }): Promise<void> {
    const endpoint = target.type === 'email' ? target.address : target.phoneNumber;
    await this.sns.send(
      new SubscribeCommand({
        TopicArn: await this.alertsTopicArn(resellerId),
        Protocol: target.type,
        Endpoint: endpoint,
        Attributes: { FilterPolicy: JSON.stringify({ target: [endpoint] }) },
      }),
    );
  }
}
