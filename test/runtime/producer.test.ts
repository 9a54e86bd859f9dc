import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MessageProducer,
  MessageValidationError,
  type OutgoingMessage,
  PayloadTooLargeError,
  PRODUCER_DEFAULTS,
  RuntimeConfigError,
  SendFailedError,
  type SendResult,
} from '../../lib/runtime/index.js';
import { acceptAll, entriesOf, FakeClient, type SentCommand, serviceError, tick, until } from './helpers.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs';
const FIFO_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:events';
const FIFO_TOPIC = 'arn:aws:sns:us-east-1:123456789012:events.fifo';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A producer on fake clients; retries fast. */
function producerWith(
  script: (command: SentCommand, call: number) => unknown = acceptAll,
  options: { concurrency?: number; maxAttempts?: number } = {},
) {
  const client = new FakeClient(script);
  const producer = new MessageProducer({
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 2,
    ...options,
    clients: { sqs: client.sqs, sns: client.sns },
  });
  return { client, producer };
}

const sentBodies = (client: FakeClient) =>
  client.calls.flatMap((c) =>
    entriesOf(c).map((e: { MessageBody?: string; Message?: string }) => (e.MessageBody ?? e.Message) as string),
  );

function errorOf(result: SendResult | undefined): Error {
  expect(result?.ok).toBe(false);
  return (result as Extract<SendResult, { ok: false }>).error;
}

