/**
 * Resources and bounded receiving for integration tests, through the real SDK against whatever server the
 * clients point at (fauxqs or LocalStack). Resources are created exactly as against AWS, including the queue
 * policy that lets a topic deliver to a queue. Polling is always bounded (a fixed number of 1 s long polls), so a
 * missing message fails a test in seconds instead of hanging it.
 *
 * @module
 */
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { expect } from 'vitest';

export interface TestQueue {
  readonly url: string;
  readonly arn: string;
}

/** One long poll per ReceiveMessage call, in seconds. */
export const WAIT_SECONDS = 1;

export function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`missing ${what}`);
  return value;
}

/** Test resources on one server. */
export class EmulatorResources {
  constructor(
    readonly sqs: SQSClient,
    readonly sns: SNSClient,
  ) {}

  async createQueue(name: string, attributes: Record<string, string> = {}): Promise<TestQueue> {
    const { QueueUrl } = await this.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const url = must(QueueUrl, `QueueUrl of ${name}`);
    const { Attributes } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    return { url, arn: must(Attributes?.QueueArn, `QueueArn of ${name}`) };
  }

  /** A queue with a dead-letter queue of the same type (`<name>-dlq`), redriving after `maxReceiveCount`. */
  async createQueueWithDlq(
    name: string,
    maxReceiveCount: number,
    attributes: Record<string, string> = {},
  ): Promise<{ queue: TestQueue; dlq: TestQueue }> {
    const fifo = name.endsWith('.fifo');
    const dlq = await this.createQueue(
      fifo ? `${name.slice(0, -5)}-dlq.fifo` : `${name}-dlq`,
      fifo ? { FifoQueue: 'true' } : {},
    );
    const queue = await this.createQueue(name, {
      ...attributes,
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
    });
    return { queue, dlq };
  }

  async createTopic(name: string, attributes: Record<string, string> = {}): Promise<string> {
    const { TopicArn } = await this.sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
    return must(TopicArn, `TopicArn of ${name}`);
  }

  /**
   * Subscribes `queue` to `topicArn` as AWS requires: first a queue policy that lets this topic (and only it) send
   * to the queue, then the subscription. Each queue subscribes to a single topic, so the policy is simply replaced.
   */
  async subscribeQueue(topicArn: string, queue: TestQueue, attributes: Record<string, string> = {}): Promise<string> {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowTopic',
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queue.arn,
          Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
        },
      ],
    };
    await this.sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: { Policy: JSON.stringify(policy) } }),
    );
    const { SubscriptionArn } = await this.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queue.arn,
        Attributes: attributes,
        ReturnSubscriptionArn: true,
      }),
    );
    return must(SubscriptionArn, 'SubscriptionArn');
  }

  /** One ReceiveMessage call: up to 10 messages with every system and message attribute, long-polling 1 s. */
  async receiveOnce(queue: TestQueue, maxMessages = 10, visibilityTimeout?: number): Promise<Message[]> {
    const { Messages } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: WAIT_SECONDS,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        ...(visibilityTimeout !== undefined ? { VisibilityTimeout: visibilityTimeout } : {}),
      }),
    );
    return Messages ?? [];
  }

  async deleteAll(queue: TestQueue, messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return;
    const { Failed } = await this.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: must(m.ReceiptHandle, 'ReceiptHandle') })),
      }),
    );
    expect(Failed ?? []).toEqual([]);
  }

  /**
   * Receives, deleting each batch (a FIFO group stays locked while a message of it is in flight), until `count`
   * messages have arrived; at most `attempts` calls. Returns what arrived, in arrival order; fails when short.
   */
  async receiveExactly(queue: TestQueue, count: number, attempts = 10): Promise<Message[]> {
    const received: Message[] = [];
    for (let attempt = 0; attempt < attempts && received.length < count; attempt++) {
      const batch = await this.receiveOnce(queue);
      received.push(...batch);
      await this.deleteAll(queue, batch);
    }
    expect(received, `messages received from ${queue.arn} within ${attempts} polls`).toHaveLength(count);
    return received;
  }

  /** Asserts that nothing (more) arrives on `queue` during one 1 s long poll. */
  async expectNoMessage(queue: TestQueue): Promise<void> {
    const extra = await this.receiveOnce(queue);
    expect(
      extra.map((m) => m.Body),
      `unexpected messages on ${queue.arn}`,
    ).toEqual([]);
  }
}
