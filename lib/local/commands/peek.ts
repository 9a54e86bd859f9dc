/**
 * `queuekit peek <queue>`: shows messages without consuming them.
 *
 * SQS has no read-only API: the only way to see a message is ReceiveMessage, and every receive counts (it raises
 * `ApproximateReceiveCount`, the number a redrive policy compares with `maxReceiveCount`), on AWS, LocalStack and
 * the embedded emulator alike. The AWS console's "poll for messages" does the same. So peek receives with a
 * short visibility timeout, keeps what it got in flight until it has `n` messages (so it does not see the same
 * one twice), then makes them all visible again at once (ChangeMessageVisibility 0) — in reverse order, so a FIFO
 * group's head goes back in front. While peek holds them (a second or two), consumers do not get them.
 *
 * Consequences, reported with the result: a message at its queue's `maxReceiveCount` moves to the DLQ on its
 * next receive; and on a FIFO queue peek sees the head of each message group only (the rest of a group is locked
 * behind it, as for any consumer).
 *
 * @module
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { numberAttribute } from '../../runtime/message-attributes.js';
import {
  addTargetOptions,
  type CliTarget,
  explainSdkError,
  note,
  positiveInt,
  prettyJson,
  type QueueRef,
  queueAttributes,
  resolveCliTarget,
  resolveQueueRef,
  runCliAction,
  TARGET_HELP,
  type TargetOptions,
  usageErrorsExit2,
} from '../cli-target.js';
import { UsageError } from '../errors.js';

/** Most messages one peek shows: each is received (and counted) and held in flight until peek ends. */
export const MAX_PEEK_MESSAGES = 100;
/** Default number of messages shown. */
export const DEFAULT_PEEK_MESSAGES = 10;
/** How long peek holds what it received, if it dies before making it visible again. */
export const PEEK_HOLD_SECONDS = 30;

export interface PeekOptions extends TargetOptions {
  /** Display name, physical name, URL or ARN. */
  readonly queue: string;
  /** At most this many messages, 1–100. @default 10 */
  readonly count?: number;
}

export interface PeekedAttribute {
  readonly type: string;
  /** Strings as they are, Numbers as numbers when exact, Binary as base64. */
  readonly value: string | number;
}

export interface PeekedMessage {
  readonly messageId: string;
  readonly body: string;
  /** The body parsed, when it is JSON. */
  readonly json?: unknown;
  readonly attributes: Readonly<Record<string, PeekedAttribute>>;
  readonly groupId?: string;
  readonly deduplicationId?: string;
  readonly sequenceNumber?: string;
  /** Including peek's own receive. */
  readonly receiveCount: number;
  /** ISO time the queue accepted it. */
  readonly sentAt?: string;
  /** The queue's redrive policy will move it to the DLQ on its next receive. */
  readonly dlqOnNextReceive?: boolean;
}

export interface PeekResult {
  readonly queue: string;
  readonly url: string;
  readonly fifo: boolean;
  readonly messages: readonly PeekedMessage[];
  /** `ApproximateNumberOfMessages` before peek. */
  readonly approximateVisible?: number;
  /** From the queue's redrive policy. */
  readonly maxReceiveCount?: number;
  readonly via: string;
}

/** Receives up to `count` messages and makes them visible again, returning what it saw. */
export async function peekCommand(options: PeekOptions): Promise<PeekResult> {
  const count = options.count ?? DEFAULT_PEEK_MESSAGES;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PEEK_MESSAGES)
    throw new UsageError(
      `-n must be 1–${MAX_PEEK_MESSAGES}: each peeked message is received and held until peek ends.`,
    );
  const target = resolveCliTarget(options);
  const queue = await resolveQueueRef(target, options.queue);
  const attributes = await queueAttributes(target, queue.url, ['ApproximateNumberOfMessages', 'RedrivePolicy']);
  const maxReceiveCount = redriveMaxReceiveCount(attributes.RedrivePolicy);
  const held: Message[] = [];
  try {
    while (held.length < count) {
      const batch = await receive(target, queue, Math.min(10, count - held.length));
      if (batch.length === 0) break;
      held.push(...batch);
    }
  } finally {
    await release(target, queue, held);
  }
  return {
    queue: queue.displayName,
    url: queue.url,
    fifo: queue.fifo,
    messages: held.map((m) => describe(m, maxReceiveCount)),
    ...(attributes.ApproximateNumberOfMessages !== undefined
      ? { approximateVisible: Number(attributes.ApproximateNumberOfMessages) }
      : {}),
    ...(maxReceiveCount !== undefined ? { maxReceiveCount } : {}),
    via: target.description,
  };
}

async function receive(target: CliTarget, queue: QueueRef, max: number): Promise<Message[]> {
  try {
    const { Messages } = await target.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: max,
        VisibilityTimeout: PEEK_HOLD_SECONDS,
        // A 1 s long poll asks every SQS server (a short poll samples some) and ends as soon as one message is there.
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages ?? [];
  } catch (error) {
    throw explainSdkError(error, target, `Receiving from ${queue.displayName}`);
  }
}

