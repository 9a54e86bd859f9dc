/**
 * Runs one Lambda function locally the way Lambda does: execution environments created on demand, one invocation
 * at a time each, init once per environment (cold start), the function timeout enforced by resetting the
 * environment, crashes confined to the invocation that caused them, logs captured per request.
 *
 * Each execution environment is a `worker_threads` Worker running function-worker.ts, with the function's own
 * environment variables plus Lambda's reserved ones and a heap sized from the function's memory. Worker threads
 * rather than child processes: measured by bench/isolation-bench.ts (cold start, round trip and memory per
 * environment; see the README's design notes).
 *
 * What is not the same as in AWS: the environments share this process (so `fs.writeSync(1, …)`, `process.chdir`,
 * `process.env.TZ` and native addons are process-wide), an idle environment is not frozen (timers left running
 * after a response fire between invocations instead of at the next one), and response streaming is not emulated.
 *
 * @example
 * const host = new FunctionHost(fn, { extraEnv: { AWS_ENDPOINT_URL: endpoint }, onLog: (line, id) => view.log(id, line) });
 * const result = await host.invoke(event, { deadlineMs: Date.now() + fn.timeoutSeconds * 1000 });
 * if (!result.ok) console.error(result.reason, result.errorType, result.errorMessage);
 * await host.close();
 *
 * @module
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LocalFunction } from './app-model.js';
import { LocalRunnerError } from './errors.js';
import type { ErrorShape, InvokeMessage, WorkerInit, WorkerMessage } from './function-worker.js';
import { DEFAULT_LOCAL_CONCURRENCY } from './limits.js';

/** Lambda: largest synchronous invocation request and response, in bytes (6 MB). */
export const LAMBDA_MAX_PAYLOAD_BYTES = 6_291_456;
/** Lambda: the init phase of an on-demand environment may take 10 s before the invocation's own timeout applies. */
export const LAMBDA_INIT_LIMIT_MS = 10_000;
/** Default bounds of the log lines kept per invocation (every line still goes to `onLog`). */
export const DEFAULT_MAX_LOG_LINES = 200;
export const DEFAULT_MAX_LOG_BYTES = 65_536;

/** Why an invocation failed. */
export type InvokeFailureReason =
  /** The handler threw, rejected or returned an error (also: the function's code failed to load). */
  | 'error'
  /** The invocation ran past its deadline: the environment was reset. */
  | 'timeout'
  /** The environment died (process.exit, uncaught exception, unhandled rejection, out of memory). */
  | 'crash';

interface InvokeResultBase {
  readonly requestId: string;
  /** From handing the event to the environment to its answer (init excluded). */
  readonly durationMs: number;
  /** Set on a cold start: spawning the environment and loading the function's code. */
  readonly initDurationMs?: number;
  /** The invocation's log lines, the last {@link FunctionHostOptions.maxLogLines} within {@link FunctionHostOptions.maxLogBytes}. */
  readonly logs: string[];
}

/** The handler returned (or called back) a value. */
export interface InvokeSuccess extends InvokeResultBase {
  readonly ok: true;
  /** The response after a JSON round trip, as Lambda returns it (`undefined` becomes `null`). */
  readonly result: unknown;
}

/** The invocation failed; the error is reported the way Lambda's runtime reports it. */
export interface InvokeFailure extends InvokeResultBase {
  readonly ok: false;
  /** e.g. `Error`, `TypeError`, `Sandbox.Timedout`, `Runtime.ExitError`, `Runtime.ImportModuleError`. */
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stackTrace: string[];
  readonly reason: InvokeFailureReason;
}

export type InvokeResult = InvokeSuccess | InvokeFailure;

export interface InvokeOptions {
  /** @default a random UUID */
  readonly requestId?: string;
  /**
   * Latest end of the invocation, epoch ms, as seen when `invoke` is called. Time spent waiting for an environment
   * and initializing one does not count against it (Lambda's timeout starts after init), so
   * `Date.now() + timeoutSeconds * 1000` gives exactly the function timeout. The function timeout always applies
   * too; this ends the invocation earlier when it comes first.
   * @default - the function timeout only
   */
  readonly deadlineMs?: number;
}

