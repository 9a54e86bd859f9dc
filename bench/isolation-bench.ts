/**
 * Isolation for the local runner's execution environments: `worker_threads` against `child_process.fork`.
 *
 * For each mechanism, with the same minimal bootstrap (load a real bundled asset from cdk.out with `import()`,
 * then answer invocations sent as JSON strings, as FunctionHost does):
 * - cold start: spawn → module imported → ready (median of 15 sequential starts), for an empty module (the
 *   mechanism alone), the smallest asset in cdk.out and the largest (the reference app's bundles leave the AWS SDK
 *   external, as Lambda provides it, so both import it);
 * - round trip of a no-op handler: median of 2000 sequential invocations of one warm environment, after 200 of
 *   warm-up, with a one-record SQS event;
 * - memory: RSS added per environment with 10 idle environments (this process's RSS for threads; this process's
 *   plus the children's for processes).
 * The same figures for FunctionHost itself (worker threads with the full runtime emulation) as a reality check.
 * Three runs; the table shows the median of the runs' medians (and min–max over the runs).
 *
 * Run: `npx tsx bench/isolation-bench.ts` (runs `npx cdk synth --quiet` first when cdk.out has no asset).
 *
 * @module
 */
import { type ChildProcess, execSync, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LocalFunction } from '../lib/local/app-model.js';
import { FunctionHost } from '../lib/local/function-host.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 3;
const COLD_STARTS = 15;
const ROUND_TRIPS = 2000;
const WARM_UP = 200;
const ENVIRONMENTS = 10;

const EVENT = JSON.stringify({
  Records: [
    {
      messageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
      receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
      body: '{"jobId":"j-1","kind":"text","prompt":"hello"}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1545082649183',
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: '1545082649185',
      },
      messageAttributes: {},
      md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:InferenceJobs',
      awsRegion: 'us-east-1',
    },
  ],
});

const WORKER_BOOTSTRAP = `
import { parentPort, workerData } from 'node:worker_threads';
await import(workerData.asset);
const noop = async () => null;
parentPort.on('message', async (m) => {
  const result = await noop(JSON.parse(m.e));
  parentPort.postMessage({ r: m.r, v: JSON.stringify(result ?? null) });
});
parentPort.postMessage('ready');
`;

const CHILD_BOOTSTRAP = `
await import(process.env.BENCH_ASSET);
const noop = async () => null;
process.on('message', async (m) => {
  const result = await noop(JSON.parse(m.e));
  process.send({ r: m.r, v: JSON.stringify(result ?? null) });
});
process.send('ready');
`;

interface Environment {
  invoke(r: number): Promise<void>;
  close(): Promise<void>;
  pid?: number;
}

type Mechanism = (asset: string) => Promise<Environment>;

let dir = '';

const threads: Mechanism = async (asset) => {
  const worker = new Worker(join(dir, 'worker-bootstrap.mjs'), { workerData: { asset }, execArgv: [], stdout: true });
  await new Promise<void>((ready) => worker.once('message', () => ready()));
  let answer: (() => void) | undefined;
  worker.on('message', () => answer?.());
  return {
    invoke: (r) =>
      new Promise<void>((done) => {
        answer = done;
        worker.postMessage({ r, e: EVENT });
      }),
    close: async () => {
      await worker.terminate();
    },
  };
};