beforeEach(() => {
  vi.stubEnv('QUEUEKIT_LARGE_PAYLOAD_BUCKET', undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('validation before any network call', () => {
  it('rejects a FIFO message without groupId, naming groupId; others are still sent', async () => {
    const { client, producer } = producerWith();
    const results = await producer.send(FIFO_QUEUE, [{ body: 'one', groupId: 'g' }, { body: 'two' }]);
    expect(results[0]).toMatchObject({ ok: true, index: 0, messageId: 'sent:one' });
    const error = errorOf(results[1]);
    expect(error).toBeInstanceOf(MessageValidationError);
    expect(error.message).toContain('groupId');
    expect(sentBodies(client)).toEqual(['one']);
  });

  it('sends nothing when every message is invalid', async () => {
    const { client, producer } = producerWith();
    const results = await producer.send(FIFO_QUEUE, [{ body: 'a' }, { body: 'b' }]);
    expect(results.map((r) => r.ok)).toEqual([false, false]);
    expect(client.calls).toEqual([]);
  });

  it('defaults the FIFO deduplication id to the SHA-256 hex of the body, and keeps an explicit one', async () => {
    const { client, producer } = producerWith();
    await producer.send(FIFO_QUEUE, [
      { body: 'hello', groupId: 'g' },
      { body: { n: 1 }, groupId: 'g' },
      { body: 'x', groupId: 'h', deduplicationId: 'my-dedup' },
    ]);
    const entries = entriesOf(client.calls[0] as SentCommand);
    expect(entries.map((e) => [e.MessageBody, e.MessageGroupId, e.MessageDeduplicationId])).toEqual([
      ['hello', 'g', sha256('hello')],
      ['{"n":1}', 'g', sha256('{"n":1}')],
      ['x', 'h', 'my-dedup'],
    ]);
    expect(sha256('hello')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does the same for a FIFO topic', async () => {
    const { client, producer } = producerWith();
    const results = await producer.publish(FIFO_TOPIC, [{ body: 'p', groupId: 'g' }, { body: 'q' }]);
    expect(results[0]?.ok).toBe(true);
    expect(errorOf(results[1]).message).toContain('groupId');
    expect(entriesOf(client.calls[0] as SentCommand)).toEqual([
      { Id: '0', Message: 'p', MessageGroupId: 'g', MessageDeduplicationId: sha256('p') },
    ]);
  });

  it.each<[string, string, OutgoingMessage, RegExp]>([
    ['deduplicationId on a standard queue', QUEUE, { body: 'b', deduplicationId: 'd' }, /deduplicationId/],
    ['delaySeconds on a FIFO queue', FIFO_QUEUE, { body: 'b', groupId: 'g', delaySeconds: 5 }, /delaySeconds/],
    ['delaySeconds 901', QUEUE, { body: 'b', delaySeconds: 901 }, /delaySeconds 901/],
    ['delaySeconds -1', QUEUE, { body: 'b', delaySeconds: -1 }, /delaySeconds/],
    ['delaySeconds 1.5', QUEUE, { body: 'b', delaySeconds: 1.5 }, /delaySeconds/],
    ['an empty string body', QUEUE, { body: '' }, /empty body/],
    ['an undefined body', QUEUE, { body: undefined }, /empty body/],
    ['a body with U+0000', QUEUE, { body: 'a\u0000b' }, /U\+0000/],
    ['a body with U+FFFE', QUEUE, { body: 'a\uFFFEb' }, /U\+FFFE/],
    ['a body with a lone high surrogate', QUEUE, { body: 'a\uD83Db' }, /U\+D83D/],
    ['a body with a lone low surrogate', QUEUE, { body: 'a\uDE00' }, /U\+DE00/],
    ['a groupId of 129 characters', FIFO_QUEUE, { body: 'b', groupId: 'g'.repeat(129) }, /groupId/],
    ['a groupId with a space', FIFO_QUEUE, { body: 'b', groupId: 'a b' }, /groupId/],
  ])('rejects %s', async (_, target, message, pattern) => {
    const { client, producer } = producerWith();
    const results = await producer.send(target, [message, { body: 'fine', groupId: 'ok' }]);
    const error = errorOf(results[0]);
    expect(error).toBeInstanceOf(MessageValidationError);
    expect(error.message).toMatch(pattern);
    expect(results[1]).toMatchObject({ ok: true, index: 1 });
    expect(sentBodies(client)).toEqual(['fine']);
  });

  it('sends a non-string body as JSON, where a lone surrogate is escaped (valid characters)', async () => {
    const { client, producer } = producerWith();
    const results = await producer.send(QUEUE, [{ body: { s: '\uD800' } }]);
    expect(results[0]?.ok).toBe(true);
    expect(sentBodies(client)).toEqual(['{"s":"\\ud800"}']);
  });

  it('rejects delaySeconds on SNS', async () => {
    const { client, producer } = producerWith();
    const results = await producer.publish(TOPIC, [{ body: 'b', delaySeconds: 0 }]);
    expect(errorOf(results[0])).toBeInstanceOf(MessageValidationError);
    expect(errorOf(results[0]).message).toContain('delaySeconds');
    expect(client.calls).toEqual([]);
  });

  it('accepts valid surrogate pairs and delaySeconds 0 and 900 on a standard queue', async () => {
    const { client, producer } = producerWith();
    const results = await producer.send(QUEUE, [
      { body: 'emoji 😀', delaySeconds: 0 },
      { body: 'tab\tnewline\n', delaySeconds: 900 },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(entriesOf(client.calls[0] as SentCommand).map((e) => e.DelaySeconds)).toEqual([0, 900]);
  });

  describe('size limits', () => {
    it('accepts a message of exactly 1,048,576 bytes (body + attributes) on SQS', async () => {
      const { client, producer } = producerWith();
      // attribute k: 'k' (1) + 'String' (6) + 'v' (1) = 8 bytes
      const results = await producer.send(QUEUE, [
        { body: 'a'.repeat(1_048_576) },
        { body: 'b'.repeat(1_048_568), attributes: { k: 'v' } },
        { body: 'é'.repeat(524_288) },
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      expect(client.calls).toHaveLength(3);
    });

    it('rejects one byte more with PayloadTooLargeError naming largePayloads and QUEUEKIT_LARGE_PAYLOAD_BUCKET', async () => {
      const { client, producer } = producerWith();
      const results = await producer.send(QUEUE, [
        { body: 'a'.repeat(1_048_577) },
        { body: 'b'.repeat(1_048_569), attributes: { k: 'v' } },
        { body: `${'é'.repeat(524_288)}x` },
        { body: 'small' },
      ]);
      for (const result of results.slice(0, 3)) {
        const error = errorOf(result);
        expect(error).toBeInstanceOf(PayloadTooLargeError);
        expect(error).toBeInstanceOf(MessageValidationError);
        expect(error.message).toContain('largePayloads');
        expect(error.message).toContain('QUEUEKIT_LARGE_PAYLOAD_BUCKET');
        expect((error as PayloadTooLargeError).sizeBytes).toBe(1_048_577);
        expect((error as PayloadTooLargeError).limitBytes).toBe(1_048_576);
      }
      expect(results[3]?.ok).toBe(true);
      expect(sentBodies(client)).toEqual(['small']);
    });

    it('counts Number and Binary attributes by name + type + value bytes', async () => {
      const { producer } = producerWith();
      // n: 1 + 6 + 5 = 12; bin: 3 + 6 + 10 = 19 → body may be 1,048,576 - 31
      const attributes = { n: 12345, bin: new Uint8Array(10) };
      const results = await producer.send(QUEUE, [
        { body: 'a'.repeat(1_048_576 - 31), attributes },
        { body: 'a'.repeat(1_048_576 - 30), attributes },
      ]);
      expect(results[0]?.ok).toBe(true);
      expect((errorOf(results[1]) as PayloadTooLargeError).sizeBytes).toBe(1_048_577);
    });

    it('limits SNS messages to 262,144 bytes', async () => {
      const { client, producer } = producerWith();
      const results = await producer.publish(TOPIC, [{ body: 'a'.repeat(262_144) }, { body: 'b'.repeat(262_145) }]);
      expect(results[0]?.ok).toBe(true);
      const error = errorOf(results[1]) as PayloadTooLargeError;
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect([error.sizeBytes, error.limitBytes]).toEqual([262_145, 262_144]);
      expect(error.message).toContain('SNS');
      expect(client.calls.map((c) => c.name)).toEqual(['PublishBatchCommand']);
    });
  });

  it('rejects invalid options at construction', () => {
    expect(() => new MessageProducer({ concurrency: 0 })).toThrow(RuntimeConfigError);
    expect(() => new MessageProducer({ maxAttempts: 0 })).toThrow(RuntimeConfigError);
    expect(() => new MessageProducer({ concurrency: 2.5 })).toThrow(RuntimeConfigError);
    expect(PRODUCER_DEFAULTS).toEqual({
      concurrency: 16,
      maxAttempts: 5,
      retryBaseDelayMs: 50,
      retryMaxDelayMs: 5_000,
    });
  });
});

describe('retries', () => {
  const internal = (id: string) => ({ Id: id, SenderFault: false, Code: 'InternalError', Message: 'try again' });

  it('re-sends only the entries that failed retryably', async () => {
    const { client, producer } = producerWith((command, call) => {
      if (call > 0) return acceptAll(command);
      const entries = entriesOf(command);
      return {
        Successful: entries
          .filter((_, i) => i !== 1 && i !== 3)
          .map((e) => ({ Id: e.Id, MessageId: `sent:${e.MessageBody}` })),
        Failed: [internal(entries[1].Id), internal(entries[3].Id)],
      };
    });
    const results = await producer.send(
      QUEUE,
      ['m0', 'm1', 'm2', 'm3', 'm4'].map((body) => ({ body })),
    );
    expect(client.calls).toHaveLength(2);
    expect(entriesOf(client.calls[1] as SentCommand).map((e) => e.MessageBody)).toEqual(['m1', 'm3']);
    expect(results.map((r) => r.ok && r.messageId)).toEqual(['sent:m0', 'sent:m1', 'sent:m2', 'sent:m3', 'sent:m4']);
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('does not retry a sender fault; the result is a SendFailedError with the code', async () => {
    const { client, producer } = producerWith((command) => {
      const entries = entriesOf(command);
      return {
        Successful: [{ Id: entries[0].Id, MessageId: 'mid-0' }],
        Failed: [{ Id: entries[1].Id, SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad value' }],
      };
    });
    const results = await producer.send(QUEUE, [{ body: 'ok' }, { body: 'rejected' }]);
    expect(client.calls).toHaveLength(1);
    expect(results[0]).toEqual({ ok: true, index: 0, messageId: 'mid-0' });
    const error = errorOf(results[1]) as SendFailedError;
    expect(error).toBeInstanceOf(SendFailedError);
    expect(error.code).toBe('InvalidParameterValue');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('bad value');
  });

  it('gives up after maxAttempts', async () => {
    const { client, producer } = producerWith(
      (command) => ({ Successful: [], Failed: entriesOf(command).map((e) => internal(e.Id)) }),
      { maxAttempts: 3 },
    );
    const results = await producer.send(QUEUE, [{ body: 'never' }]);
    expect(client.calls).toHaveLength(3);
    const error = errorOf(results[0]) as SendFailedError;
    expect(error).toBeInstanceOf(SendFailedError);
    expect(error.code).toBe('InternalError');
    expect(error.retryable).toBe(true);
  });

  it(`defaults to ${PRODUCER_DEFAULTS.maxAttempts} attempts`, async () => {
    const client = new FakeClient((command) => ({
      Successful: [],
      Failed: entriesOf(command).map((e) => internal(e.Id)),
    }));
    const producer = new MessageProducer({ retryBaseDelayMs: 1, retryMaxDelayMs: 1, clients: { sqs: client.sqs } });
    await producer.send(QUEUE, [{ body: 'x' }]);
    expect(client.calls).toHaveLength(5);
  });

  it('retries a whole request that failed with a 5xx', async () => {
    const { client, producer } = producerWith((command, call) => {
      if (call === 0) throw serviceError('InternalFailure', 500);
      return acceptAll(command);
    });
    const results = await producer.send(QUEUE, [{ body: 'a' }, { body: 'b' }]);
    expect(client.calls).toHaveLength(2);
    expect(entriesOf(client.calls[1] as SentCommand).map((e) => e.MessageBody)).toEqual(['a', 'b']);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
  });

  it('does not retry a whole request that failed with a 4xx; every entry of that batch fails with its code', async () => {
    const { client, producer } = producerWith((command) => {
      if (entriesOf(command).some((e) => e.Id === '0')) throw serviceError('QueueDoesNotExist', 400);
      return acceptAll(command);
    });
    const messages = Array.from({ length: 12 }, (_, i) => ({ body: `m${i}` }));
    const results = await producer.send(QUEUE, messages);
    expect(client.calls).toHaveLength(2);
    for (const result of results.slice(0, 10)) {
      const error = errorOf(result) as SendFailedError;
      expect(error).toBeInstanceOf(SendFailedError);
      expect(error.code).toBe('QueueDoesNotExist');
      expect(error.retryable).toBe(false);
    }
    expect(results.slice(10).map((r) => r.ok)).toEqual([true, true]);
  });
});

describe('concurrency', () => {
  it('keeps at most `concurrency` requests in flight', async () => {
    const gates: PromiseWithResolvers<void>[] = [];
    const { client, producer } = producerWith(
      async (command) => {
        const gate = Promise.withResolvers<void>();
        gates.push(gate);
        await gate.promise;
        return acceptAll(command);
      },
      { concurrency: 2 },
    );
    const sending = producer.send(
      QUEUE,
      Array.from({ length: 50 }, (_, i) => ({ body: `m${i}` })),
    );
    for (let released = 0; released < 5; released++) {
      await until(() => gates.length > released);
      for (let i = 0; i < 5; i++) await tick();
      expect(client.inFlight).toBeLessThanOrEqual(2);
      gates[released]?.resolve();
    }
    const results = await sending;
    expect(client.calls).toHaveLength(5);
    expect(client.maxInFlight).toBe(2);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('sends a FIFO group batch after batch while disjoint groups overlap', async () => {
    const gates = new Map<string, PromiseWithResolvers<void>>();
    const started: string[] = [];
    const label = (command: SentCommand) =>
      [...new Set(entriesOf(command).map((e: { MessageGroupId: string }) => e.MessageGroupId))].join('+');
    const { client, producer } = producerWith(
      async (command) => {
        const name = label(command);
        started.push(name);
        const gate = Promise.withResolvers<void>();
        gates.set(name, gate);
        await gate.promise;
        return acceptAll(command);
      },
      { concurrency: 4 },
    );
    // batches: [A×10], [A×5, B×5], [C×10]
    const messages = [
      ...Array.from({ length: 15 }, (_, i) => ({ body: `a${i}`, groupId: 'A' })),
      ...Array.from({ length: 5 }, (_, i) => ({ body: `b${i}`, groupId: 'B' })),
      ...Array.from({ length: 10 }, (_, i) => ({ body: `c${i}`, groupId: 'C' })),
    ];
    const sending = producer.send(FIFO_QUEUE, messages);
    await until(() => started.length === 2);
    for (let i = 0; i < 10; i++) await tick();
    expect(started).toEqual(['A', 'C']); // A's first batch and C's overlap; A+B waits
    expect(client.inFlight).toBe(2);
    gates.get('C')?.resolve();
    for (let i = 0; i < 10; i++) await tick();
    expect(started).toEqual(['A', 'C']); // still waiting for A's first batch
    gates.get('A')?.resolve();
    await until(() => started.length === 3);
    expect(started).toEqual(['A', 'C', 'A+B']);
    gates.get('A+B')?.resolve();
    const results = await sending;
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sentBodies(client).filter((b) => b.startsWith('a'))).toEqual(messages.slice(0, 15).map((m) => m.body));
  });

  it('after a permanent failure in a FIFO group does not send its later messages (GroupAborted)', async () => {
    const { client, producer } = producerWith((command, call) => {
      if (call > 0) return acceptAll(command);
      const entries = entriesOf(command);
      return {
        Successful: entries.filter((e) => e.MessageBody !== 'a3').map((e) => ({ Id: e.Id, MessageId: 'ok' })),
        Failed: entries
          .filter((e) => e.MessageBody === 'a3')
          .map((e) => ({ Id: e.Id, SenderFault: true, Code: 'InvalidParameterValue' })),
      };
    });
    const messages = [
      ...Array.from({ length: 10 }, (_, i) => ({ body: `a${i}`, groupId: 'A' })),
      { body: 'a10', groupId: 'A' },
      { body: 'b0', groupId: 'B' },
      { body: 'a11', groupId: 'A' },
    ];
    const results = await producer.send(FIFO_QUEUE, messages);
    expect(client.calls).toHaveLength(2);
    expect(entriesOf(client.calls[1] as SentCommand).map((e) => e.MessageBody)).toEqual(['b0']);
    expect((errorOf(results[3]) as SendFailedError).code).toBe('InvalidParameterValue');
    for (const i of [10, 12]) {
      const error = errorOf(results[i]) as SendFailedError;
      expect(error).toBeInstanceOf(SendFailedError);
      expect(error.code).toBe('GroupAborted');
    }
    expect(results[11]?.ok).toBe(true);
  });

  it('a FIFO message that fails validation stops the later messages of its group only; earlier ones are sent', async () => {
    const { client, producer } = producerWith(acceptAll);
    const results = await producer.send(FIFO_QUEUE, [
      { body: 'a0', groupId: 'A' },
      { body: 'a1', groupId: 'A', attributes: { 'aws.reserved': 'x' } },
      { body: 'b0', groupId: 'B' },
      { body: 'a2', groupId: 'A' },
    ]);
    expect(sentBodies(client)).toEqual(['a0', 'b0']);
    expect(errorOf(results[1])).toBeInstanceOf(MessageValidationError);
    expect((errorOf(results[3]) as SendFailedError).code).toBe('GroupAborted');
    expect([results[0]?.ok, results[2]?.ok]).toEqual([true, true]);
  });

  it('retries an entry that the response neither accepted nor rejected, instead of reporting it sent', async () => {
    const { client, producer } = producerWith((command, call) =>
      call === 0 ? { Successful: [{ Id: entriesOf(command)[0].Id, MessageId: 'm0' }], Failed: [] } : acceptAll(command),
    );
    const results = await producer.send(QUEUE, [{ body: 'a' }, { body: 'b' }]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(entriesOf(client.calls[1] as SentCommand).map((e) => e.MessageBody)).toEqual(['b']);
  });

  it('fails a body that cannot be serialized (circular, bigint) alone, as a validation error', async () => {
    const { client, producer } = producerWith(acceptAll);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const results = await producer.send(QUEUE, [{ body: circular }, { body: { n: 1n } }, { body: 'fine' }]);
    expect(errorOf(results[0])).toBeInstanceOf(MessageValidationError);
    expect(errorOf(results[1]).message).toContain('cannot be serialized as JSON');
    expect(sentBodies(client)).toEqual(['fine']);
  });

  it('validates SNS subjects and refuses a subject on SQS', async () => {
    const { client, producer } = producerWith(acceptAll);
    const sns = await producer.publish(TOPIC, [
      { body: 'a', subject: 'ok subject' },
      { body: 'b', subject: 'x'.repeat(101) },
      { body: 'c', subject: 'two\nlines' },
    ]);
    expect(sns.map((r) => r.ok)).toEqual([true, false, false]);
    expect(errorOf(sns[1]).message).toContain('1–100 printable ASCII');
    const [sqs] = await producer.send(QUEUE, [{ body: 'd', subject: 'nope' }]);
    expect(errorOf(sqs).message).toContain('only SNS');
    expect(client.calls).toHaveLength(1);
  });

  it('does not retry a sender fault whatever its code (KMS.AccessDenied is final)', async () => {
    const { client, producer } = producerWith((command) => ({
      Failed: [{ Id: entriesOf(command)[0].Id, SenderFault: true, Code: 'KMS.AccessDenied', Message: 'no' }],
    }));
    const [result] = await producer.send(QUEUE, [{ body: 'x' }]);
    expect((errorOf(result) as SendFailedError).code).toBe('KMS.AccessDenied');
    expect(client.calls).toHaveLength(1);
  });
});

describe('sendOne and publishOne', () => {
  it('return the accepted message', async () => {
    const { producer } = producerWith((command) => ({
      Successful: [{ Id: entriesOf(command)[0].Id, MessageId: 'the-id', SequenceNumber: '100' }],
    }));
    await expect(producer.sendOne(QUEUE, { body: 'x' })).resolves.toEqual({
      ok: true,
      index: 0,
      messageId: 'the-id',
      sequenceNumber: '100',
    });
    await expect(producer.publishOne(TOPIC, { body: 'y' })).resolves.toMatchObject({ ok: true, messageId: 'the-id' });
  });

  it("throw the message's error", async () => {
    const { client, producer } = producerWith((command) => ({
      Failed: [{ Id: entriesOf(command)[0].Id, SenderFault: true, Code: 'KMS.AccessDenied', Message: 'no' }],
    }));
    await expect(producer.sendOne(QUEUE, { body: '' })).rejects.toBeInstanceOf(MessageValidationError);
    await expect(producer.publishOne(TOPIC, { body: 'x'.repeat(262_145) })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    expect(client.calls).toEqual([]);
    const error = await producer.publishOne(TOPIC, { body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendFailedError);
    expect((error as SendFailedError).code).toBe('KMS.AccessDenied');
  });
});
