/**
 * EventSourcePoller: Lambda's SQS event source mapping against fauxqs (embedded, real SDK). Most tests invoke an
 * in-process handler, to control outcomes exactly; the timeout test runs a real function in a FunctionHost.
 * Queues use visibility timeouts of 1–2 s so retries come back quickly.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEventSourceMapping, LocalFunction, LocalQueue } from '../../lib/local/app-model.js';
import {
  EventSourcePoller,
  type EventSourcePollerOptions,
  judgePartialResponse,
} from '../../lib/local/event-source-poller.js';
import type { FlowEvent } from '../../lib/local/flow-events.js';
import { FunctionHost, type InvokeResult } from '../../lib/local/function-host.js';
import { RECEIVE_ALL_ATTRIBUTES, toSqsRecord } from '../../lib/local/sqs-event.js';
import { EmulatorResources, must, type TestQueue } from '../support/emulator-resources.js';
import { type EmbeddedEmulator, sdkClientConfig, startEmbeddedEmulator } from '../support/fauxqs-server.js';

let emulator: EmbeddedEmulator;
let sqs: SQSClient;
let sns: SNSClient;
let resources: EmulatorResources;
const pollers: EventSourcePoller[] = [];
const hosts: FunctionHost[] = [];

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  sqs = new SQSClient(sdkClientConfig(emulator.endpoint));
  sns = new SNSClient(sdkClientConfig(emulator.endpoint));
  resources = new EmulatorResources(sqs, sns);
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

afterAll(async () => {
  sqs?.destroy();
  sns?.destroy();
  await emulator?.stop();
});

// ---------------------------------------------------------------------------------------------------------------

function localQueue(name: string, queue: TestQueue, deadLetter?: { arn: string; maxReceiveCount: number }): LocalQueue {
  return {
    logicalId: name,
    stackName: 'Messaging',
    path: `Messaging/${name}`,
    displayName: name,
    name,
    arn: queue.arn,
    url: queue.url,
    fifo: name.endsWith('.fifo'),
    attributes: {},
    ...(deadLetter ? { deadLetter } : {}),
    deadLetterFor: [],
  };
}

function localFunction(overrides: Partial<LocalFunction> = {}): LocalFunction {
  return {
    logicalId: 'Worker',
    stackName: 'Compute',
    path: 'Compute/Worker',
    displayName: 'Worker',
    name: 'Compute-Worker',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:Compute-Worker',
    handler: 'index.handler',
    codeDir: '/nonexistent',
    runtime: 'nodejs22.x',
    timeoutSeconds: 3,
    memoryMb: 128,
    environment: {},
    ...overrides,
  };
}

function mapping(overrides: Partial<LocalEventSourceMapping> = {}): LocalEventSourceMapping {
  return {
    logicalId: 'Mapping',
    stackName: 'Compute',
    path: 'Compute/Worker/SqsEventSource',
    displayName: 'WorkerMapping',
    functionName: 'Compute-Worker',
    queueArn: '',
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    reportBatchItemFailures: true,
    enabled: true,
    ...overrides,
  };
}

type Handler = (event: SQSEvent) => unknown;

/** Runs `handler` in this process and answers like FunctionHost.invoke. */
function inProcess(handler: Handler): EventSourcePollerOptions['invoke'] {
  return async (event) => {
    const requestId = randomUUID();
    const started = performance.now();
    try {
      const result = await handler(event);
      return {
        requestId,
        ok: true,
        result: JSON.parse(JSON.stringify(result ?? null)),
        durationMs: performance.now() - started,
        logs: [],
      };
    } catch (error) {
      return {
        requestId,
        ok: false,
        errorType: (error as Error).name,
        errorMessage: (error as Error).message,
        stackTrace: [],
        durationMs: performance.now() - started,
        logs: [],
        reason: 'error',
      };
    }
  };
}

interface Started {
  readonly poller: EventSourcePoller;
  readonly events: FlowEvent[];
  of<T extends FlowEvent['type']>(type: T): Extract<FlowEvent, { type: T }>[];
}

