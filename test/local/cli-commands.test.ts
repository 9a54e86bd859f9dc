/**
 * The SDK commands of the CLI (`send`, `peek`, `redrive`, `invoke`) against a real fauxqs (in-process, loopback
 * only) through the real AWS SDK v3: an outputs.json like the one `queuekit dev` writes goes into a temp folder,
 * then each command's core runs in-process with parsed options. `invoke` talks to a small HTTP server that
 * answers the Lambda Invoke API (status, body, X-Amz-Function-Error, X-Amz-Log-Result). A few tests spawn the CLI
 * itself to check the wiring (help, exit codes, a real send).
 *
 * The CLI is spawned asynchronously: the emulator runs in this process, so a blocking spawn would deadlock it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeCliClients, resolveCliTarget } from '../../lib/local/cli-target.js';
import { invokeCommand } from '../../lib/local/commands/invoke.js';
import { peekCommand } from '../../lib/local/commands/peek.js';
import { redriveCommand } from '../../lib/local/commands/redrive.js';
import { parseAttributeArgs, sendCommand } from '../../lib/local/commands/send.js';
import { TargetError, UsageError } from '../../lib/local/errors.js';
import {
  type RunnerOutputs,
  readOutputs,
  resolveFunction,
  resolveQueue,
  resolveTopic,
  writeOutputs,
} from '../../lib/local/outputs-file.js';
import { sqsClient } from '../../lib/runtime/clients.js';
import { EmulatorResources, must, type TestQueue } from '../support/emulator-resources.js';
import { type EmbeddedEmulator, sdkClientConfig, startEmbeddedEmulator } from '../support/fauxqs-server.js';

let emulator: EmbeddedEmulator;
let sqs: SQSClient;
let sns: SNSClient;
let res: EmulatorResources;
let dir: string;
let outputsPath: string;
let outputs: RunnerOutputs;
let lambda: FakeLambda;

// The app: a standard queue with a DLQ, a FIFO queue with a FIFO DLQ, a topic delivering to a queue, a function.
let jobs: { queue: TestQueue; dlq: TestQueue };
let orders: { queue: TestQueue; dlq: TestQueue };
let eventsSink: TestQueue;
let topicArn: string;

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  sqs = new SQSClient(sdkClientConfig(emulator.endpoint));
  sns = new SNSClient(sdkClientConfig(emulator.endpoint));
  res = new EmulatorResources(sqs, sns);
  jobs = await res.createQueueWithDlq('jobs', 3);
  orders = await res.createQueueWithDlq('orders.fifo', 3, { FifoQueue: 'true' });
  eventsSink = await res.createQueue('events-sink');
  topicArn = await res.createTopic('job-events');
  await res.subscribeQueue(topicArn, eventsSink, { RawMessageDelivery: 'true' });
  lambda = await startFakeLambda();
  dir = mkdtempSync(join(tmpdir(), 'queuekit-cli-'));
  outputs = {
    endpoint: emulator.endpoint,
    lambdaEndpoint: lambda.endpoint,
    dashboardUrl: 'http://127.0.0.1:1/',
    region: emulator.region,
    queues: {
      InferenceJobs: { url: jobs.queue.url, arn: jobs.queue.arn, fifo: false, dlqUrl: jobs.dlq.url },
      'InferenceJobs/DeadLetterQueue': { url: jobs.dlq.url, arn: jobs.dlq.arn, fifo: false },
      Orders: { url: orders.queue.url, arn: orders.queue.arn, fifo: true, dlqUrl: orders.dlq.url },
      'Orders/DeadLetterQueue': { url: orders.dlq.url, arn: orders.dlq.arn, fifo: true },
      EventsSink: { url: eventsSink.url, arn: eventsSink.arn, fifo: false },
    },
    topics: { JobEvents: { arn: topicArn, fifo: false } },
    functions: {
      SubmitJob: { name: 'App-SubmitJob', arn: 'arn:aws:lambda:us-east-1:000000000000:function:App-SubmitJob' },
    },
  };
  outputsPath = writeOutputs(join(dir, '.queuekit'), outputs);
});

afterEach(async () => {
  // Every test leaves the app's queues empty for the next.
  for (const q of [jobs.queue, jobs.dlq, orders.queue, orders.dlq, eventsSink]) await drain(q);
});

afterAll(async () => {
  closeCliClients();
  sqs?.destroy();
  sns?.destroy();
  await lambda?.stop();
  await emulator?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The options every in-process command gets: the outputs file, and an empty environment. */
