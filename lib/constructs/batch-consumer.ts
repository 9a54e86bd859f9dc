import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QueuekitPropsError } from './errors.js';
import { grantLargePayloads } from './large-payload-bucket.js';
import {
  LAMBDA_DEFAULT_BATCH_SIZE,
  LAMBDA_DEFAULT_TIMEOUT_SECONDS,
  RECOMMENDED_VISIBILITY_TIMEOUT_FACTOR,
} from './limits.js';
import { Queue, type QueueLike } from './queue.js';
import { QueuekitChecks } from './queuekit-checks.js';
import { QueuekitFunction, type QueuekitFunctionProps } from './queuekit-function.js';
import { DECLARED_QUEUE_VISIBILITY_METADATA } from './rules/topology.js';

/** Properties of a {@link BatchConsumer}. */
export interface BatchConsumerProps extends QueuekitFunctionProps {
  /** The queue to drain. */
  readonly queue: QueueLike;
  /** Records per invocation: ≤ 10 for FIFO; up to 10,000 for standard, > 10 only with a batching window. @default 10 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking (standard queues only, ≤ 5 minutes). @default - none */
  readonly maxBatchingWindow?: Duration;
  /** Most concurrent invocations this mapping drives (2–1,000). @default - Lambda's scaling, up to account concurrency */
  readonly maxConcurrency?: number;
  /**
   * For a queue defined outside this app: its visibility timeout, which the app cannot see. Synth fails when it is
   * missing or shorter than the function timeout + batching window.
   * @default - required for imported queues, ignored for queues of the app
   */
  readonly importedQueueVisibilityTimeout?: Duration;
  /**
   * Bucket that holds S3-offloaded bodies of this queue's messages (AWS extended client format), which the
   * runtime's consumer fetches: granted s3:GetObject on its objects (and s3:DeleteObject with
   * `deleteLargePayloads`).
   * @default - none
   */
  readonly largePayloadBucket?: s3.IBucket;
  /**
   * The handler deletes offloaded bodies after success (`largePayloads.deleteAfterSuccess` in the runtime).
   * @default false
   */
  readonly deleteLargePayloads?: boolean;
}

/**
 * A Lambda function draining an SQS queue in batches, with partial batch responses always on.
 *
 * For a queue of the app it raises the visibility timeout to 6 × function timeout + batching window
 * (AWS guidance); for an imported queue it checks the declared one.
 *
 * @example
 * new BatchConsumer(this, 'Worker', { queue: jobs, entry: 'lambdas/worker.ts', maxConcurrency: 5 });
 */
export class BatchConsumer extends Construct {
  readonly function: QueuekitFunction;
  readonly eventSource: SqsEventSource;
  readonly queue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: BatchConsumerProps) {
    super(scope, id);
    QueuekitChecks.attach(this);
    this.queue = Queue.isQueue(props.queue) ? props.queue.queue : props.queue;
    this.function = new QueuekitFunction(this, 'Function', {
      ...props,
      description: props.description ?? `Consumes ${this.queue.node.path} (${this.node.path})`,
    });
    const timeout = this.function.timeout?.toSeconds() ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS;
    const window = props.maxBatchingWindow?.toSeconds() ?? 0;
    const recommended = RECOMMENDED_VISIBILITY_TIMEOUT_FACTOR * timeout + window;

    const cfnQueue = this.queue.node.defaultChild;
    const queueOfApp = Queue.isQueue(props.queue) || cfnQueue !== undefined;
    if (Queue.isQueue(props.queue)) {
      props.queue.ensureVisibilityTimeout(Duration.seconds(recommended));
    } else if (!queueOfApp) {
      const declared = props.importedQueueVisibilityTimeout?.toSeconds();
      if (declared === undefined) {
        throw QueuekitPropsError.of(
          this,
          `queue ${this.queue.queueArn} is imported, so its visibility timeout cannot be checked.`,
          `Pass importedQueueVisibilityTimeout with the queue's real visibility timeout (it must be ≥ ${timeout + window}s; ≥ ${recommended}s recommended).`,
        );
      }
      if (declared < timeout + window) {
        throw QueuekitPropsError.of(
          this,
          `imported queue visibility timeout ${declared}s is shorter than function timeout ${timeout}s + batching window ${window}s: Lambda rejects the mapping.`,
          `Raise the queue's visibility timeout to ≥ ${recommended}s, or lower the function timeout.`,
        );
      }
    }

    this.eventSource = new SqsEventSource(this.queue, {
      batchSize: props.batchSize ?? LAMBDA_DEFAULT_BATCH_SIZE,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      reportBatchItemFailures: true,
    });
    this.function.addEventSource(this.eventSource);
    if (props.largePayloadBucket)
      grantLargePayloads(props.largePayloadBucket, this.function, props.deleteLargePayloads ? 'read-delete' : 'read');
    if (!queueOfApp && props.importedQueueVisibilityTimeout) {
      const mapping = this.function.node.children.find((c) => c instanceof lambda.EventSourceMapping);
      (mapping?.node.defaultChild as lambda.CfnEventSourceMapping | undefined)?.addMetadata(
        DECLARED_QUEUE_VISIBILITY_METADATA,
        props.importedQueueVisibilityTimeout.toSeconds(),
      );
    }
  }
}
