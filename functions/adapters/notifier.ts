import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ServiceQueueMessage } from '../../protocol/incidents.ts';
import type { EscalationTarget } from '../../protocol/reseller.ts';
import type { ResellerChannels } from './reseller-channels.ts';

/** What an e-mail or SMS says: short, plain, with the one-click links. */
export function alertText(message: ServiceQueueMessage): { subject: string; body: string } {
  const { incident, site, customer } = message;
  const where = `${site.name ?? site.siteId}${customer ? ` (${customer.name})` : ''}`;
  const subject = `[Tiebreak] ${incident.kind} at ${where}: ${message.step}${message.level ? ` (level ${String(message.level)})` : ''}`;
  const lines = [
    subject,
    `Incident ${incident.incidentId}, opened ${incident.openedAt}, now ${incident.state}.`,
    // In words (an inbound alert: the summary its tool sent); messages from before `affected` was given, by subject.
    `Affected: ${(incident.affected ?? incident.subjects).join(', ') || 'the site'}.`,
    ...(message.links && message.step !== 'resolved'
      ? [`Acknowledge: ${message.links.acknowledge}`, `Resolve: ${message.links.resolve}`]
      : []),
  ];
  // SNS takes a subject of printable ASCII under 100 characters: a site named "Zürich" must not fail the step.
  const asciiSubject = subject
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .slice(0, 99);
  return { subject: asciiSubject, body: lines.join('\n') };
}

/**
 * Delivers one incident step to its targets: the reseller's service queue (sent to directly), its
 * alerts topic for e-mail and SMS (the `target` attribute picks the subscription), and the webhook
 * outbox queue for webhook endpoints, which the webhook deliverer drains. At least once: a failure
 * fails the whole step, which is retried with the same `messageId` for consumers to deduplicate.
 */
export class Notifier {
  constructor(
    private readonly sqs: SQSClient,
    private readonly sns: SNSClient,
    private readonly channels: ResellerChannels,
    private readonly webhookOutboxUrl: string,
  ) {}

  async deliver(resellerId: string, message: ServiceQueueMessage, targets: readonly EscalationTarget[]): Promise<void> {
    const body = JSON.stringify(message);
    const attributes = {
      step: { DataType: 'String', StringValue: message.step },
      incidentId: { DataType: 'String', StringValue: message.incident.incidentId },
      messageId: { DataType: 'String', StringValue: message.messageId },
    };
    for (const target of targets) {
      switch (target.type) {
        case 'service-queue':
          await this.sqs.send(
            new SendMessageCommand({
              QueueUrl: await this.channels.queueUrl(resellerId),
              MessageBody: body,
              MessageAttributes: attributes,
            }),
          );
          break;
        case 'email':
        case 'sms': {
          const text = alertText(message);
          const address = target.type === 'email' ? target.address : target.phoneNumber;
          await this.sns.send(
            new PublishCommand({
              TopicArn: await this.channels.alertsTopicArn(resellerId),
              Subject: text.subject,
              Message: target.type === 'email' ? text.body : text.body.slice(0, 1400),
              MessageAttributes: { ...attributes, target: { DataType: 'String', StringValue: address } },
            }),
          );
          break;
        }
        case 'webhook':
          await this.sqs.send(
            new SendMessageCommand({
              QueueUrl: this.webhookOutboxUrl,
              MessageBody: JSON.stringify({ resellerId, endpointId: target.endpointId, message }),
              MessageAttributes: attributes,
            }),
          );
          break;
      }
    }
  }
}
