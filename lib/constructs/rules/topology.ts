import {
  AWS_MANAGED_SQS_KEY_ALIAS,
  FIFO_SUFFIX,
  LAMBDA_DEFAULT_BATCH_SIZE,
  LAMBDA_DEFAULT_TIMEOUT_SECONDS,
  SQS_DEFAULT_RETENTION_SECONDS,
  SQS_DEFAULT_VISIBILITY_SECONDS,
} from '../limits.js';
import type { ResourceRef, StackTemplate, TemplateSet } from './template-set.js';

/**
 * CloudFormation metadata key our BatchConsumer puts on an event source mapping whose queue is imported, so the
 * rules can check a visibility timeout that is not in any template.
 */
export const DECLARED_QUEUE_VISIBILITY_METADATA = 'queuekit:declaredQueueVisibilityTimeoutSeconds';

/** Where a finding points: a resource of a template, or a thing outside the set known only by its ARN. */
export interface Location {
  readonly stackName: string;
  readonly templatePath: string;
  readonly logicalId: string;
  /** The CDK construct path, when the template records it (`aws:cdk:path` metadata). */
  readonly constructPath?: string;
}

/** An IAM policy statement, as written in a template. */
export interface PolicyStatement {
  readonly stack: StackTemplate;
  readonly statement: Record<string, unknown>;
}

export interface QueueNode {
  /** The queue's resource, or undefined when it lives outside the templates (imported by ARN). */
  readonly ref?: ResourceRef;
  /** Logical ID, or the ARN of an imported queue. */
  readonly label: string;
  readonly name?: string;
  /** True/false when known; imported queues are judged by their name's `.fifo` suffix. */
  readonly fifo: boolean | undefined;
  readonly visibilityTimeoutSeconds: number | undefined;
  readonly retentionSeconds: number | undefined;
  /** `KmsMasterKeyId` as written, resolved later by the rules. */
  readonly kmsMasterKeyId?: unknown;
  readonly sqsManagedSse?: boolean;
  readonly redrive?: { readonly deadLetterQueue: QueueNode; readonly maxReceiveCount: number | undefined };
  readonly policyStatements: PolicyStatement[];
}

export interface TopicNode {
  readonly ref?: ResourceRef;
  readonly label: string;
  readonly fifo: boolean | undefined;
  readonly kmsMasterKeyId?: unknown;
  readonly policyStatements: PolicyStatement[];
}

export interface SubscriptionNode {
  /** The subscription resource, or the topic resource for an inline `Subscription` entry. */
  readonly ref: ResourceRef;
  readonly topic: TopicNode;
  readonly queue: QueueNode;
  readonly filterPolicy?: Record<string, unknown>;
  readonly filterPolicyScope: 'MessageAttributes' | 'MessageBody';
  readonly rawMessageDelivery: boolean;
  readonly deadLetterQueue?: QueueNode;
}

export interface FunctionNode {
  readonly ref?: ResourceRef;
  readonly label: string;
  readonly timeoutSeconds: number | undefined;
}

export interface MappingNode {
  readonly ref: ResourceRef;
  readonly queue: QueueNode;
  readonly fn: FunctionNode;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly maximumConcurrency?: number;
  /** Visibility timeout our BatchConsumer declared for an imported queue, if any. */
  readonly declaredQueueVisibilitySeconds?: number;
}

/** The SQS/SNS/Lambda messaging topology of a template set, with references resolved. */
export class Topology {
  readonly queues: QueueNode[] = [];
  readonly topics: TopicNode[] = [];
  readonly subscriptions: SubscriptionNode[] = [];
  readonly mappings: MappingNode[] = [];
  private readonly queueByResource = new Map<string, QueueNode>();
  private readonly externalQueues = new Map<string, QueueNode>();
  private readonly topicByResource = new Map<string, TopicNode>();

  constructor(readonly templates: TemplateSet) {
    for (const ref of templates.resources('AWS::SQS::Queue')) this.queueNode(ref);
    for (const ref of templates.resources('AWS::SNS::Topic')) this.topicNode(ref);
    this.collectPolicies();
    this.collectSubscriptions();
    this.collectMappings();
  }

  /** Where a resource is, for reports. */
  locate(ref: ResourceRef): Location {
    const path = ref.resource.Metadata?.['aws:cdk:path'];
    return {
      stackName: ref.stack.stackName,
      templatePath: ref.stack.templatePath,
      logicalId: ref.logicalId,
      ...(typeof path === 'string' ? { constructPath: path } : {}),
    };
  }

