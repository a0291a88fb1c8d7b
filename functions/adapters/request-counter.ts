import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Requests sent by one client, by command name, counted per attempt (retries count: AWS bills them). */
export class RequestCounter {
  readonly byCommand = new Map<string, number>();

  attach(client: DynamoDBClient): this {
    client.middlewareStack.add(
      (next, context) => (args) => {
        const name = context.commandName ?? 'unknown';
        this.byCommand.set(name, (this.byCommand.get(name) ?? 0) + 1);
        return next(args);
      },
      // After the retry middleware, so that each attempt on the wire is counted.
      { step: 'finalizeRequest', priority: 'low', name: 'tiebreakRequestCounter' },
    );
    return this;
  }

  count(...commands: string[]): number {
    return commands.reduce((sum, c) => sum + (this.byCommand.get(c) ?? 0), 0);
  }

  total(): number {
    return [...this.byCommand.values()].reduce((a, b) => a + b, 0);
  }

  reset(): void {
    this.byCommand.clear();
  }
}
