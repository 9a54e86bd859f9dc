/** Context key of the fixture stack's name (test/e2e/global-setup.ts sets it; default `QueuekitE2e`). */
export const STACK_CONTEXT_KEY = 'queuekit-e2e:stack';
