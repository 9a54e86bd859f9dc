import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { yamlParse } from 'yaml-cfn';

/** One CloudFormation resource as it appears in a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** One stack's template, with where it came from. */
export interface StackTemplate {
  /** The deployed stack name (from the cloud assembly manifest, else the file name). */
  readonly stackName: string;
  /** Absolute path of the template file. */
  readonly templatePath: string;
  readonly resources: Readonly<Record<string, CfnResource>>;
  readonly parameters: Readonly<Record<string, { Default?: unknown }>>;
  readonly outputs: Readonly<Record<string, { Value?: unknown; Export?: { Name?: unknown } }>>;
  /** SAM `Globals` (function defaults), when the template has them. */
  readonly globals?: { readonly Function?: Record<string, unknown> };
  /** For a nested stack: the `AWS::CloudFormation::Stack` resource of its parent that creates it. */
  readonly parent?: { readonly stack: StackTemplate; readonly logicalId: string };
}

/** A resource located in a stack. */
export interface ResourceRef {
  readonly stack: StackTemplate;
  readonly logicalId: string;
  readonly resource: CfnResource;
}

/** What a value points at once `Ref`, `Fn::GetAtt`, `Fn::ImportValue` and parameter defaults are followed. */
export type Resolved =
  | { readonly kind: 'resource'; readonly target: ResourceRef; readonly attribute?: string }
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'unknown' };

/** Thrown when a path given to the loader holds no CloudFormation template. */
export class TemplateLoadError extends Error {
  override readonly name = 'TemplateLoadError';
}

/**
 * Stand-ins for the pseudo parameters CDK puts into ARNs: they only need to be stable within one check, so an
 * ARN built with `Fn::Join` from a queue name still resolves to that queue.
 */
const PSEUDO_PARAMETER_PLACEHOLDERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'region',
  'AWS::AccountId': '000000000000',
  'AWS::URLSuffix': 'amazonaws.com',
};

interface ManifestArtifact {
  readonly type?: string;
  readonly displayName?: string;
  readonly properties?: { templateFile?: string; stackName?: string; directoryName?: string };
}

/**
 * A set of CloudFormation templates (one app, one or more stacks, their nested stacks loaded from beside them)
 * with the cross-template resolution the topology rules need: `Ref`, `Fn::GetAtt` (both forms, and
 * `Outputs.X` of a nested stack), `Fn::ImportValue` matched against every stack's exported outputs, `Fn::Sub`,
 * `Fn::Join`, parameters (defaults, or the values a parent passes a nested stack), pseudo parameters, and SQS
 * ARN literals that name a queue of the set.
 */
export class TemplateSet {
  /** Loads a template file (JSON or YAML), a cloud assembly (`cdk.out`, nested stages included) or a folder of templates. */
  static load(path: string): TemplateSet {
    const absolute = resolve(path);
    if (!existsSync(absolute)) {
      throw new TemplateLoadError(
        `${path} does not exist. Fix: pass a template file or a cdk.out folder (run 'cdk synth' first).`,
      );
    }
    if (statSync(absolute).isDirectory()) {
      const stacks = loadAssemblyDirectory(absolute);
      if (stacks.length === 0) {
        throw new TemplateLoadError(
          `${path} holds no CloudFormation template (no manifest.json stacks, no *.template.json). Fix: run 'cdk synth' and pass its output folder.`,
        );
      }
      return new TemplateSet(stacks);
    }
    return TemplateSet.fromFiles([absolute]);
  }

  /** Loads template files, naming each stack from a `manifest.json` beside it when there is one. */
  static fromFiles(paths: readonly string[]): TemplateSet {
    const names = new Map<string, string>();
    for (const dir of new Set(paths.map((p) => dirname(resolve(p))))) {
      for (const stack of loadAssemblyDirectory(dir, false)) names.set(stack.templatePath, stack.stackName);
    }
    return new TemplateSet(
      paths.map((p) => {
        const absolute = resolve(p);
        return parseTemplate(absolute, names.get(absolute) ?? stackNameFromFile(absolute));
      }),
    );
  }

