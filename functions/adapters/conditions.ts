import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';

/**
 * A write refused because its condition did not hold, or a transaction cancelled because one of
 * its conditions did not: an answer for the caller (404, 409, …), not a fault. A transaction
 * cancelled for another reason (a conflict, throttling) is not this, and stays an error.
 */
export function conditionFailed(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || failedConditions(error).length > 0;
}

/** The positions, in a cancelled transaction, of the items whose conditions did not hold. */
export function failedConditions(error: unknown): number[] {
  if (!(error instanceof TransactionCanceledException)) return [];
  return (error.CancellationReasons ?? []).flatMap((reason, i) => (reason.Code === 'ConditionalCheckFailed' ? [i] : []));
}

/**
 * A conditional write's answer, or undefined when one of its conditions did not hold (the
 * caller's 404 or 409, not a fault); any other error is thrown.
 */
export async function unlessConditionFails<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (conditionFailed(error)) return undefined;
    throw error;
  }
}

/**
 * A transaction cancelled only because another one was writing one of its items at the same time
 * (DynamoDB's `TransactionConflict`), with no condition refused, or a single write refused for the
 * same reason: it wrote nothing, and trying it again decides on the items as they are then.
 */
export function transactionConflicted(error: unknown): boolean {
  if (error instanceof TransactionConflictException) return true;
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code);
  return codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed');
}

/** How many times a write is tried while it keeps meeting others, and the longest pause between tries. */
const conflictAttempts = 6;
const conflictMaxPauseMs = 100;

/**
 * Runs `write` again while it is cancelled by a conflict, a bounded number of
 * times with full-jitter pauses (racers that met once do not meet again in step); any other
 * answer or error, or the last conflict, is the caller's.
 */
export async function retryingConflicts<T>(
  write: () => Promise<T>,
  pauseMs: (attempt: number) => number = (attempt) => Math.random() * Math.min(conflictMaxPauseMs, 10 * 2 ** attempt),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!transactionConflicted(error) || attempt >= conflictAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs(attempt)));
    }
  }
}
