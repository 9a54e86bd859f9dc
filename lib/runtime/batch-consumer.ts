/**
 * The batch consumer: turns a per-message handler into a Lambda SQS handler that returns a partial batch
 * response (`ReportBatchItemFailures`).
 *
 * Per record: unwrap raw or SNS-enveloped delivery, fetch an S3-offloaded body, parse JSON, validate the
 * contract, run the handler. A record that fails any step fails alone. FIFO records run in order within their
 * message group and groups run in parallel; after a failure the rest of that group is reported without running,
 * so the group's order survives the retry. Standard records run with bounded concurrency.
 *
 * @example
 * import * as v from 'valibot';
 * const Job = v.object({ jobId: v.string(), prompt: v.string() });
 * export const handler = sqsBatchHandler(async ({ body }) => runJob(body.jobId, body.prompt), {
 *   contract: Job,
 *   retryBackoff: { baseSeconds: 10 },
 * });
 *
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { delayRetries, type RetryBackoffOptions } from './backoff.js';
import { type ClientOptions, s3Client, sqsClient } from './clients.js';
import { type StandardSchemaV1, validateContract } from './contract.js';
import { type MessageSource, queueNameOf, readRecord } from './envelope.js';
import { BatchFailedError, ContractViolationError, RecordNotAttemptedError, RuntimeConfigError } from './errors.js';
import { FIFO_SUFFIX } from './limits.js';
import { errorFields, type RuntimeLogger, runtimeLogger } from './logger.js';
import type { ReceivedAttributeValue } from './message-attributes.js';
import {
  deletePayload,
  fetchPayload,
  PAYLOAD_SIZE_ATTRIBUTES,
  type PayloadPointer,
  parsePointer,
} from './payload-offload.js';
import { runPool } from './worker-pool.js';

/** A message as the handler sees it: the inner body, parsed and validated, with where it came from. */
export interface ConsumedMessage<T = unknown> {
  /** The body: parsed JSON (or text with `bodyFormat: 'text'`), validated by the contract when one is set. */
  readonly body: T;
  /** The inner message text before parsing (after S3 offload resolution). */
  readonly text: string;
  readonly messageId: string;
  /** FIFO message group. */
  readonly groupId?: string;
  readonly deduplicationId?: string;
  readonly sequenceNumber?: string;
  /** How many times this message has been received, this time included. */
  readonly receiveCount: number;
  /** When SQS accepted the message. */
  readonly sentAt: Date;
  /** Name of the queue it was received from. */
  readonly queue?: string;
  /** `sns` when the body was an SNS envelope, else `sqs`. */
  readonly source: MessageSource;
  readonly topicArn?: string;
  readonly snsMessageId?: string;
  readonly subject?: string;
  /** When SNS accepted the message (enveloped deliveries only). */
  readonly publishedAt?: Date;
  /** Message attributes, from SQS or from the SNS envelope (`Number` as a number when exact). */
  readonly attributes: Readonly<Record<string, ReceivedAttributeValue>>;
  /** Where the body was stored, when it came through S3. */
  readonly payload?: PayloadPointer;
  /** The SQS record as Lambda delivered it. */
  readonly record: SQSRecord;
}

/** What a handler gets besides the message. */
export interface ConsumerContext {
  /** The Lambda context, when the handler was invoked with one. */
  readonly lambdaContext?: Context;
  readonly logger: RuntimeLogger;
  /** Milliseconds left in the invocation (`Infinity` without a Lambda context). */
  remainingTimeMs(): number;
}

export type MessageHandler<T> = (message: ConsumedMessage<T>, context: ConsumerContext) => unknown;

