/**
 * What the SDK commands (`send`, `peek`, `redrive`, `invoke`) talk to, and how they name things.
 *
 * Target, first match wins:
 * 1. `--endpoint <url>`: that SQS/SNS endpoint (any emulator, LocalStack); names resolve on the wire, or in
 *    `--outputs <file>` when that is given too;
 * 2. `--outputs <file>`, else `.queuekit/outputs.json` when it exists: the local runner it describes
 *    (`queuekit dev`), its endpoints, region and display names;
 * 3. `AWS_ENDPOINT_URL` / `LOCALSTACK_HOST`: that endpoint, names resolved on the wire;
 * 4. otherwise real AWS, configured by the SDK's own chain (`AWS_PROFILE`, `AWS_REGION`, SSO…).
 *
 * Without outputs a queue is given by URL, ARN or name (GetQueueUrl), a topic by ARN or name (ListTopics), a
 * function by name or ARN. `--lambda-endpoint` overrides where `invoke` goes (default: the runner's
 * `lambdaEndpoint`, else the SQS/SNS endpoint, as LocalStack serves every service on one port).
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ListTopicsCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type Command, InvalidArgumentError } from 'commander';
import pc from 'picocolors';
import { clientConfig, destroyClients, resolveTarget, snsClient, sqsClient } from '../runtime/clients.js';
import { QueuekitRuntimeError } from '../runtime/errors.js';
import { LocalRunnerError, TargetError, UsageError } from './errors.js';
import {
  DEFAULT_OUTPUTS_PATH,
  findQueue,
  findTopic,
  queueNameOf,
  type RunnerOutputs,
  readOutputs,
  resolveQueue,
  resolveTopic,
  topicNameOf,
} from './outputs-file.js';

/** The options every SDK command takes. */
export interface TargetOptions {
  /** Outputs file of a local runner. @default `.queuekit/outputs.json` when it exists (and no `endpoint`) */
  readonly outputs?: string;
  /** SQS/SNS endpoint; overrides the outputs file and `AWS_ENDPOINT_URL`. */
  readonly endpoint?: string;
  /** Lambda Invoke endpoint. @default the runner's `lambdaEndpoint`, else the SQS/SNS endpoint, else AWS */
  readonly lambdaEndpoint?: string;
  readonly region?: string;
  /** Environment to read; tests pass their own. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder the default outputs file is looked for in. @default process.cwd() */
  readonly cwd?: string;
}

/** A resolved target: clients and, for a local runner, its outputs. */
export interface CliTarget {
  readonly kind: 'runner' | 'endpoint' | 'aws';
  /** For messages: `local runner at http://… (.queuekit/outputs.json)`, `endpoint http://…`, `AWS (eu-west-1)`. */
  readonly description: string;
  readonly outputs?: RunnerOutputs;
  /** SQS/SNS endpoint; undefined for AWS. */
  readonly endpoint?: string;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  /** Where `invoke` goes; undefined for AWS. */
  readonly lambdaEndpoint?: string;
  /** Lambda client for `invoke` (built on first use). */
  lambda(): LambdaClient;
}

/** A queue as the commands use it. */
export interface QueueRef {
  readonly url: string;
  readonly arn: string;
  /** Physical name. */
  readonly name: string;
  /** Display name from the outputs, else the physical name. */
  readonly displayName: string;
  readonly fifo: boolean;
  /** URL of its dead-letter queue, when the outputs list one. */
  readonly dlqUrl?: string;
}

export interface TopicRef {
  readonly arn: string;
  readonly name: string;
  readonly displayName: string;
  readonly fifo: boolean;
}

