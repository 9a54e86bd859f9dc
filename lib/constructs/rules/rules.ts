import {
  FIFO_SUFFIX,
  LAMBDA_FIFO_MAX_BATCH_SIZE,
  LAMBDA_MAX_BATCHING_WINDOW_SECONDS,
  LAMBDA_MAX_MAX_CONCURRENCY,
  LAMBDA_MIN_MAX_CONCURRENCY,
  LAMBDA_STANDARD_MAX_BATCH_SIZE,
  LAMBDA_UNWINDOWED_MAX_BATCH_SIZE,
  RECOMMENDED_MIN_RECEIVE_COUNT,
  RECOMMENDED_VISIBILITY_TIMEOUT_FACTOR,
  SNS_FILTER_POLICY_MAX_COMBINATIONS,
  SNS_FILTER_POLICY_MAX_KEYS,
  SNS_TOPIC_NAME_MAX_LENGTH,
  SNS_TOPIC_NAME_PATTERN,
  SQS_MAX_DELAY_SECONDS,
  SQS_MAX_MESSAGE_BYTES,
  SQS_MAX_RECEIVE_COUNT,
  SQS_MAX_RETENTION_SECONDS,
  SQS_MAX_VISIBILITY_SECONDS,
  SQS_MAX_WAIT_SECONDS,
  SQS_MIN_MESSAGE_BYTES,
  SQS_MIN_RETENTION_SECONDS,
  SQS_QUEUE_NAME_MAX_LENGTH,
  SQS_QUEUE_NAME_PATTERN,
} from '../limits.js';
import { filterPolicyShape } from './filter-policy.js';
import { enforcesTls, evaluateServiceAccess } from './resource-policy.js';
import type { ResourceRef, StackTemplate } from './template-set.js';
import type { Location, MappingNode, QueueNode, SubscriptionNode, Topology } from './topology.js';

export type Severity = 'error' | 'warning';

/** One problem a rule found. */
export interface RuleFinding {
  /** What is wrong, with the values involved. */
  readonly message: string;
  /** The offending resources, most relevant first. */
  readonly resources: readonly Location[];
  /** A fix specific to this finding; the rule's general fix otherwise. */
  readonly fix?: string;
}

/** A topology rule: data first (id, severity, what it inspects, the fix), then the check. */
export interface TopologyRule {
  /** Stable identifier, also the id to acknowledge it with: `Validations.of(c).acknowledge({ id: 'Queuekit::<id>' })`. */
  readonly id: string;
  readonly severity: Severity;
  /** One line: what the rule inspects and why it matters. */
  readonly description: string;
  /** How to fix a violation, in general terms. */
  readonly fix: string;
  evaluate(topology: Topology): RuleFinding[];
}

const loc = (t: Topology, ...refs: (ResourceRef | undefined)[]): Location[] =>
  refs.filter((r): r is ResourceRef => r !== undefined).map((r) => t.locate(r));

const kind = (fifo: boolean | undefined) => (fifo ? 'FIFO' : 'standard');

function requiredVisibility(m: MappingNode, factor: number): number | undefined {
  return m.fn.timeoutSeconds === undefined ? undefined : factor * m.fn.timeoutSeconds + m.batchingWindowSeconds;
}

function queueVisibility(m: MappingNode): number | undefined {
  return m.queue.ref ? m.queue.visibilityTimeoutSeconds : m.declaredQueueVisibilitySeconds;
}

/** The topic ARN a subscription's deliveries carry as `aws:SourceArn`. */
function topicSource(s: SubscriptionNode): { stack: StackTemplate; value: unknown } {
  return s.topic.ref
    ? { stack: s.topic.ref.stack, value: { Ref: s.topic.ref.logicalId } }
    : { stack: s.ref.stack, value: s.topic.label };
}

function lambdaConsumed(t: Topology, queue: QueueNode): MappingNode[] {
  return t.mappings.filter((m) => m.queue === queue);
}

/**
 * Every topology rule queuekit knows, applied alike by `queuekit check` and by the CDK validation plugin.
 * Errors are mistakes AWS rejects at deploy time or that lose messages silently; warnings go against AWS guidance.
 */
