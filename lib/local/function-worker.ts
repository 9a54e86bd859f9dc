/**
 * One Lambda execution environment, as a worker thread: what the Node.js Lambda runtime (the runtime interface
 * client) does inside a sandbox, minus the HTTP runtime API. Started by FunctionHost
 * (function-host.ts), never imported.
 *
 * - Init: loads the handler the way the Node.js 22 runtime does (`<moduleRoot>/<module>.<export.path>`: the file
 *   without extension or `.js` via `require` unless the nearest package.json says `"type": "module"`, then `.js`
 *   as ESM in that case, `.mjs` via `import`, `.cjs` via `require`, finally Node resolution from the code folder),
 *   with the runtime's error types (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`,
 *   `Runtime.MalformedHandlerName`, `Runtime.UserCodeSyntaxError`). `@aws-sdk/*` packages the bundle left external
 *   resolve from queuekit's own dependencies when the code folder cannot, as Lambda provides the SDK.
 * - Invoke: one at a time; the event arrives as JSON and is parsed here, the result leaves as JSON (as through the
 *   runtime API); async handlers and callback handlers (`callbackWaitsForEmptyEventLoop` honoured through
 *   `beforeExit`, like the runtime), `context.done/succeed/fail`.
 * - Errors outside the handler's promise (uncaught exception → exit 129, unhandled rejection → exit 128) are
 *   reported for the current request before the thread exits, as the runtime does.
 * - Logs: `process.stdout` / `process.stderr` writes (and so `console.*` and Powertools Logger) are captured line by
 *   line and posted to the host with the request id they belong to; nothing reaches the terminal.
 *
 * The host runs this file without any loader (compiled once to a temporary .mjs, or by Node's own type stripping), so
 * the environment loads nothing but the function's code: erasable syntax only, and no imports of project modules
 * (type imports are fine).
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

/** What the host passes as `workerData`. */
export interface WorkerInit {
  readonly codeDir: string;
  readonly handler: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly functionArn: string;
  readonly memoryMb: number;
  readonly logGroupName: string;
  readonly logStreamName: string;
  /** The request that made the host create this environment: init logs belong to it. */
  readonly firstRequestId: string;
  /** `process.setSourceMapsEnabled(true)` before loading (the function's NODE_OPTIONS has --enable-source-maps). */
  readonly sourceMaps: boolean;
  /** A file URL inside queuekit: `@aws-sdk/*` imports the code folder cannot resolve are resolved from there. */
  readonly providedModulesFrom?: string;
  /** Longest log line posted; longer ones are cut. */
  readonly maxLineChars: number;
}

/** Host → worker. */
export interface InvokeMessage {
  readonly t: 'invoke';
  /** Request id. */
  readonly r: string;
  /** The event, as JSON. */
  readonly e: string;
  /** Deadline, epoch ms. */
  readonly d: number;
}

/** An error as the runtime reports it. */
export interface ErrorShape {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: string[];
}

/** Worker → host. */
export type WorkerMessage =
  | { readonly t: 'log'; readonly r: string; readonly l: string[] }
  | { readonly t: 'ready' }
  | ({ readonly t: 'init-error' } & ErrorShape)
  | { readonly t: 'done'; readonly r: string; readonly ok: true; readonly v: string }
  | ({ readonly t: 'done'; readonly r: string; readonly ok: false } & ErrorShape)
  | ({ readonly t: 'fatal'; readonly r: string; readonly code: number } & ErrorShape);

type Callback = (error?: unknown, result?: unknown) => void;
type UserHandler = (event: unknown, context: unknown, callback: Callback) => unknown;

if (parentPort === null) throw new Error('function-worker.ts runs as a worker thread started by FunctionHost');
const port = parentPort;
const init = workerData as WorkerInit;

// ---------------------------------------------------------------------------------------------------------------
// Logs

let currentRequest = init.firstRequestId;
let lines: string[] = [];
let flushQueued = false;
const partial = { out: '', err: '' };

function flushLogs(): void {
  flushQueued = false;
  if (lines.length === 0) return;
  const batch = lines;
  lines = [];
  port.postMessage({ t: 'log', r: currentRequest, l: batch } satisfies WorkerMessage);
}

