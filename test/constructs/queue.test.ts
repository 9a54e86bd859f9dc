import { CfnParameter, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Queue, QueueEncryption, QueuekitPropsError, Topic } from '../../lib/constructs/index.js';
import { idOf, type Json, newStack, props, resource } from '../support/cdk-template.js';

function mainAndDlq(queue: Queue): [sqs.Queue, sqs.Queue] {
  expect(queue.deadLetterQueue).toBeInstanceOf(sqs.Queue);
  return [queue.queue, queue.deadLetterQueue as sqs.Queue];
}

/** The alarms of a template, keyed by metric name. */
function alarmsByMetric(template: Template): Record<string, Json> {
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  return Object.fromEntries(Object.values(alarms).map((a: Json) => [a.Properties.MetricName, a.Properties]));
}

const tlsDeny = (queueId: string) => ({
  Action: 'sqs:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
});

const sqsArnOf = (name: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':sqs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${name}`],
  ],
});

describe('Queue: standard defaults', () => {
  const stack = newStack();
  const jobs = new Queue(stack, 'Jobs');
  const t = Template.fromStack(stack);
  const [main, dlq] = mainAndDlq(jobs);

  it('creates the queue and a dead-letter queue, two TLS policies, two alarms and no key', () => {
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    t.resourceCountIs('AWS::KMS::Key', 0);
    expect(jobs.fifo).toBe(false);
    expect(jobs.maxReceiveCount).toBe(5);
    expect(jobs.encryptionKey).toBeUndefined();
    expect(jobs.alarms).toHaveLength(2);
  });

  it('is a standard queue with SSE-SQS, long polling 20 s, visibility 30 s, retention 4 days', () => {
    expect(props(t, main)).toMatchObject({
      SqsManagedSseEnabled: true,
      ReceiveMessageWaitTimeSeconds: 20,
      VisibilityTimeout: 30,
      MessageRetentionPeriod: 345_600,
    });
    const p = props(t, main);
    for (const key of [
      'FifoQueue',
      'KmsMasterKeyId',
      'ContentBasedDeduplication',
      'DeduplicationScope',
      'FifoThroughputLimit',
      'DelaySeconds',
      'MaximumMessageSize',
    ]) {
      expect(p, key).not.toHaveProperty(key);
    }
    expect(jobs.visibilityTimeoutSeconds).toBe(30);
  });

  it('gets a deterministic name from its construct path, and the DLQ the same name with -dlq', () => {
    const name = props(t, main).QueueName as string;
    expect(name).toMatch(/^Stack-Jobs-[0-9A-F]{8}$/);
    expect(props(t, dlq).QueueName).toBe(`${name}-dlq`);
    const again = newStack();
    new Queue(again, 'Jobs');
    Template.fromStack(again).hasResourceProperties('AWS::SQS::Queue', { QueueName: name });
  });

  it('redrives into the DLQ after 5 receives by default', () => {
    expect(props(t, main).RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [idOf(dlq), 'Arn'] },
      maxReceiveCount: 5,
    });
  });

  it('creates a standard DLQ keeping messages 14 days, SSE-SQS, no redrive of its own', () => {
    const p = props(t, dlq);
    expect(p.MessageRetentionPeriod).toBe(1_209_600);
    expect(p.SqsManagedSseEnabled).toBe(true);
    expect(p).not.toHaveProperty('FifoQueue');
    expect(p).not.toHaveProperty('RedrivePolicy');
    expect(p).not.toHaveProperty('KmsMasterKeyId');
  });

  it("allows redrive into the DLQ from the source queue only (byQueue with the source's ARN)", () => {
    const name = props(t, main).QueueName as string;
    expect(props(t, dlq).RedriveAllowPolicy).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [sqsArnOf(name)],
    });
  });

  it('denies requests without TLS on the queue and on the DLQ', () => {
    for (const q of [main, dlq]) {
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: idOf(q) }],
        PolicyDocument: { Statement: Match.arrayWith([tlsDeny(idOf(q))]) },
      });
    }
  });

  it('is destroyed with the stack by default', () => {
    expect(resource(t, main).DeletionPolicy).toBe('Delete');
    expect(resource(t, dlq).DeletionPolicy).toBe('Delete');
    expect(resource(t, main).UpdateReplacePolicy).toBe('Delete');
  });

  it('alarms when the DLQ holds a message', () => {
    expect(alarmsByMetric(t).ApproximateNumberOfMessagesVisible).toEqual({
      AlarmDescription: 'Messages failed 5 times and are waiting in the dead-letter queue of Stack/Jobs.',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(dlq), 'QueueName'] } }],
      EvaluationPeriods: 1,
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Period: 60,
      Statistic: 'Maximum',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when the oldest message is older than 15 minutes', () => {
    expect(alarmsByMetric(t).ApproximateAgeOfOldestMessage).toEqual({
      AlarmDescription: 'The oldest message in Stack/Jobs is older than 15 minutes: consumers are behind or failing.',
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(main), 'QueueName'] } }],
      EvaluationPeriods: 5,
      MetricName: 'ApproximateAgeOfOldestMessage',
      Namespace: 'AWS/SQS',
      Period: 60,
      Statistic: 'Maximum',
      Threshold: 900,
      TreatMissingData: 'notBreaching',
    });
    for (const alarm of Object.values(alarmsByMetric(t))) expect(alarm).not.toHaveProperty('AlarmActions');
  });

  it('exposes the underlying queue (isQueue, ARN, URL, name, default child)', () => {
    expect(Queue.isQueue(jobs)).toBe(true);
    expect(Queue.isQueue(main)).toBe(false);
    expect(jobs.node.defaultChild).toBe(main);
    expect(stack.resolve(jobs.queueArn)).toEqual({ 'Fn::GetAtt': [idOf(main), 'Arn'] });
    expect(stack.resolve(jobs.queueUrl)).toEqual({ Ref: idOf(main) });
    expect(stack.resolve(jobs.queueName)).toEqual({ 'Fn::GetAtt': [idOf(main), 'QueueName'] });
  });
});

