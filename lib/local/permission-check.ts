/**
 * Local IAM enforcement: decides whether a function's execution role lets it make an AWS call, as AWS would for an
 * identity-based policy, so a missing `grantPublish` / `grantSendMessages` fails locally with the error it would
 * get in AWS instead of after deploying.
 *
 * Each function gets its own access key id ({@link PermissionCheck.accessKeyFor}); the local runner gives it to the
 * function's SDK clients as `AWS_ACCESS_KEY_ID`, and the AWS gateway maps the key of each signed request back to
 * the function ({@link PermissionCheck.principalOf}). A key that belongs to no function is an external caller (the
 * developer, a test): not checked.
 *
 * Evaluation uses our own evaluator ({@link compileIdentityPolicies}, iam-policy-evaluator.ts) on the role's
 * identity policies only (no resource policies, SCPs or boundaries: the app's queue and topic policies are not
 * consulted, which matches AWS for same-account calls, where an identity grant suffices): action and resource
 * wildcards, `NotAction`/`NotResource`, explicit Deny over Allow, policy variables, and the String, Arn, Bool, Null
 * and Numeric condition operators (with `IfExists`, `ForAnyValue:`, `ForAllValues:`). Request context given to
 * conditions: `aws:RequestedRegion`, `aws:SecureTransport` (`true`, as the SDK uses HTTPS in AWS),
 * `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`; other keys are absent, so a condition on them
 * does not match (an Allow with it does not apply, a Deny with it does not deny), except where IAM makes an absent
 * key match (`...IfExists`, `ForAllValues:`, negated operators such as `StringNotEquals`, `Null`).
 *
 * Decisions are cached per (function, action, resource). A function's policies are parsed on its first check.
 *
 * @example
 * const permissions = new PermissionCheck({ functions: model.functions, accountId: model.accountId, region: model.region });
 * env.AWS_ACCESS_KEY_ID = permissions.accessKeyFor(fn);
 * // in the gateway:
 * const fn = permissions.principalOf(accessKeyId);
 * if (fn) {
 *   const decision = await permissions.check(fn, 'sns:Publish', topicArn);
 *   if (!decision.allowed) respond403(decision.message);
 * }
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { LocalFunction, PolicyDocument } from './app-model.js';
import { LocalRunnerError } from './errors.js';
import { type CompiledIdentityPolicies, compileIdentityPolicies } from './iam-policy-evaluator.js';

/** Services whose actions are checked; every other service's actions (kms, logs, xray, sts…) are allowed. */
export const CHECKED_SERVICES: ReadonlySet<string> = new Set(['sqs', 'sns', 's3', 'lambda']);

/** Prefix of the access key ids {@link PermissionCheck.accessKeyFor} makes (AWS's own start with `AKIA`/`ASIA`). */
export const LOCAL_ACCESS_KEY_PREFIX = 'LKIA';

/**
 * Most decisions kept; past it the oldest are dropped. S3 object keys make resources unbounded, so the cache
 * must be too.
 */
export const MAX_CACHED_DECISIONS = 10_000;

/** The outcome of one check. */
export type PermissionDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** AWS's message, e.g. `User: arn:aws:sts::…:assumed-role/<role>/<fn> is not authorized to perform: …`. */
      readonly message: string;
      /** `explicit-deny`: a Deny statement matched; `implicit-deny`: no Allow matched; `no-role`: the function has none. */
      readonly reason: 'explicit-deny' | 'implicit-deny' | 'no-role';
      /** What to change in the CDK app, for the runner's own output (not part of the AWS error). */
      readonly fix: string;
    };

export interface PermissionCheckOptions {
  /** The app's functions; their `role.policies` are what is evaluated. */
  readonly functions: readonly LocalFunction[];
  /** Account of the principals (`arn:aws:sts::<accountId>:assumed-role/…`). */
  readonly accountId: string;
  /** Region given to conditions as `aws:RequestedRegion`. */
  readonly region: string;
  /**
   * Called once per function whose policies have statements the evaluator ignores: ones IAM rejects at deploy
   * (no `Effect`, neither `Action` nor `NotAction`, no `Resource`…) and ones with a condition operator it does
   * not implement. The message lists each such statement; the rest of the policies are evaluated.
   * @default - ignored
   */
  readonly onWarning?: (message: string) => void;
}

