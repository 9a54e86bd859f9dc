/**
 * Lambda's SQS event source mapping, locally: long-polls a queue, batches records, invokes the function, deletes
 * what succeeded, and leaves the rest to SQS (visibility timeout, redrive to the DLQ), with AWS's rules.
 *
 * - Receive: long polls (20 s, aborted at once by {@link EventSourcePoller.stop}) asking for every system and
 *   message attribute; up to `min(10, what the batch still lacks)` messages per call.
 * - Batch: up to `batchSize` records, or what arrived by the end of the batching window (`maxBatchingWindowSeconds
 *   × timeScale`, counted from the first record), or 6 MB of invocation payload (a record that would cross it waits
 *   for the next batch). Window 0: what one receive returned.
 * - Concurrency: a few pollers to begin with; a receive that comes back full adds one, up to the mapping's
 *   maximum concurrency; a long poll that comes back empty removes one beyond the first few. Each poller runs one
 *   invocation at a time. FIFO: SQS withholds a message group while it has messages in flight, and batches that
 *   share a group never run at once (it could happen when an invocation outlasts the visibility timeout).
 * - Outcome: without `ReportBatchItemFailures` a returned handler deletes every record (the response is ignored);
 *   with it, every record not listed in `batchItemFailures` is deleted, and an invalid response (not an object, a
 *   `batchItemFailures` that is not a list, an entry with an empty, null or unknown `itemIdentifier`) fails the
 *   whole batch, as in AWS. An error, a timeout or a crash deletes nothing.
 * - Failed records are neither deleted nor made visible early: they come back after the queue's visibility
 *   timeout (or what the handler set with ChangeMessageVisibility), and SQS's redrive policy moves them to the DLQ
 *   once they reach `maxReceiveCount`.
 * - Deletes: DeleteMessageBatch (10 entries per call), failed entries retried; they overlap the poller's next receive.
 *
 * @example
 * const poller = new EventSourcePoller({
 *   mapping, queue, fn, sqs, region: 'us-east-1',
 *   invoke: (event, { deadlineMs }) => host.invoke(event, { deadlineMs }),
 *   onEvent: (e) => recorder.record(e),
 * });
 * poller.start();
 * // ...
 * await poller.stop(); // no new receives; in-flight invocations end and their deletes land
 *
 * @module
 */
import { setMaxListeners } from 'node:events';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type DeleteMessageBatchRequestEntry,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { MAX_BATCH_ENTRIES } from '../runtime/limits.js';
import type { LocalEventSourceMapping, LocalFunction, LocalQueue } from './app-model.js';
import type { AttemptOutcome, FlowEvent } from './flow-events.js';
import type { InvokeResult } from './function-host.js';
import { DEFAULT_LOCAL_CONCURRENCY, LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES, SQS_MAX_WAIT_SECONDS } from './limits.js';
import { RECEIVE_ALL_ATTRIBUTES, toSqsRecord } from './sqs-event.js';

/** SQS's visibility timeout when a queue sets none. */
const DEFAULT_VISIBILITY_TIMEOUT_S = 30;

/** Pollers a mapping starts with (AWS starts standard queues at 5 concurrent batches), and its default cap. */
export const ESM_INITIAL_POLLERS = 5;
/** Bytes a record adds to the payload besides its body and attributes (ids, receipt handle, system attributes). */
const RECORD_OVERHEAD_BYTES = 1_024;
/** Attempts at deleting a record before leaving it to come back after its visibility timeout. */
const DELETE_ATTEMPTS = 4;
/** Pause between short polls while a batching window shorter than a second is open. */
const WINDOW_POLL_PAUSE_MS = 10;

