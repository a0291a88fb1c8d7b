import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { logger } from '../adapters/logger.ts';

/**
 * Handles a batch's records at once, each on its own: one that fails is logged and handed back for
 * SQS to retry (a batch item failure) while the others are done. `what` names the queue in the log.
 */
export async function eachRecord(
  records: readonly SQSRecord[],
  what: string,
  handle: (record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  await Promise.all(
    records.map(async (record) => {
      try {
        await handle(record);
      } catch (error) {
        logger.error(`${what} message failed: SQS will retry it`, { messageId: record.messageId, error: error as Error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
}
