import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processBatch } from '../lib/runtime/sqs-batch.js';

const balances = new Map<string, number>();

/** Applies billing entries in order per account (FIFO message group = account id). */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  processBatch(event, async ({ body, groupId, messageId }) => {
    const entry = body as { jobId?: string; accountId?: string; units?: number };
    if (typeof entry.units !== 'number' || entry.units < 0)
      throw new Error(`billing entry ${entry.jobId ?? '?'} has no valid units`);
    const account = groupId ?? entry.accountId ?? 'unknown';
    const balance = (balances.get(account) ?? 0) + entry.units;
    balances.set(account, balance);
    console.log(
      JSON.stringify({
        level: 'INFO',
        message: 'ledger entry',
        account,
        jobId: entry.jobId,
        units: entry.units,
        balance,
        messageId,
      }),
    );
  });
