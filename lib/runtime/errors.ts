/**
 * Errors of the runtime plane. Each message says what was wrong, the limit, and the fix.
 *
 * @module
 */

/** Base class: every error queuekit's runtime throws or reports is one of these. */
export class QueuekitRuntimeError extends Error {
  override name = 'QueuekitRuntimeError';
}

/**
 * A message cannot be sent as given (size, attributes, FIFO ids): raised before any network call. In a batch
 * send it is reported for that message alone; the others go on.
 */
export class MessageValidationError extends QueuekitRuntimeError {
  override name = 'MessageValidationError';
}

/** A message is larger than the queue or topic accepts and no large-payload bucket is configured. */
export class PayloadTooLargeError extends MessageValidationError {
  override name = 'PayloadTooLargeError';
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
    service: 'SQS' | 'SNS',
  ) {
    super(
      `Message is ${sizeBytes} bytes (body + attributes); ${service} accepts at most ${limitBytes}. ` +
        'Fix: set `largePayloads: { bucket }` on the producer to offload large bodies to S3 ' +
        '(or QUEUEKIT_LARGE_PAYLOAD_BUCKET), or make the message smaller.',
    );
  }
}

/** Options given to a consumer or producer are invalid. */
export class RuntimeConfigError extends QueuekitRuntimeError {
  override name = 'RuntimeConfigError';
}

/** A record's body failed JSON parsing or its message contract: it fails alone and is reported for retry. */
export class ContractViolationError extends QueuekitRuntimeError {
  override name = 'ContractViolationError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(message);
  }
}

/** A record was not run: the invocation was about to run out of time, or an earlier record of its group failed. */
export class RecordNotAttemptedError extends QueuekitRuntimeError {
  override name = 'RecordNotAttemptedError';
  constructor(readonly reason: 'time-guard' | 'group-failed') {
    super(
      reason === 'time-guard'
        ? 'Not started: the invocation had too little time left; it will be retried.'
        : 'Not started: an earlier record of its FIFO message group failed; it will be retried in order.',
    );
  }
}

/**
 * Every record of a batch failed and the consumer is set to `allFailed: 'throw'`: throwing lets Lambda's own
 * retry and backoff (scaling down pollers) apply instead of reporting each record.
 */
export class BatchFailedError extends QueuekitRuntimeError {
  override name = 'BatchFailedError';
  constructor(readonly failures: readonly { readonly messageId: string; readonly error: unknown }[]) {
    super(`All ${failures.length} records of the batch failed; the batch will be retried as a whole.`);
  }
}

/** A send or publish of one message failed after all retries (see `code` and `retryable`). */
export class SendFailedError extends QueuekitRuntimeError {
  override name = 'SendFailedError';
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
