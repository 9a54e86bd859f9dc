/**
 * The identity-policy evaluator, table-driven: actions, resources, Deny over Allow, NotAction/NotResource, policy
 * variables, every implemented condition operator with IfExists and the set prefixes, and the statements it
 * ignores (reported as problems). Several cases are the examples of the IAM User Guide.
 */
import { describe, expect, it } from 'vitest';
import type { PolicyDocument, PolicyStatement } from '../../lib/local/app-model.js';
import {
  compileIdentityPolicies,
  evaluateIdentityPolicies,
  type IamDecision,
  type IamRequest,
} from '../../lib/local/iam-policy-evaluator.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const queue = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/WorkerRole`;
/** A policy variable as written in a policy: `variable('aws:PrincipalArn')` is `${aws:PrincipalArn}`. */
const variable = (inner: string) => `\${${inner}}`;

/** The context PermissionCheck gives every call. */
const CONTEXT = {
  'aws:RequestedRegion': REGION,
  'aws:SecureTransport': 'true',
  'aws:PrincipalArn': ROLE_ARN,
  'aws:PrincipalAccount': ACCOUNT,
  'aws:PrincipalType': 'AssumedRole',
};

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const allowAll: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*' };
/** Allows sqs:SendMessage on any queue when the condition holds. */
const allowIf = (Condition: Record<string, unknown>): PolicyStatement => ({
  Effect: 'Allow',
  Action: 'sqs:SendMessage',
  Resource: '*',
  Condition,
});

interface Case {
  readonly name: string;
  readonly policies: readonly PolicyDocument[];
  /** Defaults: sqs:SendMessage on queue `jobs`, with {@link CONTEXT}. */
  readonly request?: Partial<IamRequest>;
  /** Merged over {@link CONTEXT}; `null` removes a key. */
  readonly context?: Record<string, string | string[] | null>;
  readonly expected: IamDecision;
}

function requestOf(c: Case): IamRequest {
  const context: Record<string, string | string[]> = { ...CONTEXT };
  for (const [key, value] of Object.entries(c.context ?? {})) {
    if (value === null) delete context[key];
    else context[key] = value;
  }
  return { action: 'sqs:SendMessage', resource: queue('jobs'), context, ...c.request };
}

const ACTIONS: Case[] = [
  {
    name: 'an exact action is allowed',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue('jobs') })],
    expected: 'Allowed',
  },
  {
    name: 'actions match case-insensitively',
    policies: [doc({ Effect: 'Allow', Action: 'SQS:sendmessage', Resource: queue('jobs') })],
    expected: 'Allowed',
  },
  {
    name: 'service:* covers every action of the service',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' })],
    request: { action: 'sqs:DeleteMessage' },
    expected: 'Allowed',
  },
  {
    name: 'service:* covers no other service',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' })],
    request: { action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:events` },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'a prefix wildcard covers the prefix only',
    policies: [doc({ Effect: 'Allow', Action: ['sqs:Send*', 'sqs:GetQueueUrl'], Resource: '*' })],
    request: { action: 'sqs:ReceiveMessage' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: '? matches exactly one character of an action',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:?etQueueUrl', Resource: '*' })],
    request: { action: 'sqs:GetQueueUrl' },
    expected: 'Allowed',
  },
  {
    name: 'AWS example: NotAction with Allow grants everything but IAM (allowed)',
    policies: [doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })],
    expected: 'Allowed',
  },
  {
    name: 'AWS example: NotAction with Allow grants everything but IAM (IAM not granted)',
    policies: [doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })],
    request: { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/bob` },
    expected: 'ImplicitlyDenied',
  },
];

/** IAM User Guide: deny everything but IAM unless signed in with MFA (NotAction + Deny + BoolIfExists). */
const DENY_UNLESS_MFA: PolicyStatement = {
  Sid: 'BlockMostAccessUnlessSignedInWithMFA',
  Effect: 'Deny',
  NotAction: ['iam:CreateVirtualMFADevice', 'iam:EnableMFADevice', 'iam:ListMFADevices', 'sts:GetSessionToken'],
  Resource: '*',
  Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
};