/** Resolves the target of a command (see the module docs for the order). */
export function resolveCliTarget(options: TargetOptions = {}): CliTarget {
  const env = options.env ?? process.env;
  let outputs: RunnerOutputs | undefined;
  let outputsPath: string | undefined;
  if (options.outputs !== undefined) {
    if (!existsSync(options.outputs))
      throw new UsageError(
        `--outputs ${options.outputs}: no such file. Fix: start 'queuekit dev' (it writes ${DEFAULT_OUTPUTS_PATH}), or fix the path.`,
      );
    outputsPath = options.outputs;
  } else if (!options.endpoint) {
    const path = options.cwd ? join(options.cwd, DEFAULT_OUTPUTS_PATH) : DEFAULT_OUTPUTS_PATH;
    if (existsSync(path)) outputsPath = path;
  }
  if (outputsPath) outputs = readOutputs(outputsPath);

  const endpoint = options.endpoint ?? outputs?.endpoint;
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint))
    throw new UsageError(
      `Endpoint '${endpoint}' is not an http(s) URL. Fix: pass e.g. --endpoint http://127.0.0.1:4566.`,
    );
  const region = options.region ?? outputs?.region;
  const factory = { ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}), env };
  const sdkTarget = resolveTarget(factory);
  const kind: CliTarget['kind'] =
    outputs && !options.endpoint ? 'runner' : sdkTarget.kind === 'aws' ? 'aws' : 'endpoint';
  const resolvedEndpoint = sdkTarget.kind === 'aws' ? undefined : sdkTarget.endpoint;
  const resolvedRegion = clientConfig(factory).region;
  const description =
    kind === 'runner'
      ? `local runner at ${resolvedEndpoint} (${outputsPath})`
      : kind === 'endpoint'
        ? `endpoint ${resolvedEndpoint}${sdkTarget.kind === 'aws' || sdkTarget.source === 'option' ? '' : ` (${sdkTarget.source})`}`
        : `AWS${resolvedRegion ? ` (${resolvedRegion})` : ''}`;

  const lambdaEndpoint =
    options.lambdaEndpoint ?? outputs?.lambdaEndpoint ?? (kind === 'runner' ? undefined : endpoint);
  const lambdaTarget = resolveTarget({ ...factory, ...(lambdaEndpoint ? { endpoint: lambdaEndpoint } : {}) });
  let lambda: LambdaClient | undefined;
  return {
    kind,
    description,
    ...(outputs ? { outputs } : {}),
    ...(resolvedEndpoint ? { endpoint: resolvedEndpoint } : {}),
    ...(lambdaTarget.kind !== 'aws' && (kind !== 'runner' || lambdaEndpoint)
      ? { lambdaEndpoint: lambdaTarget.endpoint }
      : {}),
    sqs: sqsClient(factory),
    sns: snsClient(factory),
    lambda: () => {
      if (kind === 'runner' && !lambdaEndpoint)
        throw new TargetError(
          `The local runner's outputs (${outputsPath}) have no lambdaEndpoint. Fix: pass --lambda-endpoint <url>.`,
        );
      // One attempt: an invoke that timed out on the wire may have run, and running a function twice by retrying
      // is worse than reporting the failure.
      lambda ??= new LambdaClient({
        ...clientConfig({ ...factory, ...(lambdaEndpoint ? { endpoint: lambdaEndpoint } : {}) }),
        maxAttempts: 1,
      });
      lambdaClients.add(lambda);
      return lambda;
    },
  };
}

const lambdaClients = new Set<LambdaClient>();

/** Destroys every client the commands built (closing their sockets). */
export function closeCliClients(): void {
  for (const client of lambdaClients) client.destroy();
  lambdaClients.clear();
  destroyClients();
}

const QUEUE_ARN = /^arn:[^:]+:sqs:([^:]*):([^:]*):([^:]+)$/;
const TOPIC_ARN = /^arn:[^:]+:sns:([^:]*):([^:]*):([^:]+)$/;
const isUrl = (key: string) => /^https?:\/\//.test(key);

/**
 * Finds a queue: in the outputs (display name, physical name, URL, ARN), else on the wire (URL, ARN or name).
 *
 * @throws UsageError naming the known queues (outputs) or the target when none matches
 */
