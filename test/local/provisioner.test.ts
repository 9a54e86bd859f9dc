/**
 * The provisioner against a real fauxqs (in-process, loopback only) through the real SDK: queue attributes under a
 * time scale, creating queues (standard, FIFO, with a DLQ), topics, SQS subscriptions and buckets, and re-running on
 * the same server (updates attributes, reuses the subscription) instead of failing.
 */
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalQueue, LocalSubscription, LocalTopic } from '../../lib/local/app-model.js';
import { ProvisionError } from '../../lib/local/errors.js';
import { createProvisioner, type Provisioner, scaledQueueAttributes } from '../../lib/local/provisioner.js';
import {
  type EmbeddedEmulator,
  s3ClientConfig,
  sdkClientConfig,
  startEmbeddedEmulator,
} from '../support/fauxqs-server.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

describe('scaledQueueAttributes', () => {
  it('scales the visibility timeout up to whole seconds, never below 1', () => {
    expect(scaledQueueAttributes({ VisibilityTimeout: '30' }, 0.1)).toEqual({ VisibilityTimeout: '3' });
    expect(scaledQueueAttributes({ VisibilityTimeout: '30' }, 0.05)).toEqual({ VisibilityTimeout: '2' });
    expect(scaledQueueAttributes({ VisibilityTimeout: '25' }, 0.1)).toEqual({ VisibilityTimeout: '3' });
    expect(scaledQueueAttributes({ VisibilityTimeout: '5' }, 0.01)).toEqual({ VisibilityTimeout: '1' });
    expect(scaledQueueAttributes({ VisibilityTimeout: '0' }, 0.5)).toEqual({ VisibilityTimeout: '1' });
    expect(scaledQueueAttributes({ VisibilityTimeout: '30' }, 2)).toEqual({ VisibilityTimeout: '60' });
  });

  it('rounds the delivery delay and caps it at 900 s', () => {
    expect(scaledQueueAttributes({ DelaySeconds: '10' }, 0.1)).toEqual({ DelaySeconds: '1' });
    expect(scaledQueueAttributes({ DelaySeconds: '14' }, 0.1)).toEqual({ DelaySeconds: '1' });
    expect(scaledQueueAttributes({ DelaySeconds: '15' }, 0.1)).toEqual({ DelaySeconds: '2' });
    expect(scaledQueueAttributes({ DelaySeconds: '4' }, 0.1)).toEqual({ DelaySeconds: '0' });
    expect(scaledQueueAttributes({ DelaySeconds: '600' }, 2)).toEqual({ DelaySeconds: '900' });
    expect(scaledQueueAttributes({ DelaySeconds: '900' }, 1)).toEqual({ DelaySeconds: '900' });
  });

  it('leaves every other attribute alone, and the input unchanged', () => {
    const attributes = {
      VisibilityTimeout: '30',
      DelaySeconds: '10',
      MessageRetentionPeriod: '345600',
      ReceiveMessageWaitTimeSeconds: '20',
      MaximumMessageSize: '262144',
      FifoQueue: 'true',
      RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}',
    };
    const copy = { ...attributes };
    expect(scaledQueueAttributes(attributes, 0.1)).toEqual({
      ...attributes,
      VisibilityTimeout: '3',
      DelaySeconds: '1',
    });
    expect(attributes).toEqual(copy);
    expect(scaledQueueAttributes({}, 0.1)).toEqual({});
    expect(scaledQueueAttributes(attributes, 1)).toEqual(attributes);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const element = (name: string) => ({
  logicalId: name.replace(/\W/g, ''),
  stackName: 'Prov',
  path: `Prov/${name}`,
  displayName: name,
});

function queue(name: string, attributes: Record<string, string> = {}, deadLetterArn?: string): LocalQueue {
  const arn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
  return {
    ...element(name),
    name,
    arn,
    url: `http://localhost/${ACCOUNT}/${name}`,
    fifo: name.endsWith('.fifo'),
    attributes: {
      ...attributes,
      ...(deadLetterArn && {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: 3 }),
      }),
    },
    deadLetterFor: [],
    ...(deadLetterArn && { deadLetter: { arn: deadLetterArn, maxReceiveCount: 3 } }),
  };
}

function topic(name: string, attributes: Record<string, string> = {}): LocalTopic {
  return {
    ...element(name),
    name,
    arn: `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`,
    fifo: name.endsWith('.fifo'),
    attributes,
  };
}

function subscription(
  from: LocalTopic,
  to: LocalQueue,
  opts: Partial<
    Pick<LocalSubscription, 'rawMessageDelivery' | 'filterPolicy' | 'filterPolicyScope' | 'redriveDeadLetterArn'>
  > = {},
): LocalSubscription {
  return {
    ...element(`${from.name}-${to.name}-sub`),
    topicArn: from.arn,
    queueArn: to.arn,
    rawMessageDelivery: opts.rawMessageDelivery ?? false,
    filterPolicyScope: opts.filterPolicyScope ?? 'MessageAttributes',
    ...(opts.filterPolicy && { filterPolicy: opts.filterPolicy }),
    ...(opts.redriveDeadLetterArn && { redriveDeadLetterArn: opts.redriveDeadLetterArn }),
  };
}

let emulator: EmbeddedEmulator;
let sqs: SQSClient;
let sns: SNSClient;
let s3: S3Client;
const provisioners: Provisioner[] = [];

function provisioner(options: { timeScale?: number; queueUrlsFromEndpoint?: boolean } = {}): Provisioner {
  const p = createProvisioner({ endpoint: emulator.endpoint, region: REGION, ...options });
  provisioners.push(p);
  return p;
}

async function queueAttributes(url: string): Promise<Record<string, string>> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return Attributes ?? {};
}

