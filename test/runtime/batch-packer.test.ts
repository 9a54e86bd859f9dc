import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MessageProducer, type OutgoingMessage, packBatches } from '../../lib/runtime/index.js';
import { acceptAll, entriesOf, entryBytes, FakeClient, type SentCommand } from './helpers.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:events';
const KiB = 1024;
const SQS_LIMIT = 1_048_576;
const SNS_LIMIT = 262_144;

function producer() {
  const client = new FakeClient(acceptAll);
  return { client, producer: new MessageProducer({ clients: { sqs: client.sqs, sns: client.sns } }) };
}

/** A body of `bytes` bytes whose first characters identify it. */
const body = (tag: string, bytes: number) => `${tag}:`.padEnd(bytes, '.');

beforeEach(() => {
  vi.stubEnv('QUEUEKIT_LARGE_PAYLOAD_BUCKET', undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('packBatches', () => {
  const sized = (...sizes: number[]) => sizes.map((sizeBytes, i) => ({ i, sizeBytes }));
  const shape = (batches: { i: number }[][]) => batches.map((b) => b.map((x) => x.i));

  it('closes a batch at maxEntries', () => {
    expect(shape(packBatches(sized(...Array(7).fill(1)), { maxEntries: 3, maxBytes: 100 }))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6],
    ]);
  });

  it('closes a batch before the next item would exceed maxBytes; an item of exactly maxBytes is alone', () => {
    expect(shape(packBatches(sized(40, 60, 1, 100, 50, 50, 51), { maxEntries: 10, maxBytes: 100 }))).toEqual([
      [0, 1],
      [2],
      [3],
      [4, 5],
      [6],
    ]);
  });

  it('returns no batches for no items', () => {
    expect(packBatches([], { maxEntries: 10, maxBytes: 100 })).toEqual([]);
  });

  it('throws a RangeError for an item larger than maxBytes', () => {
    expect(() => packBatches(sized(10, 101), { maxEntries: 10, maxBytes: 100 })).toThrow(RangeError);
  });
});

describe('producer packing', () => {
  it('sends 25 small messages as batches of 10, 10, 5 with unique valid entry ids; results in input order', async () => {
    const { client, producer: p } = producer();
    const messages = Array.from({ length: 25 }, (_, i) => ({ body: `msg-${i}` }));
    const results = await p.send(QUEUE, messages);
    expect(client.calls.map((c) => c.name)).toEqual(Array(3).fill('SendMessageBatchCommand'));
    expect(client.calls.map((c) => c.input.QueueUrl)).toEqual([QUEUE, QUEUE, QUEUE]);
    expect(client.calls.map((c) => entriesOf(c).length)).toEqual([10, 10, 5]);
    const entries = client.calls.flatMap(entriesOf);
    const ids = entries.map((e) => e.Id as string);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    for (const c of client.calls) expect(new Set(entriesOf(c).map((e) => e.Id)).size).toBe(entriesOf(c).length);
    expect(new Set(ids).size).toBe(25);
    expect(entries.map((e) => e.MessageBody)).toEqual(messages.map((m) => m.body));
    expect(results.map((r) => [r.index, r.ok && r.messageId])).toEqual(messages.map((m, i) => [i, `sent:${m.body}`]));
  });

  it('packs 5 messages of 400 KiB two by two, never over 1,048,576 bytes per batch', async () => {
    const { client, producer: p } = producer();
    const messages = Array.from({ length: 5 }, (_, i) => ({ body: body(`m${i}`, 400 * KiB) }));
    const results = await p.send(QUEUE, messages);
    expect(client.calls.map((c) => entriesOf(c).length)).toEqual([2, 2, 1]);
    for (const c of client.calls)
      expect(entriesOf(c).reduce((n, e) => n + entryBytes(e), 0)).toBeLessThanOrEqual(SQS_LIMIT);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('packs mixed sizes (attributes counted) within the limit, in input order; a 1 MiB message goes alone', async () => {
    const { client, producer: p } = producer();
    const messages: OutgoingMessage[] = [
      { body: body('a', 700 * KiB), attributes: { tenant: 't-1', n: 7 } },
      { body: body('b', 324 * KiB) },
      { body: body('c', 24 * KiB - 17), attributes: { k: 'v' } },
      { body: body('d', 100 * KiB) },
      { body: body('e', 900 * KiB) },
      ...Array.from({ length: 12 }, (_, i) => ({ body: body(`s${i}`, KiB) })),
      { body: body('full', SQS_LIMIT - 8), attributes: { k: 'v' } }, // exactly 1 MiB with its attribute
      { body: body('after', 10) },
      { body: body('whole', SQS_LIMIT) },
    ];
    const results = await p.send(QUEUE, messages);
    expect(results.every((r) => r.ok)).toBe(true);
    const batches = client.calls.map(entriesOf);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(10);
      expect(batch.reduce((n, e) => n + entryBytes(e), 0)).toBeLessThanOrEqual(SQS_LIMIT);
    }
    expect(batches.flat().map((e) => e.MessageBody)).toEqual(messages.map((m) => m.body));
    const tags = batches.map((b) => b.map((e) => (e.MessageBody as string).split(':')[0]));
    expect(tags.find((t) => t.includes('full'))).toEqual(['full']);
    expect(tags.find((t) => t.includes('whole'))).toEqual(['whole']);
    // a (700 KiB + 23 attribute bytes) + b (324 KiB) is 23 bytes over: attributes count, so a goes alone
    expect(tags[0]).toEqual(['a']);
    expect(batches.flat().find((e) => e.MessageBody.startsWith('a:'))?.MessageAttributes).toEqual({
      tenant: { DataType: 'String', StringValue: 't-1' },
      n: { DataType: 'Number', StringValue: '7' },
    });
  });

  it('publishes to SNS with PublishBatch, at most 262,144 bytes and 10 entries per batch', async () => {
    const { client, producer: p } = producer();
    const messages: OutgoingMessage[] = [
      ...Array.from({ length: 5 }, (_, i) => ({ body: body(`big${i}`, 100 * KiB) })),
      { body: body('max', SNS_LIMIT) },
      ...Array.from({ length: 13 }, (_, i) => ({ body: body(`s${i}`, 100), subject: `subject ${i}` })),
    ];
    const results = await p.publish(TOPIC, messages);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(new Set(client.calls.map((c) => c.name))).toEqual(new Set(['PublishBatchCommand']));
    expect(client.calls.every((c: SentCommand) => c.input.TopicArn === TOPIC)).toBe(true);
    const batches = client.calls.map(entriesOf);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1, 1, 10, 3]);
    for (const batch of batches) expect(batch.reduce((n, e) => n + entryBytes(e), 0)).toBeLessThanOrEqual(SNS_LIMIT);
    expect(batches.flat().map((e) => e.Message)).toEqual(messages.map((m) => m.body));
    expect(batches[4]?.[0]).toEqual({ Id: '6', Message: body('s0', 100), Subject: 'subject 0' });
  });
});
