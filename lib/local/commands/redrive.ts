/**
 * `queuekit redrive <dlq>`: moves the messages of a dead-letter queue back to a queue.
 *
 * Two ways, chosen per target:
 * - **Move task** (standard DLQ on a target that has it: AWS, LocalStack): `StartMessageMoveTask`, SQS's own
 *   redrive, then polls `ListMessageMoveTasks` until it ends. Without `--to` SQS sends each message back to the
 *   queue it came from.
 * - **Receive → send → delete** (FIFO DLQs, which the move task does not take, and targets without it: fauxqs
 *   answers `InvalidAction`): each message is sent to the destination with its body, attributes and group, then
 *   deleted from the DLQ, one at a time in receive order. A FIFO group stays locked in the DLQ while one of its
 *   messages is in flight, so every group keeps its order. The deduplication id of the new message is derived
 *   from the DLQ message's id (`redrive-<messageId>`): a redrive interrupted between send and delete and run again
 *   does not duplicate it, and a message that fails again comes back to the DLQ under a new id, so a later
 *   redrive is never deduplicated away.
 *
 * The destination without `--to`: the queue whose redrive policy points at the DLQ, from the outputs file
 * (`dlqUrl`), else `ListDeadLetterSourceQueues`, else (emulators without it) a scan of the queues' redrive
 * policies.
 *
 * @module
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import {
  addTargetOptions,
  type CliTarget,
  explainSdkError,
  isUnsupportedOperation,
  note,
  positiveInt,
  type QueueRef,
  queueAttributes,
  resolveCliTarget,
  resolveQueueRef,
  runCliAction,
  TARGET_HELP,
  type TargetOptions,
  usageErrorsExit2,
} from '../cli-target.js';
import { LocalRunnerError, UsageError } from '../errors.js';
import { findQueue, queueNameOf } from '../outputs-file.js';

/** SQS's bound on `MaxNumberOfMessagesPerSecond` of a move task. */
export const MAX_MOVE_RATE = 500;
/** How long a message received for moving stays invisible in the DLQ if the move dies halfway. */
export const MOVE_HOLD_SECONDS = 60;
/** Poll interval of a move task's status. */
const TASK_POLL_MS = 1000;

export interface RedriveOptions extends TargetOptions {
  /** The dead-letter queue: display name, physical name, URL or ARN. */
  readonly dlq: string;
  /** Destination queue. @default the queue whose redrive policy names the DLQ (its original source) */
  readonly to?: string;
  /** Messages moved per second, 1–500. @default as fast as the target goes */
  readonly maxPerSecond?: number;
  /** Wait for a move task to end. @default true */
  readonly wait?: boolean;
  /** Called with the running count while moving (the CLI prints progress). */
  readonly onProgress?: (moved: number) => void;
}

export interface RedriveResult {
  readonly method: 'move-task' | 'receive-send-delete';
  /** Why receive → send → delete was used. */
  readonly fallbackReason?: string;
  readonly from: string;
  /** Display name of the destination, or `original source queues` (a move task without `--to`). */
  readonly to: string;
  /** Messages moved (for a move task that was not waited for: moved so far). */
  readonly moved: number;
  /** Why receive → send → delete stopped before the DLQ was empty. */
  readonly stopped?: string;
  /** Messages left in the DLQ (`ApproximateNumberOfMessages` + in flight), after the move. */
  readonly remaining?: number;
  readonly taskHandle?: string;
  /** Move task status: COMPLETED, RUNNING (not waited for), CANCELLED, FAILED. */
  readonly status?: string;
  readonly via: string;
}

