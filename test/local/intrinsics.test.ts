// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not template literals
/**
 * The intrinsic resolver on hand-built template values: every function `cdk synth` emits, pseudo parameters,
 * AWS::NoValue, conditions, strict errors (naming the construct path and the fix), and the data shapes
 * cfn-resolver-lib got wrong (a single-key data object stays an object).
 */
import { describe, expect, it } from 'vitest';
import { LocalRunnerError } from '../../lib/local/errors.js';
import {
  IntrinsicResolutionError,
  type ResolveContext,
  resolveIntrinsics,
  resolveString,
} from '../../lib/local/intrinsics.js';

const WHERE = 'App/Jobs/Queue';

const RESOURCES: Record<string, { ref: string; attributes: Record<string, string> }> = {
  JobsQueue: {
    ref: 'http://localhost/000000000000/App-JobsQueue',
    attributes: { Arn: 'arn:aws:sqs:us-east-1:000000000000:App-JobsQueue', QueueName: 'App-JobsQueue' },
  },
  EventsTopic: {
    ref: 'arn:aws:sns:us-east-1:000000000000:App-EventsTopic',
    attributes: { TopicName: 'App-EventsTopic' },
  },
};

const EXPORTS: Record<string, string> = {
  'Messaging:JobsQueueArn': 'arn:aws:sqs:us-east-1:000000000000:App-JobsQueue',
};

function context(overrides: Partial<ResolveContext> = {}): ResolveContext {
  return {
    region: 'eu-west-1',
    accountId: '123456789012',
    partition: 'aws',
    stackName: 'App',
    parameters: { Env: 'dev', Count: 3 },
    mappings: { Sizes: { dev: { Memory: 128 }, prod: { Memory: 1024 } } },
    conditions: {
      IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
      IsDev: { 'Fn::Equals': [{ Ref: 'Env' }, 'dev'] },
      NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      DevAndNotProd: { 'Fn::And': [{ Condition: 'IsDev' }, { Condition: 'NotProd' }] },
      ProdOrDev: { 'Fn::Or': [{ Condition: 'IsProd' }, { Condition: 'IsDev' }] },
      ProdAndDev: { 'Fn::And': [{ Condition: 'IsProd' }, { Condition: 'IsDev' }] },
    },
    ref: (id) => RESOURCES[id]?.ref,
    getAtt: (id, attribute) => RESOURCES[id]?.attributes[attribute],
    importValue: (name) => EXPORTS[name],
    ...overrides,
  };
}

const resolve = (value: unknown, ctx = context()) => resolveIntrinsics(value, ctx, WHERE);

/** The error `fn` throws, checked to be an IntrinsicResolutionError. */
function errorOf(fn: () => unknown): IntrinsicResolutionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(IntrinsicResolutionError);
    expect(error).toBeInstanceOf(LocalRunnerError);
    return error as IntrinsicResolutionError;
  }
  throw new Error('expected an IntrinsicResolutionError, nothing was thrown');
}

describe('plain values', () => {
  it('returns scalars, null, lists and objects without intrinsics unchanged', () => {
    expect(resolve('text')).toBe('text');
    expect(resolve(42)).toBe(42);
    expect(resolve(true)).toBe(true);
    expect(resolve(null)).toBeNull();
    expect(resolve(undefined)).toBeUndefined();
    expect(resolve([1, 'a', { b: 2 }])).toEqual([1, 'a', { b: 2 }]);
    expect(resolve({ a: 1, b: { c: [true] } })).toEqual({ a: 1, b: { c: [true] } });
  });

  it('keeps a single-key data object an object (cfn-resolver-lib turned it into its value)', () => {
    expect(resolve({ kind: ['image', 'text'] })).toEqual({ kind: ['image', 'text'] });
    expect(resolve({ FilterPolicy: { kind: ['image', 'text'] } })).toEqual({
      FilterPolicy: { kind: ['image', 'text'] },
    });
    expect(resolve({ priority: [{ numeric: ['>', 5] }] })).toEqual({ priority: [{ numeric: ['>', 5] }] });
    expect(resolve({ kind: [{ Ref: 'Env' }] })).toEqual({ kind: ['dev'] });
  });

  it('keeps a data object whose single key is "Condition" but names no condition', () => {
    expect(resolve({ Condition: 'NoSuchCondition' })).toEqual({ Condition: 'NoSuchCondition' });
    expect(resolve({ Condition: { StringEquals: { 'aws:SourceArn': 'x' } } })).toEqual({
      Condition: { StringEquals: { 'aws:SourceArn': 'x' } },
    });
  });
});

