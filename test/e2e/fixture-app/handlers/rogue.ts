import { PublishCommand } from '@aws-sdk/client-sns';
import { snsClient } from '../../../../lib/runtime/clients.js';

/** Publishes `{ body }` to the Events topic, which its role was never granted: the error propagates to the caller. */
export async function handler(event: { body?: string } | null): Promise<{ ok: true; messageId: string }> {
  const out = await snsClient().send(
    new PublishCommand({ TopicArn: process.env.QUEUEKIT_TOPIC_EVENTS_ARN, Message: event?.body ?? 'from Rogue' }),
  );
  return { ok: true, messageId: out.MessageId ?? '' };
}