function startPoller(
  queue: LocalQueue,
  invoke: EventSourcePollerOptions['invoke'],
  options: Omit<Partial<EventSourcePollerOptions>, 'mapping'> & { mapping?: Partial<LocalEventSourceMapping> } = {},
): Started {
  const events: FlowEvent[] = [];
  const { mapping: mappingOverrides, ...rest } = options;
  const poller = new EventSourcePoller({
    mapping: mapping({ queueArn: queue.arn, ...mappingOverrides }),
    queue,
    fn: localFunction(),
    sqs,
    region: emulator.region,
    invoke,
    onEvent: (e) => events.push(e),
    ...rest,
  });
  pollers.push(poller);
  poller.start();
  return {
    poller,
    events,
    of: <T extends FlowEvent['type']>(type: T) =>
      events.filter((e) => e.type === type) as Extract<FlowEvent, { type: T }>[],
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function sendAll(
  queue: TestQueue,
  bodies: readonly string[],
  extra: { groupOf?: (body: string) => string } = {},
) {
  for (let i = 0; i < bodies.length; i += 10) {
    const chunk = bodies.slice(i, i + 10);
    const { Failed } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: chunk.map((body, k) => ({
          Id: String(k),
          MessageBody: body,
          ...(extra.groupOf ? { MessageGroupId: extra.groupOf(body) } : {}),
        })),
      }),
    );
    expect(Failed ?? []).toEqual([]);
  }
}

async function depth(queue: TestQueue): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bodiesOf = (records: readonly SQSRecord[]) => records.map((r) => r.body);

// ---------------------------------------------------------------------------------------------------------------

describe('SQS records', () => {
  it('builds the exact record Lambda delivers, from a real received message', async () => {
    const q = await resources.createQueue('records');
    const fifo = await resources.createQueue('records.fifo', { FifoQueue: 'true' });
    const attributes: Record<string, MessageAttributeValue> = {
      kind: { DataType: 'String', StringValue: 'image' },
      units: { DataType: 'Number', StringValue: '12' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3, 250]) },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: '{"a":1}', MessageAttributes: attributes }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: fifo.url,
        MessageBody: 'in order',
        MessageGroupId: 'g-1',
        MessageDeduplicationId: 'd-1',
      }),
    );
    const receive = async (queue: TestQueue) => {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 1, ...RECEIVE_ALL_ATTRIBUTES }),
      );
      return must(Messages?.[0], 'a message');
    };
    const message = await receive(q);
    expect(toSqsRecord(message, q, 'us-east-1')).toStrictEqual({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: '{"a":1}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        kind: { stringValue: 'image', stringListValues: [], binaryListValues: [], dataType: 'String' },
        units: { stringValue: '12', stringListValues: [], binaryListValues: [], dataType: 'Number' },
        blob: { binaryValue: 'AQID+g==', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: message.MD5OfBody,
      md5OfMessageAttributes: message.MD5OfMessageAttributes,
      eventSource: 'aws:sqs',
      eventSourceARN: q.arn,
      awsRegion: 'us-east-1',
    });
    const ordered = toSqsRecord(await receive(fifo), fifo, 'us-east-1');
    expect(ordered.attributes).toMatchObject({
      MessageGroupId: 'g-1',
      MessageDeduplicationId: 'd-1',
      SequenceNumber: expect.stringMatching(/^\d+$/),
    });
    expect(ordered.messageAttributes).toEqual({});
    expect('md5OfMessageAttributes' in ordered).toBe(false);
  });

  it('refuses a message received without its attributes, saying how to receive it', () => {
    expect(() =>
      toSqsRecord({ MessageId: 'm', ReceiptHandle: 'r', Body: 'b', MD5OfBody: 'x' }, { arn: 'a' }, 'r'),
    ).toThrow(/lacks ApproximateReceiveCount.*MessageSystemAttributeNames/);
  });
});