describe('Ref', () => {
  it('resolves a resource to its physical id and a parameter to its value', () => {
    expect(resolve({ Ref: 'JobsQueue' })).toBe('http://localhost/000000000000/App-JobsQueue');
    expect(resolve({ Ref: 'EventsTopic' })).toBe('arn:aws:sns:us-east-1:000000000000:App-EventsTopic');
    expect(resolve({ Ref: 'Env' })).toBe('dev');
    expect(resolve({ Ref: 'Count' })).toBe(3);
  });

  it('resolves the pseudo parameters', () => {
    expect(resolve({ Ref: 'AWS::Region' })).toBe('eu-west-1');
    expect(resolve({ Ref: 'AWS::AccountId' })).toBe('123456789012');
    expect(resolve({ Ref: 'AWS::Partition' })).toBe('aws');
    expect(resolve({ Ref: 'AWS::StackName' })).toBe('App');
    expect(resolve({ Ref: 'AWS::StackId' })).toBe('arn:aws:cloudformation:eu-west-1:123456789012:stack/App/local');
    expect(resolve({ Ref: 'AWS::URLSuffix' })).toBe('amazonaws.com');
    expect(resolve({ Ref: 'AWS::NotificationARNs' })).toEqual([]);
  });

  it('fails on an unknown pseudo parameter', () => {
    expect(errorOf(() => resolve({ Ref: 'AWS::Nope' })).message).toBe(`${WHERE}: unknown pseudo parameter AWS::Nope.`);
  });

  it('fails on an unknown logical id, naming the path, the stack and the fix', () => {
    const { message } = errorOf(() => resolve({ Ref: 'Missing' }));
    expect(message).toContain(WHERE);
    expect(message).toContain('Ref to Missing');
    expect(message).toContain('stack App');
    expect(message).toContain("Fix: re-run 'cdk synth'");
  });

  it('removes AWS::NoValue from objects and lists, and resolves it alone to undefined', () => {
    expect(resolve({ A: 1, B: { Ref: 'AWS::NoValue' }, C: 'x' })).toEqual({ A: 1, C: 'x' });
    expect(resolve(['a', { Ref: 'AWS::NoValue' }, 'b'])).toEqual(['a', 'b']);
    expect(resolve({ Outer: { Inner: { Ref: 'AWS::NoValue' } } })).toEqual({ Outer: {} });
    expect(resolve({ Ref: 'AWS::NoValue' })).toBeUndefined();
  });

  it('removes a property whose Fn::If picks AWS::NoValue', () => {
    const value = { DelaySeconds: { 'Fn::If': ['IsProd', 5, { Ref: 'AWS::NoValue' }] }, Name: 'q' };
    expect(resolve(value)).toEqual({ Name: 'q' });
    expect(resolve(value, context({ parameters: { Env: 'prod' } }))).toEqual({ DelaySeconds: 5, Name: 'q' });
  });
});

describe('Fn::GetAtt', () => {
  it('resolves the list form and the dotted string form', () => {
    const arn = 'arn:aws:sqs:us-east-1:000000000000:App-JobsQueue';
    expect(resolve({ 'Fn::GetAtt': ['JobsQueue', 'Arn'] })).toBe(arn);
    expect(resolve({ 'Fn::GetAtt': 'JobsQueue.Arn' })).toBe(arn);
    expect(resolve({ 'Fn::GetAtt': 'EventsTopic.TopicName' })).toBe('App-EventsTopic');
  });

  it('resolves intrinsics inside the list form', () => {
    expect(resolve({ 'Fn::GetAtt': ['JobsQueue', { 'Fn::Join': ['', ['Queue', 'Name']] }] })).toBe('App-JobsQueue');
  });

  it('fails on an unknown resource or attribute, naming both', () => {
    const { message } = errorOf(() => resolve({ 'Fn::GetAtt': ['Missing', 'Arn'] }));
    expect(message).toContain(`${WHERE}: Fn::GetAtt Missing.Arn`);
    expect(message).toContain('stack App');
    expect(errorOf(() => resolve({ 'Fn::GetAtt': 'JobsQueue.Nope' })).message).toContain('JobsQueue.Nope');
  });
});

describe('Fn::Join', () => {
  it('joins resolved parts with the separator', () => {
    expect(
      resolve({
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
        ],
      }),
    ).toBe('arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole');
    expect(resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Env' }, { Ref: 'Count' }]] })).toBe('a-dev-3');
  });

  it('drops AWS::NoValue parts', () => {
    expect(resolve({ 'Fn::Join': [',', ['a', { Ref: 'AWS::NoValue' }, 'b']] })).toBe('a,b');
  });

  it('joins a list that is itself an intrinsic', () => {
    expect(resolve({ 'Fn::Join': ['+', { 'Fn::Split': [',', 'x,y,z'] }] })).toBe('x+y+z');
  });

  it('fails on a malformed argument', () => {
    expect(errorOf(() => resolve({ 'Fn::Join': 'a' })).message).toContain('Fn::Join takes a list of 2');
    expect(errorOf(() => resolve({ 'Fn::Join': ['', 'not-a-list'] })).message).toContain('Fn::Join needs a list');
  });
});

