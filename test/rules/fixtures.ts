import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnResource, StackTemplate } from '../../lib/constructs/rules/template-set.js';
import { TemplateSet } from '../../lib/constructs/rules/template-set.js';

export type Resources = Record<string, CfnResource & { Properties: Record<string, unknown> }>;

const tlsDeny = (resource: unknown, action: string) => ({
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: action,
  Resource: resource,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

/**
 * A topology that breaks no rule: a topic (KMS, TLS-only) fanning out to a queue with a DLQ (SSE, TLS-only,
 * SNS allowed), a subscription DLQ, and a Lambda consumer with partial batch responses. Tests mutate a copy.
 */
export function goodResources(): Resources {
  return {
    Key: {
      Type: 'AWS::KMS::Key',
      Properties: {
        KeyPolicy: {
          Statement: [
            { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' },
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Resource: '*',
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'Topic' } } },
            },
          ],
        },
      },
    },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } } },
    TopicPolicy: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [{ Ref: 'Topic' }],
        PolicyDocument: { Statement: [tlsDeny({ Ref: 'Topic' }, 'sns:Publish')] },
      },
    },
    Dlq: {
      Type: 'AWS::SQS::Queue',
      Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 },
    },
    Queue: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 180,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 5 },
      },
    },
    SubDlq: { Type: 'AWS::SQS::Queue', Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 } },
    QueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Queue' }],
        PolicyDocument: {
          Statement: [
            tlsDeny({ 'Fn::GetAtt': ['Queue', 'Arn'] }, 'sqs:*'),
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] },
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'Topic' } } },
            },
          ],
        },
      },
    },
    DlqPolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Dlq' }, { Ref: 'SubDlq' }],
        PolicyDocument: {
          Statement: [
            tlsDeny('*', 'sqs:*'),
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: '*',
              Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'Topic' } } },
            },
          ],
        },
      },
    },
    Subscription: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sqs',
        TopicArn: { Ref: 'Topic' },
        Endpoint: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        FilterPolicy: { kind: ['image', 'text'] },
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['SubDlq', 'Arn'] } },
      },
    },
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 30 } },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        FunctionName: { Ref: 'Fn' },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    },
  };
}

/** A deep copy of the good resources, for mutation. */
export function resources(): Resources {
  return structuredClone(goodResources());
}

export function stack(name: string, res: Resources, outputs: StackTemplate['outputs'] = {}): StackTemplate {
  return { stackName: name, templatePath: `/virtual/${name}.template.json`, resources: res, parameters: {}, outputs };
}

export function templateSet(res: Resources): TemplateSet {
  return new TemplateSet([stack('Test', res)]);
}

/** Writes a template to a temporary file and returns its path (for the CLI and loader tests). */
export function writeTemplate(res: Resources, name = 'Test'): string {
  const dir = mkdtempSync(join(tmpdir(), 'queuekit-check-'));
  const path = join(dir, `${name}.template.json`);
  writeFileSync(path, JSON.stringify({ Resources: res }));
  return path;
}
