import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Synthesizing CDK apps with bundled functions takes seconds; keep the defaults honest but not flaky.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/localstack/**', 'test/e2e/**'],
        },
      },
      {
        // The local runner end to end on QUEUEKIT_TARGET (embedded by default; LocalStack through
        // vitest.e2e-localstack.config.ts). The fixture app is synthesized once per run, and only when these run.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          // One LocalStack is shared by every suite, and each empties the app's queues first.
          fileParallelism: process.env.QUEUEKIT_TARGET !== 'localstack',
        },
      },
    ],
  },
});
