import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type BatchConsumerOptions, type ConsumedMessage, processBatch } from '../../lib/runtime/index.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { type RecordSpec, snsEnvelope, sqsRecord } from '../support/sqs-records.js';

/** Runs one record through the consumer and returns the message its handler saw. */
async function consume(
  record: SQSRecord | RecordSpec,
  options: BatchConsumerOptions = {},
): Promise<ConsumedMessage<unknown>> {
  const seen: ConsumedMessage<unknown>[] = [];
  const full = 'receiptHandle' in record ? record : sqsRecord(record);
  const result = await processBatch(
    { Records: [full] },
    (m) => {
      seen.push(m);
    },
    { logger: new RecordingLogger(), ...options },
  );
  expect(result).toEqual({ batchItemFailures: [] });
  expect(seen).toHaveLength(1);
  return seen[0] as ConsumedMessage<unknown>;
}

const bytes = (value: unknown) => {
  expect(value).toBeInstanceOf(Uint8Array);
  return [...(value as Uint8Array)];
};

describe('SNS-enveloped delivery', () => {
  it('hands the inner parsed body with the envelope metadata and attributes', async () => {
    const body = snsEnvelope(JSON.stringify({ orderId: 'o-1', total: 12.5 }), {
      topicArn: 'arn:aws:sns:eu-west-1:111122223333:OrderEvents',
      subject: 'Order placed',
      attributes: {
        kind: { Type: 'String', Value: 'created' },
        count: { Type: 'Number', Value: '42' },
        ratio: { Type: 'Number', Value: '-3.25' },
        raw: { Type: 'Binary', Value: Buffer.from([0, 1, 2, 255]).toString('base64') },
        big: { Type: 'Number', Value: '123456789012345678901234' },
      },
    });
    const m = await consume({ body, messageId: 'sqs-id-1' });
    expect(m.source).toBe('sns');
    expect(m.body).toEqual({ orderId: 'o-1', total: 12.5 });
    expect(m.text).toBe('{"orderId":"o-1","total":12.5}');
    expect(m.topicArn).toBe('arn:aws:sns:eu-west-1:111122223333:OrderEvents');
    expect(m.snsMessageId).toBe('5f1c2a8e-0000-4000-8000-000000000001');
    expect(m.subject).toBe('Order placed');
    expect(m.publishedAt).toEqual(new Date('2026-12-04T10:00:00.000Z'));
    expect(m.messageId).toBe('sqs-id-1');
    const { raw, ...rest } = m.attributes;
    expect(rest).toEqual({ kind: 'created', count: 42, ratio: -3.25, big: '123456789012345678901234' });
    expect(bytes(raw)).toEqual([0, 1, 2, 255]);
  });

  it('ignores the SQS record attributes for an enveloped message', async () => {
    const m = await consume({
      body: snsEnvelope('{"x":1}', { attributes: { fromSns: { Type: 'String', Value: 'yes' } } }),
      attributes: { fromSqs: { dataType: 'String', stringValue: 'no' } },
    });
    expect(m.attributes).toEqual({ fromSns: 'yes' });
  });

  it('has no subject when the envelope has none', async () => {
    const m = await consume({ body: snsEnvelope('"just a string"') });
    expect(m.source).toBe('sns');
    expect(m.body).toBe('just a string');
    expect(m.subject).toBeUndefined();
    expect(m.attributes).toEqual({});
  });

  it("treats a JSON body with Type 'Notification' but no TopicArn as raw", async () => {
    const body = JSON.stringify({ Type: 'Notification', Message: '{"inner":true}' });
    const m = await consume({ body });
    expect(m.source).toBe('sqs');
    expect(m.body).toEqual({ Type: 'Notification', Message: '{"inner":true}' });
    expect(m.topicArn).toBeUndefined();
    expect(m.text).toBe(body);
  });

  it("with bodyFormat 'text' hands the inner Message string", async () => {
    const m = await consume({ body: snsEnvelope('{"not":"parsed"}') }, { bodyFormat: 'text' });
    expect(m.source).toBe('sns');
    expect(m.body).toBe('{"not":"parsed"}');
  });
});