export interface BatchConsumerOptions<T = unknown> {
  /**
   * Contract for the body, any Standard Schema (zod, valibot, arktype…). A record that fails it fails alone.
   * @default - no validation; the body is `unknown`
   */
  readonly contract?: StandardSchemaV1<unknown, T>;
  /** `json` parses the body (a non-JSON body fails its record); `text` hands over the string. @default 'json' */
  readonly bodyFormat?: 'json' | 'text';
  /**
   * Records (standard queues) or message groups (FIFO) run at the same time. The default suits I/O-bound
   * handlers without overrunning a downstream; raise it for large standard batches.
   * @default 10
   */
  readonly concurrency?: number;
  /**
   * When every record of a batch fails: `throw` a {@link BatchFailedError} so the invocation fails and Lambda's
   * own retry applies (the event source backs off polling, the function's Errors metric shows the outage), or
   * `report` every record in the partial batch response (the invocation succeeds). Either way every record
   * comes back; none is lost. Powertools throws too.
   * @default 'throw'
   */
  readonly allFailed?: 'throw' | 'report';
  /**
   * Stop starting records when the invocation has less than this many milliseconds left; unstarted records
   * are reported failed and come back. Capped at a quarter of the time left when the batch starts.
   * @default 2000
   */
  readonly timeGuardMs?: number;
  /**
   * Per-message exponential backoff with jitter for failed records: their visibility is set from their receive
   * count (ChangeMessageVisibility), instead of the queue's fixed visibility timeout. Needs
   * `sqs:ChangeMessageVisibility` and `sqs:GetQueueUrl` on the queue. `true` uses the defaults.
   * @default false
   */
  readonly retryBackoff?: RetryBackoffOptions | boolean;
  /**
   * Large payloads (AWS extended client format): fetch bodies offloaded to S3, and optionally delete the object
   * after the record succeeds (only when no other subscriber reads it; a bucket lifecycle rule is the safer way).
   * @default { resolve: true, deleteAfterSuccess: false }
   */
  readonly largePayloads?: { readonly resolve?: boolean; readonly deleteAfterSuccess?: boolean };
  /** @default - the shared Powertools Logger (see `runtimeLogger`) */
  readonly logger?: RuntimeLogger;
  /** Clients, or where to build them. @default - the client factory's resolution from the environment */
  readonly clients?: ClientOptions & { readonly sqs?: SQSClient; readonly s3?: S3Client };
}

/** Defaults, in one place. */
export const CONSUMER_DEFAULTS = {
  concurrency: 10,
  timeGuardMs: 2_000,
  allFailed: 'throw',
  bodyFormat: 'json',
} as const;

type Outcome = 'succeeded' | 'failed' | 'time-guard' | 'group-failed';

/** Counts of one processed batch, as logged in the batch summary. */
export interface BatchSummary {
  readonly records: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly notAttempted: number;
  readonly durationMs: number;
}

/**
 * Processes one SQS event with `handler` and returns the partial batch response. See {@link sqsBatchHandler}
 * for the handler form; this one is for handlers that do more around the batch.
 */
