import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ConsumedMessage,
  MessageProducer,
  MessageValidationError,
  parsePointer,
  pointerBody,
  processBatch,
  RuntimeConfigError,
  SendFailedError,
  type SendResult,
} from '../../lib/runtime/index.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { snsEnvelope, sqsEvent } from '../support/sqs-records.js';
import { acceptAll, entriesOf, FakeClient, type SentCommand, serviceError } from './helpers.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:events';

beforeEach(() => {
  vi.stubEnv('QUEUEKIT_LARGE_PAYLOAD_BUCKET', undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('pointer format', () => {
  it('pointerBody writes the AWS extended client pointer exactly', () => {
    expect(pointerBody({ bucket: 'b', key: 'k' })).toBe(
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]',
    );
  });

  it('parsePointer reads the current and the legacy class', () => {
    expect(parsePointer(pointerBody({ bucket: 'my-bucket', key: 'a/b/c' }))).toEqual({
      bucket: 'my-bucket',
      key: 'a/b/c',
    });
    expect(
      parsePointer('["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"old","s3Key":"k1"}]'),
    ).toEqual({ bucket: 'old', key: 'k1' });
  });

  it.each([
    '["some.other.Pointer",{"s3BucketName":"b","s3Key":"k"}]',
    '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"},1]',
    '["software.amazon.payloadoffloading.PayloadS3Pointer"]',
    '["software.amazon.payloadoffloading.PayloadS3Pointer",null]',
    '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]',
    '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":7}]',
    '{"s3BucketName":"b","s3Key":"k"}',
    '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}',
    'garbage',
    '',
    '[1,2]',
  ])('parsePointer rejects %j', (body) => {
    expect(parsePointer(body)).toBeUndefined();
  });
});

describe('producer offload', () => {
  function setup(largePayloads: Record<string, unknown> = { bucket: 'b' }, s3Script?: (c: SentCommand) => unknown) {
    const log: string[] = [];
    const s3 = new FakeClient(s3Script ?? (() => ({ ETag: '"e"' })), log);
    const sqs = new FakeClient(acceptAll, log);
    const producer = new MessageProducer({ largePayloads, clients: { s3: s3.s3, sqs: sqs.sqs, sns: sqs.sns } });
    return { log, s3, sqs, producer };
  }

  it('puts a 2 MB body in S3, then sends the pointer with ExtendedPayloadSize', async () => {
    const { log, s3, sqs, producer } = setup();
    const big = 'x'.repeat(2 * 1024 * 1024);
    const results = await producer.send(QUEUE, [{ body: big, attributes: { tenant: 't1' } }, { body: 'small' }]);
    expect(log).toEqual(['PutObjectCommand', 'SendMessageBatchCommand']);
    const put = s3.calls[0]?.input;
    expect(put.Bucket).toBe('b');
    expect(put.Body).toBe(big);
    expect(typeof put.Key).toBe('string');
    expect(put.Key.length).toBeGreaterThan(0);
    const [pointerEntry, smallEntry] = entriesOf(sqs.calls[0] as SentCommand);
    expect(pointerEntry.MessageBody).toBe(pointerBody({ bucket: 'b', key: put.Key }));
    expect(pointerEntry.MessageAttributes).toEqual({
      tenant: { DataType: 'String', StringValue: 't1' },
      ExtendedPayloadSize: { DataType: 'Number', StringValue: String(2 * 1024 * 1024) },
    });
    expect(smallEntry).toEqual({ Id: '1', MessageBody: 'small' });
    expect(results[0]).toMatchObject({ ok: true, index: 0, payload: { bucket: 'b', key: put.Key } });
    expect(results[1]).toMatchObject({ ok: true, index: 1 });
    expect((results[1] as { payload?: unknown }).payload).toBeUndefined();
  });

  it('records the original size in bytes, not characters', async () => {
    const { s3, sqs, producer } = setup();
    const body = 'é'.repeat(600_000); // 1,200,000 bytes
    await producer.send(QUEUE, [{ body }]);
    expect(s3.calls).toHaveLength(1);
    expect(entriesOf(sqs.calls[0] as SentCommand)[0].MessageAttributes.ExtendedPayloadSize).toEqual({
      DataType: 'Number',
      StringValue: '1200000',
    });
  });

  it('rejects a message with 10 attributes that needs offload (at most 9); 9 is fine', async () => {
    const { s3, sqs, producer } = setup();
    const attrs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, 'v']));
    const big = 'y'.repeat(1_100_000);
    const results = await producer.send(QUEUE, [
      { body: big, attributes: attrs(10) },
      { body: big, attributes: attrs(9) },
    ]);
    const error = (results[0] as Extract<SendResult, { ok: false }>).error;
    expect(results[0]?.ok).toBe(false);
    expect(error).toBeInstanceOf(MessageValidationError);
    expect(error.message).toMatch(/9/);
    expect(results[1]?.ok).toBe(true);
    expect(s3.calls).toHaveLength(1);
    const entries = entriesOf(sqs.calls[0] as SentCommand);
    expect(entries).toHaveLength(1);
    expect(Object.keys(entries[0].MessageAttributes)).toHaveLength(10);
  });

  it('with always: true offloads small bodies too', async () => {
    const { s3, sqs, producer } = setup({ bucket: 'b', always: true, keyPrefix: 'pfx/' });
    const results = await producer.send(QUEUE, [{ body: 'tiny' }]);
    expect(s3.calls[0]?.input).toMatchObject({ Bucket: 'b', Body: 'tiny' });
    expect(s3.calls[0]?.input.Key).toMatch(/^pfx\/./);
    const [entry] = entriesOf(sqs.calls[0] as SentCommand);
    expect(parsePointer(entry.MessageBody)).toEqual({ bucket: 'b', key: s3.calls[0]?.input.Key });
    expect(entry.MessageAttributes.ExtendedPayloadSize).toEqual({ DataType: 'Number', StringValue: '4' });
    expect(results[0]?.ok).toBe(true);
  });

  it('offloads above thresholdBytes only', async () => {
    const { s3, sqs, producer } = setup({ bucket: 'b', thresholdBytes: 100 });
    await producer.send(QUEUE, [{ body: 'a'.repeat(100) }, { body: 'b'.repeat(101) }]);
    expect(s3.calls.map((c) => c.input.Body)).toEqual(['b'.repeat(101)]);
    const entries = entriesOf(sqs.calls[0] as SentCommand);
    expect(entries[0].MessageBody).toBe('a'.repeat(100));
    expect(parsePointer(entries[1].MessageBody)?.bucket).toBe('b');
  });

  it('offloads SNS messages over 262,144 bytes and publishes the pointer', async () => {
    const { log, s3, sqs, producer } = setup();
    const results = await producer.publish(TOPIC, [{ body: 'z'.repeat(262_145) }]);
    expect(log).toEqual(['PutObjectCommand', 'PublishBatchCommand']);
    const [entry] = entriesOf(sqs.calls[0] as SentCommand);
    expect(entry.Message).toBe(pointerBody({ bucket: 'b', key: s3.calls[0]?.input.Key }));
    expect(entry.MessageAttributes.ExtendedPayloadSize.StringValue).toBe('262145');
    expect(results[0]?.ok).toBe(true);
  });

  it('uses QUEUEKIT_LARGE_PAYLOAD_BUCKET when no bucket is given', async () => {
    vi.stubEnv('QUEUEKIT_LARGE_PAYLOAD_BUCKET', 'env-bucket');
    const { s3, producer } = setup({});
    await producer.send(QUEUE, [{ body: 'q'.repeat(1_048_577) }]);
    expect(s3.calls[0]?.input.Bucket).toBe('env-bucket');
  });

  it('reports a failed upload for that message alone', async () => {
    const { sqs, producer } = setup({ bucket: 'b' }, () => {
      throw serviceError('AccessDenied', 403);
    });
    const results = await producer.send(QUEUE, [{ body: 'q'.repeat(1_048_577) }, { body: 'small' }]);
    const error = (results[0] as Extract<SendResult, { ok: false }>).error as SendFailedError;
    expect(error).toBeInstanceOf(SendFailedError);
    expect(error.code).toBe('AccessDenied');
    expect(entriesOf(sqs.calls[0] as SentCommand).map((e) => e.MessageBody)).toEqual(['small']);
  });

  it('rejects thresholdBytes or always without a bucket at construction', () => {
    expect(() => new MessageProducer({ largePayloads: { thresholdBytes: 1000 } })).toThrow(RuntimeConfigError);
    expect(() => new MessageProducer({ largePayloads: { always: true } })).toThrow(RuntimeConfigError);
  });
});