  private readonly exports = new Map<string, { stack: StackTemplate; value: unknown }>();
  private readonly queuesByName = new Map<string, ResourceRef>();

  /** Every stack of the set, nested stacks included. */
  readonly stacks: readonly StackTemplate[];
  private readonly nested = new Map<string, StackTemplate>();

  constructor(stacks: readonly StackTemplate[]) {
    const all: StackTemplate[] = [];
    const visit = (stack: StackTemplate) => {
      all.push(stack);
      for (const child of loadNestedStacks(stack)) {
        this.nested.set(`${stack.templatePath}#${child.parent?.logicalId}`, child);
        visit(child);
      }
    };
    for (const stack of stacks) visit(stack);
    this.stacks = all;
    for (const stack of all) {
      for (const output of Object.values(stack.outputs)) {
        const name = this.resolveString(stack, output.Export?.Name);
        if (name !== undefined) this.exports.set(name, { stack, value: output.Value });
      }
    }
    for (const ref of this.resources('AWS::SQS::Queue')) {
      const name = this.resolveString(ref.stack, ref.resource.Properties?.QueueName);
      if (name !== undefined) this.queuesByName.set(name, ref);
    }
  }

  /** Every resource of the given type across all stacks. */
  resources(type: string): ResourceRef[] {
    const found: ResourceRef[] = [];
    for (const stack of this.stacks) {
      for (const [logicalId, resource] of Object.entries(stack.resources)) {
        if (resource.Type === type) found.push({ stack, logicalId, resource });
      }
    }
    return found;
  }

