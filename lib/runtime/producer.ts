/**
 * The producer: `send` to an SQS queue and `publish` to an SNS topic, one message or thousands.
 *
 * - Validates every message before any network call (size, attributes, FIFO ids, delay); an invalid message
 *   fails alone with a {@link MessageValidationError} naming the fix.
 * - Packs batches by count (10) and bytes (SQS 1 MiB, SNS 256 KiB), sends them concurrently with a bound,
 *   retries only the entries that failed retryably (jittered backoff), and returns one result per message, in
 *   input order.
 * - FIFO: `groupId` is required; the deduplication id defaults to the SHA-256 of the body (what content-based
 *   deduplication computes, so it works whether or not the queue has it on); a group's batches are sent one
 *   after another, other groups' batches in parallel; after a message of a group fails for good, the group's
 *   later messages are not sent.
 * - Bodies over the limit go to S3 in AWS's extended client format when a bucket is configured.
 *
 * @example
 * const producer = new MessageProducer({ largePayloads: { bucket: 'my-payloads' } });
 * const results = await producer.send(queueUrl, jobs.map((job) => ({ body: job, groupId: job.accountId })));
 * const failed = results.filter((r) => !r.ok);
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { backoffDelay, sleep } from './backoff.js';
import { packBatches } from './batch-packer.js';
import { type ClientOptions, s3Client, snsClient, sqsClient } from './clients.js';
import {
  MessageValidationError,
  PayloadTooLargeError,
  QueuekitRuntimeError,
  RuntimeConfigError,
  SendFailedError,
} from './errors.js';
import {
  EXTENDED_PAYLOAD_SIZE_ATTRIBUTE,
  FIFO_ID_PATTERN,
  FIFO_SUFFIX,
  MAX_BATCH_ENTRIES,
  MAX_FIFO_ID_LENGTH,
  MAX_MESSAGE_ATTRIBUTES,
  SNS_MAX_BATCH_BYTES,
  SNS_MAX_MESSAGE_BYTES,
  SNS_MAX_SUBJECT_LENGTH,
  SNS_SUBJECT_PATTERN,
  SQS_MAX_BATCH_BYTES,
  SQS_MAX_DELAY_SECONDS,
  SQS_MAX_MESSAGE_BYTES,
} from './limits.js';
import {
  assertValidCharacters,
  attributesByteSize,
  type MessageAttributes,
  toWireAttributes,
  type WireAttribute,
} from './message-attributes.js';
import { type LargePayloadOptions, offloadPayload, type PayloadPointer, pointerBody } from './payload-offload.js';
import { runPool } from './worker-pool.js';

/** One message to send or publish. */
export interface OutgoingMessage {
  /** The body: a string as is, anything else as JSON. */
  readonly body: unknown;
  /** Typed message attributes (≤ 10; ≤ 9 when the body is offloaded). */
  readonly attributes?: MessageAttributes;
  /** FIFO message group; required for FIFO queues and topics. On standard queues it enables fair queues. */
  readonly groupId?: string;
  /** FIFO deduplication id. @default - SHA-256 of the body (as content-based deduplication computes it) */
  readonly deduplicationId?: string;
  /** SQS standard queues only: delay before the message becomes visible, 0–900 s. @default - the queue's */
  readonly delaySeconds?: number;
  /** SNS only: the subject (for email endpoints). */
  readonly subject?: string;
}

/** The outcome of one message, at its input index. */
export type SendResult =
  | {
      readonly ok: true;
      readonly index: number;
      readonly messageId: string;
      /** FIFO only. */
      readonly sequenceNumber?: string;
      /** Where the body went, when it was offloaded to S3. */
      readonly payload?: PayloadPointer;
    }
  | { readonly ok: false; readonly index: number; readonly error: QueuekitRuntimeError };

/** A message that was accepted. */
export type SentMessage = Extract<SendResult, { ok: true }>;

