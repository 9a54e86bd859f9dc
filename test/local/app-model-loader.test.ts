// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not template literals
/**
 * Reading a cloud assembly and building the app model from it, on small assemblies written by hand into temp
 * folders (manifest.json, templates, an asset folder): stack and resource order, what each resource type becomes
 * (queues, topics, subscriptions, functions with their role policies, event source mappings), display names,
 * conditions, what is listed as not emulated, and the order the provisioning hooks are called in. One test loads
 * the real reference app.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppModel, LocalQueue, LocalSubscription, LocalTopic } from '../../lib/local/app-model.js';
import { loadAppModel, type ProvisionHooks } from '../../lib/local/app-model-loader.js';
import { AWS_MANAGED_POLICIES } from '../../lib/local/aws-managed-policies.js';
import {
  readCloudAssembly,
  referencedLogicalIds,
  resourceOrder,
  type StackTemplateDocument,
} from '../../lib/local/cloud-assembly.js';
import { AssemblyError } from '../../lib/local/errors.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const sqsArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const snsArn = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'queuekit-assembly-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface StackSpec {
  readonly template: StackTemplateDocument;
  readonly dependencies?: string[];
  readonly stackName?: string;
}

/** Writes manifest.json (stacks plus an asset manifest and a tree artifact, as cdk writes) and the templates. */
function writeAssembly(stacks: Record<string, StackSpec>, dir = tempDir()): string {
  const artifacts: Record<string, unknown> = {};
  for (const [id, spec] of Object.entries(stacks)) {
    artifacts[`${id}.assets`] = {
      type: 'cdk:asset-manifest',
      properties: { file: `${id}.assets.json` },
    };
    artifacts[id] = {
      type: 'aws:cloudformation:stack',
      environment: 'aws://unknown-account/unknown-region',
      properties: {
        templateFile: `${id}.template.json`,
        ...(spec.stackName && { stackName: spec.stackName }),
      },
      dependencies: [...(spec.dependencies ?? []), `${id}.assets`],
    };
    writeFileSync(join(dir, `${id}.template.json`), JSON.stringify(spec.template, null, 1));
  }
  artifacts.Tree = { type: 'cdk:tree', properties: { file: 'tree.json' } };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '48.0.0', artifacts }, null, 1));
  return dir;
}

const meta = (path: string) => ({ 'aws:cdk:path': path });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

// ---------------------------------------------------------------------------------------------------------------
// The hand-built app: a messaging stack and a compute stack that imports from it (listed first in the manifest).
// Resources are deliberately listed out of dependency order.

const JOBS_FILTER = { kind: ['image', 'text'] };
const AUDIT_FILTER = { amount: [{ numeric: ['>', 100] }] };

