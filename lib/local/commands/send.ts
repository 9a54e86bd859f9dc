/**
 * `queuekit send <queue|topic>`: one message to a queue (SQS SendMessage) or a topic (SNS Publish), with typed
 * attributes, FIFO group and deduplication ids, subject (topics) and delay (standard queues), all validated
 * before the call with the runtime's rules.
 *
 * @module
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { MessageValidationError } from '../../runtime/errors.js';
import {
  FIFO_ID_PATTERN,
  MAX_FIFO_ID_LENGTH,
  SNS_MAX_MESSAGE_BYTES,
  SNS_SUBJECT_PATTERN,
  SQS_MAX_DELAY_SECONDS,
  SQS_MAX_MESSAGE_BYTES,
} from '../../runtime/limits.js';
import {
  type AttributeValue,
  assertValidCharacters,
  attributesByteSize,
  type MessageAttributes,
  toWireAttributes,
  type WireAttribute,
} from '../../runtime/message-attributes.js';
import {
  addTargetOptions,
  collect,
  explainSdkError,
  note,
  readTextArgument,
  resolveCliTarget,
  resolveQueueOrTopic,
  runCliAction,
  TARGET_HELP,
  type TargetOptions,
  usageErrorsExit2,
  wholeNumber,
} from '../cli-target.js';
import { UsageError } from '../errors.js';

export interface SendOptions extends TargetOptions {
  /** Queue or topic: display name, physical name, URL or ARN. */
  readonly target: string;
  /** Message body; or {@link file}. */
  readonly body?: string;
  /** File holding the body (`-` for stdin). */
  readonly file?: string;
  /** MessageGroupId (required for FIFO). */
  readonly group?: string;
  /** MessageDeduplicationId (FIFO; optional with content-based deduplication). */
  readonly dedup?: string;
  /** `name=value` (String) or `name:Type=value` (Number, Binary as base64, String.Array for topics, `Type.label`). */
  readonly attr?: readonly string[];
  /** SNS Subject (topics only). */
  readonly subject?: string;
  /** DelaySeconds (standard queues only). */
  readonly delay?: number;
}

export interface SendResult {
  readonly kind: 'queue' | 'topic';
  /** Display name (outputs) or physical name. */
  readonly name: string;
  /** Queue URL or topic ARN. */
  readonly address: string;
  readonly messageId: string;
  /** FIFO only. */
  readonly sequenceNumber?: string;
  /** Where it went, e.g. `local runner at http://127.0.0.1:4566 (.queuekit/outputs.json)`. */
  readonly via: string;
}

const ATTRIBUTE_ARG = /^([^=:]+)(?::([A-Za-z]+(?:\.[^=]*)?))?=(.*)$/s;

/**
 * Parses `--attr` values: `name=value` is a String, `name:Number=5` a Number, `name:Binary=<base64>` a Binary,
 * `name:String.Array=["a","b"]` an SNS string array; custom labels (`name:Number.float=1.5`) are kept.
 *
 * @throws UsageError on a malformed argument, a duplicate name or invalid base64
 */
export function parseAttributeArgs(args: readonly string[] = []): MessageAttributes {
  const attributes: Record<string, AttributeValue> = {};
  for (const arg of args) {
    const match = ATTRIBUTE_ARG.exec(arg);
    if (!match)
      throw new UsageError(
        `--attr '${arg}' is not name=value or name:Type=value. Fix: e.g. --attr tenant=acme --attr priority:Number=5.`,
      );
    const [, rawName = '', type = 'String', value = ''] = match;
    const name = rawName.trim();
    if (name in attributes) throw new UsageError(`--attr ${name} is given twice. Fix: pass each attribute once.`);
    if (type.split('.')[0] === 'Binary') {
      const compact = value.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0)
        throw new UsageError(`--attr ${name} is Binary but its value is not base64. Fix: base64-encode the bytes.`);
      attributes[name] = { type, value: new Uint8Array(Buffer.from(compact, 'base64')) };
    } else attributes[name] = { type, value };
  }
  return attributes;
}