describe('Queue: FIFO', () => {
  it('appends .fifo to a given name (queue and DLQ), both FIFO', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Ledger', { queueName: 'ledger', fifo: true });
    const t = Template.fromStack(stack);
    const [main, dlq] = mainAndDlq(q);
    expect(q.fifo).toBe(true);
    expect(props(t, main)).toMatchObject({ QueueName: 'ledger.fifo', FifoQueue: true });
    expect(props(t, dlq)).toMatchObject({
      QueueName: 'ledger-dlq.fifo',
      FifoQueue: true,
      MessageRetentionPeriod: 1_209_600,
    });
  });

  it('keeps a name that already ends in .fifo (no double suffix)', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Ledger', { queueName: 'ledger.fifo', fifo: true });
    const t = Template.fromStack(stack);
    const [main, dlq] = mainAndDlq(q);
    expect(props(t, main).QueueName).toBe('ledger.fifo');
    expect(props(t, dlq).QueueName).toBe('ledger-dlq.fifo');
  });

  it('infers fifo from a name ending in .fifo', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Ledger', { queueName: 'ledger.fifo' });
    const t = Template.fromStack(stack);
    const [main, dlq] = mainAndDlq(q);
    expect(q.fifo).toBe(true);
    expect(props(t, main)).toMatchObject({ QueueName: 'ledger.fifo', FifoQueue: true });
    expect(props(t, dlq)).toMatchObject({ QueueName: 'ledger-dlq.fifo', FifoQueue: true });
  });

  it('generates .fifo names when no name is given', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Ledger', { fifo: true });
    const t = Template.fromStack(stack);
    const [main, dlq] = mainAndDlq(q);
    const name = props(t, main).QueueName as string;
    expect(name).toMatch(/^Stack-Ledger-[0-9A-F]{8}\.fifo$/);
    expect(props(t, dlq).QueueName).toBe(name.replace(/\.fifo$/, '-dlq.fifo'));
    expect(props(t, dlq).FifoQueue).toBe(true);
  });

  it("allows redrive from the FIFO source's ARN (with .fifo)", () => {
    const stack = newStack();
    const q = new Queue(stack, 'Ledger', { queueName: 'ledger', fifo: true });
    const [, dlq] = mainAndDlq(q);
    expect(props(Template.fromStack(stack), dlq).RedriveAllowPolicy).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [sqsArnOf('ledger.fifo')],
    });
  });

  it('sets ContentBasedDeduplication only when asked', () => {
    const stack = newStack();
    const withCbd = new Queue(stack, 'WithCbd', { fifo: true, contentBasedDeduplication: true });
    const without = new Queue(stack, 'Without', { fifo: true });
    const t = Template.fromStack(stack);
    expect(props(t, withCbd.queue).ContentBasedDeduplication).toBe(true);
    expect(props(t, without.queue)).not.toHaveProperty('ContentBasedDeduplication');
  });

  it('high throughput: deduplication and throughput limit per message group', () => {
    const stack = newStack();
    const fast = new Queue(stack, 'Fast', { fifo: true, highThroughput: true });
    const plain = new Queue(stack, 'Plain', { fifo: true });
    const t = Template.fromStack(stack);
    expect(props(t, fast.queue)).toMatchObject({
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
    });
    expect(props(t, plain.queue)).not.toHaveProperty('DeduplicationScope');
    expect(props(t, plain.queue)).not.toHaveProperty('FifoThroughputLimit');
  });

  it('rejects a .fifo name with fifo: false, naming the construct path', () => {
    const stack = newStack();
    expect(() => new Queue(stack, 'Bad', { queueName: 'orders.fifo', fifo: false })).toThrow(QueuekitPropsError);
    expect(() => new Queue(stack, 'Bad2', { queueName: 'orders.fifo', fifo: false })).toThrow(
      /^\[Stack\/Bad2\] queueName 'orders\.fifo' ends in \.fifo but fifo is false\. Fix: /,
    );
  });

  it('rejects FIFO options on a standard queue', () => {
    const stack = newStack();
    expect(() => new Queue(stack, 'Cbd', { contentBasedDeduplication: true })).toThrow(
      /\[Stack\/Cbd\] contentBasedDeduplication and highThroughput apply to FIFO queues only/,
    );
    expect(() => new Queue(stack, 'Ht', { highThroughput: true })).toThrow(
      /\[Stack\/Ht\] contentBasedDeduplication and highThroughput apply to FIFO queues only/,
    );
    expect(() => new Queue(stack, 'NamedStd', { queueName: 'orders', fifo: false, highThroughput: true })).toThrow(
      QueuekitPropsError,
    );
  });
});

