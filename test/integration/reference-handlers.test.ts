/**
 * The reference app's handlers (lambdas/) on the reference topology, recreated on fauxqs: SubmitJob invoked with
 * requests, the consumers fed by a minimal event source mapping (receive → invoke → delete successes). A poison
 * message must end in its DLQ and a transient failure must succeed on retry. The handlers build their clients
 * with the runtime's factory from the environment (AWS_ENDPOINT_URL), exactly as under LocalStack.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SubmitJobResult } from '../../lambdas/submit-job.js';
import { destroyClients, snsClient, sqsClient } from '../../lib/runtime/index.js';
import { EmulatorResources, type TestQueue } from '../support/emulator-resources.js';
import { type EmbeddedEmulator, startEmbeddedEmulator } from '../support/fauxqs-server.js';
import { pollOnce } from '../support/lambda-poller.js';

type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type Topology = Awaited<ReturnType<typeof createTopology>>;

let emulator: EmbeddedEmulator;
let resources: EmulatorResources;
let topology: Topology;
let submitJob: (event: unknown) => Promise<SubmitJobResult | SubmitJobResult[]>;
const MAX_RECEIVE_COUNT = 5;

/** The reference app's messaging stack (bin/messaging-stack.ts), minus keys and alarms. */
async function createTopology() {
  const jobsTopic = await resources.createTopic('JobEvents');
  const billingTopic = await resources.createTopic('BillingEvents.fifo', {
    FifoTopic: 'true',
    ContentBasedDeduplication: 'true',
  });
  const inference = await resources.createQueueWithDlq('InferenceJobs', MAX_RECEIVE_COUNT, { VisibilityTimeout: '2' });
  const priority = await resources.createQueueWithDlq('PriorityJobs', MAX_RECEIVE_COUNT, { VisibilityTimeout: '2' });
  const audit = await resources.createQueueWithDlq('AuditLog', MAX_RECEIVE_COUNT, { VisibilityTimeout: '2' });
  const ledger = await resources.createQueueWithDlq('BillingLedger.fifo', MAX_RECEIVE_COUNT, {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'true',
    VisibilityTimeout: '1',
  });
  await resources.subscribeQueue(jobsTopic, inference.queue, {
    FilterPolicy: JSON.stringify({ kind: ['image', 'text'] }),
  });
  await resources.subscribeQueue(jobsTopic, priority.queue, {
    FilterPolicy: JSON.stringify({ priority: ['high'] }),
    FilterPolicyScope: 'MessageBody',
  });
  await resources.subscribeQueue(jobsTopic, audit.queue, { RawMessageDelivery: 'true' });
  await resources.subscribeQueue(billingTopic, ledger.queue, { RawMessageDelivery: 'true' });
  return { jobsTopic, billingTopic, inference, priority, audit, ledger };
}

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  vi.stubEnv('AWS_ENDPOINT_URL', emulator.endpoint);
  vi.stubEnv('AWS_REGION', emulator.region);
  vi.stubEnv('AWS_PROFILE', '');
  vi.stubEnv('AWS_ACCESS_KEY_ID', '');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  // Retry backoff shrunk 100×, as the local runner's --time-scale does: 10 s → 0.1 s.
  vi.stubEnv('QUEUEKIT_TIME_SCALE', '0.01');
  resources = new EmulatorResources(sqsClient(), snsClient());
  topology = await createTopology();
  vi.stubEnv('QUEUEKIT_TOPIC_JOBS_ARN', topology.jobsTopic);
  vi.stubEnv('QUEUEKIT_TOPIC_BILLING_ARN', topology.billingTopic);
  ({ handler: submitJob } = await import('../../lambdas/submit-job.js'));
});

afterAll(async () => {
  destroyClients();
  vi.unstubAllEnvs();
  await emulator?.stop();
});

/**
 * Polls `queue` with `handler` until `done()` or `rounds` polls; returns what each message id went through.
 */
async function drive(queue: TestQueue, handler: BatchHandler, done: () => Promise<boolean>, rounds = 40) {
  let failures = 0;
  for (let round = 0; round < rounds; round++) {
    const result = await pollOnce(resources, queue, handler);
    failures += result.failed.length;
    if (result.received === 0 && (await done())) return { failures };
  }
  throw new Error(`${queue.arn} did not settle within ${rounds} polls`);
}

const bodiesOf = async (queue: TestQueue) =>
  (await resources.receiveOnce(queue, 10, 30)).map((m) => JSON.parse(m.Body ?? '{}') as Record<string, unknown>);

