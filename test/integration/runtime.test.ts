/**
 * The runtime (lib/runtime) against a real server: fauxqs in-process, reached through the real AWS SDK clients that
 * the runtime's own client factory builds. Producer → real queue/topic → receive; the consumer fed with real SNS
 * envelopes and real FIFO messages; S3 offload round trips on fauxqs's S3; retry backoff through a real
 * ChangeMessageVisibility.
 */
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type Message, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientOptions,
  type ConsumedMessage,
  destroyClients,
  MessageProducer,
  PayloadTooLargeError,
  processBatch,
  s3Client,
  snsClient,
  sqsClient,
} from '../../lib/runtime/index.js';
import { EmulatorResources, must, type TestQueue } from '../support/emulator-resources.js';
import { type EmbeddedEmulator, startEmbeddedEmulator } from '../support/fauxqs-server.js';
import { lambdaContext } from '../support/lambda-poller.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { toSqsRecord } from '../support/sqs-records.js';

let emulator: EmbeddedEmulator;
let clients: ClientOptions;
let resources: EmulatorResources;
const BUCKET = 'queuekit-payloads';

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  // An empty env: the factory must not pick up a developer's AWS_PROFILE or keys for the emulator.
  clients = { endpoint: emulator.endpoint, env: {} };
  resources = new EmulatorResources(sqsClient(clients), snsClient(clients));
  await s3Client(clients).send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  destroyClients();
  await emulator?.stop();
});

const eventOf = (queue: TestQueue, messages: readonly Message[]): SQSEvent => ({
  Records: messages.map((m) => toSqsRecord(m, queue, emulator.region)),
});

/** Receives until `count` messages have arrived (deleting them), then returns them as one Lambda event. */
async function receiveEvent(queue: TestQueue, count: number, attempts = 20): Promise<SQSEvent> {
  return eventOf(queue, await resources.receiveExactly(queue, count, attempts));
}

async function consume<T>(event: SQSEvent, options: Parameters<typeof processBatch<T>>[2] = {}) {
  const seen: ConsumedMessage<T>[] = [];
  const logger = new RecordingLogger();
  const response = await processBatch<T>(
    event,
    (m) => void seen.push(m),
    { logger, clients, ...options },
    lambdaContext(),
  );
  return { seen, response, logger };
}

