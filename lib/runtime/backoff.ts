/**
 * Backoff with jitter, for the producer's retries of failed entries and the consumer's retry delays.
 *
 * Our own five lines rather than a library: the SDK's retry strategy (`@smithy/util-retry`) is only reachable
 * through `@aws-sdk/*`, which Lambda provides and our bundles keep external, and `p-retry`/`exponential-backoff`
 * wrap a whole function call, while we retry a shrinking subset of batch entries or set a message's visibility.
 *
 * @module
 */
import { ChangeMessageVisibilityBatchCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MAX_BATCH_ENTRIES, SQS_MAX_VISIBILITY_SECONDS } from './limits.js';

/**
 * Exponential backoff with "equal jitter": the delay for attempt `n` (1-based) is uniformly random between half
 * and all of `min(max, base × 2^(n-1))`, so retries spread out but still grow.
 */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Consumer retry backoff defaults, in seconds. */
export const RETRY_BACKOFF_DEFAULTS = { baseSeconds: 5, maxSeconds: 900 } as const;

/** Consumer retry backoff: how long a failed message stays invisible before its next try. */
export interface RetryBackoffOptions {
  /** Delay after the first failure, in seconds. @default 5 */
  readonly baseSeconds?: number;
  /** Longest delay, in seconds (≤ 43,200, SQS's visibility limit). @default 900 */
  readonly maxSeconds?: number;
}

/** A record to delay: its receipt handle and how many times it has been received. */
export interface DelayedRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly receiveCount: number;
}

/**
 * `QUEUEKIT_TIME_SCALE` (e.g. `0.05`): the local runner shrinks every delay by this factor so retries and DLQ
 * moves take seconds on a laptop. Unset (or invalid) in AWS, where it is 1.
 */
export function timeScale(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const scale = Number(env.QUEUEKIT_TIME_SCALE);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

const queueUrls = new WeakMap<SQSClient, Map<string, Promise<string>>>();

/** The queue URL for an event source ARN, looked up once per client (works on AWS, LocalStack and fauxqs). */
export function queueUrlOf(sqs: SQSClient, eventSourceArn: string): Promise<string> {
  let urls = queueUrls.get(sqs);
  if (!urls) {
    urls = new Map();
    queueUrls.set(sqs, urls);
  }
  const cache = urls;
  let url = cache.get(eventSourceArn);
  if (!url) {
    const [, , , , account, name] = eventSourceArn.split(':');
    url = sqs
      .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
      .then((r) => r.QueueUrl ?? Promise.reject(new Error(`no QueueUrl for ${eventSourceArn}`)));
    url.catch(() => cache.delete(eventSourceArn));
    cache.set(eventSourceArn, url);
  }
  return url;
}

/**
 * Sets each failed record's visibility from its receive count, so it comes back after the backoff delay
 * instead of the queue's fixed visibility timeout. Returns the records whose visibility could not be changed
 * (they still come back, at the queue's visibility timeout).
 */
export async function delayRetries(
  sqs: SQSClient,
  eventSourceArn: string,
  records: readonly DelayedRecord[],
  options: RetryBackoffOptions,
): Promise<{ readonly delayed: number; readonly failed: readonly string[] }> {
  const base = options.baseSeconds ?? RETRY_BACKOFF_DEFAULTS.baseSeconds;
  const max = Math.min(options.maxSeconds ?? RETRY_BACKOFF_DEFAULTS.maxSeconds, SQS_MAX_VISIBILITY_SECONDS);
  const scale = timeScale();
  const queueUrl = await queueUrlOf(sqs, eventSourceArn);
  const failed: string[] = [];
  let delayed = 0;
  for (let i = 0; i < records.length; i += MAX_BATCH_ENTRIES) {
    const chunk = records.slice(i, i + MAX_BATCH_ENTRIES);
    try {
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((r, j) => ({
            Id: String(j),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: Math.min(max, Math.round(backoffDelay(r.receiveCount, base, max) * scale)),
          })),
        }),
      );
      delayed += result.Successful?.length ?? 0;
      for (const f of result.Failed ?? []) failed.push(chunk[Number(f.Id)]?.messageId ?? f.Id ?? '?');
    } catch {
      failed.push(...chunk.map((r) => r.messageId));
    }
  }
  return { delayed, failed };
}