  /** Resolves a `KmsMasterKeyId` to the key resource, the AWS-managed key, or unknown. */
  kmsKey(
    stack: StackTemplate,
    keyId: unknown,
  ): { kind: 'aws-managed' } | { kind: 'customer'; key?: ResourceRef } | { kind: 'none' } {
    if (keyId === undefined) return { kind: 'none' };
    const resolved = this.templates.resolve(stack, keyId);
    if (resolved.kind === 'literal' && typeof resolved.value === 'string') {
      const v = resolved.value;
      if (v === AWS_MANAGED_SQS_KEY_ALIAS || v.endsWith(`:${AWS_MANAGED_SQS_KEY_ALIAS}`))
        return { kind: 'aws-managed' };
      return { kind: 'customer' };
    }
    if (resolved.kind === 'resource') {
      const { resource, stack: keyStack } = resolved.target;
      if (resource.Type === 'AWS::KMS::Key') return { kind: 'customer', key: resolved.target };
      if (resource.Type === 'AWS::KMS::Alias') {
        const alias = this.templates.resolveString(keyStack, resource.Properties?.AliasName);
        if (alias === AWS_MANAGED_SQS_KEY_ALIAS) return { kind: 'aws-managed' };
        const target = this.templates.target(keyStack, resource.Properties?.TargetKeyId);
        return target ? { kind: 'customer', key: target } : { kind: 'customer' };
      }
    }
    return { kind: 'customer' };
  }

  private queueNode(ref: ResourceRef): QueueNode {
    const key = `${ref.stack.templatePath}#${ref.logicalId}`;
    const existing = this.queueByResource.get(key);
    if (existing) return existing;
    const t = this.templates;
    const p = ref.resource.Properties ?? {};
    const name = t.resolveString(ref.stack, p.QueueName);
    const fifoProp = t.resolveBoolean(ref.stack, p.FifoQueue);
    const node: QueueNode = {
      ref,
      label: ref.logicalId,
      ...(name !== undefined ? { name } : {}),
      fifo: fifoProp ?? (p.FifoQueue === undefined ? false : undefined),
      visibilityTimeoutSeconds:
        p.VisibilityTimeout === undefined
          ? SQS_DEFAULT_VISIBILITY_SECONDS
          : t.resolveNumber(ref.stack, p.VisibilityTimeout),
      retentionSeconds:
        p.MessageRetentionPeriod === undefined
          ? SQS_DEFAULT_RETENTION_SECONDS
          : t.resolveNumber(ref.stack, p.MessageRetentionPeriod),
      ...(p.KmsMasterKeyId !== undefined ? { kmsMasterKeyId: p.KmsMasterKeyId } : {}),
      ...(t.resolveBoolean(ref.stack, p.SqsManagedSseEnabled) !== undefined
        ? { sqsManagedSse: t.resolveBoolean(ref.stack, p.SqsManagedSseEnabled) as boolean }
        : {}),
      policyStatements: [],
    };
    this.queueByResource.set(key, node);
    this.queues.push(node);
    const redrive = t.resolveObject(ref.stack, p.RedrivePolicy);
    if (redrive) {
      const dlq = this.queueFrom(ref.stack, redrive.deadLetterTargetArn);
      if (dlq) {
        (node as { redrive?: QueueNode['redrive'] }).redrive = {
          deadLetterQueue: dlq,
          maxReceiveCount: t.resolveNumber(ref.stack, redrive.maxReceiveCount),
        };
      }
    }
    return node;
  }

  /** The queue a value (ARN, URL reference, import) denotes: one of the set, or an imported one known by ARN. */
  queueFrom(stack: StackTemplate, value: unknown): QueueNode | undefined {
    const resolved = this.templates.resolve(stack, value);
    if (resolved.kind === 'resource') {
      return resolved.target.resource.Type === 'AWS::SQS::Queue' ? this.queueNode(resolved.target) : undefined;
    }
    if (resolved.kind === 'literal' && typeof resolved.value === 'string' && resolved.value.startsWith('arn:')) {
      const arn = resolved.value;
      const [, , service, , , name] = arn.split(':');
      if (service !== 'sqs' || !name) return undefined;
      let node = this.externalQueues.get(arn);
      if (!node) {
        node = {
          label: arn,
          name,
          fifo: name.endsWith(FIFO_SUFFIX),
          visibilityTimeoutSeconds: undefined,
          retentionSeconds: undefined,
          policyStatements: [],
        };
        this.externalQueues.set(arn, node);
      }
      return node;
    }
    return undefined;
  }

