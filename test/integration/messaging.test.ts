/**
 * The SQS/SNS semantics the reference app (bin/messaging-stack.ts, lambdas/) relies on, checked against a real
 * emulator (fauxqs, in-process, loopback only) through the real AWS SDK v3 clients: no mocks.
 *
 * Resources are created with the SDK exactly as they would be against AWS, including the queue policy that lets a
 * topic deliver to a queue (fauxqs does not enforce it; AWS does). Every test creates its own topic and queues.
 * Polling is always bounded: a fixed number of ReceiveMessage calls with a 1 s long poll, so a missing message fails
 * the test in seconds instead of hanging it. Nothing here relies on the order of a standard queue.
 */
import { PublishCommand, SNSClient, type MessageAttributeValue as SnsMessageAttributeValue } from '@aws-sdk/client-sns';
import { type Message, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatorResources, must, type TestQueue } from '../support/emulator-resources.js';
import { type EmbeddedEmulator, sdkClientConfig, startEmbeddedEmulator } from '../support/fauxqs-server.js';

let emulator: EmbeddedEmulator | undefined;
let sqs: SQSClient;
let sns: SNSClient;

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  sqs = new SQSClient(sdkClientConfig(emulator.endpoint));
  sns = new SNSClient(sdkClientConfig(emulator.endpoint));
});

afterAll(async () => {
  sqs?.destroy();
  sns?.destroy();
  await emulator?.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers: resources, bounded receiving, the Lambda record shape.
// ---------------------------------------------------------------------------------------------------------------

const resources = () => new EmulatorResources(sqs, sns);
const createQueue = (name: string, attributes: Record<string, string> = {}) =>
  resources().createQueue(name, attributes);
const createTopic = (name: string, attributes: Record<string, string> = {}) =>
  resources().createTopic(name, attributes);
const subscribeQueue = (topicArn: string, queue: TestQueue, attributes: Record<string, string> = {}) =>
  resources().subscribeQueue(topicArn, queue, attributes);
const receiveOnce = (queue: TestQueue, maxMessages = 10) => resources().receiveOnce(queue, maxMessages);
const receiveExactly = (queue: TestQueue, count: number, attempts = 10) =>
  resources().receiveExactly(queue, count, attempts);
const expectNoMessage = (queue: TestQueue) => resources().expectNoMessage(queue);

function stringAttribute(value: string): SnsMessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

function envelopeOf(message: Message): SnsEnvelope {
  return JSON.parse(must(message.Body, 'Body')) as SnsEnvelope;
}

/** The job (or billing entry) inside a message, whether it came raw or in an SNS envelope. */
function payloadOf<T = Record<string, unknown>>(message: Message): T {
  const outer = JSON.parse(must(message.Body, 'Body')) as { Type?: string; Message?: string };
  return JSON.parse(outer.Type === 'Notification' ? must(outer.Message, 'Message') : must(message.Body, 'Body')) as T;
}

// ---------------------------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------------------------

describe('SQS redrive to a dead-letter queue', () => {
  it('moves a message to the DLQ once it has been received more than maxReceiveCount times', async () => {
    const maxReceiveCount = 2;
    const dlq = await createQueue('redrive-dlq');
    const source = await createQueue('redrive-source', {
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
    });
    const body = JSON.stringify({ jobId: 'job-redrive', kind: 'text' });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: body }));

    // Receive without deleting, as a consumer that keeps failing would. Visibility timeout 0: the message is back
    // at once. Bounded: maxReceiveCount deliveries, the receive that redrives it, and slack.
    const receiveCounts: string[] = [];
    for (let attempt = 0; attempt < maxReceiveCount + 3; attempt++) {
      const messages = await receiveOnce(source, 1);
      if (messages.length === 0) break;
      for (const m of messages) {
        expect(m.MessageId).toBe(sent.MessageId);
        receiveCounts.push(must(m.Attributes?.ApproximateReceiveCount, 'ApproximateReceiveCount'));
      }
    }
    expect(receiveCounts).toEqual(['1', '2']);

    const [dead] = await receiveExactly(dlq, 1);
    expect(dead?.MessageId).toBe(sent.MessageId);
    expect(dead?.Body).toBe(body);
  });
});

