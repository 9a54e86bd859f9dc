import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processBatch } from '../lib/runtime/sqs-batch.js';

interface Job {
  jobId: string;
  kind: 'image' | 'text';
  prompt: string;
}

/** Runs inference jobs from the work queue; a job without a prompt fails and, after 5 tries, lands in the DLQ. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  processBatch(event, async ({ body, messageId, receiveCount }) => {
    const job = body as Partial<Job>;
    if (typeof job.prompt !== 'string' || !job.jobId) throw new Error(`job ${job.jobId ?? '?'} has no prompt`);
    const tokens = job.prompt.split(/\s+/).filter(Boolean).length;
    console.log(
      JSON.stringify({
        level: 'INFO',
        message: 'inference done',
        jobId: job.jobId,
        kind: job.kind,
        tokens,
        messageId,
        receiveCount,
      }),
    );
  });
