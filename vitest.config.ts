import { defineConfig } from 'vitest/config';

// Three projects, so the fast tests run apart from the engine-backed ones and the chaos sweep:
// `unit` is pure (no engine, no global setup), `engine` shares one DynamoDB Local and one fauxqs
// started by the global setup, `chaos` starts its own witness stack. test/README.md says what each holds.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 8 shards of the due index, not 1,024: DynamoDB Local answers a detector run's Queries one by one.
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', TIEBREAK_DUE_SHARDS: '8' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/agent/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'engine',
          include: [
            'test/integration/**/*.test.ts',
            'test/model/**/*.test.ts',
            'test/infra/**/*.test.ts',
            'test/agent-io/**/*.test.ts',
            'test/console/**/*.test.ts',
            'test/recipes/**/*.test.ts',
          ],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'] } },
    ],
  },
});