export async function resolveQueueRef(target: CliTarget, key: string): Promise<QueueRef> {
  if (target.outputs) {
    const found = findQueue(target.outputs, key);
    if (found) return { ...found, name: queueNameOf(found) };
  }
  // Not in the outputs: a queue made outside the app may still be on the target; failing that (or the target
  // being down), the error lists the app's queues.
  const wire = await queueOnWire(target, key).catch((error: unknown) => {
    if (target.outputs) return undefined;
    throw error;
  });
  if (wire) return wire;
  if (target.outputs) resolveQueue(target.outputs, key); // throws, listing the known queues
  throw new UsageError(
    `No queue '${key}' on ${target.description}. Fix: pass a queue URL, ARN or name that exists there` +
      (target.kind === 'aws' ? ", or start 'queuekit dev' / pass --endpoint <url> to use a local target." : '.'),
  );
}

/** Like {@link resolveQueueRef} for topics (outputs, else an ARN or a name found with ListTopics). */
export async function resolveTopicRef(target: CliTarget, key: string): Promise<TopicRef> {
  const found = await findTopicRef(target, key).catch((error: unknown) => {
    if (target.outputs) return undefined;
    throw error;
  });
  if (found) return found;
  if (target.outputs) resolveTopic(target.outputs, key);
  throw new UsageError(`No topic '${key}' on ${target.description}. Fix: pass a topic ARN or name that exists there.`);
}

/**
 * Finds what `send` sends to: a queue or a topic, by any of their names.
 *
 * @throws UsageError when neither matches, or a display name is both a queue and a topic
 */
export async function resolveQueueOrTopic(
  target: CliTarget,
  key: string,
): Promise<
  { readonly kind: 'queue'; readonly queue: QueueRef } | { readonly kind: 'topic'; readonly topic: TopicRef }
> {
  if (TOPIC_ARN.test(key)) return { kind: 'topic', topic: await resolveTopicRef(target, key) };
  if (target.outputs) {
    const queue = findQueue(target.outputs, key);
    const topic = findTopic(target.outputs, key);
    if (queue && topic)
      throw new UsageError(
        `'${key}' names both queue ${queue.arn} and topic ${topic.arn}. Fix: pass the ARN of the one you mean.`,
      );
    if (queue) return { kind: 'queue', queue: { ...queue, name: queueNameOf(queue) } };
    if (topic) return { kind: 'topic', topic: { ...topic, name: topicNameOf(topic) } };
  }
  try {
    const queue = await queueOnWire(target, key);
    if (queue) return { kind: 'queue', queue };
    if (!isUrl(key) && !QUEUE_ARN.test(key)) {
      const topic = await findTopicRef(target, key);
      if (topic) return { kind: 'topic', topic };
    }
  } catch (error) {
    if (!target.outputs) throw error;
  }
  if (target.outputs) {
    const names = [...Object.keys(target.outputs.queues), ...Object.keys(target.outputs.topics)];
    throw new UsageError(
      `No queue or topic '${key}' in the local runner outputs. Known: ${names.join(', ') || 'none'}. ` +
        'Fix: pass one of them (display name, physical name, URL or ARN).',
    );
  }
  throw new UsageError(
    `No queue or topic '${key}' on ${target.description}. Fix: pass a queue URL/ARN/name or a topic ARN/name that exists there.`,
  );
}

/** Queue attributes, with SDK errors explained. */
export async function queueAttributes(
  target: CliTarget,
  url: string,
  names: QueueAttributeName[],
): Promise<Partial<Record<QueueAttributeName, string>>> {
  try {
    const { Attributes } = await target.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }),
    );
    return Attributes ?? {};
  } catch (error) {
    throw explainSdkError(error, target, `GetQueueAttributes on ${url}`);
  }
}