describe('Queue: dead-letter queue options', () => {
  it('uses a custom maxReceiveCount in the redrive policy and the alarm text', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', { maxReceiveCount: 10 });
    const t = Template.fromStack(stack);
    expect(q.maxReceiveCount).toBe(10);
    expect(props(t, q.queue).RedrivePolicy.maxReceiveCount).toBe(10);
    expect(alarmsByMetric(t).ApproximateNumberOfMessagesVisible.AlarmDescription).toMatch(/^Messages failed 10 times/);
  });

  it('rejects a maxReceiveCount that is not a positive integer', () => {
    const stack = newStack();
    expect(() => new Queue(stack, 'Zero', { maxReceiveCount: 0 })).toThrow(
      /\[Stack\/Zero\] maxReceiveCount 0 is not a positive integer/,
    );
    expect(() => new Queue(stack, 'Half', { maxReceiveCount: 2.5 })).toThrow(QueuekitPropsError);
  });

  it('FIFO queue gets a FIFO DLQ and standard gets standard (same type)', () => {
    const stack = newStack();
    const fifo = new Queue(stack, 'F', { fifo: true });
    const std = new Queue(stack, 'S');
    const t = Template.fromStack(stack);
    expect(props(t, mainAndDlq(fifo)[1]).FifoQueue).toBe(true);
    expect(props(t, mainAndDlq(std)[1])).not.toHaveProperty('FifoQueue');
  });

  it('uses a given sqs.Queue as DLQ, without creating one or changing it', () => {
    const stack = newStack();
    const own = new sqs.Queue(stack, 'OwnDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(10),
    });
    const q = new Queue(stack, 'Jobs', { deadLetterQueue: own, maxReceiveCount: 7 });
    const t = Template.fromStack(stack);
    expect(q.deadLetterQueue).toBe(own);
    t.resourceCountIs('AWS::SQS::Queue', 2);
    expect(props(t, q.queue).RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [idOf(own), 'Arn'] },
      maxReceiveCount: 7,
    });
    expect(props(t, own)).not.toHaveProperty('RedriveAllowPolicy');
    expect(props(t, own).MessageRetentionPeriod).toBe(864_000);
    expect(alarmsByMetric(t).ApproximateNumberOfMessagesVisible.Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(own), 'QueueName'] } },
    ]);
  });

  it('uses a DLQ imported by ARN', () => {
    const stack = newStack();
    const arn = 'arn:aws:sqs:eu-west-1:123456789012:shared-dlq';
    const imported = sqs.Queue.fromQueueArn(stack, 'Imported', arn);
    const q = new Queue(stack, 'Jobs', { deadLetterQueue: imported });
    const t = Template.fromStack(stack);
    expect(q.deadLetterQueue).toBe(imported);
    t.resourceCountIs('AWS::SQS::Queue', 1);
    t.resourceCountIs('AWS::SQS::QueuePolicy', 1);
    expect(props(t, q.queue).RedrivePolicy).toEqual({ deadLetterTargetArn: arn, maxReceiveCount: 5 });
    expect(alarmsByMetric(t).ApproximateNumberOfMessagesVisible.Dimensions).toEqual([
      { Name: 'QueueName', Value: 'shared-dlq' },
    ]);
  });

  it('deadLetterQueue: false creates none, sets no redrive and no DLQ alarm', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', { deadLetterQueue: false });
    const t = Template.fromStack(stack);
    expect(q.deadLetterQueue).toBeUndefined();
    t.resourceCountIs('AWS::SQS::Queue', 1);
    expect(props(t, q.queue)).not.toHaveProperty('RedrivePolicy');
    t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    expect(Object.keys(alarmsByMetric(t))).toEqual(['ApproximateAgeOfOldestMessage']);
  });
});

