import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type MessageAttributes,
  MessageProducer,
  MessageValidationError,
  type SendResult,
} from '../../lib/runtime/index.js';
import { attributesByteSize, numberAttribute, toWireAttributes } from '../../lib/runtime/message-attributes.js';
import { acceptAll, entriesOf, FakeClient, type SentCommand } from './helpers.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:events';

beforeEach(() => {
  vi.stubEnv('QUEUEKIT_LARGE_PAYLOAD_BUCKET', undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** Sends `[{ attributes }, { body: 'control' }]` and returns the first result and what was sent. */
async function sendWith(attributes: MessageAttributes, target = QUEUE) {
  const client = new FakeClient(acceptAll);
  const producer = new MessageProducer({ clients: { sqs: client.sqs, sns: client.sns } });
  const results = await (target === QUEUE
    ? producer.send(target, [{ body: 'tested', attributes }, { body: 'control' }])
    : producer.publish(target, [{ body: 'tested', attributes }, { body: 'control' }]));
  expect(results[1]?.ok).toBe(true);
  const entries = client.calls.flatMap((c: SentCommand) => entriesOf(c));
  return { result: results[0] as SendResult, entries };
}

async function rejected(attributes: MessageAttributes, pattern: RegExp): Promise<void> {
  const { result, entries } = await sendWith(attributes);
  expect(result.ok).toBe(false);
  const error = (result as Extract<SendResult, { ok: false }>).error;
  expect(error).toBeInstanceOf(MessageValidationError);
  expect(error.message).toMatch(pattern);
  // validated before the network call: only the control message went out
  expect(entries.map((e) => e.MessageBody)).toEqual(['control']);
}

describe('attribute validation in the producer', () => {
  it('sends typed attributes in the wire shape', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const { result, entries } = await sendWith({
      s: 'text',
      n: 42,
      f: -0.5,
      big: 123456789012345678901234567890n,
      bin: bytes,
      custom: { type: 'Number.float', value: '1.25' },
      label: { type: 'String.label', value: 'x' },
      blob: { type: 'Binary.gz', value: bytes },
    });
    expect(result.ok).toBe(true);
    expect(entries[0]?.MessageAttributes).toEqual({
      s: { DataType: 'String', StringValue: 'text' },
      n: { DataType: 'Number', StringValue: '42' },
      f: { DataType: 'Number', StringValue: '-0.5' },
      big: { DataType: 'Number', StringValue: '123456789012345678901234567890' },
      bin: { DataType: 'Binary', BinaryValue: bytes },
      custom: { DataType: 'Number.float', StringValue: '1.25' },
      label: { DataType: 'String.label', StringValue: 'x' },
      blob: { DataType: 'Binary.gz', BinaryValue: bytes },
    });
    expect(entries[1]?.MessageAttributes).toBeUndefined();
  });

  it('accepts exactly 10 attributes and rejects 11', async () => {
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, 'v']));
    expect((await sendWith(ten)).result.ok).toBe(true);
    await rejected({ ...ten, a10: 'v' }, /11 attributes; at most 10/);
  });

  it.each([
    ['aws.x', /reserved by AWS/],
    ['AWS.trace', /reserved by AWS/],
    ['amazon.thing', /reserved by AWS/],
    ['a..b', /period/],
    ['.a', /period/],
    ['a.', /period/],
    ['x'.repeat(257), /1–256 characters/],
    ['ExtendedPayloadSize', /large-payload/],
    ['SQSLargePayloadSize', /large-payload/],
    ['bad name', /only A-Z/],
    ['naïve', /only A-Z/],
    ['', /1–256 characters/],
  ])('rejects the attribute name %j', async (name, pattern) => {
    await rejected({ [name]: 'v' }, pattern);
  });

  it('accepts names at the edges of the rules', async () => {
    const { result } = await sendWith({ ['x'.repeat(256)]: 'v', 'a.b-c_D9': 'v', awsish: 'v', 'amazonia.x': 'v' });
    expect(result.ok).toBe(true);
  });

  it.each<[string, MessageAttributes, RegExp]>([
    ['an empty String', { s: '' }, /'s' is empty/],
    ['an empty explicit String', { s: { type: 'String', value: '' } }, /'s' is empty/],
    ['an empty Binary', { b: new Uint8Array(0) }, /'b' is empty/],
    ['NaN', { n: Number.NaN }, /must be finite/],
    ['Infinity', { n: Number.POSITIVE_INFINITY }, /must be finite/],
    ['-Infinity', { n: Number.NEGATIVE_INFINITY }, /must be finite/],
    ['a Number string that is not a number', { n: { type: 'Number', value: 'NaN' } }, /not a decimal number/],
    ['a Number of 39 significant digits', { n: 10n ** 38n + 1n }, /39 significant digits/],
    ['an unknown data type', { x: { type: 'Text', value: 'a' } }, /data type 'Text'/],
    ['a Binary given a string', { x: { type: 'Binary', value: 'abc' } }, /Uint8Array/],
    ['a String given bytes', { x: { type: 'String', value: new Uint8Array([1]) } }, /as a string/],
    ['a String with U+0000', { s: 'a\u0000' }, /U\+0000/],
    ['a String with a lone surrogate', { s: 'a\uDC00' }, /U\+DC00/],
  ])('rejects %s', async (_, attributes, pattern) => {
    await rejected(attributes, pattern);
  });

  it('accepts a bigint Number and 38 significant digits', async () => {
    const { result, entries } = await sendWith({ id: 2n ** 100n, max: 10n ** 37n * 9n + 1n });
    expect(result.ok).toBe(true);
    expect(entries[0]?.MessageAttributes).toEqual({
      id: { DataType: 'Number', StringValue: (2n ** 100n).toString() },
      max: { DataType: 'Number', StringValue: (10n ** 37n * 9n + 1n).toString() },
    });
  });

  it('validates SNS attributes the same way', async () => {
    const { result, entries } = await sendWith({ 'aws.x': 'v' }, TOPIC);
    expect(result.ok).toBe(false);
    expect(entries.map((e) => e.Message)).toEqual(['control']);
  });
});

describe('attribute helpers', () => {
  it('toWireAttributes returns undefined for no attributes', () => {
    expect(toWireAttributes(undefined)).toBeUndefined();
    expect(toWireAttributes({})).toBeUndefined();
  });

  it('toWireAttributes with a lower maxCount explains the offload slot', () => {
    expect(() => toWireAttributes(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, 'v'])), 9)).toThrow(
      /at most 9 are allowed when the body is offloaded/,
    );
  });

  it('attributesByteSize counts name + type + value bytes', () => {
    expect(attributesByteSize(undefined)).toBe(0);
    expect(
      attributesByteSize({
        ü: { DataType: 'String', StringValue: 'é' }, // 2 + 6 + 2
        n: { DataType: 'Number', StringValue: '12' }, // 1 + 6 + 2
        b: { DataType: 'Binary', BinaryValue: new Uint8Array(5) }, // 1 + 6 + 5
      }),
    ).toBe(31);
  });

  it('numberAttribute returns a number only when it round-trips exactly', () => {
    expect(numberAttribute('42')).toBe(42);
    expect(numberAttribute('-3.25')).toBe(-3.25);
    expect(numberAttribute('12345678901234567890')).toBe('12345678901234567890');
    expect(numberAttribute('9007199254740993')).toBe('9007199254740993');
  });
});
