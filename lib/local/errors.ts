/**
 * Errors of the local plane (lib/local). Each message says what was wrong and the fix.
 *
 * @module
 */

/** Base class: every error the local runner and its CLI commands raise on purpose is one of these. */
export class LocalRunnerError extends Error {
  override name = 'LocalRunnerError';
}

/** The cloud assembly cannot be read or holds something the runner cannot run (message names the construct path). */
export class AssemblyError extends LocalRunnerError {
  override name = 'AssemblyError';
}

/** A queue, topic or subscription could not be created on the target. */
export class ProvisionError extends LocalRunnerError {
  override name = 'ProvisionError';
}

/** The target (embedded emulator, LocalStack, endpoint) cannot be started or reached. */
export class TargetError extends LocalRunnerError {
  override name = 'TargetError';
}

/** A command-line argument is wrong (exit code 2). */
export class UsageError extends LocalRunnerError {
  override name = 'UsageError';
}

/** The AWS gateway could not start (bad target URL, port in use). */
export class AwsGatewayError extends LocalRunnerError {
  override name = 'AwsGatewayError';
}