const target = () => ({ outputs: outputsPath, env: {} });

/** Empties a queue with short polls (the emulator answers them exactly). */
async function drain(queue: TestQueue): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return;
    await res.deleteAll(queue, Messages);
  }
}

async function countIn(queue: TestQueue): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

describe('outputs.json', () => {
  it('round-trips and resolves display name, physical name, URL and ARN', () => {
    const read = readOutputs(outputsPath);
    expect(read).toEqual(outputs);
    for (const key of ['InferenceJobs', 'jobs', jobs.queue.url, jobs.queue.arn])
      expect(resolveQueue(read, key)).toMatchObject({
        displayName: 'InferenceJobs',
        url: jobs.queue.url,
        name: 'jobs',
      });
    expect(resolveTopic(read, 'job-events').displayName).toBe('JobEvents');
    expect(resolveFunction(read, 'App-SubmitJob').displayName).toBe('SubmitJob');
    expect(resolveFunction(read, `${outputs.functions.SubmitJob!.arn}:live`).name).toBe('App-SubmitJob');
  });

  it('lists the known names when nothing matches', () => {
    expect(() => resolveQueue(outputs, 'Nope')).toThrow(UsageError);
    expect(() => resolveQueue(outputs, 'Nope')).toThrow(
      /Known queues: InferenceJobs, InferenceJobs\/DeadLetterQueue, Orders/,
    );
    expect(() => resolveFunction(outputs, 'Nope')).toThrow(/Known functions: SubmitJob/);
  });

  it('says how to get one when it is missing or broken', () => {
    expect(() => readOutputs(join(dir, 'missing.json'))).toThrow(TargetError);
    expect(() => readOutputs(join(dir, 'missing.json'))).toThrow(/start 'queuekit dev'.*--endpoint/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"queues":{}}');
    expect(() => readOutputs(broken)).toThrow(/has no "endpoint"/);
  });

  it('picks the target: --endpoint over the outputs file, the outputs file over AWS_ENDPOINT_URL', () => {
    expect(resolveCliTarget({ outputs: outputsPath, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } })).toMatchObject({
      kind: 'runner',
      endpoint: emulator.endpoint,
      lambdaEndpoint: lambda.endpoint,
    });
    expect(resolveCliTarget({ endpoint: 'http://127.0.0.1:9', env: {} })).toMatchObject({
      kind: 'endpoint',
      endpoint: 'http://127.0.0.1:9',
    });
    // The default outputs file is looked for in the working directory: `dir` has one, an empty folder has none.
    expect(resolveCliTarget({ cwd: dir, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } }).kind).toBe('runner');
    const empty = mkdtempSync(join(tmpdir(), 'queuekit-empty-'));
    expect(resolveCliTarget({ cwd: empty, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } }).description).toBe(
      'endpoint http://127.0.0.1:9 (AWS_ENDPOINT_URL)',
    );
    expect(resolveCliTarget({ cwd: empty, env: { AWS_REGION: 'eu-west-1' } })).toMatchObject({
      kind: 'aws',
      description: 'AWS (eu-west-1)',
    });
    rmSync(empty, { recursive: true });
    expect(() => resolveCliTarget({ outputs: join(dir, 'missing.json'), env: {} })).toThrow(UsageError);
  });
});

