import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTemplates } from '../../lib/constructs/rules/check.js';
import { TemplateLoadError, TemplateSet } from '../../lib/constructs/rules/template-set.js';

/** A hand-written template in CloudFormation YAML with short-form tags: a FIFO queue fed by a standard topic. */
const yamlTemplate = `
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Visibility:
    Type: Number
    Default: 10
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      QueueName: !Sub '\${AWS::StackName}-orders.fifo'
      VisibilityTimeout: !Ref Visibility
  Events:
    Type: AWS::SNS::Topic
  Sub:
    Type: AWS::SNS::Subscription
    Properties:
      Protocol: sqs
      TopicArn: !Ref Events
      Endpoint: !GetAtt Orders.Arn
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Timeout: 30
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt [Orders, Arn]
      FunctionName: !Ref Worker
`;

function write(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'queuekit-yaml-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('YAML templates', () => {
  it('reads short-form tags and applies the same rules', () => {
    const report = checkTemplates(TemplateSet.load(write('orders.yaml', yamlTemplate)));
    const errors = report.findings.filter((f) => f.severity === 'error').map((f) => f.ruleId);
    expect(errors.sort()).toEqual([
      'sns-queue-policy-missing',
      'standard-topic-to-fifo-queue',
      'visibility-below-function-timeout',
    ]);
    expect(report.findings.find((f) => f.ruleId === 'queue-name-invalid')).toBeUndefined(); // orders.fifo resolved
    expect(report.findings[0]?.resources[0]?.stackName).toBe('orders');
  });

  it('finds YAML templates in a folder', () => {
    const path = write('stack.yml', yamlTemplate);
    expect(TemplateSet.load(join(path, '..')).stacks.map((s) => s.stackName)).toEqual(['stack']);
  });

  it('says what is wrong with a file that is not a template', () => {
    expect(() => TemplateSet.load(write('bad.yaml', 'Resources: [unclosed'))).toThrow(TemplateLoadError);
    expect(() => TemplateSet.load(write('none.yaml', 'Description: no resources'))).toThrow(/has no Resources section/);
  });
});

/** A SAM template before its transform: Globals, an SQS event on a Serverless::Function. */
const samTemplate = `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 60
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 45
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs22.x
      Handler: index.handler
      Events:
        FromJobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 50
`;

describe('SAM templates', () => {
  it('reads SQS events of Serverless functions, with the Globals timeout', () => {
    const report = checkTemplates(TemplateSet.load(write('sam.yaml', samTemplate)));
    expect(report.counted.mappings).toBe(1);
    const ids = report.findings.map((f) => f.ruleId);
    // 45 s < 60 s (Globals) timeout; 50 records without a batching window; no DLQ; no partial batch responses.
    expect(ids).toEqual(
      expect.arrayContaining([
        'visibility-below-function-timeout',
        'standard-mapping-batch',
        'consumed-queue-without-dlq',
        'mapping-without-partial-batch-response',
      ]),
    );
    const visibility = report.findings.find((f) => f.ruleId === 'visibility-below-function-timeout');
    expect(visibility?.message).toContain('runs up to 60s');
    expect(visibility?.resources.map((r) => r.logicalId)).toEqual(['Jobs', 'Worker', 'Worker']);
  });
});
