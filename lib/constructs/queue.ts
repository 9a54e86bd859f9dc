import { Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QueuekitPropsError } from './errors.js';
import {
  FIFO_SUFFIX,
  RECOMMENDED_MIN_RECEIVE_COUNT,
  SQS_DEFAULT_RETENTION_SECONDS,
  SQS_DEFAULT_VISIBILITY_SECONDS,
  SQS_MAX_RETENTION_SECONDS,
  SQS_MAX_VISIBILITY_SECONDS,
  SQS_MAX_WAIT_SECONDS,
  SQS_QUEUE_NAME_MAX_LENGTH,
} from './limits.js';
import { QueuekitChecks } from './queuekit-checks.js';

/** How a queue is encrypted at rest. */
export enum QueueEncryption {
  /** SSE-SQS: keys owned and managed by SQS, no cost, usable by SNS. */
  SQS_MANAGED = 'sqs-managed',
  /** A customer-managed KMS key (created with rotation unless `encryptionKey` is given), shared with the DLQ. */
  KMS = 'kms',
}

/** Alarms created for a queue. */
export interface QueueAlarmProps {
  /** Alarm when the dead-letter queue holds any message. @default true */
  readonly deadLetterQueueNotEmpty?: boolean;
  /** Alarm when the oldest message is older than this. `Duration.seconds(0)` disables it. @default Duration.minutes(15) */
  readonly oldestMessageAge?: Duration;
  /** What the alarms do when they fire (SNS topic, etc.). @default none */
  readonly actions?: cloudwatch.IAlarmAction[];
}

/** Properties of a {@link Queue}. */
export interface QueueProps {
  /**
   * Physical queue name. For a FIFO queue `.fifo` is appended when missing.
   * @default - a deterministic name derived from the construct path (needed to scope the DLQ's redrive-allow policy)
   */
  readonly queueName?: string;
  /** A FIFO queue: ordered per message group, exactly-once within the deduplication window. @default - true when `queueName` ends in `.fifo`, false otherwise */
  readonly fifo?: boolean;
  /** FIFO only: deduplicate on a SHA-256 of the body instead of an explicit MessageDeduplicationId. @default false */
  readonly contentBasedDeduplication?: boolean;
  /** FIFO only: high-throughput mode (deduplication per message group, throughput limit per message group). @default false */
  readonly highThroughput?: boolean;
  /** Visibility timeout. A {@link BatchConsumer} raises it to ≥ 6 × its timeout + batching window. @default Duration.seconds(30) */
  readonly visibilityTimeout?: Duration;
  /** How long messages are kept. @default Duration.days(4) */
  readonly retentionPeriod?: Duration;
  /** Delay before a new message becomes visible. @default Duration.seconds(0) */
  readonly deliveryDelay?: Duration;
  /** Long-polling wait for ReceiveMessage calls that do not set one. @default Duration.seconds(20) */
  readonly receiveMessageWaitTime?: Duration;
  /** Largest message accepted, in bytes (1,024 – 1,048,576). @default - SQS default (1 MiB) */
  readonly maxMessageSizeBytes?: number;
  /**
   * Dead-letter queue: `undefined` creates one of the same type, encrypted the same way, retaining messages
   * 14 days; pass an existing queue to use it instead, or `false` for none (not recommended: the topology check warns).
   * @default - a new DLQ
   */
  readonly deadLetterQueue?: sqs.IQueue | false;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** Encryption at rest. @default QueueEncryption.SQS_MANAGED, or KMS when `encryptionKey` is given */
  readonly encryption?: QueueEncryption;
  /** The customer-managed key for `QueueEncryption.KMS`. @default - a new key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** CloudWatch alarms; `false` for none. @default - DLQ not empty, oldest message older than 15 minutes */
  readonly alarms?: QueueAlarmProps | false;
  /** What happens to the queues when removed from the stack. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/** A queue, or a queuekit {@link Queue}: what the other constructs accept. */
export type QueueLike = Queue | sqs.IQueue;

/**
 * An SQS queue with secure defaults: a dead-letter queue of the same type (redrive allowed from this queue
 * only), encryption at rest, a TLS-only policy on both queues, long polling and alarms.
 *
 * @example
 * const jobs = new Queue(this, 'Jobs', { visibilityTimeout: Duration.minutes(2) });
 * const ordered = new Queue(this, 'Ledger', { fifo: true, contentBasedDeduplication: true });
 */
export class Queue extends Construct {
  /** Whether `x` is a queuekit Queue. */
  static isQueue(x: unknown): x is Queue {
    return x instanceof Queue;
  }

