/**
 * A handler that runs past its function timeout is stopped, its record comes back after the visibility timeout,
 * and the retry succeeds: Sleeper (timeout 2 s) sleeps 4 s on a record's first receive only. Sleepy's visibility
 * timeout is 30 s.
 *
 * Time scale: the runner scales visibility timeouts but not function timeouts (lib/local/event-source-poller.ts
 * keeps the invocation deadline unscaled). At 0.15 Sleepy's visibility timeout is 5 s, longer than the 2 s function
 * timeout (plus a cold start, which does not count against the timeout but does against the visibility timeout),
 * as Lambda requires of every mapping. At 0.02 it becomes 1 s, shorter than the function timeout: the poller
 * extends the visibility of the records it holds (in 1 s steps, up to the unscaled 30 s), so the record still does
 * not come back while its first invocation runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  e2eContext,
  eventsOf,
  type FixtureRunner,
  functionName,
  invoke,
  startFixtureRunner,
  TIME_SCALE,
  uniqueId,
  waitFor,
} from './harness.js';

/** The runner's contract, checked at both time scales: one attempt at a time, timed-out then succeeded. */
async function expectTimeoutThenSuccess(f: FixtureRunner): Promise<void> {
  const published = await invoke<{ results: { messageId: string }[] }>(f.lambda, functionName(f.runner, 'Publisher'), {
    messages: [{ to: 'sleepy', body: { id: uniqueId('sleepy') } }],
  });
  expect(published.functionError).toBeUndefined();
  const messageId = published.payload.results[0]?.messageId as string;
  const trace = await waitFor(
    'both attempts, and the delete of the second',
    () => {
      const t = f.runner.recorder.trace(messageId);
      return eventsOf(t, 'deleted').length > 0 && eventsOf(t, 'attempt').length >= 2 ? t : undefined;
    },
    20_000,
  );
  const attempts = eventsOf(trace, 'attempt');
  expect(
    attempts.map((a) => [a.receiveCount, a.outcome]),
    JSON.stringify(trace.events, null, 1),
  ).toEqual([
    [1, 'timed-out'],
    [2, 'succeeded'],
  ]);
  const [timedOut, succeeded] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];
  expect(timedOut.function).toBe('Sleeper');
  expect(timedOut.recordFailed).toBe(true);
  expect(timedOut.error).toMatch(/Sandbox\.Timedout|timed out/i);
  expect(timedOut.durationMs).toBeGreaterThanOrEqual(1900);
  expect(timedOut.durationMs).toBeLessThan(3500);
  expect(timedOut.logs.join('\n')).toContain('sleeping past the timeout on receive 1');
  expect(timedOut.logs.join('\n')).not.toContain('woke up');
  expect(succeeded.logs.join('\n')).toContain('quick on receive 2');
  // The retry is a second receive that starts only after the first attempt ended: never two at once.
  // (`published` is left out of the order: the runner's gateway records it once the publish response has streamed
  // back, and a fast target (LocalStack) can hand the message to the poller before that.)
  expect(eventsOf(trace, 'published')).toHaveLength(1);
  const types = trace.events
    .filter((e) => e.type !== 'published')
    .map((e) => (e.type === 'attempt' ? `attempt:${e.outcome}` : e.type));
  expect(types).toEqual([
    'received',
    'attempt:timed-out',
    'retry-scheduled',
    'received',
    'attempt:succeeded',
    'deleted',
  ]);
  const summary = f.runner.recorder.summary();
  expect(summary.queues.Sleepy).toMatchObject({ received: 2, succeeded: 1, retried: 1, deadLettered: 0 });
  expect(summary.lost).toBe(0);
}

describe(`a handler that times out (${e2eContext().target})`, () => {
  describe('at time scale 0.15 (visibility timeout 5 s > function timeout 2 s)', () => {
    let f: FixtureRunner;
    beforeAll(async () => {
      f = await startFixtureRunner({ timeScale: 0.15 });
    });
    afterAll(() => f?.stop());

    it('is stopped at its timeout, retried after the visibility timeout, and then succeeds', async () => {
      await expectTimeoutThenSuccess(f);
    });
  });

  describe(`at time scale ${TIME_SCALE} (visibility timeout 1 s < function timeout 2 s)`, () => {
    let f: FixtureRunner;
    beforeAll(async () => {
      f = await startFixtureRunner();
    });
    afterAll(() => f?.stop());

    it('is not redelivered while its first invocation still runs', async () => {
      await expectTimeoutThenSuccess(f);
    });
  });
});
