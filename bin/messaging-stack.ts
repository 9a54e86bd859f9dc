import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Queue, QueueEncryption, Topic } from '../lib/constructs/index.js';

/**
 * The stateful half of the reference AI job pipeline: topics, queues, dead-letter queues, keys and alarms.
 * It has no assets, so it deploys to LocalStack as a plain CloudFormation template.
 */
export class MessagingStack extends Stack {
  /** Job events, fanned out by kind and priority. */
  readonly jobsTopic: Topic;
  /** Billing entries, ordered per account. */
  readonly billingTopic: Topic;
  /** The inference work queue (customer-managed KMS key, drained by a concurrency-capped consumer). */
  readonly inferenceQueue: Queue;
  /** High-priority jobs only, selected by a filter on the message body. */
  readonly priorityQueue: Queue;
  /** Every job event, raw delivery. */
  readonly auditQueue: Queue;
  /** Billing ledger, FIFO per account. */
  readonly ledgerQueue: Queue;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.jobsTopic = new Topic(this, 'JobEvents');
    this.billingTopic = new Topic(this, 'BillingEvents', { fifo: true });

    this.inferenceQueue = new Queue(this, 'InferenceJobs', { encryption: QueueEncryption.KMS });
    this.priorityQueue = new Queue(this, 'PriorityJobs');
    this.auditQueue = new Queue(this, 'AuditLog', { retentionPeriod: Duration.days(7) });
    this.ledgerQueue = new Queue(this, 'BillingLedger', { fifo: true, contentBasedDeduplication: true });

    // Fan-out: a filter on attributes (enveloped), a filter on the body (enveloped), raw delivery of everything.
    this.jobsTopic.subscribe(this.inferenceQueue, { filter: { kind: ['image', 'text'] } });
    this.jobsTopic.subscribe(this.priorityQueue, { filter: { priority: ['high'] }, filterScope: 'body' });
    this.jobsTopic.subscribe(this.auditQueue, { raw: true });
    // FIFO topic → FIFO queue: per-account order end to end.
    this.billingTopic.subscribe(this.ledgerQueue, { raw: true });
  }
}
