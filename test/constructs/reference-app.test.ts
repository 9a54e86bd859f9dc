import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComputeStack } from '../../bin/compute-stack.js';
import { MessagingStack } from '../../bin/messaging-stack.js';
import { type BatchConsumer, checkTemplates, TemplateSet } from '../../lib/constructs/index.js';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON, read by path
type Json = Record<string, any>;

/** The reference app of bin/app.ts, built in-process (with its Lambda bundles) and checked by cdk-nag. */
const outdir = mkdtempSync(join(tmpdir(), 'queuekit-reference-app-'));
const app = new App({ outdir, context: { '@aws-cdk/core:appMode': 'inmemory' } });
const messaging = new MessagingStack(app, 'QueuekitMessaging');
const compute = new ComputeStack(app, 'QueuekitCompute', { messaging });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

let assembly: CloudAssembly | undefined;
let synthError: unknown;

beforeAll(() => {
  try {
    assembly = app.synth();
  } catch (e) {
    synthError = e;
  }
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function synthesized(): CloudAssembly {
  expect(synthError).toBeUndefined();
  expect(assembly).toBeDefined();
  return assembly as CloudAssembly;
}

const templateOf = (stackName: string): Json => synthesized().getStackByName(stackName).template;
const resourcesOf = (template: Json, type: string): [string, Json][] =>
  Object.entries(template.Resources as Json).filter(([, r]) => r.Type === type);
const getAttTarget = (value: unknown): string | undefined =>
  (value as Json | undefined)?.['Fn::GetAtt']?.[0] as string | undefined;

describe('reference app (bin/messaging-stack.ts + bin/compute-stack.ts)', () => {
  it('synthesizes: no unacknowledged cdk-nag AwsSolutions error and no queuekit error', () => {
    expect(synthError).toBeUndefined();
    const report = JSON.parse(readFileSync(join(synthesized().directory, 'validation-report.json'), 'utf8'));
    const errors = (report.pluginReports as Json[]).flatMap((r) =>
      (r.violations as Json[]).filter((v) => v.severity === 'error').map((v) => `${r.pluginName}: ${v.ruleName}`),
    );
    expect(errors).toEqual([]);
    expect(
      synthesized()
        .stacks.map((s) => s.stackName)
        .sort(),
    ).toEqual(['QueuekitCompute', 'QueuekitMessaging']);
  });

  it('every queue that is not a dead-letter queue has a RedrivePolicy', () => {
    const t = templateOf('QueuekitMessaging');
    const queues = resourcesOf(t, 'AWS::SQS::Queue');
    const deadLetterTargets = new Set(
      [...queues, ...resourcesOf(t, 'AWS::SNS::Subscription')]
        .map(([, r]) => getAttTarget(r.Properties.RedrivePolicy?.deadLetterTargetArn))
        .filter((id): id is string => id !== undefined),
    );
    const sources = queues.filter(([id]) => !deadLetterTargets.has(id));
    expect(sources.map(([id]) => id).sort()).toEqual(
      [messaging.inferenceQueue, messaging.priorityQueue, messaging.auditQueue, messaging.ledgerQueue]
        .map((q) => messaging.getLogicalId(q.queue.node.defaultChild as CfnElement))
        .sort(),
    );
    for (const [id, queue] of sources) {
      expect(queue.Properties.RedrivePolicy, id).toMatchObject({ maxReceiveCount: 5 });
      expect(deadLetterTargets.has(getAttTarget(queue.Properties.RedrivePolicy.deadLetterTargetArn) as string)).toBe(
        true,
      );
    }
    // 4 work queues, their 4 DLQs and 4 subscription DLQs.
    expect(queues).toHaveLength(12);
  });

  it('the standard topic fans out: an attribute filter, a body filter, raw and enveloped deliveries', () => {
    const t = templateOf('QueuekitMessaging');
    const standardTopics = resourcesOf(t, 'AWS::SNS::Topic').filter(([, r]) => r.Properties.FifoTopic !== true);
    expect(standardTopics).toHaveLength(1);
    const [topicId] = standardTopics[0] as [string, Json];
    const subscriptions = resourcesOf(t, 'AWS::SNS::Subscription')
      .map(([, r]) => r.Properties)
      .filter((p) => p.TopicArn?.Ref === topicId);
    expect(subscriptions.length).toBeGreaterThanOrEqual(3);
    const attributeFilters = subscriptions.filter((p) => p.FilterPolicy && p.FilterPolicyScope === 'MessageAttributes');
    const bodyFilters = subscriptions.filter((p) => p.FilterPolicy && p.FilterPolicyScope === 'MessageBody');
    expect(attributeFilters).toHaveLength(1);
    expect(attributeFilters[0]?.FilterPolicy).toEqual({ kind: ['image', 'text'] });
    expect(bodyFilters).toHaveLength(1);
    expect(bodyFilters[0]?.FilterPolicy).toEqual({ priority: ['high'] });
    expect(subscriptions.filter((p) => p.RawMessageDelivery === true)).toHaveLength(1);
    expect(subscriptions.filter((p) => p.RawMessageDelivery === false).length).toBeGreaterThanOrEqual(1);
    for (const p of subscriptions) expect(p.RedrivePolicy).toBeDefined();
  });

  it('FIFO topic → FIFO queue → Lambda mapping, across the two stacks', () => {
    const m = templateOf('QueuekitMessaging');
    const c = templateOf('QueuekitCompute');
    const fifoTopics = resourcesOf(m, 'AWS::SNS::Topic').filter(([, r]) => r.Properties.FifoTopic === true);
    expect(fifoTopics).toHaveLength(1);
    const [fifoTopicId] = fifoTopics[0] as [string, Json];
    const subscriptions = resourcesOf(m, 'AWS::SNS::Subscription').filter(
      ([, r]) => r.Properties.TopicArn?.Ref === fifoTopicId,
    );
    expect(subscriptions).toHaveLength(1);
    const queueId = getAttTarget(subscriptions[0]?.[1].Properties.Endpoint) as string;
    const queue = m.Resources[queueId];
    expect(queue.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: true });
    expect(queue.Properties.QueueName).toMatch(/\.fifo$/);

    // The compute stack imports the queue ARN exported by the messaging stack.
    const exportNames = Object.values(m.Outputs as Json)
      .filter((o) => getAttTarget(o.Value) === queueId && o.Value['Fn::GetAtt'][1] === 'Arn')
      .map((o) => o.Export.Name);
    expect(exportNames).toHaveLength(1);
    const mappings = resourcesOf(c, 'AWS::Lambda::EventSourceMapping').filter(
      ([, r]) => r.Properties.EventSourceArn?.['Fn::ImportValue'] === exportNames[0],
    );
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]?.[1].Properties;
    expect(mapping.BatchSize).toBeLessThanOrEqual(10);
    expect(mapping).not.toHaveProperty('MaximumBatchingWindowInSeconds');
    expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const fn = c.Resources[mapping.FunctionName.Ref];
    expect(fn.Type).toBe('AWS::Lambda::Function');
    expect(queue.Properties.VisibilityTimeout).toBe(6 * fn.Properties.Timeout);
  });

  it('the InferenceWorker mapping caps concurrency, and its KMS queue visibility is raised across stacks', () => {
    const c = templateOf('QueuekitCompute');
    const worker = compute.node.findChild('InferenceWorker') as BatchConsumer;
    const fnId = compute.getLogicalId(worker.function.node.defaultChild as CfnElement);
    const mappings = resourcesOf(c, 'AWS::Lambda::EventSourceMapping').filter(
      ([, r]) => r.Properties.FunctionName?.Ref === fnId,
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.[1].Properties).toMatchObject({
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const m = templateOf('QueuekitMessaging');
    const queueId = messaging.getLogicalId(messaging.inferenceQueue.queue.node.defaultChild as CfnElement);
    expect(m.Resources[queueId].Properties.VisibilityTimeout).toBe(6 * 120);
    expect(m.Resources[queueId].Properties.KmsMasterKeyId).toBeDefined();
  });

  it('every mapping reports batch item failures and every function is nodejs22.x on arm64', () => {
    const c = templateOf('QueuekitCompute');
    const mappings = resourcesOf(c, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(4);
    for (const [, r] of mappings) expect(r.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const functions = resourcesOf(c, 'AWS::Lambda::Function');
    expect(functions).toHaveLength(5);
    for (const [, r] of functions)
      expect(r.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
  });

  it('bundles every handler locally with esbuild: minified ESM with a source map and the createRequire banner', () => {
    const c = templateOf('QueuekitCompute');
    const functions = resourcesOf(c, 'AWS::Lambda::Function');
    for (const [id, fn] of functions) {
      const key = fn.Properties.Code.S3Key as string;
      expect(key, id).toMatch(/^[0-9a-f]{64}\.zip$/);
      const assetDir = join(synthesized().directory, `asset.${key.replace(/\.zip$/, '')}`);
      expect(readdirSync(assetDir).sort(), id).toEqual(['index.mjs', 'index.mjs.map']);
      const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
      expect(
        bundle.startsWith(
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        ),
      ).toBe(true);
      expect(bundle).toMatch(/export\s*\{[^}]*\bhandler\b/);
      expect(fn.Properties.Handler).toBe('index.handler');
    }
  });

  it('checkTemplates on the synthesized assembly finds no error', () => {
    const files = synthesized().stacks.map((s) => s.templateFullPath);
    const report = checkTemplates(TemplateSet.fromFiles(files));
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.errors).toBe(0);
    // The reference app is the showcase: not even a warning.
    expect(report.warnings).toBe(0);
    expect(report.counted).toEqual({ queues: 12, topics: 2, subscriptions: 4, mappings: 4 });
  });
});
