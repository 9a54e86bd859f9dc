import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { Queue, QueueEncryption, QueuekitPropsError, Topic } from '../../lib/constructs/index.js';
import { capturingConsoleError, idOf, type Json, newStack, props, resource } from '../support/cdk-template.js';

/** Statements of every queue policy attached to the queue. */
function queuePolicyStatements(template: Template, queue: IConstruct): Json[] {
  return Object.values(template.findResources('AWS::SQS::QueuePolicy'))
    .filter((p: Json) => JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: idOf(queue) }]))
    .flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
}

const snsSendStatement = (queue: IConstruct, topic: IConstruct) => ({
  Action: 'sqs:SendMessage',
  Condition: { ArnEquals: { 'aws:SourceArn': { Ref: idOf(topic) } } },
  Effect: 'Allow',
  Principal: { Service: 'sns.amazonaws.com' },
  Resource: { 'Fn::GetAtt': [idOf(queue), 'Arn'] },
});

const tlsDeny = (queue: IConstruct) => ({
  Action: 'sqs:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Resource: { 'Fn::GetAtt': [idOf(queue), 'Arn'] },
});

describe('Topic: the topic', () => {
  it('standard by default, encrypted with a new key with rotation, name left to CloudFormation', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const t = Template.fromStack(stack);
    expect(events.fifo).toBe(false);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::KMS::Key', 1);
    expect(events.encryptionKey).toBeInstanceOf(kms.Key);
    expect(props(t, events.encryptionKey as kms.Key)).toMatchObject({
      EnableKeyRotation: true,
      Description: 'Encrypts SNS topic Stack/Events',
    });
    const p = props(t, events.topic);
    expect(p.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [idOf(events.encryptionKey as kms.Key), 'Arn'] });
    for (const key of ['FifoTopic', 'TopicName', 'ContentBasedDeduplication']) expect(p, key).not.toHaveProperty(key);
    expect(events.node.defaultChild).toBe(events.topic);
    expect(stack.resolve(events.topicArn)).toEqual({ Ref: idOf(events.topic) });
  });

  it('denies publishing without TLS (enforceSSL)', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: idOf(events.topic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: '*',
            Resource: { Ref: idOf(events.topic) },
          }),
        ]),
      },
    });
  });

  it('uses a given key and creates none', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const events = new Topic(stack, 'Events', { encryptionKey: key });
    const t = Template.fromStack(stack);
    expect(events.encryptionKey).toBe(key);
    t.resourceCountIs('AWS::KMS::Key', 1);
    expect(props(t, events.topic).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [idOf(key), 'Arn'] });
  });

  it('uses a given standard name', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events', { topicName: 'job-events' });
    expect(props(Template.fromStack(stack), events.topic).TopicName).toBe('job-events');
  });

  it('is destroyed with the stack by default; RETAIN keeps topic and key', () => {
    const stack = newStack();
    const gone = new Topic(stack, 'Gone');
    const kept = new Topic(stack, 'Kept', { removalPolicy: RemovalPolicy.RETAIN });
    const t = Template.fromStack(stack);
    expect(resource(t, gone.topic).DeletionPolicy).toBe('Delete');
    expect(resource(t, gone.encryptionKey as kms.Key).DeletionPolicy).toBe('Delete');
    expect(resource(t, kept.topic).DeletionPolicy).toBe('Retain');
    expect(resource(t, kept.topic).UpdateReplacePolicy).toBe('Retain');
    expect(resource(t, kept.encryptionKey as kms.Key).DeletionPolicy).toBe('Retain');
  });
});

