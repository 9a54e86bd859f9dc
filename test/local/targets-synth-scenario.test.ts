/**
 * Three small modules of the local runner:
 * - targets: the embedded emulator in memory and persisted (a queue and its message survive close and reopen),
 *   and the errors for an unknown target, --persist with an external target, and targets that do not answer;
 * - synth: reading cdk.json, and whether the assembly is fresh by modification times;
 * - scenario: the default plan's shape, the burst, the request kinds' shares, and driving a plan to the end or
 *   until aborted.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { AssemblyError, TargetError } from '../../lib/local/errors.js';
import {
  defaultPlan,
  driveScenario,
  kindOf,
  type RequestKind,
  rateAt,
  SCENARIO_SHAPE,
  type ScenarioDefinition,
  type ScenarioPlan,
} from '../../lib/local/scenario.js';
import { assemblyIsFresh, newestSourceTime, readCdkApp } from '../../lib/local/synth.js';
import { openTarget, type Target } from '../../lib/local/targets.js';
import { sdkClientConfig } from '../support/fauxqs-server.js';

const dirs: string[] = [];
function tempDir(prefix = 'queuekit-local-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  return error;
}

describe('openTarget', () => {
  it('starts the embedded emulator in memory on loopback, and close stops it', async () => {
    const target = await openTarget();
    const sqs = new SQSClient(sdkClientConfig(target.endpoint));
    try {
      expect(target.kind).toBe('embedded');
      expect(target.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(target.description).toBe('embedded fauxqs (in memory)');
      expect(target.supportsMessageMove).toBe(false);
      await sqs.send(new CreateQueueCommand({ QueueName: 'in-memory' }));
      const { QueueUrls } = await sqs.send(new ListQueuesCommand({}));
      expect(QueueUrls?.some((u) => u.endsWith('/in-memory'))).toBe(true);
    } finally {
      sqs.destroy();
      await target.close();
    }
    const after = await fetch(target.endpoint).then(
      () => 'answered',
      () => 'refused',
    );
    expect(after).toBe('refused');
  });

  it('starts each in-memory emulator empty', async () => {
    const first = await openTarget({ target: 'embedded' });
    const sqs1 = new SQSClient(sdkClientConfig(first.endpoint));
    await sqs1.send(new CreateQueueCommand({ QueueName: 'forgotten' }));
    sqs1.destroy();
    await first.close();
    const second = await openTarget({ target: 'embedded' });
    const sqs2 = new SQSClient(sdkClientConfig(second.endpoint));
    try {
      const { QueueUrls } = await sqs2.send(new ListQueuesCommand({}));
      expect(QueueUrls ?? []).toEqual([]);
    } finally {
      sqs2.destroy();
      await second.close();
    }
  });

  it('keeps queues and messages in the persist folder across close and reopen', async () => {
    const persistDir = join(tempDir(), 'state');
    let target: Target = await openTarget({ persistDir });
    expect(target.description).toBe(`embedded fauxqs (persisted in ${persistDir})`);
    let sqs = new SQSClient(sdkClientConfig(target.endpoint));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'persisted-jobs' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'survives a restart' }));
    sqs.destroy();
    await target.close();

    target = await openTarget({ persistDir });
    sqs = new SQSClient(sdkClientConfig(target.endpoint));
    try {
      const { QueueUrl: again } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'persisted-jobs' }));
      expect(again).toMatch(/\/persisted-jobs$/);
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: again, WaitTimeSeconds: 1 }));
      expect(Messages?.map((m) => m.Body)).toEqual(['survives a restart']);
    } finally {
      sqs.destroy();
      await target.close();
    }
  });

  it('fails on an unknown target, listing the ones it knows', async () => {
    const error = await rejection(openTarget({ target: 'docker' }));
    expect(error).toBeInstanceOf(TargetError);
    expect(error.message).toBe(
      'unknown target "docker". Fix: use --target embedded, --target localstack or --target http://host:port.',
    );
  });

  it('refuses --persist with LocalStack or an endpoint', async () => {
    const persistDir = tempDir();
    for (const target of ['localstack', 'http://127.0.0.1:4566']) {
      const error = await rejection(openTarget({ target, persistDir }));
      expect(error).toBeInstanceOf(TargetError);
      expect(error.message).toBe(
        `--persist works with the embedded emulator only; ${target} keeps its own state. Fix: drop --persist, or use --target embedded.`,
      );
    }
  });

  it('fails when LocalStack does not answer at AWS_ENDPOINT_URL, saying how to start it', async () => {
    const error = await rejection(
      openTarget({ target: 'localstack', env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } }),
    );
    expect(error).toBeInstanceOf(TargetError);
    expect(error.message).toMatch(/^LocalStack does not answer at http:\/\/127\.0\.0\.1:9 \(/);
    expect(error.message).toContain('set AWS_ENDPOINT_URL');
  });

  it('connects to an endpoint that answers the SQS API, and fails on one that does not', async () => {
    const embedded = await openTarget();
    try {
      const endpoint = await openTarget({ target: embedded.endpoint });
      expect(endpoint).toMatchObject({
        kind: 'endpoint',
        endpoint: embedded.endpoint,
        description: `endpoint ${embedded.endpoint}`,
        supportsMessageMove: true,
      });
      await endpoint.close();
    } finally {
      await embedded.close();
    }
    const error = await rejection(openTarget({ target: 'http://127.0.0.1:9' }));
    expect(error).toBeInstanceOf(TargetError);
    expect(error.message).toMatch(/^no SQS API at http:\/\/127\.0\.0\.1:9: .*Fix: start the service at/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('readCdkApp', () => {
  it('fails without cdk.json, and on a cdk.json without an app command', () => {
    const empty = tempDir();
    expect(() => readCdkApp(empty)).toThrow(AssemblyError);
    expect(() => readCdkApp(empty)).toThrow(`no cdk.json in ${empty}. Fix: run from a CDK app folder`);
    const noApp = tempDir();
    writeFileSync(join(noApp, 'cdk.json'), JSON.stringify({ context: {} }));
    expect(() => readCdkApp(noApp)).toThrow(AssemblyError);
    expect(() => readCdkApp(noApp)).toThrow(`${join(noApp, 'cdk.json')} has no "app" command. Fix: add one`);
  });

  it('reads the app command, output folder, context and watch globs, with defaults', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/app.ts' }));
    expect(readCdkApp(dir)).toEqual({
      directory: dir,
      app: 'npx tsx bin/app.ts',
      outdir: join(dir, 'cdk.out'),
      context: {},
      include: ['**'],
      exclude: [],
    });
    writeFileSync(
      join(dir, 'cdk.json'),
      JSON.stringify({
        app: 'node app.js',
        output: 'build/assembly',
        context: { 'queuekit:scenario': 'bin/scenario.ts' },
        watch: { include: 'src/**', exclude: ['dist'] },
      }),
    );
    expect(readCdkApp(dir)).toEqual({
      directory: dir,
      app: 'node app.js',
      outdir: join(dir, 'build', 'assembly'),
      context: { 'queuekit:scenario': 'bin/scenario.ts' },
      include: ['src/**'],
      exclude: ['dist'],
    });
  });
});

describe('assemblyIsFresh', () => {
  const T0 = new Date('2026-01-01T00:00:00Z').getTime() / 1000;
  const touch = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

  /** A fake CDK app: cdk.json, package-lock.json, two sources, a node_modules file and a synthesized manifest. */
  function fakeApp(watch?: { include?: string[]; exclude?: string[] }) {
    const dir = tempDir('queuekit-synth-');
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js', ...(watch && { watch }) }));
    writeFileSync(join(dir, 'package-lock.json'), '{}');
    mkdirSync(join(dir, 'src', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'src', 'app.ts'), '');
    writeFileSync(join(dir, 'src', 'nested', 'handler.ts'), '');
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs', 'notes.txt'), '');
    mkdirSync(join(dir, 'node_modules', 'pkg'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'pkg', 'index.js'), '');
    mkdirSync(join(dir, 'cdk.out'));
    writeFileSync(join(dir, 'cdk.out', 'manifest.json'), '{}');
    for (const file of [
      'cdk.json',
      'package-lock.json',
      'src/app.ts',
      'src/nested/handler.ts',
      'docs/notes.txt',
      'node_modules/pkg/index.js',
    ]) {
      touch(join(dir, file), T0);
    }
    touch(join(dir, 'cdk.out', 'manifest.json'), T0 + 100);
    return { dir, app: readCdkApp(dir) };
  }

  it('is fresh when the manifest is newer than every source, cdk.json and package-lock.json', () => {
    const { app } = fakeApp({ include: ['src/**'] });
    expect(newestSourceTime(app)).toBe(T0 * 1000);
    expect(assemblyIsFresh(app)).toBe(true);
  });

  it('is stale when a source, even a nested one, is newer than the manifest', () => {
    const { dir, app } = fakeApp({ include: ['src/**'] });
    touch(join(dir, 'src', 'nested', 'handler.ts'), T0 + 200);
    expect(newestSourceTime(app)).toBe((T0 + 200) * 1000);
    expect(assemblyIsFresh(app)).toBe(false);
  });

  it('is stale when cdk.json or package-lock.json is newer than the manifest', () => {
    const a = fakeApp({ include: ['src/**'] });
    touch(join(a.dir, 'cdk.json'), T0 + 200);
    expect(assemblyIsFresh(a.app)).toBe(false);
    const b = fakeApp({ include: ['src/**'] });
    touch(join(b.dir, 'package-lock.json'), T0 + 200);
    expect(assemblyIsFresh(b.app)).toBe(false);
  });

  it('ignores files outside watch.include', () => {
    const { dir, app } = fakeApp({ include: ['src/**'] });
    touch(join(dir, 'docs', 'notes.txt'), T0 + 200);
    expect(assemblyIsFresh(app)).toBe(true);
  });

  it('ignores node_modules, cdk.out and watch.exclude folders when everything is included', () => {
    const { dir, app } = fakeApp({ exclude: ['docs'] });
    expect(app.include).toEqual(['**']);
    touch(join(dir, 'node_modules', 'pkg', 'index.js'), T0 + 200);
    touch(join(dir, 'docs', 'notes.txt'), T0 + 200);
    expect(assemblyIsFresh(app)).toBe(true);
    touch(join(dir, 'src', 'app.ts'), T0 + 200);
    expect(assemblyIsFresh(app)).toBe(false);
  });

  it('is not fresh without a manifest', () => {
    const { dir, app } = fakeApp();
    rmSync(join(dir, 'cdk.out'), { recursive: true });
    expect(assemblyIsFresh(app)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('scenario plans', () => {
  it('defaults to about 15 s at 20 requests/s with a 3 s burst at ten times the rate', () => {
    expect(SCENARIO_SHAPE).toEqual({ steadyBeforeBurstS: 5, burstS: 3, burstFactor: 10, tickMs: 100 });
    // 12 s steady at 20/s + 3 s at 200/s.
    expect(defaultPlan()).toEqual({ rate: 20, requests: 12 * 20 + 3 * 200 });
    expect(defaultPlan(5)).toEqual({ rate: 5, requests: 12 * 5 + 3 * 50 });
    expect(defaultPlan(5, 30)).toEqual({ rate: 5, requests: 30 });
  });

  it('sends at the plan rate except during the burst window', () => {
    const plan: ScenarioPlan = { rate: 20, requests: 100 };
    expect(rateAt(plan, 0)).toBe(20);
    expect(rateAt(plan, 4_999)).toBe(20);
    expect(rateAt(plan, 5_000)).toBe(200);
    expect(rateAt(plan, 7_999)).toBe(200);
    expect(rateAt(plan, 8_000)).toBe(20);
    expect(rateAt(plan, 60_000)).toBe(20);
  });

  it('spreads the request kinds at their shares, deterministically', () => {
    const count = (plan: ScenarioPlan, n: number) => {
      const counts: Record<RequestKind, number> = { normal: 0, poison: 0, 'transient-error': 0 };
      for (let i = 0; i < n; i++) counts[kindOf(plan, i)]++;
      return counts;
    };
    // Defaults: 1 % poison, 2 % transient (a transient slot on a poison request moves to the next request).
    expect(count({ rate: 20, requests: 1000 }, 1001)).toEqual({ normal: 971, poison: 10, 'transient-error': 20 });
    expect(count({ rate: 20, requests: 100, poisonShare: 0.1, transientShare: 0.25 }, 101)).toEqual({
      normal: 66,
      poison: 10,
      'transient-error': 25,
    });
    const plan0: ScenarioPlan = { rate: 20, requests: 1000 };
    expect(kindOf(plan0, 0)).toBe('normal');
    expect(kindOf(plan0, 49)).toBe('transient-error');
    expect(kindOf(plan0, 99)).toBe('poison');
    expect(kindOf(plan0, 100)).toBe('transient-error');
    expect(kindOf(plan0, 149)).toBe('transient-error');
    // Any 100 consecutive requests: one poison, two transient (give or take the one a collision moves out).
    for (const start of [0, 37, 500]) {
      const counts = { normal: 0, poison: 0, 'transient-error': 0 };
      for (let i = start; i < start + 100; i++) counts[kindOf(plan0, i)]++;
      expect(counts.poison).toBe(1);
      expect(counts['transient-error']).toBeGreaterThanOrEqual(1);
      expect(counts['transient-error']).toBeLessThanOrEqual(3);
    }
    const plan: ScenarioPlan = { rate: 20, requests: 1000 };
    expect(Array.from({ length: 300 }, (_, i) => kindOf(plan, i))).toEqual(
      Array.from({ length: 300 }, (_, i) => kindOf(plan, i)),
    );
  });
});

describe('driveScenario', () => {
  const definition: ScenarioDefinition = {
    producer: 'SubmitJob',
    payload: (first, kinds) => ({ first, kinds }),
  };

  it('sends exactly plan.requests requests, one invocation per tick carrying the requests due since the last tick', async () => {
    // 1,000/s: about 100 requests per 100 ms tick (more when the event loop delays a tick).
    const plan: ScenarioPlan = { rate: 1000, requests: 250, poisonShare: 0.1, transientShare: 0.5 };
    const payloads: { first: number; kinds: RequestKind[] }[] = [];
    const result = await driveScenario(definition, plan, async (payload) => {
      payloads.push(payload as { first: number; kinds: RequestKind[] });
      return { ok: true };
    });
    expect(result).toEqual({ requests: 250, invocations: payloads.length, failedInvocations: 0, errors: [] });
    expect(payloads.reduce((n, p) => n + p.kinds.length, 0)).toBe(250);
    expect(payloads.length).toBeGreaterThanOrEqual(2);
    expect(payloads[0]?.kinds.length).toBeGreaterThan(0);
    // Contiguous indices, kinds as kindOf says.
    let next = 0;
    for (const p of payloads) {
      expect(p.first).toBe(next);
      p.kinds.forEach((kind, i) => {
        expect(kind).toBe(kindOf(plan, p.first + i));
      });
      next += p.kinds.length;
    }
  });

  it('waits for every invocation and counts the failed ones, keeping at most ten errors', async () => {
    const plan: ScenarioPlan = { rate: 1000, requests: 1200 };
    let pending = 0;
    let calls = 0;
    const result = await driveScenario(definition, plan, async () => {
      pending++;
      calls++;
      const n = calls;
      await new Promise((r) => setTimeout(r, 150));
      pending--;
      return n % 2 === 0 ? { ok: false, error: `failure ${n}` } : { ok: true };
    });
    expect(pending).toBe(0);
    expect(result.requests).toBe(1200);
    expect(result.invocations).toBe(calls);
    expect(result.failedInvocations).toBe(Math.floor(calls / 2));
    expect(result.errors).toHaveLength(Math.min(10, Math.floor(calls / 2)));
    expect(result.errors[0]).toMatch(/^failure \d+$/);
  });

  it('stops early when aborted', async () => {
    const plan: ScenarioPlan = { rate: 100, requests: 100_000 };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 350);
    const started = Date.now();
    let sent = 0;
    const result = await driveScenario(
      definition,
      plan,
      async (payload) => {
        sent += (payload as { kinds: unknown[] }).kinds.length;
        return { ok: true };
      },
      controller.signal,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.requests).toBe(sent);
    expect(result.requests).toBeGreaterThan(0);
    expect(result.requests).toBeLessThan(100);
  });

  it('sends nothing when already aborted', async () => {
    const result = await driveScenario(
      definition,
      { rate: 1000, requests: 10 },
      async () => ({ ok: true }),
      AbortSignal.abort(),
    );
    expect(result).toEqual({ requests: 0, invocations: 0, failedInvocations: 0, errors: [] });
  });
});