describe('queuekit send', () => {
  it('sends to a queue by display name, with typed attributes', async () => {
    const result = await sendCommand({
      ...target(),
      target: 'InferenceJobs',
      body: '{"jobId":"j-1"}',
      attr: ['tenant=acme', 'priority:Number=5', 'blob:Binary=AQID', 'ratio:Number.float=1.5'],
    });
    expect(result).toMatchObject({ kind: 'queue', name: 'InferenceJobs', address: jobs.queue.url });
    expect(result.messageId).toMatch(/\S/);
    const [message] = await res.receiveExactly(jobs.queue, 1);
    expect(message!.MessageId).toBe(result.messageId);
    expect(message!.Body).toBe('{"jobId":"j-1"}');
    expect(message!.MessageAttributes).toMatchObject({
      tenant: { DataType: 'String', StringValue: 'acme' },
      priority: { DataType: 'Number', StringValue: '5' },
      ratio: { DataType: 'Number.float', StringValue: '1.5' },
      blob: { DataType: 'Binary' },
    });
    expect([...must(message!.MessageAttributes?.blob?.BinaryValue, 'blob')]).toEqual([1, 2, 3]);
  });

  it('publishes to a topic, and the message arrives through the subscription', async () => {
    const result = await sendCommand({
      ...target(),
      target: 'JobEvents',
      body: '{"type":"job.created"}',
      attr: ['type=job.created'],
      subject: 'created',
    });
    expect(result).toMatchObject({ kind: 'topic', name: 'JobEvents', address: topicArn });
    const [message] = await res.receiveExactly(eventsSink, 1);
    expect(message!.Body).toBe('{"type":"job.created"}');
    expect(message!.MessageAttributes?.type).toMatchObject({ DataType: 'String', StringValue: 'job.created' });
  });

  it('finds queues and topics on the wire with --endpoint and no outputs (name, URL, ARN)', async () => {
    const wire = { endpoint: emulator.endpoint, env: {} };
    for (const key of ['jobs', jobs.queue.url, jobs.queue.arn])
      expect(await sendCommand({ ...wire, target: key, body: 'x' })).toMatchObject({ kind: 'queue', name: 'jobs' });
    expect(await sendCommand({ ...wire, target: 'job-events', body: 'y' })).toMatchObject({
      kind: 'topic',
      address: topicArn,
    });
    await res.receiveExactly(jobs.queue, 3);
    await res.receiveExactly(eventsSink, 1);
    await expect(sendCommand({ ...wire, target: 'no-such-queue', body: 'x' })).rejects.toThrow(
      /No queue or topic 'no-such-queue' on endpoint http:\/\/127\.0\.0\.1:\d+\. Fix:/,
    );
  });

  it('refuses a FIFO send without a group, naming the fix; with one it returns the sequence number', async () => {
    await expect(sendCommand({ ...target(), target: 'Orders', body: 'a' })).rejects.toThrow(UsageError);
    await expect(sendCommand({ ...target(), target: 'Orders', body: 'a' })).rejects.toThrow(
      /Orders is a FIFO queue: every message needs a message group\. Fix: pass --group <id>/,
    );
    await expect(sendCommand({ ...target(), target: 'Orders', body: 'a', group: 'g' })).rejects.toThrow(
      /Fix: pass --dedup <id>, or enable content-based deduplication/,
    );
    const result = await sendCommand({ ...target(), target: 'Orders', body: 'a', group: 'g', dedup: 'd-1' });
    expect(result.sequenceNumber).toMatch(/^\d+$/);
    const [message] = await res.receiveExactly(orders.queue, 1);
    expect(message!.Attributes?.MessageGroupId).toBe('g');
  });

  it('rejects bad arguments before sending, as usage errors', async () => {
    const cases: [Parameters<typeof sendCommand>[0], RegExp][] = [
      [{ ...target(), target: 'InferenceJobs', body: 'x', attr: ['n:Number=abc'] }, /'abc' is not a decimal number/],
      [{ ...target(), target: 'InferenceJobs', body: 'x', attr: ['aws.trace=1'] }, /reserved by AWS/],
      [{ ...target(), target: 'InferenceJobs', body: 'x', attr: ['novalue'] }, /is not name=value/],
      [{ ...target(), target: 'InferenceJobs', body: 'x', attr: ['b:Binary=@@'] }, /not base64/],
      [{ ...target(), target: 'InferenceJobs' }, /No message body/],
      [{ ...target(), target: 'InferenceJobs', body: 'x', subject: 's' }, /--subject applies to topics/],
      [{ ...target(), target: 'JobEvents', body: 'x', delay: 5 }, /--delay applies to queues/],
      [{ ...target(), target: 'Orders', body: 'x', group: 'g', delay: 5 }, /takes no per-message delay/],
      [{ ...target(), target: 'InferenceJobs', body: 'x', dedup: 'd' }, /--dedup applies to FIFO/],
      [{ ...target(), target: 'Nope', body: 'x' }, /Known: InferenceJobs.*JobEvents/],
    ];
    for (const [options, message] of cases) await expect(sendCommand(options)).rejects.toThrow(message);
    await res.expectNoMessage(jobs.queue);
  });

  it('parses attribute arguments', () => {
    expect(parseAttributeArgs(['a=b=c', 'n:Number=-1.5e3', 'tags:String.Array=["x"]'])).toEqual({
      a: { type: 'String', value: 'b=c' },
      n: { type: 'Number', value: '-1.5e3' },
      tags: { type: 'String.Array', value: '["x"]' },
    });
    expect(() => parseAttributeArgs(['a=1', 'a=2'])).toThrow(/given twice/);
  });
});

