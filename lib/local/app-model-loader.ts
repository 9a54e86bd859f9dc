/**
 * Builds the {@link AppModel} from a cloud assembly: walks every stack in deployment order and every resource in
 * dependency order, resolves its intrinsics against the values of what came before, and hands each queue, topic,
 * subscription and bucket to the provisioner as soon as it is resolved, so a queue exists before the queue whose
 * redrive policy names it, and a topic before its subscriptions.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AppModel,
  LocalEventSourceMapping,
  LocalFunction,
  LocalQueue,
  LocalSubscription,
  LocalTopic,
  PolicyDocument,
  UnemulatedResources,
} from './app-model.js';
import { awsManagedPolicy } from './aws-managed-policies.js';
import { type AssemblyStack, type CloudAssembly, resourceOrder, type TemplateResource } from './cloud-assembly.js';
import { AssemblyError } from './errors.js';
import { type ResolveContext, resolveIntrinsics } from './intrinsics.js';
import {
  DEFAULT_BATCH_SIZE,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  MAX_FUNCTION_NAME_LENGTH,
  MAX_QUEUE_NAME_LENGTH,
  MAX_TOPIC_NAME_LENGTH,
} from './limits.js';

/** What the loader asks of the target while it walks the assembly. Without hooks, nothing is created. */
export interface ProvisionHooks {
  /** Creates the queue; returns its URL. */
  queue(queue: LocalQueue): Promise<string>;
  topic(topic: LocalTopic): Promise<void>;
  /** Creates the subscription; returns its ARN. */
  subscription(subscription: LocalSubscription): Promise<string>;
  bucket(name: string): Promise<void>;
}

export interface LoadOptions {
  /** @default LOCAL_REGION */
  readonly region?: string;
  /** @default LOCAL_ACCOUNT_ID */
  readonly accountId?: string;
  /** @default - model only, nothing provisioned; queue URLs are placeholders */
  readonly hooks?: ProvisionHooks;
}

/** Resource types the runner reads without emulating them as services. */
const READ_FOR_PERMISSIONS = new Set(['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']);
const IGNORED = new Set(['AWS::CDK::Metadata']);

interface Physical {
  readonly ref: unknown;
  readonly attributes: Readonly<Record<string, unknown>>;
}

interface RoleEntry {
  readonly name: string;
  readonly arn: string;
  readonly policies: PolicyDocument[];
  readonly managedPolicyArns: string[];
}

/** A short stable physical name like CloudFormation's `<stack>-<logicalId>-<suffix>`, within `max` characters. */
function physicalName(stackName: string, logicalId: string, max: number, suffix = ''): string {
  const base = `${stackName}-${logicalId}`;
  if (base.length + suffix.length <= max) return base + suffix;
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 8);
  return `${base.slice(0, max - suffix.length - 9)}-${hash}${suffix}`;
}

function constructPath(resource: TemplateResource, logicalId: string): string {
  const path = resource.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path.replace(/\/Resource$/, '') : logicalId;
}

/** Display names: the path without its stack and a trailing default-child segment, made unique per kind. */
function displayNames(entries: readonly { key: string; path: string; stackIds: string[]; kind: string }[]) {
  const trimmed = entries.map((e) => {
    // The path starts with the stack's construct id, which is not its deployed name when the app sets `stackName`.
    const prefix = e.stackIds.find((id) => e.path.startsWith(`${id}/`));
    let name = prefix ? e.path.slice(prefix.length + 1) : e.path;
    const trimmedChild = name.replace(/\/(Queue|Topic|Function)$/, '');
    if (trimmedChild.length > 0) name = trimmedChild;
    return { ...e, name };
  });
  const result = new Map<string, string>();
  for (const e of trimmed) {
    const clash = trimmed.some((o) => o !== e && o.kind === e.kind && o.name === e.name);
    result.set(e.key, clash ? e.path : e.name);
  }
  return result;
}

