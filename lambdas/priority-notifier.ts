import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processBatch } from '../lib/runtime/sqs-batch.js';

/** Notifies the on-call channel of high-priority jobs (the subscription filters on the body's priority). */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  processBatch(event, async ({ body, messageId, topicArn }) => {
    const job = body as { jobId?: string; accountId?: string; priority?: string };
    if (!job.jobId) throw new Error('priority notice without jobId');
    console.log(
      JSON.stringify({
        level: 'INFO',
        message: 'priority job',
        jobId: job.jobId,
        accountId: job.accountId,
        topicArn,
        messageId,
      }),
    );
  });
