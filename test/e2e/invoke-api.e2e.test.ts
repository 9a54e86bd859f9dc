/**
 * The runner's Lambda Invoke API, driven by the real `@aws-sdk/client-lambda` LambdaClient as any service or
 * script would: RequestResponse results, Lambda's errors (unknown function, a handler that throws), `LogType:
 * Tail`, and `Event` invocations (202, run in the background). After every call the runner must still serve.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-lambda';
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

interface PublisherOut {
  readonly ok: boolean;
  readonly results: { readonly to: string; readonly messageId: string }[];
}

describe(`the Lambda Invoke API (${e2eContext().target})`, () => {
  let f: FixtureRunner;
  let publisher = '';

  beforeAll(async () => {
    f = await startFixtureRunner();
    publisher = functionName(f.runner, 'Publisher');
  });
  afterAll(() => f?.stop());

  /** A RequestResponse call that must succeed: the runner is still serving. */
  async function stillServing(): Promise<void> {
    const out = await invoke<PublisherOut>(f.lambda, publisher, {
      messages: [{ to: 'events', body: { id: uniqueId('ping') }, attributes: { kind: 'text' } }],
    });
    expect(out.functionError).toBeUndefined();
    expect(out.payload.ok).toBe(true);
  }

  it("RequestResponse returns the producer's result", async () => {
    const out = await invoke<PublisherOut>(
      f.lambda,
      publisher,
      { messages: [{ to: 'work', body: { id: uniqueId('rr') } }] },
      { InvocationType: 'RequestResponse' },
    );
    expect(out.statusCode).toBe(200);
    expect(out.functionError).toBeUndefined();
    expect(out.payload).toEqual({ ok: true, results: [{ to: 'work', messageId: expect.any(String) }] });
    // The function ARN works as well as its name.
    const byArn = await invoke<PublisherOut>(f.lambda, f.runner.outputs().functions.Publisher?.arn as string, {
      messages: [{ to: 'work', body: { id: uniqueId('arn') } }],
    });
    expect(byArn.payload.ok).toBe(true);
  });

  it('answers ResourceNotFoundException for an unknown function', async () => {
    const error = await invoke(f.lambda, 'NoSuchFunction', {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    expect((error as Error).message).toContain('function:NoSuchFunction');
    await stillServing();
  });

  it("reports a handler's error on a bad payload as FunctionError, with the error it threw", async () => {
    const out = await invoke<{ errorType: string; errorMessage: string; trace?: string[] }>(f.lambda, publisher, {
      wrong: 'shape',
    });
    expect(out.statusCode).toBe(200);
    expect(out.functionError).toBe('Unhandled');
    expect(out.payload.errorType).toBe('TypeError');
    expect(out.payload.errorMessage).toBe('Publisher expects { messages: [{ to, body }, ...] }, got {"wrong":"shape"}');
    await stillServing();
  });

  it('rejects a payload that is not JSON, as Lambda does', async () => {
    const error = await invoke(f.lambda, publisher, '{not json').then(
      () => undefined,
      (e: unknown) => e as Error & { $metadata: { httpStatusCode?: number } },
    );
    expect(error?.name).toBe('InvalidRequestContentException');
    expect(error?.$metadata.httpStatusCode).toBe(400);
    await stillServing();
  });

  it("returns the invocation's log tail with LogType Tail", async () => {
    const id = uniqueId('tail');
    const out = await invoke<PublisherOut>(
      f.lambda,
      publisher,
      { messages: [{ to: 'work', body: { id } }] },
      { LogType: 'Tail' },
    );
    expect(out.functionError).toBeUndefined();
    expect(out.logs).toContain('publishing 1 message(s)');
    expect(out.logs).toContain(`published work:${out.payload.results[0]?.messageId}`);
    await stillServing();
  });

  it('accepts an Event invocation with 202 and runs it: the message arrives', async () => {
    const id = uniqueId('event');
    const out = await invoke(
      f.lambda,
      publisher,
      { messages: [{ to: 'events', body: { id, priority: 'normal' }, attributes: { kind: 'text' } }] },
      { InvocationType: 'Event' },
    );
    expect(out.statusCode).toBe(202);
    expect(out.functionError).toBeUndefined();
    // Audit gets every event, raw (the pings above too): receive until this one shows up.
    const arrived: string[] = [];
    for (let round = 0; round < 10 && !arrived.includes(id); round++) {
      const messages = await drainQueue(f.sqs, f.queueUrl('Audit'), 1, 2);
      arrived.push(...messages.map((m) => (JSON.parse(m.Body ?? '{}') as { id?: string }).id ?? '?'));
    }
    expect(arrived).toContain(id);
    await stillServing();
  });

  it('DryRun checks the call without running it (204)', async () => {
    const out = await invoke(f.lambda, publisher, {}, { InvocationType: 'DryRun' });
    expect(out.statusCode).toBe(204);
    await stillServing();
  });
});