interface Principal {
  readonly fn: LocalFunction;
  readonly accessKeyId: string;
  readonly arn: string;
  readonly policies: readonly PolicyDocument[];
  /** The request context its calls have, as in AWS for a Lambda function's role session. */
  readonly context: Readonly<Record<string, string>>;
  /** The policies parsed, on the function's first check. */
  compiled?: CompiledIdentityPolicies;
}

/** Decides, per function, whether its execution role allows an action on a resource. */
export class PermissionCheck {
  readonly #accountId: string;
  readonly #region: string;
  readonly #onWarning: ((message: string) => void) | undefined;
  readonly #byKey = new Map<string, Principal>();
  readonly #byFunction = new Map<LocalFunction, Principal>();
  readonly #cache = new Map<string, Promise<PermissionDecision>>();
  readonly #warned = new Set<string>();

  constructor(options: PermissionCheckOptions) {
    this.#accountId = options.accountId;
    this.#region = options.region;
    this.#onWarning = options.onWarning;
    for (const fn of options.functions) {
      const accessKeyId = accessKeyIdFor(fn.arn);
      const clash = this.#byKey.get(accessKeyId);
      if (clash !== undefined && clash.fn.arn !== fn.arn) {
        throw new LocalRunnerError(
          `Functions ${clash.fn.arn} and ${fn.arn} hash to the same access key id ${accessKeyId}. ` +
            'Fix: rename one of them (this is a 1-in-2^80 coincidence).',
        );
      }
      const principal: Principal = {
        fn,
        accessKeyId,
        arn: fn.role !== undefined ? `arn:aws:sts::${this.#accountId}:assumed-role/${fn.role.name}/${fn.name}` : fn.arn,
        policies: fn.role?.policies ?? [],
        context: {
          'aws:RequestedRegion': this.#region,
          'aws:SecureTransport': 'true',
          'aws:PrincipalArn': fn.role?.arn ?? fn.arn,
          'aws:PrincipalAccount': this.#accountId,
          'aws:PrincipalType': 'AssumedRole',
        },
      };
      this.#byKey.set(accessKeyId, principal);
      this.#byFunction.set(fn, principal);
    }
  }

  /** The access key id to give `fn`'s SDK clients: stable across runs (derived from the function ARN). */
  accessKeyFor(fn: LocalFunction): string {
    return this.#byFunction.get(fn)?.accessKeyId ?? accessKeyIdFor(fn.arn);
  }

  /** The function an access key id belongs to; undefined for any other key (an external caller, not checked). */
  principalOf(accessKeyId: string): LocalFunction | undefined {
    return this.#byKey.get(accessKeyId)?.fn;
  }

  /** The ARN AWS names `fn` by in errors: `arn:aws:sts::<account>:assumed-role/<role>/<function>`. */
  principalArnOf(fn: LocalFunction): string {
    return this.#principal(fn).arn;
  }

  /** Number of decisions cached. */
  get cachedDecisions(): number {
    return this.#cache.size;
  }

