import type { StackTemplate, TemplateSet } from './template-set.js';
import type { PolicyStatement } from './topology.js';

/** The outcome of asking whether a resource policy lets a service principal do something. */
export type PolicyDecision = 'allowed' | 'denied' | 'not-allowed' | 'unknown';

/** The request an AWS service makes on a resource, as the policy sees it. */
export interface ServiceRequest {
  readonly service: string;
  /** Every action listed must be allowed, e.g. `['kms:GenerateDataKey', 'kms:Decrypt']`. */
  readonly actions: readonly string[];
  /** The resource the request is made on (the policy's own resource when omitted). */
  readonly resource?: { readonly stack: StackTemplate; readonly value: unknown };
  /** The `aws:SourceArn` the service sends, e.g. the topic delivering into a queue. */
  readonly sourceArn?: { readonly stack: StackTemplate; readonly value: unknown };
}

const SOURCE_ARN_OPERATORS = new Set(['ArnEquals', 'ArnLike', 'StringEquals', 'StringLike']);

/**
 * A small evaluator for the resource-policy shapes that decide SNS→SQS and SNS→KMS delivery: it answers
 * `unknown` rather than guess whenever a statement uses a form it cannot evaluate (`NotAction`,
 * `NotPrincipal`, values only known at deploy time), so rules built on it never report a false error.
 */
export function evaluateServiceAccess(
  templates: TemplateSet,
  statements: readonly PolicyStatement[],
  request: ServiceRequest,
): PolicyDecision {
  let uncertain = false;
  const allowedActions = new Set<string>();
  for (const { stack, statement } of statements) {
    if ('NotAction' in statement || 'NotPrincipal' in statement || 'NotResource' in statement) {
      uncertain = true;
      continue;
    }
    const principal = principalMatches(templates, stack, statement.Principal, request.service);
    const actions = request.actions.filter((a) => actionMatches(templates, stack, statement.Action, a));
    if (principal === false || actions.length === 0) continue;
    const resource = request.resource ? resourceMatches(templates, stack, statement.Resource, request.resource) : true;
    if (resource === false) continue;
    const effect = templates.resolveString(stack, statement.Effect);
    const condition = conditionHolds(templates, stack, statement.Condition, request, effect === 'Deny');
    if (principal === undefined || resource === undefined || condition === undefined) {
      uncertain = true;
      continue;
    }
    if (!condition) continue;
    if (effect === 'Deny') return 'denied';
    if (effect === 'Allow') for (const a of actions) allowedActions.add(a);
  }
  if (request.actions.every((a) => allowedActions.has(a))) return uncertain ? 'unknown' : 'allowed';
  return uncertain ? 'unknown' : 'not-allowed';
}

/** Whether the statements deny every non-TLS request (`aws:SecureTransport` = false) for everyone. */
export function enforcesTls(templates: TemplateSet, statements: readonly PolicyStatement[], action: string): boolean {
  return statements.some(({ stack, statement }) => {
    if (templates.resolveString(stack, statement.Effect) !== 'Deny') return false;
    if (!isEveryone(templates, stack, statement.Principal)) return false;
    if (!actionMatches(templates, stack, statement.Action, action)) return false;
    const bool = templates.resolveObject(stack, templates.resolveObject(stack, statement.Condition)?.Bool);
    const value = bool?.['aws:SecureTransport'];
    return value === false || value === 'false';
  });
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function wildcard(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(value);
}

function actionMatches(templates: TemplateSet, stack: StackTemplate, actions: unknown, action: string): boolean {
  return asList(actions).some((a) => {
    const text = templates.resolveString(stack, a);
    return text !== undefined && wildcard(text, action);
  });
}

function isEveryone(templates: TemplateSet, stack: StackTemplate, principal: unknown): boolean {
  if (principal === '*') return true;
  const aws = templates.resolveObject(stack, principal)?.AWS;
  return asList(aws).some((p) => templates.resolveString(stack, p) === '*');
}

/** true / false, or undefined when a principal cannot be resolved. */
function principalMatches(
  templates: TemplateSet,
  stack: StackTemplate,
  principal: unknown,
  service: string,
): boolean | undefined {
  if (isEveryone(templates, stack, principal)) return true;
  const services = asList(templates.resolveObject(stack, principal)?.Service);
  let unresolved = false;
  for (const s of services) {
    const text = templates.resolveString(stack, s);
    if (text === undefined) unresolved = true;
    else if (text === service) return true;
  }
  return unresolved ? undefined : false;
}

function resourceMatches(
  templates: TemplateSet,
  stack: StackTemplate,
  resources: unknown,
  target: { stack: StackTemplate; value: unknown },
): boolean | undefined {
  const list = asList(resources);
  if (list.length === 0) return true; // key policies and some queue policies omit Resource
  let unresolved = false;
  for (const r of list) {
    if (templates.resolveString(stack, r) === '*') return true;
    if (templates.same({ stack, value: r }, target)) return true;
    const resolved = templates.resolve(stack, r);
    if (resolved.kind !== 'literal') unresolved = true;
  }
  return unresolved ? undefined : false;
}

/** Evaluates the `aws:SourceArn` conditions; other condition keys are assumed satisfied by a service delivery. */
function conditionHolds(
  templates: TemplateSet,
  stack: StackTemplate,
  condition: unknown,
  request: ServiceRequest,
  isDeny: boolean,
): boolean | undefined {
  const operators = templates.resolveObject(stack, condition);
  if (!operators) return true;
  for (const [operator, body] of Object.entries(operators)) {
    const entries = templates.resolveObject(stack, body) ?? {};
    for (const [key, expected] of Object.entries(entries)) {
      if (key.toLowerCase() === 'aws:securetransport') {
        // Service deliveries are made over TLS: a Deny on SecureTransport=false never applies to them.
        const v = templates.resolveString(stack, asList(expected)[0]);
        if (operator === 'Bool' && v === 'false') return false;
        continue;
      }
      if (key.toLowerCase() !== 'aws:sourcearn') continue;
      if (!SOURCE_ARN_OPERATORS.has(operator.replace(/IfExists$/, ''))) return isDeny ? false : undefined;
      if (!request.sourceArn) return undefined;
      const source = request.sourceArn;
      const sourceText = templates.resolveString(source.stack, source.value);
      let matched = false;
      let unresolved = false;
      for (const candidate of asList(expected)) {
        if (templates.same({ stack, value: candidate }, source)) matched = true;
        else {
          const text = templates.resolveString(stack, candidate);
          if (text === undefined) unresolved = true;
          else if (sourceText !== undefined && wildcard(text, sourceText)) matched = true;
          else if (text.includes('*') && sourceText === undefined) unresolved = true;
        }
      }
      if (!matched) return unresolved ? undefined : false;
    }
  }
  return true;
}
