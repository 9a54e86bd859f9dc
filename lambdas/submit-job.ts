import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { MessageProducer, type SendResult } from '../lib/runtime/index.js';
import { type BillingEntry, type Job, SubmitJobRequest } from './contracts.js';

/** The result a calling service gets back, per request. */
export type SubmitJobResult =
  | { readonly ok: true; readonly jobId: string; readonly jobMessageId: string; readonly billingMessageId: string }
  | { readonly ok: false; readonly error: 'InvalidRequest'; readonly message: string; readonly issues: string[] }
  | { readonly ok: false; readonly error: 'PublishFailed'; readonly message: string; readonly retryable: boolean };

const producer = new MessageProducer();
const JOBS_TOPIC = process.env.QUEUEKIT_TOPIC_JOBS_ARN;
const BILLING_TOPIC = process.env.QUEUEKIT_TOPIC_BILLING_ARN;

/**
 * Submits inference jobs: one request, or `{ requests: [...] }` for many. Each job fans out on the jobs topic
 * and its cost goes, in order per account, to the billing FIFO topic.
 */
export async function handler(event: unknown): Promise<SubmitJobResult | SubmitJobResult[]> {
  if (!JOBS_TOPIC || !BILLING_TOPIC)
    throw new Error('QUEUEKIT_TOPIC_JOBS_ARN and QUEUEKIT_TOPIC_BILLING_ARN must be set');
  const many = typeof event === 'object' && event !== null && Array.isArray((event as { requests?: unknown }).requests);
  const inputs: unknown[] = many ? (event as { requests: unknown[] }).requests : [event];

  const results: SubmitJobResult[] = new Array(inputs.length);
  const jobs: Job[] = [];
  const slots: number[] = [];
  inputs.forEach((input, i) => {
    const parsed = v.safeParse(SubmitJobRequest, input);
    if (!parsed.success) {
      const issues = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? '(request)'}: ${issue.message}`);
      results[i] = { ok: false, error: 'InvalidRequest', message: issues.join('; '), issues };
      return;
    }
    const { jobId, simulate, ...request } = parsed.output;
    jobs.push({ ...request, jobId: jobId ?? randomUUID(), ...(simulate ? { simulate } : {}) });
    slots.push(i);
  });

  const [published, billed] = await Promise.all([
    producer.publish(
      JOBS_TOPIC,
      jobs.map((job) => ({ body: job, attributes: { kind: job.kind, priority: job.priority } })),
    ),
    producer.publish(
      BILLING_TOPIC,
      jobs.map((job) => {
        const entry: BillingEntry = {
          jobId: job.jobId,
          accountId: job.accountId,
          units: Math.ceil(job.prompt.length / 100),
          ...(job.simulate ? { simulate: job.simulate } : {}),
        };
        return { body: entry, groupId: job.accountId, deduplicationId: job.jobId };
      }),
    ),
  ]);
  jobs.forEach((job, k) => {
    results[slots[k] as number] = outcome(job.jobId, published[k] as SendResult, billed[k] as SendResult);
  });
  return many ? results : (results[0] as SubmitJobResult);
}

function outcome(jobId: string, job: SendResult, billing: SendResult): SubmitJobResult {
  if (job.ok && billing.ok)
    return { ok: true, jobId, jobMessageId: job.messageId, billingMessageId: billing.messageId };
  const error = !job.ok ? job.error : !billing.ok ? billing.error : undefined;
  return {
    ok: false,
    error: 'PublishFailed',
    message: `job ${jobId}: ${error?.message}`,
    retryable: (error as { retryable?: boolean } | undefined)?.retryable ?? false,
  };
}
