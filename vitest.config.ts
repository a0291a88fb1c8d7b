import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 8 shards of the due index, not 1,024: DynamoDB Local answers a detector run's Queries one by one.
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', TIEBREAK_DUE_SHARDS: '8' },
  },
});
