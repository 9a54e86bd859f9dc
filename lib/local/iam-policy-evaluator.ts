/**
 * A small evaluator of IAM identity-based policies, as AWS evaluates them for a same-account request with no
 * resource policy, SCP, RCP, permissions boundary or session policy in play:
 *
 * - an explicit `Deny` that matches wins; else any matching `Allow` allows; else the request is implicitly denied;
 * - `Action` / `NotAction`: case-insensitive, `*` and `?` wildcards (`*`, `sqs:*`, `sqs:Send*`);
 * - `Resource` / `NotResource`: case-sensitive, `*` and `?` wildcards, a `*` spanning `/` and `:`; policy variables
 *   (`${aws:PrincipalArn}`, `${aws:PrincipalTag/team, 'default'}`, `${*}` `${?}` `${$}`) are substituted from the
 *   request context when the policy's `Version` is `2012-10-17` (literal text otherwise, as in IAM);
 * - `Condition`: the String, Arn, Bool, Null and Numeric operators, with the `IfExists` suffix and the
 *   `ForAnyValue:` / `ForAllValues:` set prefixes. Operators and keys of a block are ANDed; the values of one key
 *   ORed (NORed for a negated operator). Condition keys are case-insensitive. A key absent from the context makes a
 *   condition false, except: `...IfExists` and `ForAllValues:` are true, a negated operator (`StringNotEquals`,
 *   `ArnNotLike`…) is true, and `Null` tests exactly that.
 *
 * Statements IAM would reject (no `Effect`, neither `Action` nor `NotAction`, neither `Resource` nor
 * `NotResource`, a malformed `Condition`) and statements with a condition operator not listed above (the Date, IP
 * address and Binary operators, a misspelling) never match; each is reported once in `problems`.
 *
 * Sources: IAM User Guide, "Policy evaluation logic", "IAM JSON policy elements: Condition operators",
 * "Conditions with multiple context keys or values", "Single-valued vs. multivalued context keys", "IAM policy
 * elements: Variables and tags" (checked 2026).
 *
 * @example
 * const decision = evaluateIdentityPolicies(role.policies, {
 *   action: 'sqs:SendMessage',
 *   resource: 'arn:aws:sqs:us-east-1:000000000000:jobs',
 *   context: { 'aws:RequestedRegion': 'us-east-1' },
 * }); // 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'
 *
 * @module
 */
import type { PolicyDocument, PolicyStatement } from './app-model.js';