const MESSAGING: StackTemplateDocument = {
  Parameters: { Env: { Type: 'String', Default: 'dev' } },
  Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
  Resources: {
    JobsSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sqs',
        TopicArn: { Ref: 'EventsTopic' },
        Endpoint: arnOf('JobsQueue'),
        FilterPolicy: JOBS_FILTER,
        RawMessageDelivery: true,
        RedrivePolicy: { deadLetterTargetArn: arnOf('SubscriptionDlq') },
      },
      Metadata: meta('Messaging/Jobs/Queue/MessagingEventsTopic/Resource'),
    },
    AuditSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sqs',
        TopicArn: { Ref: 'EventsTopic' },
        Endpoint: arnOf('AuditQueue'),
        FilterPolicy: JSON.stringify(AUDIT_FILTER),
        FilterPolicyScope: 'MessageBody',
      },
      Metadata: meta('Messaging/Audit/Queue/MessagingEventsTopic/Resource'),
    },
    EmailSubscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: { Protocol: 'email', TopicArn: { Ref: 'EventsTopic' }, Endpoint: 'ops@example.com' },
      Metadata: meta('Messaging/Events/Email/Resource'),
    },
    JobsQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        VisibilityTimeout: { 'Fn::If': ['IsProd', 300, 30] },
        DelaySeconds: { 'Fn::If': ['IsProd', 5, { Ref: 'AWS::NoValue' }] },
        MessageRetentionPeriod: 345600,
        RedrivePolicy: { deadLetterTargetArn: arnOf('JobsDlq'), maxReceiveCount: 3 },
        KmsMasterKeyId: arnOf('Key'),
      },
      Metadata: meta('Messaging/Jobs/Queue/Resource'),
    },
    JobsDlq: {
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 1209600, RedriveAllowPolicy: { redrivePermission: 'allowAll' } },
      Metadata: meta('Messaging/Jobs/DeadLetterQueue/Resource'),
    },
    OrdersQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: { FifoQueue: true, ContentBasedDeduplication: true, VisibilityTimeout: 60 },
      Metadata: meta('Messaging/Orders/Queue/Resource'),
    },
    AuditQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: 'audit-log' },
      Metadata: meta('Messaging/Audit/Queue/Resource'),
    },
    SubscriptionDlq: {
      Type: 'AWS::SQS::Queue',
      Metadata: meta('Messaging/Events/SubscriptionDlq/Resource'),
    },
    // Two queues whose short names clash ('Dup'): both fall back to their paths.
    DupQueue: { Type: 'AWS::SQS::Queue', Metadata: meta('Messaging/Dup/Queue/Resource') },
    DupOther: { Type: 'AWS::SQS::Queue', Metadata: meta('Messaging/Dup/Resource') },
    ProdOnlyQueue: {
      Type: 'AWS::SQS::Queue',
      Condition: 'IsProd',
      Metadata: meta('Messaging/ProdOnly/Queue/Resource'),
    },
    EventsTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: { DisplayName: 'Job events', KmsMasterKeyId: arnOf('Key') },
      Metadata: meta('Messaging/Events/Topic/Resource'),
    },
    // A topic with the same short name as a queue: names are unique per kind, so no clash.
    JobsTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: { TopicName: 'jobs.fifo', FifoTopic: true, ContentBasedDeduplication: true },
      Metadata: meta('Messaging/Jobs/Topic/Resource'),
    },
    PayloadBucket: { Type: 'AWS::S3::Bucket', Metadata: meta('Messaging/Payloads/Resource') },
    Key: { Type: 'AWS::KMS::Key', Metadata: meta('Messaging/Key/Resource') },
    JobsAlarm: { Type: 'AWS::CloudWatch::Alarm', Metadata: meta('Messaging/Jobs/Alarm/Resource') },
    OrdersAlarm: { Type: 'AWS::CloudWatch::Alarm', Metadata: meta('Messaging/Orders/Alarm/Resource') },
    CDKMetadata: { Type: 'AWS::CDK::Metadata', Metadata: meta('Messaging/CDKMetadata/Default') },
  },
  Outputs: {
    JobsQueueArn: { Value: arnOf('JobsQueue'), Export: { Name: 'Messaging:JobsQueueArn' } },
    JobsQueueUrl: { Value: { Ref: 'JobsQueue' }, Export: { Name: { 'Fn::Sub': '${AWS::StackName}:JobsQueueUrl' } } },
    OrdersQueueArn: { Value: arnOf('OrdersQueue'), Export: { Name: 'Messaging:OrdersQueueArn' } },
    EventsTopicArn: { Value: { Ref: 'EventsTopic' }, Export: { Name: 'Messaging:EventsTopicArn' } },
    NotExported: { Value: 'x' },
  },
};

const BASIC_EXECUTION = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']],
};
const UNKNOWN_MANAGED = 'arn:aws:iam::aws:policy/SomethingAwsHasButWeDoNot';
const INLINE_DOC = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: { 'Fn::ImportValue': 'Messaging:EventsTopicArn' } }],
};
const DEFAULT_POLICY_DOC = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
      Resource: { 'Fn::ImportValue': 'Messaging:JobsQueueArn' },
    },
  ],
};
const APP_MANAGED_DOC = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
};