export interface EventSourcePollerOptions {
  readonly mapping: LocalEventSourceMapping;
  /** The mapped queue (provisioned: `url` set). */
  readonly queue: LocalQueue;
  readonly fn: LocalFunction;
  readonly sqs: SQSClient;
  /** Invokes the function; must resolve (an invocation that rejects counts as a crash). */
  readonly invoke: (event: SQSEvent, options: { readonly deadlineMs: number }) => Promise<InvokeResult>;
  /** `awsRegion` of the records. */
  readonly region: string;
  /**
   * Factor applied to the batching window (the runner provisions visibility timeouts already scaled). The
   * invocation deadline stays the function timeout, unscaled; so while a batch is held (waiting for its FIFO
   * groups, starting an environment, running), its visibility is extended in steps of the scaled timeout, up to the
   * queue's unscaled visibility timeout: a scaled queue never redelivers a message its first invocation still runs,
   * unless AWS would too.
   * @default 1
   */
  readonly timeScale?: number;
  /**
   * The trace id of a received message (e.g. the SNS message id inside an envelope).
   * @default the SQS MessageId
   */
  readonly messageIdOf?: (queue: LocalQueue, message: Message) => string;
  readonly onEvent?: (event: FlowEvent) => void;
  /** A receive or delete failed (it is retried); for a notice line. */
  readonly onError?: (error: unknown, during: 'receive' | 'delete') => void;
  /**
   * Concurrent invocations when the mapping sets no maximum concurrency.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * The queue's DLQ, for the name in `dead-lettered` events.
   * @default the queue name in the DLQ's ARN
   */
  readonly deadLetterQueue?: Pick<LocalQueue, 'displayName'>;
}

/** Point-in-time counters of a poller. */
export interface EventSourcePollerStats {
  /** Records received and neither deleted nor failed yet. */
  readonly inFlight: number;
  /** Invocations made since start. */
  readonly invocations: number;
  /** Invocations under way. */
  readonly running: number;
  /** Poll loops running (each makes at most one invocation at a time). */
  readonly pollers: number;
}

/** What a batch's invocation came to. */
interface Verdict {
  readonly outcome: AttemptOutcome;
  /** Ids of the records that failed; `undefined`: none; `ALL`: every record. */
  readonly failed: ReadonlySet<string> | undefined | typeof ALL;
  readonly error?: string;
}

const ALL = Symbol('all records');

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error as { name?: unknown } | null)?.name === 'AbortError';
}

/** Judges a response under ReportBatchItemFailures, as Lambda does. */
export function judgePartialResponse(response: unknown, records: readonly SQSRecord[]): Verdict {
  if (response === null || response === undefined) return { outcome: 'succeeded', failed: undefined };
  if (typeof response !== 'object' || Array.isArray(response)) {
    return {
      outcome: 'invalid-response',
      failed: ALL,
      error: `Invalid partial batch response: the handler returned ${Array.isArray(response) ? 'an array' : `a ${typeof response}`}, not an object with batchItemFailures; the whole batch fails.`,
    };
  }
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return { outcome: 'succeeded', failed: undefined };
  if (!Array.isArray(list)) {
    return {
      outcome: 'invalid-response',
      failed: ALL,
      error: `Invalid partial batch response: batchItemFailures is a ${typeof list}, not a list; the whole batch fails.`,
    };
  }
  if (list.length === 0) return { outcome: 'succeeded', failed: undefined };
  const ids = records.length > 16 ? new Set(records.map((r) => r.messageId)) : undefined;
  const failed = new Set<string>();
  for (const entry of list) {
    const id = (entry as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    let problem: string | undefined;
    if (typeof id !== 'string' || id === '') {
      problem = `an entry has ${id === '' ? 'an empty' : id === null ? 'a null' : 'no (or a non-string)'} itemIdentifier (${JSON.stringify(entry) ?? String(entry)})`;
    } else if (ids !== undefined ? !ids.has(id) : !records.some((r) => r.messageId === id)) {
      problem = `itemIdentifier ${id} is not the messageId of a record of this batch`;
    }
    if (problem !== undefined) {
      return {
        outcome: 'invalid-response',
        failed: ALL,
        error: `Invalid partial batch response: ${problem}; the whole batch fails, as in AWS. Fix: report { itemIdentifier: record.messageId } for each failed record.`,
      };
    }
    failed.add(id as string);
  }
  return { outcome: 'partial', failed };
}

function failureOutcome(reason: 'error' | 'timeout' | 'crash'): AttemptOutcome {
  return reason === 'timeout' ? 'timed-out' : reason === 'crash' ? 'crashed' : 'failed';
}

/** Payload bytes of a record besides its body: attributes (names, values, base64 binaries) and the fixed part. */
function attributeBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES;
  const attributes = message.MessageAttributes;
  if (attributes !== undefined) {
    for (const name in attributes) {
      const a = attributes[name];
      bytes +=
        name.length + 64 + (a?.StringValue?.length ?? 0) + Math.ceil(((a?.BinaryValue?.byteLength ?? 0) * 4) / 3);
    }
  }
  return bytes;
}

