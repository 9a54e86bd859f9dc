import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { BatchConsumer, Producer } from '../lib/constructs/index.js';
import type { MessagingStack } from './messaging-stack.js';

const handler = (name: string) => new URL(`../lambdas/${name}.ts`, import.meta.url).pathname;

export interface ComputeStackProps extends StackProps {
  readonly messaging: MessagingStack;
}

/** The stateless half of the reference pipeline: the producer other services invoke, and one consumer per queue. */
export class ComputeStack extends Stack {
  readonly submitJob: Producer;
  readonly clientRole: iam.Role;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, props);
    const m = props.messaging;

    // Other services submit work by invoking this function (lambda:Invoke); this role stands for them.
    this.clientRole = new iam.Role(this, 'JobClientRole', {
      assumedBy: new iam.AccountPrincipal(this.account),
      description: 'Assumed by services that submit inference jobs through lambda:Invoke',
    });
    this.submitJob = new Producer(this, 'SubmitJob', {
      entry: handler('submit-job'),
      topics: { jobs: m.jobsTopic, billing: m.billingTopic },
      invokers: [this.clientRole],
      timeout: Duration.seconds(10),
    });

    // Work queue with many workers, capped so the model backend is not overrun.
    new BatchConsumer(this, 'InferenceWorker', {
      queue: m.inferenceQueue,
      entry: handler('inference-worker'),
      timeout: Duration.minutes(2),
      memorySize: 1024,
      batchSize: 5,
      maxConcurrency: 5,
    });
    new BatchConsumer(this, 'PriorityNotifier', { queue: m.priorityQueue, entry: handler('priority-notifier') });
    // Large batches gathered over a window: > 10 records per invocation needs one.
    new BatchConsumer(this, 'AuditWriter', {
      queue: m.auditQueue,
      entry: handler('audit-writer'),
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(5),
    });
    // FIFO: groups (accounts) in parallel, records within a group in order.
    new BatchConsumer(this, 'LedgerWriter', { queue: m.ledgerQueue, entry: handler('ledger-writer'), batchSize: 10 });
  }
}
