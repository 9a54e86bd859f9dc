import { sqsBatchHandler } from '../lib/runtime/index.js';
import { Job, simulateFailure } from './contracts.js';

/**
 * Runs inference jobs from the work queue. A failed job comes back after a jittered, growing delay (10 s, 20 s,
 * 40 s… rather than the queue's 12-minute visibility); after 5 receives it is in the DLQ.
 */
export const handler = sqsBatchHandler(
  async ({ body: job, receiveCount }, { logger }) => {
    simulateFailure(job.simulate, receiveCount, `job ${job.jobId}`);
    const tokens = job.prompt.split(/\s+/).filter(Boolean).length;
    logger.info('inference done', { jobId: job.jobId, kind: job.kind, tokens, receiveCount });
  },
  { contract: Job, retryBackoff: { baseSeconds: 10, maxSeconds: 300 } },
);