describe('queuekit peek', () => {
  it('shows messages without deleting them', async () => {
    for (const n of [1, 2, 3])
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: jobs.queue.url,
          MessageBody: JSON.stringify({ n }),
          MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } },
        }),
      );
    const result = await peekCommand({ ...target(), queue: 'InferenceJobs' });
    expect(result.queue).toBe('InferenceJobs');
    expect(result.maxReceiveCount).toBe(3);
    expect(result.messages.map((m) => m.json)).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }, { n: 3 }]));
    for (const m of result.messages) {
      expect(m.receiveCount).toBe(1);
      expect(m.attributes.tenant).toEqual({ type: 'String', value: 'acme' });
      expect(Date.parse(must(m.sentAt, 'sentAt'))).toBeGreaterThan(Date.now() - 60_000);
      expect(m.dlqOnNextReceive).toBeUndefined();
    }
    // Still there, and visible right away (peek made them visible again); the receive count went up by one.
    const again = await res.receiveExactly(jobs.queue, 3, 3);
    expect(again.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['2', '2', '2']);
  });

  it('caps -n and flags messages that the next receive moves to the DLQ', async () => {
    await expect(peekCommand({ ...target(), queue: 'InferenceJobs', count: 101 })).rejects.toThrow(UsageError);
    await sqs.send(new SendMessageCommand({ QueueUrl: jobs.queue.url, MessageBody: 'fragile' }));
    await peekCommand({ ...target(), queue: 'InferenceJobs' });
    await peekCommand({ ...target(), queue: 'InferenceJobs' });
    const third = await peekCommand({ ...target(), queue: 'InferenceJobs' });
    expect(third.messages).toMatchObject([{ body: 'fragile', receiveCount: 3, dlqOnNextReceive: true }]);
  });

  it('shows the head of each FIFO group, with its group, and keeps the group order', async () => {
    for (const [group, n] of [
      ['a', 1],
      ['b', 1],
      ['a', 2],
    ] as const)
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: orders.queue.url,
          MessageBody: `${group}${n}`,
          MessageGroupId: group,
          MessageDeduplicationId: `${group}${n}`,
        }),
      );
    const result = await peekCommand({ ...target(), queue: 'Orders', count: 5 });
    expect(result.messages.map((m) => [m.groupId, m.body])).toEqual([
      ['a', 'a1'],
      ['b', 'b1'],
    ]);
    const all = await res.receiveExactly(orders.queue, 3);
    expect(all.filter((m) => m.Attributes?.MessageGroupId === 'a').map((m) => m.Body)).toEqual(['a1', 'a2']);
  });
});

