/**
 * FIFO order per message group under failures, on Ledger (FIFO, DLQ after 4 receives) → LedgerWriter (batches of
 * up to 5; a failed entry fails every later entry of its group in the batch, AWS's rule for FIFO partial batch
 * responses; logs `ORDER <group> <seq>` for each entry it applies).
 *
 * Group A has a poison entry (seq 3), group B an entry that fails on its first receive only (seq 4), group C none.
 * Checked: the order each group was applied in, as the handler itself logged it (from the invocation logs in the
 * traces); the recorder's own check (`orderViolations`, from SQS sequence numbers); that nothing is lost (every
 * entry applied or dead-lettered, the DLQ read with the real SQS client); and that A's poison holds up only A.
 */
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingMessage } from './fixture-app/handlers/publisher.js';
import {
  allTraces,
  e2eContext,
  eventsOf,
  type FixtureRunner,
  functionName,
  invoke,
  startFixtureRunner,
  uniqueId,
} from './harness.js';

const GROUPS = ['A', 'B', 'C'] as const;
const PER_GROUP = 8;
const POISON = { group: 'A', seq: 3 } as const;
const FAILS_ONCE = { group: 'B', seq: 4 } as const;

describe(`FIFO order under failures (${e2eContext().target})`, () => {
  let f: FixtureRunner;
  const run = uniqueId('ledger');
  /** Published message id → group and seq. */
  const sent = new Map<string, { group: string; seq: number }>();

  beforeAll(async () => {
    f = await startFixtureRunner();
    const messages: OutgoingMessage[] = [];
    // Interleaved, so batches mix groups.
    for (let seq = 1; seq <= PER_GROUP; seq++) {
      for (const group of GROUPS) {
        const fail =
          group === POISON.group && seq === POISON.seq
            ? 'always'
            : group === FAILS_ONCE.group && seq === FAILS_ONCE.seq
              ? 'once'
              : undefined;
        messages.push({
          to: 'ledger',
          body: { seq, ...(fail ? { fail } : {}) },
          groupId: group,
          deduplicationId: `${run}-${group}-${seq}`,
        });
      }
    }
    const out = await invoke<{ results: { messageId: string }[] }>(f.lambda, functionName(f.runner, 'Publisher'), {
      messages,
    });
    expect(out.functionError, JSON.stringify(out.payload)).toBeUndefined();
    out.payload.results.forEach((r, i) => {
      const m = messages[i] as OutgoingMessage;
      sent.set(r.messageId, { group: m.groupId as string, seq: (m.body as { seq: number }).seq });
    });
    expect(sent.size).toBe(GROUPS.length * PER_GROUP);
    expect(await f.runner.drain(30_000), 'every entry applied or dead-lettered within 30 s').toBe(true);
  });
  afterAll(() => f?.stop());

  /** Sequence numbers each group was applied in, from the handler's own log lines, invocation by invocation. */
  function appliedOrder(): Record<string, number[]> {
    const invocations = new Map<string, { at: number; logs: readonly string[] }>();
    for (const trace of allTraces(f.runner)) {
      for (const a of eventsOf(trace, 'attempt')) {
        if (a.function === 'LedgerWriter' && !invocations.has(a.requestId)) invocations.set(a.requestId, a);
      }
    }
    const order: Record<string, number[]> = { A: [], B: [], C: [] };
    // Invocations of one group never overlap (SQS holds a group while it has messages in flight): ordering them by
    // end time orders each group's log lines.
    for (const { logs } of [...invocations.values()].sort((x, y) => x.at - y.at)) {
      for (const line of logs) {
        const m = /^ORDER (\w+) (\d+)$/.exec(line.trim());
        if (m) order[m[1] as string]?.push(Number(m[2]));
      }
    }
    return order;
  }

  function deadLettered(): { group: string; seq: number; at: number }[] {
    return allTraces(f.runner).flatMap((t) =>
      eventsOf(t, 'dead-lettered').map((d) => ({ ...(sent.get(d.messageId) ?? { group: '?', seq: 0 }), at: d.at })),
    );
  }

  it('applies every group in order; the poison and what was behind it in its batches end in the DLQ', () => {
    const order = appliedOrder();
    const all = Array.from({ length: PER_GROUP }, (_, i) => i + 1);
    expect(order.B).toEqual(all);
    expect(order.C).toEqual(all);
    const a = order.A ?? [];
    expect(a, 'group A strictly in order').toEqual([...a].sort((x, y) => x - y));
    expect(new Set(a).size).toBe(a.length);
    expect(a.slice(0, 2)).toEqual([1, 2]);
    const deadA = deadLettered()
      .filter((d) => d.group === 'A')
      .map((d) => d.seq)
      .sort((x, y) => x - y);
    // Entries behind the poison in its batches were failed with it each time: they reach the DLQ with it
    // (a contiguous run from the poison on); the rest of A follows in order.
    expect(deadA[0]).toBe(POISON.seq);
    expect(deadA).toEqual(Array.from({ length: deadA.length }, (_, i) => POISON.seq + i));
    expect([...a, ...deadA].sort((x, y) => x - y)).toEqual(all);
    expect(deadLettered().filter((d) => d.group !== 'A')).toEqual([]);
  });

  it('reports no order violation and nothing lost in the summary', () => {
    const summary = f.runner.recorder.summary();
    expect(summary.orderViolations).toBe(0);
    expect(summary.lost).toBe(0);
    const deadA = deadLettered().length;
    expect(summary.queues.Ledger).toMatchObject({ succeeded: GROUPS.length * PER_GROUP - deadA, deadLettered: deadA });
    // The recorder's order check has something to check: FIFO receives carry their SQS sequence numbers.
    const received = allTraces(f.runner).flatMap((t) => eventsOf(t, 'received').filter((r) => r.queue === 'Ledger'));
    expect(received.length).toBeGreaterThanOrEqual(GROUPS.length * PER_GROUP);
    expect(received.every((r) => r.groupId !== undefined && /^\d+$/.test(r.sequenceNumber ?? ''))).toBe(true);
  });

  it("does not let A's poison hold up the other groups", () => {
    const poisonOut = deadLettered().find((d) => d.group === POISON.group && d.seq === POISON.seq);
    expect(poisonOut).toBeDefined();
    for (const group of ['B', 'C']) {
      const lastDeleted = Math.max(
        ...allTraces(f.runner)
          .filter((t) => sent.get(t.messageId)?.group === group)
          .flatMap((t) => eventsOf(t, 'deleted').map((d) => d.at)),
      );
      expect(lastDeleted, `group ${group} done before A's poison left`).toBeLessThan(poisonOut?.at ?? 0);
    }
  });

  it('leaves the dead-lettered entries in the FIFO DLQ, readable with the real SQS client', async () => {
    const expected = deadLettered().length;
    const received: Message[] = [];
    for (let poll = 0; poll < 10 && received.length < expected; poll++) {
      const { Messages = [] } = await f.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: f.queueUrl('Ledger/DeadLetterQueue'),
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 30,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      received.push(...Messages);
    }
    const seqs = received.map((m) => [
      m.Attributes?.MessageGroupId,
      (JSON.parse(m.Body ?? '{}') as { seq: number }).seq,
    ]);
    expect(seqs).toEqual(
      deadLettered()
        .sort((x, y) => x.seq - y.seq)
        .map((d) => [d.group, d.seq]),
    );
  });
});
