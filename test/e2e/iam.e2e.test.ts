/**
 * Local IAM: Rogue publishes to the Events topic like Publisher does, but its role was never granted sns:Publish.
 * Locally it must fail as in AWS, with SNS's AuthorizationError naming the action and the topic; with the checks
 * off (`iam: false`, `queuekit dev --no-iam`) the same call goes through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drainQueue,
  e2eContext,
  type FixtureRunner,
  functionName,
  invoke,
  startFixtureRunner,
  uniqueId,
} from './harness.js';

interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
}

describe(`IAM checks on function calls (${e2eContext().target})`, () => {
  describe('on (default)', () => {
    let f: FixtureRunner;
    beforeAll(async () => {
      f = await startFixtureRunner();
    });
    afterAll(() => f?.stop());

    it('denies sns:Publish to a function without the grant, naming the action and the topic', async () => {
      const topicArn = f.topicArn('Events');
      const out = await invoke<LambdaError>(f.lambda, functionName(f.runner, 'Rogue'), { body: uniqueId('rogue') });
      expect(out.functionError).toBe('Unhandled');
      expect(out.payload.errorType).toMatch(/^AuthorizationError(Exception)?$/);
      expect(out.payload.errorMessage).toContain('sns:Publish');
      expect(out.payload.errorMessage).toContain(topicArn);
      expect(out.payload.errorMessage).toMatch(
        /^User: arn:aws:sts::000000000000:assumed-role\/[^/]+\/[^ ]+ is not authorized to perform: sns:Publish on resource: arn:aws:sns:us-east-1:000000000000:/,
      );
      // Nothing was published.
      expect(f.runner.recorder.snapshot().topics.Events).toEqual({ published: 0 });
    });

    it('lets the granted producer publish to the same topic', async () => {
      const out = await invoke<{ ok: boolean }>(f.lambda, functionName(f.runner, 'Publisher'), {
        messages: [{ to: 'events', body: { id: uniqueId('granted') }, attributes: { kind: 'text' } }],
      });
      expect(out.functionError, JSON.stringify(out.payload)).toBeUndefined();
      expect(f.runner.recorder.snapshot().topics.Events).toEqual({ published: 1 });
    });
  });

  describe('off (iam: false)', () => {
    let f: FixtureRunner;
    beforeAll(async () => {
      f = await startFixtureRunner({ iam: false });
    });
    afterAll(() => f?.stop());

    it('lets the same call through', async () => {
      const body = uniqueId('unchecked');
      const out = await invoke<{ ok: boolean; messageId: string }>(f.lambda, functionName(f.runner, 'Rogue'), {
        body,
      });
      expect(out.functionError, JSON.stringify(out.payload)).toBeUndefined();
      expect(out.payload).toEqual({ ok: true, messageId: expect.any(String) });
      const audit = await drainQueue(f.sqs, f.queueUrl('Audit'), 1);
      expect(audit.map((m) => m.Body)).toEqual([body]);
    });
  });
});
