import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

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