/** A body's bytes in the event JSON (escaped, UTF-8). */
const exactBodyBytes = (message: Message): number => Buffer.byteLength(JSON.stringify(message.Body ?? ''));
/** At most 6 bytes per UTF-16 unit once escaped (`\u001f`): a bound that costs nothing to compute. */
const bodyBytesBound = (message: Message): number => (message.Body?.length ?? 0) * 6;

/**
 * Records gathered for one invocation, with their trace ids (computed once per delivery) and payload size. The size
 * is a cheap upper bound until that bound could cross the 6 MB limit, exact from then on.
 */
class Batch {
  readonly messages: Message[] = [];
  readonly traceIds: string[] = [];
  bytes = 0;
  exact = false;

  add(message: Message, traceId: string | undefined, bytes: number): void {
    this.messages.push(message);
    if (traceId !== undefined) this.traceIds.push(traceId);
    this.bytes += bytes;
  }

  /** The bytes `message` adds, or `undefined` when it would take the batch past the payload limit. */
  fits(message: Message): number | undefined {
    if (!this.exact) {
      const bound = bodyBytesBound(message) + attributeBytes(message);
      if (this.bytes + bound <= LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES) return bound;
      this.exact = true;
      this.bytes = 0;
      for (const m of this.messages) this.bytes += exactBodyBytes(m) + attributeBytes(m);
    }
    const bytes = exactBodyBytes(message) + attributeBytes(message);
    return this.bytes + bytes <= LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES || this.messages.length === 0 ? bytes : undefined;
  }
}

/** Polls one queue for one function. See the module docs. */
export class EventSourcePoller {
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly cap: number;
  private readonly initialPollers: number;
  private readonly fifo: boolean;
  private readonly deadLetterName: string | undefined;
  private readonly abort = new AbortController();
  private readonly loops = new Set<Promise<void>>();
  /** FIFO: message groups of the batches being invoked. */
  private readonly groupsInFlight = new Set<string>();
  private groupWaiters: (() => void)[] = [];
  private started = false;
  private stopping = false;
  private pollers = 0;
  private inFlight = 0;
  private running = 0;
  private invocations = 0;

  constructor(private readonly options: EventSourcePollerOptions) {
    const { mapping, queue } = options;
    this.batchSize = Math.max(1, mapping.batchSize || 10);
    this.windowMs = Math.max(0, mapping.maxBatchingWindowSeconds * 1000 * (options.timeScale ?? 1));
    this.cap = Math.max(1, mapping.maxConcurrency ?? options.maxConcurrency ?? DEFAULT_LOCAL_CONCURRENCY);
    this.initialPollers = Math.min(this.cap, ESM_INITIAL_POLLERS);
    this.fifo = queue.fifo || queue.arn.endsWith('.fifo');
    this.deadLetterName =
      options.deadLetterQueue?.displayName ?? (queue.deadLetter ? queue.deadLetter.arn.split(':').pop() : undefined);
    setMaxListeners(0, this.abort.signal);
  }

  /** Starts polling (a disabled mapping does not poll). */
  start(): void {
    if (this.started || !this.options.mapping.enabled) return;
    this.started = true;
    for (let i = 0; i < this.initialPollers; i++) this.addPoller();
  }

