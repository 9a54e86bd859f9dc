import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

/** What a calling service sends through lambda:Invoke. */
interface SubmitJobRequest {
  readonly accountId: string;
  readonly kind: 'image' | 'text';
  readonly prompt: string;
  readonly priority?: 'high' | 'normal';
  readonly jobId?: string;
}

type SubmitJobResult =
  | { readonly ok: true; readonly jobId: string; readonly jobMessageId: string; readonly billingMessageId: string }
  | { readonly ok: false; readonly error: 'InvalidRequest'; readonly message: string };

const sns = new SNSClient({});
const JOBS_TOPIC = process.env.QUEUEKIT_TOPIC_JOBS_ARN;
const BILLING_TOPIC = process.env.QUEUEKIT_TOPIC_BILLING_ARN;

function validate(input: unknown): SubmitJobRequest | string {
  const r = input as Partial<SubmitJobRequest> | null;
  if (!r || typeof r !== 'object') return 'request must be a JSON object';
  if (typeof r.accountId !== 'string' || r.accountId === '') return 'accountId (string) is required';
  if (r.kind !== 'image' && r.kind !== 'text') return "kind must be 'image' or 'text'";
  if (typeof r.prompt !== 'string' || r.prompt === '') return 'prompt (string) is required';
  if (r.priority !== undefined && r.priority !== 'high' && r.priority !== 'normal')
    return "priority must be 'high' or 'normal'";
  return r as SubmitJobRequest;
}

/** Submits an inference job: fans it out on the jobs topic and records its cost, in order per account, on the billing topic. */
export async function handler(event: unknown): Promise<SubmitJobResult> {
  const request = validate(event);
  if (typeof request === 'string') return { ok: false, error: 'InvalidRequest', message: request };
  if (!JOBS_TOPIC || !BILLING_TOPIC)
    throw new Error('QUEUEKIT_TOPIC_JOBS_ARN and QUEUEKIT_TOPIC_BILLING_ARN must be set');
  const jobId = request.jobId ?? randomUUID();
  const job = {
    jobId,
    accountId: request.accountId,
    kind: request.kind,
    priority: request.priority ?? 'normal',
    prompt: request.prompt,
  };
  const [jobs, billing] = await Promise.all([
    sns.send(
      new PublishCommand({
        TopicArn: JOBS_TOPIC,
        Message: JSON.stringify(job),
        MessageAttributes: { kind: { DataType: 'String', StringValue: job.kind } },
      }),
    ),
    sns.send(
      new PublishCommand({
        TopicArn: BILLING_TOPIC,
        Message: JSON.stringify({ jobId, accountId: job.accountId, units: Math.ceil(job.prompt.length / 100) }),
        MessageGroupId: job.accountId,
        MessageDeduplicationId: jobId,
      }),
    ),
  ]);
  return { ok: true, jobId, jobMessageId: jobs.MessageId ?? '', billingMessageId: billing.MessageId ?? '' };
}