const COMPUTE: StackTemplateDocument = {
  Resources: {
    WorkerMapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'WorkerFunction' },
        EventSourceArn: { 'Fn::ImportValue': 'Messaging:JobsQueueArn' },
        MaximumBatchingWindowInSeconds: 5,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      },
      Metadata: meta('Compute/Worker/Function/SqsEventSource:Jobs/Resource'),
    },
    OrdersMapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: arnOf('WorkerFunction'),
        EventSourceArn: { 'Fn::ImportValue': 'Messaging:OrdersQueueArn' },
        BatchSize: 1,
        Enabled: false,
      },
      Metadata: meta('Compute/Worker/Function/SqsEventSource:Orders/Resource'),
    },
    WorkerFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Code: { S3Bucket: { 'Fn::Sub': 'cdk-assets-${AWS::AccountId}-${AWS::Region}' }, S3Key: 'abc123.zip' },
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Role: arnOf('WorkerRole'),
        Timeout: 30,
        MemorySize: 256,
        ReservedConcurrentExecutions: 4,
        Environment: {
          Variables: {
            QUEUE_URL: { 'Fn::ImportValue': 'Messaging:JobsQueueUrl' },
            REGION: { Ref: 'AWS::Region' },
            RETRIES: 5,
          },
        },
      },
      DependsOn: ['WorkerRoleDefaultPolicy', 'WorkerRole'],
      Metadata: {
        'aws:cdk:path': 'Compute/Worker/Function/Resource',
        'aws:asset:path': 'asset.abc123',
        'aws:asset:property': 'Code',
      },
    },
    PythonFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'app.handler', Runtime: 'python3.12', Role: arnOf('WorkerRole') },
      Metadata: { 'aws:cdk:path': 'Compute/Py/Function/Resource', 'aws:asset:path': 'asset.abc123' },
    },
    WorkerRoleDefaultPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'WorkerRoleDefaultPolicy',
        PolicyDocument: DEFAULT_POLICY_DOC,
        Roles: [{ Ref: 'WorkerRole' }],
      },
      Metadata: meta('Compute/Worker/FunctionRole/DefaultPolicy/Resource'),
    },
    WorkerRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        },
        ManagedPolicyArns: [BASIC_EXECUTION, UNKNOWN_MANAGED, { Ref: 'AppManagedPolicy' }],
        Policies: [{ PolicyName: 'inline', PolicyDocument: INLINE_DOC }],
      },
      Metadata: meta('Compute/Worker/FunctionRole/Resource'),
    },
    AppManagedPolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: { ManagedPolicyName: 'app-read-payloads', PolicyDocument: APP_MANAGED_DOC },
      Metadata: meta('Compute/ReadPayloads/Resource'),
    },
    WorkerLogs: { Type: 'AWS::Logs::LogGroup', Metadata: meta('Compute/Worker/LogGroup/Resource') },
    MoreAlarms: { Type: 'AWS::CloudWatch::Alarm', Metadata: meta('Compute/Worker/Alarm/Resource') },
  },
};

function writeApp(): string {
  const dir = writeAssembly({
    Compute: { template: COMPUTE, dependencies: ['Messaging'] },
    Messaging: { template: MESSAGING },
  });
  mkdirSync(join(dir, 'asset.abc123'));
  writeFileSync(join(dir, 'asset.abc123', 'index.mjs'), 'export const handler = async () => ({});\n');
  return dir;
}

/** Hooks that record every call and hand back recognisable URLs and ARNs. */
function recordingHooks() {
  const calls: string[] = [];
  const hooks: ProvisionHooks = {
    async queue(queue: LocalQueue) {
      calls.push(`queue ${queue.logicalId}`);
      return `http://target.test/${ACCOUNT}/${queue.name}`;
    },
    async topic(topic: LocalTopic) {
      calls.push(`topic ${topic.logicalId}`);
    },
    async subscription(subscription: LocalSubscription) {
      calls.push(`subscription ${subscription.logicalId}`);
      return `${subscription.topicArn}:sub-${subscription.logicalId}`;
    },
    async bucket(name: string) {
      calls.push(`bucket ${name}`);
    },
  };
  return { calls, hooks };
}

const byLogicalId = <T extends { logicalId: string }>(list: readonly T[], id: string): T => {
  const found = list.find((e) => e.logicalId === id);
  if (!found) throw new Error(`no ${id} in [${list.map((e) => e.logicalId).join(', ')}]`);
  return found;
};

// ---------------------------------------------------------------------------------------------------------------

describe('readCloudAssembly', () => {
  it('orders stacks by their dependencies and reads their templates', () => {
    const dir = writeApp();
    const assembly = readCloudAssembly(dir);
    expect(assembly.directory).toBe(dir);
    expect(assembly.stacks.map((s) => s.id)).toEqual(['Messaging', 'Compute']);
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['Messaging', 'Compute']);
    expect(assembly.stacks[0]?.templatePath).toBe(join(dir, 'Messaging.template.json'));
    expect(Object.keys(assembly.stacks[1]?.template.Resources ?? {})).toContain('WorkerFunction');
  });

  it('takes the deployed stack name from the manifest', () => {
    const dir = writeAssembly({ Main: { template: { Resources: {} }, stackName: 'main-dev' } });
    expect(readCloudAssembly(dir).stacks[0]).toMatchObject({ id: 'Main', stackName: 'main-dev' });
  });

  it('orders a chain of three stacks whatever the manifest order', () => {
    const dir = writeAssembly({
      C: { template: {}, dependencies: ['B'] },
      A: { template: {} },
      B: { template: {}, dependencies: ['A'] },
    });
    expect(readCloudAssembly(dir).stacks.map((s) => s.id)).toEqual(['A', 'B', 'C']);
  });

  it('fails on stacks that depend on each other in a cycle, naming it', () => {
    const dir = writeAssembly({
      A: { template: {}, dependencies: ['B'] },
      B: { template: {}, dependencies: ['A'] },
    });
    expect(() => readCloudAssembly(dir)).toThrow(AssemblyError);
    expect(() => readCloudAssembly(dir)).toThrow('stacks depend on each other in a cycle: A → B → A.');
  });

  it('fails on a folder without manifest.json, and on an assembly without stacks, saying the fix', () => {
    const empty = tempDir();
    expect(() => readCloudAssembly(empty)).toThrow(
      /is not a cloud assembly \(no manifest\.json\)\. Fix: run 'cdk synth'/,
    );
    const noStacks = tempDir();
    writeFileSync(join(noStacks, 'manifest.json'), JSON.stringify({ version: '48.0.0', artifacts: {} }));
    expect(() => readCloudAssembly(noStacks)).toThrow(/holds no stack\. Fix:/);
  });
});