  /**
   * Stops: long polls are aborted, records already received are still invoked, in-flight invocations finish and
   * their deletes land. Nothing is lost: what was not deleted comes back after its visibility timeout.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    while (this.loops.size > 0) await Promise.all(this.loops);
  }

  stats(): EventSourcePollerStats {
    return { inFlight: this.inFlight, invocations: this.invocations, running: this.running, pollers: this.pollers };
  }

  // -------------------------------------------------------------------------------------------------------------

  private addPoller(): void {
    this.pollers++;
    const loop: Promise<void> = this.poll().finally(() => {
      this.pollers--;
      this.loops.delete(loop);
    });
    this.loops.add(loop);
  }

  private async poll(): Promise<void> {
    let carry: Batch | undefined;
    let deleting: Promise<void> | undefined;
    try {
      while (!this.stopping || carry !== undefined) {
        const batch = carry ?? new Batch();
        carry = undefined;
        const { full, overflow } = await this.gather(batch);
        carry = overflow;
        if (batch.messages.length === 0) {
          // An empty long poll: fewer pollers are enough.
          if (this.pollers > this.initialPollers) return;
          continue;
        }
        if (full && !this.stopping && this.pollers < this.cap) this.addPoller();
        // One outstanding delete per poller: it overlapped the receive; wait for it before the next invocation.
        if (deleting !== undefined) await deleting;
        deleting = (await this.process(batch)).deleting;
      }
    } finally {
      if (deleting !== undefined) await deleting;
    }
  }

  /** Fills `batch` per the batch size, the window and the payload limit; what does not fit starts the next one. */
  private async gather(batch: Batch): Promise<{ full: boolean; overflow: Batch | undefined }> {
    const signal = this.abort.signal;
    const tracing = this.options.onEvent !== undefined;
    let windowEnd = batch.messages.length > 0 ? Date.now() + this.windowMs : undefined;
    let full = false;
    let failures = 0;
    while (batch.messages.length < this.batchSize && !this.stopping) {
      const want = Math.min(MAX_BATCH_ENTRIES, this.batchSize - batch.messages.length);
      let wait = SQS_MAX_WAIT_SECONDS;
      if (windowEnd !== undefined) {
        const left = windowEnd - Date.now();
        if (left <= 0) break;
        wait = Math.min(SQS_MAX_WAIT_SECONDS, Math.floor(left / 1000));
      }
      let received: Message[];
      try {
        received = await this.receive(want, wait, signal);
        failures = 0;
      } catch (error) {
        if (isAbort(error, signal)) break;
        this.options.onError?.(error, 'receive');
        await sleep(Math.min(5_000, 100 * 2 ** failures++), signal);
        continue;
      }
      if (received.length === want) full = true;
      let overflow: Batch | undefined;
      for (let i = 0; i < received.length; i++) {
        const message = received[i] as Message;
        const traceId = tracing ? this.received(message) : undefined;
        this.inFlight++;
        const bytes = overflow === undefined ? batch.fits(message) : undefined;
        if (bytes !== undefined) batch.add(message, traceId, bytes);
        else {
          overflow ??= new Batch();
          overflow.add(message, traceId, overflow.fits(message) ?? 0);
        }
      }
      if (overflow !== undefined) return { full: true, overflow };
      if (batch.messages.length === 0) {
        if (wait === SQS_MAX_WAIT_SECONDS) break; // an empty long poll: let the caller rebalance pollers
        continue;
      }
      if (this.windowMs === 0) break;
      if (windowEnd === undefined) windowEnd = Date.now() + this.windowMs;
      else if (received.length === 0 && wait === 0) {
        await sleep(Math.min(WINDOW_POLL_PAUSE_MS, windowEnd - Date.now()), signal);
      }
    }
    return { full, overflow: undefined };
  }

  private async receive(max: number, waitSeconds: number, signal: AbortSignal): Promise<Message[]> {
    const input: ReceiveMessageCommandInput = {
      QueueUrl: this.options.queue.url,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: waitSeconds,
      ...RECEIVE_ALL_ATTRIBUTES,
    };
    const { Messages } = await this.options.sqs.send(new ReceiveMessageCommand(input), { abortSignal: signal });
    return Messages ?? [];
  }

  /** Emits `received`; returns the delivery's trace id. */
  private received(message: Message): string {
    const { queue, messageIdOf, onEvent } = this.options;
    const traceId = messageIdOf !== undefined ? messageIdOf(queue, message) : (message.MessageId ?? '');
    const system = message.Attributes;
    const groupId = system?.MessageGroupId;
    onEvent?.({
      type: 'received',
      at: Date.now(),
      messageId: traceId,
      deliveryId: message.MessageId ?? '',
      queue: queue.displayName,
      receiveCount: Number(system?.ApproximateReceiveCount ?? 1),
      ...(groupId !== undefined ? { groupId } : {}),
      ...(system?.SequenceNumber !== undefined ? { sequenceNumber: system.SequenceNumber } : {}),
    });
    return traceId;
  }

