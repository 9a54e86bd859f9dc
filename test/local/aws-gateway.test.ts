/**
 * The local AWS gateway, end to end: the real AWS SDK v3 clients (SNS, SQS, S3, Lambda) pointed at the gateway,
 * the gateway forwarding to a real embedded fauxqs. Functions are identified by their access key and checked
 * against their role; the Lambda Invoke API is served by an in-test `LambdaTarget` that runs a JS function (the
 * real function host is tested on its own). No SDK mocks.
 */
import {
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  RequestTooLargeException,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AuthorizationErrorException, PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalFunction, PolicyStatement } from '../../lib/local/app-model.js';
import {
  type AsyncInvocation,
  type AwsGateway,
  type DeniedCall,
  type InvokeResult,
  type LambdaTarget,
  type PublishedMessage,
  startAwsGateway,
} from '../../lib/local/aws-gateway.js';
import { classifyAwsRequest, parseFunctionReference } from '../../lib/local/aws-request.js';
import type { FlowEvent } from '../../lib/local/flow-events.js';
import { PermissionCheck } from '../../lib/local/permission-check.js';
import { EmulatorResources, must, type TestQueue } from '../support/emulator-resources.js';
import {
  type EmbeddedEmulator,
  s3ClientConfig,
  sdkClientConfig,
  startEmbeddedEmulator,
} from '../support/fauxqs-server.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

function localFunction(name: string, statements?: PolicyStatement[]): LocalFunction {
  return {
    logicalId: `${name}Fn`,
    stackName: 'Compute',
    path: `Compute/${name}`,
    displayName: name,
    name,
    arn: functionArn(name),
    handler: 'index.handler',
    codeDir: '/tmp/none',
    runtime: 'nodejs22.x',
    timeoutSeconds: 3,
    memoryMb: 128,
    environment: {},
    ...(statements !== undefined && {
      role: {
        arn: `arn:aws:iam::${ACCOUNT}:role/${name}Role`,
        name: `${name}Role`,
        policies: [{ Version: '2012-10-17', Statement: statements }],
      },
    }),
  };
}

/** A `LambdaTarget` running a JS function in-process, shaped like the function host's results. */
function jsTarget(name: string, handler: (event: unknown) => unknown, calls: unknown[] = []): LambdaTarget {
  return {
    name,
    arn: functionArn(name),
    invoke: async (payload, { requestId }): Promise<InvokeResult> => {
      calls.push(payload);
      const started = performance.now();
      const logs: string[] = [];
      const log = (line: string) => logs.push(`${new Date().toISOString()}\t${requestId}\tINFO\t${line}`);
      try {
        log(`event ${JSON.stringify(payload)}`);
        const result = await handler(payload);
        return { requestId, ok: true, result, durationMs: performance.now() - started, logs };
      } catch (error) {
        const e = error as Error;
        if (e.name === 'Timeout') {
          return {
            requestId,
            ok: false,
            errorType: 'Sandbox.Timedout',
            errorMessage: 'Task timed out after 3.00 seconds',
            stackTrace: [],
            durationMs: 3000,
            logs,
            reason: 'timeout',
          };
        }
        return {
          requestId,
          ok: false,
          errorType: e.name,
          errorMessage: e.message,
          stackTrace: (e.stack ?? '').split('\n'),
          durationMs: performance.now() - started,
          logs,
          reason: 'error',
        };
      }
    },
  };
}

let emulator: EmbeddedEmulator;
let resources: EmulatorResources;
let admin: { sqs: SQSClient; sns: SNSClient; s3: S3Client };
let gateway: AwsGateway;
let openGateway: AwsGateway;
let permissions: PermissionCheck;
const events: FlowEvent[] = [];
const published: PublishedMessage[] = [];
const denied: DeniedCall[] = [];
const asyncAttempts: AsyncInvocation[] = [];
const clients: { destroy(): void }[] = [];

let grantedTopic: string;
let otherTopic: string;
let grantedQueue: TestQueue;
let otherQueue: TestQueue;
let inbox: TestQueue;