describe('Queue: encryption', () => {
  it('KMS: creates one key with rotation, shared by the queue and the DLQ', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', { encryption: QueueEncryption.KMS });
    const t = Template.fromStack(stack);
    const [main, dlq] = mainAndDlq(q);
    t.resourceCountIs('AWS::KMS::Key', 1);
    expect(q.encryptionKey).toBeInstanceOf(kms.Key);
    const keyId = idOf(q.encryptionKey as kms.Key);
    expect(props(t, q.encryptionKey as kms.Key)).toMatchObject({
      EnableKeyRotation: true,
      Description: 'Encrypts queue Stack/Jobs and its dead-letter queue',
    });
    expect(resource(t, q.encryptionKey as kms.Key).DeletionPolicy).toBe('Delete');
    for (const queue of [main, dlq]) {
      expect(props(t, queue).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      expect(props(t, queue)).not.toHaveProperty('SqsManagedSseEnabled');
    }
  });

  it('a given key implies KMS and is used for the queue and the DLQ (no new key)', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const q = new Queue(stack, 'Jobs', { encryptionKey: key });
    const t = Template.fromStack(stack);
    expect(q.encryptionKey).toBe(key);
    t.resourceCountIs('AWS::KMS::Key', 1);
    for (const queue of mainAndDlq(q)) {
      expect(props(t, queue).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [idOf(key), 'Arn'] });
    }
  });

  it('KMS with a given key uses that key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const q = new Queue(stack, 'Jobs', { encryption: QueueEncryption.KMS, encryptionKey: key });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    expect(props(t, q.queue).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [idOf(key), 'Arn'] });
  });

  it('explicit SQS_MANAGED gives SSE-SQS on both queues', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', { encryption: QueueEncryption.SQS_MANAGED });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::KMS::Key', 0);
    for (const queue of mainAndDlq(q)) expect(props(t, queue).SqsManagedSseEnabled).toBe(true);
  });

  it('rejects SQS_MANAGED with an encryptionKey', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'MyKey');
    expect(() => new Queue(stack, 'Jobs', { encryption: QueueEncryption.SQS_MANAGED, encryptionKey: key })).toThrow(
      /\[Stack\/Jobs\] encryptionKey was given with QueueEncryption\.SQS_MANAGED\. Fix: Use QueueEncryption\.KMS/,
    );
  });
});

