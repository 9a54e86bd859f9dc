/**
 * FunctionHost: Lambda execution environments as worker threads. Handler fixtures are small .mjs/.cjs files written
 * to a temporary folder (the shape of a bundled asset), loaded and run exactly as the local runner runs a function.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../lib/local/app-model.js';
import {
  FunctionHost,
  type FunctionHostOptions,
  type InvokeFailure,
  type InvokeResult,
} from '../../lib/local/function-host.js';
import { DEFAULT_LOCAL_CONCURRENCY } from '../../lib/local/limits.js';

let root: string;
let codeDir: string;
const hosts: FunctionHost[] = [];

/** A bundled asset: index.mjs with one export per behaviour under test. */
const INDEX_MJS = `
const environmentId = Math.random().toString(36).slice(2);
let invocations = 0;
console.log('init: loading index.mjs');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const ok = async (event, context) => {
  invocations++;
  return { echo: event, environmentId, invocations, requestId: context.awsRequestId };
};
export const throws = async () => {
  throw new TypeError('the order has no id');
};
export const sleeps = async (event) => {
  await sleep(event.ms);
  return { environmentId };
};
export const exits = async () => {
  process.exit(3);
};
export const uncaught = async () => {
  setTimeout(() => { throw new RangeError('thrown from a timer'); }, 5);
  await sleep(2000);
};
export const unhandled = async () => {
  Promise.reject(new Error('nobody awaits me'));
  await sleep(2000);
};
export const oom = async () => {
  const hoard = [];
  for (;;) hoard.push(new Array(1e5).fill(Math.random()));
};
export const logs = async (event, context) => {
  console.log('plain line');
  console.error('error line');
  console.log('two\\nlines');
  process.stdout.write('partial ');
  process.stdout.write('line\\n');
  process.stdout.write(JSON.stringify({ level: 'INFO', message: 'powertools style', requestId: context.awsRequestId }) + '\\n');
  process.stderr.write('unterminated');
  for (let i = 0; i < event.extra; i++) console.log('extra ' + i);
  return 'logged';
};
export const callbackStyle = (event, context, callback) => {
  if (event.fail) return callback(new Error('callback error'));
  if (event.dontWait) context.callbackWaitsForEmptyEventLoop = false;
  // A timer still pending when the callback is called: by default the runtime answers once the loop is empty.
  setTimeout(() => console.log('timer fired'), event.timerMs ?? 0);
  callback(null, { via: 'callback', waits: context.callbackWaitsForEmptyEventLoop });
};
export const succeedStyle = (event, context) => {
  context.succeed({ via: 'context.succeed' });
};
export const syncNoAnswer = () => {};
export const neverSettles = async () => new Promise(() => {});
export const returnsUndefined = async () => undefined;
export const environment = async () => ({ ...process.env });
export const context = async (event, context) => ({
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  awsRequestId: context.awsRequestId,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  waits: context.callbackWaitsForEmptyEventLoop,
  streamEnv: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
});
export const notAFunction = 42;
`;

function fn(handler: string, overrides: Partial<LocalFunction> = {}): LocalFunction {
  return {
    logicalId: 'OrdersFunction',
    stackName: 'Compute',
    path: 'Compute/Orders/Function',
    displayName: 'Orders',
    name: 'Compute-OrdersFunction',
    arn: 'arn:aws:lambda:eu-west-1:000000000000:function:Compute-OrdersFunction',
    handler,
    codeDir,
    runtime: 'nodejs22.x',
    timeoutSeconds: 3,
    memoryMb: 256,
    environment: { TABLE_NAME: 'orders', SHARED: 'from-function' },
    ...overrides,
  };
}

function host(
  handler: string,
  overrides: Partial<LocalFunction> = {},
  options: FunctionHostOptions = {},
): FunctionHost {
  const h = new FunctionHost(fn(handler, overrides), options);
  hosts.push(h);
  return h;
}