/** Moves the messages of a DLQ back (see the module docs for how). */
export async function redriveCommand(options: RedriveOptions): Promise<RedriveResult> {
  if (
    options.maxPerSecond !== undefined &&
    (!Number.isInteger(options.maxPerSecond) || options.maxPerSecond < 1 || options.maxPerSecond > MAX_MOVE_RATE)
  )
    throw new UsageError(`--max-per-second must be a whole number from 1 to ${MAX_MOVE_RATE}.`);
  const target = resolveCliTarget(options);
  const dlq = await resolveQueueRef(target, options.dlq);
  const to = options.to !== undefined ? await resolveQueueRef(target, options.to) : undefined;
  if (to && to.arn === dlq.arn)
    throw new UsageError(`--to names the DLQ itself (${dlq.displayName}). Fix: pass another queue.`);
  if (to && to.fifo !== dlq.fifo)
    throw new UsageError(
      `${dlq.displayName} is ${dlq.fifo ? 'FIFO' : 'standard'} but ${to.displayName} is ${to.fifo ? 'FIFO' : 'standard'}. ` +
        'Fix: redrive into a queue of the same type.',
    );

  let fallbackReason: string;
  if (dlq.fifo) fallbackReason = 'FIFO dead-letter queues are not supported by StartMessageMoveTask';
  else {
    try {
      return await moveTask(target, dlq, to, options);
    } catch (error) {
      if (!isUnsupportedOperation(error))
        throw explainSdkError(error, target, `Starting a move task on ${dlq.displayName}`);
      fallbackReason = `${target.description} has no StartMessageMoveTask`;
    }
  }
  const destination = to ?? (await originalSource(target, dlq));
  const { moved, stopped } = await moveMessages(target, dlq, destination, options);
  return {
    method: 'receive-send-delete',
    fallbackReason,
    from: dlq.displayName,
    to: destination.displayName,
    moved,
    ...(stopped ? { stopped } : {}),
    remaining: await remainingIn(target, dlq),
    via: target.description,
  };
}

async function moveTask(
  target: CliTarget,
  dlq: QueueRef,
  to: QueueRef | undefined,
  options: RedriveOptions,
): Promise<RedriveResult> {
  const { TaskHandle } = await target.sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: dlq.arn,
      ...(to ? { DestinationArn: to.arn } : {}),
      ...(options.maxPerSecond !== undefined ? { MaxNumberOfMessagesPerSecond: options.maxPerSecond } : {}),
    }),
  );
  const base = {
    method: 'move-task' as const,
    from: dlq.displayName,
    to: to?.displayName ?? 'original source queues',
    ...(TaskHandle ? { taskHandle: TaskHandle } : {}),
    via: target.description,
  };
  for (;;) {
    const { Results = [] } = await target.sqs
      .send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 10 }))
      .catch((error: unknown) => {
        throw explainSdkError(error, target, `Following the move task on ${dlq.displayName}`);
      });
    const task = Results.find((t) => t.TaskHandle === TaskHandle) ?? Results[0];
    const status = task?.Status ?? 'RUNNING';
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    options.onProgress?.(moved);
    if (status === 'FAILED')
      throw new LocalRunnerError(
        `The move task on ${dlq.displayName} failed after ${moved} message(s): ${task?.FailureReason ?? 'no reason given'}. ` +
          `Fix: check that the destination exists and accepts the messages, then run 'queuekit redrive' again.`,
      );
    if (options.wait === false || (status !== 'RUNNING' && status !== 'CANCELLING'))
      return { ...base, moved, status, remaining: await remainingIn(target, dlq) };
    await sleep(TASK_POLL_MS);
  }
}

/** The single queue whose redrive policy names the DLQ. */
async function originalSource(target: CliTarget, dlq: QueueRef): Promise<QueueRef> {
  let sources: string[];
  if (target.outputs) {
    sources = Object.values(target.outputs.queues)
      .filter((q) => q.dlqUrl !== undefined && sameQueueUrl(q.dlqUrl, dlq.url))
      .map((q) => q.url);
  } else sources = [];
  if (sources.length === 0) sources = await deadLetterSources(target, dlq);
  if (sources.length === 1) {
    const url = sources[0] as string;
    const inOutputs = target.outputs ? findQueue(target.outputs, url) : undefined;
    return inOutputs ? { ...inOutputs, name: queueNameOf(inOutputs) } : resolveQueueRef(target, url);
  }
  throw new UsageError(
    sources.length === 0
      ? `No queue redrives into ${dlq.displayName}, so there is no original source. Fix: pass --to <queue>.`
      : `${sources.length} queues redrive into ${dlq.displayName} (${sources.map((u) => u.split('/').pop()).join(', ')}), ` +
          'and moving by receive/send cannot tell which message came from which. Fix: pass --to <queue>.',
  );
}