  private topicNode(ref: ResourceRef): TopicNode {
    const key = `${ref.stack.templatePath}#${ref.logicalId}`;
    const existing = this.topicByResource.get(key);
    if (existing) return existing;
    const p = ref.resource.Properties ?? {};
    const node: TopicNode = {
      ref,
      label: ref.logicalId,
      fifo: this.templates.resolveBoolean(ref.stack, p.FifoTopic) ?? (p.FifoTopic === undefined ? false : undefined),
      ...(p.KmsMasterKeyId !== undefined ? { kmsMasterKeyId: p.KmsMasterKeyId } : {}),
      policyStatements: [],
    };
    this.topicByResource.set(key, node);
    this.topics.push(node);
    return node;
  }

  private topicFrom(stack: StackTemplate, value: unknown): TopicNode | undefined {
    const resolved = this.templates.resolve(stack, value);
    if (resolved.kind === 'resource') {
      return resolved.target.resource.Type === 'AWS::SNS::Topic' ? this.topicNode(resolved.target) : undefined;
    }
    if (resolved.kind === 'literal' && typeof resolved.value === 'string' && resolved.value.startsWith('arn:')) {
      const name = resolved.value.split(':')[5] ?? '';
      return { label: resolved.value, fifo: name.endsWith(FIFO_SUFFIX), policyStatements: [] };
    }
    return undefined;
  }

  private collectPolicies(): void {
    const sources = [
      { find: (s: StackTemplate, v: unknown) => this.queueFrom(s, v), shared: 'AWS::SQS::QueuePolicy', list: 'Queues' },
      { find: (s: StackTemplate, v: unknown) => this.topicFrom(s, v), shared: 'AWS::SNS::TopicPolicy', list: 'Topics' },
    ] as const;
    const inline = [
      { find: sources[0].find, type: 'AWS::SQS::QueueInlinePolicy', target: 'Queue' },
      { find: sources[1].find, type: 'AWS::SNS::TopicInlinePolicy', target: 'TopicArn' },
    ] as const;
    const add = (node: QueueNode | TopicNode | undefined, stack: StackTemplate, document: unknown) => {
      if (!node?.ref) return;
      for (const statement of statementsOf(this.templates.resolveObject(stack, document))) {
        node.policyStatements.push({ stack, statement });
      }
    };
    for (const { find, shared, list } of sources) {
      for (const ref of this.templates.resources(shared)) {
        const targets = ref.resource.Properties?.[list];
        for (const target of Array.isArray(targets) ? targets : []) {
          add(find(ref.stack, target), ref.stack, ref.resource.Properties?.PolicyDocument);
        }
      }
    }
    for (const { find, type, target } of inline) {
      for (const ref of this.templates.resources(type)) {
        add(find(ref.stack, ref.resource.Properties?.[target]), ref.stack, ref.resource.Properties?.PolicyDocument);
      }
    }
  }

  private collectSubscriptions(): void {
    const t = this.templates;
    for (const ref of t.resources('AWS::SNS::Subscription')) {
      const p = ref.resource.Properties ?? {};
      if (t.resolveString(ref.stack, p.Protocol) !== 'sqs') continue;
      const topic = this.topicFrom(ref.stack, p.TopicArn);
      const queue = this.queueFrom(ref.stack, p.Endpoint);
      if (!topic || !queue) continue;
      const redrive = t.resolveObject(ref.stack, p.RedrivePolicy);
      const dlq = redrive ? this.queueFrom(ref.stack, redrive.deadLetterTargetArn) : undefined;
      const filter = t.resolveObject(ref.stack, p.FilterPolicy);
      this.subscriptions.push({
        ref,
        topic,
        queue,
        ...(filter ? { filterPolicy: filter } : {}),
        filterPolicyScope:
          t.resolveString(ref.stack, p.FilterPolicyScope) === 'MessageBody' ? 'MessageBody' : 'MessageAttributes',
        rawMessageDelivery: t.resolveBoolean(ref.stack, p.RawMessageDelivery) === true,
        ...(dlq ? { deadLetterQueue: dlq } : {}),
      });
    }
    for (const ref of t.resources('AWS::SNS::Topic')) {
      const inline = ref.resource.Properties?.Subscription;
      for (const entry of Array.isArray(inline) ? (inline as Record<string, unknown>[]) : []) {
        if (t.resolveString(ref.stack, entry.Protocol) !== 'sqs') continue;
        const queue = this.queueFrom(ref.stack, entry.Endpoint);
        if (!queue) continue;
        this.subscriptions.push({
          ref,
          topic: this.topicNode(ref),
          queue,
          filterPolicyScope: 'MessageAttributes',
          rawMessageDelivery: false,
        });
      }
    }
  }

