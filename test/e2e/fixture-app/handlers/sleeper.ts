import type { SQSEvent } from 'aws-lambda';

/** Sleeps past the function timeout (2 s) on a record's first receive; succeeds on any later one. */
export async function handler(event: SQSEvent): Promise<void> {
  for (const record of event.Records) {
    const receive = Number(record.attributes.ApproximateReceiveCount);
    if (receive === 1) {
      console.log(`sleeping past the timeout on receive ${receive}`);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      console.log('woke up after the timeout (must never be seen)');
    } else {
      console.log(`quick on receive ${receive}`);
    }
  }
}
