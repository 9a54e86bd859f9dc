import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** A ledger entry: `seq` counts up per group; `fail: 'always'` is poison, `fail: 'once'` fails its first receive. */
export interface LedgerEntry {
  readonly seq: number;
  readonly fail?: 'always' | 'once';
}

/**
 * Applies entries in order per message group. A failed entry fails every later entry of its group in the batch
 * too (AWS's rule for FIFO partial batch responses), so nothing of that group is applied out of order.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const blocked = new Set<string>();
  for (const record of event.Records) {
    const group = record.attributes.MessageGroupId ?? '?';
    const receive = Number(record.attributes.ApproximateReceiveCount);
    const entry = JSON.parse(record.body) as LedgerEntry;
    if (blocked.has(group) || entry.fail === 'always' || (entry.fail === 'once' && receive === 1)) {
      blocked.add(group);
      batchItemFailures.push({ itemIdentifier: record.messageId });
      console.log(`SKIP ${group} ${entry.seq} receive ${receive}`);
      continue;
    }
    console.log(`ORDER ${group} ${entry.seq}`);
  }
  return { batchItemFailures };
}