/** Makes held messages visible again, last received first (a FIFO group's head ends up in front). */
async function release(target: CliTarget, queue: QueueRef, held: readonly Message[]): Promise<void> {
  const reversed = [...held].reverse();
  const failed: string[] = [];
  for (let i = 0; i < reversed.length; i += 10) {
    const chunk = reversed.slice(i, i + 10);
    try {
      const out = await target.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
      for (const f of out.Failed ?? []) failed.push(`${chunk[Number(f.Id)]?.MessageId}: ${f.Message ?? f.Code}`);
    } catch (error) {
      failed.push(`${chunk.length} message(s): ${(error as Error).message}`);
    }
  }
  if (failed.length)
    note(
      `queuekit peek: could not make ${failed.length} message(s) visible again; they reappear within ` +
        `${PEEK_HOLD_SECONDS} s. ${failed.join('; ')}`,
    );
}

function redriveMaxReceiveCount(policy: string | undefined): number | undefined {
  if (!policy) return undefined;
  try {
    const n = Number((JSON.parse(policy) as { maxReceiveCount?: unknown }).maxReceiveCount);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function describe(message: Message, maxReceiveCount: number | undefined): PeekedMessage {
  const system = message.Attributes ?? {};
  const body = message.Body ?? '';
  const parsed = prettyJson(body);
  const receiveCount = Number(system.ApproximateReceiveCount ?? 1);
  const sent = Number(system.SentTimestamp);
  return {
    messageId: message.MessageId ?? '',
    body,
    ...('json' in parsed ? { json: parsed.json } : {}),
    attributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, a]) => [name, attributeOf(a)]),
    ),
    ...(system.MessageGroupId ? { groupId: system.MessageGroupId } : {}),
    ...(system.MessageDeduplicationId ? { deduplicationId: system.MessageDeduplicationId } : {}),
    ...(system.SequenceNumber ? { sequenceNumber: system.SequenceNumber } : {}),
    receiveCount,
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(maxReceiveCount !== undefined && receiveCount >= maxReceiveCount ? { dlqOnNextReceive: true } : {}),
  };
}

function attributeOf(a: MessageAttributeValue): PeekedAttribute {
  const type = a.DataType ?? 'String';
  if (a.BinaryValue) return { type, value: Buffer.from(a.BinaryValue).toString('base64') };
  const text = a.StringValue ?? '';
  return { type, value: type.startsWith('Number') ? numberAttribute(text) : text };
}

/** The result as the terminal shows it. */
export function formatPeekResult(result: PeekResult): string {
  const lines: string[] = [];
  const total = result.approximateVisible !== undefined ? ` of ~${result.approximateVisible} visible` : '';
  lines.push(pc.bold(`${result.queue}: ${result.messages.length} message(s)${total}`));
  if (result.messages.length === 0) return lines.join('\n');
  result.messages.forEach((m, i) => {
    const meta = [
      m.groupId !== undefined ? `group ${m.groupId}` : undefined,
      m.sequenceNumber !== undefined ? `seq ${m.sequenceNumber}` : undefined,
      `received ${m.receiveCount}×${result.maxReceiveCount !== undefined ? ` (max ${result.maxReceiveCount})` : ''}`,
      m.sentAt !== undefined ? `sent ${m.sentAt}` : undefined,
    ].filter(Boolean);
    lines.push('', `${pc.cyan(`#${i + 1}`)} ${m.messageId}  ${pc.dim(meta.join(' · '))}`);
    if (m.dlqOnNextReceive) lines.push(pc.yellow('   moves to the DLQ on its next receive'));
    for (const [name, a] of Object.entries(m.attributes))
      lines.push(`   ${name} ${pc.dim(`(${a.type})`)} = ${a.value}`);
    const body = 'json' in m ? prettyJson(m.body).text : m.body;
    lines.push(...body.split('\n').map((l) => `   ${l}`));
  });
  if (result.fifo) lines.push('', pc.dim('FIFO: only the head of each message group is visible to a receive.'));
  return lines.join('\n');
}

/** Registers `queuekit peek`. */
export function registerPeekCommand(program: Command): Command {
  const command = program
    .command('peek')
    .description('Show messages of a queue without consuming them (they stay in the queue).')
    .argument('<queue>', 'display name, physical name, URL or ARN')
    .option(
      '-n, --count <n>',
      `messages to show, 1–${MAX_PEEK_MESSAGES}`,
      positiveInt(MAX_PEEK_MESSAGES),
      DEFAULT_PEEK_MESSAGES,
    )
    .option('--json', 'print the messages as JSON');
  addTargetOptions(command);
  usageErrorsExit2(command);
  return command
    .addHelpText(
      'after',
      `
Shows body (pretty-printed when JSON), attributes, message group, receive count and sent time.

Peek increments ApproximateReceiveCount, like the AWS console's "poll for messages": SQS has no way to read a
message without receiving it (on AWS, LocalStack and the embedded emulator alike). Peek receives the messages,
holds them for about a second (consumers do not get them meanwhile) and makes them visible again. On a queue
with a redrive policy, a peeked message is one receive closer to the dead-letter queue; those now at
maxReceiveCount are flagged. On a FIFO queue, peek sees the first message of each group only.

Examples:
  $ queuekit peek InferenceJobs
  $ queuekit peek InferenceJobs/DeadLetterQueue -n 50 --json | jq '.messages[].json'
${TARGET_HELP}`,
    )
    .action((queue: string, options: Omit<PeekOptions, 'queue'> & { json?: boolean }) =>
      runCliAction('peek', async () => {
        const result = await peekCommand({ ...options, queue });
        note(`via ${result.via}`);
        console.log(options.json ? JSON.stringify(result, null, 2) : formatPeekResult(result));
        return 0;
      }),
    );
}
