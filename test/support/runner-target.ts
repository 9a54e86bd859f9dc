/**
 * Which target the end-to-end suites (test/e2e) run the local runner on, from `QUEUEKIT_TARGET`:
 *
 * - `embedded` (default): the runner's own in-process emulator, fresh per runner;
 * - `localstack`: a LocalStack that is already running at `AWS_ENDPOINT_URL` (default `http://127.0.0.1:4566`).
 *   The runner provisions the fixture app on it itself (nothing is deployed by CloudFormation). Start one with
 *   `bash .ci/localstack-up.sh`.
 *
 * There is no silent skip: asking for LocalStack when it does not answer fails the run with the fix. LocalStack is
 * shared by every suite of a run (and possibly by other runs), so the fixture's stack name is unique per run
 * (test/e2e/global-setup.ts) and {@link deleteAppResources} empties the app's queues and topics before each suite.
 *
 * @module
 */
import { DeleteTopicCommand, ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadAppModel } from '../../lib/local/app-model-loader.js';
import { readCloudAssembly } from '../../lib/local/cloud-assembly.js';
import { clientConfig } from '../../lib/runtime/clients.js';

export type RunnerTargetKind = 'embedded' | 'localstack';

export const LOCALSTACK_DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';

export interface RunnerTarget {
  readonly kind: RunnerTargetKind;
  /** What `LocalRunner.start({ target })` and `queuekit dev --target` take. */
  readonly option: RunnerTargetKind;
  /** LocalStack's endpoint; undefined for embedded (each runner starts its own emulator). */
  readonly endpoint?: string;
}

/** The target `QUEUEKIT_TARGET` names; throws on anything but `embedded`, `localstack` or nothing. */
export function runnerTarget(env: Readonly<Record<string, string | undefined>> = process.env): RunnerTarget {
  const value = (env.QUEUEKIT_TARGET ?? '').trim() || 'embedded';
  if (value === 'embedded') return { kind: 'embedded', option: 'embedded' };
  if (value === 'localstack') {
    return { kind: 'localstack', option: 'localstack', endpoint: env.AWS_ENDPOINT_URL || LOCALSTACK_DEFAULT_ENDPOINT };
  }
  throw new Error(
    `QUEUEKIT_TARGET=${value} is not a target of the end-to-end suites. Fix: use QUEUEKIT_TARGET=embedded (default) or QUEUEKIT_TARGET=localstack.`,
  );
}

/**
 * Checks that the target answers: for LocalStack, its health endpoint lists SQS and SNS as available. Throws with
 * the fix otherwise (the suites never skip themselves when LocalStack was asked for).
 */
export async function assertTargetReachable(target: RunnerTarget): Promise<void> {
  if (target.kind !== 'localstack') return;
  const url = `${target.endpoint}/_localstack/health`;
  let health: { services?: Record<string, string> };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    health = (await response.json()) as typeof health;
  } catch (error) {
    throw new Error(
      `QUEUEKIT_TARGET=localstack, but LocalStack does not answer at ${url} (${(error as Error).message}). ` +
        'Fix: start it with `bash .ci/localstack-up.sh` (stop it with `bash .ci/localstack-down.sh`), ' +
        'or set AWS_ENDPOINT_URL to where it runs, or run the suites on QUEUEKIT_TARGET=embedded.',
    );
  }
  const missing = ['sqs', 'sns'].filter((s) => !['available', 'running'].includes(health.services?.[s] ?? ''));
  if (missing.length > 0) {
    throw new Error(
      `QUEUEKIT_TARGET=localstack, but LocalStack at ${target.endpoint} does not serve ${missing.join(', ')}. Fix: add them to its SERVICES.`,
    );
  }
}

/**
 * LocalStack only (a no-op on embedded, whose state dies with each runner): deletes the queues and topics the
 * app in `assembly` would provision, so a suite starts from empty queues whatever ran before it.
 */
export async function deleteAppResources(target: RunnerTarget, assembly: string): Promise<void> {
  if (target.kind !== 'localstack' || target.endpoint === undefined) return;
  const model = await loadAppModel(readCloudAssembly(assembly));
  const sqs = new SQSClient(clientConfig({ endpoint: target.endpoint, env: {} }, 'sqs'));
  const sns = new SNSClient(clientConfig({ endpoint: target.endpoint, env: {} }, 'sns'));
  try {
    await Promise.all(
      model.queues.map(async (queue) => {
        try {
          const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }));
          await sqs.send(new DeleteQueueCommand({ QueueUrl }));
        } catch (error) {
          if (!/NonExistentQueue|QueueDoesNotExist/.test((error as Error).name)) throw error;
        }
      }),
    );
    const names = new Set(model.topics.map((t) => t.name));
    let next: string | undefined;
    do {
      const page = await sns.send(new ListTopicsCommand({ NextToken: next }));
      for (const { TopicArn } of page.Topics ?? []) {
        if (TopicArn && names.has(TopicArn.split(':').pop() ?? '')) {
          await sns.send(new DeleteTopicCommand({ TopicArn }));
        }
      }
      next = page.NextToken;
    } while (next);
  } finally {
    sqs.destroy();
    sns.destroy();
  }
}