  /** Follows references until a resource or a literal is reached. */
  resolve(stack: StackTemplate, value: unknown, depth = 0): Resolved {
    if (depth > 16) return { kind: 'unknown' };
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'string') {
        const queue = this.queueFromArnLiteral(value);
        if (queue) return { kind: 'resource', target: queue, attribute: 'Arn' };
      }
      return { kind: 'literal', value };
    }
    if (Array.isArray(value)) return { kind: 'literal', value };
    const keys = Object.keys(value);
    if (keys.length !== 1) return { kind: 'literal', value };
    const [fn] = keys as [string];
    const arg = (value as Record<string, unknown>)[fn];
    switch (fn) {
      case 'Ref': {
        if (typeof arg !== 'string') return { kind: 'unknown' };
        const resource = stack.resources[arg];
        if (resource) return { kind: 'resource', target: { stack, logicalId: arg, resource } };
        const parameter = stack.parameters[arg];
        const passed = stack.parent ? this.nestedStackParameters(stack.parent)?.[arg] : undefined;
        if (parameter && passed !== undefined)
          return this.resolve(stack.parent?.stack as StackTemplate, passed, depth + 1);
        if (parameter && parameter.Default !== undefined) return this.resolve(stack, parameter.Default, depth + 1);
        if (arg === 'AWS::StackName') return { kind: 'literal', value: stack.stackName };
        if (arg in PSEUDO_PARAMETER_PLACEHOLDERS) return { kind: 'literal', value: PSEUDO_PARAMETER_PLACEHOLDERS[arg] };
        return { kind: 'unknown' };
      }
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg)
          ? [arg[0], arg[1]]
          : typeof arg === 'string'
            ? [arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1)]
            : [undefined, undefined];
        const resource = typeof logicalId === 'string' ? stack.resources[logicalId] : undefined;
        if (!resource || typeof logicalId !== 'string') return { kind: 'unknown' };
        const child = this.nested.get(`${stack.templatePath}#${logicalId}`);
        if (child && typeof attribute === 'string' && attribute.startsWith('Outputs.')) {
          const output = child.outputs[attribute.slice('Outputs.'.length)];
          return output ? this.resolve(child, output.Value, depth + 1) : { kind: 'unknown' };
        }
        return { kind: 'resource', target: { stack, logicalId, resource }, attribute: String(attribute) };
      }
      case 'Fn::ImportValue': {
        const name = this.resolveString(stack, arg);
        const exported = name === undefined ? undefined : this.exports.get(name);
        return exported ? this.resolve(exported.stack, exported.value, depth + 1) : { kind: 'unknown' };
      }
      case 'Fn::Sub': {
        const text = this.substitute(stack, arg);
        return text === undefined ? { kind: 'unknown' } : this.resolve(stack, text, depth + 1);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !Array.isArray(arg[1])) return { kind: 'unknown' };
        const parts = arg[1].map((part: unknown) => this.resolveString(stack, part, depth + 1));
        if (parts.some((p: string | undefined) => p === undefined)) return { kind: 'unknown' };
        return this.resolve(stack, parts.join(arg[0]), depth + 1);
      }
      default:
        return fn.startsWith('Fn::') ? { kind: 'unknown' } : { kind: 'literal', value };
    }
  }

  /** The resource a value points at, if it points at one of the set. */
  target(stack: StackTemplate, value: unknown): ResourceRef | undefined {
    const resolved = this.resolve(stack, value);
    return resolved.kind === 'resource' ? resolved.target : undefined;
  }

  /** A string value, or undefined when it depends on something only known at deploy time. */
  resolveString(stack: StackTemplate, value: unknown, depth = 0): string | undefined {
    const resolved = this.resolve(stack, value, depth);
    if (resolved.kind === 'literal') {
      return typeof resolved.value === 'string' || typeof resolved.value === 'number'
        ? String(resolved.value)
        : undefined;
    }
    if (resolved.kind === 'resource' && typeof value === 'string') return value;
    return undefined;
  }

  /** A number value (CloudFormation accepts numbers as strings), or undefined. */
  resolveNumber(stack: StackTemplate, value: unknown): number | undefined {
    const resolved = this.resolve(stack, value);
    if (resolved.kind !== 'literal') return undefined;
    const n = typeof resolved.value === 'number' ? resolved.value : Number(resolved.value);
    return typeof resolved.value === 'boolean' || resolved.value === '' || !Number.isFinite(n) ? undefined : n;
  }

  /** A boolean value (`true`/`"true"`), or undefined. */
  resolveBoolean(stack: StackTemplate, value: unknown): boolean | undefined {
    const resolved = this.resolve(stack, value);
    if (resolved.kind !== 'literal') return undefined;
    if (resolved.value === true || resolved.value === 'true') return true;
    if (resolved.value === false || resolved.value === 'false') return false;
    return undefined;
  }

  /** A JSON object given either as an object or as a JSON string (both are valid in templates). */
  resolveObject(stack: StackTemplate, raw: unknown): Record<string, unknown> | undefined {
    const resolved = this.resolve(stack, raw);
    if (resolved.kind !== 'literal') return undefined;
    const value = resolved.value;
    if (typeof value === 'string') {
      try {
        const parsed: unknown = JSON.parse(value);
        return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : undefined;
      } catch {
        return undefined;
      }
    }
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  }

  /** Whether two values denote the same thing (same resource, or equal literals). */
  same(a: { stack: StackTemplate; value: unknown }, b: { stack: StackTemplate; value: unknown }): boolean {
    const ra = this.resolve(a.stack, a.value);
    const rb = this.resolve(b.stack, b.value);
    if (ra.kind === 'resource' && rb.kind === 'resource') {
      return ra.target.stack === rb.target.stack && ra.target.logicalId === rb.target.logicalId;
    }
    if (ra.kind === 'literal' && rb.kind === 'literal') return JSON.stringify(ra.value) === JSON.stringify(rb.value);
    return false;
  }

  private nestedStackParameters(parent: {
    stack: StackTemplate;
    logicalId: string;
  }): Record<string, unknown> | undefined {
    const value = parent.stack.resources[parent.logicalId]?.Properties?.Parameters;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  }

  private substitute(stack: StackTemplate, arg: unknown): string | undefined {
    const [text, vars] = Array.isArray(arg) ? [arg[0], (arg[1] ?? {}) as Record<string, unknown>] : [arg, {}];
    if (typeof text !== 'string') return undefined;
    let unresolved = false;
    const out = text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      const value = name in vars ? this.resolveString(stack, vars[name]) : this.resolveString(stack, { Ref: name });
      if (value === undefined) unresolved = true;
      return value ?? '';
    });
    return unresolved ? undefined : out;
  }

  private queueFromArnLiteral(value: string): ResourceRef | undefined {
    const match = /^arn:[^:]+:sqs:[^:]*:[^:]*:([^:]+)$/.exec(value);
    return match ? this.queuesByName.get(match[1] as string) : undefined;
  }
}