describe('Topic: FIFO', () => {
  it('appends .fifo to a given name', () => {
    const stack = newStack();
    const billing = new Topic(stack, 'Billing', { topicName: 'billing', fifo: true });
    const p = props(Template.fromStack(stack), billing.topic);
    expect(billing.fifo).toBe(true);
    expect(p).toMatchObject({ TopicName: 'billing.fifo', FifoTopic: true });
  });

  it('infers fifo from a .fifo name and does not double the suffix', () => {
    const stack = newStack();
    const inferred = new Topic(stack, 'Inferred', { topicName: 'a.fifo' });
    const explicit = new Topic(stack, 'Explicit', { topicName: 'b.fifo', fifo: true });
    const t = Template.fromStack(stack);
    expect(inferred.fifo).toBe(true);
    expect(props(t, inferred.topic)).toMatchObject({ TopicName: 'a.fifo', FifoTopic: true });
    expect(props(t, explicit.topic)).toMatchObject({ TopicName: 'b.fifo', FifoTopic: true });
  });

  it('a nameless FIFO topic gets a generated .fifo name', () => {
    const stack = newStack();
    const billing = new Topic(stack, 'Billing', { fifo: true });
    const p = props(Template.fromStack(stack), billing.topic);
    expect(p.FifoTopic).toBe(true);
    expect(p.TopicName).toMatch(/\.fifo$/);
  });

  it('sets ContentBasedDeduplication on a FIFO topic only when asked', () => {
    const stack = newStack();
    const cbd = new Topic(stack, 'Cbd', { fifo: true, contentBasedDeduplication: true });
    const plain = new Topic(stack, 'Plain', { fifo: true });
    const t = Template.fromStack(stack);
    expect(props(t, cbd.topic).ContentBasedDeduplication).toBe(true);
    expect(props(t, plain.topic)).not.toHaveProperty('ContentBasedDeduplication');
  });

  it('rejects contentBasedDeduplication on a standard topic and a .fifo name with fifo: false', () => {
    const stack = newStack();
    expect(() => new Topic(stack, 'Cbd', { contentBasedDeduplication: true })).toThrow(
      /^\[Stack\/Cbd\] contentBasedDeduplication applies to FIFO topics only\./,
    );
    expect(() => new Topic(stack, 'Named', { topicName: 'x.fifo', fifo: false })).toThrow(
      /^\[Stack\/Named\] topicName 'x\.fifo' ends in \.fifo but fifo is false\./,
    );
  });

  it('rejects names over 256 characters, .fifo included', () => {
    const stack = newStack();
    expect(() => new Topic(stack, 'Long', { topicName: 'a'.repeat(257) })).toThrow(QueuekitPropsError);
    expect(() => new Topic(stack, 'LongFifo', { topicName: 'a'.repeat(252), fifo: true })).toThrow(
      /\[Stack\/LongFifo\] topicName is 257 characters\./,
    );
    expect(() => new Topic(stack, 'Max', { topicName: 'a'.repeat(256) })).not.toThrow();
  });
});

