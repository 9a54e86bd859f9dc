import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resources, writeTemplate } from './fixtures.js';

const cli = new URL('../../bin/queuekit.ts', import.meta.url).pathname;
const tsx = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(tsx, [cli, ...args], { encoding: 'utf8' });

describe('queuekit check (CLI)', () => {
  it('exits 0 on a clean template and says what it checked', () => {
    const out = run('check', writeTemplate(resources()));
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('0 error(s), 0 warning(s) in 3 queue(s), 1 topic(s)');
  });

  it('exits 0 with warnings only', () => {
    const r = resources();
    delete r.TopicPolicy;
    const out = run('check', writeTemplate(r));
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/WARNING \[topic-without-tls-policy\] Topic Topic does not enforce TLS\./);
  });

  it('exits 1 on an error, with rule, severity, logical id and fix', () => {
    const r = resources();
    r.Queue!.Properties.FifoQueue = true;
    const out = run('check', writeTemplate(r));
    expect(out.status).toBe(1);
    expect(out.stdout).toContain('ERROR [dlq-type-mismatch] FIFO queue Queue redrives into standard queue Dlq.');
    expect(out.stdout).toContain('at Test/Queue in');
    expect(out.stdout).toContain('fix: Give the queue a dead-letter queue of its own type');
  });

  it('reads a folder of templates and prints JSON', () => {
    const r = resources();
    r.Mapping!.Properties.BatchSize = 50;
    const out = run('check', dirname(writeTemplate(r)), '--format', 'json');
    expect(out.status).toBe(1);
    const report = JSON.parse(out.stdout) as {
      errors: number;
      findings: { ruleId: string; resources: { logicalId: string }[] }[];
    };
    expect(report.errors).toBe(1);
    expect(report.findings[0]).toMatchObject({
      ruleId: 'standard-mapping-batch',
      resources: [{ logicalId: 'Mapping' }],
    });
  });

  it('exits 2 with the fix when the path holds no template', () => {
    const out = run('check', '/nonexistent/cdk.out');
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("Fix: pass a template file or a cdk.out folder (run 'cdk synth' first).");
  });

  it('rejects an unknown rule id in --skip', () => {
    const out = run('check', writeTemplate(resources()), '--skip', 'no-such-rule');
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain("unknown rule id(s): no-such-rule (see 'queuekit rules')");
  });
});
