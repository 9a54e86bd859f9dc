import { Command, InvalidArgumentError, Option } from 'commander';
import { checkTemplates } from '../lib/constructs/rules/check.js';
import { formatReportText } from '../lib/constructs/rules/report-text.js';
import { TOPOLOGY_RULES } from '../lib/constructs/rules/rules.js';
import { TemplateLoadError, TemplateSet } from '../lib/constructs/rules/template-set.js';
import { registerDevCommand } from '../lib/local/commands/dev.js';
import { registerGraphCommand } from '../lib/local/commands/graph.js';
import { registerInvokeCommand } from '../lib/local/commands/invoke.js';
import { registerPeekCommand } from '../lib/local/commands/peek.js';
import { registerRedriveCommand } from '../lib/local/commands/redrive.js';
import { registerSendCommand } from '../lib/local/commands/send.js';
import { registerTraceCommand } from '../lib/local/commands/trace.js';

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

registerDevCommand(program);
registerGraphCommand(program);
registerTraceCommand(program);

// SDK commands against the local runner (.queuekit/outputs.json), an endpoint or AWS: lib/local/commands/.
registerSendCommand(program);
registerPeekCommand(program);
registerRedriveCommand(program);
registerInvokeCommand(program);

await program.parseAsync();
