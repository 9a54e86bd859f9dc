/**
 * Defaults and limits of the local runner, with where they come from.
 *
 * @module
 */

/** Account and region of every local resource: the defaults of fauxqs and LocalStack. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** SQS queue names: 1–80 characters, `.fifo` included (AWS SQS quotas). */
export const MAX_QUEUE_NAME_LENGTH = 80;
/** SNS topic names: 1–256 characters (AWS SNS quotas). */
export const MAX_TOPIC_NAME_LENGTH = 256;
/** Lambda function names: 1–64 characters (AWS Lambda quotas). */
export const MAX_FUNCTION_NAME_LENGTH = 64;

/** Lambda's SQS event source: batch size when the template sets none. */
export const DEFAULT_BATCH_SIZE = 10;
/**
 * Concurrent invocations per function when neither the mapping (MaximumConcurrency) nor the function (reserved
 * concurrency) caps it. AWS scales to 1,250; a laptop does not need more than this. Flag: `--max-concurrency`.
 */
export const DEFAULT_LOCAL_CONCURRENCY = 10;

/** Where `queuekit dev` writes outputs.json and the trace dump. */
export const STATE_DIR = '.queuekit';
