/**
 * Creates the app's queues, topics, subscriptions and buckets on a target, through the real SDK, as the
 * {@link ProvisionHooks} the model loader calls in dependency order. Re-running on the same target (a persisted
 * embedded emulator, a long-lived LocalStack) updates what exists instead of failing.
 *
 * @module
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueUrlCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from '../runtime/clients.js';
import { SQS_MAX_DELAY_SECONDS } from '../runtime/limits.js';
import type { LocalQueue, LocalSubscription, LocalTopic } from './app-model.js';
import type { ProvisionHooks } from './app-model-loader.js';
import { ProvisionError } from './errors.js';

/**
 * Queue attributes as provisioned under a time scale: visibility timeout and delivery delay shrink by `timeScale`
 * (whole seconds, as SQS takes them; a visibility timeout stays ≥ 1 s so a failed batch is not redelivered while
 * its deletes are under way). Retention, sizes and long-poll wait are left alone.
 */
export function scaledQueueAttributes(attributes: Readonly<Record<string, string>>, timeScale: number) {
  const scaled: Record<string, string> = { ...attributes };
  if (attributes.VisibilityTimeout !== undefined) {
    scaled.VisibilityTimeout = String(Math.max(1, Math.ceil(Number(attributes.VisibilityTimeout) * timeScale)));
  }
  if (attributes.DelaySeconds !== undefined) {
    scaled.DelaySeconds = String(
      Math.min(SQS_MAX_DELAY_SECONDS, Math.round(Number(attributes.DelaySeconds) * timeScale)),
    );
  }
  return scaled;
}

export interface ProvisionerOptions {
  readonly endpoint: string;
  readonly region: string;
  /** @default 1 */
  readonly timeScale?: number;
  /**
   * Write queue URLs as `<endpoint>/<account>/<name>` instead of what the target returns: for the embedded emulator,
   * whose stored URLs keep the port of the run that created them. @default false
   */
  readonly queueUrlsFromEndpoint?: boolean;
}

/** The provisioner and the clients it holds; `destroy()` closes them. */
export interface Provisioner extends ProvisionHooks {
  destroy(): void;
}

function fail(what: string, error: unknown, fix: string): never {
  const e = error as { name?: string; message?: string };
  throw new ProvisionError(`${what}: ${e.name ?? 'Error'}: ${e.message}. ${fix}`);
}

export function createProvisioner(options: ProvisionerOptions): Provisioner {
  const base = { endpoint: options.endpoint, env: {}, region: options.region };
  const sqs = new SQSClient(clientConfig(base, 'sqs'));
  const sns = new SNSClient(clientConfig(base, 'sns'));
  const s3 = new S3Client(clientConfig(base, 's3'));
  const timeScale = options.timeScale ?? 1;
  const urlOf = (queue: LocalQueue, returned: string) =>
    options.queueUrlsFromEndpoint ? `${options.endpoint}/${queue.arn.split(':')[4]}/${queue.name}` : returned;

  return {
    async queue(queue: LocalQueue) {
      const attributes = scaledQueueAttributes(queue.attributes, timeScale);
      try {
        const created = await sqs.send(new CreateQueueCommand({ QueueName: queue.name, Attributes: attributes }));
        return urlOf(queue, created.QueueUrl as string);
      } catch (error) {
        const name = (error as { name?: string }).name ?? '';
        if (!/QueueAlreadyExists|QueueNameExists/.test(name)) {
          fail(
            `${queue.path}: cannot create queue ${queue.name}`,
            error,
            'Fix: check the queue properties in the CDK app.',
          );
        }
        // It exists with other attributes (an earlier run, another time scale): bring them up to date.
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }));
        const { FifoQueue: _immutable, ...mutable } = attributes;
        await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: mutable }));
        return urlOf(queue, QueueUrl as string);
      }
    },
    async topic(topic: LocalTopic) {
      try {
        await sns.send(new CreateTopicCommand({ Name: topic.name, Attributes: { ...topic.attributes } }));
      } catch (error) {
        fail(
          `${topic.path}: cannot create topic ${topic.name}`,
          error,
          'Fix: check the topic properties in the CDK app.',
        );
      }
    },
    async subscription(subscription: LocalSubscription) {
      const attributes: Record<string, string> = {
        RawMessageDelivery: String(subscription.rawMessageDelivery),
      };
      if (subscription.filterPolicy) {
        attributes.FilterPolicy = JSON.stringify(subscription.filterPolicy);
        attributes.FilterPolicyScope = subscription.filterPolicyScope;
      }
      if (subscription.redriveDeadLetterArn) {
        attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: subscription.redriveDeadLetterArn });
      }
      try {
        const existing = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: subscription.topicArn }));
        const found = existing.Subscriptions?.find((s) => s.Protocol === 'sqs' && s.Endpoint === subscription.queueArn);
        if (found?.SubscriptionArn) {
          for (const [AttributeName, AttributeValue] of Object.entries(attributes)) {
            await sns.send(
              new SetSubscriptionAttributesCommand({
                SubscriptionArn: found.SubscriptionArn,
                AttributeName,
                AttributeValue,
              }),
            );
          }
          return found.SubscriptionArn;
        }
        const created = await sns.send(
          new SubscribeCommand({
            TopicArn: subscription.topicArn,
            Protocol: 'sqs',
            Endpoint: subscription.queueArn,
            Attributes: attributes,
            ReturnSubscriptionArn: true,
          }),
        );
        return created.SubscriptionArn as string;
      } catch (error) {
        fail(
          `${subscription.path}: cannot subscribe ${subscription.queueArn} to ${subscription.topicArn}`,
          error,
          'Fix: check the filter policy and that the topic and queue types match (a standard topic cannot feed a FIFO queue).',
        );
      }
    },
    async bucket(name: string) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        const code = (error as { name?: string }).name ?? '';
        if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(code)) {
          fail(`cannot create bucket ${name}`, error, 'Fix: check the bucket name in the CDK app.');
        }
      }
    },
    destroy() {
      sqs.destroy();
      sns.destroy();
      s3.destroy();
    },
  };
}
