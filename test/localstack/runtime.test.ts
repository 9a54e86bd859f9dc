/**
 * The runtime against LocalStack: the client factory's two LocalStack targets (AWS_ENDPOINT_URL, LOCALSTACK_HOST)
 * with real round trips, S3 offload on LocalStack's S3 (path-style), and the reference handlers on the deployed
 * QueuekitMessaging stack: SubmitJob publishes to the deployed (KMS-encrypted) topics, InferenceWorker consumes
 * from the deployed queue.
 *
 * Needs a LocalStack at AWS_ENDPOINT_URL (default http://127.0.0.1:4566) with QueuekitMessaging deployed; it fails
 * loudly when there is none.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  clientConfig,
  destroyClients,
  MessageProducer,
  processBatch,
  resolveTarget,
  s3Client,
  snsClient,
  sqsClient,
} from '../../lib/runtime/index.js';
import { deployedResources } from '../support/deployed-stack.js';
import { EmulatorResources } from '../support/emulator-resources.js';
import { pollOnce } from '../support/lambda-poller.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { toSqsRecord } from '../support/sqs-records.js';

const STACK = 'QueuekitMessaging';
const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
const assembly = process.env.QUEUEKIT_ASSEMBLY ?? 'cdk.localstack.out';
let resource: (path: string) => string;

beforeAll(async () => {
  vi.stubEnv('AWS_ENDPOINT_URL', endpoint);
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  const cfn = new CloudFormationClient(clientConfig());
  resource = await deployedResources(cfn, STACK, assembly, endpoint);
  cfn.destroy();
});

afterAll(() => {
  destroyClients();
  vi.unstubAllEnvs();
});

describe('client factory targets on LocalStack', () => {
  it('AWS_ENDPOINT_URL: producer → queue → consumer, with a 2 MB body offloaded to LocalStack S3', async () => {
    expect(resolveTarget()).toEqual({ kind: 'endpoint', endpoint, source: 'AWS_ENDPOINT_URL' });
    const resources = new EmulatorResources(sqsClient(), snsClient());
    const queue = await resources.createQueue('queuekit-runtime-env');
    await s3Client().send(new CreateBucketCommand({ Bucket: 'queuekit-runtime-payloads' }));
    const producer = new MessageProducer({ largePayloads: { bucket: 'queuekit-runtime-payloads' } });
    const big = { blob: 'b'.repeat(2_000_000) };
    const results = await producer.send(queue.url, [{ body: { n: 1 } }, { body: big, attributes: { size: 'big' } }]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const messages = await resources.receiveExactly(queue, 2);
    const seen: { n?: number; blobLength?: number; bucket?: string }[] = [];
    const response = await processBatch<{ n?: number; blob?: string }>(
      { Records: messages.map((m) => toSqsRecord(m, queue, 'us-east-1')) },
      ({ body, payload }) =>
        void seen.push(
          body.blob ? { blobLength: body.blob.length, ...(payload ? { bucket: payload.bucket } : {}) } : { n: body.n },
        ),
      { logger: new RecordingLogger() },
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(seen).toEqual(
      expect.arrayContaining([{ n: 1 }, { blobLength: 2_000_000, bucket: 'queuekit-runtime-payloads' }]),
    );
  });

  it('LOCALSTACK_HOST: publish → subscribed queue → consumer reads the envelope', async () => {
    const env = { LOCALSTACK_HOST: new URL(endpoint).host, AWS_ACCESS_KEY_ID: '', AWS_PROFILE: '' };
    expect(resolveTarget({ env })).toEqual({ kind: 'localstack', endpoint, source: 'LOCALSTACK_HOST' });
    const resources = new EmulatorResources(sqsClient({ env }), snsClient({ env }));
    const topic = await resources.createTopic('queuekit-runtime-host');
    const queue = await resources.createQueue('queuekit-runtime-host-q');
    await resources.subscribeQueue(topic, queue);
    const sent = await new MessageProducer({ clients: { env } }).publishOne(topic, {
      body: { hello: 'localstack' },
      attributes: { kind: 'greeting' },
    });
    const result = await pollOnce(resources, queue, (event) =>
      processBatch(
        event,
        (m) => {
          expect(m.source).toBe('sns');
          expect(m.snsMessageId).toBe(sent.messageId);
          expect(m.body).toEqual({ hello: 'localstack' });
          expect(m.attributes.kind).toBe('greeting');
        },
        { logger: new RecordingLogger() },
      ),
    );
    expect(result).toEqual({ received: 1, failed: [], threw: false });
  });
});

describe('reference handlers on the deployed messaging stack', () => {
  it('SubmitJob publishes to the KMS-encrypted topics; InferenceWorker consumes the job from the deployed queue', async () => {
    for (const path of ['InferenceJobs/Queue', 'AuditLog/Queue', 'PriorityJobs/Queue']) {
      await sqsClient().send(new PurgeQueueCommand({ QueueUrl: resource(path) }));
    }
    vi.stubEnv('QUEUEKIT_TOPIC_JOBS_ARN', resource('JobEvents/Topic'));
    vi.stubEnv('QUEUEKIT_TOPIC_BILLING_ARN', resource('BillingEvents/Topic'));
    const { handler: submitJob } = await import('../../lambdas/submit-job.js');
    const { handler: inferenceWorker } = await import('../../lambdas/inference-worker.js');
    const result = await submitJob({ accountId: 'acct-ls', kind: 'image', prompt: 'a lighthouse', jobId: 'ls-1' });
    expect(result).toMatchObject({ ok: true, jobId: 'ls-1' });

    const resources = new EmulatorResources(sqsClient(), snsClient());
    const inference = { url: resource('InferenceJobs/Queue'), arn: '' };
    inference.arn = `arn:aws:sqs:us-east-1:000000000000:${inference.url.split('/').pop()}`;
    let received = 0;
    for (let i = 0; i < 10 && received === 0; i++) {
      const poll = await pollOnce(resources, inference, inferenceWorker);
      expect(poll.failed).toEqual([]);
      received += poll.received;
    }
    expect(received).toBe(1);
  });
});