function pushLine(line: string): void {
  const end = line.endsWith('\r') ? line.length - 1 : line.length;
  lines.push(
    end > init.maxLineChars
      ? `${line.slice(0, init.maxLineChars)}… [cut at ${init.maxLineChars} chars]`
      : line.slice(0, end),
  );
}

function capture(stream: 'out' | 'err', chunk: unknown): void {
  const text =
    typeof chunk === 'string'
      ? chunk
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8')
        : String(chunk);
  let buffered = partial[stream] + text;
  let start = 0;
  let newline = buffered.indexOf('\n');
  while (newline !== -1) {
    pushLine(buffered.slice(start, newline));
    start = newline + 1;
    newline = buffered.indexOf('\n', start);
  }
  buffered = start === 0 ? buffered : buffered.slice(start);
  if (buffered.length > init.maxLineChars) {
    pushLine(buffered);
    buffered = '';
  }
  partial[stream] = buffered;
  if (!flushQueued && lines.length > 0) {
    flushQueued = true;
    queueMicrotask(flushLogs);
  }
}

/** Ends a partial line (a write without newline) when the invocation ends. */
function endPartialLines(): void {
  if (partial.out !== '') pushLine(partial.out);
  if (partial.err !== '') pushLine(partial.err);
  partial.out = '';
  partial.err = '';
}

function patchStream(target: NodeJS.WriteStream, stream: 'out' | 'err'): void {
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    capture(stream, chunk);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => done());
    return true;
  };
  target.write = write as NodeJS.WriteStream['write'];
}

patchStream(process.stdout, 'out');
patchStream(process.stderr, 'err');

// ---------------------------------------------------------------------------------------------------------------
// Errors, as the runtime reports them

function isErrorLike(value: unknown): value is Error {
  if (value instanceof Error) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Error>;
  return typeof v.name === 'string' && typeof v.message === 'string' && typeof v.stack === 'string';
}

function toShape(error: unknown): ErrorShape {
  try {
    if (isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
}

function runtimeError(type: string, message: string, cause?: unknown): ErrorShape {
  const trace = isErrorLike(cause) && typeof cause.stack === 'string' ? cause.stack.split('\n') : [];
  return { errorType: `Runtime.${type}`, errorMessage: message, trace };
}

/** A failure the runtime reports with its own error type. (No parameter properties: not erasable syntax.) */
class RuntimeFailure extends Error {
  readonly shape: ErrorShape;
  constructor(shape: ErrorShape) {
    super(shape.errorMessage);
    this.shape = shape;
  }
}

function fatal(shape: ErrorShape, code: number): void {
  endPartialLines();
  flushLogs();
  port.postMessage({ t: 'fatal', r: currentRequest, code, ...shape } satisfies WorkerMessage);
  process.exit(code);
}

process.on('uncaughtException', (error) => fatal(toShape(error), 129));
process.on('unhandledRejection', (reason) => {
  const message = isErrorLike(reason) ? `${reason.name}: ${reason.message}` : String(reason);
  fatal(runtimeError('UnhandledPromiseRejection', message, reason), 128);
});

// ---------------------------------------------------------------------------------------------------------------
// Loading the handler (Node.js 22 runtime rules)

const requireFrom = nodeModule.createRequire(import.meta.url);

function hasPackageJsonTypeModule(folder: string): boolean {
  if (folder.endsWith(`${path.sep}node_modules`)) return false;
  const file = path.join(folder, 'package.json');
  if (existsSync(file)) {
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { type?: unknown }).type === 'module';
    } catch {
      return false;
    }
  }
  const parent = path.dirname(folder);
  return parent === folder ? false : hasPackageJsonTypeModule(parent);
}

function tryRequire(file: string): { module: unknown; file: string } | undefined {
  return existsSync(file) ? { module: requireFrom(file), file } : undefined;
}

async function tryImport(file: string): Promise<{ module: unknown; file: string } | undefined> {
  return existsSync(file) ? { module: await import(pathToFileURL(file).href), file } : undefined;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

/** Lets bundles that leave `@aws-sdk/*` external load, as the Lambda runtime provides the SDK v3. */
function provideAwsSdk(from: string): void {
  // Node 22.15+; older versions run without it (the code folder must then resolve the SDK itself).
  const registerHooks = (nodeModule as Partial<typeof nodeModule>).registerHooks;
  if (typeof registerHooks !== 'function') return;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (error) {
        if (!specifier.startsWith('@aws-sdk/') || !isNotFound(error)) throw error;
        return nextResolve(specifier, { ...context, parentURL: from });
      }
    },
  });
}

