/**
 * Resolves the CloudFormation intrinsic functions `cdk synth` emits to the values they have on the local target.
 *
 * Why our own: we evaluated `cfn-resolver-lib` 1.1.8 (last release Dec 2024) on the reference app. It turns a
 * single-key object that is data into an array (an SNS filter policy `{ kind: ['image','text'] }` came back as
 * `['image','text']`), leaves an unresolvable `Fn::ImportValue` as its export name without an error, and logs to the
 * console for every attribute it cannot find. A local runner must fail loudly on what it cannot resolve, so this
 * module resolves strictly: an unknown logical id, export or parameter is an error naming the construct path.
 *
 * @module
 */
import { LocalRunnerError } from './errors.js';

/** Values of the pseudo parameters, and how to look up resources, parameters and exports. */
export interface ResolveContext {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly stackName: string;
  /** Parameter values (defaults from the template). */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly mappings?: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
  readonly conditions?: Readonly<Record<string, unknown>>;
  /** `Ref` of a resource: its physical id; undefined for an unknown logical id. */
  ref(logicalId: string): unknown;
  /** `Fn::GetAtt`; undefined for an unknown logical id. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** `Fn::ImportValue`; undefined for an export no stack of the assembly has. */
  importValue(name: string): unknown;
}

/** Thrown when a template value cannot be resolved. */
export class IntrinsicResolutionError extends LocalRunnerError {
  override readonly name = 'IntrinsicResolutionError';
}

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves every intrinsic in `value` (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue,
 * Fn::If with Fn::Equals/Not/And/Or/Condition, Fn::FindInMap, Fn::Base64, Fn::GetAZs, pseudo parameters,
 * AWS::NoValue). `where` names the construct path in errors.
 */
export function resolveIntrinsics(value: unknown, context: ResolveContext, where: string): unknown {
  const resolved = resolve(value, context, where);
  return resolved === NO_VALUE ? undefined : resolved;
}

/** Resolves to a string, or fails naming what came out instead. */
export function resolveString(value: unknown, context: ResolveContext, where: string): string {
  const resolved = resolveIntrinsics(value, context, where);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
  throw new IntrinsicResolutionError(
    `${where}: expected a string, got ${JSON.stringify(resolved)}. Fix: check the template value ${JSON.stringify(value)}.`,
  );
}

function pseudo(name: string, context: ResolveContext): unknown {
  switch (name) {
    case 'AWS::Region':
      return context.region;
    case 'AWS::AccountId':
      return context.accountId;
    case 'AWS::Partition':
      return context.partition;
    case 'AWS::StackName':
      return context.stackName;
    case 'AWS::StackId':
      return `arn:${context.partition}:cloudformation:${context.region}:${context.accountId}:stack/${context.stackName}/local`;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::NotificationARNs':
      return [];
    case 'AWS::NoValue':
      return NO_VALUE;
    default:
      return undefined;
  }
}

function resolveRef(name: string, context: ResolveContext, where: string): unknown {
  if (name.startsWith('AWS::')) {
    const value = pseudo(name, context);
    if (value === undefined) throw new IntrinsicResolutionError(`${where}: unknown pseudo parameter ${name}.`);
    return value;
  }
  if (name in context.parameters) return context.parameters[name];
  const physical = context.ref(name);
  if (physical === undefined) {
    throw new IntrinsicResolutionError(
      `${where}: Ref to ${name}, which is neither a resource nor a parameter of stack ${context.stackName}. Fix: re-run 'cdk synth'; a hand-edited template must define it.`,
    );
  }
  return physical;
}

function resolveGetAtt(logicalId: string, attribute: string, context: ResolveContext, where: string): unknown {
  const value = context.getAtt(logicalId, attribute);
  if (value === undefined) {
    throw new IntrinsicResolutionError(
      `${where}: Fn::GetAtt ${logicalId}.${attribute}: no such resource in stack ${context.stackName}. Fix: re-run 'cdk synth'.`,
    );
  }
  return value;
}

function substitute(template: string, variables: Record<string, unknown>, context: ResolveContext, where: string) {
  return template.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    const key = name.trim();
    let value: unknown;
    if (key in variables) value = variables[key];
    else if (key.includes('.') && !key.startsWith('AWS::')) {
      const dot = key.indexOf('.');
      value = resolveGetAtt(key.slice(0, dot), key.slice(dot + 1), context, where);
    } else value = resolveRef(key, context, where);
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new IntrinsicResolutionError(`${where}: Fn::Sub variable \${${key}} is not a string.`);
    }
    return String(value);
  });
}

function evaluateCondition(value: unknown, context: ResolveContext, where: string): boolean {
  const resolved = resolve(value, context, where);
  if (typeof resolved === 'boolean') return resolved;
  if (resolved === 'true') return true;
  if (resolved === 'false') return false;
  throw new IntrinsicResolutionError(
    `${where}: condition did not evaluate to a boolean (${JSON.stringify(resolved)}).`,
  );
}

