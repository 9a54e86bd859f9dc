import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  Producer,
  producerEnvironmentName,
  Queue,
  QueueEncryption,
  QueuekitPropsError,
  Topic,
} from '../../lib/constructs/index.js';
import { idOf, type Json, newStack, props } from '../support/cdk-template.js';

const entry = new URL('../../lambdas/submit-job.ts', import.meta.url).pathname;

/** Every statement of the identity policies attached to a role. */
function roleStatements(template: Template, role: IConstruct): Json[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p: Json) => p.Properties.Roles.some((r: Json) => r.Ref === idOf(role)))
    .flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
}

function logStatement(producer: Producer): Json {
  const logGroup = producer.node.findChild('FunctionLogGroup') as logs.LogGroup;
  return {
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Effect: 'Allow',
    Resource: { 'Fn::GetAtt': [idOf(logGroup), 'Arn'] },
  };
}

const getAtt = (c: IConstruct, attribute = 'Arn') => ({ 'Fn::GetAtt': [idOf(c), attribute] });

describe('producerEnvironmentName', () => {
  it('names queue URLs and topic ARNs in SNAKE_CASE', () => {
    expect(producerEnvironmentName('queue', 'jobs')).toBe('QUEUEKIT_QUEUE_JOBS_URL');
    expect(producerEnvironmentName('topic', 'jobs')).toBe('QUEUEKIT_TOPIC_JOBS_ARN');
    expect(producerEnvironmentName('queue', 'highPriority')).toBe('QUEUEKIT_QUEUE_HIGH_PRIORITY_URL');
    expect(producerEnvironmentName('topic', 'billingEvents2')).toBe('QUEUEKIT_TOPIC_BILLING_EVENTS2_ARN');
    expect(producerEnvironmentName('queue', 'v2Jobs')).toBe('QUEUEKIT_QUEUE_V2_JOBS_URL');
    expect(producerEnvironmentName('topic', 'billing-events')).toBe('QUEUEKIT_TOPIC_BILLING_EVENTS_ARN');
    expect(producerEnvironmentName('queue', 'audit log.v1')).toBe('QUEUEKIT_QUEUE_AUDIT_LOG_V1_URL');
  });
});

describe('Producer: environment', () => {
  it('puts each queue URL and topic ARN in the environment, next to the defaults and extra variables', () => {
    const stack = newStack();
    const jobs = new Queue(stack, 'Jobs');
    const priority = new Queue(stack, 'Priority');
    const events = new Topic(stack, 'Events');
    const producer = new Producer(stack, 'Submit', {
      entry,
      queues: { jobs, highPriority: priority },
      topics: { jobEvents: events },
      environment: { STAGE: 'test' },
    });
    const fn = props(Template.fromStack(stack), producer.function);
    expect(fn.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      STAGE: 'test',
      QUEUEKIT_QUEUE_JOBS_URL: { Ref: idOf(jobs.queue) },
      QUEUEKIT_QUEUE_HIGH_PRIORITY_URL: { Ref: idOf(priority.queue) },
      QUEUEKIT_TOPIC_JOB_EVENTS_ARN: { Ref: idOf(events.topic) },
    });
    expect(fn).toMatchObject({
      Description: 'Producer Stack/Submit',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
    });
  });

  it('accepts plain and imported queues and topics', () => {
    const stack = newStack();
    const plainQueue = new sqs.Queue(stack, 'PlainQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const importedQueue = sqs.Queue.fromQueueArn(stack, 'ImportedQueue', 'arn:aws:sqs:eu-west-1:123456789012:ext-q');
    const importedTopic = sns.Topic.fromTopicArn(stack, 'ImportedTopic', 'arn:aws:sns:eu-west-1:123456789012:ext-t');
    const producer = new Producer(stack, 'Submit', {
      entry,
      queues: { plain: plainQueue, external: importedQueue },
      topics: { external: importedTopic },
    });
    const t = Template.fromStack(stack);
    const vars = props(t, producer.function).Environment.Variables;
    expect(vars.QUEUEKIT_QUEUE_PLAIN_URL).toEqual({ Ref: idOf(plainQueue) });
    expect(vars.QUEUEKIT_TOPIC_EXTERNAL_ARN).toBe('arn:aws:sns:eu-west-1:123456789012:ext-t');
    expect(JSON.stringify(vars.QUEUEKIT_QUEUE_EXTERNAL_URL)).toContain('/123456789012/ext-q');
    expect(roleStatements(t, producer.function.role as IConstruct)).toEqual([
      logStatement(producer),
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: getAtt(plainQueue) },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: 'arn:aws:sqs:eu-west-1:123456789012:ext-q' },
      { Action: 'sns:Publish', Effect: 'Allow', Resource: 'arn:aws:sns:eu-west-1:123456789012:ext-t' },
    ]);
  });

  it('rejects a producer without targets, naming the construct path', () => {
    const stack = newStack();
    expect(() => new Producer(stack, 'Nothing', { entry })).toThrow(QueuekitPropsError);
    expect(() => new Producer(stack, 'Empty', { entry, queues: {}, topics: {} })).toThrow(
      /^\[Stack\/Empty\] a producer needs at least one queue or topic\. Fix: /,
    );
  });
});

