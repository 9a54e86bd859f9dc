import { defineConfig } from 'vitest/config';

// The suites read it (test/support/runner-target.ts); set here, before the global setup and the workers start.
process.env.QUEUEKIT_TARGET = 'localstack';

/**
 * The end-to-end suites (test/e2e) with the local runner provisioning on a LocalStack that is already running at
 * AWS_ENDPOINT_URL (default http://127.0.0.1:4566): `bash .ci/localstack-up.sh`, then
 * `npx vitest run --config vitest.e2e-localstack.config.ts`. Nothing is deployed; a missing LocalStack fails the run.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One LocalStack for every suite: each suite empties the app's queues first, so they must not overlap.
    fileParallelism: false,
  },
});