describe('queuekit redrive', () => {
  it('moves a FIFO DLQ back to its source by receive → send → delete, keeping group order', async () => {
    const sent = [
      ['a', 1],
      ['b', 1],
      ['a', 2],
      ['b', 2],
      ['a', 3],
      ['c', 1],
    ] as const;
    const dlqIds = new Map<string, string>();
    for (const [group, n] of sent) {
      const out = await sqs.send(
        new SendMessageCommand({
          QueueUrl: orders.dlq.url,
          MessageBody: JSON.stringify({ group, n }),
          MessageGroupId: group,
          MessageDeduplicationId: `${group}-${n}`,
          MessageAttributes: { n: { DataType: 'Number', StringValue: String(n) } },
        }),
      );
      dlqIds.set(`${group}${n}`, must(out.MessageId, 'MessageId'));
    }
    const progress: number[] = [];
    const result = await redriveCommand({
      ...target(),
      dlq: 'Orders/DeadLetterQueue',
      onProgress: (n) => progress.push(n),
    });
    expect(result).toMatchObject({
      method: 'receive-send-delete',
      from: 'Orders/DeadLetterQueue',
      to: 'Orders',
      moved: 6,
      remaining: 0,
    });
    expect(result.fallbackReason).toMatch(/FIFO/);
    expect(progress.at(-1)).toBe(6);

    const moved = await res.receiveExactly(orders.queue, 6);
    for (const group of ['a', 'b', 'c']) {
      const inGroup = moved.filter((m) => m.Attributes?.MessageGroupId === group);
      const expected = sent.filter(([g]) => g === group).map(([, n]) => n);
      expect(inGroup.map((m) => (JSON.parse(m.Body!) as { n: number }).n)).toEqual(expected);
    }
    for (const m of moved) {
      const { group, n } = JSON.parse(m.Body!) as { group: string; n: number };
      expect(m.MessageAttributes?.n).toMatchObject({ DataType: 'Number', StringValue: String(n) });
      expect(m.Attributes?.MessageDeduplicationId).toBe(`redrive-${dlqIds.get(`${group}${n}`)}`);
    }
    expect(await countIn(orders.dlq)).toBe(0);
  });

  it('moves a standard DLQ back after real redrives, finding the source on the wire (emulator without move tasks)', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: jobs.queue.url, MessageBody: 'poison' }));
    // Three receives without delete reach maxReceiveCount; the fourth moves the message to the DLQ.
    for (let i = 0; i < 4; i++) await res.receiveOnce(jobs.queue, 10, 0);
    expect(await countIn(jobs.dlq)).toBe(1);

    const result = await redriveCommand({ endpoint: emulator.endpoint, env: {}, dlq: 'jobs-dlq' });
    expect(result).toMatchObject({ method: 'receive-send-delete', to: 'jobs', moved: 1, remaining: 0 });
    expect(result.fallbackReason).toMatch(/has no StartMessageMoveTask/);
    const [back] = await res.receiveExactly(jobs.queue, 1);
    expect(back!.Body).toBe('poison');
  });

  it('redrives --to another queue at a limited rate, and refuses a queue of the other type', async () => {
    for (const n of [1, 2, 3]) await sqs.send(new SendMessageCommand({ QueueUrl: jobs.dlq.url, MessageBody: `m${n}` }));
    const started = Date.now();
    const result = await redriveCommand({
      ...target(),
      dlq: 'InferenceJobs/DeadLetterQueue',
      to: 'EventsSink',
      maxPerSecond: 10,
    });
    expect(result).toMatchObject({ to: 'EventsSink', moved: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect((await res.receiveExactly(eventsSink, 3)).map((m) => m.Body).sort()).toEqual(['m1', 'm2', 'm3']);
    await expect(redriveCommand({ ...target(), dlq: 'InferenceJobs/DeadLetterQueue', to: 'Orders' })).rejects.toThrow(
      /standard but Orders is FIFO/,
    );
  });

  it('stops when a message it moved fails again and comes back, instead of looping', async () => {
    const bouncy = await res.createQueueWithDlq('bouncy', 1);
    for (const n of [1, 2, 3])
      await sqs.send(new SendMessageCommand({ QueueUrl: bouncy.dlq.url, MessageBody: `b${n}` }));
    // A consumer that always fails: receives without deleting, so a message's second receive sends it to the DLQ.
    let failing = true;
    const consumer = (async () => {
      while (failing) {
        await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: bouncy.queue.url, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      const result = await redriveCommand({ endpoint: emulator.endpoint, env: {}, dlq: 'bouncy-dlq', maxPerSecond: 2 });
      expect(result.moved).toBe(3);
      expect(result.stopped).toMatch(/was moved by this run and is back in the DLQ \(it failed again\)/);
    } finally {
      failing = false;
      await consumer;
    }
  });

  it('uses StartMessageMoveTask where the target has it, and follows the task to its end', async () => {
    // fauxqs has no move tasks: answer the two calls in the SDK client the command uses (the factory's cached one).
    const client = sqsClient({ endpoint: emulator.endpoint, region: emulator.region, env: {} });
    const calls: { command: string; input: unknown }[] = [];
    let polls = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName);
        if (command === 'StartMessageMoveTaskCommand') {
          calls.push({ command, input: args.input });
          return { output: { TaskHandle: 'task-1', $metadata: {} }, response: {} };
        }
        if (command === 'ListMessageMoveTasksCommand') {
          polls++;
          const done = polls > 1;
          return {
            output: {
              Results: [
                {
                  TaskHandle: 'task-1',
                  Status: done ? 'COMPLETED' : 'RUNNING',
                  ApproximateNumberOfMessagesMoved: done ? 7 : 3,
                },
              ],
              $metadata: {},
            },
            response: {},
          };
        }
        return next(args);
      },
      { step: 'initialize', name: 'fakeMoveTasks' },
    );
    try {
      const result = await redriveCommand({ ...target(), dlq: 'InferenceJobs/DeadLetterQueue', maxPerSecond: 50 });
      expect(result).toMatchObject({
        method: 'move-task',
        taskHandle: 'task-1',
        status: 'COMPLETED',
        moved: 7,
        to: 'original source queues',
      });
      expect(calls).toEqual([
        {
          command: 'StartMessageMoveTaskCommand',
          input: { SourceArn: jobs.dlq.arn, MaxNumberOfMessagesPerSecond: 50 },
        },
      ]);
    } finally {
      client.middlewareStack.remove('fakeMoveTasks');
    }
  });
});