async function subscriptionsOf(topicArn: string) {
  const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
  return Subscriptions ?? [];
}

async function subscriptionAttributes(arn: string): Promise<Record<string, string>> {
  const { Attributes } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: arn }));
  return Attributes ?? {};
}

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  sqs = new SQSClient(sdkClientConfig(emulator.endpoint));
  sns = new SNSClient(sdkClientConfig(emulator.endpoint));
  s3 = new S3Client(s3ClientConfig(emulator.endpoint));
});

afterAll(async () => {
  for (const p of provisioners) p.destroy();
  sqs?.destroy();
  sns?.destroy();
  s3?.destroy();
  await emulator?.stop();
});

describe('createProvisioner on fauxqs', () => {
  it('creates a queue with its attributes scaled, and returns the URL the target gives', async () => {
    const q = queue('prov-jobs', { VisibilityTimeout: '30', DelaySeconds: '20', MessageRetentionPeriod: '345600' });
    const url = await provisioner({ timeScale: 0.1 }).queue(q);
    expect(url).toMatch(/\/000000000000\/prov-jobs$/);
    expect(await queueAttributes(url)).toMatchObject({
      VisibilityTimeout: '3',
      DelaySeconds: '2',
      MessageRetentionPeriod: '345600',
      QueueArn: q.arn,
    });
  });

  it('writes queue URLs from the endpoint when asked', async () => {
    const q = queue('prov-endpoint-url');
    const url = await provisioner({ queueUrlsFromEndpoint: true }).queue(q);
    expect(url).toBe(`${emulator.endpoint}/${ACCOUNT}/prov-endpoint-url`);
    expect(await queueAttributes(url)).toMatchObject({ QueueArn: q.arn });
  });

  it('creates a DLQ and a FIFO queue that redrives to it', async () => {
    const p = provisioner();
    const dlq = queue('prov-orders-dlq.fifo', { FifoQueue: 'true' });
    await p.queue(dlq);
    const url = await p.queue(
      queue('prov-orders.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' }, dlq.arn),
    );
    const attributes = await queueAttributes(url);
    expect(attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    expect(JSON.parse(attributes.RedrivePolicy as string)).toEqual({
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: 3,
    });
  });

  it('creates a topic with its attributes', async () => {
    const t = topic('prov-events', { DisplayName: 'Provisioned events' });
    await provisioner().topic(t);
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: t.arn }));
    expect(Attributes).toMatchObject({ TopicArn: t.arn, DisplayName: 'Provisioned events' });
  });

  it('subscribes a queue with raw delivery, a filter policy and a redrive DLQ, and the subscription delivers', async () => {
    const p = provisioner();
    const t = topic('prov-sub-events');
    const target = queue('prov-sub-target');
    const dlq = queue('prov-sub-dlq');
    await p.topic(t);
    const url = await p.queue(target);
    await p.queue(dlq);
    const arn = await p.subscription(
      subscription(t, target, {
        rawMessageDelivery: true,
        filterPolicy: { kind: ['image', 'text'] },
        redriveDeadLetterArn: dlq.arn,
      }),
    );
    expect(arn).toMatch(new RegExp(`^${t.arn}:`));
    const attributes = await subscriptionAttributes(arn);
    expect(attributes).toMatchObject({
      TopicArn: t.arn,
      Protocol: 'sqs',
      Endpoint: target.arn,
      RawMessageDelivery: 'true',
      FilterPolicyScope: 'MessageAttributes',
    });
    expect(JSON.parse(attributes.FilterPolicy as string)).toEqual({ kind: ['image', 'text'] });
    expect(JSON.parse(attributes.RedrivePolicy as string)).toEqual({ deadLetterTargetArn: dlq.arn });

    // The filter policy is live: only the matching publish arrives, raw.
    for (const kind of ['audio', 'image']) {
      await sns.send(
        new PublishCommand({
          TopicArn: t.arn,
          Message: `job ${kind}`,
          MessageAttributes: { kind: { DataType: 'String', StringValue: kind } },
        }),
      );
    }
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages?.map((m) => m.Body)).toEqual(['job image']);
  });

  it('subscribes without raw delivery or filter policy', async () => {
    const p = provisioner();
    const t = topic('prov-plain-events');
    const target = queue('prov-plain-target');
    await p.topic(t);
    await p.queue(target);
    const arn = await p.subscription(subscription(t, target));
    const attributes = await subscriptionAttributes(arn);
    expect(attributes.RawMessageDelivery).toBe('false');
    expect(attributes.FilterPolicy).toBeUndefined();
  });

  it('creates a bucket', async () => {
    await provisioner().bucket('prov-payloads');
    await expect(s3.send(new HeadBucketCommand({ Bucket: 'prov-payloads' }))).resolves.toBeDefined();
  });

  it('fails with a ProvisionError naming the construct path, the queue, the cause and the fix', async () => {
    const bad = queue('prov-bad-visibility', { VisibilityTimeout: '99999' });
    const error = await provisioner()
      .queue(bad)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    const { message } = error as Error;
    expect(message).toMatch(/^Prov\/prov-bad-visibility: cannot create queue prov-bad-visibility: [\w.]+: /);
    expect(message).toContain('VisibilityTimeout');
    expect(message).toMatch(/ Fix: check the queue properties in the CDK app\.$/);
  });

  it('fails with a ProvisionError when the topic of a subscription does not exist', async () => {
    const p = provisioner();
    const target = queue('prov-orphan-target');
    await p.queue(target);
    const error = await p.subscription(subscription(topic('prov-no-such-topic'), target)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect((error as Error).message).toMatch(
      /^Prov\/prov-no-such-topic-prov-orphan-target-sub: cannot subscribe arn:aws:sqs:us-east-1:000000000000:prov-orphan-target to arn:aws:sns:us-east-1:000000000000:prov-no-such-topic: /,
    );
    expect((error as Error).message).toContain('Fix: check the filter policy');
  });
});

