/**
 * The reference app's message contracts, shared by the producer and its consumers. valibot implements the
 * Standard Schema interface and tree-shakes to a few kilobytes per bundle.
 */
import * as v from 'valibot';

/**
 * Demo hook for the local runner's scenarios and the tests: `transient-error` fails the first delivery and
 * succeeds on the retry; `poison` fails every time, so the message ends in its dead-letter queue.
 */
const Simulate = v.optional(v.picklist(['transient-error', 'poison']));

/** What a calling service sends through lambda:Invoke to SubmitJob. */
export const SubmitJobRequest = v.object({
  accountId: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  kind: v.picklist(['image', 'text']),
  prompt: v.pipe(v.string(), v.minLength(1), v.maxLength(100_000)),
  priority: v.optional(v.picklist(['high', 'normal']), 'normal'),
  jobId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  simulate: Simulate,
});
export type SubmitJobRequest = v.InferOutput<typeof SubmitJobRequest>;

/** A job on the jobs topic (inference, priority and audit queues). */
export const Job = v.object({
  jobId: v.string(),
  accountId: v.string(),
  kind: v.picklist(['image', 'text']),
  priority: v.picklist(['high', 'normal']),
  prompt: v.pipe(v.string(), v.minLength(1)),
  simulate: Simulate,
});
export type Job = v.InferOutput<typeof Job>;

/** A cost entry on the billing FIFO topic, grouped by account. */
export const BillingEntry = v.object({
  jobId: v.string(),
  accountId: v.string(),
  units: v.pipe(v.number(), v.integer(), v.minValue(0)),
  simulate: Simulate,
});
export type BillingEntry = v.InferOutput<typeof BillingEntry>;

/** Fails as the demo hook asks; see {@link Simulate}. */
export function simulateFailure(simulate: Job['simulate'], receiveCount: number, what: string): void {
  if (simulate === 'poison') throw new Error(`${what}: poison message (fails on every delivery)`);
  if (simulate === 'transient-error' && receiveCount === 1)
    throw new Error(`${what}: transient downstream error (first delivery only)`);
}