describe('queuekit invoke', () => {
  it('invokes by display name and returns the payload', async () => {
    const result = await invokeCommand({ ...target(), function: 'SubmitJob', payload: '{"prompt":"hi"}' });
    expect(lambda.requests.at(-1)).toMatchObject({
      path: '/2015-03-31/functions/App-SubmitJob/invocations',
      invocationType: 'RequestResponse',
      body: '{"prompt":"hi"}',
    });
    expect(result).toMatchObject({ function: 'SubmitJob', statusCode: 200, json: { echo: { prompt: 'hi' } } });
    expect(result.functionError).toBeUndefined();
  });

  it('reports a function error and the decoded log tail', async () => {
    const result = await invokeCommand({ ...target(), function: 'SubmitJob', payload: '{"fail":true}', log: true });
    expect(result.functionError).toBe('Unhandled');
    expect(result.json).toMatchObject({ errorType: 'Error', errorMessage: 'boom' });
    expect(result.log).toContain('START RequestId');
    expect(lambda.requests.at(-1)?.logType).toBe('Tail');
  });

  it('invokes asynchronously with --event, and rejects a payload that is not JSON', async () => {
    const result = await invokeCommand({ ...target(), function: 'SubmitJob', event: true });
    expect(result.statusCode).toBe(202);
    expect(lambda.requests.at(-1)).toMatchObject({ invocationType: 'Event', body: '{}' });
    await expect(invokeCommand({ ...target(), function: 'SubmitJob', payload: '{nope' })).rejects.toThrow(
      /The payload is not JSON/,
    );
    await expect(invokeCommand({ ...target(), function: 'Unknown' })).rejects.toThrow(
      /No function 'Unknown' in the local runner outputs\. Known functions: SubmitJob\./,
    );
  });

  it('works without outputs given --lambda-endpoint, passing Lambda errors on with the fix', async () => {
    const direct = { endpoint: emulator.endpoint, lambdaEndpoint: lambda.endpoint, env: {} };
    expect(await invokeCommand({ ...direct, function: 'App-SubmitJob' })).toMatchObject({ json: { echo: {} } });
    await expect(invokeCommand({ ...direct, function: 'Unknown' })).rejects.toThrow(
      new RegExp(`Invoking Unknown \\(Lambda at ${lambda.endpoint}\\) failed .*ResourceNotFoundException`),
    );
  });
});

