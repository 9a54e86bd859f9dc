/**
 * A minimal stand-in for Lambda's SQS event source mapping, for integration tests of handlers: receive a batch,
 * invoke the handler with a Lambda-shaped event and context, delete what succeeded. A thrown error fails the whole
 * batch (nothing deleted), as in AWS. The local runner (lib/local) is the full version; this keeps handler tests
 * independent of it.
 *
 * @module
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { EmulatorResources, TestQueue } from './emulator-resources.js';
import { toSqsRecord } from './sqs-records.js';

/** What one poll did. */
export interface PollResult {
  readonly received: number;
  readonly failed: readonly string[];
  /** The handler threw: the whole batch goes back. */
  readonly threw: boolean;
}

/** A Lambda context whose deadline is `timeoutMs` from now. */
export function lambdaContext(timeoutMs = 30_000, functionName = 'test-function'): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** One receive → invoke → delete round. */
export async function pollOnce(
  resources: EmulatorResources,
  queue: TestQueue,
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
  options: { readonly batchSize?: number; readonly region?: string } = {},
): Promise<PollResult> {
  const messages = await resources.receiveOnce(queue, options.batchSize ?? 10);
  if (messages.length === 0) return { received: 0, failed: [], threw: false };
  const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, queue, options.region ?? 'us-east-1')) };
  let response: SQSBatchResponse;
  try {
    response = await handler(event, lambdaContext());
  } catch {
    return { received: messages.length, failed: messages.map((m) => m.MessageId ?? ''), threw: true };
  }
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  await resources.deleteAll(
    queue,
    messages.filter((m) => !failed.has(m.MessageId ?? '')),
  );
  return { received: messages.length, failed: [...failed], threw: false };
}