describe('Queue: visibility, polling and other attributes', () => {
  it('maps visibility, retention, delay, wait time and max message size', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', {
      visibilityTimeout: Duration.minutes(2),
      retentionPeriod: Duration.days(7),
      deliveryDelay: Duration.seconds(15),
      receiveMessageWaitTime: Duration.seconds(5),
      maxMessageSizeBytes: 2048,
    });
    const t = Template.fromStack(stack);
    expect(props(t, q.queue)).toMatchObject({
      VisibilityTimeout: 120,
      MessageRetentionPeriod: 604_800,
      DelaySeconds: 15,
      ReceiveMessageWaitTimeSeconds: 5,
      MaximumMessageSize: 2048,
    });
    expect(q.visibilityTimeoutSeconds).toBe(120);
    // The DLQ keeps its own 14 days whatever the source retention.
    expect(props(t, q.deadLetterQueue as sqs.Queue).MessageRetentionPeriod).toBe(1_209_600);
  });

  it('ensureVisibilityTimeout raises the timeout', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs');
    q.ensureVisibilityTimeout(Duration.minutes(3));
    expect(q.visibilityTimeoutSeconds).toBe(180);
    expect(props(Template.fromStack(stack), q.queue).VisibilityTimeout).toBe(180);
  });

  it('ensureVisibilityTimeout never lowers the timeout', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', { visibilityTimeout: Duration.minutes(10) });
    q.ensureVisibilityTimeout(Duration.minutes(2));
    q.ensureVisibilityTimeout(Duration.seconds(0));
    expect(q.visibilityTimeoutSeconds).toBe(600);
    expect(props(Template.fromStack(stack), q.queue).VisibilityTimeout).toBe(600);
  });

  it('ensureVisibilityTimeout accepts 12 h and throws over 43,200 s', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs');
    expect(() => q.ensureVisibilityTimeout(Duration.seconds(43_201))).toThrow(
      /^\[Stack\/Jobs\] a consumer needs visibility timeout 43201s, over the SQS maximum 43200s\./,
    );
    expect(q.visibilityTimeoutSeconds).toBe(30);
    q.ensureVisibilityTimeout(Duration.hours(12));
    expect(props(Template.fromStack(stack), q.queue).VisibilityTimeout).toBe(43_200);
  });
});

describe('Queue: alarms', () => {
  it('uses a custom oldest-message age', () => {
    const stack = newStack();
    new Queue(stack, 'Jobs', { alarms: { oldestMessageAge: Duration.minutes(5) } });
    const alarm = alarmsByMetric(Template.fromStack(stack)).ApproximateAgeOfOldestMessage;
    expect(alarm.Threshold).toBe(300);
    expect(alarm.AlarmDescription).toContain('is older than 5 minutes');
  });

  it('alarms: false creates no alarm', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', { alarms: false });
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(q.alarms).toEqual([]);
  });

  it('oldestMessageAge 0 disables only the age alarm', () => {
    const stack = newStack();
    new Queue(stack, 'Jobs', { alarms: { oldestMessageAge: Duration.seconds(0) } });
    expect(Object.keys(alarmsByMetric(Template.fromStack(stack)))).toEqual(['ApproximateNumberOfMessagesVisible']);
  });

  it('deadLetterQueueNotEmpty: false disables only the DLQ alarm', () => {
    const stack = newStack();
    new Queue(stack, 'Jobs', { alarms: { deadLetterQueueNotEmpty: false } });
    expect(Object.keys(alarmsByMetric(Template.fromStack(stack)))).toEqual(['ApproximateAgeOfOldestMessage']);
  });

  it('adds the given actions to every alarm', () => {
    const stack = newStack();
    const ops = new Topic(stack, 'Ops').topic;
    new Queue(stack, 'Jobs', { alarms: { actions: [new cloudwatchActions.SnsAction(ops)] } });
    const alarms = Object.values(alarmsByMetric(Template.fromStack(stack)));
    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: idOf(ops) }]);
  });
});