/** The outcome of evaluating a request against identity policies, in IAM's words. */
export type IamDecision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** What is asked: an action on a resource, with the request context that conditions and policy variables read. */
export interface IamRequest {
  /** `service:Action`, e.g. `sqs:SendMessage`. */
  readonly action: string;
  /** Resource ARN, or `*` for an action that takes no resource. */
  readonly resource: string;
  /** Context keys (case-insensitive) and their values; an array is a multivalued key. */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

/** Policies parsed once, to evaluate many requests. */
export interface CompiledIdentityPolicies {
  /** One line per statement that is ignored, saying why; empty when every statement is evaluated. */
  readonly problems: readonly string[];
  evaluate(request: IamRequest): IamDecision;
}

/**
 * Evaluates one request against identity policies. Each problem in the policies (see the module doc) is given to
 * `onWarning` once per call; to evaluate many requests, {@link compileIdentityPolicies} once instead.
 */
export function evaluateIdentityPolicies(
  policies: readonly PolicyDocument[],
  request: IamRequest,
  options: { readonly onWarning?: (message: string) => void } = {},
): IamDecision {
  const compiled = compileIdentityPolicies(policies);
  if (options.onWarning !== undefined) for (const problem of compiled.problems) options.onWarning(problem);
  return compiled.evaluate(request);
}

/** Parses and validates `policies` once; the result evaluates requests without re-reading them. */
export function compileIdentityPolicies(policies: readonly PolicyDocument[]): CompiledIdentityPolicies {
  const problems: string[] = [];
  const statements: CompiledStatement[] = [];
  policies.forEach((policy, p) => {
    const raw: unknown = (policy as { Statement?: unknown } | undefined)?.Statement;
    if (raw === undefined || raw === null || typeof raw !== 'object') {
      problems.push(`policy ${p} has no Statement; it grants nothing`);
      return;
    }
    // IAM accepts a single statement object as well as an array of them.
    const list = (Array.isArray(raw) ? raw : [raw]) as readonly PolicyStatement[];
    const variables = policy.Version === '2012-10-17';
    list.forEach((statement, s) => {
      const result = compileStatement(statement, variables);
      if (typeof result === 'string') {
        const sid = typeof statement?.Sid === 'string' && statement.Sid !== '' ? ` (${statement.Sid})` : '';
        problems.push(`policy ${p} statement ${s}${sid} ${result}; the statement is ignored`);
      } else {
        statements.push(result);
      }
    });
  });
  return { problems, evaluate: (request) => evaluate(statements, request) };
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------------------------

interface CompiledStatement {
  readonly deny: boolean;
  readonly actions: readonly Glob[];
  readonly notAction: boolean;
  readonly resources: readonly Template[];
  readonly notResource: boolean;
  readonly conditions: readonly Condition[];
}

/** Context keys lower-cased; absent keys are not in the map (nor are keys whose value is an empty array). */
type Context = ReadonlyMap<string, readonly string[]>;

function evaluate(statements: readonly CompiledStatement[], request: IamRequest): IamDecision {
  const action = request.action.toLowerCase();
  let context: Context | undefined;
  let allowed = false;
  for (const statement of statements) {
    // An Allow cannot change the outcome once something allowed; only a Deny still can.
    if (allowed && !statement.deny) continue;
    if (statement.actions.some((glob) => globMatch(glob, action)) === statement.notAction) continue;
    context ??= normalizeContext(request.context);
    const ctx = context;
    const resourceMatches = statement.resources.some((template) => {
      const glob = resolveGlob(template, ctx);
      return glob !== undefined && globMatch(glob, request.resource);
    });
    if (resourceMatches === statement.notResource) continue;
    if (!statement.conditions.every((condition) => conditionHolds(condition, ctx))) continue;
    if (statement.deny) return 'ExplicitlyDenied';
    allowed = true;
  }
  return allowed ? 'Allowed' : 'ImplicitlyDenied';
}

function normalizeContext(context: IamRequest['context']): Context {
  const out = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(context)) {
    const values = typeof value === 'string' ? [value] : value;
    if (values.length > 0) out.set(key.toLowerCase(), values);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------------------------------

/** A compiled statement, or why it is ignored. */
function compileStatement(statement: PolicyStatement | undefined, variables: boolean): CompiledStatement | string {
  if (statement === null || typeof statement !== 'object' || Array.isArray(statement)) return 'is not an object';
  const effect: unknown = statement.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') {
    return effect === undefined
      ? 'has no Effect'
      : `has Effect ${JSON.stringify(effect)}, which is neither "Allow" nor "Deny"`;
  }
  const hasAction = statement.Action !== undefined;
  const hasNotAction = statement.NotAction !== undefined;
  if (hasAction === hasNotAction) {
    return hasAction ? 'has both Action and NotAction' : 'has neither Action nor NotAction';
  }
  const actions = stringList(hasAction ? statement.Action : statement.NotAction);
  if (actions === undefined) return `has a ${hasAction ? 'Action' : 'NotAction'} that is not a string or string list`;

  const hasResource = statement.Resource !== undefined;
  const hasNotResource = statement.NotResource !== undefined;
  if (hasResource === hasNotResource) {
    return hasResource
      ? 'has both Resource and NotResource'
      : 'has neither Resource nor NotResource (IAM rejects it at deploy)';
  }
  const resources = stringList(hasResource ? statement.Resource : statement.NotResource);
  if (resources === undefined) {
    return `has a ${hasResource ? 'Resource' : 'NotResource'} that is not a string or string list`;
  }

  const conditions = compileConditions(statement.Condition, variables);
  if (typeof conditions === 'string') return conditions;

  return {
    deny: effect === 'Deny',
    actions: actions.map((action) => compileGlob(action.toLowerCase())),
    notAction: hasNotAction,
    resources: resources.map((resource) => compileTemplate(resource, { wildcards: true, variables })),
    notResource: hasNotResource,
    conditions,
  };
}

function stringList(value: unknown): readonly string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------------------------

type OperatorKind = 'string' | 'stringIgnoreCase' | 'stringLike' | 'arn' | 'bool' | 'null' | 'numeric';
type NumericComparison = 'eq' | 'lt' | 'lte' | 'gt' | 'gte';

interface Operator {
  readonly kind: OperatorKind;
  /** `...Not...`: the values of a key are NORed, and an absent key makes the condition true. */
  readonly negated: boolean;
  readonly comparison?: NumericComparison;
}

/** The operators implemented, by lower-cased name (without set prefix or `IfExists`). */
const OPERATORS: ReadonlyMap<string, Operator> = new Map<string, Operator>([
  ['stringequals', { kind: 'string', negated: false }],
  ['stringnotequals', { kind: 'string', negated: true }],
  ['stringequalsignorecase', { kind: 'stringIgnoreCase', negated: false }],
  ['stringnotequalsignorecase', { kind: 'stringIgnoreCase', negated: true }],
  ['stringlike', { kind: 'stringLike', negated: false }],
  ['stringnotlike', { kind: 'stringLike', negated: true }],
  // ArnEquals and ArnLike are the same test in IAM: segment by segment, wildcards allowed.
  ['arnequals', { kind: 'arn', negated: false }],
  ['arnlike', { kind: 'arn', negated: false }],
  ['arnnotequals', { kind: 'arn', negated: true }],
  ['arnnotlike', { kind: 'arn', negated: true }],
  ['bool', { kind: 'bool', negated: false }],
  ['null', { kind: 'null', negated: false }],
  ['numericequals', { kind: 'numeric', negated: false, comparison: 'eq' }],
  ['numericnotequals', { kind: 'numeric', negated: true, comparison: 'eq' }],
  ['numericlessthan', { kind: 'numeric', negated: false, comparison: 'lt' }],
  ['numericlessthanequals', { kind: 'numeric', negated: false, comparison: 'lte' }],
  ['numericgreaterthan', { kind: 'numeric', negated: false, comparison: 'gt' }],
  ['numericgreaterthanequals', { kind: 'numeric', negated: false, comparison: 'gte' }],
]);

/** IAM operators this evaluator does not implement: named as such in the problem, rather than as unknown. */
const UNSUPPORTED_OPERATORS: ReadonlySet<string> = new Set([
  'dateequals',
  'datenotequals',
  'datelessthan',
  'datelessthanequals',
  'dategreaterthan',
  'dategreaterthanequals',
  'ipaddress',
  'notipaddress',
  'binaryequals',
]);

interface Condition {
  readonly operator: Operator;
  readonly ifExists: boolean;
  readonly set: 'any' | 'all' | undefined;
  /** Lower-cased. */
  readonly key: string;
  readonly values: readonly ConditionValue[];
}

/** A policy value: a template for String/Arn operators (variables resolved per request), the raw text otherwise. */
type ConditionValue = Template | string;

/** The compiled conditions of a statement, or why the statement is ignored. */
function compileConditions(block: unknown, variables: boolean): Condition[] | string {
  if (block === undefined) return [];
  if (!isRecord(block)) return 'has a Condition that is not an object';
  const conditions: Condition[] = [];
  for (const [name, keys] of Object.entries(block)) {
    const parsed = parseOperator(name);
    if (typeof parsed === 'string') return parsed;
    if (!isRecord(keys)) return `has a ${name} condition that is not an object of keys and values`;
    for (const [key, raw] of Object.entries(keys)) {
      const list = Array.isArray(raw) ? raw : [raw];
      if (!list.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
        return `has a ${name} condition on ${key} whose value is not a string, number, boolean or list of them`;
      }
      const texts = list.map(String);
      const { kind } = parsed.operator;
      const values =
        kind === 'string' || kind === 'stringIgnoreCase'
          ? texts.map((text) => compileTemplate(text, { wildcards: false, variables }))
          : kind === 'stringLike' || kind === 'arn'
            ? texts.map((text) => compileTemplate(text, { wildcards: true, variables }))
            : texts;
      conditions.push({ ...parsed, key: key.toLowerCase(), values });
    }
  }
  return conditions;
}

function parseOperator(name: string): Pick<Condition, 'operator' | 'ifExists' | 'set'> | string {
  let rest = name;
  let set: Condition['set'];
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const prefix = rest.slice(0, colon).toLowerCase();
    if (prefix === 'foranyvalue') set = 'any';
    else if (prefix === 'forallvalues') set = 'all';
    else return `uses the unknown condition operator ${name}`;
    rest = rest.slice(colon + 1);
  }
  const lower = rest.toLowerCase();
  const ifExists = lower.endsWith('ifexists');
  const base = ifExists ? lower.slice(0, -'ifexists'.length) : lower;
  const operator = OPERATORS.get(base);
  if (operator === undefined || (operator.kind === 'null' && (ifExists || set !== undefined))) {
    return UNSUPPORTED_OPERATORS.has(base)
      ? `uses the condition operator ${name}, which the local IAM check does not implement`
      : `uses the unknown condition operator ${name}`;
  }
  return { operator, ifExists, set };
}

function conditionHolds(condition: Condition, context: Context): boolean {
  const { operator } = condition;
  const values = context.get(condition.key);
  if (operator.kind === 'null') {
    // `Null: true` holds when the key is absent, `Null: false` when it is present.
    const absent = String(values === undefined);
    return condition.values.some((v) => typeof v === 'string' && v.toLowerCase() === absent);
  }
  if (values === undefined) {
    if (condition.ifExists || condition.set === 'all') return true;
    if (condition.set === 'any') return false;
    return operator.negated;
  }
  // Per request value: does it satisfy the operator (for a negated one: match none of the policy values)?
  const satisfies = (value: string) => anyPolicyValueMatches(condition, value, context) !== operator.negated;
  if (condition.set === 'all') return values.every(satisfies);
  if (condition.set === 'any') return values.some(satisfies);
  // A multivalued key without a set operator: positive operators need one value to match, negated ones none.
  return operator.negated ? values.every(satisfies) : values.some(satisfies);
}

/** Whether `value` (from the request) matches at least one of the condition's policy values, un-negated. */
function anyPolicyValueMatches(condition: Condition, value: string, context: Context): boolean {
  const { kind, comparison } = condition.operator;
  for (const policyValue of condition.values) {
    switch (kind) {
      case 'string':
      case 'stringIgnoreCase': {
        const text = resolveText(policyValue as Template, context);
        if (text === undefined) continue;
        if (kind === 'string' ? text === value : text.toLowerCase() === value.toLowerCase()) return true;
        break;
      }
      case 'stringLike': {
        const glob = resolveGlob(policyValue as Template, context);
        if (glob !== undefined && globMatch(glob, value)) return true;
        break;
      }
      case 'arn': {
        const glob = resolveGlob(policyValue as Template, context);
        if (glob !== undefined && arnMatch(glob, value)) return true;
        break;
      }
      case 'bool': {
        const expected = (policyValue as string).toLowerCase();
        if ((expected === 'true' || expected === 'false') && value.toLowerCase() === expected) return true;
        break;
      }
      case 'numeric': {
        const actual = parseNumber(value);
        const expected = parseNumber(policyValue as string);
        if (actual !== undefined && expected !== undefined && compare(actual, expected, comparison ?? 'eq')) {
          return true;
        }
        break;
      }
      case 'null':
        break;
    }
  }
  return false;
}

function parseNumber(text: string): number | undefined {
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(text)) return undefined;
  return Number(text);
}

