/**
 * Fakes shared by the runtime unit tests: SDK-shaped clients that record the commands they get and answer from
 * a script, a Lambda context on a fake clock, and a way to let pending promises run without timers.
 *
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';

/** A command as a fake client saw it. */
export interface SentCommand {
  /** The command class name, e.g. `SendMessageBatchCommand`. */
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect whatever input the command carried
  readonly input: any;
}

/** Answers one command; may throw (a whole-request failure) or return a promise. */
// biome-ignore lint/suspicious/noExplicitAny: the fake answers any command with any response
export type Script = (command: SentCommand, call: number) => any;

/** A hand-written client `{ send }` that records every command and answers from `script`. */
export class FakeClient {
  readonly calls: SentCommand[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly script: Script,
    private readonly log?: string[],
  ) {}

  readonly send = async (command: { constructor: { name: string }; input: unknown }): Promise<unknown> => {
    const sent: SentCommand = { name: command.constructor.name, input: command.input };
    const call = this.calls.length;
    this.calls.push(sent);
    this.log?.push(sent.name);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.script(sent, call);
    } finally {
      this.inFlight--;
    }
  };

  named(name: string): SentCommand[] {
    return this.calls.filter((c) => c.name === name);
  }

  get sqs(): SQSClient {
    return this as unknown as SQSClient;
  }
  get sns(): SNSClient {
    return this as unknown as SNSClient;
  }
  get s3(): S3Client {
    return this as unknown as S3Client;
  }
}

/** A SendMessageBatch/PublishBatch answer accepting every entry; MessageId is `sent:<body>` to prove the mapping. */
export function acceptAll(command: SentCommand): unknown {
  const entries = (command.input.Entries ?? command.input.PublishBatchRequestEntries) as {
    Id: string;
    MessageBody?: string;
    Message?: string;
  }[];
  return {
    Successful: entries.map((e) => ({
      Id: e.Id,
      MessageId: `sent:${(e.MessageBody ?? e.Message ?? '').slice(0, 40)}`,
    })),
    Failed: [],
  };
}

/** The entries of a SendMessageBatch or PublishBatch command. */
// biome-ignore lint/suspicious/noExplicitAny: entries are SDK shapes
export function entriesOf(command: SentCommand): any[] {
  return command.input.Entries ?? command.input.PublishBatchRequestEntries;
}

/** Bytes SQS/SNS count for one batch entry: body + attribute names, data types and values. */
export function entryBytes(entry: {
  MessageBody?: string;
  Message?: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: Uint8Array }>;
}): number {
  let size = Buffer.byteLength(entry.MessageBody ?? entry.Message ?? '');
  for (const [name, a] of Object.entries(entry.MessageAttributes ?? {}))
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(a.DataType) +
      (a.BinaryValue ? a.BinaryValue.byteLength : Buffer.byteLength(a.StringValue ?? ''));
  return size;
}

/** Lets every pending promise and I/O callback run once. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Ticks until `condition` holds; fails after `max` ticks (no wall-clock timing). */
export async function until(condition: () => boolean, max = 200): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (condition()) return;
    await tick();
  }
  throw new Error('condition not reached');
}

/** A fake clock and a Lambda context whose remaining time is `deadline - now`. */
export function fakeLambda(remainingAtStartMs: number): { clock: { now: number }; context: Context } {
  const clock = { now: 0 };
  const context = {
    functionName: 'consumer',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => remainingAtStartMs - clock.now,
  } as unknown as Context;
  return { clock, context };
}

/** An AWS-SDK-shaped service error. */
export function serviceError(name: string, httpStatusCode: number, message = `${name} happened`): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}