/** Sends one message to a queue or publishes it to a topic. */
export async function sendCommand(options: SendOptions): Promise<SendResult> {
  const body = readTextArgument(options.body, options.file, { inline: '--body', file: '--file' });
  if (body === undefined || body === '')
    throw new UsageError('No message body. Fix: pass --body <text> or --file <path> (- reads stdin).');
  const attributes = parseAttributeArgs(options.attr);
  let wire: Record<string, WireAttribute> | undefined;
  try {
    assertValidCharacters(body, 'The message body');
    wire = toWireAttributes(attributes);
  } catch (error) {
    if (error instanceof MessageValidationError) throw new UsageError(error.message);
    throw error;
  }
  for (const [flag, id] of [
    ['--group', options.group],
    ['--dedup', options.dedup],
  ] as const)
    if (id !== undefined && (id.length > MAX_FIFO_ID_LENGTH || !FIFO_ID_PATTERN.test(id)))
      throw new UsageError(`${flag} '${id}' must be 1–${MAX_FIFO_ID_LENGTH} printable ASCII characters, no spaces.`);

  const target = resolveCliTarget(options);
  const resolved = await resolveQueueOrTopic(target, options.target);
  const size = Buffer.byteLength(body) + attributesByteSize(wire);

  if (resolved.kind === 'topic') {
    const { topic } = resolved;
    if (options.delay !== undefined)
      throw new UsageError(`--delay applies to queues; ${topic.displayName} is a topic. Fix: leave --delay out.`);
    if (options.subject !== undefined && !SNS_SUBJECT_PATTERN.test(options.subject))
      throw new UsageError('--subject must be 1–100 printable ASCII characters without line breaks.');
    checkFifoIds(topic.fifo, 'topic', topic.displayName, options);
    if (size > SNS_MAX_MESSAGE_BYTES)
      throw new UsageError(
        `The message is ${size} bytes (body + attributes); SNS accepts at most ${SNS_MAX_MESSAGE_BYTES}. Fix: make it smaller.`,
      );
    try {
      const out = await target.sns.send(
        new PublishCommand({
          TopicArn: topic.arn,
          Message: body,
          ...(wire ? { MessageAttributes: wire } : {}),
          ...(options.subject !== undefined ? { Subject: options.subject } : {}),
          ...(options.group !== undefined ? { MessageGroupId: options.group } : {}),
          ...(options.dedup !== undefined ? { MessageDeduplicationId: options.dedup } : {}),
        }),
      );
      return {
        kind: 'topic',
        name: topic.displayName,
        address: topic.arn,
        messageId: out.MessageId ?? '',
        ...(out.SequenceNumber ? { sequenceNumber: out.SequenceNumber } : {}),
        via: target.description,
      };
    } catch (error) {
      throw explainSdkError(error, target, `Publishing to topic ${topic.displayName}`, dedupFix);
    }
  }

  const { queue } = resolved;
  if (options.subject !== undefined)
    throw new UsageError(`--subject applies to topics; ${queue.displayName} is a queue. Fix: leave --subject out.`);
  if (wire && Object.values(wire).some((a) => a.DataType.startsWith('String.Array')))
    throw new UsageError(
      'String.Array attributes are an SNS type; SQS rejects them. Fix: send to a topic, or use String.',
    );
  checkFifoIds(queue.fifo, 'queue', queue.displayName, options);
  if (options.delay !== undefined) {
    if (queue.fifo)
      throw new UsageError(
        `FIFO queue ${queue.displayName} takes no per-message delay. Fix: leave --delay out (set DelaySeconds on the queue instead).`,
      );
    if (!Number.isInteger(options.delay) || options.delay < 0 || options.delay > SQS_MAX_DELAY_SECONDS)
      throw new UsageError(`--delay must be a whole number of seconds from 0 to ${SQS_MAX_DELAY_SECONDS}.`);
  }
  if (size > SQS_MAX_MESSAGE_BYTES)
    throw new UsageError(
      `The message is ${size} bytes (body + attributes); SQS accepts at most ${SQS_MAX_MESSAGE_BYTES}. Fix: make it smaller.`,
    );
  try {
    const out = await target.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: body,
        ...(wire ? { MessageAttributes: wire } : {}),
        ...(options.group !== undefined ? { MessageGroupId: options.group } : {}),
        ...(options.dedup !== undefined ? { MessageDeduplicationId: options.dedup } : {}),
        ...(options.delay !== undefined ? { DelaySeconds: options.delay } : {}),
      }),
    );
    return {
      kind: 'queue',
      name: queue.displayName,
      address: queue.url,
      messageId: out.MessageId ?? '',
      ...(out.SequenceNumber ? { sequenceNumber: out.SequenceNumber } : {}),
      via: target.description,
    };
  } catch (error) {
    throw explainSdkError(error, target, `Sending to queue ${queue.displayName}`, dedupFix);
  }
}