describe('raw SQS delivery', () => {
  it('reads attributes from record.messageAttributes with the type mapping', async () => {
    const m = await consume({
      body: '{"a":1}',
      attributes: {
        s: { dataType: 'String', stringValue: 'hello' },
        label: { dataType: 'String.custom', stringValue: 'tagged' },
        n: { dataType: 'Number', stringValue: '7' },
        f: { dataType: 'Number.float', stringValue: '0.5' },
        neg: { dataType: 'Number', stringValue: '-12' },
        b: { dataType: 'Binary', binaryValue: Buffer.from('héllo').toString('base64') },
        twenty: { dataType: 'Number', stringValue: '12345678901234567890' },
        seventeen: { dataType: 'Number', stringValue: '12345678901234567' },
      },
    });
    expect(m.source).toBe('sqs');
    expect(m.body).toEqual({ a: 1 });
    const { b, ...rest } = m.attributes;
    expect(rest).toEqual({
      s: 'hello',
      label: 'tagged',
      n: 7,
      f: 0.5,
      neg: -12,
      twenty: '12345678901234567890',
      seventeen: '12345678901234567',
    });
    expect(Buffer.from(b as Uint8Array).toString()).toBe('héllo');
    expect(bytes(b)).toEqual([...Buffer.from('héllo')]);
  });

  it('keeps a Number attribute of more than 15 digits as a string (16-digit values included)', async () => {
    const m = await consume({
      body: '{}',
      attributes: {
        fifteen: { dataType: 'Number', stringValue: '123456789012345' },
        sixteen: { dataType: 'Number', stringValue: '1234567890123456' },
        accountId: { dataType: 'Number', stringValue: '4000000000000002' },
      },
    });
    expect(m.attributes).toEqual({
      fifteen: 123456789012345,
      sixteen: '1234567890123456',
      accountId: '4000000000000002',
    });
  });

  it('exposes the record metadata', async () => {
    const base = sqsRecord({
      body: '{"k":"v"}',
      messageId: 'fifo-1',
      groupId: 'customer-7',
      receiveCount: 3,
      queueArn: 'arn:aws:sqs:eu-central-1:111122223333:payments.fifo',
    });
    const record: SQSRecord = {
      ...base,
      attributes: {
        ...base.attributes,
        MessageDeduplicationId: 'dedup-abc',
        SequenceNumber: '18890000000000000001',
        SentTimestamp: '1767225600123',
      },
    };
    const m = await consume(record);
    expect(m).toMatchObject({
      messageId: 'fifo-1',
      groupId: 'customer-7',
      deduplicationId: 'dedup-abc',
      sequenceNumber: '18890000000000000001',
      receiveCount: 3,
      queue: 'payments.fifo',
      source: 'sqs',
      attributes: {},
    });
    expect(m.sentAt).toEqual(new Date(1_767_225_600_123));
    expect(m.record).toBe(record);
    expect(m.topicArn).toBeUndefined();
    expect(m.payload).toBeUndefined();
  });

  it('has no FIFO fields on a standard queue record', async () => {
    const m = await consume({ body: '{}', queueArn: 'arn:aws:sqs:us-east-1:123456789012:jobs' });
    expect(m.queue).toBe('jobs');
    expect(m.receiveCount).toBe(1);
    expect(typeof m.receiveCount).toBe('number');
    expect(m.groupId).toBeUndefined();
    expect(m.deduplicationId).toBeUndefined();
    expect(m.sequenceNumber).toBeUndefined();
  });

  it("with bodyFormat 'text' hands the body string, JSON or not", async () => {
    expect((await consume({ body: 'plain words' }, { bodyFormat: 'text' })).body).toBe('plain words');
    expect((await consume({ body: '{"a":1}' }, { bodyFormat: 'text' })).body).toBe('{"a":1}');
  });

  it('parses JSON bodies of any JSON type', async () => {
    expect((await consume({ body: '[1,2]' })).body).toEqual([1, 2]);
    expect((await consume({ body: '"s"' })).body).toBe('s');
    expect((await consume({ body: '0' })).body).toBe(0);
    expect((await consume({ body: 'null' })).body).toBeNull();
  });
});