  /** The underlying SQS queue. */
  readonly queue: sqs.Queue;
  /** The dead-letter queue, created or given. */
  readonly deadLetterQueue?: sqs.IQueue;
  readonly fifo: boolean;
  readonly maxReceiveCount: number;
  /** The KMS key, when encrypted with a customer-managed key. */
  readonly encryptionKey?: kms.IKey;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly cfnQueue: sqs.CfnQueue;

  constructor(scope: Construct, id: string, props: QueueProps = {}) {
    super(scope, id);
    QueuekitChecks.attach(this);

    const fifo = props.fifo ?? props.queueName?.endsWith(FIFO_SUFFIX) === true;
    if (!fifo && props.queueName?.endsWith(FIFO_SUFFIX)) {
      throw QueuekitPropsError.of(
        this,
        `queueName '${props.queueName}' ends in .fifo but fifo is false.`,
        'Set fifo: true or drop the .fifo suffix.',
      );
    }
    if (!fifo && (props.contentBasedDeduplication || props.highThroughput)) {
      throw QueuekitPropsError.of(
        this,
        'contentBasedDeduplication and highThroughput apply to FIFO queues only.',
        'Set fifo: true, or remove those options.',
      );
    }
    const maxReceiveCount = props.maxReceiveCount ?? RECOMMENDED_MIN_RECEIVE_COUNT;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1) {
      throw QueuekitPropsError.of(
        this,
        `maxReceiveCount ${maxReceiveCount} is not a positive integer.`,
        `Use an integer ≥ ${RECOMMENDED_MIN_RECEIVE_COUNT}.`,
      );
    }
    if (props.encryption === QueueEncryption.SQS_MANAGED && props.encryptionKey) {
      throw QueuekitPropsError.of(
        this,
        'encryptionKey was given with QueueEncryption.SQS_MANAGED.',
        'Use QueueEncryption.KMS or drop encryptionKey.',
      );
    }
    this.fifo = fifo;
    this.maxReceiveCount = maxReceiveCount;

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const useKms = props.encryption === QueueEncryption.KMS || props.encryptionKey !== undefined;
    if (useKms) {
      this.encryptionKey =
        props.encryptionKey ??
        new kms.Key(this, 'Key', {
          enableKeyRotation: true,
          description: `Encrypts queue ${this.node.path} and its dead-letter queue`,
          removalPolicy,
        });
    }
    const encryption = useKms
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: this.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };

    const queueName = this.physicalName(props.queueName, fifo, '');
    const retention = props.retentionPeriod ?? Duration.seconds(SQS_DEFAULT_RETENTION_SECONDS);

    let deadLetterQueue: sqs.DeadLetterQueue | undefined;
    if (props.deadLetterQueue !== false) {
      const dlq =
        props.deadLetterQueue ??
        new sqs.Queue(this, 'DeadLetterQueue', {
          queueName: this.physicalName(props.queueName, fifo, '-dlq'),
          fifo: fifo || undefined,
          retentionPeriod: Duration.seconds(SQS_MAX_RETENTION_SECONDS),
          enforceSSL: true,
          removalPolicy,
          ...encryption,
        });
      if (dlq instanceof sqs.Queue && dlq.node.scope === this) {
        // Redrive into this DLQ is allowed from our source queue only. The source ARN is built from its name:
        // a GetAtt would make the two queues depend on each other.
        (dlq.node.defaultChild as sqs.CfnQueue).redriveAllowPolicy = {
          redrivePermission: 'byQueue',
          sourceQueueArns: [Stack.of(this).formatArn({ service: 'sqs', resource: queueName })],
        };
      }
      deadLetterQueue = { queue: dlq, maxReceiveCount };
      this.deadLetterQueue = dlq;
    }

