/**
 * The local model of a synthesized app: every SQS queue, SNS topic, SQS subscription, Lambda function and SQS
 * event source mapping of the cloud assembly, with intrinsics resolved to the names, URLs and ARNs they have on the
 * local target. Built by `loadAppModel` (app-model-loader.ts) and completed by the provisioner (queue URLs,
 * subscription ARNs); everything else in lib/local reads it.
 *
 * @module
 */

/** What every element of the model has: where it is defined and the name users recognise. */
export interface ModelElement {
  /** CloudFormation logical id in its stack. */
  readonly logicalId: string;
  /** The stack that defines it (the deployed stack name). */
  readonly stackName: string;
  /** Construct path without the trailing `/Resource`, e.g. `QueuekitMessaging/InferenceJobs/Queue`; the logical id when the template has no `aws:cdk:path`. */
  readonly path: string;
  /**
   * Short unique name shown in the terminal, the live page and outputs.json, e.g. `InferenceJobs`: the path
   * without its stack and without a trailing `Queue` / `Topic` / `Function` segment, as long as it stays unique.
   */
  readonly displayName: string;
}

export interface LocalQueue extends ModelElement {
  /** Physical queue name on the target (the template's `QueueName`, else `<stack>-<logicalId>` like CloudFormation). */
  readonly name: string;
  readonly arn: string;
  /** Set once provisioned. */
  url: string;
  readonly fifo: boolean;
  /** CreateQueue attributes as the template gives them (seconds unscaled; KMS attributes left out). */
  readonly attributes: Readonly<Record<string, string>>;
  /** The queue's redrive target and receive limit, when it has one. */
  readonly deadLetter?: { readonly arn: string; readonly maxReceiveCount: number };
  /** Queues whose redrive policy names this one. */
  readonly deadLetterFor: string[];
}

export interface LocalTopic extends ModelElement {
  readonly name: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface LocalSubscription extends ModelElement {
  readonly topicArn: string;
  /** The subscribed queue (protocol `sqs`); other protocols are listed as not emulated. */
  readonly queueArn: string;
  readonly rawMessageDelivery: boolean;
  /** The filter policy as an object, when there is one. */
  readonly filterPolicy?: Readonly<Record<string, unknown>>;
  readonly filterPolicyScope: 'MessageAttributes' | 'MessageBody';
  /** Subscription-level DLQ (deliveries SNS could not make), when set. */
  readonly redriveDeadLetterArn?: string;
  /** Set once provisioned. */
  arn?: string;
}

/** One statement of an IAM policy document, intrinsics resolved. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly PolicyStatement[];
}

export interface LocalFunction extends ModelElement {
  /** Physical function name (the template's `FunctionName`, else `<stack>-<logicalId>`). */
  readonly name: string;
  readonly arn: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  /** Absolute path of the bundled asset folder in the cloud assembly (the code `cdk deploy` would upload). */
  readonly codeDir: string;
  /** e.g. `nodejs22.x`. */
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The function's environment variables, resolved to local values. */
  readonly environment: Readonly<Record<string, string>>;
  /** Execution role, with every identity policy attached to it in the app (inline, AWS::IAM::Policy, managed policies of the app). */
  readonly role?: { readonly arn: string; readonly name: string; readonly policies: readonly PolicyDocument[] };
  /** `ReservedConcurrentExecutions`, when set. */
  readonly reservedConcurrency?: number;
}

export interface LocalEventSourceMapping extends ModelElement {
  /** Physical name of the function it invokes. */
  readonly functionName: string;
  readonly queueArn: string;
  /** @default 10 */
  readonly batchSize: number;
  /** @default 0 */
  readonly maxBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  /** `ScalingConfig.MaximumConcurrency`, when set. */
  readonly maxConcurrency?: number;
  readonly enabled: boolean;
}

/** Resources of a type the runner does not emulate, listed once with where they are. */
export interface UnemulatedResources {
  readonly type: string;
  readonly paths: readonly string[];
}

export interface AppModel {
  readonly region: string;
  readonly accountId: string;
  /** Stacks in deployment order. */
  readonly stacks: readonly string[];
  readonly queues: readonly LocalQueue[];
  readonly topics: readonly LocalTopic[];
  readonly subscriptions: readonly LocalSubscription[];
  readonly functions: readonly LocalFunction[];
  readonly mappings: readonly LocalEventSourceMapping[];
  readonly unemulated: readonly UnemulatedResources[];
}

/** Finds a queue, topic or function by display name, construct path, logical id, physical name, URL or ARN. */
export function findElement<T extends ModelElement & { name: string; arn: string; url?: string }>(
  elements: readonly T[],
  key: string,
): T | undefined {
  return elements.find(
    (e) =>
      e.displayName === key ||
      e.path === key ||
      e.logicalId === key ||
      e.name === key ||
      e.arn === key ||
      (e.url !== undefined && e.url === key),
  );
}