const processes: Mechanism = async (asset) => {
  const child: ChildProcess = fork(join(dir, 'child-bootstrap.mjs'), [], {
    env: { ...process.env, BENCH_ASSET: asset, NODE_OPTIONS: '' },
    execArgv: [],
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  await new Promise<void>((ready) => child.once('message', () => ready()));
  let answer: (() => void) | undefined;
  child.on('message', () => answer?.());
  return {
    pid: child.pid,
    invoke: (r) =>
      new Promise<void>((done) => {
        answer = done;
        child.send({ r, e: EVENT });
      }),
    close: () =>
      new Promise<void>((closed) => {
        child.once('exit', () => closed());
        child.kill();
      }),
  };
};

function fixtureFunction(codeDir: string, handler: string): LocalFunction {
  return {
    logicalId: 'Bench',
    stackName: 'Bench',
    path: 'Bench/Fn',
    displayName: 'Bench',
    name: 'Bench-Fn',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:Bench-Fn',
    handler,
    codeDir,
    runtime: 'nodejs22.x',
    timeoutSeconds: 30,
    memoryMb: 1024,
    environment: {},
  };
}

/** FunctionHost as a mechanism: the real thing, one host per environment. */
const functionHost: Mechanism = async (asset) => {
  // A no-op handler file next to the asset's import, so init loads the same code.
  const codeDir = mkdtempSync(join(dir, 'host-'));
  writeFileSync(
    join(codeDir, 'index.mjs'),
    `await import(${JSON.stringify(asset)});\nexport const handler = async () => null;\n`,
  );
  const host = new FunctionHost(fixtureFunction(codeDir, 'index.handler'), { maxEnvironments: 1 });
  const event: unknown = JSON.parse(EVENT);
  const first = await host.invoke(event);
  if (!first.ok) throw new Error(`${first.errorType}: ${first.errorMessage}`);
  return {
    invoke: async () => {
      await host.invoke(event);
    },
    close: () => host.close(),
  };
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function coldStart(mechanism: Mechanism, asset: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const started = performance.now();
    const env = await mechanism(asset);
    times.push(performance.now() - started);
    await env.close();
  }
  return median(times);
}

async function roundTrip(mechanism: Mechanism, asset: string): Promise<number> {
  const env = await mechanism(asset);
  for (let i = 0; i < WARM_UP; i++) await env.invoke(i);
  const times = new Array<number>(ROUND_TRIPS);
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const started = performance.now();
    await env.invoke(i);
    times[i] = performance.now() - started;
  }
  await env.close();
  return median(times) * 1000;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

async function memory(mechanism: Mechanism, asset: string): Promise<number> {
  const settle = () => new Promise((r) => setTimeout(r, 300));
  (globalThis as { gc?: () => void }).gc?.();
  await settle();
  const before = process.memoryUsage().rss;
  const envs: Environment[] = [];
  for (let i = 0; i < ENVIRONMENTS; i++) envs.push(await mechanism(asset));
  for (const env of envs) await env.invoke(0);
  await settle();
  let total = process.memoryUsage().rss - before;
  for (const env of envs) if (env.pid !== undefined) total += rssOf(env.pid);
  await Promise.all(envs.map((e) => e.close()));
  return total / ENVIRONMENTS / 1024 / 1024;
}

function assets(): { smallest: string; largest: string } {
  const out = join(ROOT, 'cdk.out');
  const find = () =>
    existsSync(out)
      ? readdirSync(out)
          .filter((d) => d.startsWith('asset.') && existsSync(join(out, d, 'index.mjs')))
          .map((d) => join(out, d, 'index.mjs'))
      : [];
  let files = find();
  if (files.length === 0) {
    console.log('cdk.out has no bundled asset: running npx cdk synth --quiet');
    execSync('npx cdk synth --quiet', { cwd: ROOT, stdio: 'inherit' });
    files = find();
  }
  if (files.length === 0) throw new Error('cdk synth produced no asset with an index.mjs');
  files.sort((a, b) => statSync(a).size - statSync(b).size);
  return { smallest: files[0] as string, largest: files.at(-1) as string };
}

interface Row {
  readonly metric: string;
  readonly unit: string;
  readonly samples: Record<string, number[]>;
}

async function main(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'queuekit-isolation-'));
  writeFileSync(join(dir, 'worker-bootstrap.mjs'), WORKER_BOOTSTRAP);
  writeFileSync(join(dir, 'child-bootstrap.mjs'), CHILD_BOOTSTRAP);
  const { smallest, largest } = assets();
  writeFileSync(join(dir, 'empty.mjs'), 'export const handler = async () => null;\n');
  const emptyUrl = pathToFileURL(join(dir, 'empty.mjs')).href;
  const smallUrl = pathToFileURL(smallest).href;
  const largeUrl = pathToFileURL(largest).href;
  console.log(`smallest asset: ${smallest} (${statSync(smallest).size} B)`);
  console.log(`largest asset:  ${largest} (${statSync(largest).size} B)`);
  const mechanisms: Record<string, Mechanism> = {
    worker_threads: threads,
    'child_process.fork': processes,
    'FunctionHost (threads)': functionHost,
  };
  const rows: Row[] = [
    { metric: 'cold start, empty module', unit: 'ms', samples: {} },
    { metric: 'cold start, smallest asset', unit: 'ms', samples: {} },
    { metric: 'cold start, largest asset (AWS SDK)', unit: 'ms', samples: {} },
    { metric: 'no-op round trip (median of 2000)', unit: 'µs', samples: {} },
    { metric: `RSS per environment (${ENVIRONMENTS} idle)`, unit: 'MiB', samples: {} },
  ];
  try {
    for (let run = 1; run <= RUNS; run++) {
      for (const [name, mechanism] of Object.entries(mechanisms)) {
        const measured = [
          await coldStart(mechanism, emptyUrl),
          await coldStart(mechanism, smallUrl),
          await coldStart(mechanism, largeUrl),
          await roundTrip(mechanism, smallUrl),
          await memory(mechanism, smallUrl),
        ];
        measured.forEach((value, i) => {
          const samples = (rows[i] as Row).samples;
          samples[name] ??= [];
          samples[name].push(value);
        });
        console.log(`run ${run} ${name}: ${measured.map((v) => v.toFixed(1)).join(' | ')}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const names = Object.keys(mechanisms);
  const cell = (values: number[]) =>
    `${median(values).toFixed(1)} (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`;
  console.log(`\n| metric | ${names.join(' | ')} |`);
  console.log(`|---|${names.map(() => '---').join('|')}|`);
  for (const row of rows) {
    console.log(`| ${row.metric} (${row.unit}) | ${names.map((n) => cell(row.samples[n] ?? [])).join(' | ')} |`);
  }
  console.log(`\nmedian of ${RUNS} runs (min–max over runs); Node ${process.version}, ${resolve(ROOT)}`);
}

await main();