function resolve(value: unknown, context: ResolveContext, where: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => resolve(v, context, where)).filter((v) => v !== NO_VALUE);
  }
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [key, argument] = entries[0] as [string, unknown];
    if (key === 'Ref') return resolveRef(String(argument), context, where);
    if (key === 'Condition' && typeof argument === 'string' && context.conditions && argument in context.conditions) {
      return evaluateCondition(context.conditions[argument], context, where);
    }
    if (key.startsWith('Fn::')) return resolveFunction(key, argument, context, where);
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of entries) {
    const resolved = resolve(v, context, where);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function asArray(fn: string, argument: unknown, length: number, where: string): unknown[] {
  if (!Array.isArray(argument) || argument.length < length) {
    throw new IntrinsicResolutionError(`${where}: ${fn} takes a list of ${length}, got ${JSON.stringify(argument)}.`);
  }
  return argument;
}

function resolveFunction(fn: string, argument: unknown, context: ResolveContext, where: string): unknown {
  switch (fn) {
    case 'Fn::GetAtt': {
      const [logicalId, attribute] =
        typeof argument === 'string'
          ? [argument.slice(0, argument.indexOf('.')), argument.slice(argument.indexOf('.') + 1)]
          : asArray(fn, argument, 2, where).map((a) => String(resolve(a, context, where)));
      return resolveGetAtt(String(logicalId), String(attribute), context, where);
    }
    case 'Fn::Join': {
      const [separator, parts] = asArray(fn, argument, 2, where);
      const list = resolve(parts, context, where);
      if (!Array.isArray(list)) throw new IntrinsicResolutionError(`${where}: Fn::Join needs a list.`);
      return list.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(String(separator));
    }
    case 'Fn::Sub': {
      if (typeof argument === 'string') return substitute(argument, {}, context, where);
      const [template, variables] = asArray(fn, argument, 2, where);
      const resolved = resolve(variables, context, where) as Record<string, unknown>;
      return substitute(String(template), resolved, context, where);
    }
    case 'Fn::Select': {
      const [index, list] = asArray(fn, argument, 2, where);
      const items = resolve(list, context, where);
      const i = Number(resolve(index, context, where));
      if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length) {
        throw new IntrinsicResolutionError(`${where}: Fn::Select index ${i} is out of range.`);
      }
      return items[i];
    }
    case 'Fn::Split': {
      const [separator, source] = asArray(fn, argument, 2, where);
      const text = resolve(source, context, where);
      if (typeof text !== 'string') throw new IntrinsicResolutionError(`${where}: Fn::Split needs a string.`);
      return text.split(String(separator));
    }
    case 'Fn::ImportValue': {
      const name = resolve(argument, context, where);
      const value = context.importValue(String(name));
      if (value === undefined) {
        throw new IntrinsicResolutionError(
          `${where}: Fn::ImportValue ${String(name)}: no stack of the cloud assembly exports it. Fix: keep the exporting stack in the same app, or pass its value as a parameter.`,
        );
      }
      return value;
    }
    case 'Fn::If': {
      const [condition, whenTrue, whenFalse] = asArray(fn, argument, 3, where);
      const expression = context.conditions?.[String(condition)];
      if (expression === undefined) throw new IntrinsicResolutionError(`${where}: unknown condition ${condition}.`);
      return resolve(evaluateCondition(expression, context, where) ? whenTrue : whenFalse, context, where);
    }
    case 'Fn::Equals': {
      const [a, b] = asArray(fn, argument, 2, where).map((x) => resolve(x, context, where));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case 'Fn::Not':
      return !evaluateCondition(asArray(fn, argument, 1, where)[0], context, where);
    case 'Fn::And':
      return asArray(fn, argument, 1, where).every((c) => evaluateCondition(c, context, where));
    case 'Fn::Or':
      return asArray(fn, argument, 1, where).some((c) => evaluateCondition(c, context, where));
    case 'Fn::FindInMap': {
      const [map, top, second] = asArray(fn, argument, 3, where).map((x) => String(resolve(x, context, where)));
      const found = context.mappings?.[map]?.[top]?.[second];
      if (found === undefined)
        throw new IntrinsicResolutionError(`${where}: Fn::FindInMap ${map}.${top}.${second} not found.`);
      return found;
    }
    case 'Fn::Base64':
      return Buffer.from(String(resolve(argument, context, where))).toString('base64');
    case 'Fn::GetAZs':
      return ['a', 'b', 'c'].map((z) => `${context.region}${z}`);
    default:
      throw new IntrinsicResolutionError(
        `${where}: intrinsic ${fn} is not supported by the local runner. Fix: compute the value in the CDK app instead.`,
      );
  }
}