export interface ProducerOptions {
  /** Batch requests in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Tries per entry, the first included, for retryable failures (throttling, server errors). @default 5 */
  readonly maxAttempts?: number;
  /** Backoff before the first retry, in ms (doubles each time, with jitter). @default 50 */
  readonly retryBaseDelayMs?: number;
  /** Longest backoff, in ms. @default 5000 */
  readonly retryMaxDelayMs?: number;
  /**
   * S3 offload of large bodies, in AWS's extended client format.
   * @default - bucket from `QUEUEKIT_LARGE_PAYLOAD_BUCKET` if set, else no offload (large messages fail)
   */
  readonly largePayloads?: LargePayloadOptions;
  /** Clients, or where to build them. @default - the client factory's resolution from the environment */
  readonly clients?: ClientOptions & { readonly sqs?: SQSClient; readonly sns?: SNSClient; readonly s3?: S3Client };
}

/** Defaults, in one place. */
export const PRODUCER_DEFAULTS = {
  concurrency: 16,
  maxAttempts: 5,
  retryBaseDelayMs: 50,
  retryMaxDelayMs: 5_000,
} as const;

type Service = 'SQS' | 'SNS';

interface Prepared {
  readonly index: number;
  body: string;
  attributes: Record<string, WireAttribute> | undefined;
  sizeBytes: number;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
  readonly delaySeconds: number | undefined;
  readonly subject: string | undefined;
  payload?: PayloadPointer;
}

