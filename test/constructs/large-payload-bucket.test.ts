import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { BatchConsumer, Producer, Queue, Topic } from '../../lib/constructs/index.js';
import { idOf, type Json, newStack, props } from '../support/cdk-template.js';

const entry = (name: string) => new URL(`../../lambdas/${name}.ts`, import.meta.url).pathname;

function statementsOf(template: Template, role: IConstruct): Json[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p: Json) => p.Properties.Roles.some((r: Json) => r.Ref === idOf(role)))
    .flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
}

const objectsOf = (bucket: IConstruct) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(bucket), 'Arn'] }, '/*']] });

describe('largePayloadBucket', () => {
  it('Producer: s3:PutObject on the objects only, the bucket key to encrypt, and QUEUEKIT_LARGE_PAYLOAD_BUCKET', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'PayloadKey');
    const bucket = new s3.Bucket(stack, 'Payloads', { encryptionKey: key });
    const producer = new Producer(stack, 'Submit', {
      entry: entry('submit-job'),
      topics: { jobs: new Topic(stack, 'Jobs') },
      largePayloadBucket: bucket,
    });
    const t = Template.fromStack(stack);
    const statements = statementsOf(t, producer.function.role as IConstruct);
    expect(statements).toContainEqual({ Action: 's3:PutObject', Effect: 'Allow', Resource: objectsOf(bucket) });
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: expect.arrayContaining(['kms:Encrypt', 'kms:GenerateDataKey*']) }),
    );
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('s3:GetObject');
    expect(props(t, producer.function).Environment.Variables.QUEUEKIT_LARGE_PAYLOAD_BUCKET).toEqual({
      Ref: idOf(bucket),
    });
  });

  it('BatchConsumer: s3:GetObject (and s3:DeleteObject with deleteLargePayloads) on the objects only', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Payloads');
    const reader = new BatchConsumer(stack, 'Reader', {
      queue: new Queue(stack, 'Jobs'),
      entry: entry('audit-writer'),
      largePayloadBucket: bucket,
    });
    const deleter = new BatchConsumer(stack, 'Deleter', {
      queue: new Queue(stack, 'Other'),
      entry: entry('audit-writer'),
      largePayloadBucket: bucket,
      deleteLargePayloads: true,
    });
    const t = Template.fromStack(stack);
    expect(statementsOf(t, reader.function.role as IConstruct)).toContainEqual({
      Action: 's3:GetObject',
      Effect: 'Allow',
      Resource: objectsOf(bucket),
    });
    expect(statementsOf(t, deleter.function.role as IConstruct)).toContainEqual({
      Action: ['s3:GetObject', 's3:DeleteObject'],
      Effect: 'Allow',
      Resource: objectsOf(bucket),
    });
  });

  it('stays cdk-nag AwsSolutions clean: the objects wildcard is acknowledged with its reason, for owned and imported buckets', () => {
    const app = new App({ context: { '@aws-cdk/core:appMode': 'inmemory' } });
    const stack = new Stack(app, 'Payloads', { env: { account: '123456789012', region: 'us-east-1' } });
    const logs = s3.Bucket.fromBucketName(stack, 'AccessLogs', 'access-logs-bucket');
    const owned = new s3.Bucket(stack, 'Owned', {
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: logs,
    });
    const imported = s3.Bucket.fromBucketName(stack, 'Imported', 'shared-payloads');
    const queue = new Queue(stack, 'Jobs');
    new Producer(stack, 'Owner', { entry: entry('submit-job'), queues: { jobs: queue }, largePayloadBucket: owned });
    new Producer(stack, 'Importer', {
      entry: entry('submit-job'),
      queues: { jobs: queue },
      largePayloadBucket: imported,
    });
    new BatchConsumer(stack, 'Reader', { queue, entry: entry('audit-writer'), largePayloadBucket: owned });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
    const errors = (report.pluginReports as Json[]).flatMap((r) =>
      (r.violations as Json[])
        .filter((v) => v.severity === 'error')
        .map((v) => `${v.ruleName} ${JSON.stringify(v.violatingResources?.map((x: Json) => x.resourceLogicalId))}`),
    );
    expect(errors).toEqual([]);
  });
});
