/**
 * What a site (or a deployment) uses in a month, in the units AWS meters, with no price in it:
 * the cost bench's measured day becomes one of these (`usage-site-month.ts`), `price.ts` turns
 * one into dollars. Plain data, so that a run can write it out (`npm run cost -- --usage-json
 * <file>`) and a test can write one by hand.
 */

/** The month the record covers: 30 days, the cost bench's day × 30. */
export const daysPerMonth = 30;

/** One Lambda function (or a group of them at one memory size) over the period. */
export interface FunctionUsage {
  invocations: number;
  /** Billed milliseconds, summed: each invocation rounded up to the next ms (1 at least). */
  billedMs: number;
  memoryMb: number;
  /** Bytes its log group receives: the handler's lines and Lambda's own events. */
  logBytes: number;
}

export interface Usage {
  /** HTTP API requests in metering units (one per started 512 KB); a function-URL front has none. */
  apiRequests: number;
  /** Bytes of the HTTP API's access log (none with function URLs). */
  apiAccessLogBytes: number;
  /** By function name (or the group's name: the event path's, the webhook path's). */
  functions: Record<string, FunctionUsage>;
  dynamo: {
    /** Write request units: the table's and its indexes'. */
    writeUnits: number;
    /** Read request units (a strongly consistent read of up to 4 KB is 1, eventually consistent 0.5). */
    readUnits: number;
    /** Bytes stored at the month's end, with DynamoDB's 100 B overhead per item where counted. */
    storedBytes: number;
  };
  /** How long the log groups keep what they receive, in months: a month's ingestion × this is stored. */
  logRetentionMonths: number;
  sns: {
    /** Publish requests billed (one per started 64 KB of each call). */
    publishes: number;
    /** E-mail notifications delivered. */
    emails: number;
  };
  /** SQS requests billed (one per started 64 KB). */
  sqsRequests: number;
}

export const noUsage = (logRetentionMonths: number): Usage => ({
  apiRequests: 0,
  apiAccessLogBytes: 0,
  functions: {},
  dynamo: { writeUnits: 0, readUnits: 0, storedBytes: 0 },
  logRetentionMonths,
  sns: { publishes: 0, emails: 0 },
  sqsRequests: 0,
});

/** Two usages of one site together (the same log retention; a function in both has its counts added). */
export function addUsage(a: Usage, b: Usage): Usage {
  if (a.logRetentionMonths !== b.logRetentionMonths) throw new Error('usages with different log retentions cannot be added');
  const functions: Record<string, FunctionUsage> = { ...a.functions };
  for (const [name, f] of Object.entries(b.functions)) {
    const mine = functions[name];
    if (mine && mine.memoryMb !== f.memoryMb) throw new Error(`${name} has two memory sizes`);
    functions[name] = mine
      ? {
          invocations: mine.invocations + f.invocations,
          billedMs: mine.billedMs + f.billedMs,
          memoryMb: f.memoryMb,
          logBytes: mine.logBytes + f.logBytes,
        }
      : f;
  }
  return {
    apiRequests: a.apiRequests + b.apiRequests,
    apiAccessLogBytes: a.apiAccessLogBytes + b.apiAccessLogBytes,
    functions,
    dynamo: {
      writeUnits: a.dynamo.writeUnits + b.dynamo.writeUnits,
      readUnits: a.dynamo.readUnits + b.dynamo.readUnits,
      storedBytes: a.dynamo.storedBytes + b.dynamo.storedBytes,
    },
    logRetentionMonths: a.logRetentionMonths,
    sns: { publishes: a.sns.publishes + b.sns.publishes, emails: a.sns.emails + b.sns.emails },
    sqsRequests: a.sqsRequests + b.sqsRequests,
  };
}

/** Lambda invocations of every function. */
export const invocationsOf = (u: Usage): number => Object.values(u.functions).reduce((sum, f) => sum + f.invocations, 0);

/** Lambda GB-seconds of every function (GB = 1,024 MB, as Lambda bills). */
export const gbSecondsOf = (u: Usage): number =>
  Object.values(u.functions).reduce((sum, f) => sum + (f.billedMs / 1000) * (f.memoryMb / 1024), 0);