  /** Invokes the function with one batch; returns the deletes of what succeeded, under way. */
  private async process(batch: Batch): Promise<{ deleting: Promise<void> | undefined }> {
    const { queue, region, fn } = this.options;
    const messages = batch.messages;
    const stopExtending = this.keepInvisible(messages);
    const records: SQSRecord[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) records[i] = toSqsRecord(messages[i] as Message, queue, region);

    let groups: string[] | undefined;
    if (this.fifo) {
      groups = [];
      for (const r of records) {
        const g = r.attributes.MessageGroupId;
        if (g !== undefined && !groups.includes(g)) groups.push(g);
      }
      while (groups.some((g) => this.groupsInFlight.has(g))) {
        await new Promise<void>((resolve) => this.groupWaiters.push(resolve));
      }
      for (const g of groups) this.groupsInFlight.add(g);
    }

    this.running++;
    this.invocations++;
    let result: InvokeResult;
    try {
      result = await this.options.invoke({ Records: records }, { deadlineMs: Date.now() + fn.timeoutSeconds * 1000 });
    } catch (error) {
      result = {
        requestId: '',
        ok: false,
        errorType: (error as Error)?.name ?? 'Error',
        errorMessage: `The invocation could not be made: ${(error as Error)?.message ?? String(error)}`,
        stackTrace: [],
        durationMs: 0,
        logs: [],
        reason: 'crash',
      };
    } finally {
      this.running--;
      stopExtending();
    }

    const verdict: Verdict = !result.ok
      ? {
          outcome: failureOutcome(result.reason),
          failed: ALL,
          error: `${result.errorType}: ${result.errorMessage}`,
        }
      : this.options.mapping.reportBatchItemFailures
        ? judgePartialResponse(result.result, records)
        : { outcome: 'succeeded', failed: undefined };
    const end = Date.now();

    const toDelete: number[] = [];
    const failed = verdict.failed;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as SQSRecord;
      const recordFailed = failed === ALL || failed?.has(record.messageId) === true;
      if (!recordFailed) toDelete.push(i);
      else this.inFlight--;
      if (this.options.onEvent !== undefined) {
        this.settled(batch.traceIds[i] as string, record, result, verdict, recordFailed, end);
      }
    }