describe('SNS → SQS fan-out', () => {
  it('delivers only the messages whose attributes match a MessageAttributes filter policy', async () => {
    const topicArn = await createTopic('attr-filter-events');
    const inference = await createQueue('attr-filter-inference');
    const audit = await createQueue('attr-filter-audit');
    await subscribeQueue(topicArn, inference, {
      FilterPolicy: JSON.stringify({ kind: ['image', 'text'] }),
      FilterPolicyScope: 'MessageAttributes',
    });
    await subscribeQueue(topicArn, audit, { RawMessageDelivery: 'true' });

    const publish = (jobId: string, kind?: string) =>
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify({ jobId, kind: kind ?? 'unknown' }),
          ...(kind ? { MessageAttributes: { kind: stringAttribute(kind) } } : {}),
        }),
      );
    await publish('job-video', 'video'); // value not in the policy
    await publish('job-no-attribute'); // attribute missing altogether
    await publish('job-image', 'image'); // matches

    // The unfiltered subscription proves all three were published and fanned out...
    const audited = await receiveExactly(audit, 3);
    expect(audited.map((m) => payloadOf(m).jobId).sort()).toEqual(['job-image', 'job-no-attribute', 'job-video']);
    // ...the filtered one gets the match, and then nothing else.
    const [delivered] = await receiveExactly(inference, 1);
    expect(payloadOf(must(delivered, 'delivered message')).jobId).toBe('job-image');
    await expectNoMessage(inference);
  });

  it('filters on the JSON message body with FilterPolicyScope MessageBody, ignoring message attributes', async () => {
    const topicArn = await createTopic('body-filter-events');
    const priority = await createQueue('body-filter-priority');
    const audit = await createQueue('body-filter-audit');
    await subscribeQueue(topicArn, priority, {
      FilterPolicy: JSON.stringify({ priority: ['high'] }),
      FilterPolicyScope: 'MessageBody',
    });
    await subscribeQueue(topicArn, audit, { RawMessageDelivery: 'true' });

    const publish = (job: Record<string, string>, attributes?: Record<string, SnsMessageAttributeValue>) =>
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify(job),
          ...(attributes ? { MessageAttributes: attributes } : {}),
        }),
      );
    await publish({ jobId: 'job-normal', priority: 'normal' });
    // 'high' only as a message attribute: the body scope must not look at attributes.
    await publish({ jobId: 'job-high-attribute-only', priority: 'normal' }, { priority: stringAttribute('high') });
    await publish({ jobId: 'job-high', priority: 'high' });

    const audited = await receiveExactly(audit, 3);
    expect(audited.map((m) => payloadOf(m).jobId).sort()).toEqual([
      'job-high',
      'job-high-attribute-only',
      'job-normal',
    ]);
    const [delivered] = await receiveExactly(priority, 1);
    expect(payloadOf(must(delivered, 'delivered message')).jobId).toBe('job-high');
    await expectNoMessage(priority);
  });

  it('delivers the published body as is with raw delivery, and an SNS JSON envelope without it', async () => {
    const topicArn = await createTopic('delivery-events');
    const raw = await createQueue('delivery-raw');
    const enveloped = await createQueue('delivery-enveloped');
    await subscribeQueue(topicArn, raw, { RawMessageDelivery: 'true' });
    await subscribeQueue(topicArn, enveloped, { RawMessageDelivery: 'false' });

    const message = JSON.stringify({ jobId: 'job-delivery', kind: 'image', prompt: 'a lighthouse at dusk' });
    const published = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: message,
        Subject: 'job submitted',
        MessageAttributes: { kind: stringAttribute('image'), tokens: { DataType: 'Number', StringValue: '4' } },
      }),
    );

    // Raw: the body is the published message byte for byte; SNS attributes become SQS message attributes.
    const [rawMessage] = await receiveExactly(raw, 1);
    expect(rawMessage?.Body).toBe(message);
    expect(rawMessage?.MessageAttributes?.kind).toMatchObject({ DataType: 'String', StringValue: 'image' });
    expect(rawMessage?.MessageAttributes?.tokens).toMatchObject({ DataType: 'Number', StringValue: '4' });

    // Enveloped: the body is the SNS notification; attributes travel inside it, not as SQS message attributes.
    const [envelopedMessage] = await receiveExactly(enveloped, 1);
    const envelope = envelopeOf(must(envelopedMessage, 'enveloped message'));
    expect(envelope).toMatchObject({
      Type: 'Notification',
      MessageId: published.MessageId,
      TopicArn: topicArn,
      Subject: 'job submitted',
      Message: message,
      MessageAttributes: { kind: { Type: 'String', Value: 'image' }, tokens: { Type: 'Number', Value: '4' } },
    });
    expect(Number.isNaN(Date.parse(envelope.Timestamp))).toBe(false);
    for (const field of ['SignatureVersion', 'Signature', 'SigningCertURL', 'UnsubscribeURL'] as const) {
      expect(typeof envelope[field], field).toBe('string');
    }
    expect(envelopedMessage?.MessageAttributes).toBeUndefined();
  });
});

describe('FIFO topic → FIFO queue', () => {
  it('keeps the order within each message group and drops a duplicate deduplication id', async () => {
    // As the billing pipeline: FIFO topic with explicit deduplication ids, FIFO queue, raw delivery.
    const topicArn = await createTopic('fifo-billing.fifo', { FifoTopic: 'true' });
    const ledger = await createQueue('fifo-ledger.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    await subscribeQueue(topicArn, ledger, { RawMessageDelivery: 'true' });

    const entries = Array.from({ length: 10 }, (_, seq) => ({
      jobId: `job-${seq}`,
      accountId: seq % 2 === 0 ? 'acct-a' : 'acct-b',
      seq,
    }));
    const publishEntry = (entry: (typeof entries)[number]) =>
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify(entry),
          MessageGroupId: entry.accountId,
          MessageDeduplicationId: entry.jobId,
        }),
      );
    // One at a time: order within a group is the order SNS accepted the publishes in.
    for (const entry of entries) await publishEntry(entry);
    await publishEntry(entries[0] as (typeof entries)[number]); // a retry of job-0: same deduplication id

    const received = await receiveExactly(ledger, entries.length, 20);
    await expectNoMessage(ledger);

    const byGroup = new Map<string, { seq: number; sequenceNumber: bigint }[]>();
    for (const m of received) {
      const entry = payloadOf<{ accountId: string; seq: number }>(m);
      expect(m.Attributes?.MessageGroupId).toBe(entry.accountId);
      const list = byGroup.get(entry.accountId) ?? [];
      list.push({ seq: entry.seq, sequenceNumber: BigInt(must(m.Attributes?.SequenceNumber, 'SequenceNumber')) });
      byGroup.set(entry.accountId, list);
    }
    expect(byGroup.get('acct-a')?.map((e) => e.seq)).toEqual([0, 2, 4, 6, 8]);
    expect(byGroup.get('acct-b')?.map((e) => e.seq)).toEqual([1, 3, 5, 7, 9]);
    // SQS sequence numbers grow within a group, too.
    for (const list of byGroup.values()) {
      const numbers = list.map((e) => e.sequenceNumber);
      expect(numbers.every((n, i) => i === 0 || n > (numbers[i - 1] ?? n))).toBe(true);
    }
  });
});
