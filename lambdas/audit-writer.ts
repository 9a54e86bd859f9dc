import { sqsBatchHandler } from '../lib/runtime/index.js';

/** Writes every job event to the audit log, as received (raw delivery, any shape); large batches, many at once. */
export const handler = sqsBatchHandler(
  async ({ body, messageId, sentAt }, { logger }) => {
    logger.info('audit', { event: body, messageId, sentAt: sentAt.toISOString() });
  },
  { concurrency: 50 },
);