describe('Fn::Sub', () => {
  it('substitutes pseudo parameters, parameters and resource refs in a string', () => {
    expect(resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::bucket-${AWS::Region}-${AWS::AccountId}' })).toBe(
      'arn:aws:s3:::bucket-eu-west-1-123456789012',
    );
    expect(resolve({ 'Fn::Sub': 'env=${Env} topic=${EventsTopic}' })).toBe(
      'env=dev topic=arn:aws:sns:us-east-1:000000000000:App-EventsTopic',
    );
    expect(resolve({ 'Fn::Sub': 'count ${Count}' })).toBe('count 3');
  });

  it('substitutes ${Resource.Attribute} with Fn::GetAtt', () => {
    expect(resolve({ 'Fn::Sub': '${JobsQueue.Arn}/*' })).toBe('arn:aws:sqs:us-east-1:000000000000:App-JobsQueue/*');
  });

  it('leaves ${!Literal} as ${Literal}', () => {
    expect(resolve({ 'Fn::Sub': 'echo ${!Literal} and ${!AWS::Region} in ${AWS::Region}' })).toBe(
      'echo ${Literal} and ${AWS::Region} in eu-west-1',
    );
  });

  it('takes variables, resolved, before refs and parameters', () => {
    expect(
      resolve({
        'Fn::Sub': [
          '${Queue}|${Env}|${Name}',
          { Queue: { 'Fn::GetAtt': ['JobsQueue', 'QueueName'] }, Env: 'overridden', Name: { Ref: 'AWS::StackName' } },
        ],
      }),
    ).toBe('App-JobsQueue|overridden|App');
  });

  it('fails on an unknown variable and on a non-string value', () => {
    expect(errorOf(() => resolve({ 'Fn::Sub': 'x ${Missing}' })).message).toContain('Ref to Missing');
    expect(errorOf(() => resolve({ 'Fn::Sub': 'x ${Missing.Arn}' })).message).toContain('Fn::GetAtt Missing.Arn');
    expect(errorOf(() => resolve({ 'Fn::Sub': ['${List}', { List: ['a'] }] })).message).toBe(
      `${WHERE}: Fn::Sub variable \${List} is not a string.`,
    );
  });
});

describe('Fn::Select and Fn::Split', () => {
  it('selects from a list, and from a split string', () => {
    expect(resolve({ 'Fn::Select': [1, ['a', 'b', 'c']] })).toBe('b');
    expect(resolve({ 'Fn::Select': ['0', [{ Ref: 'Env' }]] })).toBe('dev');
    expect(resolve({ 'Fn::Select': [5, { 'Fn::Split': [':', { 'Fn::GetAtt': ['JobsQueue', 'Arn'] }] }] })).toBe(
      'App-JobsQueue',
    );
  });

  it('splits a resolved string', () => {
    expect(resolve({ 'Fn::Split': ['/', 'a/b/c'] })).toEqual(['a', 'b', 'c']);
    expect(resolve({ 'Fn::Split': ['-', { Ref: 'AWS::StackName' }] })).toEqual(['App']);
  });

  it('fails on an index out of range, and on splitting a non-string', () => {
    expect(errorOf(() => resolve({ 'Fn::Select': [3, ['a']] })).message).toContain(
      'Fn::Select index 3 is out of range',
    );
    expect(errorOf(() => resolve({ 'Fn::Select': [-1, ['a']] })).message).toContain('out of range');
    expect(errorOf(() => resolve({ 'Fn::Split': [',', ['a']] })).message).toContain('Fn::Split needs a string');
  });
});

describe('Fn::ImportValue', () => {
  it('resolves an export of the assembly, the name itself resolved first', () => {
    const arn = 'arn:aws:sqs:us-east-1:000000000000:App-JobsQueue';
    expect(resolve({ 'Fn::ImportValue': 'Messaging:JobsQueueArn' })).toBe(arn);
    expect(resolve({ 'Fn::ImportValue': { 'Fn::Sub': ['Messaging:${Name}Arn', { Name: 'JobsQueue' }] } })).toBe(arn);
    expect(resolve({ 'Fn::ImportValue': { 'Fn::Join': [':', ['Messaging', 'JobsQueueArn']] } })).toBe(arn);
  });

  it('fails on a missing export, naming the path, the export and the fix', () => {
    const { message } = errorOf(() => resolve({ 'Fn::ImportValue': 'Other:Missing' }));
    expect(message).toBe(
      `${WHERE}: Fn::ImportValue Other:Missing: no stack of the cloud assembly exports it. Fix: keep the exporting stack in the same app, or pass its value as a parameter.`,
    );
  });
});

