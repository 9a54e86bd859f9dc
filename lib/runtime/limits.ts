/**
 * AWS quotas the runtime plane (consumer and producer inside a Lambda) enforces before any network call.
 *
 * One place for every number the runtime uses. Sources: Amazon SQS Developer Guide (quotas, message
 * attributes, SendMessageBatch, FIFO), Amazon SNS Developer Guide (quotas, PublishBatch), AWS Lambda Developer
 * Guide (SQS event source), AWS extended client libraries (large payloads), checked 2026.
 */

/** SQS: largest message, body + attributes (names, types and values), in bytes (since Aug 2025). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** SQS: largest SendMessageBatch request, the sum of its messages, in bytes; more fails `BatchRequestTooLong`. */
export const SQS_MAX_BATCH_BYTES = 1_048_576;
/** SNS: largest message and largest PublishBatch request, in bytes. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
export const SNS_MAX_BATCH_BYTES = 262_144;
/** SNS: a subject is 1–100 printable ASCII characters, no line breaks. */
export const SNS_MAX_SUBJECT_LENGTH = 100;
export const SNS_SUBJECT_PATTERN = /^[\x20-\x7e]{1,100}$/;
/** SQS SendMessageBatch and SNS PublishBatch: at most 10 entries. */
export const MAX_BATCH_ENTRIES = 10;

/** SQS and SNS: at most 10 message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;
/** Message attribute names: 1–256 characters of `[A-Za-z0-9_.-]`, no leading/trailing or double period. */
export const MAX_ATTRIBUTE_NAME_LENGTH = 256;
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
/** Prefixes AWS reserves for its own attribute names (case-insensitive). */
export const RESERVED_ATTRIBUTE_PREFIXES = ['aws.', 'amazon.'] as const;
/** Message attribute data type: `String`, `Number` or `Binary`, optionally with a `.custom` label, ≤ 256 chars. */
export const MAX_ATTRIBUTE_TYPE_LENGTH = 256;
/** A Number attribute: up to 38 significant digits, between -10^128 and 10^126. */
export const MAX_NUMBER_ATTRIBUTE_DIGITS = 38;

/** FIFO: MessageGroupId and MessageDeduplicationId are 1–128 characters of printable ASCII. */
export const MAX_FIFO_ID_LENGTH = 128;
export const FIFO_ID_PATTERN = /^[\x21-\x7e]+$/;
export const FIFO_SUFFIX = '.fifo';
/** SQS: DelaySeconds 0–900 per message (standard queues only). */
export const SQS_MAX_DELAY_SECONDS = 900;
/** SQS: a message's visibility can be set to 0–43,200 s (12 h). */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/**
 * AWS extended clients (Java, Python, .NET): the attribute that marks an offloaded body and holds its size,
 * the legacy name older Java clients wrote, and the pointer class names they put in the body.
 */
export const EXTENDED_PAYLOAD_SIZE_ATTRIBUTE = 'ExtendedPayloadSize';
export const LEGACY_EXTENDED_PAYLOAD_SIZE_ATTRIBUTE = 'SQSLargePayloadSize';
export const PAYLOAD_POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';
export const LEGACY_PAYLOAD_POINTER_CLASS = 'com.amazon.sqs.javamessaging.MessageS3Pointer';
