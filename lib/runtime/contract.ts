/**
 * Message contracts through the Standard Schema interface (https://standardschema.dev): zod ≥ 3.24, valibot
 * ≥ 1, arktype ≥ 2 and others implement it, so the runtime validates with any of them without depending on
 * one. A record that fails its contract fails alone, with the issues logged.
 *
 * @module
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ContractViolationError } from './errors.js';

export type { StandardSchemaV1 } from '@standard-schema/spec';

/** The output type of a contract. */
export type ContractOutput<S> = S extends StandardSchemaV1<unknown, infer O> ? O : never;

function describe(issue: StandardSchemaV1.Issue): string {
  const path = issue.path
    ?.map((p) => (typeof p === 'object' && p !== null && 'key' in p ? p.key : p))
    .map(String)
    .join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Validates `value` against `contract`; throws {@link ContractViolationError} listing every issue. */
export async function validateContract<T>(contract: StandardSchemaV1<unknown, T>, value: unknown): Promise<T> {
  let result = contract['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) {
    const issues = result.issues.map(describe);
    throw new ContractViolationError(
      `Message does not match its contract (${contract['~standard'].vendor}): ${issues.join('; ')}`,
      issues,
    );
  }
  return result.value;
}