describe('conditions', () => {
  it('picks the Fn::If branch by the named condition', () => {
    expect(resolve({ 'Fn::If': ['IsProd', 'big', 'small'] })).toBe('small');
    expect(resolve({ 'Fn::If': ['IsDev', { Ref: 'Env' }, 'other'] })).toBe('dev');
    expect(resolve({ 'Fn::If': ['IsProd', 'big', 'small'] }, context({ parameters: { Env: 'prod' } }))).toBe('big');
  });

  it('evaluates Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition references', () => {
    expect(resolve({ 'Fn::Equals': [{ Ref: 'Env' }, 'dev'] })).toBe(true);
    expect(resolve({ 'Fn::Equals': [{ Ref: 'Count' }, 4] })).toBe(false);
    expect(resolve({ 'Fn::Equals': [['a'], ['a']] })).toBe(true);
    expect(resolve({ 'Fn::Not': [{ 'Fn::Equals': ['a', 'b'] }] })).toBe(true);
    expect(resolve({ 'Fn::If': ['NotProd', 'yes', 'no'] })).toBe('yes');
    expect(resolve({ 'Fn::If': ['DevAndNotProd', 'yes', 'no'] })).toBe('yes');
    expect(resolve({ 'Fn::If': ['ProdOrDev', 'yes', 'no'] })).toBe('yes');
    expect(resolve({ 'Fn::If': ['ProdAndDev', 'yes', 'no'] })).toBe('no');
    expect(resolve({ 'Fn::Or': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['x', 'y'] }] })).toBe(false);
    expect(resolve({ 'Fn::And': [{ Condition: 'IsDev' }, 'true'] })).toBe(true);
    expect(resolve({ Condition: 'IsDev' })).toBe(true);
  });

  it('fails on an unknown condition and on a non-boolean condition', () => {
    expect(errorOf(() => resolve({ 'Fn::If': ['Nope', 1, 2] })).message).toBe(`${WHERE}: unknown condition Nope.`);
    expect(errorOf(() => resolve({ 'Fn::Not': ['maybe'] })).message).toContain(
      'condition did not evaluate to a boolean ("maybe")',
    );
    expect(
      errorOf(() => resolve({ 'Fn::If': ['IsProd', 1, 2] }, context({ conditions: undefined }))).message,
    ).toContain('unknown condition IsProd');
  });
});

describe('Fn::FindInMap, Fn::Base64, Fn::GetAZs', () => {
  it('finds a mapping value, keys resolved', () => {
    expect(resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Memory'] })).toBe(128);
    expect(resolve({ 'Fn::FindInMap': ['Sizes', 'prod', 'Memory'] })).toBe(1024);
  });

  it('fails on a missing mapping entry, naming it', () => {
    expect(errorOf(() => resolve({ 'Fn::FindInMap': ['Sizes', 'test', 'Memory'] })).message).toBe(
      `${WHERE}: Fn::FindInMap Sizes.test.Memory not found.`,
    );
    expect(
      errorOf(() => resolve({ 'Fn::FindInMap': ['Sizes', 'dev', 'Memory'] }, context({ mappings: undefined }))).message,
    ).toContain('Sizes.dev.Memory not found');
  });

  it('encodes Fn::Base64 of a resolved string', () => {
    expect(resolve({ 'Fn::Base64': 'hello' })).toBe(Buffer.from('hello').toString('base64'));
    expect(resolve({ 'Fn::Base64': { 'Fn::Sub': 'env=${Env}' } })).toBe(Buffer.from('env=dev').toString('base64'));
  });

  it('lists three zones of the region for Fn::GetAZs', () => {
    expect(resolve({ 'Fn::GetAZs': '' })).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  });
});

describe('unsupported intrinsics', () => {
  it('fails naming the function, the path and the fix', () => {
    const { message } = errorOf(() => resolve({ Outer: { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] } }));
    expect(message).toBe(
      `${WHERE}: intrinsic Fn::Cidr is not supported by the local runner. Fix: compute the value in the CDK app instead.`,
    );
  });
});

describe('resolveString', () => {
  it('returns strings, and numbers and booleans as strings', () => {
    expect(resolveString({ Ref: 'Env' }, context(), WHERE)).toBe('dev');
    expect(resolveString({ Ref: 'Count' }, context(), WHERE)).toBe('3');
    expect(resolveString({ 'Fn::Equals': ['a', 'a'] }, context(), WHERE)).toBe('true');
  });

  it('fails on anything else, naming what came out and the template value', () => {
    const { message } = errorOf(() => resolveString({ 'Fn::Split': [',', 'a,b'] }, context(), WHERE));
    expect(message).toBe(
      `${WHERE}: expected a string, got ["a","b"]. Fix: check the template value {"Fn::Split":[",","a,b"]}.`,
    );
  });
});