const publisher = () =>
  localFunction('Publisher', [
    { Effect: 'Allow', Action: 'sns:Publish', Resource: `arn:aws:sns:${REGION}:${ACCOUNT}:granted-topic` },
    {
      Effect: 'Allow',
      Action: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
      Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:granted-*`,
    },
    { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: 'arn:aws:s3:::granted-bucket/*' },
    { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [functionArn('echo'), `${functionArn('echo')}:*`] },
  ]);
let publisherFn: LocalFunction;
const bareFn = localFunction('Bare');

const echoCalls: unknown[] = [];
const eventCalls: unknown[] = [];
const flakyCalls: unknown[] = [];
const recoversCalls: unknown[] = [];
const targets = new Map<string, LambdaTarget>([
  ['echo', jsTarget('echo', (event) => ({ echoed: event }), echoCalls)],
  [
    'fails',
    jsTarget('fails', () => {
      throw new TypeError('order.total is not a number');
    }),
  ],
  [
    'slow',
    jsTarget('slow', () => {
      const e = new Error('timed out');
      e.name = 'Timeout';
      throw e;
    }),
  ],
  [
    'chatty',
    jsTarget('chatty', () => {
      // Log lines are added by jsTarget; the handler returns nothing (Lambda sends `null`).
      return undefined;
    }),
  ],
  ['events', jsTarget('events', () => 'done', eventCalls)],
  [
    'flaky',
    jsTarget(
      'flaky',
      () => {
        throw new Error(`attempt ${flakyCalls.length} failed`);
      },
      flakyCalls,
    ),
  ],
  [
    'recovers',
    jsTarget(
      'recovers',
      () => {
        if (recoversCalls.length < 2) throw new Error('first attempt fails');
        return 'ok';
      },
      recoversCalls,
    ),
  ],
  [
    'broken-host',
    {
      name: 'broken-host',
      arn: functionArn('broken-host'),
      invoke: () => Promise.reject(new Error('worker exited with code 1')),
    },
  ],
]);

function credentialsOf(fn: LocalFunction) {
  return { accessKeyId: permissions.accessKeyFor(fn), secretAccessKey: 'queuekit-local' };
}

function clientsFor(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
  const config = { endpoint, region: REGION, credentials, maxAttempts: 1 };
  const made = {
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
    // No forcePathStyle: the SDK uses path style for an IP-address endpoint, as a function's default client would.
    s3: new S3Client(config),
    lambda: new LambdaClient(config),
  };
  clients.push(made.sqs, made.sns, made.s3, made.lambda);
  return made;
}

async function receiveOne(queue: TestQueue) {
  for (let i = 0; i < 5; i++) {
    const { Messages } = await admin.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
    );
    if (Messages && Messages.length > 0) return Messages;
  }
  throw new Error(`no message arrived in ${queue.url}`);
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  admin = {
    sqs: new SQSClient(sdkClientConfig(emulator.endpoint)),
    sns: new SNSClient(sdkClientConfig(emulator.endpoint)),
    s3: new S3Client(s3ClientConfig(emulator.endpoint)),
  };
  clients.push(admin.sqs, admin.sns, admin.s3);
  resources = new EmulatorResources(admin.sqs, admin.sns);
  grantedTopic = await resources.createTopic('granted-topic');
  otherTopic = await resources.createTopic('other-topic');
  grantedQueue = await resources.createQueue('granted-queue');
  otherQueue = await resources.createQueue('other-queue');
  inbox = await resources.createQueue('inbox');
  await resources.subscribeQueue(grantedTopic, inbox, { RawMessageDelivery: 'true' });
  await admin.s3.send(new CreateBucketCommand({ Bucket: 'granted-bucket' }));
  await admin.s3.send(new CreateBucketCommand({ Bucket: 'other-bucket' }));

  publisherFn = publisher();
  permissions = new PermissionCheck({ functions: [publisherFn, bareFn], accountId: ACCOUNT, region: REGION });
  const displayNames = new Map<string, string>([
    [grantedTopic, 'GrantedTopic'],
    [grantedQueue.url, 'GrantedQueue'],
  ]);
  const common = {
    target: emulator.endpoint,
    functions: (name: string) => targets.get(name),
    region: REGION,
    accountId: ACCOUNT,
  };
  gateway = await startAwsGateway({
    ...common,
    permissions,
    onEvent: (e) => events.push(e),
    onPublish: (p) => published.push(p),
    onDenied: (d) => denied.push(d),
    onAsyncInvocation: (a) => asyncAttempts.push(a),
    displayNameOf: (key) => displayNames.get(key),
    asyncRetryDelayMs: 20,
  });
  openGateway = await startAwsGateway(common);
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await gateway?.close();
  await openGateway?.close();
  await emulator?.stop();
});

describe('SNS through the gateway', () => {
  it('denies a publish the role does not grant with AuthorizationError naming the action and resource', async () => {
    const { sns } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const error = await sns.send(new PublishCommand({ TopicArn: otherTopic, Message: 'nope' })).catch((e) => e);
    // The SNS client models the AuthorizationError code as AuthorizationErrorException (as with AWS itself).
    expect(error).toBeInstanceOf(AuthorizationErrorException);
    expect(error.name).toBe('AuthorizationErrorException');
    expect(error.Code).toBe('AuthorizationError');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/PublisherRole/Publisher is not authorized to perform: sns:Publish ` +
        `on resource: ${otherTopic} because no identity-based policy allows the sns:Publish action`,
    );
    expect(denied.at(-1)).toMatchObject({ function: 'Publisher', action: 'sns:Publish', resource: otherTopic });
  });

  it('forwards a granted publish: the message reaches the subscribed queue and a published event names it', async () => {
    const { sns } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: grantedTopic,
        Message: '{"order":1}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'order' } },
      }),
    );
    expect(MessageId).toBeDefined();
    const messages = await receiveOne(inbox);
    expect(messages.map((m) => m.Body)).toContain('{"order":1}');
    await until(() => events.some((e) => e.type === 'published' && e.messageId === MessageId));
    expect(events.find((e) => e.type === 'published' && e.messageId === MessageId)).toMatchObject({
      type: 'published',
      target: 'GrantedTopic',
      targetKind: 'topic',
      by: 'Publisher',
    });
    expect(published.find((p) => p.messageId === MessageId)).toMatchObject({
      topicArn: grantedTopic,
      body: '{"order":1}',
      attributes: { kind: { DataType: 'String', StringValue: 'order' } },
      by: 'Publisher',
    });
  });

  it('PublishBatch is checked as sns:Publish and each entry becomes a published event', async () => {
    const { sns } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const denial = await sns
      .send(new PublishBatchCommand({ TopicArn: otherTopic, PublishBatchRequestEntries: [{ Id: 'a', Message: 'x' }] }))
      .catch((e) => e);
    expect(denial).toBeInstanceOf(AuthorizationErrorException);
    expect(denial.message).toContain('sns:Publish on resource');
    const { Successful } = await sns.send(
      new PublishBatchCommand({
        TopicArn: grantedTopic,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'first' },
          { Id: 'b', Message: 'second' },
        ],
      }),
    );
    const ids = (Successful ?? []).map((s) => must(s.MessageId, 'MessageId'));
    expect(ids).toHaveLength(2);
    await until(() => ids.every((id) => published.some((p) => p.messageId === id)));
    expect(
      published
        .filter((p) => ids.includes(p.messageId))
        .map((p) => p.body)
        .sort(),
    ).toEqual(['first', 'second']);
    await receiveOne(inbox);
  });
});

