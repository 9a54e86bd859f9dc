/**
 * `.queuekit/outputs.json`: what `queuekit dev` provisioned and where, for the CLI commands (`send`, `peek`,
 * `redrive`, `invoke`), scripts and tests. The runner writes it with {@link writeOutputs} once the app is up; the
 * commands read it with {@link readOutputs} and find resources in it with {@link resolveQueue},
 * {@link resolveTopic} and {@link resolveFunction}.
 *
 * Keys of `queues`, `topics` and `functions` are display names (`InferenceJobs`, `InferenceJobs/DeadLetterQueue`,
 * `SubmitJob`: see `ModelElement.displayName`); a resource can also be named by its physical name, URL or ARN.
 *
 * @example
 * {
 *   "endpoint": "http://127.0.0.1:4566",
 *   "lambdaEndpoint": "http://127.0.0.1:4567",
 *   "dashboardUrl": "http://127.0.0.1:4568",
 *   "region": "us-east-1",
 *   "queues": { "InferenceJobs": { "url": "…/000000000000/jobs", "arn": "arn:aws:sqs:us-east-1:000000000000:jobs", "fifo": false, "dlqUrl": "…/jobs-dlq" } },
 *   "topics": { "JobEvents": { "arn": "arn:aws:sns:us-east-1:000000000000:job-events", "fifo": false } },
 *   "functions": { "SubmitJob": { "name": "App-SubmitJob", "arn": "arn:aws:lambda:us-east-1:000000000000:function:App-SubmitJob" } }
 * }
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TargetError, UsageError } from './errors.js';
import { STATE_DIR } from './limits.js';

/** File name of the outputs inside the state folder. */
export const OUTPUTS_FILE_NAME = 'outputs.json';
/** Where the CLI looks when no `--outputs` is given, relative to the working directory. */
export const DEFAULT_OUTPUTS_PATH = join(STATE_DIR, OUTPUTS_FILE_NAME);

export interface OutputQueue {
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  /** URL of the queue's dead-letter queue, when it has a redrive policy. */
  readonly dlqUrl?: string;
}

export interface OutputTopic {
  readonly arn: string;
  readonly fifo: boolean;
}

export interface OutputFunction {
  /** Physical function name. */
  readonly name: string;
  readonly arn: string;
}

/** The content of `.queuekit/outputs.json`. */
export interface RunnerOutputs {
  /** SQS and SNS endpoint of the target (the embedded emulator, LocalStack…). */
  readonly endpoint: string;
  /** Endpoint serving the Lambda Invoke API for the app's functions. */
  readonly lambdaEndpoint?: string;
  /** The live page. */
  readonly dashboardUrl?: string;
  readonly region: string;
  /** By display name. */
  readonly queues: Readonly<Record<string, OutputQueue>>;
  readonly topics: Readonly<Record<string, OutputTopic>>;
  readonly functions: Readonly<Record<string, OutputFunction>>;
}

/**
 * Writes `outputs.json` into `dir` (created if missing), atomically: a reader never sees half a file. Returns its
 * path.
 */