interface EntryFailure {
  readonly entry: Prepared;
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

const RETRYABLE_CODE = /throttl|internal|unavailable|timeout|limitexceeded/i;

function isRetryableError(error: unknown): boolean {
  const e = error as { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; name?: string; code?: string };
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return true; // no response at all: network error, timeout
  return status >= 500 || status === 429 || RETRYABLE_CODE.test(e.name ?? '');
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function assertFifoId(what: string, value: string): void {
  if (value.length === 0 || value.length > MAX_FIFO_ID_LENGTH || !FIFO_ID_PATTERN.test(value))
    throw new MessageValidationError(
      `${what} '${value}' is invalid: it must be 1–${MAX_FIFO_ID_LENGTH} printable ASCII characters. Fix: shorten it or hash it.`,
    );
}

/** Sends to SQS queues and publishes to SNS topics; build one per container and reuse it. */
export class MessageProducer {
  private readonly options: ProducerOptions;
  private readonly largePayloads: (LargePayloadOptions & { bucket: string }) | undefined;

  constructor(options: ProducerOptions = {}) {
    this.options = options;
    const bucket = options.largePayloads?.bucket ?? process.env.QUEUEKIT_LARGE_PAYLOAD_BUCKET;
    this.largePayloads = bucket ? { ...options.largePayloads, bucket } : undefined;
    if (!bucket && (options.largePayloads?.always || options.largePayloads?.thresholdBytes !== undefined))
      throw new RuntimeConfigError(
        'largePayloads.always/thresholdBytes need a bucket. Fix: set largePayloads.bucket or QUEUEKIT_LARGE_PAYLOAD_BUCKET.',
      );
    for (const [name, value, min] of [
      ['concurrency', options.concurrency, 1],
      ['maxAttempts', options.maxAttempts, 1],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < min))
        throw new RuntimeConfigError(`${name} is ${value}. Fix: give an integer ≥ ${min}.`);
    }
  }

  /** Sends `messages` to the queue at `queueUrl`; one result per message, in input order. Never throws for a message. */
  send(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<SendResult[]> {
    return this.deliver('SQS', queueUrl, messages);
  }

  /** Publishes `messages` to the topic `topicArn`; one result per message, in input order. */
  publish(topicArn: string, messages: readonly OutgoingMessage[]): Promise<SendResult[]> {
    return this.deliver('SNS', topicArn, messages);
  }

  /** Sends one message; throws its error if it was not accepted. */
  async sendOne(queueUrl: string, message: OutgoingMessage): Promise<SentMessage> {
    return settle(await this.send(queueUrl, [message]));
  }

  /** Publishes one message; throws its error if it was not accepted. */
  async publishOne(topicArn: string, message: OutgoingMessage): Promise<SentMessage> {
    return settle(await this.publish(topicArn, [message]));
  }

  private async deliver(service: Service, target: string, messages: readonly OutgoingMessage[]): Promise<SendResult[]> {
    const fifo = target.endsWith(FIFO_SUFFIX);
    const results: SendResult[] = new Array(messages.length);
    const prepared: Prepared[] = [];
    const toOffload: Prepared[] = [];
    messages.forEach((message, index) => {
      try {
        const entry = this.prepare(service, fifo, message, index);
        if (this.mustOffload(service, entry)) toOffload.push(entry);
        prepared.push(entry);
      } catch (error) {
        results[index] = {
          ok: false,
          index,
          error:
            error instanceof QueuekitRuntimeError
              ? error
              : new MessageValidationError(
                  `Message ${index} cannot be serialized as JSON (${(error as Error).message}). Fix: give a string body or a JSON-serializable value.`,
                ),
        };
      }
    });

    const concurrency = this.options.concurrency ?? PRODUCER_DEFAULTS.concurrency;
    const limit = pLimit(concurrency);
    if (toOffload.length > 0) {
      const offloaded = new Set<number>();
      await Promise.all(
        toOffload.map((entry) =>
          limit(() => this.offload(entry, results).then((ok) => ok && offloaded.add(entry.index))),
        ),
      );
      const failed = new Set(toOffload.filter((e) => !offloaded.has(e.index)).map((e) => e.index));
      if (failed.size > 0) prepared.splice(0, prepared.length, ...prepared.filter((e) => !failed.has(e.index)));
    }

    if (fifo) {
      // A message that failed validation or upload stops its group: later ones would overtake it when resent.
      const firstFailure = new Map<string, number>();
      results.forEach((result, index) => {
        const groupId = messages[index]?.groupId;
        if (!result.ok && groupId !== undefined && !firstFailure.has(groupId)) firstFailure.set(groupId, index);
      });
      if (firstFailure.size > 0) {
        const kept = prepared.filter((entry) => {
          const failedAt = firstFailure.get(entry.groupId as string);
          if (failedAt === undefined || entry.index < failedAt) return true;
          results[entry.index] = { ok: false, index: entry.index, error: groupAborted(entry) };
          return false;
        });
        prepared.splice(0, prepared.length, ...kept);
      }
    }

    const maxBytes = service === 'SQS' ? SQS_MAX_BATCH_BYTES : SNS_MAX_BATCH_BYTES;
    const batches = packBatches(prepared, { maxEntries: MAX_BATCH_ENTRIES, maxBytes });
    const abortedGroups = new Set<string>();
    const send = (batch: readonly Prepared[]) => this.sendBatch(service, target, fifo, batch, results, abortedGroups);
    if (fifo) {
      // A batch waits for the earlier batches of its groups, then for a slot: groups in order, others in parallel.
      const lastOfGroup = new Map<string, Promise<void>>();
      const tasks = batches.map((batch) => {
        const deps = [...new Set(batch.map((e) => lastOfGroup.get(e.groupId as string)))].filter(
          (d) => d !== undefined,
        );
        const task =
          deps.length > 0 ? Promise.all(deps).then(() => limit(() => send(batch))) : limit(() => send(batch));
        for (const e of batch) lastOfGroup.set(e.groupId as string, task);
        return task;
      });
      await Promise.all(tasks);
    } else {
      await runPool(batches.length, concurrency, (i) => send(batches[i] as Prepared[]));
    }
    for (let index = 0; index < messages.length; index++)
      results[index] ??= {
        ok: false,
        index,
        error: new SendFailedError(
          `Message ${index} has no outcome (a queuekit bug): treat it as not sent.`,
          'NoResult',
          true,
        ),
      };
    return results;
  }

  private prepare(service: Service, fifo: boolean, message: OutgoingMessage, index: number): Prepared {
    if (message === null || typeof message !== 'object')
      throw new MessageValidationError(`Message ${index} is not an object. Fix: give { body, attributes?, groupId? }.`);
    const body = typeof message.body === 'string' ? message.body : JSON.stringify(message.body);
    if (body === undefined || body.length === 0)
      throw new MessageValidationError(
        `Message ${index} has an empty body (${String(message.body)}). Fix: give a non-empty string or a JSON value.`,
      );
    assertValidCharacters(body, `Message ${index} body`);
    const groupId = message.groupId;
    let deduplicationId = message.deduplicationId;
    if (fifo) {
      if (groupId === undefined)
        throw new MessageValidationError(
          `Message ${index} has no groupId, and FIFO ${service === 'SQS' ? 'queues' : 'topics'} require one. ` +
            'Fix: set groupId (messages of one group are delivered in order; use e.g. the entity id).',
        );
      assertFifoId('groupId', groupId);
      deduplicationId ??= sha256(body);
      assertFifoId('deduplicationId', deduplicationId);
    } else {
      if (deduplicationId !== undefined)
        throw new MessageValidationError(
          `Message ${index} has a deduplicationId, which only FIFO queues and topics accept. Fix: remove it.`,
        );
      if (groupId !== undefined) assertFifoId('groupId', groupId);
    }
    if (message.delaySeconds !== undefined) {
      if (service === 'SNS' || fifo)
        throw new MessageValidationError(
          `Message ${index} has delaySeconds, which only standard SQS queues accept per message. ` +
            'Fix: remove it, or set the delay on the queue (DelaySeconds).',
        );
      if (
        !Number.isInteger(message.delaySeconds) ||
        message.delaySeconds < 0 ||
        message.delaySeconds > SQS_MAX_DELAY_SECONDS
      )
        throw new MessageValidationError(
          `Message ${index} has delaySeconds ${message.delaySeconds}. Fix: give an integer from 0 to ${SQS_MAX_DELAY_SECONDS}.`,
        );
    }
    if (message.subject !== undefined) {
      if (service === 'SQS')
        throw new MessageValidationError(`Message ${index} has a subject, which only SNS accepts. Fix: remove it.`);
      if (!SNS_SUBJECT_PATTERN.test(message.subject))
        throw new MessageValidationError(
          `Message ${index} has subject '${message.subject.slice(0, 20)}…': SNS takes 1–${SNS_MAX_SUBJECT_LENGTH} printable ASCII characters, no line breaks. Fix: shorten it.`,
        );
    }
    const limit = service === 'SQS' ? SQS_MAX_MESSAGE_BYTES : SNS_MAX_MESSAGE_BYTES;
    const bodyBytes = Buffer.byteLength(body);
    const attributes = toWireAttributes(message.attributes);
    const sizeBytes = bodyBytes + attributesByteSize(attributes);
    if (sizeBytes > limit && !this.largePayloads) throw new PayloadTooLargeError(sizeBytes, limit, service);
    return {
      index,
      body,
      attributes,
      sizeBytes,
      groupId,
      deduplicationId,
      delaySeconds: message.delaySeconds,
      subject: message.subject,
    };
  }

  private threshold(service: Service): number {
    const limit = service === 'SQS' ? SQS_MAX_MESSAGE_BYTES : SNS_MAX_MESSAGE_BYTES;
    return Math.min(this.largePayloads?.thresholdBytes ?? limit, limit);
  }

  private mustOffload(service: Service, entry: Prepared): boolean {
    if (!this.largePayloads) return false;
    return this.largePayloads.always === true || entry.sizeBytes > this.threshold(service);
  }

  /** Uploads the body and turns the entry into a pointer; on failure records the result and returns false. */
  private async offload(entry: Prepared, results: SendResult[]): Promise<boolean> {
    const options = this.largePayloads as LargePayloadOptions & { bucket: string };
    const originalBytes = Buffer.byteLength(entry.body);
    const attributes = { ...entry.attributes };
    if (Object.keys(attributes).length >= MAX_MESSAGE_ATTRIBUTES) {
      results[entry.index] = {
        ok: false,
        index: entry.index,
        error: new MessageValidationError(
          `Message ${entry.index} has ${MAX_MESSAGE_ATTRIBUTES} attributes; an offloaded message may have ${MAX_MESSAGE_ATTRIBUTES - 1} (one is the pointer marker). Fix: drop one attribute.`,
        ),
      };
      return false;
    }
    try {
      const pointer = await offloadPayload(
        this.options.clients?.s3 ?? s3Client(this.options.clients),
        options,
        entry.body,
      );
      attributes[EXTENDED_PAYLOAD_SIZE_ATTRIBUTE] = { DataType: 'Number', StringValue: String(originalBytes) };
      entry.body = pointerBody(pointer);
      entry.attributes = attributes;
      entry.sizeBytes = Buffer.byteLength(entry.body) + attributesByteSize(attributes);
      entry.payload = pointer;
      return true;
    } catch (error) {
      results[entry.index] = {
        ok: false,
        index: entry.index,
        error: new SendFailedError(
          `Message ${entry.index}: uploading its body to s3://${options.bucket} failed: ${(error as Error).message}. ` +
            'Fix: check the bucket exists and the function may s3:PutObject to it.',
          (error as { name?: string }).name ?? 'S3UploadFailed',
          isRetryableError(error),
        ),
      };
      return false;
    }
  }

  private async sendBatch(
    service: Service,
    target: string,
    fifo: boolean,
    batch: readonly Prepared[],
    results: SendResult[],
    abortedGroups: Set<string>,
  ): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? PRODUCER_DEFAULTS.maxAttempts;
    const fail = (entry: Prepared, error: QueuekitRuntimeError) => {
      results[entry.index] = { ok: false, index: entry.index, error };
      if (fifo) abortedGroups.add(entry.groupId as string);
    };
    let pending: readonly Prepared[] = batch;
    if (fifo && abortedGroups.size > 0)
      pending = batch.filter((entry) => {
        if (!abortedGroups.has(entry.groupId as string)) return true;
        results[entry.index] = { ok: false, index: entry.index, error: groupAborted(entry) };
        return false;
      });
    for (let attempt = 1; pending.length > 0; attempt++) {
      let failures: EntryFailure[];
      try {
        failures = await this.request(service, target, pending, results);
      } catch (error) {
        if (attempt < maxAttempts && isRetryableError(error)) {
          await sleep(this.delay(attempt));
          continue;
        }
        const e = error as { name?: string; message?: string };
        for (const entry of pending)
          fail(
            entry,
            new SendFailedError(
              `${service} rejected the batch for ${target} after ${attempt} attempt(s): ${e.name ?? 'Error'}: ${e.message ?? String(error)}`,
              e.name ?? 'Error',
              isRetryableError(error),
            ),
          );
        return;
      }
      if (failures.length === 0) return;
      const retry: Prepared[] = [];
      for (const { entry, code, message, retryable } of failures) {
        if (retryable && attempt < maxAttempts) retry.push(entry);
        else
          fail(
            entry,
            new SendFailedError(
              `${service} did not accept message ${entry.index} for ${target} (attempt ${attempt}): ${code}: ${message}`,
              code,
              retryable,
            ),
          );
      }
      pending = retry.sort((a, b) => a.index - b.index);
      if (pending.length > 0) await sleep(this.delay(attempt));
    }
  }

  private delay(attempt: number): number {
    return backoffDelay(
      attempt,
      this.options.retryBaseDelayMs ?? PRODUCER_DEFAULTS.retryBaseDelayMs,
      this.options.retryMaxDelayMs ?? PRODUCER_DEFAULTS.retryMaxDelayMs,
    );
  }

  /**
   * One batch request; records successes in `results` and returns the failed entries. Entry ids are the
   * messages' input indexes, so an id in a response or a log names the message.
   */
  private async request(
    service: Service,
    target: string,
    entries: readonly Prepared[],
    results: SendResult[],
  ): Promise<EntryFailure[]> {
    const clients = this.options.clients;
    const response =
      service === 'SQS'
        ? await (clients?.sqs ?? sqsClient(clients)).send(
            new SendMessageBatchCommand({ QueueUrl: target, Entries: entries.map(sqsEntry) }),
          )
        : await (clients?.sns ?? snsClient(clients)).send(
            new PublishBatchCommand({ TopicArn: target, PublishBatchRequestEntries: entries.map(snsEntry) }),
          );
    const answered: boolean[] = new Array(entries.length).fill(false);
    for (const s of response.Successful ?? []) {
      const k = positionOf(entries, s.Id);
      const entry = entries[k];
      if (!entry) continue;
      answered[k] = true;
      results[entry.index] = {
        ok: true,
        index: entry.index,
        messageId: s.MessageId ?? '',
        sequenceNumber: s.SequenceNumber,
        payload: entry.payload,
      };
    }
    const failures: EntryFailure[] = [];
    for (const f of response.Failed ?? []) {
      const k = positionOf(entries, f.Id);
      const entry = entries[k];
      if (!entry || answered[k]) continue;
      answered[k] = true;
      failures.push({
        entry,
        code: f.Code ?? 'Unknown',
        message: f.Message ?? '',
        retryable: f.SenderFault === false || RETRYABLE_CODE.test(f.Code ?? ''),
      });
    }
    // An entry the response does not mention is not known to be sent: retry it rather than report it sent.
    entries.forEach((entry, k) => {
      if (!answered[k])
        failures.push({ entry, code: 'NoResult', message: 'the response did not mention it', retryable: true });
    });
    return failures;
  }
}

// Entries are built by assignment, leaving absent fields out: the SDK's serializer walks every key it is given.
function sqsEntry(e: Prepared): SendMessageBatchRequestEntry {
  const entry: SendMessageBatchRequestEntry = { Id: String(e.index), MessageBody: e.body };
  if (e.attributes) entry.MessageAttributes = e.attributes;
  if (e.groupId !== undefined) entry.MessageGroupId = e.groupId;
  if (e.deduplicationId !== undefined) entry.MessageDeduplicationId = e.deduplicationId;
  if (e.delaySeconds !== undefined) entry.DelaySeconds = e.delaySeconds;
  return entry;
}

function snsEntry(e: Prepared): PublishBatchRequestEntry {
  const entry: PublishBatchRequestEntry = { Id: String(e.index), Message: e.body };
  if (e.subject !== undefined) entry.Subject = e.subject;
  if (e.attributes) entry.MessageAttributes = e.attributes;
  if (e.groupId !== undefined) entry.MessageGroupId = e.groupId;
  if (e.deduplicationId !== undefined) entry.MessageDeduplicationId = e.deduplicationId;
  return entry;
}

/** Where the entry with batch id `id` (its input index) is in `entries` (≤ 10, so a scan). */
function positionOf(entries: readonly Prepared[], id: string | undefined): number {
  const index = Number(id);
  for (let k = 0; k < entries.length; k++) if ((entries[k] as Prepared).index === index) return k;
  return -1;
}

function groupAborted(entry: Prepared): SendFailedError {
  return new SendFailedError(
    `Message ${entry.index} was not sent: an earlier message of FIFO group '${entry.groupId}' failed, and sending it would break the group's order. Fix: resend the group from its first failed message.`,
    'GroupAborted',
    false,
  );
}

function settle(results: SendResult[]): SentMessage {
  const [result] = results;
  if (!result) throw new RuntimeConfigError('no result for the message');
  if (!result.ok) throw result.error;
  return result;
}
