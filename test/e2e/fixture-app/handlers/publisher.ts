import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { snsClient, sqsClient } from '../../../../lib/runtime/clients.js';

/** Where a message can go: the topic, or one of the queues the Producer construct granted. */
export type Destination = 'events' | 'work' | 'ledger' | 'sleepy' | 'slow';

export interface OutgoingMessage {
  readonly to: Destination;
  /** Sent as is when a string, else as JSON. */
  readonly body: unknown;
  /** String message attributes. */
  readonly attributes?: Record<string, string>;
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

export interface PublisherResult {
  readonly ok: true;
  readonly results: { readonly to: Destination; readonly messageId: string }[];
}

const ADDRESS: Record<Destination, string | undefined> = {
  events: process.env.QUEUEKIT_TOPIC_EVENTS_ARN,
  work: process.env.QUEUEKIT_QUEUE_WORK_URL,
  ledger: process.env.QUEUEKIT_QUEUE_LEDGER_URL,
  sleepy: process.env.QUEUEKIT_QUEUE_SLEEPY_URL,
  slow: process.env.QUEUEKIT_QUEUE_SLOW_URL,
};

/**
 * Sends `{ messages: [...] }`, one at a time in the given order (so a FIFO group keeps it). Anything else is a
 * caller's mistake: it throws, and Lambda reports the error to the caller.
 */
export async function handler(event: unknown): Promise<PublisherResult> {
  const messages = (event as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new TypeError(`Publisher expects { messages: [{ to, body }, ...] }, got ${JSON.stringify(event)}`);
  }
  console.log(`publishing ${messages.length} message(s)`);
  const results: PublisherResult['results'] = [];
  for (const m of messages as OutgoingMessage[]) {
    const address = ADDRESS[m.to];
    if (!address) throw new TypeError(`Publisher cannot send to "${m.to}"`);
    const body = typeof m.body === 'string' ? m.body : JSON.stringify(m.body);
    const attributes = m.attributes
      ? Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]))
      : undefined;
    if (m.to === 'events') {
      const out = await snsClient().send(
        new PublishCommand({ TopicArn: address, Message: body, MessageAttributes: attributes }),
      );
      results.push({ to: m.to, messageId: out.MessageId ?? '' });
    } else {
      const out = await sqsClient().send(
        new SendMessageCommand({
          QueueUrl: address,
          MessageBody: body,
          MessageAttributes: attributes,
          MessageGroupId: m.groupId,
          MessageDeduplicationId: m.deduplicationId,
        }),
      );
      results.push({ to: m.to, messageId: out.MessageId ?? '' });
    }
  }
  console.log(`published ${results.map((r) => `${r.to}:${r.messageId}`).join(' ')}`);
  return { ok: true, results };
}
