/** Size of an SNS filter policy as SNS counts it against its quotas. */
export interface FilterPolicyShape {
  /** Distinct leaf keys (attribute names, or property paths for body filters). */
  readonly keys: number;
  /** Value combinations: the product of each key's number of values, summed over `$or` branches. */
  readonly combinations: number;
}

/** Measures a filter policy the way SNS's "5 keys, 150 combinations" quota counts it. */
export function filterPolicyShape(policy: Record<string, unknown>): FilterPolicyShape {
  const keys = new Set<string>();
  const combinations = measure(policy, '', keys);
  return { keys: keys.size, combinations };
}

function measure(node: Record<string, unknown>, prefix: string, keys: Set<string>): number {
  let product = 1;
  for (const [name, value] of Object.entries(node)) {
    if (name === '$or' && Array.isArray(value)) {
      product *= value.reduce<number>(
        (sum, branch) =>
          sum + (branch && typeof branch === 'object' ? measure(branch as Record<string, unknown>, prefix, keys) : 1),
        0,
      );
    } else if (Array.isArray(value)) {
      keys.add(prefix + name);
      product *= Math.max(1, value.length);
    } else if (value && typeof value === 'object') {
      product *= measure(value as Record<string, unknown>, `${prefix}${name}.`, keys);
    } else {
      keys.add(prefix + name);
    }
  }
  return product;
}