  private collectMappings(): void {
    const t = this.templates;
    for (const ref of t.resources('AWS::Lambda::EventSourceMapping')) {
      const p = ref.resource.Properties ?? {};
      const fnResolved = t.resolve(ref.stack, p.FunctionName);
      const fnRef =
        fnResolved.kind === 'resource' && fnResolved.target.resource.Type === 'AWS::Lambda::Function'
          ? fnResolved.target
          : undefined;
      const fn: FunctionNode = fnRef
        ? { ref: fnRef, label: fnRef.logicalId, timeoutSeconds: this.functionTimeout(fnRef) }
        : {
            label: String(t.resolveString(ref.stack, p.FunctionName) ?? 'unknown function'),
            timeoutSeconds: undefined,
          };
      const declared = ref.resource.Metadata?.[DECLARED_QUEUE_VISIBILITY_METADATA];
      this.addMapping(ref, p.EventSourceArn, fn, p, typeof declared === 'number' ? declared : undefined);
    }
    // SAM, before its transform: `Events` of type SQS on an AWS::Serverless::Function are mappings.
    for (const ref of t.resources('AWS::Serverless::Function')) {
      const fn: FunctionNode = { ref, label: ref.logicalId, timeoutSeconds: this.functionTimeout(ref) };
      const events = t.resolveObject(ref.stack, ref.resource.Properties?.Events) ?? {};
      for (const event of Object.values(events) as Record<string, unknown>[]) {
        if (t.resolveString(ref.stack, event?.Type) !== 'SQS') continue;
        const p = t.resolveObject(ref.stack, event.Properties) ?? {};
        this.addMapping(ref, p.Queue, fn, p, undefined);
      }
    }
  }

  /** A function's timeout: its own, SAM's `Globals.Function.Timeout`, or Lambda's default. */
  private functionTimeout(fn: ResourceRef): number | undefined {
    const own = fn.resource.Properties?.Timeout;
    const global = fn.resource.Type === 'AWS::Serverless::Function' ? fn.stack.globals?.Function?.Timeout : undefined;
    const timeout = own ?? global;
    return timeout === undefined ? LAMBDA_DEFAULT_TIMEOUT_SECONDS : this.templates.resolveNumber(fn.stack, timeout);
  }

  private addMapping(
    ref: ResourceRef,
    queueValue: unknown,
    fn: FunctionNode,
    p: Record<string, unknown>,
    declaredQueueVisibilitySeconds: number | undefined,
  ): void {
    const t = this.templates;
    const queue = this.queueFrom(ref.stack, queueValue);
    if (!queue) return;
    const responseTypes = p.FunctionResponseTypes;
    const scaling = t.resolveObject(ref.stack, p.ScalingConfig);
    const maximumConcurrency = scaling ? t.resolveNumber(ref.stack, scaling.MaximumConcurrency) : undefined;
    this.mappings.push({
      ref,
      queue,
      fn,
      batchSize: t.resolveNumber(ref.stack, p.BatchSize) ?? LAMBDA_DEFAULT_BATCH_SIZE,
      batchingWindowSeconds: t.resolveNumber(ref.stack, p.MaximumBatchingWindowInSeconds) ?? 0,
      reportBatchItemFailures:
        Array.isArray(responseTypes) &&
        responseTypes.some((r) => t.resolveString(ref.stack, r) === 'ReportBatchItemFailures'),
      ...(maximumConcurrency !== undefined ? { maximumConcurrency } : {}),
      ...(declaredQueueVisibilitySeconds !== undefined ? { declaredQueueVisibilitySeconds } : {}),
    });
  }
}

function statementsOf(document: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const statements = document?.Statement;
  if (Array.isArray(statements))
    return statements.filter((s): s is Record<string, unknown> => !!s && typeof s === 'object');
  return statements && typeof statements === 'object' ? [statements as Record<string, unknown>] : [];
}