export async function processBatch<T = unknown>(
  event: SQSEvent,
  handler: MessageHandler<T>,
  options: BatchConsumerOptions<T> = {},
  lambdaContext?: Context,
): Promise<SQSBatchResponse> {
  const started = Date.now();
  const logger = options.logger ?? runtimeLogger();
  const records = event.Records;
  records.forEach((record, i) => {
    if (typeof record.messageId !== 'string' || record.messageId === '')
      throw new RuntimeConfigError(
        `Record ${i} of the SQS event has no messageId, so it cannot be reported in a partial batch response. ` +
          'Fix: invoke the handler with events shaped like Lambda SQS events; the whole batch will be retried.',
      );
  });
  const concurrency = options.concurrency ?? CONSUMER_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RuntimeConfigError(`concurrency is ${concurrency}. Fix: give an integer ≥ 1.`);
  const parseJson = (options.bodyFormat ?? CONSUMER_DEFAULTS.bodyFormat) === 'json';
  const resolvePayloads = options.largePayloads?.resolve ?? true;
  const deletePayloads = options.largePayloads?.deleteAfterSuccess ?? false;
  const remainingTimeMs = lambdaContext
    ? () => lambdaContext.getRemainingTimeInMillis()
    : () => Number.POSITIVE_INFINITY;
  const guardMs = lambdaContext
    ? Math.min(options.timeGuardMs ?? CONSUMER_DEFAULTS.timeGuardMs, remainingTimeMs() / 4)
    : Number.NEGATIVE_INFINITY;
  const context: ConsumerContext = { ...(lambdaContext ? { lambdaContext } : {}), logger, remainingTimeMs };
  const s3 = () => options.clients?.s3 ?? s3Client(options.clients);

  const outcomes: Outcome[] = new Array(records.length);
  const errors: unknown[] = new Array(records.length);

  let lastArn: string | undefined;
  let lastQueue: string | undefined;
  const queueOf = (arn: string | undefined): string | undefined => {
    if (arn !== lastArn) {
      lastArn = arn;
      lastQueue = queueNameOf(arn);
    }
    return lastQueue;
  };

  const toMessage = async (record: SQSRecord): Promise<ConsumedMessage<T>> => {
    const inbound = readRecord(record, parseJson);
    let text = inbound.text;
    let parsed = inbound.parsed;
    let payload: PayloadPointer | undefined;
    if (resolvePayloads && PAYLOAD_SIZE_ATTRIBUTES.some((a) => a in inbound.attributes)) {
      payload = parsePointer(text);
      if (payload) {
        text = await fetchPayload(s3(), payload);
        parsed = undefined;
      }
    }
    let body: unknown = text;
    if (parseJson) {
      if (parsed !== undefined && inbound.source === 'sqs') body = parsed;
      else {
        try {
          body = JSON.parse(text);
        } catch (error) {
          throw new ContractViolationError(
            `Body is not JSON (${(error as Error).message}). Fix: send JSON, or set bodyFormat: 'text' on the consumer.`,
          );
        }
      }
    }
    if (options.contract) body = await validateContract(options.contract, body);
    const a = record.attributes;
    // One object shape for every record (no conditional spreads): cheaper on large batches (bench P3b).
    return {
      body: body as T,
      text,
      messageId: record.messageId,
      groupId: a.MessageGroupId,
      deduplicationId: a.MessageDeduplicationId,
      sequenceNumber: a.SequenceNumber,
      receiveCount: receiveCountOf(record),
      sentAt: new Date(a.SentTimestamp ? Number(a.SentTimestamp) : Date.now()),
      queue: queueOf(record.eventSourceARN),
      source: inbound.source,
      topicArn: inbound.topicArn,
      snsMessageId: inbound.snsMessageId,
      subject: inbound.subject,
      publishedAt: inbound.publishedAt,
      attributes: inbound.attributes,
      payload,
      record,
    };
  };

  const runRecord = async (i: number): Promise<boolean> => {
    if (remainingTimeMs() < guardMs) {
      outcomes[i] = 'time-guard';
      return false;
    }
    const record = records[i] as SQSRecord;
    try {
      const message = await toMessage(record);
      await handler(message, context);
      outcomes[i] = 'succeeded';
      if (deletePayloads && message.payload) {
        await deletePayload(s3(), message.payload).catch((error) =>
          logger.warn('offloaded payload not deleted', { messageId: record.messageId, ...errorFields(error) }),
        );
      }
      return true;
    } catch (error) {
      outcomes[i] = 'failed';
      errors[i] = error;
      logger.error('record failed', {
        messageId: record.messageId,
        queue: queueNameOf(record.eventSourceARN),
        groupId: record.attributes.MessageGroupId,
        receiveCount: receiveCountOf(record),
        reason: error instanceof ContractViolationError ? 'contract' : 'handler',
        ...(error instanceof ContractViolationError ? { issues: error.issues } : {}),
        ...errorFields(error),
      });
      return false;
    }
  };

  // FIFO by the queue's name; a standard queue's records may carry MessageGroupId too (fair queues).
  const fifo = records.some((r) =>
    r.eventSourceARN ? r.eventSourceARN.endsWith(FIFO_SUFFIX) : r.attributes.MessageGroupId !== undefined,
  );
  if (fifo) {
    const byGroup = new Map<string, number[]>();
    records.forEach((r, i) => {
      const key = r.attributes.MessageGroupId ?? `\u0000${i}`;
      const group = byGroup.get(key);
      if (group) group.push(i);
      else byGroup.set(key, [i]);
    });
    const groups = [...byGroup.values()];
    await runPool(groups.length, concurrency, async (g) => {
      const indices = groups[g] as number[];
      for (let k = 0; k < indices.length; k++) {
        if (!(await runRecord(indices[k] as number))) {
          const rest = outcomes[indices[k] as number] === 'time-guard' ? 'time-guard' : 'group-failed';
          for (const j of indices.slice(k + 1)) outcomes[j] = rest;
          return;
        }
      }
    });
  } else {
    await runPool(records.length, concurrency, runRecord);
  }

  const failed: SQSRecord[] = [];
  let handlerFailures = 0;
  let notAttempted = 0;
  records.forEach((record, i) => {
    const outcome = outcomes[i];
    if (outcome === 'succeeded') return;
    failed.push(record);
    if (outcome === 'failed') handlerFailures++;
    else notAttempted++;
  });
  if (notAttempted > 0)
    logger.warn('records not attempted', {
      count: notAttempted,
      messageIds: records
        .filter((_, i) => outcomes[i] === 'time-guard' || outcomes[i] === 'group-failed')
        .map((r) => r.messageId),
      reasons: [...new Set(outcomes.filter((o) => o === 'time-guard' || o === 'group-failed'))],
    });

  if (options.retryBackoff && handlerFailures > 0) {
    const toDelay = records
      .filter((_, i) => outcomes[i] === 'failed')
      .map((r) => ({
        messageId: r.messageId,
        receiptHandle: r.receiptHandle,
        receiveCount: receiveCountOf(r),
        eventSourceARN: r.eventSourceARN,
      }));
    const backoff = options.retryBackoff === true ? {} : options.retryBackoff;
    const sqs = options.clients?.sqs ?? sqsClient(options.clients);
    const byQueue = Map.groupBy(toDelay, (r) => r.eventSourceARN);
    for (const [arn, list] of byQueue) {
      try {
        const result = await delayRetries(sqs, arn, list, backoff);
        if (result.failed.length > 0)
          logger.warn('retry backoff not applied; these come back at the queue visibility timeout', {
            messageIds: result.failed,
          });
      } catch (error) {
        logger.warn('retry backoff not applied', { queue: queueNameOf(arn), ...errorFields(error) });
      }
    }
  }

  const summary: BatchSummary = {
    records: records.length,
    succeeded: records.length - failed.length,
    failed: handlerFailures,
    notAttempted,
    durationMs: Date.now() - started,
  };
  logger.info('batch processed', { queue: queueNameOf(records[0]?.eventSourceARN), ...summary });

  if (
    records.length > 0 &&
    failed.length === records.length &&
    (options.allFailed ?? CONSUMER_DEFAULTS.allFailed) === 'throw'
  )
    throw new BatchFailedError(
      records.map((r, i) => ({
        messageId: r.messageId,
        error: errors[i] ?? new RecordNotAttemptedError(outcomes[i] === 'time-guard' ? 'time-guard' : 'group-failed'),
      })),
    );
  return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
}

/** How many times a record has been received, this time included. */
function receiveCountOf(record: SQSRecord): number {
  const count = record.attributes.ApproximateReceiveCount;
  return count ? Number(count) : 1;
}

/**
 * Builds a Lambda SQS handler from a per-message handler. The function's event source mapping must have
 * `ReportBatchItemFailures` on (queuekit's `BatchConsumer` always sets it).
 */
export function sqsBatchHandler<T = unknown>(
  handler: MessageHandler<T>,
  options: BatchConsumerOptions<T> = {},
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  return (event, context) => processBatch(event, handler, options, context);
}