describe('Producer: permissions', () => {
  it('grants only sqs:SendMessage and sns:Publish, plus the keys of encrypted targets', () => {
    const stack = newStack();
    const sse = new Queue(stack, 'Sse');
    const encrypted = new Queue(stack, 'Encrypted', { encryption: QueueEncryption.KMS });
    const events = new Topic(stack, 'Events');
    const producer = new Producer(stack, 'Submit', {
      entry,
      queues: { sse, encrypted },
      topics: { events },
    });
    const t = Template.fromStack(stack);
    expect(roleStatements(t, producer.function.role as IConstruct)).toEqual([
      logStatement(producer),
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: getAtt(sse.queue) },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: getAtt(encrypted.queue) },
      {
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Resource: getAtt(encrypted.encryptionKey as kms.Key),
      },
      { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: idOf(events.topic) } },
      {
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Effect: 'Allow',
        Resource: getAtt(events.encryptionKey as kms.Key),
      },
    ]);
    expect(props(t, producer.function.role as IConstruct)).not.toHaveProperty('ManagedPolicyArns');
  });

  it('invokers get lambda:InvokeFunction on the function and its qualified ARNs', () => {
    const stack = newStack();
    const client = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    const producer = new Producer(stack, 'Submit', {
      entry,
      queues: { jobs: new Queue(stack, 'Jobs') },
      invokers: [client],
    });
    const t = Template.fromStack(stack);
    expect(roleStatements(t, client)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [getAtt(producer.function), { 'Fn::Join': ['', [getAtt(producer.function), ':*']] }],
      },
    ]);
  });

  it('grantInvoke to a service principal adds a Lambda permission', () => {
    const stack = newStack();
    const producer = new Producer(stack, 'Submit', { entry, queues: { jobs: new Queue(stack, 'Jobs') } });
    const grant = producer.grantInvoke(new iam.ServicePrincipal('events.amazonaws.com'));
    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: getAtt(producer.function),
      Principal: 'events.amazonaws.com',
    });
  });

  it('grants nobody invoke rights by default', () => {
    const stack = newStack();
    new Producer(stack, 'Submit', { entry, queues: { jobs: new Queue(stack, 'Jobs') } });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Permission', 0);
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toContain('lambda:InvokeFunction');
  });
});

describe('Producer: outputs', () => {
  it('outputs the function name and ARN by default', () => {
    const stack = newStack();
    const producer = new Producer(stack, 'Submit', { entry, queues: { jobs: new Queue(stack, 'Jobs') } });
    const t = Template.fromStack(stack);
    const outputs = t.toJSON().Outputs as Json;
    expect(producer.functionNameOutput).toBeDefined();
    expect(producer.functionArnOutput).toBeDefined();
    expect(outputs[idOf(producer.functionNameOutput as IConstruct)]).toEqual({
      Description: 'Name of Stack/Submit, for lambda:Invoke',
      Value: { Ref: idOf(producer.function) },
    });
    expect(outputs[idOf(producer.functionArnOutput as IConstruct)]).toEqual({
      Description: 'ARN of Stack/Submit, for lambda:Invoke',
      Value: getAtt(producer.function),
    });
  });

  it('outputs: false emits none', () => {
    const stack = newStack();
    const producer = new Producer(stack, 'Submit', {
      entry,
      queues: { jobs: new Queue(stack, 'Jobs') },
      outputs: false,
    });
    const t = Template.fromStack(stack);
    expect(producer.functionNameOutput).toBeUndefined();
    expect(producer.functionArnOutput).toBeUndefined();
    expect(t.toJSON().Outputs ?? {}).toEqual({});
  });
});