describe('SubmitJob (invoked like lambda:Invoke)', () => {
  it('publishes a valid request to the jobs topic and, ordered per account, to the billing FIFO topic', async () => {
    const result = await submitJob({ accountId: 'acct-1', kind: 'text', prompt: 'summarise this', jobId: 'j-valid' });
    expect(result).toMatchObject({ ok: true, jobId: 'j-valid' });
    const audit = await resources.receiveExactly(topology.audit.queue, 1);
    expect(JSON.parse(audit[0]?.Body ?? '')).toEqual({
      accountId: 'acct-1',
      kind: 'text',
      prompt: 'summarise this',
      priority: 'normal',
      jobId: 'j-valid',
    });
    expect(audit[0]?.MessageId).toBeDefined();
    const ledger = await resources.receiveExactly(topology.ledger.queue, 1);
    expect(JSON.parse(ledger[0]?.Body ?? '')).toEqual({ jobId: 'j-valid', accountId: 'acct-1', units: 1 });
    expect(ledger[0]?.Attributes?.MessageGroupId).toBe('acct-1');
    await resources.receiveExactly(topology.inference.queue, 1);
  });

  it('returns a typed InvalidRequest error naming each bad field, and publishes nothing', async () => {
    const result = await submitJob({ accountId: '', kind: 'video' });
    expect(result).toMatchObject({ ok: false, error: 'InvalidRequest' });
    const issues = (result as { issues: string[] }).issues.join(' | ');
    expect(issues).toContain('accountId');
    expect(issues).toContain('kind');
    expect(issues).toContain('prompt');
    await resources.expectNoMessage(topology.audit.queue);
  });

  it('takes many requests at once and answers each in order', async () => {
    const results = (await submitJob({
      requests: [
        { accountId: 'acct-2', kind: 'image', prompt: 'a cat', jobId: 'm-1' },
        { accountId: 'acct-2', kind: 'nope', prompt: 'x' },
        { accountId: 'acct-3', kind: 'text', prompt: 'hello', jobId: 'm-3', priority: 'high' },
      ],
    })) as SubmitJobResult[];
    expect(results.map((r) => (r.ok ? r.jobId : r.error))).toEqual(['m-1', 'InvalidRequest', 'm-3']);
    await resources.receiveExactly(topology.audit.queue, 2);
    const priority = await resources.receiveExactly(topology.priority.queue, 1);
    expect(JSON.parse(JSON.parse(priority[0]?.Body ?? '').Message).jobId).toBe('m-3');
    await resources.receiveExactly(topology.inference.queue, 2);
    await resources.receiveExactly(topology.ledger.queue, 2);
  });
});

describe('consumers: poison → DLQ, transient → success on retry', () => {
  it('InferenceWorker: a poison job ends in the DLQ after 5 receives; a transient one succeeds on its second', async () => {
    const { handler } = await import('../../lambdas/inference-worker.js');
    for (const [jobId, simulate] of [
      ['ok', undefined],
      ['flaky', 'transient-error'],
      ['poison', 'poison'],
    ] as const)
      await submitJob({ accountId: 'acct-9', kind: 'image', prompt: 'p', jobId, ...(simulate ? { simulate } : {}) });
    let dead: Record<string, unknown>[] = [];
    const { failures } = await drive(topology.inference.queue, handler, async () => {
      dead = dead.length > 0 ? dead : await bodiesOf(topology.inference.dlq);
      return dead.length > 0;
    });
    expect(dead.map((envelope) => JSON.parse(envelope.Message as string).jobId)).toEqual(['poison']);
    // 1 transient failure + 5 poison failures (the 6th receive redrives it instead of delivering it).
    expect(failures).toBe(1 + MAX_RECEIVE_COUNT);
    await resources.expectNoMessage(topology.inference.queue);
    // drain the other subscribers of these jobs
    await resources.receiveExactly(topology.audit.queue, 3);
    await resources.receiveExactly(topology.ledger.queue, 3, 20);
  });

  it('LedgerWriter (FIFO): a poison entry goes to the FIFO DLQ and the rest of its account follows in order', async () => {
    const { handler } = await import('../../lambdas/ledger-writer.js');
    for (const [jobId, accountId, simulate] of [
      ['l-1', 'acct-a', undefined],
      ['l-2', 'acct-a', 'poison'],
      ['l-3', 'acct-a', undefined],
      ['l-4', 'acct-b', 'transient-error'],
      ['l-5', 'acct-b', undefined],
    ] as const)
      await submitJob({ accountId, kind: 'text', prompt: 'p', jobId, ...(simulate ? { simulate } : {}) });
    const ran: string[] = [];
    const recording: BatchHandler = async (event, context) => {
      const response = await handler(event, context);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const r of event.Records)
        if (!failed.has(r.messageId)) ran.push((JSON.parse(r.body) as { jobId: string }).jobId);
      return response;
    };
    let dead: Record<string, unknown>[] = [];
    await drive(
      topology.ledger.queue,
      recording,
      async () => {
        dead = dead.length > 0 ? dead : await bodiesOf(topology.ledger.dlq);
        return dead.length > 0 && ran.length >= 4;
      },
      80,
    );
    expect(dead.map((entry) => entry.jobId)).toEqual(['l-2']);
    expect(ran.filter((id) => ['l-1', 'l-3'].includes(id))).toEqual(['l-1', 'l-3']);
    expect(ran.filter((id) => ['l-4', 'l-5'].includes(id))).toEqual(['l-4', 'l-5']);
    await resources.receiveExactly(topology.audit.queue, 5);
    await resources.receiveExactly(topology.inference.queue, 5);
  });

  it('PriorityNotifier and AuditWriter consume what their subscriptions deliver', async () => {
    const priority = await import('../../lambdas/priority-notifier.js');
    const audit = await import('../../lambdas/audit-writer.js');
    await submitJob({ accountId: 'acct-p', kind: 'text', prompt: 'urgent', jobId: 'p-1', priority: 'high' });
    await submitJob({ accountId: 'acct-p', kind: 'text', prompt: 'later', jobId: 'p-2' });
    const p = await pollOnce(resources, topology.priority.queue, priority.handler);
    expect(p).toEqual({ received: 1, failed: [], threw: false });
    let audited = 0;
    for (let i = 0; i < 5 && audited < 2; i++)
      audited += (await pollOnce(resources, topology.audit.queue, audit.handler)).received;
    expect(audited).toBe(2);
    await resources.expectNoMessage(topology.audit.queue);
  });
});