export interface FunctionHostOptions {
  /**
   * Most execution environments at once (the function's concurrency).
   * @default the function's reserved concurrency, else 10
   */
  readonly maxEnvironments?: number;
  /**
   * Region of `AWS_REGION` / `AWS_DEFAULT_REGION`.
   * @default the region of the function's ARN
   */
  readonly region?: string;
  /**
   * Variables added on top of the function's environment and Lambda's reserved ones (they win), e.g.
   * `AWS_ENDPOINT_URL` and the credentials the function should use.
   * @default none
   */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Every line the function writes, as it writes it, with the request it belongs to. */
  readonly onLog?: (line: string, requestId: string) => void;
  /** @default 200 */
  readonly maxLogLines?: number;
  /** @default 65536 */
  readonly maxLogBytes?: number;
}

/** Point-in-time counters of a host. */
export interface FunctionHostStats {
  /** Live environments (starting, idle or busy). */
  readonly environments: number;
  /** Environments running an invocation (or the init before it). */
  readonly busy: number;
  /** Invocations under way: running in an environment or waiting for one. */
  readonly running: number;
  readonly idle: number;
  /** Invocations waiting for an environment. */
  readonly waiting: number;
  /** Invocations started since the host was created. */
  readonly invocations: number;
  readonly coldStarts: number;
}

let workerEntry: { readonly url: URL; readonly execArgv: string[] | undefined } | undefined;

/**
 * The environment's entry point. From TypeScript sources, function-worker.ts is compiled once per version into a
 * temporary .mjs file: Node's own type stripping costs ~40 ms per environment (it initializes in every thread),
 * a third of a cold start. Environments start clean: no loader of this process (tsx, vitest) is inherited.
 */
function entry(): { readonly url: URL; readonly execArgv: string[] | undefined } {
  if (workerEntry !== undefined) return workerEntry;
  if (!import.meta.url.endsWith('.ts')) {
    workerEntry = { url: new URL('./function-worker.js', import.meta.url), execArgv: [] };
    return workerEntry;
  }
  const source = fileURLToPath(new URL('./function-worker.ts', import.meta.url));
  try {
    const text = readFileSync(source, 'utf8');
    const file = join(
      tmpdir(),
      `queuekit-function-worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`,
    );
    if (!existsSync(file)) {
      const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
      const { code } = esbuild.transformSync(text, {
        loader: 'ts',
        format: 'esm',
        target: 'node22',
        sourcefile: source,
      });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, code);
      renameSync(temporary, file);
    }
    workerEntry = { url: pathToFileURL(file), execArgv: [] };
  } catch {
    // Node strips the types itself (22.18+), else the inherited loader (tsx) reads the file.
    workerEntry = { url: pathToFileURL(source), execArgv: process.features.typescript ? [] : undefined };
  }
  return workerEntry;
}
const SOURCE_MAPS_FLAG = /(?:^|\s)--enable-source-maps(?:\s|$)/;

type Kill = 'timeout' | 'reload' | 'close' | 'init-failed';

interface Pending {
  readonly requestId: string;
  readonly resolve: (result: InvokeResult) => void;
  readonly logs: string[];
  logBytes: number;
  dropped: number;
  started: number;
  initDurationMs: number | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Seconds to report in the timeout message. */
  timeoutSeconds: number;
}

interface Environment {
  readonly id: number;
  readonly worker: Worker;
  readonly generation: number;
  readonly exited: Promise<void>;
  ready: boolean;
  /** Set while init runs: settles when the worker reports ready or failed. */
  onReady: ((failure: InvokeFailureShape | undefined) => void) | undefined;
  pending: Pending | undefined;
  lastRequestId: string;
  killed: Kill | undefined;
  dead: boolean;
  fatal: (ErrorShape & { code: number }) | undefined;
  error: Error | undefined;
}

type InvokeFailureShape = ErrorShape & { readonly reason: InvokeFailureReason };

