/** Bad options on the command line: run.ts prints the message (which says the usage) alone, no stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}
