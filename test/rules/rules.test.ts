import { describe, expect, it } from 'vitest';
import { checkTemplates } from '../../lib/constructs/rules/check.js';
import { TOPOLOGY_RULES } from '../../lib/constructs/rules/rules.js';
import { TemplateSet } from '../../lib/constructs/rules/template-set.js';
import { type Resources, resources, stack, templateSet } from './fixtures.js';

const props = (r: Resources, id: string) => r[id]!.Properties;
const fifoQueue = (r: Resources, id: string) => {
  props(r, id).FifoQueue = true;
};

/** For every rule: a mutation of the good topology that must trigger it, and the resource it must point at. */
const violations: Record<string, { mutate: (r: Resources) => void; at: string }[]> = {
  'dlq-type-mismatch': [{ mutate: (r) => fifoQueue(r, 'Queue'), at: 'Queue' }],
  'subscription-dlq-type-mismatch': [{ mutate: (r) => fifoQueue(r, 'SubDlq'), at: 'Subscription' }],
  'visibility-below-function-timeout': [
    { mutate: (r) => (props(r, 'Queue').VisibilityTimeout = 20), at: 'Queue' },
    {
      mutate: (r) => {
        props(r, 'Queue').VisibilityTimeout = 31;
        props(r, 'Mapping').MaximumBatchingWindowInSeconds = 5;
      },
      at: 'Mapping',
    },
  ],
  'standard-topic-to-fifo-queue': [
    {
      mutate: (r) => {
        fifoQueue(r, 'Queue');
        fifoQueue(r, 'Dlq');
      },
      at: 'Subscription',
    },
  ],
  'sns-into-aws-managed-key': [
    {
      mutate: (r) => {
        delete props(r, 'Queue').SqsManagedSseEnabled;
        props(r, 'Queue').KmsMasterKeyId = 'alias/aws/sqs';
      },
      at: 'Queue',
    },
  ],
  'sns-kms-key-policy': [
    {
      mutate: (r) => {
        props(r, 'Queue').KmsMasterKeyId = { Ref: 'Key' };
        const policy = props(r, 'Key').KeyPolicy as { Statement: unknown[] };
        policy.Statement = policy.Statement.slice(0, 1);
      },
      at: 'Key',
    },
  ],
  'sns-queue-policy-missing': [
    { mutate: (r) => delete r.QueuePolicy, at: 'Queue' },
    {
      mutate: (r) => {
        const doc = props(r, 'QueuePolicy').PolicyDocument as { Statement: Record<string, unknown>[] };
        doc.Statement[1]!.Condition = { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:000000000000:other' } };
      },
      at: 'Queue',
    },
  ],
  'fifo-mapping-batch': [
    {
      mutate: (r) => {
        fifoQueue(r, 'Queue');
        fifoQueue(r, 'Dlq');
        props(r, 'Topic').FifoTopic = true;
        fifoQueue(r, 'SubDlq');
        props(r, 'Mapping').MaximumBatchingWindowInSeconds = 1;
      },
      at: 'Mapping',
    },
  ],
  'standard-mapping-batch': [{ mutate: (r) => (props(r, 'Mapping').BatchSize = 100), at: 'Mapping' }],
  'mapping-max-concurrency-range': [
    { mutate: (r) => (props(r, 'Mapping').ScalingConfig = { MaximumConcurrency: 1 }), at: 'Mapping' },
  ],
  'queue-name-invalid': [
    { mutate: (r) => (props(r, 'Queue').QueueName = 'jobs.fifo'), at: 'Queue' },
    { mutate: (r) => (props(r, 'Queue').QueueName = 'x'.repeat(81)), at: 'Queue' },
    { mutate: (r) => (props(r, 'Queue').QueueName = 'has space'), at: 'Queue' },
  ],
  'topic-name-invalid': [{ mutate: (r) => (props(r, 'Topic').TopicName = 'events.fifo'), at: 'Topic' }],
  'queue-attribute-range': [
    { mutate: (r) => (props(r, 'Queue').MaximumMessageSize = 2_000_000), at: 'Queue' },
    { mutate: (r) => (props(r, 'Queue').DelaySeconds = 901), at: 'Queue' },
    { mutate: (r) => ((props(r, 'Queue').RedrivePolicy as Record<string, unknown>).maxReceiveCount = 0), at: 'Queue' },
  ],
  'fifo-high-throughput-config': [
    { mutate: (r) => (props(r, 'Queue').ContentBasedDeduplication = true), at: 'Queue' },
    {
      mutate: (r) => {
        fifoQueue(r, 'Dlq');
        Object.assign(props(r, 'Dlq'), { FifoThroughputLimit: 'perMessageGroupId', DeduplicationScope: 'queue' });
      },
      at: 'Dlq',
    },
  ],
  'filter-policy-limits': [
    {
      mutate: (r) =>
        (props(r, 'Subscription').FilterPolicy = { a: ['1'], b: ['1'], c: ['1'], d: ['1'], e: ['1'], f: ['1'] }),
      at: 'Subscription',
    },
    {
      mutate: (r) =>
        (props(r, 'Subscription').FilterPolicy = {
          a: Array.from({ length: 20 }, (_, i) => `${i}`),
          b: Array.from({ length: 8 }, (_, i) => `${i}`),
        }),
      at: 'Subscription',
    },
  ],
  'visibility-below-recommended': [{ mutate: (r) => (props(r, 'Queue').VisibilityTimeout = 60), at: 'Queue' }],
  'consumed-queue-without-dlq': [{ mutate: (r) => delete props(r, 'Queue').RedrivePolicy, at: 'Queue' }],
  'max-receive-count-low': [
    { mutate: (r) => ((props(r, 'Queue').RedrivePolicy as Record<string, unknown>).maxReceiveCount = 2), at: 'Queue' },
  ],
  'dlq-retention-not-longer': [{ mutate: (r) => (props(r, 'Dlq').MessageRetentionPeriod = 345600), at: 'Dlq' }],
  'mapping-without-partial-batch-response': [
    { mutate: (r) => delete props(r, 'Mapping').FunctionResponseTypes, at: 'Mapping' },
  ],
  'queue-not-encrypted': [{ mutate: (r) => delete props(r, 'Queue').SqsManagedSseEnabled, at: 'Queue' }],
  'topic-not-encrypted': [{ mutate: (r) => delete props(r, 'Topic').KmsMasterKeyId, at: 'Topic' }],
  'queue-without-tls-policy': [
    {
      mutate: (r) => {
        const doc = props(r, 'QueuePolicy').PolicyDocument as { Statement: unknown[] };
        doc.Statement = doc.Statement.slice(1);
      },
      at: 'Queue',
    },
  ],
  'topic-without-tls-policy': [{ mutate: (r) => delete r.TopicPolicy, at: 'Topic' }],
  'subscription-without-dlq': [{ mutate: (r) => delete props(r, 'Subscription').RedrivePolicy, at: 'Subscription' }],
};

describe('topology rules', () => {
  it('the good topology passes every rule', () => {
    const report = checkTemplates(templateSet(resources()));
    expect(report.findings).toEqual([]);
    expect(report.counted).toEqual({ queues: 3, topics: 1, subscriptions: 1, mappings: 1 });
  });

  it('every rule has a failing case here', () => {
    expect(Object.keys(violations).sort()).toEqual(TOPOLOGY_RULES.map((r) => r.id).sort());
  });

  for (const rule of TOPOLOGY_RULES) {
    describe(rule.id, () => {
      (violations[rule.id] ?? []).forEach(({ mutate, at }, i) => {
        it(`fails case ${i + 1} with its severity, location and fix`, () => {
          const r = resources();
          mutate(r);
          const findings = checkTemplates(templateSet(r)).findings.filter((f) => f.ruleId === rule.id);
          expect(findings.length).toBeGreaterThan(0);
          const [first] = findings;
          expect(first!.severity).toBe(rule.severity);
          expect(first!.fix.length).toBeGreaterThan(10);
          expect(findings.flatMap((f) => f.resources.map((x) => x.logicalId))).toContain(at);
        });
      });
      it('passes on the good topology', () => {
        expect(checkTemplates(templateSet(resources())).findings.filter((f) => f.ruleId === rule.id)).toEqual([]);
      });
    });
  }
});

describe('resolution', () => {
  it('follows Fn::ImportValue across stacks to find the queue of a mapping', () => {
    const messaging = resources();
    const compute: Resources = { Fn: messaging.Fn!, Mapping: messaging.Mapping! };
    delete messaging.Fn;
    delete messaging.Mapping;
    props(compute, 'Mapping').EventSourceArn = { 'Fn::ImportValue': 'Messaging:QueueArn' };
    props(messaging, 'Queue').VisibilityTimeout = 10;
    const set = new TemplateSet([
      stack('Messaging', messaging, {
        QueueArn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] }, Export: { Name: 'Messaging:QueueArn' } },
      }),
      stack('Compute', compute),
    ]);
    const report = checkTemplates(set);
    const finding = report.findings.find((f) => f.ruleId === 'visibility-below-function-timeout');
    expect(finding?.resources.map((r) => `${r.stackName}/${r.logicalId}`)).toEqual([
      'Messaging/Queue',
      'Compute/Mapping',
      'Compute/Fn',
    ]);
  });

  it('resolves parameter defaults, Fn::Sub export names and string-encoded JSON', () => {
    const r = resources();
    props(r, 'Queue').VisibilityTimeout = { Ref: 'Visibility' };
    props(r, 'Queue').RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:1:dlq.fifo',
      maxReceiveCount: 5,
    });
    const set = new TemplateSet([{ ...stack('S', r), parameters: { Visibility: { Default: '10' } } }]);
    const ids = checkTemplates(set).findings.map((f) => f.ruleId);
    expect(ids).toContain('visibility-below-function-timeout');
    expect(ids).toContain('dlq-type-mismatch'); // imported DLQ judged by its .fifo name
  });

  it('matches a queue ARN built with Fn::Join from its name', () => {
    const r = resources();
    props(r, 'Queue').QueueName = 'jobs';
    props(r, 'Mapping').EventSourceArn = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':sqs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':jobs'],
      ],
    };
    props(r, 'Queue').VisibilityTimeout = 5;
    expect(checkTemplates(templateSet(r)).findings.map((f) => f.ruleId)).toContain('visibility-below-function-timeout');
  });

  it('checks an imported queue against the visibility declared in mapping metadata', () => {
    const r = resources();
    props(r, 'Mapping').EventSourceArn = 'arn:aws:sqs:us-east-1:111111111111:external';
    (r.Mapping as { Metadata?: Record<string, unknown> }).Metadata = {
      'queuekit:declaredQueueVisibilityTimeoutSeconds': 10,
    };
    expect(checkTemplates(templateSet(r)).findings.map((f) => f.ruleId)).toContain('visibility-below-function-timeout');
  });

  it('stays silent where a policy cannot be evaluated rather than guess', () => {
    const r = resources();
    const doc = props(r, 'QueuePolicy').PolicyDocument as { Statement: Record<string, unknown>[] };
    doc.Statement[1]!.Condition = { ArnEquals: { 'aws:SourceArn': { 'Fn::ImportValue': 'NotInTheSet' } } };
    expect(checkTemplates(templateSet(r)).findings.map((f) => f.ruleId)).not.toContain('sns-queue-policy-missing');
  });

  it('reads inline topic subscriptions and QueueInlinePolicy', () => {
    const r = resources();
    delete r.Subscription;
    props(r, 'Topic').Subscription = [{ Protocol: 'sqs', Endpoint: { 'Fn::GetAtt': ['Queue', 'Arn'] } }];
    const report = checkTemplates(templateSet(r));
    expect(report.counted.subscriptions).toBe(1);
    expect(report.findings.map((f) => f.ruleId)).toEqual(['subscription-without-dlq']);
  });

  it('honours skip', () => {
    const r = resources();
    delete props(r, 'Subscription').RedrivePolicy;
    expect(checkTemplates(templateSet(r), { skip: ['subscription-without-dlq'] }).findings).toEqual([]);
  });
});