describe('SQS through the gateway', () => {
  it('denies a send the role does not grant with AccessDenied naming the action and resource', async () => {
    const { sqs } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: otherQueue.url, MessageBody: 'x' }))
      .catch((e) => e);
    expect(error.$metadata.httpStatusCode).toBe(403);
    // The SQS client is query-compatible: it reads the `x-amzn-query-error` code, so the error is named AccessDenied.
    expect(error.name).toBe('AccessDenied');
    expect(error.Code).toBe('AccessDenied');
    expect(error.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/PublisherRole/Publisher is not authorized to perform: sqs:SendMessage ` +
        `on resource: ${otherQueue.arn} because no identity-based policy allows the sqs:SendMessage action`,
    );
  });

  it('checks every call: a receive the role does not grant is denied even on a granted queue', async () => {
    const { sqs } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const error = await sqs.send(new ReceiveMessageCommand({ QueueUrl: grantedQueue.url })).catch((e) => e);
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toContain(`sqs:ReceiveMessage on resource: ${grantedQueue.arn}`);
  });

  it('forwards granted sends and reports each message id', async () => {
    const { sqs } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: grantedQueue.url, MessageBody: 'one' }));
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: grantedQueue.url,
        Entries: [
          { Id: 'a', MessageBody: 'two' },
          { Id: 'b', MessageBody: 'three' },
        ],
      }),
    );
    const ids = [must(MessageId, 'MessageId'), ...(batch.Successful ?? []).map((s) => must(s.MessageId, 'MessageId'))];
    expect(ids).toHaveLength(3);
    await until(() => ids.every((id) => events.some((e) => e.type === 'published' && e.messageId === id)));
    for (const id of ids) {
      expect(events.find((e) => e.type === 'published' && e.messageId === id)).toMatchObject({
        target: 'GrantedQueue',
        targetKind: 'queue',
        by: 'Publisher',
      });
    }
    expect(published.find((p) => p.messageId === ids[1])).toMatchObject({ queueArn: grantedQueue.arn, body: 'two' });
    const received = await receiveOne(grantedQueue);
    expect(received.length).toBeGreaterThan(0);
  });

  it('a function without a role is denied everything it calls', async () => {
    const { sqs } = clientsFor(gateway.endpoint, credentialsOf(bareFn));
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: grantedQueue.url, MessageBody: 'x' }))
      .catch((e) => e);
    expect(error.name).toBe('AccessDenied');
  });

  it('an external caller (a key of no function) is not checked', async () => {
    const { sqs, sns } = clientsFor(gateway.endpoint, { accessKeyId: 'test', secretAccessKey: 'test' });
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: otherQueue.url, MessageBody: 'dev' })),
    ).resolves.toHaveProperty('MessageId');
    await expect(sns.send(new PublishCommand({ TopicArn: otherTopic, Message: 'dev' }))).resolves.toHaveProperty(
      'MessageId',
    );
  });

  it('passes the target’s own errors through unchanged', async () => {
    const { sqs } = clientsFor(gateway.endpoint, { accessKeyId: 'test', secretAccessKey: 'test' });
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: `${emulator.endpoint}/${ACCOUNT}/does-not-exist`, MessageBody: 'x' }))
      .catch((e) => e);
    expect(error.name).toBe('QueueDoesNotExist');
  });
});

describe('S3 through the gateway', () => {
  it('denies a put the role does not grant with AccessDenied, and forwards a granted one', async () => {
    const { s3 } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const error = await s3
      .send(new PutObjectCommand({ Bucket: 'other-bucket', Key: 'a/b.json', Body: '{}' }))
      .catch((e) => e);
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toContain('s3:PutObject on resource: arn:aws:s3:::other-bucket/a/b.json');

    await s3.send(new PutObjectCommand({ Bucket: 'granted-bucket', Key: 'a/b.json', Body: '{"big":true}' }));
    const object = await s3.send(new GetObjectCommand({ Bucket: 'granted-bucket', Key: 'a/b.json' }));
    expect(await object.Body?.transformToString()).toBe('{"big":true}');
  });

  it('streams a large object both ways', async () => {
    const { s3 } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const body = Buffer.alloc(5 * 1024 * 1024, 7);
    await s3.send(new PutObjectCommand({ Bucket: 'granted-bucket', Key: 'large.bin', Body: body }));
    const object = await s3.send(new GetObjectCommand({ Bucket: 'granted-bucket', Key: 'large.bin' }));
    const bytes = await object.Body?.transformToByteArray();
    expect(bytes?.length).toBe(body.length);
    expect(Buffer.from(bytes ?? []).equals(body)).toBe(true);
  });
});

describe('with IAM checks off (permissions undefined)', () => {
  it('lets a function call anything', async () => {
    const { sqs, sns } = clientsFor(openGateway.endpoint, credentialsOf(bareFn));
    await expect(sns.send(new PublishCommand({ TopicArn: otherTopic, Message: 'ok' }))).resolves.toHaveProperty(
      'MessageId',
    );
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: otherQueue.url, MessageBody: 'ok' })),
    ).resolves.toHaveProperty('MessageId');
  });
});

describe('Lambda Invoke API', () => {
  const external = () => clientsFor(gateway.endpoint, { accessKeyId: 'test', secretAccessKey: 'test' }).lambda;
  const json = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8'));

  it('RequestResponse returns the handler result', async () => {
    const out = await external().send(
      new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ id: 7 })) }),
    );
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(json(out.Payload)).toEqual({ echoed: { id: 7 } });
  });

  it('accepts an ARN, a partial ARN and the $LATEST qualifier; an empty payload is {}', async () => {
    const lambda = external();
    for (const FunctionName of [functionArn('echo'), `${ACCOUNT}:function:echo`, 'echo:$LATEST']) {
      const out = await lambda.send(new InvokeCommand({ FunctionName, Payload: Buffer.from('[1]') }));
      expect(json(out.Payload)).toEqual({ echoed: [1] });
    }
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo' }));
    expect(json(out.Payload)).toEqual({ echoed: {} });
  });

  it('a handler error sets FunctionError Unhandled with Lambda’s error payload', async () => {
    const out = await external().send(new InvokeCommand({ FunctionName: 'fails', Payload: Buffer.from('{}') }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const error = json(out.Payload);
    expect(error).toMatchObject({ errorType: 'TypeError', errorMessage: 'order.total is not a number' });
    expect(error.trace[0]).toContain('TypeError: order.total is not a number');
  });

  it('a timeout is reported as Sandbox.Timedout', async () => {
    const out = await external().send(new InvokeCommand({ FunctionName: 'slow', Payload: Buffer.from('{}') }));
    expect(out.FunctionError).toBe('Unhandled');
    expect(json(out.Payload)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 3\.00 seconds$/),
    });
  });

  it('LogType Tail returns the end of the log, and a handler returning nothing gives null', async () => {
    const out = await external().send(
      new InvokeCommand({ FunctionName: 'chatty', LogType: 'Tail', Payload: Buffer.from('{"x":1}') }),
    );
    expect(json(out.Payload)).toBeNull();
    const log = Buffer.from(must(out.LogResult, 'LogResult'), 'base64').toString('utf8');
    expect(log).toMatch(/^START RequestId: \S+ Version: \$LATEST/);
    expect(log).toContain('INFO\tevent {"x":1}');
    expect(log).toMatch(/REPORT RequestId: \S+\tDuration: [\d.]+ ms/);
  });

  it('keeps only the last 4 KB of a long log', async () => {
    const out = await external().send(
      new InvokeCommand({
        FunctionName: 'chatty',
        LogType: 'Tail',
        Payload: Buffer.from(JSON.stringify('x'.repeat(10_000))),
      }),
    );
    const log = Buffer.from(must(out.LogResult, 'LogResult'), 'base64');
    expect(log.length).toBe(4096);
    expect(log.toString('utf8')).toContain('REPORT RequestId');
  });

  it('Event answers 202 at once and runs the function in the background', async () => {
    const before = eventCalls.length;
    const out = await external().send(
      new InvokeCommand({ FunctionName: 'events', InvocationType: 'Event', Payload: Buffer.from('{"n":1}') }),
    );
    expect(out.StatusCode).toBe(202);
    expect(out.Payload?.length ?? 0).toBe(0);
    await until(() => eventCalls.length === before + 1);
    expect(eventCalls.at(-1)).toEqual({ n: 1 });
  });

  it('a failed Event invocation is retried twice, with the same request id', async () => {
    await external().send(
      new InvokeCommand({ FunctionName: 'flaky', InvocationType: 'Event', Payload: Buffer.from('{}') }),
    );
    await until(() => asyncAttempts.filter((a) => a.function === 'flaky').length === 3);
    const attempts = asyncAttempts.filter((a) => a.function === 'flaky');
    expect(attempts.map((a) => [a.attempt, a.result.ok, a.final])).toEqual([
      [1, false, false],
      [2, false, false],
      [3, false, true],
    ]);
    expect(new Set(attempts.map((a) => a.requestId)).size).toBe(1);
    expect(flakyCalls).toHaveLength(3);
  });

  it('an Event invocation that succeeds on a retry is not retried again', async () => {
    await external().send(new InvokeCommand({ FunctionName: 'recovers', InvocationType: 'Event' }));
    await until(() => asyncAttempts.some((a) => a.function === 'recovers' && a.final));
    await new Promise((r) => setTimeout(r, 100));
    const attempts = asyncAttempts.filter((a) => a.function === 'recovers');
    expect(attempts.map((a) => [a.attempt, a.result.ok, a.final])).toEqual([
      [1, false, false],
      [2, true, true],
    ]);
  });

  it('DryRun answers 204 without running the function', async () => {
    const before = echoCalls.length;
    const out = await external().send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
    expect(out.StatusCode).toBe(204);
    expect(echoCalls.length).toBe(before);
  });

  it('an unknown function is ResourceNotFoundException, and the gateway keeps serving', async () => {
    const lambda = external();
    const error = await lambda
      .send(new InvokeCommand({ FunctionName: 'nope', Payload: Buffer.from('{}') }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.message).toBe(`Function not found: ${functionArn('nope')}`);
    expect(error.$metadata.httpStatusCode).toBe(404);
    const alias = await lambda.send(new InvokeCommand({ FunctionName: 'echo:live' })).catch((e) => e);
    expect(alias).toBeInstanceOf(ResourceNotFoundException);
    expect(alias.message).toContain('versions and aliases are not emulated');
    const elsewhere = await lambda
      .send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:echo' }))
      .catch((e) => e);
    expect(elsewhere).toBeInstanceOf(ResourceNotFoundException);
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('1') }));
    expect(json(out.Payload)).toEqual({ echoed: 1 });
  });

  it('a plain name is served whatever region the caller’s SDK is configured with', async () => {
    const lambda = new LambdaClient({
      endpoint: gateway.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    clients.push(lambda);
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('4') }));
    expect(json(out.Payload)).toEqual({ echoed: 4 });
  });

  it('an invalid JSON payload is InvalidRequestContentException', async () => {
    const error = await external()
      .send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{not json') }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidRequestContentException);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toContain('Could not parse request body into json');
  });

  it('a payload over 6 MB is RequestTooLargeException', async () => {
    const big = Buffer.from(JSON.stringify('x'.repeat(6_291_456)));
    const error = await external()
      .send(new InvokeCommand({ FunctionName: 'echo', Payload: big }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(RequestTooLargeException);
    expect(error.$metadata.httpStatusCode).toBe(413);
  });

  it('a host that fails (crash) is reported as an Unhandled error, and the gateway keeps serving', async () => {
    const lambda = external();
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'broken-host' }));
    expect(out.FunctionError).toBe('Unhandled');
    expect(json(out.Payload).errorMessage).toContain('worker exited with code 1');
    const again = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('2') }));
    expect(json(again.Payload)).toEqual({ echoed: 2 });
  });

  it('a function invoking another needs lambda:InvokeFunction on it', async () => {
    const { lambda } = clientsFor(gateway.endpoint, credentialsOf(publisherFn));
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('3') }));
    expect(json(out.Payload)).toEqual({ echoed: 3 });
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'fails' })).catch((e) => e);
    expect(error.name).toBe('AccessDeniedException');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toContain(`lambda:InvokeFunction on resource: ${functionArn('fails')}`);
  });
});

describe('classifyAwsRequest', () => {
  const where = { region: REGION, accountId: ACCOUNT };
  const auth = (service: string, key = 'LKIAEXAMPLE') => ({
    authorization: `AWS4-HMAC-SHA256 Credential=${key}/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=abc`,
  });

  it('reads SQS JSON, mapping batch operations to the action IAM checks', () => {
    const request = classifyAwsRequest(
      {
        method: 'POST',
        path: '/',
        headers: { ...auth('sqs'), 'x-amz-target': 'AmazonSQS.DeleteMessageBatch' },
        body: Buffer.from(
          JSON.stringify({ QueueUrl: `http://sqs.eu-west-1.localhost:4566/${ACCOUNT}/jobs`, Entries: [] }),
        ),
      },
      where,
    );
    expect(request).toMatchObject({
      service: 'sqs',
      operation: 'DeleteMessageBatch',
      action: 'sqs:DeleteMessage',
      resources: [`arn:aws:sqs:eu-west-1:${ACCOUNT}:jobs`],
      accessKeyId: 'LKIAEXAMPLE',
      protocol: 'json',
    });
    const getUrl = classifyAwsRequest(
      {
        method: 'POST',
        path: '/',
        headers: { ...auth('sqs'), 'x-amz-target': 'AmazonSQS.GetQueueUrl' },
        body: Buffer.from('{"QueueName":"jobs"}'),
      },
      where,
    );
    expect(getUrl.resources).toEqual([`arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`]);
  });

  it('reads the SQS and SNS query protocols', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const sqs = classifyAwsRequest(
      {
        method: 'POST',
        path: `/${ACCOUNT}/jobs`,
        headers: { ...auth('sqs'), ...form },
        body: Buffer.from('Action=ChangeMessageVisibilityBatch&Version=2012-11-05'),
      },
      where,
    );
    expect(sqs).toMatchObject({
      action: 'sqs:ChangeMessageVisibility',
      resources: [`arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`],
      protocol: 'query',
    });
    const sub = classifyAwsRequest(
      {
        method: 'POST',
        path: '/',
        headers: form,
        body: Buffer.from(
          `Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(`arn:aws:sns:${REGION}:${ACCOUNT}:t:abc-123`)}`,
        ),
      },
      where,
    );
    expect(sub).toMatchObject({
      service: 'sns',
      action: 'sns:Unsubscribe',
      resources: [`arn:aws:sns:${REGION}:${ACCOUNT}:t`],
    });
    expect(
      classifyAwsRequest({ method: 'POST', path: '/', headers: form, body: Buffer.from('Action=ListTopics') }, where),
    ).toMatchObject({
      action: 'sns:ListTopics',
      resources: ['*'],
    });
  });

  it('maps S3 REST paths to actions and ARNs', () => {
    const s3 = (method: string, path: string, headers = {}, body?: string) =>
      classifyAwsRequest(
        {
          method,
          path,
          headers: { ...auth('s3'), ...headers },
          ...(body !== undefined && { body: Buffer.from(body) }),
        },
        where,
      );
    expect(s3('GET', '/b/a%20b/c.json')).toMatchObject({
      action: 's3:GetObject',
      resources: ['arn:aws:s3:::b/a b/c.json'],
    });
    expect(s3('HEAD', '/b/k')).toMatchObject({ action: 's3:GetObject' });
    expect(s3('GET', '/b/k?versionId=1')).toMatchObject({ action: 's3:GetObjectVersion' });
    expect(s3('DELETE', '/b/k')).toMatchObject({ action: 's3:DeleteObject' });
    expect(s3('GET', '/b?list-type=2&prefix=a')).toMatchObject({
      action: 's3:ListBucket',
      resources: ['arn:aws:s3:::b'],
    });
    expect(s3('GET', '/b?location')).toMatchObject({ action: 's3:GetBucketLocation' });
    expect(s3('POST', '/b/k?uploads')).toMatchObject({ action: 's3:PutObject' });
    expect(s3('GET', '/')).toMatchObject({ action: 's3:ListAllMyBuckets', resources: ['*'] });
    expect(s3('PUT', '/b/dest', { 'x-amz-copy-source': '/src/a%2Fb.json' })).toMatchObject({
      action: 's3:PutObject',
      resources: ['arn:aws:s3:::b/dest'],
      extraChecks: [{ action: 's3:GetObject', resource: 'arn:aws:s3:::src/a/b.json' }],
    });
    expect(
      s3('POST', '/b?delete', {}, '<Delete><Object><Key>x&amp;y</Key></Object><Object><Key>z</Key></Object></Delete>'),
    ).toMatchObject({
      operation: 'DeleteObjects',
      action: 's3:DeleteObject',
      resources: ['arn:aws:s3:::b/x&y', 'arn:aws:s3:::b/z'],
    });
  });

  it('parses Lambda function references the way the Invoke API accepts them', () => {
    expect(parseFunctionReference('fn', where)).toMatchObject({
      name: 'fn',
      arn: functionArn('fn'),
      invokedArn: functionArn('fn'),
    });
    expect(parseFunctionReference('fn:live', where)).toMatchObject({
      qualifier: 'live',
      invokedArn: `${functionArn('fn')}:live`,
    });
    expect(parseFunctionReference('123456789012:function:fn', where)).toMatchObject({ accountId: '123456789012' });
    expect(parseFunctionReference('arn:aws:lambda:eu-west-1:123456789012:function:fn:$LATEST', where)).toMatchObject({
      name: 'fn',
      region: 'eu-west-1',
      qualifier: '$LATEST',
    });
    expect(parseFunctionReference('fn', where, '3')).toMatchObject({ qualifier: '3' });
    expect(parseFunctionReference('arn:aws:sqs:us-east-1:1:q', where)).toBeUndefined();
  });
});