    if (toDelete.length === 0) {
      this.releaseGroups(groups);
      return { deleting: undefined };
    }
    return { deleting: this.deleteRecords(batch, records, toDelete, end).finally(() => this.releaseGroups(groups)) };
  }

  /**
   * Under a time scale < 1, keeps held messages invisible: at once, then four times per scaled timeout, each time
   * for twice the scaled timeout (so a busy event loop does not let them slip back), until the queue's own
   * (unscaled) timeout has passed since the batch was taken. Returns the function that stops it; a failed record
   * then comes back within two scaled timeouts.
   */
  private keepInvisible(messages: readonly Message[]): () => void {
    const scale = this.options.timeScale ?? 1;
    if (scale >= 1 || messages.length === 0) return () => {};
    const unscaled = Number(this.options.queue.attributes.VisibilityTimeout ?? DEFAULT_VISIBILITY_TIMEOUT_S);
    const step = Math.max(1, Math.ceil(unscaled * scale));
    const until = Date.now() + unscaled * 1000;
    const extend = () => {
      const seconds = Math.min(2 * step, Math.floor((until - Date.now()) / 1000));
      if (seconds < 1) {
        clearInterval(timer);
        return;
      }
      for (let i = 0; i < messages.length; i += 10) {
        const entries = messages.slice(i, i + 10).map((m, k) => ({
          Id: String(i + k),
          ReceiptHandle: m.ReceiptHandle as string,
          VisibilityTimeout: seconds,
        }));
        this.options.sqs
          .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.options.queue.url, Entries: entries }))
          .catch(() => {
            // a handle that expired meanwhile: the message is visible again, which is what AWS would do too
          });
      }
    };
    const timer = setInterval(extend, step * 250);
    timer.unref();
    extend();
    return () => clearInterval(timer);
  }

  private releaseGroups(groups: string[] | undefined): void {
    if (groups === undefined) return;
    for (const g of groups) this.groupsInFlight.delete(g);
    const waiters = this.groupWaiters;
    this.groupWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Events of one record after the attempt: the attempt, and for a failure what comes next. */
  private settled(
    messageId: string,
    record: SQSRecord,
    result: InvokeResult,
    verdict: Verdict,
    recordFailed: boolean,
    at: number,
  ): void {
    const onEvent = this.options.onEvent;
    if (onEvent === undefined) return;
    const queue = this.options.queue;
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    const error =
      verdict.error ?? (recordFailed && verdict.outcome === 'partial' ? 'reported in batchItemFailures' : undefined);
    onEvent({
      type: 'attempt',
      at,
      messageId,
      deliveryId: record.messageId,
      queue: queue.displayName,
      function: this.options.fn.displayName,
      requestId: result.requestId,
      receiveCount,
      outcome: verdict.outcome,
      recordFailed,
      durationMs: result.durationMs,
      ...(error !== undefined ? { error } : {}),
      logs: result.logs,
    });
    if (!recordFailed) return;
    const deadLetter = queue.deadLetter;
    if (deadLetter !== undefined && receiveCount >= deadLetter.maxReceiveCount) {
      onEvent({
        type: 'dead-lettered',
        at,
        messageId,
        deliveryId: record.messageId,
        queue: queue.displayName,
        deadLetterQueue: this.deadLetterName ?? deadLetter.arn,
        receiveCount,
      });
    } else {
      onEvent({
        type: 'retry-scheduled',
        at,
        messageId,
        deliveryId: record.messageId,
        queue: queue.displayName,
        receiveCount,
      });
    }
  }

  /** Deletes `indexes` of the batch, 10 per call, retrying failed entries; emits `deleted` for each. */
  private async deleteRecords(batch: Batch, records: SQSRecord[], indexes: number[], attemptEnd: number) {
    const { sqs, queue, onEvent } = this.options;
    for (let start = 0; start < indexes.length; start += MAX_BATCH_ENTRIES) {
      let entries: DeleteMessageBatchRequestEntry[] = [];
      for (let k = start; k < Math.min(indexes.length, start + MAX_BATCH_ENTRIES); k++) {
        const i = indexes[k] as number;
        entries.push({ Id: String(i), ReceiptHandle: (records[i] as SQSRecord).receiptHandle });
      }
      for (let attempt = 1; entries.length > 0; attempt++) {
        let retry: DeleteMessageBatchRequestEntry[] = [];
        try {
          const { Successful, Failed } = await sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }),
          );
          for (const done of Successful ?? []) {
            this.inFlight--;
            if (onEvent === undefined) continue;
            const i = Number(done.Id);
            const record = records[i] as SQSRecord;
            onEvent({
              type: 'deleted',
              at: Date.now(),
              messageId: batch.traceIds[i] as string,
              deliveryId: record.messageId,
              queue: queue.displayName,
              latencyMs: attemptEnd - Number(record.attributes.SentTimestamp),
            });
          }
          for (const failed of Failed ?? []) {
            const entry = entries.find((e) => e.Id === failed.Id);
            if (entry !== undefined && !failed.SenderFault) retry.push(entry);
            else this.giveUp(failed.Code, failed.Message);
          }
        } catch (error) {
          this.options.onError?.(error, 'delete');
          retry = entries;
        }
        if (retry.length > 0 && attempt >= DELETE_ATTEMPTS) {
          for (let k = 0; k < retry.length; k++) this.giveUp('RetriesExhausted', `${DELETE_ATTEMPTS} attempts failed`);
          break;
        }
        entries = retry;
        if (entries.length > 0) await sleep(50 * 2 ** attempt);
      }
    }
  }

  /** A record that cannot be deleted comes back after its visibility timeout and is processed again. */
  private giveUp(code: string | undefined, message: string | undefined): void {
    this.inFlight--;
    this.options.onError?.(
      new Error(
        `DeleteMessageBatch could not delete a record of ${this.options.queue.displayName} (${code ?? 'unknown'}: ` +
          `${message ?? 'no message'}); it will be received and processed again after its visibility timeout.`,
      ),
      'delete',
    );
  }
}