describe('producer → real queue', () => {
  it('sends 25 messages with typed attributes in 3 batches and every one arrives with its attributes', async () => {
    const queue = await resources.createQueue('rt-send');
    const producer = new MessageProducer({ clients });
    const results = await producer.send(
      queue.url,
      Array.from({ length: 25 }, (_, i) => ({
        body: { i, kind: i % 2 ? 'image' : 'text' },
        attributes: { kind: i % 2 ? 'image' : 'text', seq: i, blob: new Uint8Array([i, 255]) },
      })),
    );
    expect(results.map((r) => r.ok)).toEqual(Array(25).fill(true));
    expect(results.map((r) => r.index)).toEqual([...Array(25).keys()]);
    const { seen } = await consume<{ i: number; kind: string }>(await receiveEvent(queue, 25));
    expect(seen.map((m) => m.body.i).sort((a, b) => a - b)).toEqual([...Array(25).keys()]);
    for (const m of seen) {
      expect(m.source).toBe('sqs');
      expect(m.attributes.kind).toBe(m.body.kind);
      expect(m.attributes.seq).toBe(m.body.i);
      expect([...(m.attributes.blob as Uint8Array)]).toEqual([m.body.i, 255]);
      expect(m.queue).toBe('rt-send');
      expect(results[m.body.i]).toMatchObject({ ok: true, messageId: m.messageId });
    }
  });

  it('packs mixed sizes up to the 1 MiB batch limit: a message of exactly 1,048,576 bytes and 900 KiB ones all arrive', async () => {
    const queue = await resources.createQueue('rt-sizes');
    const producer = new MessageProducer({ clients });
    const sizes = [1_048_576, 921_600, 1024, 921_600, 150_000, 150_000, 700_000, 10];
    const results = await producer.send(
      queue.url,
      sizes.map((size, i) => ({ body: String(i).padEnd(size, 'x') })),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const { seen } = await consume(await receiveEvent(queue, sizes.length), { bodyFormat: 'text' });
    expect(seen.map((m) => m.text.length).sort((a, b) => a - b)).toEqual([...sizes].sort((a, b) => a - b));
  });

  it('fails only the over-limit message, before any call, with the fix in the error, when no bucket is set', async () => {
    const queue = await resources.createQueue('rt-too-large');
    const results = await new MessageProducer({ clients }).send(queue.url, [
      { body: 'fits' },
      { body: 'x'.repeat(1_048_577) },
    ]);
    expect(results[0]?.ok).toBe(true);
    const failed = results[1];
    expect(failed?.ok).toBe(false);
    if (failed?.ok === false) {
      expect(failed.error).toBeInstanceOf(PayloadTooLargeError);
      expect(failed.error.message).toContain('largePayloads');
    }
  });
});

describe('consumer on real SNS deliveries', () => {
  it('unwraps an envelope taken from fauxqs: inner body, attributes from the envelope, topic and SNS ids', async () => {
    const topicArn = await resources.createTopic('rt-jobs');
    const enveloped = await resources.createQueue('rt-jobs-enveloped');
    const raw = await resources.createQueue('rt-jobs-raw');
    await resources.subscribeQueue(topicArn, enveloped);
    await resources.subscribeQueue(topicArn, raw, { RawMessageDelivery: 'true' });
    const producer = new MessageProducer({ clients });
    const published = await producer.publishOne(topicArn, {
      body: { jobId: 'j-1', prompt: 'a red bicycle' },
      attributes: { kind: 'image', cost: 42 },
      subject: 'new job',
    });

    const fromEnvelope = await consume<{ jobId: string }>(await receiveEvent(enveloped, 1));
    const m = must(fromEnvelope.seen[0], 'enveloped message');
    expect(m.source).toBe('sns');
    expect(m.body).toEqual({ jobId: 'j-1', prompt: 'a red bicycle' });
    expect(m.topicArn).toBe(topicArn);
    expect(m.snsMessageId).toBe(published.messageId);
    expect(m.subject).toBe('new job');
    expect(m.attributes).toEqual({ kind: 'image', cost: 42 });
    expect(m.publishedAt).toBeInstanceOf(Date);

    const fromRaw = await consume<{ jobId: string }>(await receiveEvent(raw, 1));
    const r = must(fromRaw.seen[0], 'raw message');
    expect(r.source).toBe('sqs');
    expect(r.body).toEqual({ jobId: 'j-1', prompt: 'a red bicycle' });
    expect(r.attributes).toEqual({ kind: 'image', cost: 42 });
  });

  it('fails exactly the records that break the contract, with the issues logged, and runs the rest', async () => {
    const topicArn = await resources.createTopic('rt-contract');
    const queue = await resources.createQueue('rt-contract-q');
    await resources.subscribeQueue(topicArn, queue);
    const producer = new MessageProducer({ clients });
    const sent = await producer.publish(topicArn, [
      { body: { jobId: 'ok-1', prompt: 'x' } },
      { body: { jobId: 'bad' } },
      { body: 'not json' },
      { body: { jobId: 'ok-2', prompt: 'y' } },
    ]);
    const snsIds = sent.map((s) => (s.ok ? s.messageId : ''));
    const { z } = await import('zod');
    const contract = z.object({ jobId: z.string(), prompt: z.string().min(1) });
    const event = await receiveEvent(queue, 4);
    const { seen, response, logger } = await consume(event, { contract });
    expect(seen.map((m) => m.body.jobId).sort()).toEqual(['ok-1', 'ok-2']);
    const bySnsId = (id: string) =>
      must(
        event.Records.find((r) => (JSON.parse(r.body) as { MessageId: string }).MessageId === id),
        `record of ${id}`,
      ).messageId;
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [bySnsId(must(snsIds[1], 'id')), bySnsId(must(snsIds[2], 'id'))].sort(),
    );
    const failures = logger.named('record failed');
    expect(failures.map((l) => l.fields.reason)).toEqual(['contract', 'contract']);
    expect(failures.flatMap((l) => l.fields.issues as string[]).join(' ')).toContain('prompt');
  });
});

describe('S3 offload (AWS extended client format) on fauxqs S3', () => {
  it('round-trips a 2 MB body through SQS: pointer on the wire, the original in the handler', async () => {
    const queue = await resources.createQueue('rt-large');
    const producer = new MessageProducer({ clients, largePayloads: { bucket: BUCKET } });
    const body = JSON.stringify({ blob: 'é'.repeat(1_000_000) });
    const [result] = await producer.send(queue.url, [{ body, attributes: { kind: 'image' } }]);
    expect(result?.ok).toBe(true);
    const pointer = result?.ok ? must(result.payload, 'payload') : undefined;
    expect(pointer?.bucket).toBe(BUCKET);

    const [wire] = await resources.receiveOnce(queue);
    const message = must(wire, 'message');
    expect(JSON.parse(must(message.Body, 'body'))).toEqual([
      'software.amazon.payloadoffloading.PayloadS3Pointer',
      { s3BucketName: BUCKET, s3Key: pointer?.key },
    ]);
    expect(message.MessageAttributes?.ExtendedPayloadSize).toEqual({
      DataType: 'Number',
      StringValue: String(Buffer.byteLength(body)),
    });
    const stored = await s3Client(clients).send(new GetObjectCommand({ Bucket: BUCKET, Key: pointer?.key }));
    expect(await stored.Body?.transformToString()).toBe(body);

    const { seen } = await consume<{ blob: string }>(eventOf(queue, [message]));
    expect(seen[0]?.text).toBe(body);
    expect(seen[0]?.body.blob.length).toBe(1_000_000);
    expect(seen[0]?.attributes.kind).toBe('image');
    expect(seen[0]?.payload).toEqual(pointer);
  });

  it('offloads a 300 KiB publish (over SNS 256 KiB) and an enveloped subscriber reads the original', async () => {
    const topicArn = await resources.createTopic('rt-large-topic');
    const queue = await resources.createQueue('rt-large-topic-q');
    await resources.subscribeQueue(topicArn, queue);
    const producer = new MessageProducer({ clients, largePayloads: { bucket: BUCKET } });
    const body = 'p'.repeat(300 * 1024);
    const sent = await producer.publishOne(topicArn, { body });
    expect(sent.payload?.bucket).toBe(BUCKET);
    const { seen } = await consume(await receiveEvent(queue, 1), { bodyFormat: 'text' });
    expect(seen[0]?.source).toBe('sns');
    expect(seen[0]?.body).toBe(body);
  });

  it('reads a pointer written the way a Java/Python extended client writes it', async () => {
    const queue = await resources.createQueue('rt-java-pointer');
    const key = 'from-java/0001';
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await s3Client(clients).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{"from":"java"}' }));
    await sqsClient(clients).send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify([
          'software.amazon.payloadoffloading.PayloadS3Pointer',
          { s3BucketName: BUCKET, s3Key: key },
        ]),
        MessageAttributes: { ExtendedPayloadSize: { DataType: 'Number', StringValue: '15' } },
      }),
    );
    const { seen } = await consume(await receiveEvent(queue, 1));
    expect(seen[0]?.body).toEqual({ from: 'java' });
  });
});

