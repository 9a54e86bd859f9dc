/**
 * `persistDir` (`queuekit dev --persist`): the embedded emulator keeps queues, subscriptions and messages in a
 * folder, so a second runner on the same folder sees what the first left. Audit has no consumer: what is sent to
 * it (directly, and through the topic) stays queued across the restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  drainQueue,
  e2eContext,
  type FixtureRunner,
  functionName,
  invoke,
  startFixtureRunner,
  uniqueId,
} from './harness.js';

// Not applicable to LocalStack: persistence is the embedded emulator's (`--persist` works with it only; LocalStack
// keeps its own state, and LocalRunner.start refuses persistDir with any other target). This is the one suite
// that opts out of a target.
describe.skipIf(e2eContext().target !== 'embedded')('persisted embedded state (embedded only)', () => {
  let persistDir = '';
  const runners: FixtureRunner[] = [];
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
  });

  it('keeps queued messages across a restart on the same folder', async () => {
    persistDir = mkdtempSync(join(tmpdir(), 'queuekit-e2e-persist-'));
    const first = await startFixtureRunner({ persistDir });
    runners.push(first);
    const direct = [uniqueId('kept-1'), uniqueId('kept-2'), uniqueId('kept-3')];
    const sentIds: string[] = [];
    for (const body of direct) {
      const out = await first.sqs.send(
        new SendMessageCommand({ QueueUrl: first.queueUrl('Audit'), MessageBody: body }),
      );
      sentIds.push(out.MessageId as string);
    }
    const viaTopic = uniqueId('kept-topic');
    const published = await invoke<{ ok: boolean }>(first.lambda, functionName(first.runner, 'Publisher'), {
      messages: [{ to: 'events', body: viaTopic, attributes: { kind: 'text' } }],
    });
    expect(published.functionError).toBeUndefined();
    await first.stop();

    const second = await startFixtureRunner({ persistDir });
    runners.push(second);
    expect(second.runner.target.description).toContain(`persisted in ${persistDir}`);
    const kept = await drainQueue(second.sqs, second.queueUrl('Audit'), 4);
    expect(kept.map((m) => m.Body).sort()).toEqual([...direct, viaTopic].sort());
    expect(
      kept
        .filter((m) => direct.includes(m.Body ?? ''))
        .map((m) => m.MessageId)
        .sort(),
    ).toEqual(sentIds.sort());

    // The reopened app still works end to end (subscriptions were updated, not duplicated).
    const again = uniqueId('after-restart');
    await invoke(second.lambda, functionName(second.runner, 'Publisher'), {
      messages: [{ to: 'events', body: again, attributes: { kind: 'text' } }],
    });
    expect((await drainQueue(second.sqs, second.queueUrl('Audit'), 1)).map((m) => m.Body)).toEqual([again]);
  });
});