  /**
   * Whether `fn`'s role allows `action` (e.g. `sns:Publish`) on `resourceArn` (`*` for resource-less actions).
   * Actions of services not in {@link CHECKED_SERVICES} are always allowed; a function without a role is denied
   * everything checked.
   */
  check(fn: LocalFunction, action: string, resourceArn: string): Promise<PermissionDecision> {
    const service = action.slice(0, action.indexOf(':')).toLowerCase();
    if (!CHECKED_SERVICES.has(service)) return ALLOWED;
    const principal = this.#principal(fn);
    const key = `${principal.fn.arn}\n${action.toLowerCase()}\n${resourceArn}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    let decision: Promise<PermissionDecision>;
    try {
      decision = Promise.resolve(this.#decide(principal, action, resourceArn));
    } catch (error) {
      // A failed evaluation is not cached: the next call tries again.
      return Promise.reject(error);
    }
    this.#cache.set(key, decision);
    if (this.#cache.size > MAX_CACHED_DECISIONS) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return decision;
  }

  #principal(fn: LocalFunction): Principal {
    const known = this.#byFunction.get(fn) ?? this.#byKey.get(accessKeyIdFor(fn.arn));
    if (known !== undefined) return known;
    throw new LocalRunnerError(
      `Function ${fn.name} (${fn.arn}) is not one of the functions this PermissionCheck was built with. ` +
        'Fix: build the PermissionCheck from the same app model the runner starts functions from.',
    );
  }

  #decide(principal: Principal, action: string, resource: string): PermissionDecision {
    const { fn } = principal;
    if (fn.role === undefined || principal.policies.length === 0) {
      return {
        allowed: false,
        reason: 'no-role',
        message: deniedMessage(principal.arn, action, resource, 'implicit-deny'),
        fix:
          fn.role === undefined
            ? `Function ${fn.displayName} has no execution role in the app; give it one that allows ${action} on ${resource}.`
            : `Role ${fn.role.name} of ${fn.displayName} has no policies; grant it ${action} on ${resource} in the CDK app.`,
      };
    }
    if (principal.compiled === undefined) {
      principal.compiled = compileIdentityPolicies(principal.policies);
      if (principal.compiled.problems.length > 0) this.#warnOnce(fn, principal.compiled.problems.join('; '));
    }
    // Same account, always: identity policies alone decide, as in AWS for same-account calls.
    const result = principal.compiled.evaluate({ action, resource, context: principal.context });
    if (result === 'Allowed') return { allowed: true };
    const reason = result === 'ExplicitlyDenied' ? 'explicit-deny' : 'implicit-deny';
    return {
      allowed: false,
      reason,
      message: deniedMessage(principal.arn, action, resource, reason),
      fix:
        reason === 'explicit-deny'
          ? `A Deny statement in a policy of role ${fn.role.name} (${fn.displayName}) matches ${action} on ${resource}; narrow or remove it.`
          : `Grant role ${fn.role.name} (${fn.displayName}) ${action} on ${resource} in the CDK app, e.g. with the resource's grant method (topic.grantPublish(fn), queue.grantSendMessages(fn), bucket.grantRead(fn), otherFn.grantInvoke(fn)).`,
    };
  }

  #warnOnce(fn: LocalFunction, message: string): void {
    if (this.#onWarning === undefined || this.#warned.has(fn.arn)) return;
    this.#warned.add(fn.arn);
    this.#onWarning(
      `IAM policies of ${fn.displayName} (role ${fn.role?.name}) are invalid or not fully supported locally: ${message}`,
    );
  }
}

/**
 * The access key id of the function with this ARN: `LKIA` + 16 base32 characters of its SHA-256, 20 characters
 * like an AWS key id. Deterministic, so a function keeps its key across restarts.
 */
export function accessKeyIdFor(functionArn: string): string {
  const digest = createHash('sha256').update(functionArn).digest();
  return LOCAL_ACCESS_KEY_PREFIX + base32(digest).slice(0, 16);
}

/**
 * AWS's AccessDenied message for an identity-policy decision, e.g. `User: arn:aws:sts::000000000000:assumed-role/
 * Role/fn is not authorized to perform: sns:Publish on resource: arn:aws:sns:…:topic because no identity-based
 * policy allows the sns:Publish action`.
 */
export function deniedMessage(
  principalArn: string,
  action: string,
  resource: string,
  reason: 'explicit-deny' | 'implicit-deny',
): string {
  const head = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource}`;
  return reason === 'explicit-deny'
    ? `${head} with an explicit deny in an identity-based policy`
    : `${head} because no identity-based policy allows the ${action} action`;
}

const ALLOWED: Promise<PermissionDecision> = Promise.resolve({ allowed: true });

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}
