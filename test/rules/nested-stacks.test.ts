import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, NestedStack, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { QueuekitChecks } from '../../lib/constructs/queuekit-checks.js';
import { checkTemplates } from '../../lib/constructs/rules/check.js';
import { TemplateSet } from '../../lib/constructs/rules/template-set.js';

/** A plain aws-cdk-lib app: the queue in the parent stack, its consumer in a NestedStack (parameters cross over). */
function synthNestedApp(visibility: Duration, withPlugin = false): string {
  const outdir = mkdtempSync(join(tmpdir(), 'queuekit-nested-'));
  // Path metadata on, as the CDK CLI sets it, so findings carry construct paths.
  const app = new App({
    outdir,
    context: { 'aws:cdk:enable-path-metadata': true, '@aws-cdk/core:appMode': 'inmemory' },
  });
  if (withPlugin) Validations.of(app).addPlugins(new QueuekitChecks());
  const parent = new Stack(app, 'Parent');
  const queue = new sqs.Queue(parent, 'Jobs', { visibilityTimeout: visibility });
  const nested = new NestedStack(parent, 'Workers');
  const fn = new lambda.Function(nested, 'Worker', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    timeout: Duration.seconds(60),
  });
  fn.addEventSource(new SqsEventSource(queue, { reportBatchItemFailures: true }));
  app.synth();
  return outdir;
}

describe('nested stacks', () => {
  it('follows parameters from the parent into a NestedStack', () => {
    const report = checkTemplates(TemplateSet.load(synthNestedApp(Duration.seconds(30))));
    const finding = report.findings.find((f) => f.ruleId === 'visibility-below-function-timeout');
    expect(finding?.message).toContain('visibility timeout 30s but function');
    const nested = finding?.resources[1]?.stackName;
    expect(nested).toMatch(/^Parent\/WorkersNestedStackWorkersNestedStackResource/);
    expect(finding?.resources.map((r) => r.stackName)).toEqual(['Parent', nested, nested]);
    expect(finding?.resources[0]?.constructPath).toBe('Parent/Jobs/Resource');
    expect(finding?.resources[1]?.constructPath).toMatch(/^Parent\/Workers\/Worker\/SqsEventSource/);
  });

  it('passes when the parent queue is long enough', () => {
    const report = checkTemplates(TemplateSet.load(synthNestedApp(Duration.seconds(360))));
    expect(report.errors).toBe(0);
    expect(report.counted.mappings).toBe(1);
  });

  it('fails synth through the validation plugin when the consumer sits in a NestedStack', () => {
    expect(() => synthNestedApp(Duration.seconds(30), true)).toThrow(/Queuekit::visibility-below-function-timeout/);
    expect(() => synthNestedApp(Duration.seconds(360), true)).not.toThrow();
  });
});