describe('resource order', () => {
  it('puts each resource after what it references (Ref, GetAtt both forms, Sub) and what it DependsOn', () => {
    const template: StackTemplateDocument = {
      Resources: {
        E: { Type: 'T', Properties: { X: { 'Fn::Sub': ['${D.Arn}-${Var}', { Var: { Ref: 'C' } }] } } },
        D: { Type: 'T', Properties: { X: { 'Fn::GetAtt': 'B.Arn' } } },
        C: { Type: 'T', DependsOn: 'A' },
        B: { Type: 'T', Properties: { X: [{ 'Fn::GetAtt': ['A', 'Arn'] }] }, DependsOn: ['C'] },
        A: { Type: 'T', Properties: { X: { Ref: 'AWS::Region' }, Y: { Ref: 'SomeParameter' } } },
      },
    };
    const order = resourceOrder(template);
    expect(order).toHaveLength(5);
    const expectBefore = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
    expectBefore('A', 'B');
    expectBefore('A', 'C');
    expectBefore('C', 'B');
    expectBefore('B', 'D');
    expectBefore('D', 'E');
    expectBefore('C', 'E');
  });

  it('terminates on a reference cycle (CloudFormation rejects those)', () => {
    const order = resourceOrder({
      Resources: { A: { Type: 'T', Properties: { X: { Ref: 'B' } } }, B: { Type: 'T', DependsOn: 'A' } },
    });
    expect(order.sort()).toEqual(['A', 'B']);
  });

  it('collects referenced logical ids without pseudo parameters and literals', () => {
    const ids = referencedLogicalIds({
      a: { Ref: 'Queue' },
      b: { Ref: 'AWS::AccountId' },
      c: { 'Fn::Sub': 'arn:${AWS::Partition}:${Topic.TopicName}/${!Literal}/${Param}' },
      d: [{ 'Fn::GetAtt': ['Role', 'Arn'] }, { 'Fn::GetAtt': 'Fn.Arn' }],
    });
    expect([...ids].sort()).toEqual(['Fn', 'Param', 'Queue', 'Role', 'Topic']);
  });
});