async function queueOnWire(target: CliTarget, key: string): Promise<QueueRef | undefined> {
  let url: string | undefined;
  try {
    if (isUrl(key)) url = key;
    else {
      const arn = QUEUE_ARN.exec(key);
      if (!arn && (key.includes(':') || key.includes('/'))) return undefined;
      const { QueueUrl } = await target.sqs.send(
        new GetQueueUrlCommand(
          arn ? { QueueName: arn[3], ...(arn[2] ? { QueueOwnerAWSAccountId: arn[2] } : {}) } : { QueueName: key },
        ),
      );
      url = QueueUrl;
    }
    if (!url) return undefined;
    const { Attributes = {} } = await target.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'FifoQueue'] }),
    );
    const arn = Attributes.QueueArn ?? '';
    const name = queueNameOf({ url, arn });
    return { url, arn, name, displayName: name, fifo: Attributes.FifoQueue === 'true' || name.endsWith('.fifo') };
  } catch (error) {
    if (isQueueMissing(error)) return undefined;
    throw explainSdkError(error, target, `Looking up queue '${key}'`);
  }
}

async function findTopicRef(target: CliTarget, key: string): Promise<TopicRef | undefined> {
  if (target.outputs) {
    const found = findTopic(target.outputs, key);
    if (found) return { ...found, name: topicNameOf(found) };
  }
  const arn = TOPIC_ARN.exec(key);
  const name = arn ? arn[3] : key;
  if (!name || /[:/]/.test(name)) return undefined;
  try {
    let next: string | undefined;
    do {
      const page = await target.sns.send(new ListTopicsCommand(next ? { NextToken: next } : {}));
      const match = (page.Topics ?? []).find((t) => (arn ? t.TopicArn === key : t.TopicArn?.endsWith(`:${name}`)));
      if (match?.TopicArn) return { arn: match.TopicArn, name, displayName: name, fifo: name.endsWith('.fifo') };
      next = page.NextToken;
    } while (next);
  } catch (error) {
    throw explainSdkError(error, target, `Looking up topic '${key}'`);
  }
  return undefined;
}

/** True for SQS's "queue does not exist" in its JSON and query protocol spellings. */
export function isQueueMissing(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? '';
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue';
}

/**
 * True when the server does not implement an operation at all (emulators): fauxqs answers `InvalidAction`,
 * others `UnknownOperationException`, `NotImplemented` or HTTP 501.
 */
