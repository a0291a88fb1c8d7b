import { type DynamoDBClient, TransactionCanceledException, type TransactWriteItem } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB's rule for transactions that overlap, on a client of DynamoDB Local (which serialises
 * them instead, so two racing requests never see it): a transaction touching an item that another
 * transaction in flight is writing is cancelled, with `TransactionConflict` as that item's reason.
 * The requests, the writes and the table stay real; only the service's conflict rule is added.
 * Answers how many transactions it cancelled, so a test can show its race happened.
 */
export function conflictLikeDynamoDb(client: DynamoDBClient): { cancelled: () => number } {
  const inFlight = new Map<string, number>();
  let cancelled = 0;
  const keyOf = (item: TransactWriteItem): string => {
    const key = item.Put ? { pk: item.Put.Item?.pk, sk: item.Put.Item?.sk } : (item.Update ?? item.Delete ?? item.ConditionCheck)?.Key;
    const table = (item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck)?.TableName ?? '';
    return `${table} ${JSON.stringify(key)}`;
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
      const items = (args.input as { TransactItems?: TransactWriteItem[] }).TransactItems ?? [];
      const keys = items.map(keyOf);
      const clash = keys.findIndex((key) => inFlight.has(key));
      if (clash >= 0) {
        cancelled += 1;
        throw new TransactionCanceledException({
          $metadata: { httpStatusCode: 400 },
          message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
          CancellationReasons: keys.map((_, i) =>
            i === clash ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
          ),
        });
      }
      for (const key of keys) inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      try {
        return await next(args);
      } finally {
        for (const key of keys) {
          const left = (inFlight.get(key) ?? 1) - 1;
          if (left === 0) inFlight.delete(key);
          else inFlight.set(key, left);
        }
      }
    },
    { step: 'initialize', name: 'conflictLikeDynamoDb' },
  );
  return { cancelled: () => cancelled };
}