describe('Queue: names', () => {
  it('rejects a name over 80 characters, naming the construct path', () => {
    const stack = newStack();
    const long = 'a'.repeat(81);
    let error: unknown;
    try {
      new Queue(stack, 'Long', { queueName: long, deadLetterQueue: false });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueuekitPropsError);
    expect((error as QueuekitPropsError).constructPath).toBe('Stack/Long');
    expect((error as Error).message).toBe(
      `[Stack/Long] queue name '${long}' is 81 characters, over the SQS limit of 80. Fix: Use a name of at most 80 characters.`,
    );
  });

  it('counts .fifo in the 80 characters', () => {
    const stack = newStack();
    expect(() => new Queue(stack, 'Fifo76', { queueName: 'a'.repeat(76), fifo: true, deadLetterQueue: false })).toThrow(
      /\[Stack\/Fifo76\] queue name 'a{76}\.fifo' is 81 characters.*at most 75 characters/,
    );
    expect(
      () => new Queue(stack, 'Fifo75', { queueName: 'a'.repeat(75), fifo: true, deadLetterQueue: false }),
    ).not.toThrow();
  });

  it("counts the DLQ's -dlq suffix when the DLQ is created", () => {
    const stack = newStack();
    expect(() => new Queue(stack, 'Q77', { queueName: 'b'.repeat(77) })).toThrow(
      /\[Stack\/Q77\] queue name 'b{77}-dlq' is 81 characters/,
    );
    const q = new Queue(stack, 'Q76', { queueName: 'c'.repeat(76) });
    expect(props(Template.fromStack(stack), q.deadLetterQueue as sqs.Queue).QueueName).toBe(`${'c'.repeat(76)}-dlq`);
  });

  it('keeps a queue name given as a token (e.g. from a parameter) for the queue and the DLQ', () => {
    const stack = newStack();
    const env = new CfnParameter(stack, 'Env', { default: 'dev' });
    const std = new Queue(stack, 'Jobs', { queueName: `${env.valueAsString}-jobs` });
    const fifo = new Queue(stack, 'Ledger', { queueName: `${env.valueAsString}-ledger`, fifo: true });
    const t = Template.fromStack(stack);
    const named = (suffix: string) => ({ 'Fn::Join': ['', [{ Ref: 'Env' }, suffix]] });
    expect(props(t, std.queue).QueueName).toEqual(named('-jobs'));
    expect(props(t, mainAndDlq(std)[1]).QueueName).toEqual(named('-jobs-dlq'));
    expect(props(t, fifo.queue).QueueName).toEqual(named('-ledger.fifo'));
    expect(props(t, mainAndDlq(fifo)[1]).QueueName).toEqual(named('-ledger-dlq.fifo'));
    expect(JSON.stringify(props(t, mainAndDlq(std)[1]).RedriveAllowPolicy.sourceQueueArns)).toContain(
      '{"Ref":"Env"},"-jobs"',
    );
  });

  it('keeps generated names within 80 characters for long construct paths', () => {
    const stack = newStack();
    const q = new Queue(stack, 'X'.repeat(120), { fifo: true });
    const t = Template.fromStack(stack);
    const [main, dlq] = mainAndDlq(q);
    const name = props(t, main).QueueName as string;
    const dlqName = props(t, dlq).QueueName as string;
    expect(name.length).toBeLessThanOrEqual(80);
    expect(dlqName.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+\.fifo$/);
    expect(dlqName).toMatch(/^[A-Za-z0-9_-]+-dlq\.fifo$/);
  });
});

describe('Queue: removal policy', () => {
  it('RETAIN applies to the queue, the DLQ and the created key', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', { encryption: QueueEncryption.KMS, removalPolicy: RemovalPolicy.RETAIN });
    const t = Template.fromStack(stack);
    for (const c of [...mainAndDlq(q), q.encryptionKey as kms.Key]) {
      expect(resource(t, c).DeletionPolicy, c.node.path).toBe('Retain');
      expect(resource(t, c).UpdateReplacePolicy, c.node.path).toBe('Retain');
    }
  });

  it('DESTROY is the default for the created key too', () => {
    const stack = newStack();
    const q = new Queue(stack, 'Jobs', { encryption: QueueEncryption.KMS });
    const t = Template.fromStack(stack);
    for (const c of [...mainAndDlq(q), q.encryptionKey as kms.Key])
      expect(resource(t, c).DeletionPolicy).toBe('Delete');
  });
});