export function isUnsupportedOperation(error: unknown): boolean {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return (
    [
      'InvalidAction',
      'UnknownOperationException',
      'UnsupportedOperation',
      'NotImplemented',
      'InvalidOperation',
    ].includes(e?.name ?? '') ||
    e?.$metadata?.httpStatusCode === 501 ||
    /unknown (action|operation)|not (yet )?(implemented|supported)/i.test(e?.message ?? '')
  );
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN']);

/**
 * Turns an SDK or network error into a {@link LocalRunnerError} saying what failed, where, and the fix. Errors
 * that already are queuekit errors pass through.
 */
export function explainSdkError(
  error: unknown,
  target: CliTarget,
  what: string,
  fixFor?: (detail: string) => string | undefined,
): Error {
  if (error instanceof LocalRunnerError || error instanceof QueuekitRuntimeError) return error;
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? '';
  const detail = `${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? String(error)}`;
  if (CONNECTION_CODES.has(code) || /ECONNREFUSED|socket hang up|fetch failed/.test(detail)) {
    const fix =
      target.kind === 'runner'
        ? `start 'queuekit dev' (the outputs file may be left from an earlier run), or pass --endpoint <url>`
        : target.kind === 'endpoint'
          ? 'check that the server is running at that address, or pass another --endpoint'
          : 'check your network and AWS region';
    return new TargetError(`${what}: cannot reach ${target.description} (${code || detail}). Fix: ${fix}.`);
  }
  if (/Region is missing/i.test(detail))
    return new TargetError(
      `${what}: no AWS region for ${target.description}. Fix: pass --region <region> or set AWS_REGION, ` +
        `or use a local target: start 'queuekit dev' or pass --endpoint <url>.`,
    );
  if (e?.name === 'CredentialsProviderError' || /Could not load credentials/i.test(detail))
    return new TargetError(
      `${what}: no AWS credentials for ${target.description}. Fix: configure them (AWS_PROFILE, 'aws sso login'…), ` +
        `or use a local target: start 'queuekit dev' or pass --endpoint <url>.`,
    );
  if (/AccessDenied|not authorized/i.test(detail))
    return new LocalRunnerError(
      `${what} was denied on ${target.description}: ${detail}. Fix: grant the permission to your identity.`,
    );
  const fix = fixFor?.(detail);
  return new LocalRunnerError(`${what} failed on ${target.description}: ${detail}${fix ? `. Fix: ${fix}.` : ''}`);
}

/**
 * Reads a text argument given inline or as a file (`-` for stdin).
 *
 * @throws UsageError when both or (with `required`) neither are given, or the file cannot be read
 */
export function readTextArgument(
  inline: string | undefined,
  file: string | undefined,
  names: { readonly inline: string; readonly file: string },
): string | undefined {
  if (inline !== undefined && file !== undefined)
    throw new UsageError(`Pass either ${names.inline} or ${names.file}, not both.`);
  if (file === undefined) return inline;
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${names.file} ${file}: ${(error as Error).message}. Fix: pass a readable file, or - for stdin.`,
    );
  }
}

/** Pretty-prints a JSON text (two-space indent); other text comes back as it is. */
export function prettyJson(text: string): { readonly text: string; readonly json?: unknown } {
  const trimmed = text.trim();
  if (!/^[[{"]|^-?\d|^(true|false|null)$/.test(trimmed)) return { text };
  try {
    const json: unknown = JSON.parse(trimmed);
    return { text: typeof json === 'object' && json !== null ? JSON.stringify(json, null, 2) : text, json };
  } catch {
    return { text };
  }
}

/** Adds `--outputs`, `--endpoint`, `--lambda-endpoint` (when `lambda`) and `--region` to a command. */
export function addTargetOptions(command: Command, { lambda = false } = {}): Command {
  command
    .option('--outputs <file>', `local runner outputs (default: ${DEFAULT_OUTPUTS_PATH} when it exists)`)
    .option('--endpoint <url>', 'SQS/SNS endpoint, e.g. LocalStack (overrides the outputs file and AWS_ENDPOINT_URL)');
  if (lambda) command.option('--lambda-endpoint <url>', 'Lambda endpoint (default: the runner’s, else --endpoint)');
  return command.option('--region <region>', 'region (default: the runner’s, else AWS_REGION / your profile)');
}

/** Help text for the target, shared by the commands. */
export const TARGET_HELP = `
Target: --endpoint, else the local runner in ${DEFAULT_OUTPUTS_PATH} ('queuekit dev'), else AWS_ENDPOINT_URL,
else real AWS with your usual credentials (AWS_PROFILE, AWS_REGION). Names: a display name from the outputs
(e.g. InferenceJobs), a physical name, a queue URL or an ARN.
Exit codes: 0 ok, 1 the operation failed, 2 usage error.`;

/** A commander option parser for a positive integer (at most `max`). */
export function positiveInt(max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new InvalidArgumentError(`expected a whole number from 1 to ${max}, got '${value}'`);
    return n;
  };
}

/** A commander option parser for a whole number from 0 to `max`. */
export function wholeNumber(max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > max)
      throw new InvalidArgumentError(`expected a whole number from 0 to ${max}, got '${value}'`);
    return n;
  };
}

/** Collects a repeatable option into an array. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * Makes commander's own usage errors (unknown option, missing argument, bad value) exit with 2, like the
 * commands' own; `--help` still exits 0.
 */
export function usageErrorsExit2(command: Command): Command {
  return command.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
}

/**
 * Runs a command's action: prints an error with its fix to stderr and sets the exit code (2 for a
 * {@link UsageError}, 1 for anything else), then closes the clients.
 */
export async function runCliAction(name: string, action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (error) {
    const usage = error instanceof UsageError;
    const known = usage || error instanceof LocalRunnerError || error instanceof QueuekitRuntimeError;
    console.error(`queuekit ${name}: ${known ? (error as Error).message : String((error as Error)?.stack ?? error)}`);
    process.exitCode = usage ? 2 : 1;
  } finally {
    closeCliClients();
  }
}

/** A dim note on stderr (the target, warnings), so stdout stays the result. */
export function note(text: string): void {
  console.error(pc.dim(text));
}