    this.queue = new sqs.Queue(this, 'Queue', {
      queueName,
      fifo: fifo || undefined,
      contentBasedDeduplication: props.contentBasedDeduplication,
      ...(props.highThroughput
        ? {
            deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
            fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
          }
        : {}),
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(SQS_DEFAULT_VISIBILITY_SECONDS),
      retentionPeriod: retention,
      deliveryDelay: props.deliveryDelay,
      receiveMessageWaitTime: props.receiveMessageWaitTime ?? Duration.seconds(SQS_MAX_WAIT_SECONDS),
      maxMessageSizeBytes: props.maxMessageSizeBytes,
      deadLetterQueue,
      enforceSSL: true,
      removalPolicy,
      ...encryption,
    });
    this.cfnQueue = this.queue.node.defaultChild as sqs.CfnQueue;
    this.node.defaultChild = this.queue;

    if (props.alarms !== false) this.createAlarms(props.alarms ?? {});
  }

  get queueArn(): string {
    return this.queue.queueArn;
  }
  get queueUrl(): string {
    return this.queue.queueUrl;
  }
  get queueName(): string {
    return this.queue.queueName;
  }

  /** The visibility timeout in seconds, as it will be synthesized. */
  get visibilityTimeoutSeconds(): number {
    const v = this.cfnQueue.visibilityTimeout;
    return v === undefined ? SQS_DEFAULT_VISIBILITY_SECONDS : Number(v);
  }

  /** Raises the visibility timeout to at least `timeout` (never lowers it); used by consumers. */
  ensureVisibilityTimeout(timeout: Duration): void {
    const seconds = timeout.toSeconds();
    if (seconds > SQS_MAX_VISIBILITY_SECONDS) {
      throw QueuekitPropsError.of(
        this,
        `a consumer needs visibility timeout ${seconds}s, over the SQS maximum ${SQS_MAX_VISIBILITY_SECONDS}s.`,
        "Lower the consumer's timeout or batching window.",
      );
    }
    if (seconds > this.visibilityTimeoutSeconds) this.cfnQueue.visibilityTimeout = seconds;
  }

  private physicalName(given: string | undefined, fifo: boolean, suffix: string): string {
    const base = (given ?? '').replace(/\.fifo$/, '');
    const tail = `${suffix}${fifo ? FIFO_SUFFIX : ''}`;
    if (base && Token.isUnresolved(base)) return `${base}${tail}`;
    if (base && !Token.isUnresolved(base)) {
      if (`${base}${tail}`.length > SQS_QUEUE_NAME_MAX_LENGTH) {
        throw QueuekitPropsError.of(
          this,
          `queue name '${base}${tail}' is ${base.length + tail.length} characters, over the SQS limit of ${SQS_QUEUE_NAME_MAX_LENGTH}.`,
          `Use a name of at most ${SQS_QUEUE_NAME_MAX_LENGTH - tail.length} characters.`,
        );
      }
      return `${base}${tail}`;
    }
    return `${Names.uniqueResourceName(this, { maxLength: SQS_QUEUE_NAME_MAX_LENGTH - tail.length, separator: '-' })}${tail}`;
  }

  private createAlarms(props: QueueAlarmProps): void {
    const actions = props.actions ?? [];
    if (props.deadLetterQueueNotEmpty !== false && this.deadLetterQueue) {
      this.alarms.push(
        this.deadLetterQueue
          .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' })
          .createAlarm(this, 'DeadLetterQueueNotEmptyAlarm', {
            alarmDescription: `Messages failed ${this.maxReceiveCount} times and are waiting in the dead-letter queue of ${this.node.path}.`,
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
    }
    const age = props.oldestMessageAge ?? Duration.minutes(15);
    if (age.toSeconds() > 0) {
      this.alarms.push(
        this.queue
          .metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' })
          .createAlarm(this, 'OldestMessageAgeAlarm', {
            alarmDescription: `The oldest message in ${this.node.path} is older than ${age.toHumanString()}: consumers are behind or failing.`,
            threshold: age.toSeconds(),
            evaluationPeriods: 5,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
    }
    for (const alarm of this.alarms) alarm.addAlarmAction(...actions);
  }
}