function compare(actual: number, expected: number, comparison: NumericComparison): boolean {
  switch (comparison) {
    case 'eq':
      return actual === expected;
    case 'lt':
      return actual < expected;
    case 'lte':
      return actual <= expected;
    case 'gt':
      return actual > expected;
    case 'gte':
      return actual >= expected;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Wildcards and policy variables
// ---------------------------------------------------------------------------------------------------------------

/** Wildcard in a {@link Glob}: any run of characters, `/` and `:` included. */
const STAR = -1;
/** Wildcard in a {@link Glob}: exactly one character. */
const ONE = -2;

/** A pattern as UTF-16 code units, with {@link STAR} and {@link ONE} for the wildcards. */
type Glob = readonly number[];

/** A policy variable: a context key (lower-cased) and the default after the comma, if any. */
interface Variable {
  readonly key: string;
  readonly fallback: string | undefined;
}

/** Literal text, a wildcard, or a variable. */
type Part = string | typeof STAR | typeof ONE | Variable;

/** A policy string with variables still to substitute; `glob` / `text` are precomputed when it has none. */
interface Template {
  readonly parts: readonly Part[];
  readonly glob: Glob | undefined;
  readonly text: string | undefined;
}

function compileGlob(pattern: string): Glob {
  return toGlob(parseParts(pattern, true, false), new Map()) ?? [];
}

function compileTemplate(text: string, options: { wildcards: boolean; variables: boolean }): Template {
  const parts = parseParts(text, options.wildcards, options.variables);
  const fixed = parts.every((part) => typeof part !== 'object');
  return {
    parts,
    glob: fixed ? toGlob(parts, new Map()) : undefined,
    text: fixed ? toText(parts, new Map()) : undefined,
  };
}

/** Splits a policy string into literal text, wildcards (when `wildcards`) and `${…}` variables (when `variables`). */
function parseParts(text: string, wildcards: boolean, variables: boolean): Part[] {
  const parts: Part[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') parts.push(literal);
    literal = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (variables && ch === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end > 0) {
        const inner = text.slice(i + 2, end);
        // ${*}, ${?} and ${$} stand for the character itself, never a wildcard.
        if (inner === '*' || inner === '?' || inner === '$') {
          literal += inner;
          i = end;
          continue;
        }
        const match = /^\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?$/.exec(inner);
        if (match !== null) {
          flush();
          parts.push({ key: (match[1] as string).toLowerCase(), fallback: match[2] });
          i = end;
          continue;
        }
      }
    }
    if (wildcards && (ch === '*' || ch === '?')) {
      flush();
      parts.push(ch === '*' ? STAR : ONE);
    } else {
      literal += ch;
    }
  }
  flush();
  return parts;
}

/** The value of a variable: its single context value, else its default; undefined if it has neither. */
function variableValue(variable: Variable, context: Context): string | undefined {
  const values = context.get(variable.key);
  // A multivalued key cannot be a policy variable.
  return values?.length === 1 ? values[0] : variable.fallback;
}

function toGlob(parts: readonly Part[], context: Context): Glob | undefined {
  const glob: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') {
      glob.push(part);
      continue;
    }
    const text = typeof part === 'string' ? part : variableValue(part, context);
    if (text === undefined) return undefined;
    for (let i = 0; i < text.length; i++) glob.push(text.charCodeAt(i));
  }
  return glob;
}

