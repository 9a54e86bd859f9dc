import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, processBatch } from '../../lib/runtime/index.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { sqsEvent } from '../support/sqs-records.js';
import { FakeClient, fakeLambda, type SentCommand, serviceError } from './helpers.js';

describe('backoffDelay', () => {
  const zero = () => 0;
  const one = () => 1;

  it('is between half and all of base × 2^(attempt-1)', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 10, 300, zero))).toEqual([5, 10, 20, 40]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 10, 300, one))).toEqual([10, 20, 40, 80]);
    expect(backoffDelay(2, 10, 300, () => 0.5)).toBe(15);
  });

  it('is capped at max', () => {
    expect(backoffDelay(6, 10, 300, zero)).toBe(150); // 320 capped to 300
    expect(backoffDelay(6, 10, 300, one)).toBe(300);
    expect(backoffDelay(60, 10, 300, one)).toBe(300);
  });

  it('treats attempts below 1 as the first', () => {
    expect(backoffDelay(0, 10, 300, one)).toBe(10);
    expect(backoffDelay(0, 10, 300, zero)).toBe(5);
  });

  it('uses Math.random by default and stays in range', () => {
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(3, 10, 300);
      expect(d).toBeGreaterThanOrEqual(20);
      expect(d).toBeLessThanOrEqual(40);
    }
  });
});