describe('partial batch responses', () => {
  it('deletes every record not reported; the reported ones come back after the visibility timeout', async () => {
    const tq = await resources.createQueue('partial', { VisibilityTimeout: '1' });
    const queue = localQueue('partial', tq);
    await sendAll(tq, ['ok-1', 'fail-2', 'ok-3', 'fail-4', 'ok-5']);
    const batches: string[][] = [];
    const run = startPoller(
      queue,
      inProcess(({ Records }) => {
        batches.push(bodiesOf(Records));
        return {
          batchItemFailures: Records.filter(
            (r) => r.body.startsWith('fail') && r.attributes.ApproximateReceiveCount === '1',
          ).map((r) => ({ itemIdentifier: r.messageId })),
        };
      }),
      { maxConcurrency: 1, messageIdOf: (_q, m) => `trace-${m.Body}` },
    );
    await until('5 deletes', () => run.of('deleted').length === 5);

    expect(batches[0]).toEqual(['ok-1', 'fail-2', 'ok-3', 'fail-4', 'ok-5']);
    expect(batches.slice(1).flat().sort()).toEqual(['fail-2', 'fail-4']);
    const first = run.of('attempt').slice(0, 5);
    expect(first.map((a) => [a.messageId, a.outcome, a.recordFailed])).toEqual([
      ['trace-ok-1', 'partial', false],
      ['trace-fail-2', 'partial', true],
      ['trace-ok-3', 'partial', false],
      ['trace-fail-4', 'partial', true],
      ['trace-ok-5', 'partial', false],
    ]);
    expect(run.of('retry-scheduled').map((e) => [e.messageId, e.receiveCount])).toEqual([
      ['trace-fail-2', 1],
      ['trace-fail-4', 1],
    ]);
    const retried = run.of('received').filter((e) => e.receiveCount === 2);
    expect(retried.map((e) => e.messageId).sort()).toEqual(['trace-fail-2', 'trace-fail-4']);
    // Not made visible early: the retry is received a visibility timeout (1 s) after the first attempt.
    expect(Math.min(...retried.map((e) => e.at)) - (first[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(run.of('received')[0]).toMatchObject({ queue: 'partial', deliveryId: expect.any(String), receiveCount: 1 });
    for (const d of run.of('deleted')) expect(d.latencyMs).toBeGreaterThanOrEqual(0);
    expect(await depth(tq)).toEqual({ visible: 0, inFlight: 0 });
    expect(run.poller.stats()).toMatchObject({ inFlight: 0, running: 0 });
  });

  it('an invalid response (empty itemIdentifier) fails the whole batch: nothing deleted', async () => {
    const tq = await resources.createQueue('invalid', { VisibilityTimeout: '1' });
    await sendAll(tq, ['a', 'b', 'c']);
    const run = startPoller(
      localQueue('invalid', tq),
      inProcess(({ Records }) =>
        Records[0]?.attributes.ApproximateReceiveCount === '1' ? { batchItemFailures: [{ itemIdentifier: '' }] } : {},
      ),
      { maxConcurrency: 1 },
    );
    await until('3 deletes', () => run.of('deleted').length === 3);
    const attempts = run.of('attempt');
    expect(attempts.slice(0, 3).map((a) => [a.outcome, a.recordFailed])).toEqual([
      ['invalid-response', true],
      ['invalid-response', true],
      ['invalid-response', true],
    ]);
    expect(attempts[0]?.error).toMatch(/empty itemIdentifier.*whole batch fails/);
    expect(run.of('retry-scheduled')).toHaveLength(3);
    const firstDelete = run.of('deleted')[0]?.at ?? 0;
    expect(firstDelete).toBeGreaterThan(attempts[0]?.at ?? Number.POSITIVE_INFINITY);
    expect(attempts.slice(3).every((a) => a.outcome === 'succeeded' && a.receiveCount === 2)).toBe(true);
  });

  it('judges responses as Lambda does', () => {
    const records = [{ messageId: 'm-1' }, { messageId: 'm-2' }] as SQSRecord[];
    for (const success of [null, undefined, {}, { batchItemFailures: null }, { batchItemFailures: [] }, { other: 1 }]) {
      expect(judgePartialResponse(success, records), JSON.stringify(success)).toEqual({
        outcome: 'succeeded',
        failed: undefined,
      });
    }
    for (const invalid of [
      'done',
      42,
      true,
      [],
      { batchItemFailures: 'm-1' },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: 'm-3' }] },
      { batchItemFailures: [{ id: 'm-1' }] },
      { batchItemFailures: [{ itemIdentifier: 'm-1' }, null] },
    ]) {
      expect(judgePartialResponse(invalid, records).outcome, JSON.stringify(invalid)).toBe('invalid-response');
    }
    expect(judgePartialResponse({ batchItemFailures: [{ itemIdentifier: 'm-2' }] }, records)).toEqual({
      outcome: 'partial',
      failed: new Set(['m-2']),
    });
  });

  it('without ReportBatchItemFailures the response is ignored and every record deleted', async () => {
    const tq = await resources.createQueue('no-report', { VisibilityTimeout: '1' });
    await sendAll(tq, ['x', 'y']);
    const run = startPoller(
      localQueue('no-report', tq),
      inProcess(({ Records }) => ({ batchItemFailures: Records.map((r) => ({ itemIdentifier: r.messageId })) })),
      { maxConcurrency: 1, mapping: { reportBatchItemFailures: false } },
    );
    await until('2 deletes', () => run.of('deleted').length === 2);
    expect(run.of('attempt').map((a) => [a.outcome, a.recordFailed])).toEqual([
      ['succeeded', false],
      ['succeeded', false],
    ]);
  });
});