function toText(parts: readonly Part[], context: Context): string | undefined {
  let out = '';
  for (const part of parts) {
    const text =
      typeof part === 'string'
        ? part
        : typeof part === 'number'
          ? String.fromCharCode(part === STAR ? 42 : 63)
          : variableValue(part, context);
    if (text === undefined) return undefined;
    out += text;
  }
  return out;
}

/** The template as a glob for this request; undefined when a variable has no value (the pattern matches nothing). */
function resolveGlob(template: Template, context: Context): Glob | undefined {
  return template.glob ?? toGlob(template.parts, context);
}

function resolveText(template: Template, context: Context): string | undefined {
  return template.text ?? toText(template.parts, context);
}

/**
 * Whether `text[from, to)` matches `glob[gFrom, gTo)`. Linear-time greedy matching with one backtrack point (the
 * last `*`), so no pattern can make it slow.
 */
function globMatch(glob: Glob, text: string, gFrom = 0, gTo = glob.length, from = 0, to = text.length): boolean {
  let g = gFrom;
  let t = from;
  let star = -1;
  let resume = 0;
  while (t < to) {
    const unit = g < gTo ? (glob[g] as number) : 0;
    if (g < gTo && unit === STAR) {
      star = g++;
      resume = t;
    } else if (g < gTo && (unit === ONE || unit === text.charCodeAt(t))) {
      g++;
      t++;
    } else if (star >= 0) {
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < gTo && glob[g] === STAR) g++;
  return g === gTo;
}

const COLON = 58;

/**
 * ArnEquals / ArnLike: both are ARNs (`arn:partition:service:region:account:resource`) and each of the six
 * colon-separated parts matches on its own (the last one may hold colons).
 */
function arnMatch(glob: Glob, arn: string): boolean {
  let g = 0;
  let t = 0;
  for (let part = 0; part < 5; part++) {
    const gEnd = glob.indexOf(COLON, g);
    const tEnd = arn.indexOf(':', t);
    if (gEnd < 0 || tEnd < 0) return false;
    if (!globMatch(glob, arn, g, gEnd, t, tEnd)) return false;
    g = gEnd + 1;
    t = tEnd + 1;
  }
  return globMatch(glob, arn, g, glob.length, t, arn.length);
}
