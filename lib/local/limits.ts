/**
 * Defaults and limits of the local runner, with where they come from.
 *
 * @module
 */
import { availableParallelism } from 'node:os';

/** Account and region of every local resource: the defaults of fauxqs and LocalStack. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** SQS: longest long poll (ReceiveMessage WaitTimeSeconds). */
export const SQS_MAX_WAIT_SECONDS = 20;

/** SQS queue names: 1–80 characters, `.fifo` included (AWS SQS quotas). */
export const MAX_QUEUE_NAME_LENGTH = 80;
/** SNS topic names: 1–256 characters (AWS SNS quotas). */
export const MAX_TOPIC_NAME_LENGTH = 256;
/** Lambda function names: 1–64 characters (AWS Lambda quotas). */
export const MAX_FUNCTION_NAME_LENGTH = 64;

/** Lambda's SQS event source: batch size when the template sets none. */
export const DEFAULT_BATCH_SIZE = 10;
/**
 * Concurrent invocations per event source mapping (and per producer function) when neither the mapping
 * (MaximumConcurrency) nor the function (reserved concurrency) caps it: twice the machine's cores, at most 10. AWS
 * scales to 1,250, but locally every environment is a thread on the same cores: on 2 cores, 10 per mapping ran a
 * 3-queue drain at 6.1–7.3k deliveries/s and 3 per mapping at 9k (bench P4). Flag: `--max-concurrency`.
 */
export const DEFAULT_LOCAL_CONCURRENCY = Math.max(2, Math.min(10, 2 * availableParallelism()));

/** Where `queuekit dev` writes outputs.json and the trace dump. */
export const STATE_DIR = '.queuekit';

// Lambda (AWS Lambda Developer Guide, quotas; checked 2026). Used by the AWS gateway's Invoke API.

/** Lambda: largest synchronous (`RequestResponse`) invocation payload, request and response, in bytes (6 MB). */
export const LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES = 6_291_456;
/** Lambda: the response limit as Lambda's `Function.ResponseSizeTooLarge` message states it. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556;
/** Lambda: largest asynchronous (`Event`) invocation payload, in bytes (1 MB since Oct 2025; was 256 KB). */
export const LAMBDA_ASYNC_PAYLOAD_LIMIT_BYTES = 1_048_576;
/** Lambda: `X-Amz-Log-Result` holds the last 4 KB of the invocation's log. */
export const LAMBDA_LOG_TAIL_BYTES = 4096;
/** Lambda: an asynchronous invocation that fails is retried twice more. */
export const LAMBDA_ASYNC_RETRIES = 2;
