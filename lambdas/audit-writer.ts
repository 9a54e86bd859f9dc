import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processBatch } from '../lib/runtime/sqs-batch.js';

/** Writes every job event to the audit log; raw delivery, large batches gathered over a window. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  processBatch(event, async ({ body, messageId }) => {
    console.log(JSON.stringify({ level: 'INFO', message: 'audit', event: body, messageId }));
  });
