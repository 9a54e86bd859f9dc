import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  BatchFailedError,
  CONSUMER_DEFAULTS,
  type ConsumedMessage,
  processBatch,
  RecordNotAttemptedError,
  RuntimeConfigError,
  sqsBatchHandler,
} from '../../lib/runtime/index.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { sqsEvent, sqsRecord } from '../support/sqs-records.js';
import { fakeLambda, tick } from './helpers.js';

const ids = (...messageIds: string[]) => messageIds.map((itemIdentifier) => ({ itemIdentifier }));

describe('partial batch responses', () => {
  it('reports only the failed records, in event order, by messageId', async () => {
    const logger = new RecordingLogger();
    const event = sqsEvent(
      { body: '{"n":1}', messageId: 'm1' },
      { body: '{"n":2}', messageId: 'm2' },
      { body: '{"n":3}', messageId: 'm3' },
      { body: '{"n":4}', messageId: 'm4' },
    );
    // m2 fails only after m4 has failed, so failures complete out of event order.
    const m4Failed = Promise.withResolvers<void>();
    const result = await processBatch<{ n: number }>(
      event,
      async ({ body }) => {
        if (body.n === 2) {
          await m4Failed.promise;
          throw new Error('two failed');
        }
        if (body.n === 4) {
          m4Failed.resolve();
          throw new Error('four failed');
        }
      },
      { logger },
    );
    expect(result).toEqual({ batchItemFailures: ids('m2', 'm4') });
    const failedLines = logger.named('record failed');
    expect(failedLines.map((l) => [l.level, l.fields.messageId, l.fields.reason, l.fields.error])).toEqual([
      ['error', 'm4', 'handler', 'four failed'],
      ['error', 'm2', 'handler', 'two failed'],
    ]);
    expect(logger.named('batch processed')[0]?.fields).toMatchObject({
      queue: 'orders',
      records: 4,
      succeeded: 2,
      failed: 2,
      notAttempted: 0,
    });
  });

  it('returns an empty failure list when every record succeeds', async () => {
    const seen: string[] = [];
    const result = await processBatch(
      sqsEvent({ body: '{"a":1}', messageId: 'a' }, { body: '{"b":2}', messageId: 'b' }),
      async (m) => {
        seen.push(m.messageId);
      },
      { logger: new RecordingLogger() },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('returns an empty failure list for an empty event, without throwing or calling the handler', async () => {
    let calls = 0;
    const logger = new RecordingLogger();
    const result = await processBatch(
      { Records: [] },
      () => {
        calls++;
      },
      { logger },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(0);
    expect(logger.named('batch processed')[0]?.fields).toMatchObject({ records: 0, succeeded: 0, failed: 0 });
  });

  it.each([
    ['an empty messageId', ''],
    ['no messageId', undefined],
  ])('throws RuntimeConfigError (whole batch retried) for a record with %s', async (_, messageId) => {
    const good = sqsRecord({ body: '{}', messageId: 'ok-1' });
    const bad = { ...sqsRecord({ body: '{}' }), messageId } as unknown as SQSEvent['Records'][number];
    let calls = 0;
    const run = processBatch(
      { Records: [good, bad] },
      () => {
        calls++;
      },
      { logger: new RecordingLogger() },
    );
    await expect(run).rejects.toBeInstanceOf(RuntimeConfigError);
    await expect(run).rejects.toThrow(/Record 1 .*no messageId/);
    expect(calls).toBe(0);
  });

  it('sqsBatchHandler wraps processBatch with its options', async () => {
    const handler = sqsBatchHandler<{ ok: boolean }>(
      async ({ body }) => {
        if (!body.ok) throw new Error('not ok');
      },
      { logger: new RecordingLogger() },
    );
    const result = await handler(
      sqsEvent({ body: '{"ok":true}', messageId: 'x' }, { body: '{"ok":false}', messageId: 'y' }),
    );
    expect(result).toEqual({ batchItemFailures: ids('y') });
  });
});

describe('when every record fails', () => {
  const event = () =>
    sqsEvent(
      { body: '{"i":1}', messageId: 'f1' },
      { body: '{"i":2}', messageId: 'f2' },
      { body: 'nope', messageId: 'f3' },
    );

  it("throws BatchFailedError listing every record by default (allFailed: 'throw')", async () => {
    expect(CONSUMER_DEFAULTS.allFailed).toBe('throw');
    const boom = new Error('downstream down');
    const error = await processBatch(
      event(),
      () => {
        throw boom;
      },
      { logger: new RecordingLogger() },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchFailedError);
    const failures = (error as BatchFailedError).failures;
    expect(failures.map((f) => f.messageId)).toEqual(['f1', 'f2', 'f3']);
    expect(failures[0]?.error).toBe(boom);
    expect(failures[1]?.error).toBe(boom);
    expect((failures[2]!.error as Error).name).toBe('ContractViolationError');
    expect((error as Error).message).toContain('All 3 records');
  });

  it("reports every record with allFailed: 'report'", async () => {
    const result = await processBatch(
      event(),
      () => {
        throw new Error('down');
      },
      { logger: new RecordingLogger(), allFailed: 'report' },
    );
    expect(result).toEqual({ batchItemFailures: ids('f1', 'f2', 'f3') });
  });

  it('lists records that were not attempted with a RecordNotAttemptedError', async () => {
    const { context } = fakeLambda(100); // guard = min(2000, 100 / 4) = 25 ms; 100 ms left never drops
    const error = await processBatch(
      sqsEvent({ body: '{}', messageId: 'g1', groupId: 'g' }, { body: '{}', messageId: 'g2', groupId: 'g' }),
      () => {
        throw new Error('first fails');
      },
      { logger: new RecordingLogger() },
      context,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchFailedError);
    const [first, second] = (error as BatchFailedError).failures;
    expect((first!.error as Error).message).toBe('first fails');
    expect(second?.messageId).toBe('g2');
    expect(second?.error).toBeInstanceOf(RecordNotAttemptedError);
    expect((second!.error as RecordNotAttemptedError).reason).toBe('group-failed');
  });
});

describe('FIFO message groups', () => {
  it('runs different groups in parallel (group A waits for group B: sequential would deadlock)', async () => {
    const bRan = Promise.withResolvers<void>();
    const result = await processBatch(
      sqsEvent(
        { body: '{"step":"a"}', messageId: 'a1', groupId: 'A' },
        { body: '{"step":"b"}', messageId: 'b1', groupId: 'B' },
      ),
      async (m) => {
        if (m.groupId === 'A') await bRan.promise;
        else bRan.resolve();
      },
      { logger: new RecordingLogger() },
    );
    expect(result).toEqual({ batchItemFailures: [] });
  }, 5_000);

  it('runs the records of one group strictly in order', async () => {
    const trace: string[] = [];
    const event = sqsEvent(
      ...['a1', 'a2', 'a3', 'a4'].flatMap((id, i) => [
        { body: JSON.stringify({ waits: 4 - i }), messageId: id, groupId: 'A' },
        { body: JSON.stringify({ waits: i }), messageId: id.replace('a', 'b'), groupId: 'B' },
      ]),
    );
    const result = await processBatch<{ waits: number }>(
      event,
      async (m) => {
        trace.push(`start ${m.messageId}`);
        // earlier records take longer: run in parallel, a later one would finish first
        for (let i = 0; i < m.body.waits * 3; i++) await tick();
        trace.push(`end ${m.messageId}`);
      },
      { logger: new RecordingLogger() },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    for (const g of ['a', 'b'])
      expect(trace.filter((t) => t.split(' ')[1]?.startsWith(g))).toEqual(
        [1, 2, 3, 4].flatMap((n) => [`start ${g}${n}`, `end ${g}${n}`]),
      );
  });

  it('after a failure skips the rest of that group without running it; other groups go on', async () => {
    const logger = new RecordingLogger();
    const seen: string[] = [];
    const event = sqsEvent(
      { body: '{}', messageId: 'a1', groupId: 'A' },
      { body: '{}', messageId: 'b1', groupId: 'B' },
      { body: '{}', messageId: 'a2', groupId: 'A' },
      { body: '{}', messageId: 'b2', groupId: 'B' },
      { body: '{}', messageId: 'a3', groupId: 'A' },
      { body: '{}', messageId: 'b3', groupId: 'B' },
      { body: '{}', messageId: 'a4', groupId: 'A' },
    );
    const result = await processBatch(
      event,
      (m) => {
        seen.push(m.messageId);
        if (m.messageId === 'a2') throw new Error('a2 broke');
      },
      { logger },
    );
    expect(result).toEqual({ batchItemFailures: ids('a2', 'a3', 'a4') });
    expect(seen.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a2']);
    expect(seen.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2', 'b3']);
    expect(logger.named('record failed').map((l) => l.fields.messageId)).toEqual(['a2']);
    const [warn] = logger.named('records not attempted');
    expect(warn?.level).toBe('warn');
    expect(warn?.fields).toMatchObject({ count: 2, messageIds: ['a3', 'a4'], reasons: ['group-failed'] });
  });

  it('treats a standard queue with MessageGroupId (fair queues) as standard: no group stops after a failure', async () => {
    const queueArn = 'arn:aws:sqs:us-east-1:123456789012:tenants';
    const seen: string[] = [];
    const result = await processBatch(
      sqsEvent(
        { body: '{}', messageId: 't1', groupId: 'tenant-a', queueArn },
        { body: '{}', messageId: 't2', groupId: 'tenant-a', queueArn },
        { body: '{}', messageId: 't3', groupId: 'tenant-a', queueArn },
      ),
      (m) => {
        seen.push(m.messageId);
        if (m.messageId === 't1') throw new Error('t1 broke');
      },
      { logger: new RecordingLogger() },
    );
    expect(seen.sort()).toEqual(['t1', 't2', 't3']);
    expect(result).toEqual({ batchItemFailures: ids('t1') });
  });

  it('returns failures of several groups in event order', async () => {
    const event = sqsEvent(
      { body: '{}', messageId: 'x1', groupId: 'X' },
      { body: '{}', messageId: 'y1', groupId: 'Y' },
      { body: '{}', messageId: 'x2', groupId: 'X' },
      { body: '{}', messageId: 'y2', groupId: 'Y' },
      { body: '{}', messageId: 'z1', groupId: 'Z' },
    );
    // Y fails first, X only after Y is done
    const yFailed = Promise.withResolvers<void>();
    const result = await processBatch(
      event,
      async (m) => {
        if (m.messageId === 'x1') {
          await yFailed.promise;
          throw new Error('x1');
        }
        if (m.messageId === 'y1') {
          yFailed.resolve();
          throw new Error('y1');
        }
      },
      { logger: new RecordingLogger() },
    );
    expect(result).toEqual({ batchItemFailures: ids('x1', 'y1', 'x2', 'y2') });
  });
});

describe('standard queue concurrency', () => {
  async function maxConcurrent(records: number, concurrency?: number): Promise<number> {
    let running = 0;
    let max = 0;
    const event = sqsEvent(...Array.from({ length: records }, (_, i) => ({ body: `{"i":${i}}`, messageId: `s${i}` })));
    const result = await processBatch(
      event,
      async () => {
        running++;
        max = Math.max(max, running);
        for (let i = 0; i < 5; i++) await tick();
        running--;
      },
      { logger: new RecordingLogger(), ...(concurrency ? { concurrency } : {}) },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    return max;
  }

  it('runs at most `concurrency` handlers at once, and uses all of it', async () => {
    expect(await maxConcurrent(10, 3)).toBe(3);
  });

  it('defaults to 10 at once', async () => {
    expect(CONSUMER_DEFAULTS.concurrency).toBe(10);
    expect(await maxConcurrent(25)).toBe(10);
  });

  it.each([0, 1.5, -1])('rejects concurrency %s', async (concurrency) => {
    await expect(
      processBatch(sqsEvent({ body: '{}' }), () => {}, { logger: new RecordingLogger(), concurrency }),
    ).rejects.toBeInstanceOf(RuntimeConfigError);
  });
});

describe('time guard', () => {
  it('does not start records once less than timeGuardMs remains; reports and logs them', async () => {
    const logger = new RecordingLogger();
    const { clock, context } = fakeLambda(10_000); // guard = min(2000, 2500) = 2000
    const seen: string[] = [];
    const event = sqsEvent(...['t1', 't2', 't3', 't4', 't5'].map((messageId) => ({ body: '{}', messageId })));
    const result = await processBatch(
      event,
      (m) => {
        seen.push(m.messageId);
        clock.now += 3_000; // remaining at start of t1..t5: 10000, 7000, 4000, 1000, 1000
      },
      { logger, concurrency: 1 },
      context,
    );
    expect(seen).toEqual(['t1', 't2', 't3']);
    expect(result).toEqual({ batchItemFailures: ids('t4', 't5') });
    const [warn] = logger.named('records not attempted');
    expect(warn?.level).toBe('warn');
    expect(warn?.fields).toMatchObject({ count: 2, messageIds: ['t4', 't5'], reasons: ['time-guard'] });
    expect(logger.named('record failed')).toEqual([]);
  });

  it('caps the guard at a quarter of the time left when the batch starts', async () => {
    const logger = new RecordingLogger();
    const { clock, context } = fakeLambda(4_000); // default guard 2000 capped to 4000 / 4 = 1000
    const seen: string[] = [];
    const result = await processBatch(
      sqsEvent(...['c1', 'c2', 'c3'].map((messageId) => ({ body: '{}', messageId }))),
      (m) => {
        seen.push(m.messageId);
        clock.now += 2_500; // c2 starts with 1500 left: runs under a 1000 guard, would not under 2000
      },
      { logger, concurrency: 1 },
      context,
    );
    expect(seen).toEqual(['c1', 'c2']);
    expect(result).toEqual({ batchItemFailures: ids('c3') });
  });

  it('honours a custom timeGuardMs, and stops a FIFO group at the guard', async () => {
    const logger = new RecordingLogger();
    const { clock, context } = fakeLambda(60_000);
    const seen: string[] = [];
    const result = await processBatch(
      sqsEvent(
        { body: '{}', messageId: 'g1', groupId: 'G' },
        { body: '{}', messageId: 'g2', groupId: 'G' },
        { body: '{}', messageId: 'g3', groupId: 'G' },
      ),
      (m) => {
        seen.push(m.messageId);
        clock.now += 25_000; // 35000 left before g2, 10000 before g3
      },
      { logger, timeGuardMs: 12_000 },
      context,
    );
    expect(seen).toEqual(['g1', 'g2']);
    expect(result).toEqual({ batchItemFailures: ids('g3') });
    expect(logger.named('records not attempted')[0]?.fields).toMatchObject({
      messageIds: ['g3'],
      reasons: ['time-guard'],
    });
  });

  it('gives the handler the remaining time and the Lambda context', async () => {
    const { clock, context } = fakeLambda(9_000);
    clock.now = 1_000;
    const seen: { remaining: number; same: boolean }[] = [];
    await processBatch(
      sqsEvent({ body: '{}' }),
      (_: ConsumedMessage, ctx) => {
        seen.push({ remaining: ctx.remainingTimeMs(), same: ctx.lambdaContext === context });
      },
      { logger: new RecordingLogger() },
      context,
    );
    expect(seen).toEqual([{ remaining: 8_000, same: true }]);
  });
});