describe('failures and retries', () => {
  it('a thrown error deletes nothing; the batch comes back after the visibility timeout', async () => {
    const tq = await resources.createQueue('throws', { VisibilityTimeout: '1' });
    await sendAll(tq, ['job']);
    const run = startPoller(
      localQueue('throws', tq),
      inProcess(({ Records }) => {
        if (Records[0]?.attributes.ApproximateReceiveCount === '1') throw new Error('downstream unavailable');
      }),
      { maxConcurrency: 1 },
    );
    await until('the delete', () => run.of('deleted').length === 1);
    const [first, second] = run.of('attempt');
    expect(first).toMatchObject({ outcome: 'failed', recordFailed: true, error: 'Error: downstream unavailable' });
    expect(run.of('retry-scheduled')).toMatchObject([{ receiveCount: 1 }]);
    expect(second).toMatchObject({ outcome: 'succeeded', receiveCount: 2 });
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('a poison message reaches the DLQ after maxReceiveCount receives', async () => {
    const { queue: tq, dlq } = await resources.createQueueWithDlq('poison', 2, { VisibilityTimeout: '1' });
    const queue = localQueue('poison', tq, { arn: dlq.arn, maxReceiveCount: 2 });
    await sendAll(tq, ['poison-pill']);
    const run = startPoller(
      queue,
      inProcess(() => {
        throw new Error('cannot parse');
      }),
      { maxConcurrency: 1, deadLetterQueue: { displayName: 'poison-dlq' } },
    );
    await until('dead-lettered', () => run.of('dead-lettered').length === 1);
    expect(run.of('retry-scheduled')).toMatchObject([{ receiveCount: 1 }]);
    expect(run.of('dead-lettered')).toMatchObject([
      { receiveCount: 2, deadLetterQueue: 'poison-dlq', queue: 'poison' },
    ]);
    const moved = await resources.receiveExactly(dlq, 1);
    expect(moved[0]?.Body).toBe('poison-pill');
    expect(run.of('attempt')).toHaveLength(2);
  });

  it('a timeout is a failure like any other: the record comes back and is retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queuekit-poller-'));
    try {
      mkdirSync(join(dir, 'asset'));
      writeFileSync(
        join(dir, 'asset', 'index.mjs'),
        `export const handler = async (event) => {
           if (event.Records[0].attributes.ApproximateReceiveCount === '1') await new Promise((r) => setTimeout(r, 10_000));
           return { batchItemFailures: [] };
         };`,
      );
      const fn = localFunction({ codeDir: join(dir, 'asset'), timeoutSeconds: 1 });
      const host = new FunctionHost(fn);
      hosts.push(host);
      const tq = await resources.createQueue('timeout', { VisibilityTimeout: '2' });
      await sendAll(tq, ['slow']);
      const run = startPoller(
        localQueue('timeout', tq),
        (event, { deadlineMs }) => host.invoke(event, { deadlineMs }),
        {
          fn,
          maxConcurrency: 1,
        },
      );
      await until('the delete', () => run.of('deleted').length === 1);
      const [first, second] = run.of('attempt');
      expect(first).toMatchObject({
        outcome: 'timed-out',
        recordFailed: true,
        error: 'Sandbox.Timedout: Task timed out after 1.00 seconds',
      });
      expect(second).toMatchObject({ outcome: 'succeeded', receiveCount: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FIFO', () => {
  it('keeps each message group in order through a failure, and never runs two batches of one group at once', async () => {
    const tq = await resources.createQueue('ordered.fifo', {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '1',
    });
    const bodies = ['A1', 'B1', 'A2', 'B2', 'A3', 'B3', 'A4', 'B4'];
    await sendAll(tq, bodies, { groupOf: (b) => b[0] as string });
    const processed: string[] = [];
    const active = new Set<string>();
    let overlaps = 0;
    let failedOnce = false;
    const run = startPoller(
      localQueue('ordered.fifo', tq),
      inProcess(async ({ Records }) => {
        const groups = [...new Set(Records.map((r) => r.attributes.MessageGroupId as string))];
        for (const g of groups) {
          if (active.has(g)) overlaps++;
          active.add(g);
        }
        await sleep(20);
        // As a FIFO consumer must: after a failure, report the rest of that group too.
        const failedGroups = new Set<string>();
        const failures: { itemIdentifier: string }[] = [];
        for (const r of Records) {
          const g = r.attributes.MessageGroupId as string;
          if (failedGroups.has(g) || (r.body === 'A2' && !failedOnce)) {
            if (r.body === 'A2') failedOnce = true;
            failedGroups.add(g);
            failures.push({ itemIdentifier: r.messageId });
          } else processed.push(r.body);
        }
        for (const g of groups) active.delete(g);
        return { batchItemFailures: failures };
      }),
      { maxConcurrency: 4 },
    );
    await until('all processed', () => processed.length === bodies.length);
    expect(processed.filter((b) => b.startsWith('A'))).toEqual(['A1', 'A2', 'A3', 'A4']);
    expect(processed.filter((b) => b.startsWith('B'))).toEqual(['B1', 'B2', 'B3', 'B4']);
    expect(overlaps).toBe(0);
    expect(run.of('attempt').filter((a) => a.recordFailed)).toHaveLength(1);
    await until('deletes', () => run.of('deleted').length === bodies.length);
  });
});

describe('batching', () => {
  it('collects records for the batching window (scaled) before invoking', async () => {
    const tq = await resources.createQueue('window');
    const batches: string[][] = [];
    const run = startPoller(
      localQueue('window', tq),
      inProcess(({ Records }) => void batches.push(bodiesOf(Records))),
      { maxConcurrency: 1, timeScale: 0.5, mapping: { maxBatchingWindowSeconds: 2 } },
    );
    await sleep(100);
    for (const body of ['w1', 'w2', 'w3']) {
      await sendAll(tq, [body]);
      await sleep(150);
    }
    await until('the batch', () => run.of('deleted').length === 3);
    expect(batches).toEqual([['w1', 'w2', 'w3']]);
    const received = run.of('received')[0]?.at ?? 0;
    const attempt = run.of('attempt')[0]?.at ?? 0;
    expect(attempt - received).toBeGreaterThanOrEqual(950);
  });

  it('gathers batches larger than one receive, up to the batch size, without waiting for the window', async () => {
    const tq = await resources.createQueue('big-batch');
    await sendAll(
      tq,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    const sizes: number[] = [];
    const run = startPoller(
      localQueue('big-batch', tq),
      inProcess(({ Records }) => void sizes.push(Records.length)),
      { maxConcurrency: 1, mapping: { batchSize: 25, maxBatchingWindowSeconds: 20 } },
    );
    await until('25 deletes', () => run.of('deleted').length === 25, 5_000);
    expect(sizes).toEqual([25]);
  });

  it('keeps an invocation within 6 MB of payload, counting bodies as they are escaped in the event JSON', async () => {
    const tq = await resources.createQueue('six-mb');
    // 600,000 quotes: 600 kB on the queue, 1.2 MB once escaped in the event. Five fit in 6 MB, six do not.
    const body = '"'.repeat(600_000);
    for (let i = 0; i < 8; i++) await sqs.send(new SendMessageCommand({ QueueUrl: tq.url, MessageBody: body }));
    const sizes: number[] = [];
    const payloads: number[] = [];
    const run = startPoller(
      localQueue('six-mb', tq),
      inProcess((event) => {
        sizes.push(event.Records.length);
        payloads.push(Buffer.byteLength(JSON.stringify(event)));
      }),
      { maxConcurrency: 1 },
    );
    await until('8 deletes', () => run.of('deleted').length === 8);
    expect(sizes).toEqual([5, 3]);
    for (const bytes of payloads) expect(bytes).toBeLessThanOrEqual(6_291_456);
  });

  it('window 0: invokes with what one receive returned', async () => {
    const tq = await resources.createQueue('no-window');
    const sizes: number[] = [];
    const run = startPoller(
      localQueue('no-window', tq),
      inProcess(({ Records }) => void sizes.push(Records.length)),
      { maxConcurrency: 1 },
    );
    await sleep(100);
    for (const body of ['n1', 'n2', 'n3']) {
      await sendAll(tq, [body]);
      await sleep(150);
    }
    await until('3 deletes', () => run.of('deleted').length === 3);
    expect(sizes).toEqual([1, 1, 1]);
  });
});

describe('concurrency and stopping', () => {
  it('scales up while receives come back full, never beyond the maximum concurrency', async () => {
    const tq = await resources.createQueue('backlog', { VisibilityTimeout: '5' });
    await sendAll(
      tq,
      Array.from({ length: 300 }, (_, i) => `b${i}`),
    );
    let running = 0;
    let peak = 0;
    const run = startPoller(
      localQueue('backlog', tq),
      inProcess(async () => {
        peak = Math.max(peak, ++running);
        await sleep(30);
        running--;
      }),
      { mapping: { maxConcurrency: 8 } },
    );
    await until('300 deletes', () => run.of('deleted').length === 300, 30_000);
    expect(peak).toBeGreaterThan(5);
    expect(peak).toBeLessThanOrEqual(8);
    expect(new Set(run.of('deleted').map((d) => d.deliveryId)).size).toBe(300);
  });

  it('stop(): returns at once when idle (the long poll is aborted)', async () => {
    const tq = await resources.createQueue('idle');
    const run = startPoller(
      localQueue('idle', tq),
      inProcess(() => undefined),
    );
    await sleep(200);
    const started = Date.now();
    await run.poller.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(run.poller.stats()).toEqual({ inFlight: 0, invocations: 0, running: 0, pollers: 0 });
  });

  it('stop(): in-flight invocations finish and their deletes land; nothing is lost', async () => {
    const tq = await resources.createQueue('graceful', { VisibilityTimeout: '1' });
    const bodies = Array.from({ length: 60 }, (_, i) => `g${i}`);
    await sendAll(tq, bodies);
    const processed: string[] = [];
    const handler = inProcess(async ({ Records }) => {
      await sleep(40);
      processed.push(...bodiesOf(Records));
    });
    const first = startPoller(localQueue('graceful', tq), handler, { maxConcurrency: 3, mapping: { batchSize: 5 } });
    await until('some processed', () => processed.length >= 10);
    await first.poller.stop();
    const stats = first.poller.stats();
    expect(stats).toMatchObject({ running: 0, inFlight: 0, pollers: 0 });
    // Everything the first poller processed was deleted before stop() resolved.
    expect(
      first
        .of('deleted')
        .map((d) => d.deliveryId)
        .sort(),
    ).toEqual(
      first
        .of('attempt')
        .map((a) => a.deliveryId)
        .sort(),
    );
    expect(first.of('deleted')).toHaveLength(processed.length);

    const second = startPoller(localQueue('graceful', tq), handler, { maxConcurrency: 3, mapping: { batchSize: 5 } });
    await until('all processed', () => new Set(processed).size === bodies.length, 20_000);
    await until('all deleted', () => first.of('deleted').length + second.of('deleted').length >= bodies.length);
    expect(new Set(processed)).toEqual(new Set(bodies));
    expect(await depth(tq)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('an invocation that rejects', () => {
  it('counts as a crash of the batch, which comes back', async () => {
    const tq = await resources.createQueue('rejects', { VisibilityTimeout: '1' });
    await sendAll(tq, ['r']);
    let calls = 0;
    const run = startPoller(
      localQueue('rejects', tq),
      async (event): Promise<InvokeResult> => {
        if (++calls === 1) throw new Error('host gone');
        return inProcess(() => undefined)(event, { deadlineMs: 0 });
      },
      { maxConcurrency: 1 },
    );
    await until('the delete', () => run.of('deleted').length === 1);
    expect(run.of('attempt')[0]).toMatchObject({ outcome: 'crashed', recordFailed: true });
  });
});
