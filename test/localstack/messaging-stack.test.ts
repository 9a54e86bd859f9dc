/**
 * The reference app's messaging stack, deployed to LocalStack by `.ci/localstack-suite.sh` (cdklocal bootstrap +
 * deploy), exercised through the real AWS SDK: attributes as synthesized, fan-out with filters, raw and enveloped
 * delivery, FIFO order per group, and redrive to the DLQ after maxReceiveCount receives.
 *
 * Needs a LocalStack at AWS_ENDPOINT_URL (default http://127.0.0.1:4566) with QueuekitMessaging deployed; it fails
 * loudly when there is none.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig } from '../../lib/runtime/clients.js';
import { deployedResources } from '../support/deployed-stack.js';

const STACK = 'QueuekitMessaging';
const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
const assembly = process.env.QUEUEKIT_ASSEMBLY ?? 'cdk.localstack.out';
// The runtime's client factory, as handlers use it: LocalStack at `endpoint`, test credentials, us-east-1.
const config = clientConfig({ endpoint });
const sqs = new SQSClient(config);
const sns = new SNSClient(config);
const cfn = new CloudFormationClient(config);

let queue: (path: string) => string;

async function receive(url: string, want: number, maxPolls = 10): Promise<Message[]> {
  const got: Message[] = [];
  for (let i = 0; i < maxPolls && got.length < want; i++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    for (const m of out.Messages ?? []) {
      got.push(m);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return got;
}

async function attributes(url: string): Promise<Record<string, string>> {
  return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
}

beforeAll(async () => {
  queue = await deployedResources(cfn, STACK, assembly, endpoint);
  for (const path of ['InferenceJobs/Queue', 'PriorityJobs/Queue', 'AuditLog/Queue', 'BillingLedger/Queue']) {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queue(path) }));
  }
});

afterAll(() => {
  for (const c of [sqs, sns, cfn]) c.destroy();
});

describe('deployed messaging stack on LocalStack', () => {
  it('deploys every queue with its DLQ of the same type, maxReceiveCount 5 and the synthesized attributes', async () => {
    const inference = await attributes(queue('InferenceJobs/Queue'));
    const inferenceDlq = await attributes(queue('InferenceJobs/DeadLetterQueue'));
    expect(JSON.parse(inference.RedrivePolicy ?? '{}')).toMatchObject({
      deadLetterTargetArn: inferenceDlq.QueueArn,
      maxReceiveCount: 5,
    });
    // 6 × the InferenceWorker timeout (120 s), raised by BatchConsumer at synth.
    expect(inference.VisibilityTimeout).toBe('720');
    expect(inference.ReceiveMessageWaitTimeSeconds).toBe('20');
    expect(inference.KmsMasterKeyId).toBeTruthy();
    expect(inferenceDlq.MessageRetentionPeriod).toBe('1209600');
    expect(JSON.parse(inferenceDlq.RedriveAllowPolicy ?? '{}')).toMatchObject({
      redrivePermission: 'byQueue',
      sourceQueueArns: [inference.QueueArn],
    });

    const ledger = await attributes(queue('BillingLedger/Queue'));
    const ledgerDlq = await attributes(queue('BillingLedger/DeadLetterQueue'));
    expect(ledger.FifoQueue).toBe('true');
    expect(ledger.ContentBasedDeduplication).toBe('true');
    expect(ledgerDlq.FifoQueue).toBe('true');
    expect(JSON.parse(ledger.RedrivePolicy ?? '{}').deadLetterTargetArn).toBe(ledgerDlq.QueueArn);
  });

  it('fans a job out by attribute filter, body filter and raw delivery', async () => {
    const job = { jobId: 'job-1', accountId: 'acme', kind: 'image', priority: 'high', prompt: 'a lighthouse' };
    await sns.send(
      new PublishCommand({
        TopicArn: queue('JobEvents/Topic'),
        Message: JSON.stringify(job),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'image' } },
      }),
    );
    const [audit] = await receive(queue('AuditLog/Queue'), 1);
    expect(JSON.parse(audit?.Body ?? 'null')).toEqual(job); // raw: the body as published

    const [inference] = await receive(queue('InferenceJobs/Queue'), 1);
    const envelope = JSON.parse(inference?.Body ?? 'null') as { Type: string; Message: string; TopicArn: string };
    expect(envelope.Type).toBe('Notification'); // enveloped
    expect(envelope.TopicArn).toBe(queue('JobEvents/Topic'));
    expect(JSON.parse(envelope.Message)).toEqual(job);

    const [priority] = await receive(queue('PriorityJobs/Queue'), 1);
    expect(JSON.parse((JSON.parse(priority?.Body ?? 'null') as { Message: string }).Message)).toEqual(job);
  });

  it('filters out what the filters do not match', async () => {
    const job = { jobId: 'job-2', accountId: 'acme', kind: 'video', priority: 'normal', prompt: 'x' };
    await sns.send(
      new PublishCommand({
        TopicArn: queue('JobEvents/Topic'),
        Message: JSON.stringify(job),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'video' } },
      }),
    );
    const audit = await receive(queue('AuditLog/Queue'), 1);
    expect(audit.map((m) => JSON.parse(m.Body ?? '{}').jobId)).toEqual(['job-2']);
    // The unfiltered subscription already has it: the filtered ones had the same chance.
    expect(await receive(queue('InferenceJobs/Queue'), 1, 2)).toEqual([]);
    expect(await receive(queue('PriorityJobs/Queue'), 1, 2)).toEqual([]);
  });

  it('keeps per-account order from the FIFO topic to the FIFO ledger queue', async () => {
    const entries = Array.from({ length: 8 }, (_, i) => ({
      jobId: `j${i}`,
      accountId: i % 2 ? 'acme' : 'globex',
      units: i,
    }));
    for (const e of entries) {
      await sns.send(
        new PublishCommand({
          TopicArn: queue('BillingEvents/Topic'),
          Message: JSON.stringify(e),
          MessageGroupId: e.accountId,
          MessageDeduplicationId: e.jobId,
        }),
      );
    }
    const got = (await receive(queue('BillingLedger/Queue'), entries.length, 20)).map(
      (m) => JSON.parse(m.Body ?? '{}') as { jobId: string; accountId: string },
    );
    expect(got).toHaveLength(entries.length);
    for (const account of ['acme', 'globex']) {
      expect(got.filter((e) => e.accountId === account).map((e) => e.jobId)).toEqual(
        entries.filter((e) => e.accountId === account).map((e) => e.jobId),
      );
    }
  });

  it('moves a message received more than maxReceiveCount times to the DLQ', async () => {
    const url = queue('PriorityJobs/Queue');
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify({ poison: true }) }),
    );
    const counts: string[] = [];
    for (let i = 0; i < 12 && counts.length < 5; i++) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      for (const m of out.Messages ?? []) {
        counts.push(m.Attributes?.ApproximateReceiveCount ?? '?');
        // A failing consumer: hand the message back at once instead of waiting out the visibility timeout.
        await sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }),
        );
      }
    }
    expect(counts).toEqual(['1', '2', '3', '4', '5']);
    expect(await receive(url, 1, 2)).toEqual([]); // the 6th receive moves it instead of delivering it
    const dead = await receive(queue('PriorityJobs/DeadLetterQueue'), 1);
    expect(dead.map((m) => m.MessageId)).toEqual([sent.MessageId]);
  });
});
