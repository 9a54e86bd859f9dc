import { sqsBatchHandler } from '../lib/runtime/index.js';
import { Job, simulateFailure } from './contracts.js';

/** Notifies the on-call channel of high-priority jobs (the subscription filters on the body's priority). */
export const handler = sqsBatchHandler(
  async ({ body: job, receiveCount, topicArn }, { logger }) => {
    simulateFailure(job.simulate, receiveCount, `priority job ${job.jobId}`);
    logger.info('priority job', { jobId: job.jobId, accountId: job.accountId, topicArn });
  },
  { contract: Job },
);