describe('consumer retry backoff', () => {
  let arnCounter = 0;
  /** A queue ARN not used by any other test (queue URLs are cached per ARN for the container's life). */
  const freshQueue = () => {
    arnCounter++;
    const name = `backoff-q${arnCounter}`;
    return {
      name,
      arn: `arn:aws:sqs:eu-west-1:111122223333:${name}`,
      url: `https://sqs.eu-west-1.amazonaws.com/111122223333/${name}`,
    };
  };

  function fakeSqs(url: string, onChange?: (command: SentCommand) => unknown): FakeClient {
    return new FakeClient((command) => {
      if (command.name === 'GetQueueUrlCommand') return { QueueUrl: url };
      if (command.name === 'ChangeMessageVisibilityBatchCommand')
        return onChange
          ? onChange(command)
          : { Successful: command.input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] };
      throw new Error(`unexpected ${command.name}`);
    });
  }

  beforeEach(() => {
    vi.stubEnv('QUEUEKIT_TIME_SCALE', undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  const failing = (ids: string[]) => (m: { messageId: string }) => {
    if (ids.includes(m.messageId)) throw new Error(`${m.messageId} failed`);
  };

  it('sets failed records’ visibility from their receive count, after one GetQueueUrl', async () => {
    const q = freshQueue();
    const sqs = fakeSqs(q.url);
    const event = sqsEvent(
      { body: '{}', messageId: 'r1', receiveCount: 1, queueArn: q.arn },
      { body: '{}', messageId: 'ok', receiveCount: 1, queueArn: q.arn },
      { body: '{}', messageId: 'r2', receiveCount: 2, queueArn: q.arn },
      { body: '{}', messageId: 'r3', receiveCount: 3, queueArn: q.arn },
      { body: '{}', messageId: 'r7', receiveCount: 7, queueArn: q.arn },
    );
    const logger = new RecordingLogger();
    const result = await processBatch(event, failing(['r1', 'r2', 'r3', 'r7']), {
      logger,
      retryBackoff: { baseSeconds: 10, maxSeconds: 300 },
      clients: { sqs: sqs.sqs },
    });
    expect(result).toEqual({
      batchItemFailures: ['r1', 'r2', 'r3', 'r7'].map((itemIdentifier) => ({ itemIdentifier })),
    });
    expect(sqs.calls.map((c) => c.name)).toEqual(['GetQueueUrlCommand', 'ChangeMessageVisibilityBatchCommand']);
    expect(sqs.calls[0]?.input).toEqual({ QueueName: q.name, QueueOwnerAWSAccountId: '111122223333' });
    const change = sqs.calls[1]?.input;
    expect(change.QueueUrl).toBe(q.url);
    const handles = Object.fromEntries(event.Records.map((r) => [r.receiptHandle, r.messageId]));
    const entries = change.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[];
    expect(entries.map((e) => handles[e.ReceiptHandle])).toEqual(['r1', 'r2', 'r3', 'r7']);
    expect(new Set(entries.map((e) => e.Id)).size).toBe(4);
    const ranges: Record<string, [number, number]> = { r1: [5, 10], r2: [10, 20], r3: [20, 40], r7: [150, 300] };
    for (const e of entries) {
      const [low, high] = ranges[handles[e.ReceiptHandle] as string] as [number, number];
      expect(Number.isInteger(e.VisibilityTimeout)).toBe(true);
      expect(e.VisibilityTimeout).toBeGreaterThanOrEqual(low);
      expect(e.VisibilityTimeout).toBeLessThanOrEqual(high);
    }
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it.each([
    [0, [5, 10, 20, 150]],
    [0.999999, [10, 20, 40, 300]],
  ])('with Math.random() = %s sets exactly %j', async (random, expected) => {
    vi.spyOn(Math, 'random').mockReturnValue(random);
    const q = freshQueue();
    const sqs = fakeSqs(q.url);
    const event = sqsEvent(
      ...[1, 2, 3, 7].map((receiveCount) => ({
        body: '{}',
        messageId: `rc${receiveCount}`,
        receiveCount,
        queueArn: q.arn,
      })),
      { body: '{}', messageId: 'fine', queueArn: q.arn },
    );
    await processBatch(event, failing(['rc1', 'rc2', 'rc3', 'rc7']), {
      logger: new RecordingLogger(),
      retryBackoff: { baseSeconds: 10, maxSeconds: 300 },
      clients: { sqs: sqs.sqs },
    });
    const [change] = sqs.named('ChangeMessageVisibilityBatchCommand');
    expect(change?.input.Entries.map((e: { VisibilityTimeout: number }) => e.VisibilityTimeout)).toEqual(expected);
  });

  it('looks the queue URL up once per ARN across invocations', async () => {
    const q = freshQueue();
    const sqs = fakeSqs(q.url);
    const options = {
      logger: new RecordingLogger(),
      retryBackoff: { baseSeconds: 10, maxSeconds: 300 },
      clients: { sqs: sqs.sqs },
    };
    for (let i = 0; i < 3; i++)
      await processBatch(
        sqsEvent({ body: '{}', messageId: `x${i}`, queueArn: q.arn }, { body: '{}', messageId: 'ok', queueArn: q.arn }),
        failing([`x${i}`]),
        options,
      );
    expect(sqs.named('GetQueueUrlCommand')).toHaveLength(1);
    expect(sqs.named('ChangeMessageVisibilityBatchCommand')).toHaveLength(3);
  });

  it('caches the queue URL per client: another client (another endpoint) for the same ARN looks it up itself', async () => {
    const q = freshQueue();
    const first = fakeSqs(q.url);
    const second = fakeSqs('http://127.0.0.1:4566/000000000000/other-endpoint');
    for (const sqs of [first, second, first, second])
      await processBatch(
        sqsEvent({ body: '{}', messageId: 'x', queueArn: q.arn }, { body: '{}', queueArn: q.arn }),
        failing(['x']),
        {
          logger: new RecordingLogger(),
          retryBackoff: true,
          clients: { sqs: sqs.sqs },
        },
      );
    expect([first, second].map((c) => c.named('GetQueueUrlCommand').length)).toEqual([1, 1]);
    expect(second.named('ChangeMessageVisibilityBatchCommand')[0]?.input.QueueUrl).toBe(
      'http://127.0.0.1:4566/000000000000/other-endpoint',
    );
  });

  it('does not change the visibility of records that were not attempted', async () => {
    const q = freshQueue();
    const fifoArn = `${q.arn}.fifo`;
    const sqs = fakeSqs(`${q.url}.fifo`);
    const { clock, context } = fakeLambda(10_000); // guard 2000
    const event = sqsEvent(
      { body: '{}', messageId: 'a1', groupId: 'A', receiveCount: 2, queueArn: fifoArn },
      { body: '{}', messageId: 'a2', groupId: 'A', queueArn: fifoArn },
      { body: '{}', messageId: 'b1', groupId: 'B', queueArn: fifoArn },
      { body: '{}', messageId: 'b2', groupId: 'B', queueArn: fifoArn },
    );
    const seen: string[] = [];
    const result = await processBatch(
      event,
      (m) => {
        seen.push(m.messageId);
        if (m.messageId === 'a1') throw new Error('a1 failed');
        if (m.messageId === 'b1') clock.now += 9_000; // b2 would start with 1000 left
      },
      { logger: new RecordingLogger(), retryBackoff: true, clients: { sqs: sqs.sqs }, concurrency: 1 },
      context,
    );
    expect(seen).toEqual(['a1', 'b1']);
    expect(result).toEqual({ batchItemFailures: ['a1', 'a2', 'b2'].map((itemIdentifier) => ({ itemIdentifier })) });
    const changes = sqs.named('ChangeMessageVisibilityBatchCommand');
    expect(changes).toHaveLength(1);
    expect(changes[0]?.input.Entries.map((e: { ReceiptHandle: string }) => e.ReceiptHandle)).toEqual([
      event.Records[0]?.receiptHandle,
    ]);
    // retryBackoff: true → defaults base 5 s, max 900 s; receive count 2 → 5..10
    const [entry] = changes[0]?.input.Entries ?? [];
    expect(entry.VisibilityTimeout).toBeGreaterThanOrEqual(5);
    expect(entry.VisibilityTimeout).toBeLessThanOrEqual(10);
  });

  it('sends no visibility change when only unattempted records failed, or backoff is off', async () => {
    const q = freshQueue();
    const sqs = fakeSqs(q.url);
    const { clock, context } = fakeLambda(10_000);
    await processBatch(
      sqsEvent({ body: '{}', messageId: 'n1', queueArn: q.arn }, { body: '{}', messageId: 'n2', queueArn: q.arn }),
      () => {
        clock.now += 9_000;
      },
      { logger: new RecordingLogger(), retryBackoff: { baseSeconds: 10 }, clients: { sqs: sqs.sqs }, concurrency: 1 },
      context,
    );
    await processBatch(sqsEvent({ body: '{}', queueArn: q.arn }, { body: '{}', queueArn: q.arn }), failing([]), {
      logger: new RecordingLogger(),
      clients: { sqs: sqs.sqs },
    });
    const ids = ['f1', 'ok'];
    await processBatch(
      sqsEvent(...ids.map((messageId) => ({ body: '{}', messageId, queueArn: q.arn }))),
      failing(['f1']),
      { logger: new RecordingLogger(), clients: { sqs: sqs.sqs } },
    );
    expect(sqs.calls).toEqual([]);
  });

  it('logs a failing ChangeMessageVisibilityBatch as a warning and still returns the right response', async () => {
    const q = freshQueue();
    const sqs = fakeSqs(q.url, () => {
      throw serviceError('AccessDenied', 403);
    });
    const logger = new RecordingLogger();
    const result = await processBatch(
      sqsEvent(
        { body: '{}', messageId: 'e1', queueArn: q.arn },
        { body: '{}', messageId: 'ok', queueArn: q.arn },
        { body: '{}', messageId: 'e2', queueArn: q.arn },
      ),
      failing(['e1', 'e2']),
      { logger, retryBackoff: { baseSeconds: 10, maxSeconds: 300 }, clients: { sqs: sqs.sqs } },
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'e1' }, { itemIdentifier: 'e2' }] });
    expect(sqs.named('ChangeMessageVisibilityBatchCommand')).toHaveLength(1);
    const warns = logger.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.message).toMatch(/^retry backoff not applied/);
    expect(warns[0]?.fields.messageIds).toEqual(['e1', 'e2']);
  });

  it('logs entries the batch call reports Failed', async () => {
    const q = freshQueue();
    const sqs = fakeSqs(q.url, (command) => ({
      Successful: [{ Id: command.input.Entries[0].Id }],
      Failed: [{ Id: command.input.Entries[1].Id, Code: 'ReceiptHandleIsInvalid', SenderFault: true }],
    }));
    const logger = new RecordingLogger();
    const result = await processBatch(
      sqsEvent(
        { body: '{}', messageId: 'p1', queueArn: q.arn },
        { body: '{}', messageId: 'p2', queueArn: q.arn },
        { body: '{}', messageId: 'ok', queueArn: q.arn },
      ),
      failing(['p1', 'p2']),
      { logger, retryBackoff: { baseSeconds: 10 }, clients: { sqs: sqs.sqs } },
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'p1' }, { itemIdentifier: 'p2' }] });
    const warns = logger.lines.filter((l) => l.level === 'warn');
    expect(warns.map((w) => [w.message.startsWith('retry backoff not applied'), w.fields.messageIds])).toEqual([
      [true, ['p2']],
    ]);
  });

  it('logs a failing GetQueueUrl as a warning and still returns the right response', async () => {
    const q = freshQueue();
    const sqs = new FakeClient(() => {
      throw serviceError('QueueDoesNotExist', 400);
    });
    const logger = new RecordingLogger();
    const result = await processBatch(
      sqsEvent({ body: '{}', messageId: 'u1', queueArn: q.arn }, { body: '{}', messageId: 'ok', queueArn: q.arn }),
      failing(['u1']),
      { logger, retryBackoff: { baseSeconds: 10 }, clients: { sqs: sqs.sqs } },
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'u1' }] });
    expect(sqs.calls.map((c) => c.name)).toEqual(['GetQueueUrlCommand']);
    const warns = logger.lines.filter((l) => l.level === 'warn');
    expect(warns.map((w) => [w.message, w.fields.queue, w.fields.errorName])).toEqual([
      ['retry backoff not applied', q.name, 'QueueDoesNotExist'],
    ]);
  });

  it('chunks more than 10 failed records into several batch calls', async () => {
    const q = freshQueue();
    const sqs = fakeSqs(q.url);
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    await processBatch(
      sqsEvent(...ids.map((messageId) => ({ body: '{}', messageId, queueArn: q.arn })), {
        body: '{}',
        messageId: 'ok',
        queueArn: q.arn,
      }),
      failing(ids),
      { logger: new RecordingLogger(), retryBackoff: true, clients: { sqs: sqs.sqs } },
    );
    expect(sqs.named('ChangeMessageVisibilityBatchCommand').map((c) => c.input.Entries.length)).toEqual([10, 2]);
  });
});
