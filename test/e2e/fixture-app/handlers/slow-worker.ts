import type { SQSEvent } from 'aws-lambda';

/** 150 ms of "work" per record. */
export async function handler(event: SQSEvent): Promise<void> {
  for (const record of event.Records) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    console.log(`slow done ${record.messageId}`);
  }
}
