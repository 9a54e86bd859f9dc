/**
 * What the end-to-end suites share: a LocalRunner on the fixture assembly (from test/e2e/global-setup.ts) on the
 * target `QUEUEKIT_TARGET` names, the real AWS SDK clients pointed at it, and bounded waits over its traces.
 *
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import type { FlowEvent, MessageTrace } from '../../lib/local/flow-events.js';
import { LocalRunner, type LocalRunnerOptions } from '../../lib/local/local-runner.js';
import { clientConfig } from '../../lib/runtime/clients.js';
import { deleteAppResources, type RunnerTarget, runnerTarget } from '../support/runner-target.js';
import type { E2eContext } from './global-setup.js';

/** Visibility timeouts, backoff and windows ×0.02: the fixture's 30 s visibility timeouts become 1 s. */
export const TIME_SCALE = 0.02;

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export function e2eContext(): E2eContext & { readonly runnerTarget: RunnerTarget } {
  return { ...inject('e2e'), runnerTarget: runnerTarget() };
}

/** A unique id per call, for message bodies (LocalStack keeps queues, and FIFO dedup ids, across runs). */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface FixtureRunner {
  readonly runner: LocalRunner;
  /** Where outputs.json and traces.json go. */
  readonly stateDir: string;
  /** LambdaClient on the runner's Lambda API (an external caller: not IAM-checked). */
  readonly lambda: LambdaClient;
  /** SQS client on the target itself (the embedded emulator or LocalStack), bypassing the runner. */
  readonly sqs: SQSClient;
  /** URL of a queue by display name (e.g. `Work`, `Work/DeadLetterQueue`). */
  queueUrl(displayName: string): string;
  topicArn(displayName: string): string;
  stop(): Promise<void>;
}

/**
 * Starts a LocalRunner on the fixture app (time scale {@link TIME_SCALE}, state in a temp folder, no live page
 * unless asked). On LocalStack the app's queues and topics are deleted first, so the suite starts empty.
 */
export async function startFixtureRunner(
  options: Partial<LocalRunnerOptions> & { readonly reset?: boolean } = {},
): Promise<FixtureRunner> {
  const { assembly, runnerTarget: target } = e2eContext();
  if (options.reset !== false) await deleteAppResources(target, assembly);
  const stateDir = mkdtempSync(join(tmpdir(), 'queuekit-e2e-'));
  const runner = await LocalRunner.start({
    assembly,
    target: target.option,
    timeScale: TIME_SCALE,
    stateDir,
    dashboard: false,
    ...options,
  });
  const outputs = runner.outputs();
  const lambda = new LambdaClient({
    endpoint: runner.lambdaEndpoint,
    region: outputs.region,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  const sqs = new SQSClient({ ...clientConfig({ endpoint: runner.target.endpoint, env: {} }, 'sqs'), maxAttempts: 1 });
  let stopped: Promise<void> | undefined;
  return {
    runner,
    stateDir,
    lambda,
    sqs,
    queueUrl(displayName) {
      const queue = outputs.queues[displayName];
      if (!queue) throw new Error(`no queue ${displayName}; queues: ${Object.keys(outputs.queues).join(', ')}`);
      return queue.url;
    },
    topicArn(displayName) {
      const topic = outputs.topics[displayName];
      if (!topic) throw new Error(`no topic ${displayName}; topics: ${Object.keys(outputs.topics).join(', ')}`);
      return topic.arn;
    },
    stop() {
      stopped ??= (async () => {
        lambda.destroy();
        sqs.destroy();
        await runner.stop();
        rmSync(stateDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

export interface InvokeOutcome<T = unknown> {
  readonly statusCode: number | undefined;
  readonly functionError: string | undefined;
  /** The response payload, parsed (undefined when empty). */
  readonly payload: T;
  /** `LogType: 'Tail'`: the decoded log tail. */
  readonly logs: string | undefined;
}

/** Invokes through the real LambdaClient; the payload goes as JSON unless it is a string already. */
export async function invoke<T = unknown>(
  lambda: LambdaClient,
  functionName: string,
  payload: unknown,
  extra: Partial<InvokeCommandInput> = {},
): Promise<InvokeOutcome<T>> {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
      ...extra,
    }),
  );
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  return {
    statusCode: out.StatusCode,
    functionError: out.FunctionError,
    payload: (text ? JSON.parse(text) : undefined) as T,
    logs: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8') : undefined,
  };
}

/** The physical name of a fixture function, by display name (what a real client passes as FunctionName). */
export function functionName(runner: LocalRunner, displayName: string): string {
  const fn = runner.outputs().functions[displayName];
  if (!fn) throw new Error(`no function ${displayName}`);
  return fn.name;
}

/**
 * Receives (and deletes) from `url` until `expected` messages arrived and one more poll came back empty, or
 * `maxPolls` 1 s long polls passed. Returns everything received, in arrival order.
 */
export async function drainQueue(sqs: SQSClient, url: string, expected: number, maxPolls = 15): Promise<Message[]> {
  const received: Message[] = [];
  let emptyAfterExpected = false;
  for (let poll = 0; poll < maxPolls && !emptyAfterExpected; poll++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 30,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    received.push(...Messages);
    if (Messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    } else if (received.length >= expected) {
      emptyAfterExpected = true;
    }
  }
  return received;
}

/** Every trace the runner kept, oldest first. */
export function allTraces(runner: LocalRunner): MessageTrace[] {
  return runner.recorder
    .recentMessageIds(100_000)
    .reverse()
    .map((id) => runner.recorder.trace(id))
    .filter((t): t is MessageTrace => t !== undefined);
}

export type EventOf<K extends FlowEvent['type']> = Extract<FlowEvent, { type: K }>;

export function eventsOf<K extends FlowEvent['type']>(trace: MessageTrace | undefined, type: K): EventOf<K>[] {
  return (trace?.events ?? []).filter((e): e is EventOf<K> => e.type === type);
}

/** Polls `check` every 100 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
