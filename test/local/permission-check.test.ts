/**
 * PermissionCheck: a function's execution role decides what it may call, as IAM decides for identity policies
 *: action and resource wildcards, Deny over Allow, NotAction/NotResource, conditions,
 * no role → nothing allowed, services we do not check → allowed. Messages have AWS's shape.
 */
import { describe, expect, it } from 'vitest';
import type { LocalFunction, PolicyStatement } from '../../lib/local/app-model.js';
import { accessKeyIdFor, PermissionCheck } from '../../lib/local/permission-check.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const topicArn = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

function fn(name: string, statements?: PolicyStatement[]): LocalFunction {
  return {
    logicalId: `${name}Fn`,
    stackName: 'Compute',
    path: `Compute/${name}`,
    displayName: name,
    name: `Compute-${name}`,
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Compute-${name}`,
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

function checker(...functions: LocalFunction[]): PermissionCheck {
  return new PermissionCheck({ functions, accountId: ACCOUNT, region: REGION });
}

describe('access keys', () => {
  it('gives each function a stable 20-character key that maps back to it', () => {
    const a = fn('A', []);
    const b = fn('B', []);
    const permissions = checker(a, b);
    const key = permissions.accessKeyFor(a);
    expect(key).toMatch(/^LKIA[A-Z2-7]{16}$/);
    expect(key).toBe(accessKeyIdFor(a.arn));
    expect(checker(a).accessKeyFor(a)).toBe(key);
    expect(permissions.accessKeyFor(b)).not.toBe(key);
    expect(permissions.principalOf(key)).toBe(a);
    expect(permissions.principalOf(permissions.accessKeyFor(b))).toBe(b);
    expect(permissions.principalOf('test')).toBeUndefined();
    expect(permissions.principalOf('AKIAIOSFODNN7EXAMPLE')).toBeUndefined();
  });
});

describe('actions', () => {
  it('sqs:* allows every SQS action on the resource', async () => {
    const f = fn('Worker', [{ Effect: 'Allow', Action: 'sqs:*', Resource: queueArn('jobs') }]);
    const permissions = checker(f);
    for (const action of ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
      expect(await permissions.check(f, action, queueArn('jobs'))).toEqual({ allowed: true });
    }
    expect((await permissions.check(f, 'sqs:SendMessage', queueArn('other'))).allowed).toBe(false);
  });

  it('sqs:Send* allows SendMessage but not ReceiveMessage, and says so in AWS words', async () => {
    const f = fn('Producer', [
      { Effect: 'Allow', Action: ['sqs:Send*', 'sqs:GetQueueUrl'], Resource: queueArn('jobs') },
    ]);
    const permissions = checker(f);
    expect(await permissions.check(f, 'sqs:SendMessage', queueArn('jobs'))).toEqual({ allowed: true });
    expect(await permissions.check(f, 'sqs:GetQueueUrl', queueArn('jobs'))).toEqual({ allowed: true });
    const denied = await permissions.check(f, 'sqs:ReceiveMessage', queueArn('jobs'));
    expect(denied).toMatchObject({ allowed: false, reason: 'implicit-deny' });
    expect(denied.allowed === false && denied.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/ProducerRole/Compute-Producer is not authorized to perform: ` +
        `sqs:ReceiveMessage on resource: ${queueArn('jobs')} because no identity-based policy allows the sqs:ReceiveMessage action`,
    );
    expect(denied.allowed === false && denied.fix).toContain('ProducerRole');
  });

  it('matches actions case-insensitively, as IAM does', async () => {
    const f = fn('P', [{ Effect: 'Allow', Action: 'SNS:publish', Resource: topicArn('events') }]);
    expect(await checker(f).check(f, 'sns:Publish', topicArn('events'))).toEqual({ allowed: true });
  });

  it('NotAction allows everything but the listed actions', async () => {
    const f = fn('N', [{ Effect: 'Allow', NotAction: ['sqs:*'], Resource: '*' }]);
    const permissions = checker(f);
    expect(await permissions.check(f, 'sns:Publish', topicArn('events'))).toEqual({ allowed: true });
    expect(await permissions.check(f, 's3:GetObject', 'arn:aws:s3:::bucket/key')).toEqual({ allowed: true });
    expect((await permissions.check(f, 'sqs:SendMessage', queueArn('jobs'))).allowed).toBe(false);
  });
});

