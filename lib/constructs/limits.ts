/**
 * AWS quotas and recommendations that the define plane (constructs and topology rules) enforces.
 *
 * One place for every number: constructs and rules import from here, never repeat a literal.
 * Sources: Amazon SQS Developer Guide (quotas, FIFO, DLQ), Amazon SNS Developer Guide (quotas, filter
 * policies, FIFO topics), AWS Lambda Developer Guide (SQS event source), checked 2026.
 */

/** SQS: largest message, body + attributes (raised from 256 KiB in Aug 2025). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** SQS: smallest configurable MaximumMessageSize. */
export const SQS_MIN_MESSAGE_BYTES = 1_024;
/** SQS: queue names are 1–80 characters of `[A-Za-z0-9_-]`, plus `.fifo` for FIFO queues (counted in the 80). */
export const SQS_QUEUE_NAME_MAX_LENGTH = 80;
export const SQS_QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]+(\.fifo)?$/;
export const FIFO_SUFFIX = '.fifo';
/** SQS: DelaySeconds 0–900. */
export const SQS_MAX_DELAY_SECONDS = 900;
/** SQS: MessageRetentionPeriod 60 s – 14 days; AWS default 4 days. */
export const SQS_MIN_RETENTION_SECONDS = 60;
export const SQS_MAX_RETENTION_SECONDS = 1_209_600;
export const SQS_DEFAULT_RETENTION_SECONDS = 345_600;
/** SQS: VisibilityTimeout 0–43,200 s (12 h); AWS default 30 s. */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;
export const SQS_DEFAULT_VISIBILITY_SECONDS = 30;
/** SQS: ReceiveMessageWaitTimeSeconds 0–20. */
export const SQS_MAX_WAIT_SECONDS = 20;
/** SQS redrive: maxReceiveCount 1–1,000. */
export const SQS_MAX_RECEIVE_COUNT = 1_000;

/** SNS: largest message; a fan-out through SNS is capped here whatever the queue allows. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
/** SNS: topic names are 1–256 characters of `[A-Za-z0-9_-]`, plus `.fifo` for FIFO topics. */
export const SNS_TOPIC_NAME_MAX_LENGTH = 256;
export const SNS_TOPIC_NAME_PATTERN = /^[A-Za-z0-9_-]+(\.fifo)?$/;
/** SNS filter policy: at most 5 keys and 150 value combinations. */
export const SNS_FILTER_POLICY_MAX_KEYS = 5;
export const SNS_FILTER_POLICY_MAX_COMBINATIONS = 150;

/** Lambda SQS event source: batch size limits. */
export const LAMBDA_FIFO_MAX_BATCH_SIZE = 10;
export const LAMBDA_STANDARD_MAX_BATCH_SIZE = 10_000;
/** Lambda SQS event source: a standard batch larger than this needs a batching window ≥ 1 s. */
export const LAMBDA_UNWINDOWED_MAX_BATCH_SIZE = 10;
export const LAMBDA_DEFAULT_BATCH_SIZE = 10;
export const LAMBDA_MAX_BATCHING_WINDOW_SECONDS = 300;
/** Lambda SQS event source: MaximumConcurrency 2–1,000. */
export const LAMBDA_MIN_MAX_CONCURRENCY = 2;
export const LAMBDA_MAX_MAX_CONCURRENCY = 1_000;
/** Lambda: function timeout default 3 s, maximum 900 s. */
export const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** AWS guidance: queue visibility ≥ this × function timeout (+ batching window) for a Lambda consumer. */
export const RECOMMENDED_VISIBILITY_TIMEOUT_FACTOR = 6;
/** AWS guidance: maxReceiveCount ≥ 5 for a Lambda consumer (throttles also count as receives). */
export const RECOMMENDED_MIN_RECEIVE_COUNT = 5;

/** The AWS-managed SQS key: SNS cannot use it, so deliveries into queues encrypted with it are dropped. */
export const AWS_MANAGED_SQS_KEY_ALIAS = 'alias/aws/sqs';
