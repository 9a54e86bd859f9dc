/**
 * Fan-out through the real Lambda API: Publisher, invoked with the real LambdaClient, publishes to the Events
 * topic; each message must reach exactly the queues whose subscription filters select it (read back with the
 * real SQS client), and the trace must say why it did not reach the others.
 *
 * Subscriptions: Images (attribute filter `kind: image`), Urgent (body filter `priority: high`), Audit (raw, all).
 */
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drainQueue,
  e2eContext,
  eventsOf,
  type FixtureRunner,
  functionName,
  invoke,
  startFixtureRunner,
  uniqueId,
  waitFor,
} from './harness.js';

interface Event {
  readonly id: string;
  readonly priority: 'high' | 'normal';
}

/** What arrived in a queue: the event ids, unwrapping SNS envelopes. */
function idsOf(messages: Message[]): { ids: string[]; enveloped: boolean[] } {
  const ids: string[] = [];
  const enveloped: boolean[] = [];
  for (const m of messages) {
    const body = JSON.parse(m.Body ?? '{}') as { Type?: string; Message?: string } & Partial<Event>;
    const isEnvelope = body.Type === 'Notification';
    enveloped.push(isEnvelope);
    ids.push(isEnvelope ? (JSON.parse(body.Message ?? '{}') as Event).id : (body.id ?? '?'));
  }
  return { ids: ids.sort(), enveloped };
}

describe(`fan-out through the Lambda API (${e2eContext().target})`, () => {
  let f: FixtureRunner;
  const ids = {
    imageHigh: uniqueId('image-high'),
    textNormal: uniqueId('text-normal'),
    imageNormal: uniqueId('image'),
  };
  let messageIds: string[] = [];

  beforeAll(async () => {
    f = await startFixtureRunner();
    const out = await invoke<{ ok: boolean; results: { to: string; messageId: string }[] }>(
      f.lambda,
      functionName(f.runner, 'Publisher'),
      {
        messages: [
          { to: 'events', body: { id: ids.imageHigh, priority: 'high' }, attributes: { kind: 'image' } },
          { to: 'events', body: { id: ids.textNormal, priority: 'normal' }, attributes: { kind: 'text' } },
          { to: 'events', body: { id: ids.imageNormal, priority: 'normal' }, attributes: { kind: 'image' } },
        ],
      },
      { InvocationType: 'RequestResponse' },
    );
    expect(out.statusCode).toBe(200);
    expect(out.functionError, JSON.stringify(out.payload)).toBeUndefined();
    expect(out.payload.ok).toBe(true);
    messageIds = out.payload.results.map((r) => r.messageId);
    expect(messageIds).toHaveLength(3);
  });
  afterAll(() => f?.stop());

  it('delivers each message to exactly the queues its filters select', async () => {
    const [images, urgent, audit] = await Promise.all([
      drainQueue(f.sqs, f.queueUrl('Images'), 2),
      drainQueue(f.sqs, f.queueUrl('Urgent'), 1),
      drainQueue(f.sqs, f.queueUrl('Audit'), 3),
    ]);
    expect(idsOf(images).ids).toEqual([ids.imageHigh, ids.imageNormal].sort());
    expect(idsOf(urgent).ids).toEqual([ids.imageHigh]);
    expect(idsOf(audit).ids).toEqual([ids.imageHigh, ids.textNormal, ids.imageNormal].sort());
    // Enveloped where the subscription is not raw, the body as published where it is.
    expect(idsOf(images).enveloped).toEqual([true, true]);
    expect(idsOf(urgent).enveloped).toEqual([true]);
    expect(idsOf(audit).enveloped).toEqual([false, false, false]);
  });

  it('traces a filtered message as routed with delivered:false and the policy in the reason', async () => {
    const textId = messageIds[1] as string;
    const trace = await waitFor('the routes of the text message', () => {
      const t = f.runner.recorder.trace(textId);
      return eventsOf(t, 'routed').length === 3 ? t : undefined;
    });
    const published = eventsOf(trace, 'published');
    expect(published).toEqual([expect.objectContaining({ target: 'Events', targetKind: 'topic', by: 'Publisher' })]);
    const routes = Object.fromEntries(eventsOf(trace, 'routed').map((r) => [r.queue, r]));
    expect(routes.Audit).toMatchObject({ delivered: true });
    expect(routes.Audit?.reason).toBeUndefined();
    expect(routes.Images).toMatchObject({ delivered: false });
    expect(routes.Images?.reason).toBe('filter policy {"kind":["image"]} on the message attributes did not match');
    expect(routes.Urgent).toMatchObject({ delivered: false });
    expect(routes.Urgent?.reason).toBe('filter policy {"priority":["high"]} on the message body did not match');

    const high = f.runner.recorder.trace(messageIds[0] as string);
    expect(eventsOf(high, 'routed').map((r) => [r.queue, r.delivered])).toEqual(
      expect.arrayContaining([
        ['Images', true],
        ['Urgent', true],
        ['Audit', true],
      ]),
    );
  });

  it('counts deliveries and filtered messages per subscription', () => {
    const { topics, subscriptions, published } = f.runner.recorder.snapshot();
    expect(published).toBe(3);
    expect(topics.Events).toEqual({ published: 3 });
    expect(subscriptions['Events → Images']).toEqual({ delivered: 2, filtered: 1 });
    expect(subscriptions['Events → Urgent']).toEqual({ delivered: 1, filtered: 2 });
    expect(subscriptions['Events → Audit']).toEqual({ delivered: 3, filtered: 0 });
    // Nobody consumes the three queues: what reached them is stored, not lost.
    expect(f.runner.recorder.summary().lost).toBe(0);
  });
});
