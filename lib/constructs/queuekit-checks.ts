import type { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Stage, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { checkTemplates } from './rules/check.js';
import { TOPOLOGY_RULES } from './rules/rules.js';
import { TemplateSet } from './rules/template-set.js';

export interface QueuekitChecksProps {
  /** Rule ids to leave out everywhere (prefer `Validations.of(construct).acknowledge` for one resource). @default none */
  readonly skip?: string[];
}

/**
 * The queuekit topology rules as a CDK validation plugin: every synth checks the app's templates and fails on
 * errors, printing each finding with its construct path and fix.
 *
 * queuekit constructs attach it to their app automatically; for any other CDK app it is one line.
 *
 * @example
 * Validations.of(app).addPlugins(new QueuekitChecks());
 * // silence one finding on one resource, with a reason:
 * Validations.of(queue).acknowledge({ id: 'Queuekit::queue-without-tls-policy', reason: 'legacy consumer' });
 */
export class QueuekitChecks implements IPolicyValidationPlugin {
  static readonly PLUGIN_NAME = 'Queuekit';
  private static readonly attached = new WeakSet<IConstruct>();
  private static readonly claimed = new WeakMap<IConstruct, QueuekitChecks>();

  /** Adds the plugin to the app that holds `scope`, once. */
  static attach(scope: IConstruct): void {
    const root = scope.node.root;
    if (QueuekitChecks.attached.has(root) || !Stage.isStage(root)) return;
    QueuekitChecks.attached.add(root);
    Validations.of(root).addPlugins(new QueuekitChecks({}, true));
  }

  readonly name = QueuekitChecks.PLUGIN_NAME;
  readonly version = '0.1.0';
  readonly ruleIds = TOPOLOGY_RULES.map((r) => r.id);

  /**
   * @param props options
   * @param automatic true for the instance queuekit constructs attach themselves; it yields to one the user adds
   */
  constructor(
    private readonly props: QueuekitChecksProps = {},
    private readonly automatic = false,
  ) {}

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    // One report per app: the user's own instance (with its options) wins over the automatic one, whatever
    // order they were added in; of two user instances, the first reports.
    const registered = (context.appConstruct as { _validationPlugins?: unknown[] })._validationPlugins ?? [];
    const userInstance = registered.find((p): p is QueuekitChecks => p instanceof QueuekitChecks && !p.automatic);
    if (this.automatic && userInstance) return { success: true, violations: [] };
    const owner = QueuekitChecks.claimed.get(context.appConstruct);
    if (owner && owner !== this) return { success: true, violations: [] };
    QueuekitChecks.claimed.set(context.appConstruct, this);

    const report = checkTemplates(TemplateSet.fromFiles(context.templatePaths), { skip: this.props.skip ?? [] });
    return {
      success: report.errors === 0,
      violations: report.findings.map((f) => ({
        ruleName: f.ruleId,
        description: f.message,
        fix: f.fix,
        severity: f.severity,
        violatingResources: f.resources.map((r) => ({
          resourceLogicalId: r.logicalId,
          templatePath: r.templatePath,
          locations: [`Resources/${r.logicalId}`],
        })),
      })),
    };
  }
}
