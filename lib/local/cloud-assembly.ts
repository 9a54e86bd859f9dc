/**
 * Reads a cloud assembly (`cdk.out`): its stacks in deployment order, their templates, and where their assets are.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AssemblyError } from './errors.js';

/** One CloudFormation resource as `cdk synth` writes it. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | readonly string[];
  readonly Condition?: string;
}

export interface StackTemplateDocument {
  readonly Resources?: Record<string, TemplateResource>;
  readonly Parameters?: Record<string, { Default?: unknown; Type?: string }>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Conditions?: Record<string, unknown>;
}

/** A stack of the assembly. */
export interface AssemblyStack {
  /** Artifact id (usually the stack's construct id). */
  readonly id: string;
  /** Deployed stack name. */
  readonly stackName: string;
  readonly templatePath: string;
  readonly template: StackTemplateDocument;
}

/** A cloud assembly's stacks, ordered so every stack comes after the stacks it depends on. */
export interface CloudAssembly {
  readonly directory: string;
  readonly stacks: readonly AssemblyStack[];
}

interface ManifestArtifact {
  readonly type?: string;
  readonly dependencies?: readonly string[];
  readonly properties?: { readonly templateFile?: string; readonly stackName?: string };
}

/** Reads `manifest.json` and the stack templates of the assembly at `directory`. */
export function readCloudAssembly(directory: string): CloudAssembly {
  const dir = resolve(directory);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new AssemblyError(
      `${directory} is not a cloud assembly (no manifest.json). Fix: run 'cdk synth' or pass --assembly <cdk.out>.`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const artifacts = Object.entries(manifest.artifacts ?? {}).filter(
    ([, a]) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile,
  );
  if (artifacts.length === 0) {
    throw new AssemblyError(`${directory} holds no stack. Fix: check that the CDK app defines at least one Stack.`);
  }
  const byId = new Map(artifacts);
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, from: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      throw new AssemblyError(`stacks depend on each other in a cycle: ${[...from, id].join(' → ')}.`);
    }
    state.set(id, 'visiting');
    for (const dep of byId.get(id)?.dependencies ?? []) if (byId.has(dep)) visit(dep, [...from, id]);
    state.set(id, 'done');
    ordered.push(id);
  };
  for (const [id] of artifacts) visit(id, []);
  return {
    directory: dir,
    stacks: ordered.map((id) => {
      const artifact = byId.get(id) as ManifestArtifact;
      const templatePath = join(dir, artifact.properties?.templateFile as string);
      return {
        id,
        stackName: artifact.properties?.stackName ?? id,
        templatePath,
        template: JSON.parse(readFileSync(templatePath, 'utf8')) as StackTemplateDocument,
      };
    }),
  };
}

/** Logical ids a value refers to (Ref, Fn::GetAtt, Fn::Sub variables), pseudo parameters left out. */
export function referencedLogicalIds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencedLogicalIds(v, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) into.add(v);
      else if (key === 'Fn::GetAtt') {
        const target = typeof v === 'string' ? v.split('.')[0] : Array.isArray(v) ? v[0] : undefined;
        if (typeof target === 'string') into.add(target);
      } else if (key === 'Fn::Sub') {
        const template = typeof v === 'string' ? v : Array.isArray(v) ? v[0] : '';
        for (const m of String(template).matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const name = (m[1] as string).split('.')[0] as string;
          if (!name.startsWith('AWS::')) into.add(name);
        }
        if (Array.isArray(v)) referencedLogicalIds(v[1], into);
      } else referencedLogicalIds(v, into);
    }
  }
  return into;
}

/** Logical ids of a stack in an order where each resource comes after those it references or depends on. */
export function resourceOrder(template: StackTemplateDocument): string[] {
  const resources = template.Resources ?? {};
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string) => {
    if (state.get(id) === 'done' || state.get(id) === 'visiting') return; // cycles are CloudFormation's to reject
    state.set(id, 'visiting');
    const resource = resources[id] as TemplateResource;
    const deps = referencedLogicalIds(resource.Properties);
    for (const d of [resource.DependsOn ?? []].flat()) deps.add(d);
    for (const d of deps) if (d in resources) visit(d);
    state.set(id, 'done');
    ordered.push(id);
  };
  for (const id of Object.keys(resources)) visit(id);
  return ordered;
}
