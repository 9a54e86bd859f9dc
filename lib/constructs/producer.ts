import { CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QueuekitPropsError } from './errors.js';
import { grantLargePayloads, LARGE_PAYLOAD_BUCKET_ENV } from './large-payload-bucket.js';
import { Queue, type QueueLike } from './queue.js';
import { QueuekitChecks } from './queuekit-checks.js';
import { QueuekitFunction, type QueuekitFunctionProps } from './queuekit-function.js';
import { Topic } from './topic.js';

/** A topic, or a queuekit {@link Topic}. */
export type TopicLike = Topic | sns.ITopic;

/** Properties of a {@link Producer}. */
export interface ProducerProps extends QueuekitFunctionProps {
  /**
   * Queues it may send to, by a short name. Each becomes `QUEUEKIT_QUEUE_<NAME>_URL` in its environment.
   * @default none
   */
  readonly queues?: Record<string, QueueLike>;
  /** Topics it may publish to, by a short name. Each becomes `QUEUEKIT_TOPIC_<NAME>_ARN`. @default none */
  readonly topics?: Record<string, TopicLike>;
  /** Principals allowed to invoke it through the Lambda Invoke API (roles, services, accounts). @default none */
  readonly invokers?: iam.IGrantable[];
  /**
   * Bucket for message bodies over the SQS/SNS size limit: granted s3:PutObject on its objects and named in
   * `QUEUEKIT_LARGE_PAYLOAD_BUCKET`, which the runtime's `MessageProducer` reads. Consumers of these messages need
   * the same bucket (`BatchConsumer`'s `largePayloadBucket`).
   * @default - none: messages over the limit fail with an error that names this option
   */
  readonly largePayloadBucket?: s3.IBucket;
  /** Emit CloudFormation outputs with the function's name and ARN, for the services that invoke it. @default true */
  readonly outputs?: boolean;
}

/** The environment variable that carries a target's address to the function. */
export function producerEnvironmentName(kind: 'queue' | 'topic', name: string): string {
  const key = name
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase();
  return kind === 'queue' ? `QUEUEKIT_QUEUE_${key}_URL` : `QUEUEKIT_TOPIC_${key}_ARN`;
}

/**
 * A Lambda function that sends to queues and publishes to topics, and that other services invoke. It is granted
 * sqs:SendMessage / sns:Publish on its targets only (plus their keys), and finds them in its environment.
 *
 * @example
 * const submit = new Producer(this, 'SubmitJob', { entry: 'lambdas/submit.ts', topics: { jobs: jobsTopic } });
 * submit.grantInvoke(new iam.ArnPrincipal(gatewayRoleArn));
 */
export class Producer extends Construct {
  readonly function: QueuekitFunction;
  readonly functionNameOutput?: CfnOutput;
  readonly functionArnOutput?: CfnOutput;

  constructor(scope: Construct, id: string, props: ProducerProps) {
    super(scope, id);
    QueuekitChecks.attach(this);
    const queues = Object.entries(props.queues ?? {});
    const topics = Object.entries(props.topics ?? {});
    if (queues.length + topics.length === 0) {
      throw QueuekitPropsError.of(
        this,
        'a producer needs at least one queue or topic.',
        'Pass queues: { name: queue } or topics: { name: topic }.',
      );
    }
    const environment: Record<string, string> = {};
    for (const [name, target] of queues) {
      environment[producerEnvironmentName('queue', name)] = (Queue.isQueue(target) ? target.queue : target).queueUrl;
    }
    for (const [name, target] of topics) {
      environment[producerEnvironmentName('topic', name)] = (target instanceof Topic ? target.topic : target).topicArn;
    }
    if (props.largePayloadBucket) environment[LARGE_PAYLOAD_BUCKET_ENV] = props.largePayloadBucket.bucketName;
    this.function = new QueuekitFunction(this, 'Function', {
      ...props,
      description: props.description ?? `Producer ${this.node.path}`,
      environment: { ...environment, ...props.environment },
    });
    if (props.largePayloadBucket) grantLargePayloads(props.largePayloadBucket, this.function, 'put');
    for (const [, target] of queues) grantSend(Queue.isQueue(target) ? target.queue : target, this.function);
    for (const [, target] of topics) {
      const topic = target instanceof Topic ? target.topic : target;
      topic.grantPublish(this.function);
      if (topic.masterKey && this.function.role) {
        Validations.of(this.function.role).acknowledge({
          id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason:
            "Publishing to an encrypted topic needs data keys from the topic's own key (CDK's grantPublish); the grant is scoped to that key.",
        });
      }
    }
    for (const invoker of props.invokers ?? []) this.grantInvoke(invoker);

    if (props.outputs !== false) {
      this.functionNameOutput = new CfnOutput(this, 'FunctionName', {
        value: this.function.functionName,
        description: `Name of ${this.node.path}, for lambda:Invoke`,
      });
      this.functionArnOutput = new CfnOutput(this, 'FunctionArn', {
        value: this.function.functionArn,
        description: `ARN of ${this.node.path}, for lambda:Invoke`,
      });
    }
  }

  /** Lets a principal call this producer through the Lambda Invoke API. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    const grant = this.function.grantInvoke(grantee);
    const policy = grant.principalStatements.length > 0 && Construct.isConstruct(grantee) ? grantee : undefined;
    if (policy) {
      const fnId = Stack.of(this.function).getLogicalId(this.function.node.defaultChild as CfnElementLike);
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
        reason:
          'lambda:InvokeFunction on this producer and its qualified ARNs (versions, aliases) only, as CDK grantInvoke writes it.',
      });
    }
    return grant;
  }
}

type CfnElementLike = Parameters<Stack['getLogicalId']>[0];

function grantSend(queue: sqs.IQueue, grantee: iam.IGrantable): void {
  queue.grant(grantee, 'sqs:SendMessage');
  queue.encryptionMasterKey?.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
}
