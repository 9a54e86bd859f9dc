/**
 * Lambda's SQS event, built from what ReceiveMessage returned: the exact record shape Lambda's SQS event source
 * mapping hands a function, so a handler run by the local runner sees what it sees in AWS.
 *
 * @module
 */
import type { Message, MessageAttributeValue, ReceiveMessageCommandInput } from '@aws-sdk/client-sqs';
import type { SQSMessageAttribute, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { LocalRunnerError } from './errors.js';

/** The `eventSource` of every SQS record. */
export const SQS_EVENT_SOURCE = 'aws:sqs';

/**
 * What ReceiveMessage must be asked for so that {@link toSqsRecord} has every field: all system attributes (both
 * the legacy and the current parameter, which servers honour differently) and all message attributes.
 */
export const RECEIVE_ALL_ATTRIBUTES: Pick<
  ReceiveMessageCommandInput,
  'AttributeNames' | 'MessageSystemAttributeNames' | 'MessageAttributeNames'
> = Object.freeze({
  AttributeNames: ['All'],
  MessageSystemAttributeNames: ['All'],
  MessageAttributeNames: ['All'],
});

function required(value: string | undefined, field: string, messageId: string | undefined): string {
  if (value === undefined) {
    throw new LocalRunnerError(
      `SQS message ${messageId ?? '(no MessageId)'} lacks ${field}, which every Lambda SQS record carries. ` +
        "Fix: receive with MessageSystemAttributeNames ['All'] and MessageAttributeNames ['All'] " +
        '(RECEIVE_ALL_ATTRIBUTES).',
    );
  }
  return value;
}

const NO_ATTRIBUTES: Partial<Record<string, string>> = Object.freeze({});

const base64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

function toLambdaAttribute(
  name: string,
  value: MessageAttributeValue,
  messageId: string | undefined,
): SQSMessageAttribute {
  const binaryList = value.BinaryListValues;
  const attribute: SQSMessageAttribute = {
    stringListValues: value.StringListValues ?? [],
    binaryListValues: binaryList === undefined || binaryList.length === 0 ? [] : binaryList.map(base64),
    dataType: required(value.DataType, `DataType of message attribute ${name}`, messageId),
  };
  if (value.StringValue !== undefined) attribute.stringValue = value.StringValue;
  if (value.BinaryValue !== undefined) attribute.binaryValue = base64(value.BinaryValue);
  return attribute;
}

/**
 * Maps a message from ReceiveMessage (asked for with {@link RECEIVE_ALL_ATTRIBUTES}) to the record Lambda's SQS
 * event source mapping delivers: camelCase fields; system attributes as strings, FIFO ones (`MessageGroupId`,
 * `MessageDeduplicationId`, `SequenceNumber`) and `AWSTraceHeader` only when the message has them; message
 * attributes as `{ stringValue | binaryValue (base64), stringListValues: [], binaryListValues: [], dataType }`;
 * `md5OfMessageAttributes` only when the message has attributes.
 *
 * @param message - one entry of `ReceiveMessageCommandOutput.Messages`
 * @param queue - the queue it was received from (its ARN becomes `eventSourceARN`)
 * @param region - `awsRegion` of the record
 * @throws LocalRunnerError when the message lacks a field every record has (received without the attributes)
 *
 * @example
 * const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, ...RECEIVE_ALL_ATTRIBUTES }));
 * const event: SQSEvent = { Records: Messages.map((m) => toSqsRecord(m, queue, 'us-east-1')) };
 */
export function toSqsRecord(message: Message, queue: { readonly arn: string }, region: string): SQSRecord {
  const id = message.MessageId;
  const s: Partial<Record<string, string>> = message.Attributes ?? NO_ATTRIBUTES;
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: required(s.ApproximateReceiveCount, 'ApproximateReceiveCount', id),
    SentTimestamp: required(s.SentTimestamp, 'SentTimestamp', id),
    SenderId: required(s.SenderId, 'SenderId', id),
    ApproximateFirstReceiveTimestamp: required(
      s.ApproximateFirstReceiveTimestamp,
      'ApproximateFirstReceiveTimestamp',
      id,
    ),
  };
  if (s.AWSTraceHeader !== undefined) attributes.AWSTraceHeader = s.AWSTraceHeader;
  if (s.SequenceNumber !== undefined) attributes.SequenceNumber = s.SequenceNumber;
  if (s.MessageGroupId !== undefined) attributes.MessageGroupId = s.MessageGroupId;
  if (s.MessageDeduplicationId !== undefined) attributes.MessageDeduplicationId = s.MessageDeduplicationId;
  if (s.DeadLetterQueueSourceArn !== undefined) attributes.DeadLetterQueueSourceArn = s.DeadLetterQueueSourceArn;

  const messageAttributes: SQSMessageAttributes = {};
  const received = message.MessageAttributes;
  if (received !== undefined) {
    for (const name in received) {
      const value = received[name];
      if (value !== undefined) messageAttributes[name] = toLambdaAttribute(name, value, id);
    }
  }

  const record: SQSRecord = {
    messageId: required(id, 'MessageId', id),
    receiptHandle: required(message.ReceiptHandle, 'ReceiptHandle', id),
    body: required(message.Body, 'Body', id),
    attributes,
    messageAttributes,
    md5OfBody: required(message.MD5OfBody, 'MD5OfBody', id),
    eventSource: SQS_EVENT_SOURCE,
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}