const DENY: Case[] = [
  {
    name: 'an explicit Deny wins over an Allow listed after it',
    policies: [doc({ Effect: 'Deny', Action: 'sqs:SendMessage', Resource: '*' }, allowAll)],
    expected: 'ExplicitlyDenied',
  },
  {
    name: 'an explicit Deny in another policy wins over an Allow',
    policies: [doc(allowAll), doc({ Effect: 'Deny', Action: 'sqs:Send*', Resource: queue('*') })],
    expected: 'ExplicitlyDenied',
  },
  { name: 'no policies: implicit deny', policies: [], expected: 'ImplicitlyDenied' },
  {
    name: 'AWS example: NotAction + Deny denies a non-IAM action without MFA (key absent: IfExists holds)',
    policies: [doc(allowAll, DENY_UNLESS_MFA)],
    expected: 'ExplicitlyDenied',
  },
  {
    name: 'AWS example: NotAction + Deny does not deny with MFA',
    policies: [doc(allowAll, DENY_UNLESS_MFA)],
    context: { 'aws:MultiFactorAuthPresent': 'true' },
    expected: 'Allowed',
  },
  {
    name: 'AWS example: NotAction + Deny leaves the listed actions alone',
    policies: [doc(allowAll, DENY_UNLESS_MFA)],
    request: { action: 'iam:ListMFADevices', resource: '*' },
    expected: 'Allowed',
  },
];

