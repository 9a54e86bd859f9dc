#!/usr/bin/env -S npx tsx
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { checkTemplates } from '../lib/constructs/rules/check.js';
import { formatReportText } from '../lib/constructs/rules/report-text.js';
import { TOPOLOGY_RULES } from '../lib/constructs/rules/rules.js';
import { TemplateLoadError, TemplateSet } from '../lib/constructs/rules/template-set.js';

const program = new Command()
  .name('queuekit')
  .description('SQS/SNS messaging toolkit: check topologies, run CDK apps locally.')
  .version('0.1.0')
  .showHelpAfterError();

program
  .command('check')
  .description(
    'Check a synthesized app (cdk.out folder) or CloudFormation template against the queuekit topology rules.',
  )
  .argument(
    '<path>',
    'template file (JSON or YAML) or folder: a cloud assembly (cdk.out) or *.template.json / *.yaml files',
  )
  .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
  .option('--skip <ruleIds>', 'comma-separated rule ids to leave out', (v: string) => {
    const ids = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = ids.filter((id) => !TOPOLOGY_RULES.some((r) => r.id === id));
    if (unknown.length)
      throw new InvalidArgumentError(`unknown rule id(s): ${unknown.join(', ')} (see 'queuekit rules')`);
    return ids;
  })
  .action((path: string, options: { format: 'text' | 'json'; skip?: string[] }) => {
    let templates: TemplateSet;
    try {
      templates = TemplateSet.load(path);
    } catch (error) {
      if (error instanceof TemplateLoadError) {
        console.error(`queuekit check: ${error.message}`);
        process.exit(2);
      }
      throw error;
    }
    const report = checkTemplates(templates, { skip: options.skip ?? [] });
    console.log(options.format === 'json' ? JSON.stringify(report, null, 2) : formatReportText(report));
    process.exitCode = report.errors > 0 ? 1 : 0;
  });

program
  .command('rules')
  .description('List the topology rules with their severity and fix.')
  .action(() => {
    for (const r of TOPOLOGY_RULES)
      console.log(`${r.severity.padEnd(7)} ${r.id}\n        ${r.description}\n        fix: ${r.fix}`);
  });

program
  .command('dev')
  .description(
    'Synthesize the app in cdk.json and check it. (Provisioning it locally and running its handlers comes with the local runner.)',
  )
  .option('--assembly <dir>', 'use an existing cloud assembly instead of synthesizing')
  .action((options: { assembly?: string }) => {
    let assembly = options.assembly;
    if (!assembly) {
      if (!existsSync(resolve('cdk.json'))) {
        console.error(
          'queuekit dev: no cdk.json here. Fix: run it from a CDK app folder, or pass --assembly <cdk.out>.',
        );
        process.exit(2);
      }
      const synth = spawnSync('npx', ['cdk', 'synth', '--quiet'], { stdio: 'inherit' });
      if (synth.status !== 0) process.exit(synth.status ?? 1);
      assembly = 'cdk.out';
    }
    const report = checkTemplates(TemplateSet.load(assembly));
    console.log(formatReportText(report));
    console.log(
      '\nqueuekit dev: the app is synthesized and checked. Running it locally (queues and topics on the embedded ' +
        'emulator or LocalStack, handlers in-process) is not built yet: it is the "Local runner" issue. ' +
        "Meanwhile 'npm test' runs the integration suite on the embedded emulator.",
    );
    process.exitCode = report.errors > 0 ? 1 : 0;
  });

await program.parseAsync();
