import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './api-gateway-event.ts';

export type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface QueuePoller {
  stop(): Promise<void>;
}

/**
 * What Lambda's SQS event source mapping does in AWS, for fauxqs: receives batches (long polling),
 * hands them to the same handler in the same event shape, and deletes the messages the handler
 * did not report failed. A failed message stays on the queue and comes back after its visibility
 * timeout, until the queue's redrive policy dead-letters it: no in-memory retry, so a stop loses nothing.
 */
export function startQueuePoller(options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: QueueHandler;
  functionName: string;
  /** Batches in flight at once, as Lambda runs several instances of a function (default 1). */
  concurrency?: number;
}): QueuePoller {
  const { sqs, queueUrl, handler } = options;
  const run = { stopped: false };
  const abort = new AbortController();

  async function pass(): Promise<void> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
      { abortSignal: abort.signal },
    );
    if (Messages.length === 0) return;
    const records: SQSRecord[] = Messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? '0',
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: options.queueArn,
      awsRegion: 'us-east-1',
    }));
    const context = lambdaContext(options.functionName, `sqs-${String(Date.now())}`);
    const result = await handler({ Records: records }, context).catch((): SQSBatchResponse => ({
      batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })),
    }));
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
  }

  const loop = async () => {
    while (!run.stopped) {
      await pass().catch((error: unknown) => {
        // A receive cut short by stop() is no failure, and nothing is tried again.
        if (run.stopped) return;
        console.error(`queue poller (${options.functionName}): a pass failed; trying again`, error);
        return new Promise((resolve) => setTimeout(resolve, 500));
      });
    }
  };
  const loops = Promise.all(Array.from({ length: options.concurrency ?? 1 }, loop));

  return {
    async stop() {
      run.stopped = true;
      abort.abort();
      await loops;
    },
  };
}