const RESOURCES: Case[] = [
  {
    name: 'another resource is not granted',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue('jobs') })],
    request: { resource: queue('other') },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'resources match case-sensitively',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue('Jobs') })],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'AWS example: user/* covers users at any path (* spans /)',
    policies: [doc({ Effect: 'Allow', Action: 'iam:GetUser', Resource: `arn:aws:iam::${ACCOUNT}:user/*` })],
    request: { action: 'iam:GetUser', resource: `arn:aws:iam::${ACCOUNT}:user/division_abc/subdivision_xyz/Bob` },
    expected: 'Allowed',
  },
  {
    name: 'bucket/* covers nested keys',
    policies: [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::claims/*' })],
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::claims/inbox/2026/a.json' },
    expected: 'Allowed',
  },
  {
    name: '* spans : (arn:aws:sqs:* covers every queue)',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:*' })],
    expected: 'Allowed',
  },
  {
    name: 'function:name:* covers qualified invokes',
    policies: [
      doc({
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Echo:*`,
      }),
    ],
    request: { action: 'lambda:InvokeFunction', resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Echo:$LATEST` },
    expected: 'Allowed',
  },
  {
    name: '? in a resource matches exactly one character',
    policies: [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::claims/?/*' })],
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::claims/ab/c.json' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'a resource-less request (*) is granted by Resource * only',
    policies: [doc({ Effect: 'Allow', Action: 'sqs:ListQueues', Resource: 'arn:aws:sqs:*' })],
    request: { action: 'sqs:ListQueues', resource: '*' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'AWS example: NotResource grants all of S3 but the payroll folder (other key allowed)',
    policies: [
      doc({
        Effect: 'Allow',
        Action: 's3:*',
        NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'],
      }),
    ],
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::HRBucket/Reviews/2026.pdf' },
    expected: 'Allowed',
  },
  {
    name: 'AWS example: NotResource grants all of S3 but the payroll folder (payroll not granted)',
    policies: [
      doc({
        Effect: 'Allow',
        Action: 's3:*',
        NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'],
      }),
    ],
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::HRBucket/Payroll/june.csv' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'Deny with NotResource denies every queue outside the pattern',
    policies: [doc(allowAll, { Effect: 'Deny', Action: 'sqs:*', NotResource: queue('orders-*') })],
    expected: 'ExplicitlyDenied',
  },
  {
    name: 'Deny with NotResource leaves the queues inside the pattern',
    policies: [doc(allowAll, { Effect: 'Deny', Action: 'sqs:*', NotResource: queue('orders-*') })],
    request: { resource: queue('orders-eu') },
    expected: 'Allowed',
  },
];

const VARIABLES: Case[] = [
  {
    name: 'a policy variable in Resource is substituted from the context',
    policies: [
      doc({
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::home/${variable('aws:PrincipalAccount')}/*`,
      }),
    ],
    request: { action: 's3:PutObject', resource: `arn:aws:s3:::home/${ACCOUNT}/notes.txt` },
    expected: 'Allowed',
  },
  {
    name: 'a substituted variable does not match another value',
    policies: [
      doc({
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::home/${variable('aws:PrincipalAccount')}/*`,
      }),
    ],
    request: { action: 's3:PutObject', resource: 'arn:aws:s3:::home/111122223333/notes.txt' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: `${variable('aws:PrincipalArn')} in a Resource`,
    policies: [
      doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::audit/${variable('aws:PrincipalArn')}` }),
    ],
    request: { action: 's3:GetObject', resource: `arn:aws:s3:::audit/${ROLE_ARN}` },
    expected: 'Allowed',
  },
  {
    name: 'a variable without value or default matches nothing',
    policies: [
      doc({
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::t/${variable('aws:PrincipalTag/team')}/*`,
      }),
    ],
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::t/ops/a' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: "a variable's default applies when the key is absent",
    policies: [
      doc({
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::t/${variable("aws:PrincipalTag/team, 'shared'")}/*`,
      }),
    ],
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::t/shared/a' },
    expected: 'Allowed',
  },
  {
    name: `${variable('*')} is a literal star, not a wildcard`,
    policies: [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::b/${variable('*')}` })],
    request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/anything' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'variables are literal text in a policy without Version 2012-10-17',
    policies: [
      {
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::home/${variable('aws:PrincipalAccount')}/*`,
          },
        ],
      },
    ],
    request: { action: 's3:PutObject', resource: `arn:aws:s3:::home/${ACCOUNT}/notes.txt` },
    expected: 'ImplicitlyDenied',
  },
];

const CONDITIONS: Case[] = [
  {
    name: 'StringEquals on a present key',
    policies: [doc(allowIf({ StringEquals: { 'aws:RequestedRegion': REGION } }))],
    expected: 'Allowed',
  },
  {
    name: 'condition keys are case-insensitive',
    policies: [doc(allowIf({ StringEquals: { 'AWS:requestedregion': REGION } }))],
    expected: 'Allowed',
  },
  {
    name: 'StringEquals values are ORed',
    policies: [doc(allowIf({ StringEquals: { 'aws:RequestedRegion': ['eu-west-1', REGION] } }))],
    expected: 'Allowed',
  },
  {
    name: 'StringEquals on an absent key is false',
    policies: [doc(allowIf({ StringEquals: { 'aws:SourceVpc': 'vpc-1' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'StringNotEquals values are NORed (value listed: false)',
    policies: [doc(allowIf({ StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', REGION] } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'StringNotEquals values are NORed (value not listed: true)',
    policies: [doc(allowIf({ StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', 'eu-west-2'] } }))],
    expected: 'Allowed',
  },
  {
    name: 'a negated operator on an absent key is true (IAM: "the condition is true")',
    policies: [
      doc(allowAll, {
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:SourceVpc': 'vpc-1' } },
      }),
    ],
    expected: 'ExplicitlyDenied',
  },
  {
    name: 'StringEqualsIgnoreCase',
    policies: [doc(allowIf({ StringEqualsIgnoreCase: { 'aws:PrincipalType': 'assumedrole' } }))],
    expected: 'Allowed',
  },
  {
    name: 'StringNotEqualsIgnoreCase',
    policies: [doc(allowIf({ StringNotEqualsIgnoreCase: { 'aws:PrincipalType': 'ASSUMEDROLE' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'StringLike with wildcards',
    policies: [doc(allowIf({ StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/Worker*' } }))],
    expected: 'Allowed',
  },
  {
    name: 'StringNotLike',
    policies: [doc(allowIf({ StringNotLike: { 'aws:RequestedRegion': 'us-*' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'StringEquals treats * literally',
    policies: [doc(allowIf({ StringEquals: { 'aws:RequestedRegion': 'us-*' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'a policy variable in a condition value',
    policies: [
      doc(
        allowIf({
          StringEquals: { 'aws:PrincipalArn': `arn:aws:iam::${variable('aws:PrincipalAccount')}:role/WorkerRole` },
        }),
      ),
    ],
    expected: 'Allowed',
  },
  {
    name: 'ArnLike matches segment by segment',
    policies: [doc(allowIf({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/*' } }))],
    expected: 'Allowed',
  },
  {
    name: 'ArnEquals is ArnLike (wildcards allowed)',
    policies: [doc(allowIf({ ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/Worker?ole` } }))],
    expected: 'Allowed',
  },
  {
    name: 'in ArnLike a * does not span segments',
    policies: [doc(allowIf({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:*' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'ArnNotLike / ArnNotEquals',
    policies: [
      doc(
        allowIf({
          ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/*' },
          ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/Admin` },
        }),
      ),
    ],
    expected: 'Allowed',
  },
  {
    name: 'Bool with a JSON boolean value',
    policies: [
      doc(allowAll, {
        Effect: 'Deny',
        Action: 'sqs:*',
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': false } },
      }),
    ],
    expected: 'Allowed',
  },
  {
    name: 'Bool true matches aws:SecureTransport',
    policies: [doc(allowIf({ Bool: { 'aws:SecureTransport': 'true' } }))],
    expected: 'Allowed',
  },
  {
    name: 'Null: true holds for an absent key',
    policies: [doc(allowIf({ Null: { 'aws:SourceVpc': 'true' } }))],
    expected: 'Allowed',
  },
  {
    name: 'Null: true does not hold for a present key',
    policies: [doc(allowIf({ Null: { 'aws:RequestedRegion': 'true' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'Null: false holds for a present key',
    policies: [doc(allowIf({ Null: { 'aws:RequestedRegion': false } }))],
    expected: 'Allowed',
  },
  {
    name: 'NumericLessThan / NumericGreaterThanEquals (ANDed)',
    policies: [doc(allowIf({ NumericLessThan: { 'sqs:Batch': '11' }, NumericGreaterThanEquals: { 'sqs:Batch': 10 } }))],
    context: { 'sqs:Batch': '10' },
    expected: 'Allowed',
  },
  {
    name: 'NumericGreaterThan fails on a smaller value',
    policies: [doc(allowIf({ NumericGreaterThan: { 'sqs:Batch': '10' } }))],
    context: { 'sqs:Batch': '10' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'NumericEquals / NumericLessThanEquals compare numbers, not text',
    policies: [doc(allowIf({ NumericEquals: { 'sqs:Batch': '10.0' }, NumericLessThanEquals: { 'sqs:Batch': 10 } }))],
    context: { 'sqs:Batch': '10' },
    expected: 'Allowed',
  },
  {
    name: 'NumericNotEquals is NORed',
    policies: [doc(allowIf({ NumericNotEquals: { 'sqs:Batch': ['9', '10'] } }))],
    context: { 'sqs:Batch': '10' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'a non-numeric value matches no Numeric operator',
    policies: [doc(allowIf({ NumericLessThan: { 'sqs:Batch': '100' } }))],
    context: { 'sqs:Batch': 'ten' },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'StringEqualsIfExists holds for an absent key',
    policies: [doc(allowIf({ StringEqualsIfExists: { 'aws:SourceVpc': 'vpc-1' } }))],
    expected: 'Allowed',
  },
  {
    name: 'StringEqualsIfExists is tested when the key is present',
    policies: [doc(allowIf({ StringEqualsIfExists: { 'aws:RequestedRegion': 'eu-west-1' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'keys of one operator are ANDed',
    policies: [doc(allowIf({ StringEquals: { 'aws:RequestedRegion': REGION, 'aws:PrincipalType': 'User' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'ForAnyValue: one request value in the set is enough',
    policies: [doc(allowIf({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }))],
    context: { 'aws:TagKeys': ['cost-center', 'team'] },
    expected: 'Allowed',
  },
  {
    name: 'ForAnyValue: no request value in the set',
    policies: [doc(allowIf({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }))],
    context: { 'aws:TagKeys': ['cost-center'] },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'ForAnyValue: an absent key is false',
    policies: [doc(allowIf({ 'ForAnyValue:StringLike': { 'aws:TagKeys': '*' } }))],
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'ForAllValues: every request value must be in the set',
    policies: [doc(allowIf({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }))],
    context: { 'aws:TagKeys': ['env', 'owner'] },
    expected: 'ImplicitlyDenied',
  },
  {
    name: 'ForAllValues: a subset holds',
    policies: [doc(allowIf({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }))],
    context: { 'aws:TagKeys': ['team'] },
    expected: 'Allowed',
  },
  {
    name: 'ForAllValues: an absent key holds (IAM: "also returns true if there are no context keys")',
    policies: [doc(allowIf({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } }))],
    expected: 'Allowed',
  },
  {
    name: 'AWS example: ForAllValues:StringNotLike Deny matches when the key is absent',
    policies: [
      doc(allowAll, {
        Effect: 'Deny',
        Action: 'sqs:*',
        Resource: '*',
        Condition: { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
      }),
    ],
    expected: 'ExplicitlyDenied',
  },
  {
    name: 'AWS example: ForAllValues:StringNotLike Deny does not match key1:hr, key1:personnel',
    policies: [
      doc(allowAll, {
        Effect: 'Deny',
        Action: 'sqs:*',
        Resource: '*',
        Condition: { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
      }),
    ],
    context: { 'aws:TagKeys': ['key1:hr', 'key1:personnel'] },
    expected: 'Allowed',
  },
  {
    name: 'AWS example: ForAllValues:StringNotLike Deny matches key2:audit',
    policies: [
      doc(allowAll, {
        Effect: 'Deny',
        Action: 'sqs:*',
        Resource: '*',
        Condition: { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
      }),
    ],
    context: { 'aws:TagKeys': ['key2:audit'] },
    expected: 'ExplicitlyDenied',
  },
];

describe('evaluateIdentityPolicies', () => {
  for (const [group, cases] of Object.entries({ ACTIONS, DENY, RESOURCES, VARIABLES, CONDITIONS })) {
    describe(group.toLowerCase(), () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
        expect(evaluateIdentityPolicies(c.policies, requestOf(c))).toBe(c.expected);
      });
    });
  }
});

describe('statements it ignores', () => {
  const evaluateWith = (statements: PolicyStatement[], request: Partial<IamRequest> = {}) => {
    const warnings: string[] = [];
    const decision = evaluateIdentityPolicies(
      [doc(...statements)],
      requestOf({ name: '', policies: [], expected: 'Allowed', request }),
      {
        onWarning: (m) => warnings.push(m),
      },
    );
    return { decision, warnings };
  };

  it('an unknown operator makes its statement never match, reported once', () => {
    const allow = evaluateWith([allowIf({ StringEqualz: { 'aws:RequestedRegion': REGION } })]);
    expect(allow.decision).toBe('ImplicitlyDenied');
    expect(allow.warnings).toEqual([
      'policy 0 statement 0 uses the unknown condition operator StringEqualz; the statement is ignored',
    ]);
    const deny = evaluateWith([
      allowAll,
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { 'ForSomeValues:StringLike': { 'aws:TagKeys': '*' } } },
    ]);
    expect(deny.decision).toBe('Allowed');
    expect(deny.warnings).toHaveLength(1);
  });

  it('names the IAM operators it does not implement as such', () => {
    const { decision, warnings } = evaluateWith([
      { Sid: 'Window', ...allowIf({ DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }) },
      allowIf({ NullIfExists: { 'aws:SourceVpc': 'true' } }),
    ]);
    expect(decision).toBe('ImplicitlyDenied');
    expect(warnings).toEqual([
      'policy 0 statement 0 (Window) uses the condition operator DateLessThan, which the local IAM check does not implement; the statement is ignored',
      'policy 0 statement 1 uses the unknown condition operator NullIfExists; the statement is ignored',
    ]);
  });

  it('statements IAM rejects are ignored and reported; the others still count', () => {
    const { decision, warnings } = evaluateWith([
      { Action: 'sqs:*', Resource: '*' } as unknown as PolicyStatement,
      { Effect: 'Allow', Resource: '*' },
      { Effect: 'Allow', Action: 'sqs:*' },
      { Effect: 'Allow', Action: 'sqs:*', Resource: '*', NotResource: queue('x') },
      { Effect: 'Allow', Action: 'sqs:*', Resource: '*', Condition: { StringEquals: 'x' } },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue('jobs') },
    ]);
    expect(decision).toBe('Allowed');
    expect(warnings).toEqual([
      'policy 0 statement 0 has no Effect; the statement is ignored',
      'policy 0 statement 1 has neither Action nor NotAction; the statement is ignored',
      'policy 0 statement 2 has neither Resource nor NotResource (IAM rejects it at deploy); the statement is ignored',
      'policy 0 statement 3 has both Resource and NotResource; the statement is ignored',
      'policy 0 statement 4 has a StringEquals condition that is not an object of keys and values; the statement is ignored',
    ]);
  });

  it('accepts a single statement object, as IAM does', () => {
    const policy = { Version: '2012-10-17', Statement: allowAll } as unknown as PolicyDocument;
    const compiled = compileIdentityPolicies([policy]);
    expect(compiled.problems).toEqual([]);
    expect(compiled.evaluate(requestOf({ name: '', policies: [], expected: 'Allowed' }))).toBe('Allowed');
  });
});

describe('wildcard matching', () => {
  it('stays linear on a pattern made to backtrack', () => {
    const policies = [
      doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::b/${'*a'.repeat(12)}*b` }),
    ];
    const compiled = compileIdentityPolicies(policies);
    const started = performance.now();
    const decision = compiled.evaluate({
      action: 's3:GetObject',
      resource: `arn:aws:s3:::b/${'a'.repeat(20_000)}`,
      context: {},
    });
    expect(decision).toBe('ImplicitlyDenied');
    expect(performance.now() - started).toBeLessThan(200);
  });
});
