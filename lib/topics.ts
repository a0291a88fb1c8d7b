import { RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface TopicsProps {
  /** Subscribed to the alarm topic (AWS sends a confirmation link first). */
  alarmEmail: string | undefined;
}

/**
 * The witness's SNS topics, encrypted with one customer-managed key and refusing publishers that
 * do not use TLS:
 *
 * - `events`: every event, in DESIGN.md's envelope, with the attributes `type`, `severity`,
 *   `resellerId` and `siteId` for subscription filters: the event publisher (fed by the table's
 *   stream) publishes here what it records in the sites' audit trails.
 * - `alarms`: where the CloudWatch alarms go, optionally to an e-mail address.
 *
 * A customer-managed key rather than SNS's AWS-managed one: CloudWatch alarms cannot publish to a
 * topic encrypted with the AWS-managed key, whose policy cannot name CloudWatch.
 */
export class Topics extends Construct {
  readonly key: Key;
  readonly events: Topic;
  readonly alarms: Topic;

  constructor(scope: Construct, id: string, props: TopicsProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Tiebreak: encrypts the event and alarm topics',
      enableKeyRotation: true,
      // SNS keeps no messages at rest, so nothing stays encrypted under this key after `cdk destroy`.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // As AWS documents for alarms on an encrypted topic.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToEncryptedTopics',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.events = new Topic(this, 'Events', { displayName: 'Tiebreak events', masterKey: this.key, enforceSSL: true });
    this.alarms = new Topic(this, 'Alarms', { displayName: 'Tiebreak alarms', masterKey: this.key, enforceSSL: true });
    if (props.alarmEmail) this.alarms.addSubscription(new EmailSubscription(props.alarmEmail));
  }
}
