import type { IConstruct } from 'constructs';

/**
 * A queuekit construct was given props it cannot build: thrown at synth, naming the construct path, what is
 * wrong and the fix. Topology mistakes that only show across resources are reported by `QueuekitChecks`.
 */
export class QueuekitPropsError extends Error {
  override readonly name = 'QueuekitPropsError';
  constructor(
    readonly constructPath: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`[${constructPath}] ${problem} Fix: ${fix}`);
  }

  static of(scope: IConstruct, problem: string, fix: string): QueuekitPropsError {
    return new QueuekitPropsError(scope.node.path, problem, fix);
  }
}