describe('consumer resolution of offloaded bodies', () => {
  function fakeS3(objects: Record<string, string>, log: string[] = []) {
    return new FakeClient((command) => {
      if (command.name === 'GetObjectCommand') {
        const text = objects[`${command.input.Bucket}/${command.input.Key}`];
        if (text === undefined) throw serviceError('NoSuchKey', 404);
        return { Body: { transformToString: async () => text } };
      }
      if (command.name === 'DeleteObjectCommand') return {};
      throw new Error(`unexpected ${command.name}`);
    }, log);
  }

  const sizeAttribute = (name = 'ExtendedPayloadSize') => ({ [name]: { dataType: 'Number', stringValue: '17' } });

  async function consume(event: ReturnType<typeof sqsEvent>, s3: FakeClient, options = {}) {
    const seen: ConsumedMessage[] = [];
    const logger = new RecordingLogger();
    const result = await processBatch(
      event,
      (m) => {
        seen.push(m);
      },
      { logger, clients: { s3: s3.s3 }, ...options },
    );
    return { seen, result, logger };
  }

  it('fetches the body of a raw SQS pointer record with ExtendedPayloadSize', async () => {
    const s3 = fakeS3({ 'b/k1': '{"big":true,"n":1}' });
    const { seen, result } = await consume(
      sqsEvent({ body: pointerBody({ bucket: 'b', key: 'k1' }), attributes: sizeAttribute() }),
      s3,
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(s3.calls).toEqual([{ name: 'GetObjectCommand', input: { Bucket: 'b', Key: 'k1' } }]);
    expect(seen[0]?.body).toEqual({ big: true, n: 1 });
    expect(seen[0]?.text).toBe('{"big":true,"n":1}');
    expect(seen[0]?.payload).toEqual({ bucket: 'b', key: 'k1' });
    expect(seen[0]?.attributes).toEqual({ ExtendedPayloadSize: 17 });
  });

  it('fetches the body of a pointer inside an SNS envelope', async () => {
    const s3 = fakeS3({ 'b/k2': '{"via":"sns"}' });
    const body = snsEnvelope(pointerBody({ bucket: 'b', key: 'k2' }), {
      attributes: { ExtendedPayloadSize: { Type: 'Number', Value: '13' } },
    });
    const { seen } = await consume(sqsEvent({ body }), s3);
    expect(seen[0]?.source).toBe('sns');
    expect(seen[0]?.body).toEqual({ via: 'sns' });
    expect(seen[0]?.payload).toEqual({ bucket: 'b', key: 'k2' });
  });

  it('reads the legacy pointer class and size attribute', async () => {
    const s3 = fakeS3({ 'old/k3': '"legacy"' });
    const { seen } = await consume(
      sqsEvent({
        body: '["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"old","s3Key":"k3"}]',
        attributes: sizeAttribute('SQSLargePayloadSize'),
      }),
      s3,
    );
    expect(seen[0]?.body).toBe('legacy');
    expect(seen[0]?.payload).toEqual({ bucket: 'old', key: 'k3' });
  });

  it('leaves a pointer-shaped body without the size attribute alone', async () => {
    const s3 = fakeS3({});
    const body = pointerBody({ bucket: 'b', key: 'k' });
    const { seen } = await consume(sqsEvent({ body }), s3);
    expect(s3.calls).toEqual([]);
    expect(seen[0]?.body).toEqual(JSON.parse(body));
    expect(seen[0]?.text).toBe(body);
    expect(seen[0]?.payload).toBeUndefined();
  });

  it('does not fetch with largePayloads.resolve: false', async () => {
    const s3 = fakeS3({ 'b/k': '{}' });
    const { seen } = await consume(
      sqsEvent({ body: pointerBody({ bucket: 'b', key: 'k' }), attributes: sizeAttribute() }),
      s3,
      { largePayloads: { resolve: false } },
    );
    expect(s3.calls).toEqual([]);
    expect(seen[0]?.payload).toBeUndefined();
  });

  it('fails the record alone when the object cannot be read', async () => {
    const s3 = fakeS3({ 'b/there': '{"ok":1}' });
    const { seen, result, logger } = await consume(
      sqsEvent(
        { body: pointerBody({ bucket: 'b', key: 'gone' }), attributes: sizeAttribute(), messageId: 'gone' },
        { body: pointerBody({ bucket: 'b', key: 'there' }), attributes: sizeAttribute(), messageId: 'there' },
      ),
      s3,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'gone' }] });
    expect(seen.map((m) => m.messageId)).toEqual(['there']);
    expect(logger.named('record failed')[0]?.fields).toMatchObject({
      messageId: 'gone',
      errorName: 'PayloadFetchError',
    });
  });

  it('with deleteAfterSuccess deletes the object only after the handler succeeded', async () => {
    const log: string[] = [];
    const s3 = fakeS3({ 'b/ok': '{"fail":false}', 'b/bad': '{"fail":true}' }, log);
    const result = await processBatch<{ fail: boolean }>(
      sqsEvent(
        { body: pointerBody({ bucket: 'b', key: 'ok' }), attributes: sizeAttribute(), messageId: 'ok' },
        { body: pointerBody({ bucket: 'b', key: 'bad' }), attributes: sizeAttribute(), messageId: 'bad' },
      ),
      (m) => {
        log.push(`handler ${m.messageId} ${m.body.fail ? 'fails' : 'succeeds'}`);
        if (m.body.fail) throw new Error('handler failed');
      },
      {
        logger: new RecordingLogger(),
        clients: { s3: s3.s3 },
        largePayloads: { deleteAfterSuccess: true },
        concurrency: 1,
      },
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(s3.named('DeleteObjectCommand').map((c) => c.input)).toEqual([{ Bucket: 'b', Key: 'ok' }]);
    expect(log).toEqual([
      'GetObjectCommand',
      'handler ok succeeds',
      'DeleteObjectCommand',
      'GetObjectCommand',
      'handler bad fails',
    ]);
  });

  it('does not delete by default', async () => {
    const s3 = fakeS3({ 'b/k': '{}' });
    await consume(sqsEvent({ body: pointerBody({ bucket: 'b', key: 'k' }), attributes: sizeAttribute() }), s3);
    expect(s3.calls.map((c) => c.name)).toEqual(['GetObjectCommand']);
  });
});