async function loadModule(moduleBase: string, moduleName: string, moduleRoot: string) {
  const extensionless = tryRequire(moduleBase);
  if (extensionless) return extensionless;
  const typeModule = hasPackageJsonTypeModule(path.dirname(moduleBase));
  if (!typeModule) {
    const cjs = tryRequire(`${moduleBase}.js`);
    if (cjs) return cjs;
  }
  const loaded =
    (typeModule ? await tryImport(`${moduleBase}.js`) : undefined) ??
    (await tryImport(`${moduleBase}.mjs`)) ??
    tryRequire(`${moduleBase}.cjs`);
  if (loaded) return loaded;
  const resolved = requireFrom.resolve(moduleName, { paths: [init.codeDir, path.join(init.codeDir, moduleRoot)] });
  return { module: requireFrom(resolved), file: resolved };
}

function exportNames(module: unknown): string {
  if (typeof module !== 'object' || module === null) return typeof module;
  const names = Object.keys(module);
  return names.length === 0 ? 'nothing' : names.join(', ');
}

async function loadHandler(): Promise<UserHandler> {
  const full = init.handler;
  if (full.includes('..')) {
    throw new RuntimeFailure(
      runtimeError(
        'MalformedHandlerName',
        `'${full}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
      ),
    );
  }
  const handlerString = path.basename(full);
  const moduleRoot = full.substring(0, full.indexOf(handlerString));
  const match = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (match === null) {
    throw new RuntimeFailure(
      runtimeError(
        'MalformedHandlerName',
        `Bad handler '${full}': expected <file>.<export>, e.g. index.handler. Fix: set the function's Handler property.`,
      ),
    );
  }
  const moduleName = match[1] as string;
  const handlerPath = match[2] as string;
  const moduleBase = path.resolve(init.codeDir, moduleRoot, moduleName);
  let loaded: { module: unknown; file: string };
  try {
    loaded = await loadModule(moduleBase, moduleName, moduleRoot);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new RuntimeFailure(runtimeError('UserCodeSyntaxError', `${error.name}: ${error.message}`, error));
    }
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND' && !existsSync(`${moduleBase}.mjs`)) {
      const tried = ['', '.js', '.mjs', '.cjs'].map((ext) => `${moduleName}${ext}`).join(', ');
      throw new RuntimeFailure(
        runtimeError(
          'ImportModuleError',
          `Error: Cannot find module '${moduleName}' for handler '${full}': none of ${tried} exists in ` +
            `${path.dirname(moduleBase)} (${(error as Error).message.split('\n')[0]}). Fix: check the function's ` +
            'Handler and that its asset folder holds the bundled file (run cdk synth again).',
          error,
        ),
      );
    }
    throw error;
  }
  let handler: unknown = loaded.module;
  for (const key of handlerPath.split('.')) {
    handler = handler !== null && handler !== undefined ? (handler as Record<string, unknown>)[key] : undefined;
  }
  if (!handler) {
    throw new RuntimeFailure(
      runtimeError(
        'HandlerNotFound',
        `${full} is undefined or not exported: ${loaded.file} exports ${exportNames(loaded.module)}. ` +
          `Fix: export '${handlerPath}' from that file or point the function's Handler at the export it has.`,
      ),
    );
  }
  if (typeof handler !== 'function') {
    throw new RuntimeFailure(
      runtimeError('HandlerNotFound', `${full} is not a function: ${loaded.file} exports it as ${typeof handler}.`),
    );
  }
  return handler as UserHandler;
}

// ---------------------------------------------------------------------------------------------------------------
// Invoking

let handler: UserHandler | undefined;
let isAsync = false;
/** What runs when the event loop empties during an invocation (the runtime's BeforeExitListener). */
let beforeExit: (() => void) | undefined;

process.on('beforeExit', () => {
  const listener = beforeExit;
  beforeExit = undefined;
  listener?.();
});