async function deadLetterSources(target: CliTarget, dlq: QueueRef): Promise<string[]> {
  try {
    const urls: string[] = [];
    let next: string | undefined;
    do {
      const page = await target.sqs.send(
        new ListDeadLetterSourceQueuesCommand({
          QueueUrl: dlq.url,
          MaxResults: 1000,
          ...(next ? { NextToken: next } : {}),
        }),
      );
      urls.push(...(page.queueUrls ?? []));
      next = page.NextToken;
    } while (next);
    return urls;
  } catch (error) {
    if (!isUnsupportedOperation(error))
      throw explainSdkError(error, target, `Finding the source of ${dlq.displayName}`);
  }
  // No ListDeadLetterSourceQueues (fauxqs): read every queue's redrive policy.
  const urls: string[] = [];
  let next: string | undefined;
  try {
    do {
      const page = await target.sqs.send(
        new ListQueuesCommand({ MaxResults: 1000, ...(next ? { NextToken: next } : {}) }),
      );
      for (const url of page.QueueUrls ?? []) {
        const { RedrivePolicy } = await queueAttributes(target, url, ['RedrivePolicy']);
        if (
          RedrivePolicy &&
          (JSON.parse(RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn === dlq.arn
        )
          urls.push(url);
      }
      next = page.NextToken;
    } while (next);
  } catch (error) {
    throw explainSdkError(error, target, `Finding the source of ${dlq.displayName}`);
  }
  return urls;
}

/**
 * Receive → send → delete, one message at a time in receive order, until a receive comes back empty. Returns how
 * many moved; on a failure releases what it holds and throws with the count.
 */
async function moveMessages(
  target: CliTarget,
  dlq: QueueRef,
  to: QueueRef,
  options: Pick<RedriveOptions, 'maxPerSecond' | 'onProgress'>,
): Promise<{ moved: number; stopped?: string }> {
  if (to.fifo !== dlq.fifo)
    throw new UsageError(
      `${dlq.displayName} is ${dlq.fifo ? 'FIFO' : 'standard'} but its source ${to.displayName} is not. Fix: pass --to <queue> of the same type.`,
    );
  const interval = options.maxPerSecond ? 1000 / options.maxPerSecond : 0;
  // Ids of the messages this run sent: one of them in the DLQ failed again since, and moving it once more
  // would loop for as long as its consumer fails.
  const sent = new Set<string>();
  let moved = 0;
  let lastSend = 0;
  for (;;) {
    let batch: Message[];
    try {
      const out = await target.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: MOVE_HOLD_SECONDS,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      batch = out.Messages ?? [];
    } catch (error) {
      throw withCount(explainSdkError(error, target, `Receiving from ${dlq.displayName}`), moved);
    }
    if (batch.length === 0) return { moved };
    for (const [i, message] of batch.entries()) {
      if (sent.has(message.MessageId ?? '')) {
        await releaseAll(target, dlq, batch.slice(i));
        return {
          moved,
          stopped: `message ${message.MessageId} was moved by this run and is back in the DLQ (it failed again); fix its consumer before redriving it`,
        };
      }
      try {
        const wait = lastSend + interval - Date.now();
        if (wait > 0) await sleep(wait);
        lastSend = Date.now();
        const out = await target.sqs.send(new SendMessageCommand(copyOf(message, to)));
        if (out.MessageId) sent.add(out.MessageId);
        await target.sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: message.ReceiptHandle }));
        moved++;
        options.onProgress?.(moved);
      } catch (error) {
        await releaseAll(target, dlq, batch.slice(i));
        throw withCount(
          explainSdkError(error, target, `Moving message ${message.MessageId} to ${to.displayName}`),
          moved,
        );
      }
    }
  }
}