describe('re-running on the same server', () => {
  it('updates the attributes of an existing queue instead of failing, keeping its URL', async () => {
    const q = queue('rerun-jobs', { VisibilityTimeout: '30', DelaySeconds: '10' });
    const first = await provisioner({ timeScale: 0.1 }).queue(q);
    expect(await queueAttributes(first)).toMatchObject({ VisibilityTimeout: '3', DelaySeconds: '1' });
    const second = await provisioner({ timeScale: 1 }).queue(q);
    expect(second).toBe(first);
    expect(await queueAttributes(second)).toMatchObject({ VisibilityTimeout: '30', DelaySeconds: '10' });
    // Same attributes again: still fine.
    expect(await provisioner({ timeScale: 1 }).queue(q)).toBe(first);
  });

  it('updates an existing FIFO queue (FifoQueue cannot be set again)', async () => {
    const first = await provisioner({ timeScale: 0.5 }).queue(
      queue('rerun-orders.fifo', { FifoQueue: 'true', VisibilityTimeout: '60' }),
    );
    const second = await provisioner({ timeScale: 1 }).queue(
      queue('rerun-orders.fifo', { FifoQueue: 'true', VisibilityTimeout: '60', ContentBasedDeduplication: 'true' }),
    );
    expect(second).toBe(first);
    expect(await queueAttributes(second)).toMatchObject({
      FifoQueue: 'true',
      VisibilityTimeout: '60',
      ContentBasedDeduplication: 'true',
    });
  });

  it('keeps the queue URL written from the endpoint on a re-run', async () => {
    const q = queue('rerun-endpoint-url', { VisibilityTimeout: '30' });
    await provisioner().queue(q);
    const url = await provisioner({ timeScale: 0.1, queueUrlsFromEndpoint: true }).queue(q);
    expect(url).toBe(`${emulator.endpoint}/${ACCOUNT}/rerun-endpoint-url`);
    expect(await queueAttributes(url)).toMatchObject({ VisibilityTimeout: '3' });
  });

  it('creates an existing topic again without failing', async () => {
    const t = topic('rerun-events');
    await provisioner().topic(t);
    await expect(provisioner().topic(t)).resolves.toBeUndefined();
  });

  it('reuses the subscription (no duplicate) and brings its attributes up to date', async () => {
    const t = topic('rerun-sub-events');
    const target = queue('rerun-sub-target');
    const first = provisioner();
    await first.topic(t);
    await first.queue(target);
    const arn = await first.subscription(subscription(t, target, { filterPolicy: { kind: ['image'] } }));

    const again = provisioner();
    await again.topic(t);
    await again.queue(target);
    const arn2 = await again.subscription(
      subscription(t, target, {
        rawMessageDelivery: true,
        filterPolicy: { kind: ['text'] },
        filterPolicyScope: 'MessageBody',
      }),
    );
    expect(arn2).toBe(arn);
    const subs = await subscriptionsOf(t.arn);
    expect(subs).toHaveLength(1);
    expect(subs[0]?.SubscriptionArn).toBe(arn);
    const attributes = await subscriptionAttributes(arn);
    expect(attributes.RawMessageDelivery).toBe('true');
    expect(attributes.FilterPolicyScope).toBe('MessageBody');
    expect(JSON.parse(attributes.FilterPolicy as string)).toEqual({ kind: ['text'] });
  });

  it('adds a second subscription on the same topic for another queue', async () => {
    const t = topic('rerun-two-subs');
    const a = queue('rerun-two-subs-a');
    const b = queue('rerun-two-subs-b');
    const p = provisioner();
    await p.topic(t);
    await p.queue(a);
    await p.queue(b);
    const arnA = await p.subscription(subscription(t, a));
    const arnB = await p.subscription(subscription(t, b));
    expect(arnB).not.toBe(arnA);
    expect(await p.subscription(subscription(t, a))).toBe(arnA);
    expect(await subscriptionsOf(t.arn)).toHaveLength(2);
  });

  it('creates an existing bucket again without failing', async () => {
    await provisioner().bucket('rerun-payloads');
    await expect(provisioner().bucket('rerun-payloads')).resolves.toBeUndefined();
  });
});
