/**
 * `queuekit invoke <function>`: one Lambda Invoke of a function of the app, on the local runner's Lambda
 * endpoint (or `--lambda-endpoint`, LocalStack, AWS), printing the result payload, the function error and, with
 * `--log`, the decoded log tail.
 *
 * @module
 */
import { InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';
import pc from 'picocolors';
import {
  addTargetOptions,
  explainSdkError,
  note,
  prettyJson,
  readTextArgument,
  resolveCliTarget,
  runCliAction,
  TARGET_HELP,
  type TargetOptions,
  usageErrorsExit2,
} from '../cli-target.js';
import { UsageError } from '../errors.js';
import { findFunction, resolveFunction } from '../outputs-file.js';

export interface InvokeOptions extends TargetOptions {
  /** Display name, physical name or ARN. */
  readonly function: string;
  /** The event, as JSON. @default `{}` */
  readonly payload?: string;
  /** File holding the event (`-` for stdin). */
  readonly file?: string;
  /** Asynchronous invocation (`InvocationType: Event`): returns once Lambda has queued it. */
  readonly event?: boolean;
  /** Return the last 4 KB of the invocation's log (`LogType: Tail`). */
  readonly log?: boolean;
}

export interface InvokeResult {
  /** Display name (outputs) or the name given. */
  readonly function: string;
  /** 200 (synchronous), 202 (event), 204 (dry run). */
  readonly statusCode: number;
  /** The function's result (or error object) as text; empty for an event invocation. */
  readonly payload: string;
  /** The payload parsed, when it is JSON. */
  readonly json?: unknown;
  /** `Unhandled` or `Handled` when the function failed. */
  readonly functionError?: string;
  /** Decoded log tail (with `log`). */
  readonly log?: string;
  readonly executedVersion?: string;
  readonly via: string;
}

/** Invokes a function once. */
export async function invokeCommand(options: InvokeOptions): Promise<InvokeResult> {
  const text = readTextArgument(options.payload, options.file, { inline: '--payload', file: '--file' }) ?? '{}';
  try {
    JSON.parse(text);
  } catch (error) {
    throw new UsageError(`The payload is not JSON (${(error as Error).message}). Fix: pass e.g. --payload '{"id":1}'.`);
  }
  if (options.event && options.log)
    throw new UsageError(
      '--log needs a synchronous invocation: Lambda returns no log for --event. Fix: drop one of them.',
    );
  const target = resolveCliTarget(options);
  // The runner's Lambda endpoint serves the app's functions only: name them from the outputs.
  const known = target.outputs
    ? target.kind === 'runner' && !options.lambdaEndpoint
      ? resolveFunction(target.outputs, options.function)
      : findFunction(target.outputs, options.function)
    : undefined;
  const name = known?.name ?? options.function;
  const lambda = target.lambda();
  const where = target.lambdaEndpoint ? `Lambda at ${target.lambdaEndpoint}` : 'AWS Lambda';
  let out: InvokeCommandOutput;
  try {
    out = await lambda.send(
      new InvokeCommand({
        FunctionName: name,
        Payload: Buffer.from(text),
        InvocationType: options.event ? 'Event' : 'RequestResponse',
        ...(options.log ? { LogType: 'Tail' } : {}),
      }),
    );
  } catch (error) {
    const missing = (error as { name?: string }).name === 'ResourceNotFoundException';
    const listed = target.outputs ? Object.keys(target.outputs.functions) : [];
    throw explainSdkError(error, target, `Invoking ${options.function} (${where})`, () =>
      missing
        ? `pass a function of the app${listed.length ? ` (${listed.join(', ')})` : ''}, by display name, name or ARN`
        : undefined,
    );
  }
  const payload = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  const parsed = prettyJson(payload);
  return {
    function: known?.displayName ?? options.function,
    statusCode: out.StatusCode ?? 0,
    payload,
    ...('json' in parsed ? { json: parsed.json } : {}),
    ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
    ...(out.LogResult ? { log: Buffer.from(out.LogResult, 'base64').toString('utf8') } : {}),
    ...(out.ExecutedVersion ? { executedVersion: out.ExecutedVersion } : {}),
    via: where,
  };
}

/** The result payload as the terminal shows it (stdout); the log and the error go to stderr. */
export function formatInvokePayload(result: InvokeResult): string {
  if (result.statusCode === 202) return `Queued: ${result.function} runs asynchronously (status 202).`;
  return prettyJson(result.payload).text;
}

/** Registers `queuekit invoke`. */
export function registerInvokeCommand(program: Command): Command {
  const command = program
    .command('invoke')
    .description('Invoke a function of the app once (Lambda Invoke) and print its result.')
    .argument('<function>', 'display name, physical name or ARN')
    .option('--payload <json>', 'the event, as JSON (default: {})')
    .option('--file <path>', 'read the event from a file (- for stdin)')
    .option('--event', 'asynchronous invocation: return once queued')
    .option('--log', 'print the invocation’s log tail (last 4 KB) to stderr');
  addTargetOptions(command, { lambda: true });
  usageErrorsExit2(command);
  return command
    .addHelpText(
      'after',
      `
Exit code 1 when the function returns an error (X-Amz-Function-Error): the error object is printed.

Examples:
  $ queuekit invoke SubmitJob --payload '{"prompt":"hello"}'
  $ queuekit invoke SubmitJob --file event.json --log
  $ queuekit invoke my-function --lambda-endpoint http://127.0.0.1:4567 --event
${TARGET_HELP}`,
    )
    .action((fn: string, options: Omit<InvokeOptions, 'function'>) =>
      runCliAction('invoke', async () => {
        const result = await invokeCommand({ ...options, function: fn });
        note(`via ${result.via}`);
        if (result.log) console.error(pc.dim(result.log.trimEnd()));
        console.log(formatInvokePayload(result));
        if (result.functionError) {
          console.error(pc.red(`queuekit invoke: ${result.function} failed (${result.functionError}).`));
          return 1;
        }
        return 0;
      }),
    );
}