describe('Topic.subscribe', () => {
  it('defaults: enveloped, no filter, queue policy for SNS, subscription DLQ', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const jobs = new Queue(stack, 'Jobs');
    const sub = events.subscribe(jobs);
    const t = Template.fromStack(stack);
    const dlq = events.subscriptionDeadLetterQueues[`${stack.node.path}/Jobs`] as sqs.Queue;
    expect(dlq).toBeInstanceOf(sqs.Queue);
    t.resourceCountIs('AWS::SNS::Subscription', 1);
    const p = props(t, sub);
    expect(p).toEqual({
      Protocol: 'sqs',
      TopicArn: { Ref: idOf(events.topic) },
      Endpoint: { 'Fn::GetAtt': [idOf(jobs.queue), 'Arn'] },
      RawMessageDelivery: false,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [idOf(dlq), 'Arn'] } },
    });
  });

  it('adds a queue policy letting sns.amazonaws.com sqs:SendMessage from this topic only, before subscribing', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const jobs = new Queue(stack, 'Jobs');
    const sub = events.subscribe(jobs);
    const t = Template.fromStack(stack);
    const statements = queuePolicyStatements(t, jobs.queue);
    expect(statements).toContainEqual(snsSendStatement(jobs.queue, events.topic));
    expect(statements).toContainEqual(tlsDeny(jobs.queue));
    const policyIds = Object.entries(t.findResources('AWS::SQS::QueuePolicy'))
      .filter(([, r]: [string, Json]) => r.Properties.Queues[0].Ref === idOf(jobs.queue))
      .map(([id]) => id);
    expect(resource(t, sub).DependsOn).toEqual(expect.arrayContaining(policyIds));
  });

  it('filters on message attributes by default', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const filter = { kind: ['image', 'text'], size: [{ numeric: ['>', 0] }] };
    const sub = events.subscribe(new Queue(stack, 'Jobs'), { filter });
    expect(props(Template.fromStack(stack), sub)).toMatchObject({
      FilterPolicy: filter,
      FilterPolicyScope: 'MessageAttributes',
      RawMessageDelivery: false,
    });
  });

  it("filterScope 'attributes' is MessageAttributes and 'body' is MessageBody", () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const attributes = events.subscribe(new Queue(stack, 'A'), { filter: { kind: ['x'] }, filterScope: 'attributes' });
    const body = events.subscribe(new Queue(stack, 'B'), { filter: { priority: ['high'] }, filterScope: 'body' });
    const t = Template.fromStack(stack);
    expect(props(t, attributes).FilterPolicyScope).toBe('MessageAttributes');
    expect(props(t, body)).toMatchObject({ FilterPolicy: { priority: ['high'] }, FilterPolicyScope: 'MessageBody' });
  });

  it('raw delivery', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const sub = events.subscribe(new Queue(stack, 'Audit'), { raw: true });
    const p = props(Template.fromStack(stack), sub);
    expect(p.RawMessageDelivery).toBe(true);
    expect(p).not.toHaveProperty('FilterPolicy');
    expect(p).not.toHaveProperty('FilterPolicyScope');
  });

  it('rejects filterScope without a filter', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const jobs = new Queue(stack, 'Jobs');
    expect(() => events.subscribe(jobs, { filterScope: 'body' })).toThrow(
      /^\[Stack\/Events\] filterScope was given without a filter\. Fix: Add a filter or drop filterScope\.$/,
    );
  });

  it("grants SNS the queue's KMS key when the queue is KMS-encrypted", () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const jobs = new Queue(stack, 'Jobs', { encryption: QueueEncryption.KMS });
    events.subscribe(jobs);
    const keyPolicy = props(Template.fromStack(stack), jobs.encryptionKey as kms.Key).KeyPolicy;
    expect(keyPolicy.Statement).toContainEqual({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Principal: { Service: 'sns.amazonaws.com' },
      Resource: '*',
    });
  });

  it('does not touch the key policy of a queue that is not subscribed', () => {
    const stack = newStack();
    new Topic(stack, 'Events');
    const jobs = new Queue(stack, 'Jobs', { encryption: QueueEncryption.KMS });
    const keyPolicy = props(Template.fromStack(stack), jobs.encryptionKey as kms.Key).KeyPolicy;
    expect(JSON.stringify(keyPolicy)).not.toContain('sns.amazonaws.com');
  });

  it('creates a standard subscription DLQ for a standard topic: 14 days, SSE-SQS, TLS-only, SNS may send, alarm', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    events.subscribe(new Queue(stack, 'Jobs'));
    const t = Template.fromStack(stack);
    const dlq = events.subscriptionDeadLetterQueues[`${stack.node.path}/Jobs`] as sqs.Queue;
    const p = props(t, dlq);
    expect(p).toEqual({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    expect(resource(t, dlq).DeletionPolicy).toBe('Delete');
    const statements = queuePolicyStatements(t, dlq);
    expect(statements).toContainEqual(tlsDeny(dlq));
    expect(statements).toContainEqual(snsSendStatement(dlq, events.topic));
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'SNS could not deliver messages from Stack/Events to Stack/Jobs.',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(dlq), 'QueueName'] } }],
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('creates a FIFO subscription DLQ for a FIFO topic, with a .fifo name within 80 characters', () => {
    const stack = newStack();
    const billing = new Topic(stack, 'Billing', { fifo: true });
    const ledger = new Queue(stack, 'Ledger', { fifo: true });
    const sub = billing.subscribe(ledger, { raw: true });
    const t = Template.fromStack(stack);
    const dlq = billing.subscriptionDeadLetterQueues[`${stack.node.path}/Ledger`] as sqs.Queue;
    const p = props(t, dlq);
    expect(p.FifoQueue).toBe(true);
    expect(p.QueueName).toMatch(/^Stack-Billing-[0-9A-F]{8}-Stack-Ledger-[0-9A-F]{8}-sub-dlq\.fifo$/);
    expect((p.QueueName as string).length).toBeLessThanOrEqual(80);
    expect(props(t, sub).RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [idOf(dlq), 'Arn'] } });
    expect(queuePolicyStatements(t, dlq)).toContainEqual(snsSendStatement(dlq, billing.topic));
  });

  it('one subscription DLQ per subscribed queue', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const a = events.subscribe(new Queue(stack, 'A'));
    const b = events.subscribe(new Queue(stack, 'B'));
    const t = Template.fromStack(stack);
    expect(Object.keys(events.subscriptionDeadLetterQueues).sort()).toEqual([
      `${stack.node.path}/A`,
      `${stack.node.path}/B`,
    ]);
    const dlqA = events.subscriptionDeadLetterQueues[`${stack.node.path}/A`] as sqs.Queue;
    const dlqB = events.subscriptionDeadLetterQueues[`${stack.node.path}/B`] as sqs.Queue;
    expect(props(t, a).RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [idOf(dlqA), 'Arn'] });
    expect(props(t, b).RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [idOf(dlqB), 'Arn'] });
    // 2 queues + their 2 DLQs + 2 subscription DLQs
    t.resourceCountIs('AWS::SQS::Queue', 6);
  });

  it('queues with the same construct id in different scopes get their own subscription DLQ', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const a = events.subscribe(new Queue(new Construct(stack, 'TeamA'), 'Jobs'));
    const b = events.subscribe(new Queue(new Construct(stack, 'TeamB'), 'Jobs'));
    const t = Template.fromStack(stack);
    const dlqA = events.subscriptionDeadLetterQueues[`${stack.node.path}/TeamA/Jobs`] as sqs.Queue;
    const dlqB = events.subscriptionDeadLetterQueues[`${stack.node.path}/TeamB/Jobs`] as sqs.Queue;
    expect(dlqA).not.toBe(dlqB);
    expect(props(t, a).RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [idOf(dlqA), 'Arn'] });
    expect(props(t, b).RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [idOf(dlqB), 'Arn'] });
  });

  it('gives a FIFO subscription DLQ a valid name whatever the queue id', () => {
    const stack = newStack();
    const billing = new Topic(stack, 'Billing', { fifo: true });
    billing.subscribe(
      new Queue(stack, 'Ledger Queue With A Space And A Very Long Identifier That Goes On And On', { fifo: true }),
    );
    const names = Object.values(Template.fromStack(stack).findResources('AWS::SQS::Queue')).map(
      (r) => (r as { Properties: { QueueName?: string } }).Properties.QueueName ?? '',
    );
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,75}\.fifo$/);
  });

  it('subscription DLQ follows the removal policy of the topic', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events', { removalPolicy: RemovalPolicy.RETAIN });
    events.subscribe(new Queue(stack, 'Jobs'));
    const dlq = events.subscriptionDeadLetterQueues[`${stack.node.path}/Jobs`] as sqs.Queue;
    expect(resource(Template.fromStack(stack), dlq).DeletionPolicy).toBe('Retain');
  });

  it('uses a given subscription DLQ and creates none', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const own = new sqs.Queue(stack, 'OwnSubDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const jobs = new Queue(stack, 'Jobs');
    const sub = events.subscribe(jobs, { deadLetterQueue: own });
    const t = Template.fromStack(stack);
    expect(events.subscriptionDeadLetterQueues).toEqual({});
    t.resourceCountIs('AWS::SQS::Queue', 3);
    expect(props(t, sub).RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [idOf(own), 'Arn'] } });
    expect(queuePolicyStatements(t, own)).toContainEqual(snsSendStatement(own, events.topic));
  });

  it('deadLetterQueue: false subscribes without a DLQ, and the topology check warns', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const sub = events.subscribe(new Queue(stack, 'Jobs'), { deadLetterQueue: false });
    let t: Template | undefined;
    const printed = capturingConsoleError(() => {
      t = Template.fromStack(stack);
    });
    expect(props(t as Template, sub)).not.toHaveProperty('RedrivePolicy');
    expect(events.subscriptionDeadLetterQueues).toEqual({});
    (t as Template).resourceCountIs('AWS::SQS::Queue', 2);
    expect(printed).toContain("Acknowledge with 'Queuekit::subscription-without-dlq'");
  });

  it('subscribes a plain sqs.Queue too', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const plain = new sqs.Queue(stack, 'Plain', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: {
        queue: new sqs.Queue(stack, 'PlainDlq', {
          encryption: sqs.QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          retentionPeriod: Duration.days(14),
        }),
        maxReceiveCount: 5,
      },
    });
    const sub = events.subscribe(plain);
    const t = Template.fromStack(stack);
    expect(props(t, sub).Endpoint).toEqual({ 'Fn::GetAtt': [idOf(plain), 'Arn'] });
    expect(queuePolicyStatements(t, plain)).toContainEqual(snsSendStatement(plain, events.topic));
    expect(events.subscriptionDeadLetterQueues[`${stack.node.path}/Plain`]).toBeInstanceOf(sqs.Queue);
  });

  it('grantPublish grants sns:Publish on the topic and use of its key', () => {
    const stack = newStack();
    const events = new Topic(stack, 'Events');
    const role = new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    events.grantPublish(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: idOf(role) }],
      PolicyDocument: {
        Statement: [
          { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: idOf(events.topic) } },
          {
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [idOf(events.encryptionKey as kms.Key), 'Arn'] },
          },
        ],
      },
    });
  });
});
