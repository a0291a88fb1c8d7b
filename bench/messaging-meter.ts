import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** SNS and SQS both bill a request per started 64 KB of payload. */
export const messagingChunkBytes = 64 * 1024;

/** One SNS or SQS API call, as the bill sees it. */
export interface MessagingRequest {
  service: 'sns' | 'sqs';
  command: string;
  /** The queue URL or topic ARN it went to. */
  target: string;
  /**
   * Messages in it: published or sent (a batch counts its entries), received (0 for an empty
   * receive), deleted. 0 for control calls (GetQueueUrl, CreateTopic…).
   */
  messages: number;
  /** Bytes of message bodies and attributes sent (0 for receives and deletes). */
  payloadBytes: number;
  /** Requests billed: one per started 64 KB of the call's payload, at least one. */
  billed: number;
  /** The `type` message attribute of each message published (SNS), for the subscriptions' filters. */
  types: string[];
  /** The `target` attribute of an alert published on a reseller's alerts topic (its e-mail address or phone number). */
  alertTarget: string | undefined;
}

interface Attribute {
  DataType?: string;
  StringValue?: string;
}

interface Entry {
  Message?: string;
  MessageBody?: string;
  Subject?: string;
  MessageAttributes?: Record<string, Attribute>;
}

interface Input extends Entry {
  QueueUrl?: string;
  TopicArn?: string;
  Entries?: Entry[];
  PublishBatchRequestEntries?: Entry[];
}

function entryBytes(entry: Entry): number {
  const attributes = Object.entries(entry.MessageAttributes ?? {}).reduce(
    (sum, [name, value]) =>
      sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? ''),
    0,
  );
  return Buffer.byteLength(entry.Message ?? entry.MessageBody ?? '') + Buffer.byteLength(entry.Subject ?? '') + attributes;
}

/**
 * Every SNS and SQS call one client makes, counted once per call as the code sends it (the
 * middleware sits in front of the retries: the local engines do not throttle, so there are none),
 * with what it carried. A middleware further in (the event-path bench's timer hold) may answer a
 * call without sending it: it is counted all the same, as AWS would bill it.
 */
export class MessagingMeter {
  readonly requests: MessagingRequest[] = [];

  attachSqs(client: SQSClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        this.#record('sqs', context.commandName ?? 'unknown', args.input as Input, result.output as { Messages?: unknown[] });
        return result;
      },
      { step: 'initialize', priority: 'high', name: 'benchMessagingMeter' },
    );
    return this;
  }

  attachSns(client: SNSClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        this.#record('sns', context.commandName ?? 'unknown', args.input as Input, undefined);
        return result;
      },
      { step: 'initialize', priority: 'high', name: 'benchMessagingMeter' },
    );
    return this;
  }

  reset(): void {
    this.requests.length = 0;
  }

  /** Calls of one command (or all of a service's, without one). */
  of(service: 'sns' | 'sqs', command?: string): MessagingRequest[] {
    return this.requests.filter((r) => r.service === service && (command === undefined || r.command === command));
  }

  #record(service: 'sns' | 'sqs', command: string, input: Input, output: { Messages?: unknown[] } | undefined): void {
    const entries = input.PublishBatchRequestEntries ?? (command === 'SendMessageBatchCommand' ? input.Entries : undefined);
    const sent: Entry[] = entries ?? (input.Message !== undefined || input.MessageBody !== undefined ? [input] : []);
    const payloadBytes = sent.reduce((sum, e) => sum + entryBytes(e), 0);
    const messages =
      command === 'ReceiveMessageCommand'
        ? (output?.Messages?.length ?? 0)
        : command === 'DeleteMessageBatchCommand'
          ? (input.Entries?.length ?? 0)
          : sent.length;
    this.requests.push({
      service,
      command,
      target: input.QueueUrl ?? input.TopicArn ?? '',
      messages,
      payloadBytes,
      billed: Math.max(1, Math.ceil(payloadBytes / messagingChunkBytes)),
      types: service === 'sns' ? sent.map((e) => e.MessageAttributes?.type?.StringValue ?? '') : [],
      alertTarget: command === 'PublishCommand' ? input.MessageAttributes?.target?.StringValue : undefined,
    });
  }
}
