import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** A Work item: `poison` fails on every receive, `failOnce` on the first only. */
export interface WorkItem {
  readonly id: string;
  readonly poison?: boolean;
  readonly failOnce?: boolean;
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const receive = Number(record.attributes.ApproximateReceiveCount);
    const item = JSON.parse(record.body) as WorkItem;
    if (item.poison || (item.failOnce && receive === 1)) {
      console.log(`worker failed ${item.id} on receive ${receive}`);
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    console.log(`worker done ${item.id} on receive ${receive}`);
  }
  return { batchItemFailures };
}