describe('resources', () => {
  it('resource wildcards (* and ?) match like IAM', async () => {
    const f = fn('W', [
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn('orders-*') },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::claims/inbox/?/*' },
    ]);
    const permissions = checker(f);
    expect(await permissions.check(f, 'sqs:SendMessage', queueArn('orders-eu'))).toEqual({ allowed: true });
    expect(await permissions.check(f, 'sqs:SendMessage', queueArn('orders-eu.fifo'))).toEqual({ allowed: true });
    expect((await permissions.check(f, 'sqs:SendMessage', queueArn('billing'))).allowed).toBe(false);
    expect(await permissions.check(f, 's3:GetObject', 'arn:aws:s3:::claims/inbox/a/b/c.json')).toEqual({
      allowed: true,
    });
    expect((await permissions.check(f, 's3:GetObject', 'arn:aws:s3:::claims/inbox/ab/c.json')).allowed).toBe(false);
  });

  it('NotResource allows everything but the listed resources', async () => {
    const f = fn('NR', [{ Effect: 'Allow', Action: 'sqs:SendMessage', NotResource: queueArn('secret') }]);
    const permissions = checker(f);
    expect(await permissions.check(f, 'sqs:SendMessage', queueArn('public'))).toEqual({ allowed: true });
    expect((await permissions.check(f, 'sqs:SendMessage', queueArn('secret'))).allowed).toBe(false);
  });

  it('a grant on the function ARN and ARN:* covers unqualified and qualified invokes', async () => {
    const target = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Compute-Echo`;
    const f = fn('Caller', [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [target, `${target}:*`] }]);
    const permissions = checker(f);
    expect(await permissions.check(f, 'lambda:InvokeFunction', target)).toEqual({ allowed: true });
    expect(await permissions.check(f, 'lambda:InvokeFunction', `${target}:$LATEST`)).toEqual({ allowed: true });
    expect((await permissions.check(f, 'lambda:InvokeFunction', `${target}2`)).allowed).toBe(false);
  });
});

describe('deny', () => {
  it('an explicit Deny wins over any Allow, with the explicit-deny message', async () => {
    const f = fn('D', [
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: ['sqs:DeleteQueue', 'sqs:Purge*'], Resource: queueArn('*') },
    ]);
    const permissions = checker(f);
    expect(await permissions.check(f, 'sqs:SendMessage', queueArn('jobs'))).toEqual({ allowed: true });
    const denied = await permissions.check(f, 'sqs:PurgeQueue', queueArn('jobs'));
    expect(denied).toMatchObject({ allowed: false, reason: 'explicit-deny' });
    expect(denied.allowed === false && denied.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/DRole/Compute-D is not authorized to perform: sqs:PurgeQueue ` +
        `on resource: ${queueArn('jobs')} with an explicit deny in an identity-based policy`,
    );
  });

  it('a function without a role may call nothing checked, but unchecked services pass', async () => {
    const f = fn('Bare');
    const permissions = checker(f);
    const denied = await permissions.check(f, 'sns:Publish', topicArn('events'));
    expect(denied).toMatchObject({ allowed: false, reason: 'no-role' });
    expect(denied.allowed === false && denied.message).toContain(
      'is not authorized to perform: sns:Publish on resource: arn:aws:sns:us-east-1:000000000000:events because no identity-based policy allows the sns:Publish action',
    );
    for (const action of ['kms:Decrypt', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'sts:GetCallerIdentity']) {
      expect(await permissions.check(f, action, '*')).toEqual({ allowed: true });
    }
  });

  it('a role whose policies grant nothing is denied too', async () => {
    const empty = fn('Empty', []);
    expect(await checker(empty).check(empty, 'sqs:SendMessage', queueArn('jobs'))).toMatchObject({
      allowed: false,
      reason: 'implicit-deny',
    });
    const base = fn('NoPolicies', []);
    const noPolicies: LocalFunction = {
      ...base,
      role: { arn: 'arn:aws:iam::000000000000:role/R', name: 'R', policies: [] },
    };
    expect(await checker(noPolicies).check(noPolicies, 'sqs:SendMessage', queueArn('jobs'))).toMatchObject({
      allowed: false,
      reason: 'no-role',
    });
  });
});

describe('conditions', () => {
  it('sees aws:RequestedRegion and aws:SecureTransport like a call made in AWS', async () => {
    const f = fn('C', [
      {
        Effect: 'Allow',
        Action: 'sqs:*',
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': REGION } },
      },
      { Effect: 'Deny', Action: 'sqs:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      {
        Effect: 'Allow',
        Action: 'sns:Publish',
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
      },
    ]);
    const permissions = checker(f);
    expect(await permissions.check(f, 'sqs:SendMessage', queueArn('jobs'))).toEqual({ allowed: true });
    expect((await permissions.check(f, 'sns:Publish', topicArn('events'))).allowed).toBe(false);
  });

  it('a condition on a key the runner does not know does not match', async () => {
    const f = fn('K', [
      { Effect: 'Allow', Action: 'sqs:*', Resource: '*', Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } } },
    ]);
    expect((await checker(f).check(f, 'sqs:SendMessage', queueArn('jobs'))).allowed).toBe(false);
  });
});

describe('invalid policies and unknown actions', () => {
  it('evaluates a policy IAM would reject leniently and warns once', async () => {
    const warnings: string[] = [];
    const f = fn('Bad', [{ Effect: 'Allow', Action: 'sqs:SendMessage' } as PolicyStatement]);
    const permissions = new PermissionCheck({
      functions: [f],
      accountId: ACCOUNT,
      region: REGION,
      onWarning: (m) => warnings.push(m),
    });
    await permissions.check(f, 'sqs:SendMessage', queueArn('a'));
    await permissions.check(f, 'sqs:SendMessage', queueArn('b'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Resource');
  });

  it('an action IAM does not know matches only wildcards', async () => {
    const f = fn('U', [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }]);
    expect((await checker(f).check(f, 'sqs:Frobnicate', queueArn('jobs'))).allowed).toBe(false);
    const g = fn('G', [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }]);
    expect((await checker(g).check(g, 'sqs:Frobnicate', queueArn('jobs'))).allowed).toBe(true);
  });
});

describe('cache', () => {
  it('caches each (function, action, resource) decision', async () => {
    const f = fn('Cached', [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn('jobs') }]);
    const permissions = checker(f);
    const first = permissions.check(f, 'sqs:SendMessage', queueArn('jobs'));
    expect(permissions.check(f, 'sqs:SendMessage', queueArn('jobs'))).toBe(first);
    await first;
    await permissions.check(f, 'sqs:SendMessage', queueArn('other'));
    expect(permissions.cachedDecisions).toBe(2);

    const started = performance.now();
    for (let i = 0; i < 10_000; i++) await permissions.check(f, 'sqs:SendMessage', queueArn('jobs'));
    const perCheckUs = ((performance.now() - started) / 10_000) * 1000;
    expect(perCheckUs).toBeLessThan(50);
  });

  it('throws for a function it was not built with, naming the fix', () => {
    const permissions = checker(fn('Known', []));
    expect(() => permissions.check(fn('Stranger', []), 'sqs:SendMessage', queueArn('jobs'))).toThrow(
      /not one of the functions/,
    );
  });
});
