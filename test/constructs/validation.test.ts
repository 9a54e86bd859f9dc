import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Queue, QueuekitChecks, TOPOLOGY_RULES, Topic } from '../../lib/constructs/index.js';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON, read by path
type Json = Record<string, any>;

const outdirs: string[] = [];
afterEach(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * An app whose synth runs in memory: a failed validation throws with the whole report in its message, and the
 * JSON report is written into a folder of our own.
 */
function newApp(): { app: App; stack: Stack; report: () => Json } {
  const outdir = mkdtempSync(join(tmpdir(), 'queuekit-validation-'));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:appMode': 'inmemory' },
  });
  const stack = new Stack(app, 'Stack');
  return { app, stack, report: () => JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) };
}

function synthError(app: App): Error {
  try {
    app.synth();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected synth to fail');
}

/** Synthesizes with console.error captured (CDK prints warnings there); returns what was printed. */
function synthPrinting(app: App): string {
  const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    app.synth();
    return spy.mock.calls.map((args) => args.join(' ')).join('\n');
  } finally {
    spy.mockRestore();
  }
}

function queuekitReports(report: Json): Json[] {
  return (report.pluginReports as Json[]).filter((r) => r.pluginName === 'Queuekit');
}

function violations(report: Json, ruleName: string): Json[] {
  return queuekitReports(report).flatMap((r) => (r.violations as Json[]).filter((v) => v.ruleName === ruleName));
}

const ruleFix = (id: string) => TOPOLOGY_RULES.find((r) => r.id === id)?.fix as string;