describe('loadAppModel on a hand-built two-stack app', () => {
  let dir: string;
  let model: AppModel;
  let calls: string[];

  beforeAll(async () => {
    dir = writeApp();
    const recording = recordingHooks();
    calls = recording.calls;
    model = await loadAppModel(readCloudAssembly(dir), { hooks: recording.hooks });
  });

  it('lists the stacks in deployment order, with the local region and account', () => {
    expect(model.stacks).toEqual(['Messaging', 'Compute']);
    expect(model.region).toBe(REGION);
    expect(model.accountId).toBe(ACCOUNT);
  });

  it('maps queue properties to CreateQueue attributes (conditions and AWS::NoValue resolved, KMS left out)', () => {
    const jobs = byLogicalId(model.queues, 'JobsQueue');
    expect(jobs.name).toBe('Messaging-JobsQueue');
    expect(jobs.arn).toBe(sqsArn('Messaging-JobsQueue'));
    expect(jobs.fifo).toBe(false);
    expect(jobs.attributes).toEqual({
      VisibilityTimeout: '30',
      MessageRetentionPeriod: '345600',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqsArn('Messaging-JobsDlq'), maxReceiveCount: 3 }),
    });
    expect(jobs.deadLetter).toEqual({ arn: sqsArn('Messaging-JobsDlq'), maxReceiveCount: 3 });
    expect(jobs.deadLetterFor).toEqual([]);
  });

  it('links a dead-letter queue to the queues whose redrive policy names it, and keeps RedriveAllowPolicy as JSON', () => {
    const dlq = byLogicalId(model.queues, 'JobsDlq');
    expect(dlq.deadLetter).toBeUndefined();
    expect(dlq.deadLetterFor).toEqual([sqsArn('Messaging-JobsQueue')]);
    expect(dlq.attributes).toEqual({
      MessageRetentionPeriod: '1209600',
      RedriveAllowPolicy: '{"redrivePermission":"allowAll"}',
    });
  });

  it('names a FIFO queue with the .fifo suffix and passes its FIFO attributes', () => {
    const orders = byLogicalId(model.queues, 'OrdersQueue');
    expect(orders.name).toBe('Messaging-OrdersQueue.fifo');
    expect(orders.fifo).toBe(true);
    expect(orders.attributes).toEqual({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '60',
    });
  });

  it('keeps an explicit QueueName', () => {
    expect(byLogicalId(model.queues, 'AuditQueue')).toMatchObject({ name: 'audit-log', arn: sqsArn('audit-log') });
  });

  it('sets queue URLs to what the queue hook returned', () => {
    for (const q of model.queues) expect(q.url).toBe(`http://target.test/${ACCOUNT}/${q.name}`);
  });

  it('skips a resource whose condition is false', () => {
    expect(model.queues.map((q) => q.logicalId)).not.toContain('ProdOnlyQueue');
    expect(calls).not.toContain('queue ProdOnlyQueue');
    expect(model.unemulated.flatMap((u) => u.paths)).not.toContain('Messaging/ProdOnly/Queue');
  });

  it('maps topics: physical names, FIFO, attributes without KMS', () => {
    const events = byLogicalId(model.topics, 'EventsTopic');
    expect(events).toMatchObject({
      name: 'Messaging-EventsTopic',
      arn: snsArn('Messaging-EventsTopic'),
      fifo: false,
      attributes: { DisplayName: 'Job events' },
    });
    expect(Object.keys(events.attributes)).toEqual(['DisplayName']);
    expect(byLogicalId(model.topics, 'JobsTopic')).toMatchObject({
      name: 'jobs.fifo',
      fifo: true,
      attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'true' },
    });
  });

  it('maps an SQS subscription with a filter policy object (kept an object), raw delivery and a redrive DLQ', () => {
    const sub = byLogicalId(model.subscriptions, 'JobsSubscription');
    expect(sub).toMatchObject({
      topicArn: snsArn('Messaging-EventsTopic'),
      queueArn: sqsArn('Messaging-JobsQueue'),
      rawMessageDelivery: true,
      filterPolicy: JOBS_FILTER,
      filterPolicyScope: 'MessageAttributes',
      redriveDeadLetterArn: sqsArn('Messaging-SubscriptionDlq'),
      arn: `${snsArn('Messaging-EventsTopic')}:sub-JobsSubscription`,
      displayName: 'Events → Jobs',
      path: 'Messaging/Jobs/Queue/MessagingEventsTopic',
    });
  });

  it('parses a filter policy given as a string, with its scope', () => {
    const sub = byLogicalId(model.subscriptions, 'AuditSubscription');
    expect(sub.filterPolicy).toEqual(AUDIT_FILTER);
    expect(sub.filterPolicyScope).toBe('MessageBody');
    expect(sub.rawMessageDelivery).toBe(false);
    expect(sub.redriveDeadLetterArn).toBeUndefined();
    expect(sub.displayName).toBe('Events → Audit');
  });

  it('lists a subscription of another protocol as not emulated, and does not model it', () => {
    expect(model.subscriptions.map((s) => s.logicalId)).not.toContain('EmailSubscription');
    expect(model.unemulated).toContainEqual({
      type: 'AWS::SNS::Subscription (protocol email)',
      paths: ['Messaging/Events/Email'],
    });
    expect(calls).not.toContain('subscription EmailSubscription');
  });

  it('maps a Node.js function: asset folder from its metadata, environment resolved across stacks', () => {
    expect(model.functions).toHaveLength(1);
    const fn = byLogicalId(model.functions, 'WorkerFunction');
    expect(fn).toMatchObject({
      name: 'Compute-WorkerFunction',
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Compute-WorkerFunction`,
      handler: 'index.handler',
      codeDir: join(dir, 'asset.abc123'),
      runtime: 'nodejs22.x',
      timeoutSeconds: 30,
      memoryMb: 256,
      reservedConcurrency: 4,
      displayName: 'Worker',
    });
    expect(existsSync(join(fn.codeDir, 'index.mjs'))).toBe(true);
    expect(fn.environment).toEqual({
      QUEUE_URL: `http://target.test/${ACCOUNT}/Messaging-JobsQueue`,
      REGION,
      RETRIES: '5',
    });
  });

  it("gathers the role's policies: inline, AWS::IAM::Policy, the app's managed policy and AWS managed ones", () => {
    const role = byLogicalId(model.functions, 'WorkerFunction').role;
    expect(role?.name).toBe('Compute-WorkerRole');
    expect(role?.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/Compute-WorkerRole`);
    const inline = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: snsArn('Messaging-EventsTopic') }],
    };
    const defaultPolicy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
          Resource: sqsArn('Messaging-JobsQueue'),
        },
      ],
    };
    expect(role?.policies).toHaveLength(4);
    expect(role?.policies).toEqual(
      expect.arrayContaining([
        inline,
        defaultPolicy,
        APP_MANAGED_DOC,
        AWS_MANAGED_POLICIES.AWSLambdaBasicExecutionRole as object,
      ]),
    );
  });

  it('lists an unknown managed policy as granting nothing locally', () => {
    expect(model.unemulated).toContainEqual({
      type: 'IAM managed policy (grants nothing locally)',
      paths: [UNKNOWN_MANAGED],
    });
  });

  it('lists a function of another runtime as not emulated', () => {
    expect(model.unemulated).toContainEqual({
      type: 'AWS::Lambda::Function (runtime python3.12)',
      paths: ['Compute/Py/Function'],
    });
  });

  it('maps an event source mapping with FunctionName as a Ref: defaults, window, partial failures, scaling', () => {
    const m = byLogicalId(model.mappings, 'WorkerMapping');
    expect(m).toMatchObject({
      functionName: 'Compute-WorkerFunction',
      queueArn: sqsArn('Messaging-JobsQueue'),
      batchSize: 10,
      maxBatchingWindowSeconds: 5,
      reportBatchItemFailures: true,
      maxConcurrency: 2,
      enabled: true,
      displayName: 'Jobs → Worker',
    });
  });

  it('maps an event source mapping with FunctionName as an ARN', () => {
    const m = byLogicalId(model.mappings, 'OrdersMapping');
    expect(m).toMatchObject({
      functionName: 'Compute-WorkerFunction',
      queueArn: sqsArn('Messaging-OrdersQueue.fifo'),
      batchSize: 1,
      maxBatchingWindowSeconds: 0,
      reportBatchItemFailures: false,
      enabled: false,
      displayName: 'Orders → Worker',
    });
    expect(m.maxConcurrency).toBeUndefined();
  });

  it('strips the stack and a trailing Queue/Topic/Function from display names; clashes fall back to the path', () => {
    const names = Object.fromEntries(model.queues.map((q) => [q.logicalId, q.displayName]));
    expect(names).toEqual({
      JobsQueue: 'Jobs',
      JobsDlq: 'Jobs/DeadLetterQueue',
      OrdersQueue: 'Orders',
      AuditQueue: 'Audit',
      SubscriptionDlq: 'Events/SubscriptionDlq',
      DupQueue: 'Messaging/Dup/Queue',
      DupOther: 'Messaging/Dup',
    });
    expect(byLogicalId(model.topics, 'EventsTopic').displayName).toBe('Events');
    expect(byLogicalId(model.topics, 'JobsTopic').displayName).toBe('Jobs');
    expect(byLogicalId(model.queues, 'JobsQueue').path).toBe('Messaging/Jobs/Queue');
  });

  it('lists each unemulated type once with all its paths, and leaves out IAM and CDK metadata', () => {
    const types = model.unemulated.map((u) => u.type);
    expect(new Set(types).size).toBe(types.length);
    expect(model.unemulated).toContainEqual({
      type: 'AWS::CloudWatch::Alarm',
      paths: ['Messaging/Jobs/Alarm', 'Messaging/Orders/Alarm', 'Compute/Worker/Alarm'],
    });
    expect(model.unemulated).toContainEqual({ type: 'AWS::KMS::Key', paths: ['Messaging/Key'] });
    expect(model.unemulated).toContainEqual({ type: 'AWS::Logs::LogGroup', paths: ['Compute/Worker/LogGroup'] });
    for (const type of types) expect(type).not.toMatch(/^AWS::(IAM|CDK)::/);
    expect(types).not.toContain('AWS::S3::Bucket');
  });

  it('provisions a bucket with a CloudFormation-like lowercase name', () => {
    expect(calls).toContain('bucket messaging-payloadbucket');
  });

  it('calls the provisioning hooks once each, in dependency order', () => {
    const at = (call: string) => {
      expect(calls.filter((c) => c === call)).toHaveLength(1);
      return calls.indexOf(call);
    };
    // A DLQ before the queue whose redrive policy names it.
    expect(at('queue JobsDlq')).toBeLessThan(at('queue JobsQueue'));
    // A topic and the subscribed queue (and the subscription's DLQ) before the subscription.
    expect(at('topic EventsTopic')).toBeLessThan(at('subscription JobsSubscription'));
    expect(at('queue JobsQueue')).toBeLessThan(at('subscription JobsSubscription'));
    expect(at('queue SubscriptionDlq')).toBeLessThan(at('subscription JobsSubscription'));
    expect(at('topic EventsTopic')).toBeLessThan(at('subscription AuditSubscription'));
    expect(at('queue AuditQueue')).toBeLessThan(at('subscription AuditSubscription'));
    expect(calls.filter((c) => c.startsWith('queue '))).toHaveLength(7);
    expect(calls.filter((c) => c.startsWith('subscription '))).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith('topic '))).toHaveLength(2);
  });

  it('builds the same model without hooks, with placeholder queue URLs and no subscription ARNs', async () => {
    const plain = await loadAppModel(readCloudAssembly(dir));
    expect(byLogicalId(plain.queues, 'JobsQueue').url).toBe(`http://localhost/${ACCOUNT}/Messaging-JobsQueue`);
    expect(byLogicalId(plain.subscriptions, 'JobsSubscription').arn).toBeUndefined();
    expect(byLogicalId(plain.functions, 'WorkerFunction').environment.QUEUE_URL).toBe(
      `http://localhost/${ACCOUNT}/Messaging-JobsQueue`,
    );
    expect(plain.queues.map((q) => q.displayName)).toEqual(model.queues.map((q) => q.displayName));
  });

  it('takes the region and account from the options', async () => {
    const other = await loadAppModel(readCloudAssembly(dir), { region: 'eu-west-1', accountId: '111111111111' });
    expect(byLogicalId(other.queues, 'JobsQueue').arn).toBe('arn:aws:sqs:eu-west-1:111111111111:Messaging-JobsQueue');
    expect(byLogicalId(other.functions, 'WorkerFunction').environment.REGION).toBe('eu-west-1');
    expect(byLogicalId(other.mappings, 'WorkerMapping').queueArn).toBe(
      'arn:aws:sqs:eu-west-1:111111111111:Messaging-JobsQueue',
    );
  });
});

