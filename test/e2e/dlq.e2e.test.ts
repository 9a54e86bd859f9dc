/**
 * Dead-lettering and redrive: a poison message on Work (maxReceiveCount 3) fails on every receive, reaches
 * Work's DLQ after its third, is read there with the real SQS client, and `queuekit redrive`'s core function
 * (lib/local/commands/redrive.ts) moves it back to Work, where the runner picks it up again.
 */
import { join } from 'node:path';
import { ChangeMessageVisibilityCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveCommand } from '../../lib/local/commands/redrive.js';
import {
  allTraces,
  e2eContext,
  eventsOf,
  type FixtureRunner,
  functionName,
  invoke,
  startFixtureRunner,
  uniqueId,
  waitFor,
} from './harness.js';

describe(`dead-letter queue and redrive (${e2eContext().target})`, () => {
  let f: FixtureRunner;
  const poison = uniqueId('poison');
  const fine = uniqueId('fine');
  let poisonMessageId = '';

  beforeAll(async () => {
    f = await startFixtureRunner();
    const out = await invoke<{ results: { messageId: string }[] }>(f.lambda, functionName(f.runner, 'Publisher'), {
      messages: [
        { to: 'work', body: { id: poison, poison: true } },
        { to: 'work', body: { id: fine } },
      ],
    });
    expect(out.functionError, JSON.stringify(out.payload)).toBeUndefined();
    poisonMessageId = out.payload.results[0]?.messageId as string;
  });
  afterAll(() => f?.stop());

  it('fails the poison message maxReceiveCount times, then dead-letters it', async () => {
    const trace = await waitFor(
      'the poison message to be dead-lettered',
      () => {
        const t = f.runner.recorder.trace(poisonMessageId);
        return eventsOf(t, 'dead-lettered').length > 0 ? t : undefined;
      },
      20_000,
    );
    expect(eventsOf(trace, 'attempt').map((a) => [a.receiveCount, a.outcome, a.recordFailed])).toEqual([
      [1, 'partial', true],
      [2, 'partial', true],
      [3, 'partial', true],
    ]);
    expect(eventsOf(trace, 'retry-scheduled').map((r) => r.receiveCount)).toEqual([1, 2]);
    expect(eventsOf(trace, 'dead-lettered')).toEqual([
      expect.objectContaining({ queue: 'Work', deadLetterQueue: 'Work/DeadLetterQueue', receiveCount: 3 }),
    ]);
    expect(eventsOf(trace, 'deleted')).toEqual([]);
    const summary = f.runner.recorder.summary();
    expect(summary.queues.Work).toMatchObject({ succeeded: 1, deadLettered: 1, retried: 2, inFlight: 0 });
    expect(summary.lost).toBe(0);
  });

  it('puts it in the DLQ, where the real SQS client reads it', async () => {
    const dlq = f.queueUrl('Work/DeadLetterQueue');
    let found: Message | undefined;
    // SQS moves the message when it is next received after its last visibility timeout: poll for it.
    for (let poll = 0; poll < 10 && !found; poll++) {
      const { Messages = [] } = await f.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
      );
      found = Messages[0];
    }
    expect(found, 'a message in Work/DeadLetterQueue').toBeDefined();
    expect(JSON.parse(found?.Body ?? '{}')).toEqual({ id: poison, poison: true });
    // Give it back at once, for the redrive.
    await f.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: dlq, ReceiptHandle: found?.ReceiptHandle, VisibilityTimeout: 0 }),
    );
  });

  it("moves it back to Work with queuekit redrive's core function", async () => {
    const redrivenAt = Date.now();
    const result = await redriveCommand({
      dlq: 'Work/DeadLetterQueue',
      outputs: join(f.stateDir, 'outputs.json'),
      env: {},
    });
    expect(result).toMatchObject({ from: 'Work/DeadLetterQueue', moved: 1, remaining: 0 });
    if (e2eContext().target === 'embedded') {
      // fauxqs has no StartMessageMoveTask: receive → send → delete, back to the queue whose redrive policy names it.
      expect(result).toMatchObject({ method: 'receive-send-delete', to: 'Work' });
    } else {
      expect(result).toMatchObject({ method: 'move-task', status: 'COMPLETED' });
    }
    // The runner receives it from Work again and the (still failing) Worker sees the same body. (Redriven by
    // receive → send → delete it is a new message; LocalStack's move task keeps its id and receive count.)
    const again = await waitFor('the redriven message to be processed on Work', () =>
      allTraces(f.runner)
        .flatMap((t) => eventsOf(t, 'attempt'))
        .find(
          (a) =>
            a.queue === 'Work' && a.at >= redrivenAt && a.logs.some((line) => line.includes(`worker failed ${poison}`)),
        ),
    );
    expect(again.function).toBe('Worker');
    if (e2eContext().target === 'embedded') expect(again.deliveryId).not.toBe(poisonMessageId);
  });
});