function respond(message: WorkerMessage): void {
  endPartialLines();
  flushLogs();
  port.postMessage(message);
  // Back to waiting for the next invocation: the port keeps the thread alive again.
  port.ref();
}

function invoke(message: InvokeMessage): void {
  flushLogs();
  const requestId = message.r;
  currentRequest = requestId;
  const deadline = message.d;
  let finished = false;
  let waitForEmptyEventLoop = true;

  const succeed = (result: unknown): void => {
    let json: string | undefined;
    try {
      json = JSON.stringify(result === undefined ? null : result);
    } catch (error) {
      respond({
        t: 'done',
        r: requestId,
        ok: false,
        ...runtimeError(
          'SerializationError',
          `Unable to stringify response body: ${(error as Error).message}. Fix: return a JSON-serializable value.`,
          error,
        ),
      });
      return;
    }
    respond({ t: 'done', r: requestId, ok: true, v: json ?? 'null' });
  };
  const failWith = (error: unknown): void => {
    respond({ t: 'done', r: requestId, ok: false, ...toShape(error) });
  };
  const once =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      if (finished) return;
      finished = true;
      beforeExit = undefined;
      fn(...args);
    };
  const done = once((error?: unknown, result?: unknown) => {
    if (error !== undefined && error !== null) failWith(error);
    else succeed(result);
  });
  const callback = once((error?: unknown, result?: unknown) => {
    if (error !== undefined && error !== null) failWith(error);
    else if (!waitForEmptyEventLoop) succeed(result);
    // The runtime answers once the event loop is empty (open sockets or timers keep the invocation running).
    else beforeExit = () => succeed(result);
  });
  const context = {
    get callbackWaitsForEmptyEventLoop(): boolean {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      waitForEmptyEventLoop = value;
    },
    succeed: (result?: unknown) => done(null, result),
    fail: (error?: unknown) => done(error === undefined || error === null ? 'handled' : error),
    done,
    functionName: init.functionName,
    functionVersion: init.functionVersion,
    invokedFunctionArn: init.functionArn,
    memoryLimitInMB: String(init.memoryMb),
    awsRequestId: requestId,
    logGroupName: init.logGroupName,
    logStreamName: init.logStreamName,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: (): number => Math.max(0, deadline - Date.now()),
  };

  // Neither a settled promise nor a callback, and nothing left to run: the runtime answers null for a sync
  // handler and fails an async one whose promise can never settle.
  beforeExit = () => {
    if (finished) return;
    finished = true;
    if (isAsync) {
      failWith(
        Object.assign(
          new Error(
            'The Lambda runtime client detected an unexpected Node.js exit: the event loop emptied while the ' +
              "handler's promise was still pending. This is most commonly caused by a Promise that is never settled.",
          ),
          { name: 'Runtime.NodeJsExit' },
        ),
      );
    } else succeed(null);
  };
  // Let the event loop empty (and 'beforeExit' fire) while the invocation runs.
  port.unref();

  let event: unknown;
  try {
    event = JSON.parse(message.e);
  } catch (error) {
    done(error);
    return;
  }
  try {
    const result = (handler as UserHandler)(event, context, callback);
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      (result as PromiseLike<unknown>).then(
        (value) => done(null, value),
        (error: unknown) => done(error === undefined || error === null ? 'handled' : error),
      );
    }
  } catch (error) {
    callback(error);
  }
}

port.on('message', (message: InvokeMessage) => {
  if (message.t === 'invoke') invoke(message);
});

async function initialize(): Promise<void> {
  try {
    if (init.sourceMaps) process.setSourceMapsEnabled(true);
    if (init.providedModulesFrom !== undefined) provideAwsSdk(init.providedModulesFrom);
    handler = await loadHandler();
    isAsync = handler.constructor?.name === 'AsyncFunction';
  } catch (error) {
    const shape = error instanceof RuntimeFailure ? error.shape : toShape(error);
    endPartialLines();
    flushLogs();
    port.postMessage({ t: 'init-error', ...shape } satisfies WorkerMessage);
    return;
  }
  flushLogs();
  port.postMessage({ t: 'ready' } satisfies WorkerMessage);
}

void initialize();