describe('loadAppModel errors and edge cases', () => {
  it('fails on an import no stack exports, naming the construct path', async () => {
    const dir = writeAssembly({
      Main: {
        template: {
          Resources: {
            Q: {
              Type: 'AWS::SQS::Queue',
              Properties: { QueueName: { 'Fn::ImportValue': 'Elsewhere:Name' } },
              Metadata: meta('Main/Q/Resource'),
            },
          },
        },
      },
    });
    await expect(loadAppModel(readCloudAssembly(dir))).rejects.toThrow(
      /^Main\/Q: Fn::ImportValue Elsewhere:Name: no stack of the cloud assembly exports it\. Fix:/,
    );
  });

  it('fails on an event source mapping to a function that is not a Node.js function of the app', async () => {
    const dir = writeAssembly({
      Main: {
        template: {
          Resources: {
            Q: { Type: 'AWS::SQS::Queue' },
            M: {
              Type: 'AWS::Lambda::EventSourceMapping',
              Properties: { FunctionName: 'somewhere-else', EventSourceArn: arnOf('Q') },
              Metadata: meta('Main/M/Resource'),
            },
          },
        },
      },
    });
    const load = loadAppModel(readCloudAssembly(dir));
    await expect(load).rejects.toThrow(AssemblyError);
    await expect(load).rejects.toThrow(
      /^Main\/M: event source mapping invokes somewhere-else, which is not a Node\.js/,
    );
  });

  it('lists a Node.js function whose code is not in the assembly as not emulated', async () => {
    const dir = writeAssembly({
      Main: {
        template: {
          Resources: {
            F: {
              Type: 'AWS::Lambda::Function',
              Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler' },
              Metadata: { 'aws:cdk:path': 'Main/F/Resource', 'aws:asset:path': 'asset.missing' },
            },
          },
        },
      },
    });
    const model = await loadAppModel(readCloudAssembly(dir));
    expect(model.functions).toEqual([]);
    expect(model.unemulated).toEqual([{ type: 'AWS::Lambda::Function (code not in the assembly)', paths: ['Main/F'] }]);
  });

  it('uses the logical id as path and display name when the template has no construct path', async () => {
    const dir = writeAssembly({ Main: { template: { Resources: { Plain: { Type: 'AWS::SQS::Queue' } } } } });
    const model = await loadAppModel(readCloudAssembly(dir));
    expect(model.queues[0]).toMatchObject({ logicalId: 'Plain', path: 'Plain', displayName: 'Plain' });
  });

  it('strips the stack prefix of the construct path when the stack has its own deployed name', async () => {
    const dir = writeAssembly({
      Main: {
        stackName: 'main-dev',
        template: { Resources: { Q: { Type: 'AWS::SQS::Queue', Metadata: meta('Main/Orders/Queue/Resource') } } },
      },
    });
    const model = await loadAppModel(readCloudAssembly(dir));
    expect(model.stacks).toEqual(['main-dev']);
    expect(model.queues[0]).toMatchObject({ name: 'main-dev-Q', path: 'Main/Orders/Queue', displayName: 'Orders' });
  });

  it('keeps long generated names within the service limits, with a stable hash', async () => {
    const longId = `Q${'x'.repeat(90)}`;
    const dir = writeAssembly({
      Main: { template: { Resources: { [longId]: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: 'true' } } } } },
    });
    const model = await loadAppModel(readCloudAssembly(dir));
    const name = model.queues[0]?.name ?? '';
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^Main-Qx+-[0-9a-f]{8}\.fifo$/);
    expect((await loadAppModel(readCloudAssembly(dir))).queues[0]?.name).toBe(name);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('the reference app', () => {
  const repo = join(import.meta.dirname, '..', '..');
  let assemblyDir: string;

  beforeAll(() => {
    assemblyDir = join(repo, 'cdk.out');
    if (!existsSync(join(assemblyDir, 'manifest.json'))) {
      // Synthesized once, into a temp folder, when the repo has no cdk.out.
      assemblyDir = join(tempDir(), 'cdk.out');
      execFileSync('npx', ['cdk', 'synth', '--quiet', '--output', assemblyDir], { cwd: repo, stdio: 'pipe' });
    }
  }, 300_000);

  it('loads: two stacks in order, every queue, topic, subscription, function and mapping resolved', async () => {
    const { calls, hooks } = recordingHooks();
    const model = await loadAppModel(readCloudAssembly(assemblyDir), { hooks });
    expect(model.stacks).toEqual(['QueuekitMessaging', 'QueuekitCompute']);

    const queueNames = model.queues.map((q) => q.displayName);
    expect(queueNames).toEqual(expect.arrayContaining(['InferenceJobs', 'PriorityJobs', 'AuditLog', 'BillingLedger']));
    expect(new Set(queueNames).size).toBe(queueNames.length);
    expect(model.topics.map((t) => t.displayName).sort()).toEqual(['BillingEvents', 'JobEvents']);
    expect(model.subscriptions.length).toBeGreaterThanOrEqual(4);
    for (const s of model.subscriptions) {
      expect(model.topics.some((t) => t.arn === s.topicArn)).toBe(true);
      expect(model.queues.some((q) => q.arn === s.queueArn)).toBe(true);
      expect(s.arn).toBeDefined();
      // Filter policies stay objects (cfn-resolver-lib turned single-key ones into arrays).
      if (s.filterPolicy) expect(Array.isArray(s.filterPolicy)).toBe(false);
    }

    // Every consumer queue has a DLQ that knows it, provisioned first.
    for (const name of ['InferenceJobs', 'PriorityJobs', 'AuditLog', 'BillingLedger']) {
      const q = model.queues.find((x) => x.displayName === name) as LocalQueue;
      const dlq = model.queues.find((x) => x.arn === q.deadLetter?.arn) as LocalQueue;
      expect(dlq, `${name} has a DLQ`).toBeDefined();
      expect(dlq.deadLetterFor).toContain(q.arn);
      expect(calls.indexOf(`queue ${dlq.logicalId}`)).toBeLessThan(calls.indexOf(`queue ${q.logicalId}`));
    }
    for (const s of model.subscriptions) {
      const topic = model.topics.find((t) => t.arn === s.topicArn) as LocalTopic;
      expect(calls.indexOf(`topic ${topic.logicalId}`)).toBeLessThan(calls.indexOf(`subscription ${s.logicalId}`));
    }

    expect(model.functions.map((f) => f.displayName).sort()).toEqual([
      'AuditWriter',
      'InferenceWorker',
      'LedgerWriter',
      'PriorityNotifier',
      'SubmitJob',
    ]);
    for (const f of model.functions) {
      expect(existsSync(f.codeDir), f.codeDir).toBe(true);
      expect(f.role?.policies.length, `${f.displayName} has policies`).toBeGreaterThan(0);
      for (const value of Object.values(f.environment)) expect(value).not.toMatch(/Fn::|"Ref"/);
    }
    expect(model.mappings).toHaveLength(4);
    for (const m of model.mappings) {
      expect(model.functions.some((f) => f.name === m.functionName)).toBe(true);
      expect(model.queues.some((q) => q.arn === m.queueArn)).toBe(true);
    }
    // KMS keys, alarms, log groups and policies are listed, not emulated.
    const types = model.unemulated.map((u) => u.type);
    expect(types).toEqual(expect.arrayContaining(['AWS::KMS::Key', 'AWS::CloudWatch::Alarm']));
    expect(new Set(types).size).toBe(types.length);
  });
});