describe('FIFO through a real FIFO queue', () => {
  it('keeps per-group order for 60 messages in 4 groups sent with concurrency, and dedups by content', async () => {
    const queue = await resources.createQueue('rt-order.fifo', { FifoQueue: 'true' });
    const producer = new MessageProducer({ clients, concurrency: 8 });
    const groups = ['a', 'b', 'c', 'd'];
    const messages = Array.from({ length: 60 }, (_, i) => ({
      body: { group: groups[i % 4], seq: Math.floor(i / 4) },
      groupId: groups[i % 4],
    }));
    const results = await producer.send(queue.url, messages);
    expect(results.every((r) => r.ok)).toBe(true);
    // The same content again: deduplicated (the id defaults to the body's SHA-256), so the queue still holds 60.
    const again = await producer.send(queue.url, messages.slice(0, 5));
    expect(again.every((r) => r.ok)).toBe(true);

    const event = await receiveEvent(queue, 60, 200);
    const { seen } = await consume<{ group: string; seq: number }>(event);
    for (const g of groups) {
      expect(seen.filter((m) => m.groupId === g).map((m) => m.body.seq)).toEqual([...Array(15).keys()]);
    }
    await resources.expectNoMessage(queue);
  });

  it('consumer on real FIFO records: a failure stops its group only, in event order', async () => {
    const queue = await resources.createQueue('rt-consume.fifo', {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    const producer = new MessageProducer({ clients });
    await producer.send(queue.url, [
      { body: { id: 'a1' }, groupId: 'a' },
      { body: { id: 'b1' }, groupId: 'b' },
      { body: { id: 'a2', fail: true }, groupId: 'a' },
      { body: { id: 'b2' }, groupId: 'b' },
      { body: { id: 'a3' }, groupId: 'a' },
    ]);
    const event = await receiveEvent(queue, 5, 30);
    const ran: string[] = [];
    const response = await processBatch<{ id: string; fail?: boolean }>(
      event,
      ({ body }) => {
        if (body.fail) throw new Error(`${body.id} failed`);
        ran.push(body.id);
      },
      { logger: new RecordingLogger(), allFailed: 'report' },
    );
    expect(ran.filter((id) => id.startsWith('a'))).toEqual(['a1']);
    expect(ran.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2']);
    const idOf = (messageId: string) =>
      (
        JSON.parse(
          must(
            event.Records.find((r) => r.messageId === messageId),
            'record',
          ).body,
        ) as { id: string }
      ).id;
    expect(response.batchItemFailures.map((f) => idOf(f.itemIdentifier)).sort()).toEqual(['a2', 'a3']);
  });
});

describe('retry backoff through ChangeMessageVisibility', () => {
  it('keeps a failed message invisible for the backoff delay instead of the queue visibility timeout', async () => {
    const queue = await resources.createQueue('rt-backoff', { VisibilityTimeout: '1' });
    await new MessageProducer({ clients }).sendOne(queue.url, { body: { job: 1 } });
    const messages = await resources.receiveOnce(queue);
    expect(messages).toHaveLength(1);
    const logger = new RecordingLogger();
    await expect(
      processBatch(
        eventOf(queue, messages),
        () => {
          throw new Error('downstream down');
        },
        { logger, clients, retryBackoff: { baseSeconds: 30, maxSeconds: 60 } },
        lambdaContext(),
      ),
    ).rejects.toThrow('All 1 records of the batch failed');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // Without backoff the message would be back after 1 s; with it, it stays in flight for 15–30 s.
    await resources.expectNoMessage(queue);
    const { Attributes } = await sqsClient(clients).send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('1');
    expect(logger.named('retry backoff not applied')).toEqual([]);
  });
});