function checkFifoIds(
  fifo: boolean,
  kind: 'queue' | 'topic',
  name: string,
  options: Pick<SendOptions, 'group' | 'dedup'>,
): void {
  if (fifo && options.group === undefined)
    throw new UsageError(
      `${name} is a FIFO ${kind}: every message needs a message group. Fix: pass --group <id> ` +
        '(messages of one group are delivered in order, one at a time).',
    );
  if (!fifo && options.dedup !== undefined)
    throw new UsageError(`--dedup applies to FIFO ${kind}s; ${name} is standard. Fix: leave --dedup out.`);
}

/** The fix for the server's "no deduplication id" error. */
function dedupFix(detail: string): string | undefined {
  return /ContentBasedDeduplication|MessageDeduplicationId/i.test(detail)
    ? 'pass --dedup <id>, or enable content-based deduplication on it'
    : undefined;
}

/** The result as the terminal shows it. */
export function formatSendResult(result: SendResult): string {
  return (
    `Sent to ${result.kind} ${result.name}: message id ${result.messageId}` +
    (result.sequenceNumber ? `, sequence number ${result.sequenceNumber}` : '')
  );
}

/** Registers `queuekit send`. */
export function registerSendCommand(program: Command): Command {
  const command = program
    .command('send')
    .description('Send one message to a queue (SQS SendMessage) or publish it to a topic (SNS Publish).')
    .argument('<target>', 'queue or topic: display name, physical name, URL or ARN')
    .option('--body <text>', 'message body')
    .option('--file <path>', 'read the body from a file (- for stdin)')
    .option('--group <id>', 'message group id (required for FIFO queues and topics)')
    .option('--dedup <id>', 'deduplication id (FIFO; optional with content-based deduplication)')
    .option(
      '--attr <name[:Type]=value>',
      'message attribute, repeatable: k=v is a String, k:Number=5, k:Binary=<base64>, k:String.Array=["a"] (topics)',
      collect,
    )
    .option('--subject <text>', 'SNS subject (topics only)')
    .option(
      '--delay <seconds>',
      `delivery delay, 0–${SQS_MAX_DELAY_SECONDS} (standard queues only)`,
      wholeNumber(SQS_MAX_DELAY_SECONDS),
    );
  addTargetOptions(command);
  usageErrorsExit2(command);
  return command
    .addHelpText(
      'after',
      `
Prints the message id (and the sequence number for FIFO).

Examples:
  $ queuekit send InferenceJobs --body '{"jobId":"j-1"}'
  $ queuekit send JobEvents --file event.json --attr type=job.created --attr priority:Number=5
  $ queuekit send Orders.fifo --body '{"id":1}' --group customer-42 --dedup order-1
  $ echo '{"n":1}' | queuekit send https://sqs.eu-west-1.amazonaws.com/123456789012/jobs --file -
${TARGET_HELP}`,
    )
    .action((target: string, options: Omit<SendOptions, 'target'>) =>
      runCliAction('send', async () => {
        const result = await sendCommand({ ...options, target });
        note(`via ${result.via}`);
        console.log(formatSendResult(result));
        return 0;
      }),
    );
}
