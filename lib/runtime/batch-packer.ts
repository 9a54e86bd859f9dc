/**
 * Packs messages into SendMessageBatch / PublishBatch requests by count AND bytes, in input order.
 *
 * Greedy, in order: a batch closes when it holds the maximum number of entries or the next message would take
 * it over the byte limit. Input order is kept so FIFO groups stay in order across batches; with the byte limit
 * equal to the per-message limit, every valid message fits in some batch, so a request is never
 * `BatchRequestTooLong`.
 *
 * @module
 */

/** Anything with a size in bytes. */
export interface Sized {
  readonly sizeBytes: number;
}

/** Limits of one batch request. */
export interface BatchLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/**
 * Splits `items` into consecutive batches within `limits`. Throws a `RangeError` if one item alone exceeds
 * `maxBytes` (callers validate sizes first, so this is a bug guard).
 */
export function packBatches<T extends Sized>(items: readonly T[], limits: BatchLimits): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (item.sizeBytes > limits.maxBytes)
      throw new RangeError(`an entry of ${item.sizeBytes} bytes exceeds the batch limit of ${limits.maxBytes}`);
    if (current.length === limits.maxEntries || bytes + item.sizeBytes > limits.maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.sizeBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