function asSeconds(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

function jsonAttribute(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function definedEntries(record: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

function functionNameOf(value: unknown): string {
  const text = String(value);
  const match = /:function:([^:]+)/.exec(text);
  return match ? (match[1] as string) : text;
}

/** Loads the model of the app in `assembly`, provisioning through `options.hooks` as it goes. */
export async function loadAppModel(assembly: CloudAssembly, options: LoadOptions = {}): Promise<AppModel> {
  const region = options.region ?? LOCAL_REGION;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const hooks = options.hooks;
  const exports = new Map<string, unknown>();
  const queues: LocalQueue[] = [];
  const topics: LocalTopic[] = [];
  const subscriptions: LocalSubscription[] = [];
  const functions: (LocalFunction & { roleArn?: string })[] = [];
  const mappings: LocalEventSourceMapping[] = [];
  const roles = new Map<string, RoleEntry>();
  const managedPolicies = new Map<string, PolicyDocument>();
  const unemulated = new Map<string, string[]>();
  const noteUnemulated = (type: string, path: string) => {
    const paths = unemulated.get(type) ?? [];
    paths.push(path);
    unemulated.set(type, paths);
  };

  const names = displayNames(
    assembly.stacks.flatMap((stack) =>
      Object.entries(stack.template.Resources ?? {})
        .filter(([, r]) => ['AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::Lambda::Function'].includes(r.Type))
        .map(([id, r]) => ({
          key: `${stack.stackName}/${id}`,
          path: constructPath(r, id),
          stackIds: [stack.id, stack.stackName],
          kind: r.Type,
        })),
    ),
  );

  for (const stack of assembly.stacks) {
    await loadStack(stack);
  }

  async function loadStack(stack: AssemblyStack) {
    const template = stack.template;
    const resources = template.Resources ?? {};
    const physical = new Map<string, Physical>();
    const parameters: Record<string, unknown> = {};
    for (const [name, p] of Object.entries(template.Parameters ?? {})) parameters[name] = p.Default;
    const context: ResolveContext = {
      region,
      accountId,
      partition: 'aws',
      stackName: stack.stackName,
      parameters,
      mappings: template.Mappings,
      conditions: template.Conditions,
      ref: (id) => physical.get(id)?.ref,
      getAtt: (id, attribute) => {
        const p = physical.get(id);
        if (!p) return undefined;
        return p.attributes[attribute] ?? `${String(p.ref)}.${attribute}`;
      },
      importValue: (name) => exports.get(name),
    };
    const conditionHolds = (name: string | undefined) =>
      name === undefined || resolveIntrinsics({ 'Fn::If': [name, true, false] }, context, stack.stackName) === true;

    for (const logicalId of resourceOrder(template)) {
      const resource = resources[logicalId] as TemplateResource;
      const path = constructPath(resource, logicalId);
      if (!conditionHolds(resource.Condition)) continue;
      const props = (resolveIntrinsics(resource.Properties ?? {}, context, path) ?? {}) as Record<string, unknown>;
      const displayName = names.get(`${stack.stackName}/${logicalId}`) ?? path;
      const base = { logicalId, stackName: stack.stackName, path, displayName };
      physical.set(logicalId, await materialize(resource, props, base, stack));
    }
    for (const [name, output] of Object.entries(template.Outputs ?? {})) {
      if (!output.Export) continue;
      const exportName = resolveIntrinsics(output.Export.Name, context, `${stack.stackName}.Outputs.${name}`);
      exports.set(String(exportName), resolveIntrinsics(output.Value, context, `${stack.stackName}.Outputs.${name}`));
    }
  }

  async function materialize(
    resource: TemplateResource,
    props: Record<string, unknown>,
    base: { logicalId: string; stackName: string; path: string; displayName: string },
    stack: AssemblyStack,
  ): Promise<Physical> {
    const { logicalId, stackName, path } = base;
    switch (resource.Type) {
      case 'AWS::SQS::Queue': {
        const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
        const name =
          (props.QueueName as string | undefined) ??
          physicalName(stackName, logicalId, MAX_QUEUE_NAME_LENGTH, fifo ? '.fifo' : '');
        const arn = `arn:aws:sqs:${region}:${accountId}:${name}`;
        const redrive = props.RedrivePolicy as { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined;
        const attributes = definedEntries({
          FifoQueue: fifo ? 'true' : undefined,
          ContentBasedDeduplication: asSeconds(props.ContentBasedDeduplication),
          DeduplicationScope: props.DeduplicationScope as string | undefined,
          FifoThroughputLimit: props.FifoThroughputLimit as string | undefined,
          DelaySeconds: asSeconds(props.DelaySeconds),
          MaximumMessageSize: asSeconds(props.MaximumMessageSize),
          MessageRetentionPeriod: asSeconds(props.MessageRetentionPeriod),
          ReceiveMessageWaitTimeSeconds: asSeconds(props.ReceiveMessageWaitTimeSeconds),
          VisibilityTimeout: asSeconds(props.VisibilityTimeout),
          RedrivePolicy: jsonAttribute(props.RedrivePolicy),
          RedriveAllowPolicy: jsonAttribute(props.RedriveAllowPolicy),
        });
        const queue: LocalQueue = {
          ...base,
          name,
          arn,
          url: `http://localhost/${accountId}/${name}`,
          fifo,
          attributes,
          deadLetter: redrive?.deadLetterTargetArn
            ? { arn: redrive.deadLetterTargetArn, maxReceiveCount: Number(redrive.maxReceiveCount ?? 10) }
            : undefined,
          deadLetterFor: [],
        };
        if (queue.deadLetter) queues.find((q) => q.arn === queue.deadLetter?.arn)?.deadLetterFor.push(arn);
        if (hooks) queue.url = await hooks.queue(queue);
        queues.push(queue);
        return { ref: queue.url, attributes: { Arn: arn, QueueName: name, QueueUrl: queue.url } };
      }
      case 'AWS::SNS::Topic': {
        const fifo = props.FifoTopic === true || props.FifoTopic === 'true';
        const name =
          (props.TopicName as string | undefined) ??
          physicalName(stackName, logicalId, MAX_TOPIC_NAME_LENGTH, fifo ? '.fifo' : '');
        const arn = `arn:aws:sns:${region}:${accountId}:${name}`;
        const topic: LocalTopic = {
          ...base,
          name,
          arn,
          fifo,
          attributes: definedEntries({
            FifoTopic: fifo ? 'true' : undefined,
            ContentBasedDeduplication: asSeconds(props.ContentBasedDeduplication),
            DisplayName: props.DisplayName as string | undefined,
            FifoThroughputScope: props.FifoThroughputScope as string | undefined,
          }),
        };
        await hooks?.topic(topic);
        topics.push(topic);
        return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
      }
      case 'AWS::SNS::Subscription': {
        const protocol = String(props.Protocol);
        const endpoint = String(props.Endpoint);
        if (protocol !== 'sqs') {
          noteUnemulated(`AWS::SNS::Subscription (protocol ${protocol})`, path);
          return { ref: `${String(props.TopicArn)}:${logicalId}`, attributes: {} };
        }
        const topic = topics.find((t) => t.arn === props.TopicArn);
        const queue = queues.find((q) => q.arn === endpoint);
        const filterPolicy =
          typeof props.FilterPolicy === 'string' ? JSON.parse(props.FilterPolicy) : props.FilterPolicy;
        const redrive = props.RedrivePolicy as { deadLetterTargetArn?: string } | undefined;
        const subscription: LocalSubscription = {
          ...base,
          displayName: `${topic?.displayName ?? String(props.TopicArn)} → ${queue?.displayName ?? endpoint}`,
          topicArn: String(props.TopicArn),
          queueArn: endpoint,
          rawMessageDelivery: props.RawMessageDelivery === true || props.RawMessageDelivery === 'true',
          filterPolicy: filterPolicy as Record<string, unknown> | undefined,
          filterPolicyScope: props.FilterPolicyScope === 'MessageBody' ? 'MessageBody' : 'MessageAttributes',
          redriveDeadLetterArn: redrive?.deadLetterTargetArn,
        };
        if (hooks) subscription.arn = await hooks.subscription(subscription);
        subscriptions.push(subscription);
        return { ref: subscription.arn ?? `${subscription.topicArn}:${logicalId}`, attributes: {} };
      }
      case 'AWS::S3::Bucket': {
        const name =
          (props.BucketName as string | undefined) ??
          physicalName(stackName.toLowerCase(), logicalId.toLowerCase(), 63).replace(/[^a-z0-9.-]/g, '-');
        await hooks?.bucket(name);
        return {
          ref: name,
          attributes: {
            Arn: `arn:aws:s3:::${name}`,
            DomainName: `${name}.s3.amazonaws.com`,
            RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
          },
        };
      }
      case 'AWS::Lambda::Function': {
        const name =
          (props.FunctionName as string | undefined) ?? physicalName(stackName, logicalId, MAX_FUNCTION_NAME_LENGTH);
        const arn = `arn:aws:lambda:${region}:${accountId}:function:${name}`;
        const runtime = String(props.Runtime ?? '');
        const assetPath = resource.Metadata?.['aws:asset:path'];
        const codeDir = typeof assetPath === 'string' ? join(assembly.directory, assetPath) : undefined;
        if (!runtime.startsWith('nodejs') || codeDir === undefined || !existsSync(codeDir)) {
          noteUnemulated(
            `AWS::Lambda::Function (${!runtime.startsWith('nodejs') ? `runtime ${runtime || 'image'}` : 'code not in the assembly'})`,
            path,
          );
        } else {
          const env = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
            {}) as Record<string, unknown>;
          functions.push({
            ...base,
            name,
            arn,
            handler: String(props.Handler ?? 'index.handler'),
            codeDir,
            runtime,
            timeoutSeconds: Number(props.Timeout ?? 3),
            memoryMb: Number(props.MemorySize ?? 128),
            environment: Object.fromEntries(
              Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
            ),
            roleArn: props.Role as string | undefined,
            reservedConcurrency:
              props.ReservedConcurrentExecutions === undefined ? undefined : Number(props.ReservedConcurrentExecutions),
          });
        }
        return { ref: name, attributes: { Arn: arn } };
      }
      case 'AWS::Lambda::EventSourceMapping': {
        const source = String(props.EventSourceArn ?? '');
        if (!source.startsWith('arn:aws:sqs:')) {
          noteUnemulated('AWS::Lambda::EventSourceMapping (not SQS)', path);
        } else {
          const functionName = functionNameOf(props.FunctionName);
          const queue = queues.find((q) => q.arn === source);
          const fn = functions.find((f) => f.name === functionName);
          const scaling = props.ScalingConfig as { MaximumConcurrency?: number } | undefined;
          if (props.FilterCriteria !== undefined) noteUnemulated('EventSourceMapping FilterCriteria', path);
          mappings.push({
            ...base,
            displayName: `${queue?.displayName ?? source} → ${fn?.displayName ?? functionName}`,
            functionName,
            queueArn: source,
            batchSize: Number(props.BatchSize ?? DEFAULT_BATCH_SIZE),
            maxBatchingWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
            reportBatchItemFailures: [props.FunctionResponseTypes ?? []].flat().includes('ReportBatchItemFailures'),
            maxConcurrency: scaling?.MaximumConcurrency,
            enabled: props.Enabled !== false && props.Enabled !== 'false',
          });
        }
        return { ref: `${logicalId}-local`, attributes: {} };
      }
      case 'AWS::IAM::Role': {
        const name = (props.RoleName as string | undefined) ?? physicalName(stackName, logicalId, 64);
        const arn = `arn:aws:iam::${accountId}:role/${name}`;
        const inline = (props.Policies as { PolicyDocument: PolicyDocument }[] | undefined) ?? [];
        roles.set(name, {
          name,
          arn,
          policies: inline.map((p) => p.PolicyDocument),
          managedPolicyArns: (props.ManagedPolicyArns as string[] | undefined) ?? [],
        });
        return { ref: name, attributes: { Arn: arn, RoleId: `AROA${logicalId.toUpperCase().slice(0, 17)}` } };
      }
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        const document = props.PolicyDocument as PolicyDocument;
        for (const roleName of (props.Roles as string[] | undefined) ?? [])
          roles.get(roleName)?.policies.push(document);
        const name = (props.PolicyName ?? props.ManagedPolicyName ?? physicalName(stackName, logicalId, 128)) as string;
        const arn = `arn:aws:iam::${accountId}:policy/${name}`;
        if (resource.Type === 'AWS::IAM::ManagedPolicy') managedPolicies.set(arn, document);
        return { ref: resource.Type === 'AWS::IAM::ManagedPolicy' ? arn : name, attributes: { PolicyArn: arn } };
      }
      default: {
        if (!IGNORED.has(resource.Type) && !READ_FOR_PERMISSIONS.has(resource.Type))
          noteUnemulated(resource.Type, path);
        return placeholder(resource.Type, logicalId, stack.stackName);
      }
    }
  }

  function placeholder(type: string, logicalId: string, stackName: string): Physical {
    const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
    const id = `${stackName}-${logicalId}`;
    const arn =
      service === 'logs'
        ? `arn:aws:logs:${region}:${accountId}:log-group:${id}:*`
        : service === 'kms'
          ? `arn:aws:kms:${region}:${accountId}:key/${id}`
          : `arn:aws:${service}:${region}:${accountId}:${id}`;
    return { ref: id, attributes: { Arn: arn } };
  }

  const unknownManaged = new Set<string>();
  const finishedFunctions: LocalFunction[] = functions.map(({ roleArn, ...fn }) => {
    const role = [...roles.values()].find((r) => r.arn === roleArn);
    if (!role) return fn;
    const managed = role.managedPolicyArns.flatMap((arn) => {
      const doc = managedPolicies.get(arn) ?? awsManagedPolicy(arn);
      if (!doc) unknownManaged.add(arn);
      return doc ? [doc] : [];
    });
    return { ...fn, role: { arn: role.arn, name: role.name, policies: [...role.policies, ...managed] } };
  });
  for (const arn of unknownManaged) noteUnemulated('IAM managed policy (grants nothing locally)', arn);
  for (const mapping of mappings) {
    if (!finishedFunctions.some((f) => f.name === mapping.functionName)) {
      throw new AssemblyError(
        `${mapping.path}: event source mapping invokes ${mapping.functionName}, which is not a Node.js function of this assembly. Fix: map it to a function of the app.`,
      );
    }
  }

  return {
    region,
    accountId,
    stacks: assembly.stacks.map((s) => s.stackName),
    queues,
    topics,
    subscriptions,
    functions: finishedFunctions,
    mappings,
    unemulated: [...unemulated].map(([type, paths]): UnemulatedResources => ({ type, paths })),
  };
}
