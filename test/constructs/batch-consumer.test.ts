import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { BatchConsumer, Queue, QueueEncryption, QueuekitPropsError } from '../../lib/constructs/index.js';
import { capturingConsoleError, idOf, type Json, newStack, props, resource } from '../support/cdk-template.js';

const entry = new URL('../../lambdas/audit-writer.ts', import.meta.url).pathname;
const IMPORTED_ARN = 'arn:aws:sqs:eu-west-1:123456789012:external-jobs';
const METADATA_KEY = 'queuekit:declaredQueueVisibilityTimeoutSeconds';

/** The event source mapping resource(s) of a consumer. */
function mappingsOf(template: Template, consumer: BatchConsumer): Json[] {
  return Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
    (m: Json) => m.Properties.FunctionName.Ref === idOf(consumer.function),
  );
}

function mappingOf(template: Template, consumer: BatchConsumer): Json {
  const found = mappingsOf(template, consumer);
  expect(found).toHaveLength(1);
  return found[0] as Json;
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('BatchConsumer: event source mapping', () => {
  it('defaults: batch size 10, partial batch responses, no window, no scaling config', () => {
    const stack = newStack();
    const jobs = new Queue(stack, 'Jobs');
    const consumer = new BatchConsumer(stack, 'Worker', { queue: jobs, entry });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    expect(mappingOf(t, consumer).Properties).toEqual({
      BatchSize: 10,
      EventSourceArn: { 'Fn::GetAtt': [idOf(jobs.queue), 'Arn'] },
      FunctionName: { Ref: idOf(consumer.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(consumer.queue).toBe(jobs.queue);
  });

  it('maps batchSize, maxBatchingWindow and maxConcurrency, keeping ReportBatchItemFailures', () => {
    const stack = newStack();
    const jobs = new Queue(stack, 'Jobs');
    const consumer = new BatchConsumer(stack, 'Worker', {
      queue: jobs,
      entry,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(5),
      maxConcurrency: 5,
    });
    expect(mappingOf(Template.fromStack(stack), consumer).Properties).toMatchObject({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('FIFO queue: ReportBatchItemFailures on, batch size as given', () => {
    const stack = newStack();
    const ledger = new Queue(stack, 'Ledger', { fifo: true });
    const consumer = new BatchConsumer(stack, 'Writer', { queue: ledger, entry, batchSize: 3 });
    expect(mappingOf(Template.fromStack(stack), consumer).Properties).toMatchObject({
      BatchSize: 3,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('grants the function consume rights on the queue (and decrypt on its key)', () => {
    const stack = newStack();
    const jobs = new Queue(stack, 'Jobs', { encryption: QueueEncryption.KMS });
    const consumer = new BatchConsumer(stack, 'Worker', { queue: jobs, entry });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: idOf(consumer.function.role as IConstruct) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage']),
            Resource: { 'Fn::GetAtt': [idOf(jobs.queue), 'Arn'] },
          }),
          {
            Action: 'kms:Decrypt',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [idOf(jobs.encryptionKey as kms.Key), 'Arn'] },
          },
        ]),
      },
    });
  });
});

describe('BatchConsumer: visibility timeout of a queuekit Queue', () => {
  it('raises it to 6 × the default 30 s timeout = 180 s', () => {
    const stack = newStack();
    const jobs = new Queue(stack, 'Jobs');
    new BatchConsumer(stack, 'Worker', { queue: jobs, entry });
    expect(props(Template.fromStack(stack), jobs.queue).VisibilityTimeout).toBe(180);
  });

  it('raises it to 6 × timeout + batching window', () => {
    const stack = newStack();
    const jobs = new Queue(stack, 'Jobs');
    new BatchConsumer(stack, 'Worker', {
      queue: jobs,
      entry,
      timeout: Duration.minutes(2),
      batchSize: 50,
      maxBatchingWindow: Duration.seconds(10),
    });
    expect(props(Template.fromStack(stack), jobs.queue).VisibilityTimeout).toBe(6 * 120 + 10);
  });

  it('never lowers a longer visibility timeout', () => {
    const stack = newStack();
    const jobs = new Queue(stack, 'Jobs', { visibilityTimeout: Duration.minutes(30) });
    new BatchConsumer(stack, 'Worker', { queue: jobs, entry });
    expect(props(Template.fromStack(stack), jobs.queue).VisibilityTimeout).toBe(1800);
  });

  it('two consumers: the larger requirement wins, whatever the order', () => {
    for (const order of [
      [Duration.seconds(30), Duration.seconds(60)],
      [Duration.seconds(60), Duration.seconds(30)],
    ]) {
      const stack = newStack();
      const jobs = new Queue(stack, 'Jobs');
      new BatchConsumer(stack, 'First', { queue: jobs, entry, timeout: order[0] });
      new BatchConsumer(stack, 'Second', { queue: jobs, entry, timeout: order[1] });
      const t = Template.fromStack(stack);
      expect(props(t, jobs.queue).VisibilityTimeout).toBe(360);
      t.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    }
  });

  it('ignores importedQueueVisibilityTimeout for a queue of the app (no metadata)', () => {
    const stack = newStack();
    const jobs = new Queue(stack, 'Jobs');
    const consumer = new BatchConsumer(stack, 'Worker', {
      queue: jobs,
      entry,
      importedQueueVisibilityTimeout: Duration.seconds(31),
    });
    const t = Template.fromStack(stack);
    expect(props(t, jobs.queue).VisibilityTimeout).toBe(180);
    expect(mappingOf(t, consumer).Metadata?.[METADATA_KEY]).toBeUndefined();
  });
});

describe('BatchConsumer: other queues', () => {
  it('leaves a plain sqs.Queue of the app alone; the topology check warns about its visibility', () => {
    const stack = newStack();
    const plain = new sqs.Queue(stack, 'Plain', {
      visibilityTimeout: Duration.seconds(100),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: {
        maxReceiveCount: 5,
        queue: new sqs.Queue(stack, 'PlainDlq', {
          encryption: sqs.QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          retentionPeriod: Duration.days(14),
        }),
      },
    });
    const consumer = new BatchConsumer(stack, 'Worker', { queue: plain, entry });
    let t: Template | undefined;
    const printed = capturingConsoleError(() => {
      t = Template.fromStack(stack);
    });
    const template = t as Template;
    expect(props(template, plain).VisibilityTimeout).toBe(100);
    expect(mappingOf(template, consumer).Metadata?.[METADATA_KEY]).toBeUndefined();
    expect(printed).toContain("Acknowledge with 'Queuekit::visibility-below-recommended'");
  });

  it('imported queue without importedQueueVisibilityTimeout: throws naming the construct and the option', () => {
    const stack = newStack();
    const imported = sqs.Queue.fromQueueArn(stack, 'External', IMPORTED_ARN);
    const error = errorOf(() => new BatchConsumer(stack, 'Worker', { queue: imported, entry }));
    expect(error).toBeInstanceOf(QueuekitPropsError);
    expect(error.message).toContain('[Stack/Worker]');
    expect(error.message).toContain('importedQueueVisibilityTimeout');
    expect(error.message).toContain(`queue ${IMPORTED_ARN} is imported`);
    expect(error.message).toContain('≥ 30s; ≥ 180s recommended');
  });

  it('imported queue whose visibility is shorter than timeout + window: throws', () => {
    const stack = newStack();
    const imported = sqs.Queue.fromQueueArn(stack, 'External', IMPORTED_ARN);
    expect(
      () =>
        new BatchConsumer(stack, 'Short', {
          queue: imported,
          entry,
          importedQueueVisibilityTimeout: Duration.seconds(20),
        }),
    ).toThrow(
      /^\[Stack\/Short\] imported queue visibility timeout 20s is shorter than function timeout 30s \+ batching window 0s/,
    );
    expect(
      () =>
        new BatchConsumer(stack, 'Windowed', {
          queue: imported,
          entry,
          batchSize: 20,
          maxBatchingWindow: Duration.seconds(10),
          importedQueueVisibilityTimeout: Duration.seconds(35),
        }),
    ).toThrow(
      /\[Stack\/Windowed\] imported queue visibility timeout 35s is shorter than function timeout 30s \+ batching window 10s.*≥ 190s/,
    );
  });

  it('imported queue with a long enough declared visibility: mapping carries it as metadata', () => {
    const stack = newStack();
    const imported = sqs.Queue.fromQueueArn(stack, 'External', IMPORTED_ARN);
    const consumer = new BatchConsumer(stack, 'Worker', {
      queue: imported,
      entry,
      importedQueueVisibilityTimeout: Duration.minutes(3),
    });
    const t = Template.fromStack(stack);
    const mapping = mappingOf(t, consumer);
    expect(mapping.Metadata[METADATA_KEY]).toBe(180);
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: IMPORTED_ARN,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    t.resourceCountIs('AWS::SQS::Queue', 0);
  });

  it('imported queue: exactly timeout + window is accepted', () => {
    const stack = newStack();
    const imported = sqs.Queue.fromQueueArn(stack, 'External', IMPORTED_ARN);
    expect(
      () =>
        new BatchConsumer(stack, 'Worker', {
          queue: imported,
          entry,
          importedQueueVisibilityTimeout: Duration.seconds(30),
        }),
    ).not.toThrow();
  });
});

describe('BatchConsumer: function defaults (QueuekitFunction)', () => {
  const stack = newStack();
  const jobs = new Queue(stack, 'Jobs');
  const consumer = new BatchConsumer(stack, 'Worker', { queue: jobs, entry });
  const t = Template.fromStack(stack);
  const fn = props(t, consumer.function);
  const logGroup = consumer.node.findChild('FunctionLogGroup') as logs.LogGroup;
  const role = consumer.function.role as IConstruct;

  it('nodejs22.x on arm64, 256 MB, 30 s, handler export "handler", source maps on', () => {
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
      Handler: 'index.handler',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
      Description: 'Consumes Stack/Jobs/Queue (Stack/Worker)',
    });
  });

  it('logs JSON into its own log group kept 30 days', () => {
    expect(logGroup).toBeInstanceOf(logs.LogGroup);
    expect(fn.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: { Ref: idOf(logGroup) } });
    expect(props(t, logGroup)).toEqual({ RetentionInDays: 30 });
    expect(resource(t, logGroup).DeletionPolicy).toBe('Delete');
    t.resourceCountIs('Custom::LogRetention', 0);
  });

  it('has its own role, assumed by Lambda, without managed policies, writing only to its log group', () => {
    expect(fn.Role).toEqual({ 'Fn::GetAtt': [idOf(role), 'Arn'] });
    const r = props(t, role);
    expect(r.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    expect(r).not.toHaveProperty('ManagedPolicyArns');
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: idOf(role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [idOf(logGroup), 'Arn'] },
          },
        ]),
      },
    });
  });

  it('options override the defaults', () => {
    const s = newStack();
    const q = new Queue(s, 'Jobs');
    const c = new BatchConsumer(s, 'Worker', {
      queue: q,
      entry,
      handler: 'main',
      timeout: Duration.minutes(2),
      memorySize: 1024,
      architecture: lambda.Architecture.X86_64,
      logRetention: logs.RetentionDays.ONE_WEEK,
      environment: { MODEL: 'small' },
      description: 'My worker',
    });
    const tt = Template.fromStack(s);
    expect(props(tt, c.function)).toMatchObject({
      Handler: 'index.main',
      Timeout: 120,
      MemorySize: 1024,
      Architectures: ['x86_64'],
      Description: 'My worker',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', MODEL: 'small' } },
    });
    expect(props(tt, c.node.findChild('FunctionLogGroup') as logs.LogGroup).RetentionInDays).toBe(7);
  });
});