function loadAssemblyDirectory(dir: string, fallbackToGlob = true): StackTemplate[] {
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { artifacts?: Record<string, ManifestArtifact> };
    const stacks: StackTemplate[] = [];
    for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
      if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
        stacks.push(parseTemplate(join(dir, artifact.properties.templateFile), artifact.properties.stackName ?? id));
      } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
        stacks.push(...loadAssemblyDirectory(join(dir, artifact.properties.directoryName)));
      }
    }
    return stacks;
  }
  if (!fallbackToGlob) return [];
  return readdirSync(dir)
    .filter((f) => TEMPLATE_FILE.test(f))
    .sort()
    .map((f) => parseTemplate(join(dir, f), stackNameFromFile(f)));
}

/**
 * The nested stacks of a stack whose templates sit beside it. CDK names each one's file in the `aws:asset:path`
 * metadata of its `AWS::CloudFormation::Stack` resource when asset metadata is on (the CDK CLI's default), and
 * always in the stack's asset manifest, keyed by the hash that ends its `TemplateURL`.
 */
function loadNestedStacks(stack: StackTemplate): StackTemplate[] {
  const dir = dirname(stack.templatePath);
  let assetFiles: Record<string, { source?: { path?: string } }> | undefined;
  const assetPath = (hash: string): string | undefined => {
    if (assetFiles === undefined) {
      const manifest = stack.templatePath.replace(/\.template\.json$/, '.assets.json');
      assetFiles = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')).files ?? {}) : {};
    }
    return assetFiles?.[hash]?.source?.path;
  };
  const children: StackTemplate[] = [];
  for (const [logicalId, resource] of Object.entries(stack.resources)) {
    if (resource.Type !== 'AWS::CloudFormation::Stack') continue;
    let file = resource.Metadata?.['aws:asset:path'];
    if (typeof file !== 'string') {
      const hash = /([0-9a-f]{64})\.json"/.exec(JSON.stringify(resource.Properties?.TemplateURL ?? ''))?.[1];
      file = hash ? assetPath(hash) : undefined;
    }
    if (typeof file !== 'string' || !existsSync(join(dir, file))) continue;
    const child = parseTemplate(join(dir, file), `${stack.stackName}/${logicalId}`);
    children.push({ ...child, parent: { stack, logicalId } });
  }
  return children;
}

/** Files a folder is searched for when it is not a cloud assembly. */
const TEMPLATE_FILE = /(?<!\.nested)\.template\.json$|\.ya?ml$/;

function stackNameFromFile(file: string): string {
  return basename(file).replace(/(\.template)?\.(json|ya?ml)$/, '');
}

/** Parses JSON, or CloudFormation YAML with its short-form tags (`!Ref`, `!GetAtt`, `!Sub`…) through yaml-cfn. */
function parseTemplate(path: string, stackName: string): StackTemplate {
  let body: Record<string, unknown>;
  const text = readFileSync(path, 'utf8');
  try {
    body = (/^\s*\{/.test(text) ? JSON.parse(text) : yamlParse(text)) as Record<string, unknown>;
  } catch (error) {
    throw new TemplateLoadError(
      `${path} is neither a JSON nor a YAML CloudFormation template (${(error as Error).message.split('\n')[0]}). Fix: pass a template file or a cdk.out folder.`,
    );
  }
  if (!body || typeof body !== 'object' || typeof body.Resources !== 'object') {
    throw new TemplateLoadError(`${path} has no Resources section. Fix: pass a CloudFormation template.`);
  }
  return {
    stackName,
    templatePath: path,
    resources: body.Resources as Record<string, CfnResource>,
    parameters: (body.Parameters ?? {}) as StackTemplate['parameters'],
    outputs: (body.Outputs ?? {}) as StackTemplate['outputs'],
    ...(body.Globals && typeof body.Globals === 'object' ? { globals: body.Globals as StackTemplate['globals'] } : {}),
  };
}
