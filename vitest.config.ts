import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/localstack/**'],
    // Synthesizing CDK apps with bundled functions takes seconds; keep the defaults honest but not flaky.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