describe('the CLI wiring', () => {
  const cli = new URL('../../bin/queuekit.ts', import.meta.url).pathname;
  const tsx = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
  // No AWS_* from the developer's shell: the target comes from the outputs file alone.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const run = (...args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(tsx, [cli, ...args], { encoding: 'utf8', env }, (error, stdout, stderr) =>
        resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('documents each command with examples', async () => {
    for (const [command, text] of [
      ['send', 'queuekit send InferenceJobs'],
      ['peek', 'peek increments ApproximateReceiveCount'],
      ['redrive', 'StartMessageMoveTask'],
      ['invoke', 'X-Amz-Function-Error'],
    ] as const) {
      const out = await run(command, '--help');
      expect(out.status).toBe(0);
      expect(out.stdout.toLowerCase()).toContain(text.toLowerCase());
      expect(out.stdout).toContain('Exit codes: 0 ok, 1 the operation failed, 2 usage error.');
    }
  });

  it('sends for real, printing the message id', async () => {
    const out = await run(
      'send',
      'InferenceJobs',
      '--outputs',
      outputsPath,
      '--body',
      'from the CLI',
      '--attr',
      'k:Number=1',
    );
    expect(out.stderr).toContain(`via local runner at ${emulator.endpoint}`);
    expect(out.status).toBe(0);
    const id = /message id (\S+)/.exec(out.stdout)?.[1];
    const [message] = await res.receiveExactly(jobs.queue, 1);
    expect(message!.MessageId).toBe(id);
    expect(message!.Body).toBe('from the CLI');
  });

  it('exits 2 on a usage error and 1 on a function error', async () => {
    const fifo = await run('send', 'Orders', '--outputs', outputsPath, '--body', 'x');
    expect(fifo.status).toBe(2);
    expect(fifo.stderr).toContain('queuekit send: Orders is a FIFO queue');
    const badOption = await run('peek', 'Orders', '--outputs', outputsPath, '-n', '0');
    expect(badOption.status).toBe(2);
    const failed = await run('invoke', 'SubmitJob', '--outputs', outputsPath, '--payload', '{"fail":true}');
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain('"errorMessage": "boom"');
    expect(failed.stderr).toContain('SubmitJob failed (Unhandled)');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A stand-in for the runner's Lambda endpoint: just enough of the Invoke API.
// ---------------------------------------------------------------------------------------------------------------

interface FakeLambda {
  readonly endpoint: string;
  readonly requests: { path: string; invocationType: string; logType?: string; body: string }[];
  stop(): Promise<void>;
}

async function startFakeLambda(): Promise<FakeLambda> {
  const requests: FakeLambda['requests'] = [];
  const server: Server = createServer(async (req: IncomingMessage, reply) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const logType = req.headers['x-amz-log-type'] as string | undefined;
    requests.push({ path: decodeURIComponent(req.url ?? ''), invocationType, ...(logType ? { logType } : {}), body });
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    if (!match || decodeURIComponent(match[1]!) !== 'App-SubmitJob') {
      reply.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
      reply.end(JSON.stringify({ Type: 'User', message: `Function not found: ${match?.[1]}` }));
      return;
    }
    if (invocationType === 'Event') {
      reply.writeHead(202).end();
      return;
    }
    const event = JSON.parse(body || '{}') as { fail?: boolean };
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' };
    if (logType === 'Tail')
      headers['x-amz-log-result'] = Buffer.from('START RequestId: 1\nEND RequestId: 1\n').toString('base64');
    if (event.fail) {
      headers['x-amz-function-error'] = 'Unhandled';
      reply.writeHead(200, headers).end(JSON.stringify({ errorType: 'Error', errorMessage: 'boom', trace: [] }));
      return;
    }
    reply.writeHead(200, headers).end(JSON.stringify({ echo: event }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
