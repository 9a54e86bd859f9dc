import { isAbsolute, relative } from 'node:path';
import type { CheckReport } from './check.js';

/** Renders a check report for a terminal: errors first, each with its resources and fix. */
export function formatReportText(report: CheckReport, cwd = process.cwd()): string {
  const lines: string[] = [];
  const ordered = [...report.findings].sort((a, b) =>
    a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1,
  );
  for (const f of ordered) {
    lines.push(`${f.severity.toUpperCase()} [${f.ruleId}] ${f.message}`);
    for (const r of f.resources) {
      const where = r.constructPath ? ` (${r.constructPath})` : '';
      const rel = relative(cwd, r.templatePath);
      const file = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : r.templatePath;
      lines.push(`    at ${r.stackName}/${r.logicalId}${where} in ${file}`);
    }
    lines.push(`    fix: ${f.fix}`);
  }
  const c = report.counted;
  lines.push(
    `${report.errors} error(s), ${report.warnings} warning(s) in ${c.queues} queue(s), ${c.topics} topic(s), ${c.subscriptions} SQS subscription(s), ${c.mappings} SQS event source mapping(s).`,
  );
  return lines.join('\n');
}
