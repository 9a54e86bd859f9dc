/**
 * Lambda-shaped SQS events for tests, built from hand-written bodies or from messages received from a real
 * server, so the runtime sees exactly what an event source mapping would hand it.
 *
 * @module
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * Maps a message from ReceiveMessage (requested with all system and message attributes) to the record Lambda's
 * SQS event source mapping hands a function. The local runner's own mapping (lib/local/sqs-event.ts), so tests
 * and the runner build records the same way.
 */
export { toSqsRecord } from '../../lib/local/sqs-event.js';

/** Options of a hand-built record. */
export interface RecordSpec {
  readonly body: string;
  readonly messageId?: string;
  readonly groupId?: string;
  readonly receiveCount?: number;
  readonly attributes?: Record<
    string,
    { readonly dataType: string; readonly stringValue?: string; readonly binaryValue?: string }
  >;
  /** @default 'arn:aws:sqs:us-east-1:123456789012:orders' (or `orders.fifo` with a groupId) */
  readonly queueArn?: string;
}

let counter = 0;

/** A hand-built SQS record, as Lambda delivers it. */
export function sqsRecord(spec: RecordSpec): SQSRecord {
  counter++;
  const queueArn = spec.queueArn ?? `arn:aws:sqs:us-east-1:123456789012:orders${spec.groupId ? '.fifo' : ''}`;
  return {
    messageId: spec.messageId ?? `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    receiptHandle: `receipt-${counter}`,
    body: spec.body,
    attributes: {
      ApproximateReceiveCount: String(spec.receiveCount ?? 1),
      SentTimestamp: '1733300000000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1733300000100',
      ...(spec.groupId
        ? { MessageGroupId: spec.groupId, MessageDeduplicationId: `dedup-${counter}`, SequenceNumber: String(counter) }
        : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(spec.attributes ?? {}).map(([name, a]) => [
        name,
        { ...a, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: 'not-checked',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** An event of hand-built records. */
export const sqsEvent = (...specs: RecordSpec[]): SQSEvent => ({ Records: specs.map(sqsRecord) });

/** An SNS envelope as SNS writes it into a queue without raw delivery. */
export function snsEnvelope(
  message: string,
  options: { topicArn?: string; attributes?: Record<string, { Type: string; Value: string }>; subject?: string } = {},
): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: '5f1c2a8e-0000-4000-8000-000000000001',
    TopicArn: options.topicArn ?? 'arn:aws:sns:us-east-1:123456789012:JobEvents',
    ...(options.subject ? { Subject: options.subject } : {}),
    Message: message,
    Timestamp: '2026-12-04T10:00:00.000Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
    ...(options.attributes ? { MessageAttributes: options.attributes } : {}),
  });
}
