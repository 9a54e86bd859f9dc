import { type Severity, TOPOLOGY_RULES, type TopologyRule } from './rules.js';
import type { TemplateSet } from './template-set.js';
import { type Location, Topology } from './topology.js';

/** One reported problem: which rule, how bad, where, and how to fix it. */
export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly message: string;
  readonly fix: string;
  readonly resources: readonly Location[];
}

/** The outcome of checking a set of templates. */
export interface CheckReport {
  readonly findings: readonly Finding[];
  readonly errors: number;
  readonly warnings: number;
  /** Resources the topology was built from, for a one-line summary. */
  readonly counted: {
    readonly queues: number;
    readonly topics: number;
    readonly subscriptions: number;
    readonly mappings: number;
  };
}

export interface CheckOptions {
  /** Rules to apply. @default TOPOLOGY_RULES */
  readonly rules?: readonly TopologyRule[];
  /** Rule ids to leave out. @default none */
  readonly skip?: readonly string[];
}

/** Applies the topology rules to a template set. */
export function checkTemplates(templates: TemplateSet, options: CheckOptions = {}): CheckReport {
  const topology = new Topology(templates);
  const skip = new Set(options.skip ?? []);
  const findings: Finding[] = [];
  for (const rule of options.rules ?? TOPOLOGY_RULES) {
    if (skip.has(rule.id)) continue;
    for (const f of rule.evaluate(topology)) {
      findings.push({
        ruleId: rule.id,
        severity: rule.severity,
        message: f.message,
        fix: f.fix ?? rule.fix,
        resources: f.resources,
      });
    }
  }
  return {
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    counted: {
      queues: topology.queues.filter((q) => q.ref).length,
      topics: topology.topics.length,
      subscriptions: topology.subscriptions.length,
      mappings: topology.mappings.length,
    },
  };
}