/** A plain CDK FIFO queue redriving into a standard queue: SQS rejects it. */
function fifoWithStandardDlq(stack: Stack): { main: sqs.Queue; dlq: sqs.Queue } {
  const dlq = new sqs.Queue(stack, 'Dlq', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const main = new sqs.Queue(stack, 'Main', {
    fifo: true,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
  });
  return { main, dlq };
}

/** Two plain queues that are neither encrypted nor TLS-only: warnings only. */
function unencryptedQueues(stack: Stack): [sqs.Queue, sqs.Queue] {
  return [
    new sqs.Queue(stack, 'A', { encryption: sqs.QueueEncryption.UNENCRYPTED }),
    new sqs.Queue(stack, 'B', { encryption: sqs.QueueEncryption.UNENCRYPTED }),
  ];
}

describe('QueuekitChecks attached by queuekit constructs', () => {
  it('fails synth when a standard Topic is subscribed by a FIFO Queue, naming the rule, the fix and the path', () => {
    const { app, stack, report } = newApp();
    const events = new Topic(stack, 'Events');
    events.subscribe(new Queue(stack, 'Ledger', { fifo: true }));
    const error = synthError(app);
    expect(error.message).toContain("Acknowledge with 'Queuekit::standard-topic-to-fifo-queue'");
    expect(error.message).toContain(`Suggested fix: ${ruleFix('standard-topic-to-fifo-queue')}`);
    expect(error.message).toContain('Stack/Ledger/Queue/Resource');
    expect(error.message).toContain('Stack/Events/Topic/Resource');
    expect(error.message).toMatch(/ERROR Standard topic \w+ is subscribed by FIFO queue \w+\. \(Queuekit\)/);

    const found = violations(report(), 'standard-topic-to-fifo-queue');
    expect(found).toHaveLength(1);
    expect(found[0]?.severity).toBe('error');
    expect(queuekitReports(report())).toHaveLength(1);
    expect(queuekitReports(report())[0]?.conclusion).toBe('failure');
  });

  it('also fails Template.fromStack, which synthesizes the app', () => {
    const { stack } = newApp();
    new Topic(stack, 'Events').subscribe(new Queue(stack, 'Ledger', { fifo: true }));
    expect(() => Template.fromStack(stack)).toThrow(/Queuekit::standard-topic-to-fifo-queue/);
  });

  it('passes a correct queuekit topology (FIFO topic into a FIFO queue) with no finding', () => {
    const { app, stack, report } = newApp();
    new Topic(stack, 'Billing', { fifo: true }).subscribe(new Queue(stack, 'Ledger', { fifo: true }));
    expect(synthPrinting(app)).toBe('');
    expect(queuekitReports(report()).flatMap((r) => r.violations)).toEqual([]);
  });

  it('a user-added plugin on top of the attached one reports each finding once', () => {
    const { app, stack, report } = newApp();
    new Topic(stack, 'Events').subscribe(new Queue(stack, 'Ledger', { fifo: true }));
    Validations.of(app).addPlugins(new QueuekitChecks());
    const error = synthError(app);
    expect(error.message.match(/ERROR Standard topic/g)).toHaveLength(3); // one line per violating resource
    expect(violations(report(), 'standard-topic-to-fifo-queue')).toHaveLength(1);
  });
});

describe('QueuekitChecks on a plain aws-cdk-lib app', () => {
  it('without the plugin, a FIFO queue with a standard DLQ synthesizes (CDK only warns)', () => {
    const { app, stack } = newApp();
    fifoWithStandardDlq(stack);
    const printed = synthPrinting(app);
    expect(printed).not.toContain('Queuekit');
  });

  it('with the plugin, a FIFO queue with a standard DLQ fails synth (dlq-type-mismatch) with paths and fix', () => {
    const { app, stack, report } = newApp();
    fifoWithStandardDlq(stack);
    Validations.of(app).addPlugins(new QueuekitChecks());
    const error = synthError(app);
    expect(error.message).toContain("Acknowledge with 'Queuekit::dlq-type-mismatch'");
    expect(error.message).toMatch(/ERROR FIFO queue \w+ redrives into standard queue \w+\. \(Queuekit\)/);
    expect(error.message).toContain(`Suggested fix: ${ruleFix('dlq-type-mismatch')}`);
    expect(error.message).toContain('Stack/Main/Resource');
    expect(error.message).toContain('Stack/Dlq/Resource');
    const [finding] = violations(report(), 'dlq-type-mismatch');
    expect(finding?.violatingConstructs.map((c: Json) => c.constructPath)).toEqual([
      'Stack/Main/Resource',
      'Stack/Dlq/Resource',
    ]);
  });

  it('warnings alone do not fail synth, and are printed', () => {
    const { app, stack, report } = newApp();
    unencryptedQueues(stack);
    Validations.of(app).addPlugins(new QueuekitChecks());
    const printed = synthPrinting(app);
    expect(printed).toContain("Acknowledge with 'Queuekit::queue-not-encrypted'");
    expect(printed).toContain("Acknowledge with 'Queuekit::queue-without-tls-policy'");
    expect(printed).toContain('Stack/A/Resource');
    const [queuekit] = queuekitReports(report());
    expect(queuekit?.conclusion).toBe('success');
    expect(new Set(queuekit?.violations.map((v: Json) => v.severity))).toEqual(new Set(['warning']));
    expect(violations(report(), 'queue-not-encrypted')).toHaveLength(2);
  });

  it('adding the plugin twice reports once', () => {
    const { app, stack, report } = newApp();
    fifoWithStandardDlq(stack);
    Validations.of(app).addPlugins(new QueuekitChecks(), new QueuekitChecks());
    const error = synthError(app);
    expect(error.message.match(/ERROR FIFO queue/g)).toHaveLength(2); // one line per violating resource
    expect(violations(report(), 'dlq-type-mismatch')).toHaveLength(1);
  });

  it('acknowledging a warning on one construct suppresses it there only', () => {
    const { app, stack, report } = newApp();
    const [a] = unencryptedQueues(stack);
    Validations.of(app).addPlugins(new QueuekitChecks());
    Validations.of(a).acknowledge({ id: 'Queuekit::queue-not-encrypted', reason: 'legacy consumer' });
    const printed = synthPrinting(app);
    expect(printed).toContain('Stack/B/Resource');
    const notEncrypted = violations(report(), 'queue-not-encrypted');
    expect(notEncrypted.flatMap((v) => v.violatingConstructs.map((c: Json) => c.constructPath))).toEqual([
      'Stack/B/Resource',
    ]);
    const suppressed = queuekitReports(report()).flatMap((r) => r.suppressedViolations ?? []);
    expect(suppressed).toEqual([
      expect.objectContaining({
        ruleName: 'queue-not-encrypted',
        acknowledgedId: 'Queuekit::queue-not-encrypted',
        reason: 'legacy consumer',
        acknowledgedAt: 'Stack/A',
      }),
    ]);
  });

  it('acknowledging every finding leaves nothing to print', () => {
    const { app, stack } = newApp();
    unencryptedQueues(stack);
    Validations.of(app).addPlugins(new QueuekitChecks());
    Validations.of(stack).acknowledge(
      { id: 'Queuekit::queue-not-encrypted', reason: 'test' },
      { id: 'Queuekit::queue-without-tls-policy', reason: 'test' },
    );
    expect(synthPrinting(app)).not.toContain('Queuekit');
  });

  it('acknowledging an error on the resources it names lets synth pass', () => {
    const { app, stack } = newApp();
    fifoWithStandardDlq(stack);
    Validations.of(app).addPlugins(new QueuekitChecks());
    Validations.of(stack).acknowledge({ id: 'Queuekit::dlq-type-mismatch', reason: 'migrating' });
    expect(() => synthPrinting(app)).not.toThrow();
  });

  it('skip leaves a rule out everywhere', () => {
    const { app, stack, report } = newApp();
    fifoWithStandardDlq(stack);
    Validations.of(app).addPlugins(new QueuekitChecks({ skip: ['dlq-type-mismatch'] }));
    expect(() => synthPrinting(app)).not.toThrow();
    expect(violations(report(), 'dlq-type-mismatch')).toEqual([]);
  });

  it("a user's own instance (with its options) wins over the one queuekit constructs attach, whatever the order", () => {
    const { app, stack, report } = newApp();
    new Topic(stack, 'Events').subscribe(new Queue(stack, 'Ledger', { fifo: true }));
    Validations.of(app).addPlugins(new QueuekitChecks({ skip: ['standard-topic-to-fifo-queue'] }));
    expect(() => synthPrinting(app)).not.toThrow();
    expect(violations(report(), 'standard-topic-to-fifo-queue')).toEqual([]);
  });

  it('describes itself as the Queuekit plugin with every rule id', () => {
    const plugin = new QueuekitChecks();
    expect(plugin.name).toBe('Queuekit');
    expect(QueuekitChecks.PLUGIN_NAME).toBe('Queuekit');
    expect(plugin.ruleIds).toEqual(TOPOLOGY_RULES.map((r) => r.id));
    expect(plugin.ruleIds).toEqual(expect.arrayContaining(['dlq-type-mismatch', 'standard-topic-to-fifo-queue']));
  });
});