function logStreamName(): string {
  const d = new Date();
  const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

function regionOf(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region === undefined || region === '' ? undefined : region;
}

/** JSON size in bytes without encoding when the string is surely small enough. */
function exceedsPayloadLimit(json: string): boolean {
  return json.length * 3 > LAMBDA_MAX_PAYLOAD_BYTES && Buffer.byteLength(json) > LAMBDA_MAX_PAYLOAD_BYTES;
}

/** Runs one function's invocations in Lambda-like execution environments. See the module docs. */
export class FunctionHost {
  readonly maxEnvironments: number;
  private readonly environments = new Set<Environment>();
  private readonly idle: Environment[] = [];
  private readonly waiters: { readonly requestId: string; readonly resolve: (env: Environment) => void }[] = [];
  private readonly baseEnv: Record<string, string>;
  private readonly region: string;
  private readonly maxLogLines: number;
  private readonly maxLogBytes: number;
  private readonly onLog: ((line: string, requestId: string) => void) | undefined;
  private readonly sourceMaps: boolean;
  private generation = 0;
  private nextId = 1;
  private active = 0;
  private invocations = 0;
  private coldStarts = 0;
  private closing = false;
  private drained: (() => void) | undefined;

  constructor(
    readonly fn: LocalFunction,
    options: FunctionHostOptions = {},
  ) {
    this.maxEnvironments = options.maxEnvironments ?? fn.reservedConcurrency ?? DEFAULT_LOCAL_CONCURRENCY;
    if (!Number.isInteger(this.maxEnvironments) || this.maxEnvironments < 0) {
      throw new RangeError(
        `maxEnvironments of ${fn.displayName} is ${this.maxEnvironments}: it must be a whole number ≥ 0 ` +
          '(0 throttles every invocation, like reserved concurrency 0).',
      );
    }
    this.region = options.region ?? regionOf(fn.arn) ?? 'us-east-1';
    this.maxLogLines = options.maxLogLines ?? DEFAULT_MAX_LOG_LINES;
    this.maxLogBytes = options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES;
    this.onLog = options.onLog;
    this.baseEnv = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      ...fn.environment,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      LAMBDA_TASK_ROOT: fn.codeDir,
      _HANDLER: fn.handler,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      ...options.extraEnv,
    };
    this.sourceMaps = SOURCE_MAPS_FLAG.test(this.baseEnv.NODE_OPTIONS ?? '');
  }

  /**
   * Invokes the function with `payload` (sent as JSON, like Lambda's Invoke). Waits for a free environment when
   * all {@link maxEnvironments} are busy, creating one (a cold start) when fewer exist. Resolves with the
   * response or the error; never rejects for anything the function does.
   *
   * @throws LocalRunnerError when the host is closed
   */
  async invoke(payload: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    if (this.closing) {
      throw new LocalRunnerError(
        `FunctionHost of ${this.fn.displayName} is closed: create a new one to invoke it again.`,
      );
    }
    const requestId = options.requestId ?? randomUUID();
    let json: string;
    try {
      json = JSON.stringify(payload === undefined ? null : payload);
    } catch (error) {
      return failure(requestId, {
        errorType: 'InvalidRequestContentException',
        errorMessage: `Could not serialize the event as JSON: ${(error as Error).message}`,
        trace: [],
        reason: 'error',
      });
    }
    if (exceedsPayloadLimit(json)) {
      return failure(requestId, {
        errorType: 'RequestEntityTooLargeException',
        errorMessage:
          `Request must be smaller than ${LAMBDA_MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation ` +
          `(this event is ${Buffer.byteLength(json)} bytes). Fix: send a reference (e.g. an S3 key) instead of the data.`,
        trace: [],
        reason: 'error',
      });
    }
    if (this.maxEnvironments === 0) {
      return failure(requestId, {
        errorType: 'TooManyRequestsException',
        errorMessage: `Rate Exceeded: ${this.fn.displayName} has reserved concurrency 0, which throttles every invocation.`,
        trace: [],
        reason: 'error',
      });
    }
    this.invocations++;
    this.active++;
    const queuedAt = options.deadlineMs === undefined ? 0 : Date.now();
    try {
      const env =
        this.idle.pop() ??
        (this.environments.size < this.maxEnvironments
          ? this.spawn(requestId)
          : await new Promise<Environment>((resolve) => this.waiters.push({ requestId, resolve })));
      return await this.run(env, requestId, json, options.deadlineMs, queuedAt);
    } finally {
      this.active--;
      if (this.active === 0) this.drained?.();
    }
  }

  /**
   * New code: later invocations get fresh environments that load the function's code again; idle environments
   * are ended now, busy ones when their invocation ends. Resolves when every old environment has exited.
   */
  async reload(): Promise<void> {
    this.generation++;
    const old = [...this.environments].filter((env) => env.generation < this.generation);
    for (const env of this.idle.splice(0)) this.kill(env, 'reload');
    this.dispatch();
    await Promise.all(old.map((env) => env.exited));
  }

  /** Waits for the invocations under way and those waiting, then ends every environment. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.active > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    const all = [...this.environments];
    for (const env of all) this.kill(env, 'close');
    this.idle.length = 0;
    await Promise.all(all.map((env) => env.exited));
  }

  stats(): FunctionHostStats {
    let busy = 0;
    for (const env of this.environments) if (env.pending !== undefined) busy++;
    return {
      environments: this.environments.size,
      busy,
      running: this.active,
      idle: this.idle.length,
      waiting: this.waiters.length,
      invocations: this.invocations,
      coldStarts: this.coldStarts,
    };
  }

  // -------------------------------------------------------------------------------------------------------------

  private spawn(requestId: string): Environment {
    this.coldStarts++;
    const streamName = logStreamName();
    const workerData: WorkerInit = {
      codeDir: this.fn.codeDir,
      handler: this.fn.handler,
      functionName: this.fn.name,
      functionVersion: '$LATEST',
      functionArn: this.fn.arn,
      memoryMb: this.fn.memoryMb,
      logGroupName: `/aws/lambda/${this.fn.name}`,
      logStreamName: streamName,
      firstRequestId: requestId,
      sourceMaps: this.sourceMaps,
      providedModulesFrom: import.meta.url,
      maxLineChars: this.maxLogBytes,
    };
    const { url, execArgv } = entry();
    const worker = new Worker(url, {
      workerData,
      env: { ...this.baseEnv, AWS_LAMBDA_LOG_STREAM_NAME: streamName },
      execArgv,
      stdin: false,
      stdout: true,
      stderr: true,
      name: `${this.fn.displayName} environment ${this.nextId}`,
      resourceLimits: {
        // As the Node.js runtime's bootstrap does: --max-old-space-size = memory − memory/10 (the new space's share).
        maxOldGenerationSizeMb: Math.max(16, this.fn.memoryMb - Math.floor(this.fn.memoryMb / 10)),
      },
    });
    let exited!: () => void;
    const env: Environment = {
      id: this.nextId++,
      worker,
      generation: this.generation,
      exited: new Promise<void>((resolve) => (exited = resolve)),
      ready: false,
      onReady: undefined,
      pending: undefined,
      lastRequestId: requestId,
      killed: undefined,
      dead: false,
      fatal: undefined,
      error: undefined,
    };
    this.environments.add(env);
    worker.on('message', (message: WorkerMessage) => this.onMessage(env, message));
    worker.on('error', (error) => {
      env.error = error;
    });
    worker.on('exit', (code) => {
      this.onExit(env, code);
      exited();
    });
    // Anything written past the patched streams (there should be nothing) still goes to the log, not the terminal.
    const stray = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.log(env, env.lastRequestId, line);
    };
    worker.stdout.on('data', stray);
    worker.stderr.on('data', stray);
    return env;
  }

  private async run(
    env: Environment,
    requestId: string,
    json: string,
    deadlineMs: number | undefined,
    queuedAt: number,
  ): Promise<InvokeResult> {
    env.lastRequestId = requestId;
    return new Promise<InvokeResult>((resolve) => {
      const pending: Pending = {
        requestId,
        resolve,
        logs: [],
        logBytes: 0,
        dropped: 0,
        started: performance.now(),
        initDurationMs: undefined,
        timer: undefined,
        timeoutSeconds: this.fn.timeoutSeconds,
      };
      env.pending = pending;
      if (env.ready) {
        this.send(env, pending, json, deadlineMs, queuedAt);
        return;
      }
      const initStarted = pending.started;
      // Init may take Lambda's init limit; past it Lambda re-runs init inside the invocation's own timeout.
      pending.timer = setTimeout(
        () => this.timeOut(env, (LAMBDA_INIT_LIMIT_MS + this.fn.timeoutSeconds * 1000) / 1000),
        LAMBDA_INIT_LIMIT_MS + this.fn.timeoutSeconds * 1000,
      );
      env.onReady = (initFailure) => {
        env.onReady = undefined;
        clearTimeout(pending.timer);
        pending.initDurationMs = performance.now() - initStarted;
        if (initFailure !== undefined) {
          // Lambda resets an environment whose init failed; the next invocation initializes a new one.
          if (!env.dead) this.kill(env, 'init-failed');
          this.complete(env, pending, { ok: false, ...initFailure });
          return;
        }
        env.ready = true;
        this.send(env, pending, json, deadlineMs, queuedAt);
      };
    });
  }

  private send(
    env: Environment,
    pending: Pending,
    json: string,
    deadlineMs: number | undefined,
    queuedAt: number,
  ): void {
    const now = Date.now();
    let deadline = now + this.fn.timeoutSeconds * 1000;
    if (deadlineMs !== undefined) {
      const callerDeadline = deadlineMs + (now - queuedAt);
      if (callerDeadline < deadline) {
        deadline = callerDeadline;
        pending.timeoutSeconds = Math.max(0, callerDeadline - now) / 1000;
      }
    }
    pending.started = performance.now();
    pending.timer = setTimeout(() => this.timeOut(env, pending.timeoutSeconds), Math.max(0, deadline - now));
    env.worker.postMessage({ t: 'invoke', r: pending.requestId, e: json, d: deadline } satisfies InvokeMessage);
  }

  private onMessage(env: Environment, message: WorkerMessage): void {
    switch (message.t) {
      case 'log':
        for (const line of message.l) this.log(env, message.r, line);
        return;
      case 'ready':
        if (env.onReady !== undefined) env.onReady(undefined);
        else env.ready = true;
        return;
      case 'init-error':
        if (env.onReady === undefined) {
          this.kill(env, 'init-failed');
          return;
        }
        env.onReady({
          errorType: message.errorType,
          errorMessage: message.errorMessage,
          trace: message.trace,
          reason: 'error',
        });
        return;
      case 'done': {
        const pending = env.pending;
        if (pending === undefined || pending.requestId !== message.r) return;
        if (!message.ok) {
          this.complete(env, pending, {
            ok: false,
            errorType: message.errorType,
            errorMessage: message.errorMessage,
            trace: message.trace,
            reason: 'error',
          });
        } else if (exceedsPayloadLimit(message.v)) {
          this.complete(env, pending, {
            ok: false,
            errorType: 'Function.ResponseSizeTooLarge',
            errorMessage:
              `Response payload size exceeded maximum allowed payload size (${LAMBDA_MAX_PAYLOAD_BYTES} bytes): ` +
              `the response is ${Buffer.byteLength(message.v)} bytes. Fix: return a reference (e.g. an S3 key).`,
            trace: [],
            reason: 'error',
          });
        } else {
          this.complete(env, pending, { ok: true, result: JSON.parse(message.v) });
        }
        return;
      }
      case 'fatal':
        env.fatal = message;
        return;
    }
  }

  private log(env: Environment, requestId: string, line: string): void {
    this.onLog?.(line, requestId);
    const pending = env.pending;
    if (pending === undefined || pending.requestId !== requestId) return;
    pending.logs.push(line);
    pending.logBytes += line.length;
    while (pending.logs.length > this.maxLogLines || (pending.logBytes > this.maxLogBytes && pending.logs.length > 1)) {
      pending.logBytes -= (pending.logs.shift() as string).length;
      pending.dropped++;
    }
  }

  private timeOut(env: Environment, seconds: number): void {
    const pending = env.pending;
    if (pending === undefined) return;
    // Lambda resets the sandbox: the handler's work is abandoned, the next invocation gets a new environment.
    this.kill(env, 'timeout');
    this.complete(env, pending, {
      ok: false,
      errorType: 'Sandbox.Timedout',
      errorMessage: `Task timed out after ${seconds.toFixed(2)} seconds`,
      trace: [],
      reason: 'timeout',
    });
  }

  private onExit(env: Environment, code: number): void {
    const wasLive = !env.dead;
    env.dead = true;
    this.environments.delete(env);
    const at = this.idle.indexOf(env);
    if (at !== -1) this.idle.splice(at, 1);
    if (env.killed === undefined) {
      const crash = this.crashOf(env, code);
      if (env.onReady !== undefined) env.onReady(crash);
      else if (env.pending !== undefined) this.complete(env, env.pending, { ok: false, ...crash });
      else {
        this.onLog?.(
          `[queuekit] execution environment ${env.id} of ${this.fn.displayName} exited while idle ` +
            `(${crash.errorType}: ${crash.errorMessage}); the next invocation starts a new one`,
          env.lastRequestId,
        );
      }
    }
    if (wasLive) this.dispatch();
  }

  private crashOf(env: Environment, code: number): InvokeFailureShape {
    if (env.fatal !== undefined) {
      return {
        errorType: env.fatal.errorType,
        errorMessage: env.fatal.errorMessage,
        trace: env.fatal.trace,
        reason: 'crash',
      };
    }
    const error = env.error as (Error & { code?: string }) | undefined;
    if (error?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return {
        errorType: 'Runtime.OutOfMemory',
        errorMessage:
          `Runtime exited with error: out of memory (${this.fn.memoryMb} MB function, JS heap limit reached). ` +
          'Fix: raise the function memory size or keep less in memory at once.',
        trace: [],
        reason: 'crash',
      };
    }
    if (error !== undefined) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack?.split('\n') ?? [],
        reason: 'crash',
      };
    }
    return {
      errorType: 'Runtime.ExitError',
      errorMessage:
        code === 0 ? 'Runtime exited without providing a reason' : `Runtime exited with error: exit status ${code}`,
      trace: [],
      reason: 'crash',
    };
  }

  private complete(
    env: Environment,
    pending: Pending,
    outcome: { ok: true; result: unknown } | ({ ok: false } & InvokeFailureShape),
  ): void {
    if (env.pending !== pending) return;
    env.pending = undefined;
    clearTimeout(pending.timer);
    const durationMs = performance.now() - pending.started;
    const logs = pending.logs;
    if (pending.dropped > 0) logs.unshift(`[queuekit] ${pending.dropped} earlier log lines of this invocation dropped`);
    const base = {
      requestId: pending.requestId,
      durationMs,
      ...(pending.initDurationMs !== undefined ? { initDurationMs: pending.initDurationMs } : {}),
      logs,
    };
    pending.resolve(
      outcome.ok
        ? { ...base, ok: true, result: outcome.result }
        : {
            ...base,
            ok: false,
            errorType: outcome.errorType,
            errorMessage: outcome.errorMessage,
            stackTrace: outcome.trace,
            reason: outcome.reason,
          },
    );
    if (env.dead) return;
    if (env.generation < this.generation) this.kill(env, 'reload');
    else this.release(env);
  }

  /** Hands a free environment to the oldest waiter, or parks it. */
  private release(env: Environment): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter.resolve(env);
    else this.idle.push(env);
  }

  /** After an environment ended: start new ones for waiters while there is room. */
  private dispatch(): void {
    while (this.waiters.length > 0 && this.environments.size < this.maxEnvironments) {
      const waiter = this.waiters.shift() as (typeof this.waiters)[number];
      waiter.resolve(this.spawn(waiter.requestId));
    }
  }

  private kill(env: Environment, why: Kill): void {
    if (env.dead) return;
    env.dead = true;
    env.killed = why;
    this.environments.delete(env);
    const at = this.idle.indexOf(env);
    if (at !== -1) this.idle.splice(at, 1);
    void env.worker.terminate();
    this.dispatch();
  }
}

function failure(requestId: string, shape: InvokeFailureShape): InvokeFailure {
  return {
    requestId,
    ok: false,
    errorType: shape.errorType,
    errorMessage: shape.errorMessage,
    stackTrace: shape.trace,
    durationMs: 0,
    logs: [],
    reason: shape.reason,
  };
}