function failed(result: InvokeResult): InvokeFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.result)}`);
  return result;
}

function succeeded(result: InvokeResult): unknown {
  if (!result.ok) throw new Error(`expected success, got ${result.errorType}: ${result.errorMessage}`);
  return result.result;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'queuekit-host-'));
  codeDir = join(root, 'asset.index');
  mkdirSync(codeDir);
  writeFileSync(join(codeDir, 'index.mjs'), INDEX_MJS);
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('invocations', () => {
  it('returns the response, with a cold start only on the first invocation of an environment', async () => {
    const h = host('index.ok');
    const first = await h.invoke({ orderId: 'o-1' }, { requestId: 'req-1' });
    expect(first).toMatchObject({ ok: true, requestId: 'req-1', logs: ['init: loading index.mjs'] });
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(succeeded(first)).toMatchObject({ echo: { orderId: 'o-1' }, invocations: 1, requestId: 'req-1' });

    const second = await h.invoke({ orderId: 'o-2' });
    expect(second.initDurationMs).toBeUndefined();
    expect(second.logs).toEqual([]);
    const a = succeeded(first) as { environmentId: string };
    const b = succeeded(second) as { environmentId: string; invocations: number };
    expect(b.environmentId).toBe(a.environmentId);
    expect(b.invocations).toBe(2);
    expect(h.stats()).toMatchObject({ environments: 1, idle: 1, busy: 0, running: 0, invocations: 2, coldStarts: 1 });
  });

  it('sends the event and the response through JSON, like the Invoke API', async () => {
    const echoed = succeeded(await host('index.ok').invoke({ at: new Date(0), skip: undefined, n: 1 })) as {
      echo: unknown;
    };
    expect(echoed.echo).toEqual({ at: '1970-01-01T00:00:00.000Z', n: 1 });
    expect(succeeded(await host('index.returnsUndefined').invoke({}))).toBeNull();
  });

  it('reports a thrown error with its type, message and stack, and keeps the environment', async () => {
    const h = host('index.throws');
    const result = failed(await h.invoke({}));
    expect(result).toMatchObject({ reason: 'error', errorType: 'TypeError', errorMessage: 'the order has no id' });
    expect(result.stackTrace[0]).toBe('TypeError: the order has no id');
    expect(result.stackTrace.join('\n')).toContain('index.mjs');
    const again = await h.invoke({});
    expect(again.initDurationMs).toBeUndefined();
    expect(h.stats().coldStarts).toBe(1);
  });

  it('times out at the function timeout like Lambda, resets the environment and starts a new one', async () => {
    const h = host('index.sleeps', { timeoutSeconds: 1 });
    const warm = succeeded(await h.invoke({ ms: 1 })) as { environmentId: string };
    const started = Date.now();
    const result = failed(await h.invoke({ ms: 10_000 }));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toMatchObject({
      reason: 'timeout',
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Task timed out after 1.00 seconds',
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(990);
    const next = await h.invoke({ ms: 1 });
    expect(next.initDurationMs).toBeGreaterThan(0);
    expect((succeeded(next) as { environmentId: string }).environmentId).not.toBe(warm.environmentId);
  });

  it('ends the invocation at an earlier deadline given by the caller', async () => {
    const result = failed(
      await host('index.sleeps', { timeoutSeconds: 30 }).invoke({ ms: 10_000 }, { deadlineMs: Date.now() + 700 }),
    );
    expect(result.reason).toBe('timeout');
    expect(result.errorMessage).toMatch(/^Task timed out after 0\.\d\d seconds$/);
  });

  it('does not count a cold start against the caller deadline (Lambda times the invoke phase)', async () => {
    const h = host('index.sleeps', { timeoutSeconds: 1 });
    const result = failed(await h.invoke({ ms: 10_000 }, { deadlineMs: Date.now() + 1_000 }));
    expect(result.initDurationMs).toBeGreaterThan(0);
    expect(result.errorMessage).toBe('Task timed out after 1.00 seconds');
  });
});

describe('crashes fail only their invocation', () => {
  it('process.exit: Runtime.ExitError, then a new environment', async () => {
    const h = host('index.exits');
    const result = failed(await h.invoke({}));
    expect(result).toMatchObject({
      reason: 'crash',
      errorType: 'Runtime.ExitError',
      errorMessage: 'Runtime exited with error: exit status 3',
    });
    expect(h.stats().environments).toBe(0);
    expect(failed(await h.invoke({})).reason).toBe('crash');
    expect(h.stats().coldStarts).toBe(2);
  });

  it('an uncaught exception outside the handler promise is reported for the running request', async () => {
    const result = failed(await host('index.uncaught').invoke({}));
    expect(result).toMatchObject({ reason: 'crash', errorType: 'RangeError', errorMessage: 'thrown from a timer' });
  });

  it('an unhandled rejection: Runtime.UnhandledPromiseRejection', async () => {
    const result = failed(await host('index.unhandled').invoke({}));
    expect(result).toMatchObject({
      reason: 'crash',
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: 'Error: nobody awaits me',
    });
  });

  it('running out of the function memory: Runtime.OutOfMemory; the host goes on', async () => {
    const h = host('index.oom', { memoryMb: 128 });
    const result = failed(await h.invoke({}));
    expect(result).toMatchObject({ reason: 'crash', errorType: 'Runtime.OutOfMemory' });
    expect(result.errorMessage).toContain('128 MB');
    const ok = host('index.ok', { memoryMb: 128 });
    expect((await ok.invoke({})).ok).toBe(true);
  });

  it('an async handler whose promise can never settle fails when the event loop empties', async () => {
    const result = failed(await host('index.neverSettles').invoke({}));
    expect(result).toMatchObject({ reason: 'error', errorType: 'Runtime.NodeJsExit' });
  });
});

describe('logs', () => {
  it('captures console and stream writes line by line, for the request, without printing them', async () => {
    const seen: [string, string][] = [];
    const h = host('index.logs', {}, { onLog: (line, requestId) => seen.push([requestId, line]) });
    const result = await h.invoke({ extra: 0 }, { requestId: 'req-logs' });
    const expected = [
      'init: loading index.mjs',
      'plain line',
      'error line',
      'two',
      'lines',
      'partial line',
      JSON.stringify({ level: 'INFO', message: 'powertools style', requestId: 'req-logs' }),
      'unterminated',
    ];
    expect(result.logs).toEqual(expected);
    expect(seen).toEqual(expected.map((line) => ['req-logs', line]));
  });

  it('keeps the last lines within the bounds; onLog still gets every line', async () => {
    let all = 0;
    const h = host('index.logs', {}, { maxLogLines: 5, onLog: () => all++ });
    const result = await h.invoke({ extra: 20 });
    expect(result.logs).toHaveLength(6);
    expect(result.logs[0]).toMatch(/^\[queuekit\] 23 earlier log lines of this invocation dropped$/);
    // A partial line (no newline) is ended when the invocation ends.
    expect(result.logs.slice(-2)).toEqual(['extra 19', 'unterminated']);
    expect(all).toBe(28);
  });
});

describe('handler styles', () => {
  it('callback style: answers once the event loop is empty, unless callbackWaitsForEmptyEventLoop is false', async () => {
    const h = host('index.callbackStyle');
    const waited = await h.invoke({ timerMs: 300 });
    expect(succeeded(waited)).toEqual({ via: 'callback', waits: true });
    expect(waited.durationMs).toBeGreaterThanOrEqual(290);
    expect(waited.logs).toContain('timer fired');

    const immediate = await h.invoke({ timerMs: 300, dontWait: true });
    expect(succeeded(immediate)).toEqual({ via: 'callback', waits: false });
    expect(immediate.durationMs).toBeLessThan(250);

    expect(failed(await h.invoke({ fail: true }))).toMatchObject({
      errorType: 'Error',
      errorMessage: 'callback error',
    });
  });

  it('context.succeed, and a sync handler that never answers gets null when the loop empties', async () => {
    expect(succeeded(await host('index.succeedStyle').invoke({}))).toEqual({ via: 'context.succeed' });
    expect(succeeded(await host('index.syncNoAnswer').invoke({}))).toBeNull();
  });

  it('loads CommonJS handlers: index.js without "type": "module", and .cjs', async () => {
    const cjsDir = join(root, 'asset.cjs');
    mkdirSync(cjsDir);
    writeFileSync(join(cjsDir, 'index.js'), 'exports.handler = async () => ({ style: typeof require });');
    writeFileSync(join(cjsDir, 'other.cjs'), 'module.exports = { nested: { handler: async () => "nested" } };');
    expect(succeeded(await host('index.handler', { codeDir: cjsDir }).invoke({}))).toEqual({ style: 'function' });
    expect(succeeded(await host('other.nested.handler', { codeDir: cjsDir }).invoke({}))).toBe('nested');
  });
});

describe('what the Node.js runtime provides', () => {
  it('the AWS SDK v3, for bundles that leave @aws-sdk/* external, even outside this project', async () => {
    const dir = join(root, 'asset.sdk');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'index.mjs'),
      "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const handler = async () => typeof SQSClient;\n",
    );
    expect(succeeded(await host('index.handler', { codeDir: dir }).invoke({}))).toBe('function');
    writeFileSync(join(dir, 'other.mjs'), "import 'left-pad-not-installed';\nexport const handler = async () => 1;\n");
    const missing = failed(await host('other.handler', { codeDir: dir }).invoke({}));
    expect(missing.errorMessage).toContain('left-pad-not-installed');
  });

  it('source-mapped stack traces when the function sets NODE_OPTIONS=--enable-source-maps', async () => {
    const dir = join(root, 'asset.maps');
    mkdirSync(dir);
    const { code } = transformSync(
      'type Order = { id?: string };\nexport const handler = async (order: Order) => {\n  if (!order.id) {\n    throw new Error("no id");\n  }\n};\n',
      { loader: 'ts', format: 'esm', sourcemap: 'inline', sourcefile: 'src/orders.ts', minify: true },
    );
    writeFileSync(join(dir, 'index.mjs'), code);
    const mapped = failed(
      await host('index.handler', { codeDir: dir, environment: { NODE_OPTIONS: '--enable-source-maps' } }).invoke({}),
    );
    expect(mapped.stackTrace.join('\n')).toMatch(/src\/orders\.ts:4/);
    const raw = failed(await host('index.handler', { codeDir: dir }).invoke({}));
    expect(raw.stackTrace.join('\n')).not.toContain('orders.ts');
  });
});

describe('init errors, as the Node.js runtime names them', () => {
  it('a missing export names the file and what it exports', async () => {
    const result = failed(await host('index.missing').invoke({}));
    expect(result).toMatchObject({ reason: 'error', errorType: 'Runtime.HandlerNotFound' });
    expect(result.errorMessage).toContain('index.missing is undefined or not exported');
    expect(result.errorMessage).toContain(join(codeDir, 'index.mjs'));
    expect(result.errorMessage).toContain('callbackStyle');
    expect(failed(await host('index.notAFunction').invoke({})).errorMessage).toContain(
      'index.notAFunction is not a function',
    );
  });

  it('a missing module: Runtime.ImportModuleError naming the file tried', async () => {
    const result = failed(await host('handlers.main').invoke({}));
    expect(result).toMatchObject({ reason: 'error', errorType: 'Runtime.ImportModuleError' });
    expect(result.errorMessage).toContain("Cannot find module 'handlers'");
    expect(result.errorMessage).toContain('handlers.mjs');
  });

  it('a handler string without an export: Runtime.MalformedHandlerName', async () => {
    expect(failed(await host('index').invoke({})).errorType).toBe('Runtime.MalformedHandlerName');
  });
});

describe('environment and context', () => {
  it("sets the function's variables, Lambda's reserved ones and the caller's extras, and nothing of this process", async () => {
    process.env.QUEUEKIT_TEST_PARENT_ONLY = 'must-not-leak';
    try {
      const h = host(
        'index.environment',
        {},
        { extraEnv: { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', SHARED: 'from-runner' } },
      );
      const env = succeeded(await h.invoke({})) as Record<string, string>;
      expect(env).toMatchObject({
        TABLE_NAME: 'orders',
        SHARED: 'from-runner',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
        AWS_LAMBDA_FUNCTION_NAME: 'Compute-OrdersFunction',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_REGION: 'eu-west-1',
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/Compute-OrdersFunction',
        LAMBDA_TASK_ROOT: codeDir,
        _HANDLER: 'index.environment',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      });
      expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
      expect(env.QUEUEKIT_TEST_PARENT_ONLY).toBeUndefined();
    } finally {
      delete process.env.QUEUEKIT_TEST_PARENT_ONLY;
    }
  });

  it('gives the context fields Lambda gives', async () => {
    const context = succeeded(
      await host('index.context', { memoryMb: 512, timeoutSeconds: 5 }).invoke({}, { requestId: 'req-ctx' }),
    ) as Record<string, unknown>;
    expect(context).toMatchObject({
      functionName: 'Compute-OrdersFunction',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:Compute-OrdersFunction',
      memoryLimitInMB: '512',
      awsRequestId: 'req-ctx',
      logGroupName: '/aws/lambda/Compute-OrdersFunction',
      waits: true,
    });
    expect(context.logStreamName).toBe(context.streamEnv);
    expect(context.remaining).toBeGreaterThan(4_000);
    expect(context.remaining).toBeLessThanOrEqual(5_000);
  });
});

describe('environments', () => {
  it('creates at most maxEnvironments, queues the rest in order, and reuses warm ones', async () => {
    const h = host('index.sleeps', {}, { maxEnvironments: 3 });
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, h.stats().environments);
    }, 5);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => h.invoke({ ms: 100 }, { requestId: `r${i}` })),
    );
    clearInterval(watch);
    const environments = new Set(results.map((r) => (succeeded(r) as { environmentId: string }).environmentId));
    expect(environments.size).toBe(3);
    expect(peak).toBeLessThanOrEqual(3);
    expect(h.stats()).toMatchObject({ environments: 3, coldStarts: 3, idle: 3, waiting: 0, invocations: 12 });
    expect(results.filter((r) => r.initDurationMs !== undefined)).toHaveLength(3);
  });

  it('defaults to the reserved concurrency', async () => {
    expect(host('index.ok', { reservedConcurrency: 2 }).maxEnvironments).toBe(2);
    expect(host('index.ok').maxEnvironments).toBe(DEFAULT_LOCAL_CONCURRENCY);
    const throttled = failed(await host('index.ok', { reservedConcurrency: 0 }).invoke({}));
    expect(throttled.errorType).toBe('TooManyRequestsException');
  });

  it('reload: new invocations load the new code; the one in flight finishes on the old code', async () => {
    const dir = join(root, 'asset.reload');
    mkdirSync(dir);
    const write = (version: string) =>
      writeFileSync(
        join(dir, 'index.mjs'),
        `export const handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 0)); return '${version}'; };`,
      );
    write('v1');
    const h = host('index.handler', { codeDir: dir });
    expect(succeeded(await h.invoke({}))).toBe('v1');
    const inFlight = h.invoke({ ms: 300 });
    await new Promise((r) => setTimeout(r, 50));
    write('v2');
    const reloaded = h.reload();
    const fresh = await h.invoke({});
    expect(succeeded(fresh)).toBe('v2');
    expect(fresh.initDurationMs).toBeGreaterThan(0);
    expect(succeeded(await inFlight)).toBe('v1');
    await reloaded;
    expect(h.stats().environments).toBe(1);
  });

  it('close waits for the invocations under way', async () => {
    const h = new FunctionHost(fn('index.sleeps'));
    const running = h.invoke({ ms: 200 });
    await new Promise((r) => setTimeout(r, 20));
    await h.close();
    expect((await running).ok).toBe(true);
    expect(h.stats().environments).toBe(0);
    await expect(h.invoke({})).rejects.toThrow(/closed/);
  });
});