/** The SendMessage input that recreates `message` in `to`. */
function copyOf(message: Message, to: QueueRef) {
  const system = message.Attributes ?? {};
  const attributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, a]: [string, MessageAttributeValue]) => [
      name,
      {
        DataType: a.DataType,
        ...(a.BinaryValue !== undefined ? { BinaryValue: a.BinaryValue } : { StringValue: a.StringValue }),
      },
    ]),
  );
  if (to.fifo && !system.MessageGroupId)
    throw new UsageError(`Message ${message.MessageId} has no message group; FIFO queue ${to.displayName} needs one.`);
  return {
    QueueUrl: to.url,
    MessageBody: message.Body ?? '',
    ...(Object.keys(attributes).length ? { MessageAttributes: attributes } : {}),
    ...(to.fifo
      ? { MessageGroupId: system.MessageGroupId, MessageDeduplicationId: `redrive-${message.MessageId}` }
      : {}),
    ...(system.AWSTraceHeader
      ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: system.AWSTraceHeader } } }
      : {}),
  };
}

/** Makes held messages visible again, last first (a FIFO group's head ends up in front). */
async function releaseAll(target: CliTarget, queue: QueueRef, messages: readonly Message[]): Promise<void> {
  const reversed = [...messages].reverse();
  for (let i = 0; i < reversed.length; i += 10) {
    await target.sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: reversed
            .slice(i, i + 10)
            .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined); // they reappear after MOVE_HOLD_SECONDS anyway
  }
}

async function remainingIn(target: CliTarget, queue: QueueRef): Promise<number | undefined> {
  try {
    const a = await queueAttributes(target, queue.url, [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]);
    return (
      Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  } catch {
    return undefined;
  }
}

function withCount(error: Error, moved: number): Error {
  error.message = `${error.message} (${moved} message(s) had been moved before; the rest are still in the DLQ, run 'queuekit redrive' again once fixed)`;
  return error;
}

function sameQueueUrl(a: string, b: string): boolean {
  // Hosts may differ (localhost vs 127.0.0.1, sqs.<region>.localhost); account and name identify the queue.
  const tail = (url: string) => url.replace(/\/+$/, '').split('/').slice(-2).join('/');
  return tail(a) === tail(b);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The result as the terminal shows it. */
export function formatRedriveResult(result: RedriveResult): string {
  const how =
    result.method === 'move-task'
      ? `move task ${result.taskHandle ?? ''} ${result.status ?? ''}`.trim()
      : `received, sent and deleted one by one (${result.fallbackReason})`;
  const left = result.remaining !== undefined ? `; ${result.remaining} left in ${result.from}` : '';
  const stopped = result.stopped ? `\n  stopped: ${result.stopped}` : '';
  return `Moved ${result.moved} message(s) from ${result.from} to ${result.to}${left}.\n  via ${how}${stopped}`;
}

/** Registers `queuekit redrive`. */
export function registerRedriveCommand(program: Command): Command {
  const command = program
    .command('redrive')
    .description('Move the messages of a dead-letter queue back to their source queue (or --to another queue).')
    .argument('<dlq>', 'the dead-letter queue: display name, physical name, URL or ARN')
    .option('--to <queue>', 'destination (default: the queue whose redrive policy points at the DLQ)')
    .option('--max-per-second <n>', `rate limit, 1–${MAX_MOVE_RATE} messages per second`, positiveInt(MAX_MOVE_RATE))
    .option('--no-wait', 'start a move task and return without waiting for it to finish');
  addTargetOptions(command);
  usageErrorsExit2(command);
  return command
    .addHelpText(
      'after',
      `
Standard DLQs on AWS or LocalStack: SQS's own move task (StartMessageMoveTask), waited for.
FIFO DLQs, and targets without move tasks (the embedded emulator): each message is received, sent to the
destination with its body, attributes and message group, then deleted, one at a time, so every group keeps
its order. Its deduplication id is redrive-<DLQ message id>, so running an interrupted redrive again does not
duplicate messages.

Examples:
  $ queuekit redrive InferenceJobs/DeadLetterQueue
  $ queuekit redrive jobs-dlq --to jobs-replay --max-per-second 10
${TARGET_HELP}`,
    )
    .action((dlq: string, options: Omit<RedriveOptions, 'dlq'>) =>
      runCliAction('redrive', async () => {
        const result = await redriveCommand({ ...options, dlq });
        note(`via ${result.via}`);
        console.log(formatRedriveResult(result));
        return 0;
      }),
    );
}