export function writeOutputs(dir: string, outputs: RunnerOutputs): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, OUTPUTS_FILE_NAME);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(outputs, null, 2)}\n`);
  renameSync(temporary, path);
  return path;
}

/**
 * Reads and checks an outputs file.
 *
 * @param path @default `.queuekit/outputs.json` in the working directory
 * @throws TargetError when the file is missing (fix: start `queuekit dev`, or pass `--endpoint`) or malformed
 */
export function readOutputs(path: string = DEFAULT_OUTPUTS_PATH): RunnerOutputs {
  const absolute = resolve(path);
  if (!existsSync(absolute))
    throw new TargetError(
      `No local runner outputs at ${path}. Fix: start 'queuekit dev' in this folder (it writes ${DEFAULT_OUTPUTS_PATH}), ` +
        'pass --outputs <file>, or pass --endpoint <url> to talk to an SQS/SNS endpoint directly.',
    );
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(absolute, 'utf8'));
  } catch (error) {
    throw new TargetError(
      `${path} is not valid JSON (${(error as Error).message}). Fix: restart 'queuekit dev' to rewrite it, or delete it.`,
    );
  }
  return checkOutputs(data, path);
}

function checkOutputs(data: unknown, path: string): RunnerOutputs {
  const problem = (what: string) =>
    new TargetError(`${path} ${what}. Fix: restart 'queuekit dev' to rewrite it, or delete it.`);
  if (!isRecord(data)) throw problem('does not hold a JSON object');
  for (const key of ['endpoint', 'region'] as const)
    if (typeof data[key] !== 'string' || data[key] === '') throw problem(`has no "${key}"`);
  for (const key of ['lambdaEndpoint', 'dashboardUrl'] as const)
    if (data[key] !== undefined && typeof data[key] !== 'string') throw problem(`has a "${key}" that is not a string`);
  const section = <T>(key: 'queues' | 'topics' | 'functions', fields: readonly string[]): Record<string, T> => {
    const value = data[key] ?? {};
    if (!isRecord(value)) throw problem(`has a "${key}" that is not an object`);
    const entries: Record<string, T> = {};
    for (const [name, entry] of Object.entries(value)) {
      if (!isRecord(entry) || fields.some((f) => typeof entry[f] !== 'string'))
        throw problem(`has "${key}.${name}" without ${fields.join(' and ')}`);
      // `fifo` may be left out by hand-written files: a FIFO queue or topic name ends with `.fifo`.
      entries[name] = (
        key === 'functions' || typeof entry.fifo === 'boolean'
          ? entry
          : { ...entry, fifo: String(entry.arn).endsWith('.fifo') }
      ) as T;
    }
    return entries;
  };
  return {
    endpoint: data.endpoint as string,
    region: data.region as string,
    ...(typeof data.lambdaEndpoint === 'string' ? { lambdaEndpoint: data.lambdaEndpoint } : {}),
    ...(typeof data.dashboardUrl === 'string' ? { dashboardUrl: data.dashboardUrl } : {}),
    queues: section<OutputQueue>('queues', ['url', 'arn']),
    topics: section<OutputTopic>('topics', ['arn']),
    functions: section<OutputFunction>('functions', ['name', 'arn']),
  };
}

/** A resource found in the outputs, with the display name it is listed under. */
export type Resolved<T> = T & { readonly displayName: string; readonly name: string };

/** Physical name of a queue: the last segment of its URL or ARN. */
export const queueNameOf = (queue: { readonly url?: string; readonly arn: string }): string =>
  lastSegment(queue.arn, ':') || lastSegment(queue.url ?? '', '/');

/** Physical name of a topic: the last segment of its ARN. */
export const topicNameOf = (topic: { readonly arn: string }): string => lastSegment(topic.arn, ':');

/**
 * Finds a queue by display name, physical name, URL or ARN.
 *
 * @throws UsageError listing the known queues when none matches
 */
export function resolveQueue(outputs: RunnerOutputs, key: string): Resolved<OutputQueue> {
  const found = findQueue(outputs, key);
  if (!found) throw notFound('queue', key, outputs.queues);
  return found;
}

/** {@link resolveQueue} without the error: `undefined` when no queue matches. */
export function findQueue(outputs: RunnerOutputs, key: string): Resolved<OutputQueue> | undefined {
  return find(outputs.queues, key, (q) => [queueNameOf(q), q.url, q.arn, trimSlash(q.url)], queueNameOf);
}

/**
 * Finds a topic by display name, physical name or ARN.
 *
 * @throws UsageError listing the known topics when none matches
 */
export function resolveTopic(outputs: RunnerOutputs, key: string): Resolved<OutputTopic> {
  const found = findTopic(outputs, key);
  if (!found) throw notFound('topic', key, outputs.topics);
  return found;
}

/** {@link resolveTopic} without the error: `undefined` when no topic matches. */
export function findTopic(outputs: RunnerOutputs, key: string): Resolved<OutputTopic> | undefined {
  return find(outputs.topics, key, (t) => [topicNameOf(t), t.arn], topicNameOf);
}

/**
 * Finds a function by display name, physical name or ARN (a qualified ARN, `…:function:name:alias`, matches too).
 *
 * @throws UsageError listing the known functions when none matches
 */
export function resolveFunction(outputs: RunnerOutputs, key: string): Resolved<OutputFunction> {
  const found = findFunction(outputs, key);
  if (!found) throw notFound('function', key, outputs.functions);
  return found;
}

/** {@link resolveFunction} without the error: `undefined` when no function matches. */
export function findFunction(outputs: RunnerOutputs, key: string): Resolved<OutputFunction> | undefined {
  const unqualified = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+:[^:]+$/.test(key)
    ? key.slice(0, key.lastIndexOf(':'))
    : key;
  return find(
    outputs.functions,
    unqualified,
    (f) => [f.name, f.arn],
    (f) => f.name,
  );
}

function find<T>(
  entries: Readonly<Record<string, T>>,
  key: string,
  aliases: (entry: T) => readonly string[],
  nameOf: (entry: T) => string,
): Resolved<T> | undefined {
  const wrap = ([displayName, entry]: [string, T]): Resolved<T> => ({ ...entry, displayName, name: nameOf(entry) });
  const all = Object.entries(entries);
  const byDisplayName = all.find(([displayName]) => displayName === key);
  if (byDisplayName) return wrap(byDisplayName);
  const byAlias = all.find(([, entry]) => aliases(entry).includes(key) || aliases(entry).includes(trimSlash(key)));
  return byAlias ? wrap(byAlias) : undefined;
}

function notFound(kind: string, key: string, entries: Readonly<Record<string, unknown>>): UsageError {
  const names = Object.keys(entries);
  const known = names.length ? `Known ${kind}s: ${names.join(', ')}.` : `The app has no ${kind}s.`;
  return new UsageError(
    `No ${kind} '${key}' in the local runner outputs. ${known} Fix: pass one of them (display name, physical name, URL or ARN).`,
  );
}

function lastSegment(text: string, separator: string): string {
  return trimSlash(text).split(separator).pop() ?? '';
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
