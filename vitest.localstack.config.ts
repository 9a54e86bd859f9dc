import { defineConfig } from 'vitest/config';

/** The LocalStack suite: run by `npm run test:localstack` (.ci/localstack-suite.sh), which starts LocalStack and deploys. */
export default defineConfig({
  test: {
    include: ['test/localstack/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