export const TOPOLOGY_RULES: readonly TopologyRule[] = [
  {
    id: 'dlq-type-mismatch',
    severity: 'error',
    description:
      'A FIFO queue needs a FIFO dead-letter queue and a standard queue a standard one; SQS rejects the redrive policy otherwise.',
    fix: 'Give the queue a dead-letter queue of its own type (FIFO names end in .fifo).',
    evaluate: (t) =>
      t.queues.flatMap((q) => {
        const dlq = q.redrive?.deadLetterQueue;
        if (!dlq || q.fifo === undefined || dlq.fifo === undefined || q.fifo === dlq.fifo) return [];
        return [
          {
            message: `${kind(q.fifo)} queue ${q.label} redrives into ${kind(dlq.fifo)} queue ${dlq.label}.`,
            resources: loc(t, q.ref, dlq.ref),
          },
        ];
      }),
  },
  {
    id: 'subscription-dlq-type-mismatch',
    severity: 'error',
    description:
      "An SNS subscription's dead-letter queue must match the topic: FIFO topic → FIFO queue, standard topic → standard queue.",
    fix: "Point the subscription's redrive policy at a queue of the topic's type.",
    evaluate: (t) =>
      t.subscriptions.flatMap((s) => {
        const dlq = s.deadLetterQueue;
        if (!dlq || s.topic.fifo === undefined || dlq.fifo === undefined || s.topic.fifo === dlq.fifo) return [];
        return [
          {
            message: `Subscription of ${kind(s.topic.fifo)} topic ${s.topic.label} has ${kind(dlq.fifo)} dead-letter queue ${dlq.label}.`,
            resources: loc(t, s.ref, dlq.ref),
          },
        ];
      }),
  },
  {
    id: 'visibility-below-function-timeout',
    severity: 'error',
    description:
      'Lambda rejects an SQS mapping whose queue visibility timeout is shorter than the function timeout; with the batching window a message reappears while it is still being processed.',
    fix: `Set the queue's VisibilityTimeout to at least ${RECOMMENDED_VISIBILITY_TIMEOUT_FACTOR} × function timeout + batching window (AWS guidance), or lower the function timeout.`,
    evaluate: (t) =>
      t.mappings.flatMap((m) => {
        const need = requiredVisibility(m, 1);
        const have = queueVisibility(m);
        if (need === undefined || have === undefined || have >= need) return [];
        return [
          {
            message: `Queue ${m.queue.label} has visibility timeout ${have}s but function ${m.fn.label} runs up to ${m.fn.timeoutSeconds}s with a ${m.batchingWindowSeconds}s batching window (needs ≥ ${need}s).`,
            resources: loc(t, m.queue.ref, m.ref, m.fn.ref),
          },
        ];
      }),
  },
  {
    id: 'standard-topic-to-fifo-queue',
    severity: 'error',
    description: 'A standard SNS topic cannot deliver to a FIFO queue; SNS rejects the subscription.',
    fix: 'Subscribe the FIFO queue to a FIFO topic (name ending .fifo), or use a standard queue.',
    evaluate: (t) =>
      t.subscriptions
        .filter((s) => s.topic.fifo === false && s.queue.fifo === true)
        .map((s) => ({
          message: `Standard topic ${s.topic.label} is subscribed by FIFO queue ${s.queue.label}.`,
          resources: loc(t, s.ref, s.topic.ref, s.queue.ref),
        })),
  },
  {
    id: 'sns-into-aws-managed-key',
    severity: 'error',
    description:
      'SNS cannot use the AWS-managed alias/aws/sqs key: deliveries into a queue encrypted with it are dropped silently.',
    fix: 'Encrypt the queue with SQS-managed SSE (SqsManagedSseEnabled) or a customer-managed KMS key whose policy allows sns.amazonaws.com kms:GenerateDataKey* and kms:Decrypt.',
    evaluate: (t) =>
      t.subscriptions
        .filter((s) => s.queue.ref && t.kmsKey(s.queue.ref.stack, s.queue.kmsMasterKeyId).kind === 'aws-managed')
        .map((s) => ({
          message: `Topic ${s.topic.label} delivers into queue ${s.queue.label}, which is encrypted with alias/aws/sqs.`,
          resources: loc(t, s.queue.ref, s.ref),
        })),
  },
  {
    id: 'sns-kms-key-policy',
    severity: 'error',
    description:
      "SNS delivers into a KMS-encrypted queue only when the key's policy lets sns.amazonaws.com use it; otherwise deliveries are dropped silently.",
    fix: 'Add a key policy statement allowing Principal { Service: sns.amazonaws.com } kms:GenerateDataKey* and kms:Decrypt (Topic.subscribe does this for keys in the app).',
    evaluate: (t) =>
      t.subscriptions.flatMap((s) => {
        if (!s.queue.ref) return [];
        const key = t.kmsKey(s.queue.ref.stack, s.queue.kmsMasterKeyId);
        if (key.kind !== 'customer' || !key.key) return [];
        const keyRef = key.key;
        const document = t.templates.resolveObject(keyRef.stack, keyRef.resource.Properties?.KeyPolicy);
        const statements = Array.isArray(document?.Statement) ? (document.Statement as Record<string, unknown>[]) : [];
        const decision = evaluateServiceAccess(
          t.templates,
          statements.map((statement) => ({ stack: keyRef.stack, statement })),
          { service: 'sns.amazonaws.com', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], sourceArn: topicSource(s) },
        );
        if (decision === 'allowed' || decision === 'unknown') return [];
        return [
          {
            message: `Queue ${s.queue.label} is encrypted with key ${keyRef.logicalId}, whose policy does not let sns.amazonaws.com use it: deliveries from topic ${s.topic.label} are dropped.`,
            resources: loc(t, keyRef, s.queue.ref, s.ref),
          },
        ];
      }),
  },
  {
    id: 'sns-queue-policy-missing',
    severity: 'error',
    description:
      "SNS delivers into a queue only if the queue's policy allows the topic sqs:SendMessage; otherwise deliveries are dropped silently.",
    fix: 'Add a queue policy statement allowing Principal { Service: sns.amazonaws.com } sqs:SendMessage with Condition ArnEquals aws:SourceArn = the topic ARN (Topic.subscribe does this).',
    evaluate: (t) =>
      t.subscriptions.flatMap((s) => {
        if (!s.queue.ref) return [];
        const decision = evaluateServiceAccess(t.templates, s.queue.policyStatements, {
          service: 'sns.amazonaws.com',
          actions: ['sqs:SendMessage'],
          resource: { stack: s.queue.ref.stack, value: { 'Fn::GetAtt': [s.queue.ref.logicalId, 'Arn'] } },
          sourceArn: topicSource(s),
        });
        if (decision === 'allowed' || decision === 'unknown') return [];
        return [
          {
            message:
              decision === 'denied'
                ? `Queue ${s.queue.label}'s policy denies topic ${s.topic.label} sqs:SendMessage.`
                : `Queue ${s.queue.label}'s policy does not allow topic ${s.topic.label} to sqs:SendMessage: its deliveries are dropped.`,
            resources: loc(t, s.queue.ref, s.ref),
          },
        ];
      }),
  },
  {
    id: 'fifo-mapping-batch',
    severity: 'error',
    description: `A FIFO queue's Lambda mapping takes at most ${LAMBDA_FIFO_MAX_BATCH_SIZE} records and no batching window.`,
    fix: `Set BatchSize ≤ ${LAMBDA_FIFO_MAX_BATCH_SIZE} and remove MaximumBatchingWindowInSeconds.`,
    evaluate: (t) =>
      t.mappings
        .filter((m) => m.queue.fifo && (m.batchSize > LAMBDA_FIFO_MAX_BATCH_SIZE || m.batchingWindowSeconds > 0))
        .map((m) => ({
          message: `Mapping of FIFO queue ${m.queue.label} has batch size ${m.batchSize} and batching window ${m.batchingWindowSeconds}s.`,
          resources: loc(t, m.ref),
        })),
  },
  {
    id: 'standard-mapping-batch',
    severity: 'error',
    description: `A standard queue's Lambda mapping takes more than ${LAMBDA_UNWINDOWED_MAX_BATCH_SIZE} records only with a batching window ≥ 1 s, and never more than ${LAMBDA_STANDARD_MAX_BATCH_SIZE}; the window is at most ${LAMBDA_MAX_BATCHING_WINDOW_SECONDS} s.`,
    fix: `Set MaximumBatchingWindowInSeconds ≥ 1 (≤ ${LAMBDA_MAX_BATCHING_WINDOW_SECONDS}) with BatchSize > ${LAMBDA_UNWINDOWED_MAX_BATCH_SIZE}, or lower BatchSize.`,
    evaluate: (t) =>
      t.mappings
        .filter(
          (m) =>
            m.queue.fifo === false &&
            ((m.batchSize > LAMBDA_UNWINDOWED_MAX_BATCH_SIZE && m.batchingWindowSeconds < 1) ||
              m.batchSize > LAMBDA_STANDARD_MAX_BATCH_SIZE ||
              m.batchingWindowSeconds > LAMBDA_MAX_BATCHING_WINDOW_SECONDS),
        )
        .map((m) => ({
          message: `Mapping of queue ${m.queue.label} has batch size ${m.batchSize} and batching window ${m.batchingWindowSeconds}s.`,
          resources: loc(t, m.ref),
        })),
  },
  {
    id: 'mapping-max-concurrency-range',
    severity: 'error',
    description: `ScalingConfig.MaximumConcurrency of an SQS mapping is ${LAMBDA_MIN_MAX_CONCURRENCY}–${LAMBDA_MAX_MAX_CONCURRENCY}.`,
    fix: `Set MaximumConcurrency between ${LAMBDA_MIN_MAX_CONCURRENCY} and ${LAMBDA_MAX_MAX_CONCURRENCY}, or remove it.`,
    evaluate: (t) =>
      t.mappings
        .filter(
          (m) =>
            m.maximumConcurrency !== undefined &&
            (m.maximumConcurrency < LAMBDA_MIN_MAX_CONCURRENCY || m.maximumConcurrency > LAMBDA_MAX_MAX_CONCURRENCY),
        )
        .map((m) => ({
          message: `Mapping of ${m.queue.label} has MaximumConcurrency ${m.maximumConcurrency}.`,
          resources: loc(t, m.ref),
        })),
  },
  {
    id: 'queue-name-invalid',
    severity: 'error',
    description: `Queue names are 1–${SQS_QUEUE_NAME_MAX_LENGTH} characters of letters, digits, - and _; FIFO queue names end in ${FIFO_SUFFIX} and only they do.`,
    fix: `Rename the queue: ≤ ${SQS_QUEUE_NAME_MAX_LENGTH} characters of [A-Za-z0-9_-], with ${FIFO_SUFFIX} exactly when FifoQueue is true.`,
    evaluate: (t) =>
      t.queues.flatMap((q) => {
        if (q.name === undefined || !q.ref) return [];
        const problems: string[] = [];
        if (q.name.length > SQS_QUEUE_NAME_MAX_LENGTH) problems.push(`is ${q.name.length} characters`);
        if (!SQS_QUEUE_NAME_PATTERN.test(q.name)) problems.push('has characters other than [A-Za-z0-9_-]');
        if (q.fifo === true && !q.name.endsWith(FIFO_SUFFIX))
          problems.push(`is FIFO but does not end in ${FIFO_SUFFIX}`);
        if (q.fifo === false && q.name.endsWith(FIFO_SUFFIX))
          problems.push(`ends in ${FIFO_SUFFIX} but FifoQueue is not true`);
        return problems.length
          ? [{ message: `Queue name '${q.name}' ${problems.join(', ')}.`, resources: loc(t, q.ref) }]
          : [];
      }),
  },
  {
    id: 'topic-name-invalid',
    severity: 'error',
    description: `Topic names are 1–${SNS_TOPIC_NAME_MAX_LENGTH} characters of letters, digits, - and _; FIFO topic names end in ${FIFO_SUFFIX}.`,
    fix: `Rename the topic: ≤ ${SNS_TOPIC_NAME_MAX_LENGTH} characters of [A-Za-z0-9_-], with ${FIFO_SUFFIX} exactly when FifoTopic is true.`,
    evaluate: (t) =>
      t.topics.flatMap((topic) => {
        if (!topic.ref) return [];
        const name = t.templates.resolveString(topic.ref.stack, topic.ref.resource.Properties?.TopicName);
        if (name === undefined) return [];
        const ok =
          name.length <= SNS_TOPIC_NAME_MAX_LENGTH &&
          SNS_TOPIC_NAME_PATTERN.test(name) &&
          (topic.fifo === undefined || topic.fifo === name.endsWith(FIFO_SUFFIX));
        return ok
          ? []
          : [
              {
                message: `Topic name '${name}' is not valid for a ${kind(topic.fifo)} topic.`,
                resources: loc(t, topic.ref),
              },
            ];
      }),
  },
  {
    id: 'queue-attribute-range',
    severity: 'error',
    description:
      'Queue attributes must be inside the SQS limits (message size, delay, retention, visibility, wait time, maxReceiveCount).',
    fix: 'Bring the attribute inside the limit named in the message.',
    evaluate: (t) =>
      t.queues.flatMap((q) => {
        const ref = q.ref;
        if (!ref) return [];
        const p = ref.resource.Properties ?? {};
        const num = (v: unknown) => t.templates.resolveNumber(ref.stack, v);
        const checks: [string, number | undefined, number, number][] = [
          ['MaximumMessageSize', num(p.MaximumMessageSize), SQS_MIN_MESSAGE_BYTES, SQS_MAX_MESSAGE_BYTES],
          ['DelaySeconds', num(p.DelaySeconds), 0, SQS_MAX_DELAY_SECONDS],
          [
            'MessageRetentionPeriod',
            num(p.MessageRetentionPeriod),
            SQS_MIN_RETENTION_SECONDS,
            SQS_MAX_RETENTION_SECONDS,
          ],
          ['VisibilityTimeout', num(p.VisibilityTimeout), 0, SQS_MAX_VISIBILITY_SECONDS],
          ['ReceiveMessageWaitTimeSeconds', num(p.ReceiveMessageWaitTimeSeconds), 0, SQS_MAX_WAIT_SECONDS],
          ['RedrivePolicy.maxReceiveCount', q.redrive?.maxReceiveCount, 1, SQS_MAX_RECEIVE_COUNT],
        ];
        return checks
          .filter(([, v, min, max]) => v !== undefined && (v < min || v > max))
          .map(([name, v, min, max]) => ({
            message: `Queue ${q.label} has ${name} ${v}, outside ${min}–${max}.`,
            resources: loc(t, q.ref),
            fix: `Set ${name} between ${min} and ${max}.`,
          }));
      }),
  },
  {
    id: 'fifo-high-throughput-config',
    severity: 'error',
    description:
      'FIFO high-throughput mode needs DeduplicationScope messageGroup with FifoThroughputLimit perMessageGroupId; FIFO attributes on a standard queue are rejected.',
    fix: 'Set both DeduplicationScope=messageGroup and FifoThroughputLimit=perMessageGroupId (or neither), and FIFO attributes only on FIFO queues.',
    evaluate: (t) =>
      t.queues.flatMap((q) => {
        if (!q.ref) return [];
        const p = q.ref.resource.Properties ?? {};
        const scope = t.templates.resolveString(q.ref.stack, p.DeduplicationScope);
        const limit = t.templates.resolveString(q.ref.stack, p.FifoThroughputLimit);
        const cbd = t.templates.resolveBoolean(q.ref.stack, p.ContentBasedDeduplication);
        if (q.fifo === false && (scope !== undefined || limit !== undefined || cbd === true)) {
          return [{ message: `Standard queue ${q.label} sets FIFO-only attributes.`, resources: loc(t, q.ref) }];
        }
        if (limit === 'perMessageGroupId' && scope === 'queue') {
          return [
            {
              message: `FIFO queue ${q.label} has FifoThroughputLimit perMessageGroupId with DeduplicationScope queue.`,
              resources: loc(t, q.ref),
            },
          ];
        }
        return [];
      }),
  },
  {
    id: 'filter-policy-limits',
    severity: 'error',
    description: `An SNS filter policy has at most ${SNS_FILTER_POLICY_MAX_KEYS} keys and ${SNS_FILTER_POLICY_MAX_COMBINATIONS} value combinations.`,
    fix: 'Split the subscription or move the filtering into the consumer.',
    evaluate: (t) =>
      t.subscriptions.flatMap((s) => {
        if (!s.filterPolicy) return [];
        const { keys, combinations } = filterPolicyShape(s.filterPolicy);
        if (keys <= SNS_FILTER_POLICY_MAX_KEYS && combinations <= SNS_FILTER_POLICY_MAX_COMBINATIONS) return [];
        return [
          {
            message: `Filter policy of subscription ${s.ref.logicalId} has ${keys} keys and ${combinations} combinations.`,
            resources: loc(t, s.ref),
          },
        ];
      }),
  },
  // ---- warnings: AWS guidance ----
  {
    id: 'visibility-below-recommended',
    severity: 'warning',
    description: `AWS recommends a queue visibility timeout of at least ${RECOMMENDED_VISIBILITY_TIMEOUT_FACTOR} × function timeout + batching window, so retries after throttling do not redeliver messages still in flight.`,
    fix: `Raise the queue's VisibilityTimeout to ${RECOMMENDED_VISIBILITY_TIMEOUT_FACTOR} × function timeout + batching window (BatchConsumer does this for queues of the app).`,
    evaluate: (t) =>
      t.mappings.flatMap((m) => {
        const min = requiredVisibility(m, 1);
        const need = requiredVisibility(m, RECOMMENDED_VISIBILITY_TIMEOUT_FACTOR);
        const have = queueVisibility(m);
        if (need === undefined || min === undefined || have === undefined || have >= need || have < min) return [];
        return [
          {
            message: `Queue ${m.queue.label} has visibility timeout ${have}s; recommended ≥ ${need}s for function ${m.fn.label} (${m.fn.timeoutSeconds}s timeout, ${m.batchingWindowSeconds}s window).`,
            resources: loc(t, m.queue.ref, m.ref),
          },
        ];
      }),
  },
  {
    id: 'consumed-queue-without-dlq',
    severity: 'warning',
    description:
      'A queue consumed by Lambda without a dead-letter queue retries a poison message until retention expires, then loses it.',
    fix: 'Give the queue a RedrivePolicy to a dead-letter queue (queuekit Queue creates one by default).',
    evaluate: (t) =>
      [...new Set(t.mappings.map((m) => m.queue))]
        .filter((q) => q.ref && !q.redrive)
        .map((q) => ({
          message: `Queue ${q.label} is consumed by Lambda and has no dead-letter queue.`,
          resources: loc(t, q.ref, ...lambdaConsumed(t, q).map((m) => m.ref)),
        })),
  },
  {
    id: 'max-receive-count-low',
    severity: 'warning',
    description: `Throttled Lambda receives count toward maxReceiveCount: below ${RECOMMENDED_MIN_RECEIVE_COUNT}, healthy messages can land in the DLQ.`,
    fix: `Set maxReceiveCount ≥ ${RECOMMENDED_MIN_RECEIVE_COUNT}.`,
    evaluate: (t) =>
      [...new Set(t.mappings.map((m) => m.queue))]
        .filter(
          (q) => q.redrive?.maxReceiveCount !== undefined && q.redrive.maxReceiveCount < RECOMMENDED_MIN_RECEIVE_COUNT,
        )
        .map((q) => ({
          message: `Queue ${q.label} has maxReceiveCount ${q.redrive?.maxReceiveCount} with a Lambda consumer.`,
          resources: loc(t, q.ref),
        })),
  },
  {
    id: 'dlq-retention-not-longer',
    severity: 'warning',
    description:
      "A standard queue's messages keep their original enqueue time in the DLQ: a DLQ retention not longer than the source's expires them early.",
    fix: "Set the DLQ MessageRetentionPeriod longer than the source queue's (14 days is the maximum).",
    evaluate: (t) =>
      t.queues.flatMap((q) => {
        const dlq = q.redrive?.deadLetterQueue;
        if (!dlq || q.fifo !== false || q.retentionSeconds === undefined || dlq.retentionSeconds === undefined)
          return [];
        if (dlq.retentionSeconds > q.retentionSeconds) return [];
        return [
          {
            message: `DLQ ${dlq.label} keeps messages ${dlq.retentionSeconds}s, not longer than source ${q.label} (${q.retentionSeconds}s).`,
            resources: loc(t, dlq.ref, q.ref),
          },
        ];
      }),
  },
  {
    id: 'mapping-without-partial-batch-response',
    severity: 'warning',
    description:
      'Without ReportBatchItemFailures one failed record makes Lambda retry the whole batch, reprocessing successes.',
    fix: "Add FunctionResponseTypes: ['ReportBatchItemFailures'] and return batchItemFailures from the handler.",
    evaluate: (t) =>
      t.mappings
        .filter((m) => !m.reportBatchItemFailures)
        .map((m) => ({
          message: `Mapping of queue ${m.queue.label} to ${m.fn.label} does not report batch item failures.`,
          resources: loc(t, m.ref),
        })),
  },
  {
    id: 'queue-not-encrypted',
    severity: 'warning',
    description: 'A queue should be encrypted at rest explicitly: SqsManagedSseEnabled or a KMS key.',
    fix: 'Set SqsManagedSseEnabled: true or KmsMasterKeyId.',
    evaluate: (t) =>
      t.queues
        .filter((q) => q.ref && q.kmsMasterKeyId === undefined && q.sqsManagedSse !== true)
        .map((q) => ({
          message:
            q.sqsManagedSse === false
              ? `Queue ${q.label} turns encryption at rest off (SqsManagedSseEnabled false, no KMS key).`
              : `Queue ${q.label} does not set encryption at rest (SqsManagedSseEnabled or KmsMasterKeyId).`,
          resources: loc(t, q.ref),
        })),
  },
  {
    id: 'topic-not-encrypted',
    severity: 'warning',
    description: 'An SNS topic should be encrypted at rest with a KMS key.',
    fix: 'Set KmsMasterKeyId (a customer-managed key lets subscribers decrypt; queuekit Topic creates one).',
    evaluate: (t) =>
      t.topics
        .filter((topic) => topic.ref && topic.kmsMasterKeyId === undefined)
        .map((topic) => ({ message: `Topic ${topic.label} is not encrypted.`, resources: loc(t, topic.ref) })),
  },
  {
    id: 'queue-without-tls-policy',
    severity: 'warning',
    description: 'A queue policy should deny every request made without TLS (aws:SecureTransport = false).',
    fix: 'Add a Deny statement for Principal * on sqs:* with Condition Bool aws:SecureTransport false (enforceSSL in CDK).',
    evaluate: (t) =>
      t.queues
        .filter((q) => q.ref && !enforcesTls(t.templates, q.policyStatements, 'sqs:SendMessage'))
        .map((q) => ({ message: `Queue ${q.label} does not enforce TLS.`, resources: loc(t, q.ref) })),
  },
  {
    id: 'topic-without-tls-policy',
    severity: 'warning',
    description: 'A topic policy should deny every request made without TLS (aws:SecureTransport = false).',
    fix: 'Add a Deny statement for Principal * on sns:Publish with Condition Bool aws:SecureTransport false (enforceSSL in CDK).',
    evaluate: (t) =>
      t.topics
        .filter((topic) => topic.ref && !enforcesTls(t.templates, topic.policyStatements, 'sns:Publish'))
        .map((topic) => ({ message: `Topic ${topic.label} does not enforce TLS.`, resources: loc(t, topic.ref) })),
  },
  {
    id: 'subscription-without-dlq',
    severity: 'warning',
    description:
      'An SNS subscription without a dead-letter queue loses messages SNS cannot deliver (deleted queue, policy or key change).',
    fix: "Give the subscription a RedrivePolicy to a queue of the topic's type (queuekit Topic.subscribe does by default).",
    evaluate: (t) =>
      t.subscriptions
        .filter((s) => !s.deadLetterQueue)
        .map((s) => ({
          message: `Subscription of ${s.queue.label} to ${s.topic.label} has no dead-letter queue.`,
          resources: loc(t, s.ref),
        })),
  },
];
