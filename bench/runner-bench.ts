/**
 * The local runner's benchmarks, each with its anchors in the same run: P4 (delivery throughput), P5 (publish →
 * handler-start latency), P7 (`npm start` to ready) and P8 (memory with 100,000 messages queued).
 *
 * The app (P4, P5, P8) is bench/fixtures/runner-app.ts: the reference app's fan-out shape and nothing else, one SNS
 * topic → three standard queues → three BatchConsumers (queuekit's defaults) whose business logic does nothing
 * (bench/fixtures/runner-consumer.ts), synthesized by queuekit's own synth step into a temporary folder (reused
 * while its sources are unchanged). Ours is `LocalRunner.start` on that assembly with what `queuekit dev --watch`
 * passes (time scale 1, IAM checks on, the live page on), so every message goes through the runner's
 * EventSourcePoller, FunctionHost and worker-thread environments, and its flow recorder, as in `queuekit dev`.
 *
 * - Server: P4 and P5 run fauxqs in the measured process, as `npm start` does (ours: `--target embedded`; each
 *   anchor run gets a fresh in-process fauxqs, the same build started the same way). `P4-child`/`P5-child` (no
 *   goal) run it in a child process instead (ours: `--target <its URL>`), which shows the server's CPU apart.
 *   Every run gets a fresh server: a long poll aborted on the client stays open on the server and would take
 *   messages of the next run.
 * - Pre-loading (P4, P8): `EventSourcePoller.start` is held while the runner starts, so its queues fill before the
 *   first receive; releasing it starts the clock. Nothing else of the runner is touched.
 * - Environments: before the clock (P4) or the traffic (P5), every environment the functions may have is started
 *   (one invocation each, an empty batch), so the figures are steady state, not 30 cold starts (about 300 ms of
 *   CPU each); the anchors' code is warm too (an untimed warm-up round).
 * - P5's load comes from bench/publisher-process.ts in its own process, so its CPU is not in the measured one;
 *   handler start is taken inside the environment and posted on a BroadcastChannel.
 * - This machine is shared: each run's log line shows the 1-minute load average when it started.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreateTopicCommand, PublishBatchCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { AppModel, LocalQueue } from '../lib/local/app-model.js';
import { EventSourcePoller } from '../lib/local/event-source-poller.js';
import { LocalRunner } from '../lib/local/local-runner.js';
import { RECEIVE_ALL_ATTRIBUTES } from '../lib/local/sqs-event.js';
import { type CdkAppConfig, synthesize } from '../lib/local/synth.js';
import { openTarget } from '../lib/local/targets.js';
import { clientConfig } from '../lib/runtime/clients.js';
import { newSqsClient, spawnEmulator } from './emulator.js';
import { installed } from './packages.js';
import { smallBody } from './producer-bench.js';
import { type Measurement, median } from './stats.js';

export interface RunnerBenchOptions {
  readonly quick: boolean;
  readonly runs: number;
  readonly wants: (id: string) => boolean;
  readonly log: (line: string) => void;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Deliveries per P4 drain (spread over the three queues). */
const P4_DELIVERIES = 30_000;
const P4_WARMUP_DELIVERIES = 3_000;
const RAW_POLLERS = 16;
const CONSUMER_BATCH = 10;
/** P5: deliveries per second (publishes to the topic at a third of it: each is three deliveries), seconds measured after a warm-up. */
const P5_DELIVERY_RATE = 1_000;
const P5_PUBLISH_RATE = P5_DELIVERY_RATE / 3;
const P5_SECONDS = { full: 10, quick: 5 } as const;
const P5_WARMUP_SECONDS = 2;
/** P8: messages queued. */
const P8_MESSAGES = 100_000;
const SETTLE_MS = 500;
const DRAIN_TIMEOUT_MS = 180_000;
/** The channel bench/fixtures/runner-consumer.ts posts `t, latency` pairs on. */
const HANDLER_START_CHANNEL = 'queuekit-bench-handler-start';

type ServerKind = 'child' | 'embedded';

export async function runnerBench(options: RunnerBenchOptions): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const { wants } = options;
  const needsApp = ['P4', 'P4-child', 'P5', 'P5-child', 'P8', 'P8-drain'].some(wants);
  const assembly = needsApp ? await fixtureAssembly(options.log) : '';
  const stateDir = mkdtempSync(join(tmpdir(), 'queuekit-bench-state-'));
  try {
    const context: Context = { ...options, assembly, stateDir };
    if (wants('P4')) out.push(...(await drainThroughput(context, 'embedded')));
    if (wants('P4-child')) out.push(...(await drainThroughput(context, 'child')));
    if (wants('P5')) out.push(...(await handlerStartLatency(context, 'embedded')));
    if (wants('P5-child')) out.push(...(await handlerStartLatency(context, 'child')));
    if (wants('P7')) out.push(...(await startupTime(options)));
    if (['P8', 'P8-drain'].some(wants)) out.push(...(await queuedMemory(context)));
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
  return out;
}

export interface Context extends RunnerBenchOptions {
  readonly assembly: string;
  /** Where the runner writes outputs.json (never the repository's .queuekit). */
  readonly stateDir: string;
}

/** `name@version` from node_modules (for packages whose `exports` hide package.json and a main entry). */
function packageVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return `${name}@${pkg.version}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The fixture app

/** Synthesizes bench/fixtures/runner-app.ts with queuekit's own synth step (skipped while the output is fresh). */
export async function fixtureAssembly(log: (line: string) => void): Promise<string> {
  const app: CdkAppConfig = {
    directory: ROOT,
    app: 'npx tsx bench/fixtures/runner-app.ts',
    outdir: join(tmpdir(), 'queuekit-bench-runner-app.out'),
    context: {},
    include: ['bench/fixtures/runner-*.ts', 'lib/constructs/**', 'lib/runtime/**', 'lib/local/synth.ts'],
    exclude: [],
  };
  const synth = await synthesize(app);
  log(
    synth.synthesized
      ? `  fixture app synthesized in ${(synth.durationMs / 1000).toFixed(1)} s → ${synth.assembly}`
      : `  fixture app: reusing ${synth.assembly}`,
  );
  return synth.assembly;
}

/** The queues the app's event source mappings drain. */
function mappedQueues(model: AppModel): LocalQueue[] {
  return model.mappings
    .filter((m) => m.enabled)
    .map((m) => model.queues.find((q) => q.arn === m.queueArn) as LocalQueue);
}

/**
 * Defers `EventSourcePoller.start` for the runners started until `release()`: their queues can be filled first.
 * `restore()` puts the method back without starting anything (on failure).
 */
function holdPollers(): { release(): number; restore(): void } {
  const proto = EventSourcePoller.prototype;
  const original = proto.start;
  const held: EventSourcePoller[] = [];
  proto.start = function hold(this: EventSourcePoller) {
    held.push(this);
  };
  const restore = () => {
    proto.start = original;
  };
  return {
    release() {
      restore();
      const pollers = held.splice(0);
      for (const poller of pollers) original.call(poller);
      return pollers.length;
    },
    restore,
  };
}

/** `LocalRunner.start` with what `queuekit dev --watch` passes. */
async function startRunner(context: Context, target: string, notices: Set<string>): Promise<LocalRunner> {
  return LocalRunner.start({
    assembly: context.assembly,
    target,
    timeScale: 1,
    iam: true,
    stateDir: context.stateDir,
    onNotice: (line) => notices.add(line),
  });
}

/** Starts every environment each function may have (one invocation each, an empty batch), then lets them idle. */
async function warmEnvironments(runner: LocalRunner): Promise<number> {
  const invocations: Promise<unknown>[] = [];
  for (const host of runner.hosts.values()) {
    for (let i = 0; i < host.maxEnvironments; i++) invocations.push(host.invoke({ Records: [] }));
  }
  await Promise.all(invocations);
  return invocations.length;
}

/** Sum of the runner's `deleted` events on `queues`. */
function succeeded(runner: LocalRunner, queues: readonly LocalQueue[]): number {
  const counters = runner.recorder.snapshot().queues;
  let n = 0;
  for (const q of queues) n += counters[q.displayName]?.succeeded ?? 0;
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Servers, topics, queues

/** The server of one drain or latency run (fresh each time: an aborted long poll would take later messages). */
interface Server {
  /** What LocalRunner gets as `target`. */
  readonly target: string;
  /** Server CPU so far, ms (NaN when it runs in this process: it is in this process's CPU then). */
  cpuMs(): number;
  close(): Promise<void>;
}

/**
 * `child`: a new fauxqs child process. `embedded`: for the runner, `embedded` (it starts its own fauxqs in this
 * process); for the anchors, a new fauxqs in this process (the same build, started the same way).
 */
async function freshServer(kind: ServerKind, forRunner: boolean): Promise<Server> {
  if (kind === 'child') {
    const child = await spawnEmulator();
    return { target: child.endpoint, cpuMs: () => child.cpuMs(), close: () => child.stop() };
  }
  if (forRunner) return { target: 'embedded', cpuMs: () => Number.NaN, close: async () => {} };
  const target = await openTarget({ target: 'embedded' });
  return { target: target.endpoint, cpuMs: () => Number.NaN, close: () => target.close() };
}

function newSnsClient(endpoint: string): SNSClient {
  return new SNSClient({ ...clientConfig({ endpoint, env: {} }, 'sns') });
}

/** A topic with `queues` fresh standard queues subscribed (enveloped), as the fixture app has. */
async function anchorTopology(
  endpoint: string,
  name: string,
  queues: number,
): Promise<{ topicArn: string; queueUrls: string[] }> {
  const sqs = newSqsClient(endpoint);
  const sns = newSnsClient(endpoint);
  try {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
    const queueUrls: string[] = [];
    for (let i = 0; i < queues; i++) {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${i}` }));
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));
      queueUrls.push(QueueUrl as string);
    }
    return { topicArn: TopicArn as string, queueUrls };
  } finally {
    sqs.destroy();
    sns.destroy();
  }
}

/** Publishes `count` messages to the topic (PublishBatch of 10, 16 calls in flight). */
async function publishMany(sns: SNSClient, topicArn: string, count: number, body: (i: number) => string) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const start = next;
      next = Math.min(count, next + 10);
      const entries = [];
      for (let i = start; i < next; i++) entries.push({ Id: String(i - start), Message: body(i) });
      const { Failed } = await sns.send(
        new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries }),
      );
      if (Failed?.length) throw new Error(`PublishBatch: ${Failed.length} entries failed (${Failed[0]?.Code})`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function depthOf(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? Number.NaN),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? Number.NaN),
  };
}

/** Checks every queue holds exactly `perQueue` visible messages. */
async function expectDepth(sqs: SQSClient, queueUrls: readonly string[], perQueue: number): Promise<void> {
  for (const url of queueUrls) {
    const { visible, inFlight } = await depthOf(sqs, url);
    if (visible !== perQueue || inFlight !== 0)
      throw new Error(`${url} holds ${visible} visible + ${inFlight} in flight, expected ${perQueue} + 0`);
  }
}

async function until(what: string, done: () => boolean, timeoutMs = DRAIN_TIMEOUT_MS, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// P4: drain throughput

interface DrainSample {
  readonly perSecond: number;
  /** Client-side CPU (this process, all threads) per delivery, µs. */
  readonly clientCpuUs: number;
  /** Server CPU per delivery, µs (NaN for an in-process server: it is in the client's figure). */
  readonly serverCpuUs: number;
  readonly mainThread: MainThreadShare;
}

/**
 * How the main thread spent a measured interval: the share on a CPU and the share runnable but waiting for one
 * (Linux, from /proc/thread-self/schedstat); elsewhere event loop utilization stands in for `onCpu`, and
 * `waiting` is NaN. On a shared machine the waiting share says how much other work took the CPUs.
 */
interface MainThreadShare {
  readonly onCpu: number;
  readonly waiting: number;
}

function threadSchedMs(): { onCpu: number; waiting: number } | undefined {
  try {
    const [onCpu, waiting] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return onCpu === undefined || waiting === undefined ? undefined : { onCpu: onCpu / 1e6, waiting: waiting / 1e6 };
  } catch {
    return undefined;
  }
}

/** Starts measuring the calling (main) thread; the function returned ends the interval. */
function mainThreadMeter(): () => MainThreadShare {
  const sched0 = threadSchedMs();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  return () => {
    const wall = performance.now() - t0;
    const sched1 = threadSchedMs();
    if (sched0 && sched1) {
      return { onCpu: (sched1.onCpu - sched0.onCpu) / wall, waiting: (sched1.waiting - sched0.waiting) / wall };
    }
    return { onCpu: performance.eventLoopUtilization(elu0).utilization, waiting: Number.NaN };
  };
}

const share = (m: MainThreadShare) =>
  `main thread on CPU ${Math.round(m.onCpu * 100)}%${Number.isNaN(m.waiting) ? '' : `, waiting for one ${Math.round(m.waiting * 100)}%`}`;

async function timedDrain(
  server: Server,
  deliveries: number,
  start: () => void,
  done: () => boolean,
): Promise<DrainSample> {
  const cpu0 = process.cpuUsage();
  const server0 = server.cpuMs();
  const meter = mainThreadMeter();
  const t0 = performance.now();
  start();
  await until('drain', done, DRAIN_TIMEOUT_MS, 5);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond: (deliveries * 1000) / ms,
    clientCpuUs: (cpu.user + cpu.system) / deliveries,
    serverCpuUs: ((server.cpuMs() - server0) * 1000) / deliveries,
    mainThread: meter(),
  };
}

/**
 * Ours: the runner drains `perQueue` deliveries from each of its three queues, pre-loaded through its topic while
 * its pollers are held (exported for bench/runner-profile.ts).
 */
export async function oursDrain(context: Context, kind: ServerKind, perQueue: number, notices: Set<string>) {
  const server = await freshServer(kind, true);
  const hold = holdPollers();
  let runner: LocalRunner;
  try {
    runner = await startRunner(context, server.target, notices);
  } catch (error) {
    hold.restore();
    await server.close();
    throw error;
  }
  const sqs = newSqsClient(runner.target.endpoint);
  const sns = newSnsClient(runner.target.endpoint);
  try {
    const queues = mappedQueues(runner.model);
    const topicArn = runner.model.topics[0]?.arn as string;
    await publishMany(sns, topicArn, perQueue, smallBody);
    await expectDepth(
      sqs,
      queues.map((q) => q.url),
      perQueue,
    );
    await warmEnvironments(runner);
    await sleep(SETTLE_MS);
    const total = perQueue * queues.length;
    const sample = await timedDrain(
      server,
      total,
      () => hold.release(),
      () => succeeded(runner, queues) >= total,
    );
    const snapshot = runner.recorder.snapshot();
    for (const q of queues) {
      const c = snapshot.queues[q.displayName];
      if (c?.retried) throw new Error(`ours: ${c.retried} deliveries of ${q.displayName} failed and were retried`);
    }
    return sample;
  } finally {
    hold.restore();
    sqs.destroy();
    sns.destroy();
    await runner.stop();
    await server.close();
  }
}

/** 16 loops of ReceiveMessage (10, long poll) + DeleteMessageBatch over the queues, nothing else. */
function rawDrain(
  sqs: SQSClient,
  queueUrls: readonly string[],
  total: number,
  options: { onReceive?: (m: Message[]) => void; allAttributes?: boolean } = {},
) {
  const { onReceive, allAttributes } = options;
  const abort = new AbortController();
  let deleted = 0;
  const loop = async (queueUrl: string) => {
    while (!abort.signal.aborted) {
      let messages: Message[] | undefined;
      try {
        ({ Messages: messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 20,
            ...(allAttributes ? RECEIVE_ALL_ATTRIBUTES : {}),
          }),
          { abortSignal: abort.signal },
        ));
      } catch (error) {
        if (abort.signal.aborted) return;
        throw error;
      }
      if (!messages?.length) continue;
      onReceive?.(messages);
      const { Successful, Failed } = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      if (Failed?.length) throw new Error(`raw pollers: ${Failed.length} deletes failed (${Failed[0]?.Code})`);
      deleted += Successful?.length ?? 0;
      if (deleted >= total) abort.abort();
    }
  };
  const loops = Array.from({ length: RAW_POLLERS }, (_, i) => loop(queueUrls[i % queueUrls.length] as string));
  return {
    done: () => deleted >= total,
    stop: async () => {
      abort.abort();
      await Promise.all(loops);
    },
  };
}

/** sqs-consumer: one Consumer per queue, `handleMessageBatch` returning every message (all deleted). */
function consumersDrain(sqs: SQSClient, queueUrls: readonly string[], total: number) {
  let processed = 0;
  let failure: unknown;
  const consumers = queueUrls.map((queueUrl) => {
    const consumer = Consumer.create({
      queueUrl,
      sqs,
      batchSize: CONSUMER_BATCH,
      handleMessageBatch: async (messages) => messages,
    });
    consumer.on('message_processed', () => {
      processed++;
    });
    const fail = (error: Error) => {
      failure ??= error;
    };
    consumer.on('error', fail);
    consumer.on('processing_error', fail);
    consumer.on('timeout_error', fail);
    return consumer;
  });
  return {
    start: () => {
      for (const c of consumers) c.start();
    },
    done: () => {
      if (failure) throw failure;
      return processed >= total;
    },
    stop: () => {
      for (const c of consumers) c.stop({ abort: true });
    },
  };
}

interface Side {
  readonly name: string;
  readonly samples: DrainSample[];
  /** One drain of `deliveries` (spread over three queues, or all in one for the single Consumer). */
  run(deliveries: number): Promise<DrainSample>;
}

/** A fresh server with a topic and `queues` queues subscribed to it, for one anchor drain. */
async function anchorSetup(kind: ServerKind, name: string, queues: number) {
  const server = await freshServer(kind, false);
  const topology = await anchorTopology(server.target, name, queues);
  const sqs = newSqsClient(server.target);
  const sns = newSnsClient(server.target);
  return {
    ...topology,
    server,
    sqs,
    /** Pre-loads `perQueue` deliveries in each queue (through the topic) and checks them. */
    async preload(perQueue: number) {
      await publishMany(sns, topology.topicArn, perQueue, smallBody);
      await expectDepth(sqs, topology.queueUrls, perQueue);
      await sleep(SETTLE_MS);
    },
    async close() {
      sqs.destroy();
      sns.destroy();
      await server.close();
    },
  };
}

/** The raw loop: `RAW_POLLERS` loops of ReceiveMessage + DeleteMessageBatch over the three queues. */
function rawSide(kind: ServerKind, name: string, allAttributes: boolean): Side {
  return {
    name,
    samples: [],
    async run(n) {
      const a = await anchorSetup(kind, 'bench-raw', 3);
      try {
        await a.preload(n / 3);
        let drain: ReturnType<typeof rawDrain> | undefined;
        const sample = await timedDrain(
          a.server,
          n,
          () => {
            drain = rawDrain(a.sqs, a.queueUrls, n, { allAttributes });
          },
          () => drain?.done() === true,
        );
        await drain?.stop();
        return sample;
      } finally {
        await a.close();
      }
    },
  };
}

/** sqs-consumer: one Consumer per queue, over `count` queues holding the deliveries between them. */
function consumerSide(kind: ServerKind, count: number): Side {
  return {
    name: `sqs-consumer ×${count}`,
    samples: [],
    async run(n) {
      const a = await anchorSetup(kind, `bench-consumer${count}`, count);
      try {
        await a.preload(n / count);
        const drain = consumersDrain(a.sqs, a.queueUrls, n);
        const sample = await timedDrain(a.server, n, drain.start, drain.done);
        drain.stop();
        return sample;
      } finally {
        await a.close();
      }
    },
  };
}

async function drainThroughput(context: Context, kind: ServerKind): Promise<Measurement[]> {
  const { log } = context;
  const id = kind === 'embedded' ? 'P4' : 'P4-child';
  const deliveries = P4_DELIVERIES;
  const notices = new Set<string>();
  const ours: Side = { name: 'ours', samples: [], run: (n) => oursDrain(context, kind, n / 3, notices) };
  const raw = rawSide(kind, `raw ×${RAW_POLLERS}`, false);
  const rawAll = kind === 'embedded' ? rawSide(kind, `raw ×${RAW_POLLERS} all attributes`, true) : undefined;
  const single = kind === 'embedded' ? consumerSide(kind, 1) : undefined;
  const triple = kind === 'embedded' ? consumerSide(kind, 3) : undefined;
  const sides = [ours, raw, rawAll, single, triple].filter((s): s is Side => s !== undefined);
  for (const side of sides) await side.run(P4_WARMUP_DELIVERIES); // untimed warm-up
  for (let run = 0; run < context.runs; run++) {
    const load = loadavg()[0] as number;
    const order = sides.map((_, i) => sides[(i + run) % sides.length] as Side);
    for (const side of order) side.samples.push(await side.run(deliveries));
    log(
      `  ${id} run ${run + 1} (load ${load.toFixed(1)}): ` +
        sides
          .map((s) => {
            const x = s.samples.at(-1) as DrainSample;
            const cpu = Number.isNaN(x.serverCpuUs)
              ? `${x.clientCpuUs.toFixed(0)} µs CPU`
              : `${x.clientCpuUs.toFixed(0)}+${x.serverCpuUs.toFixed(0)} µs CPU`;
            return `${s.name} ${Math.round(x.perSecond)}/s (${cpu}, ${share(x.mainThread)})`;
          })
          .join(', '),
    );
  }
  for (const n of notices) log(`  runner notice: ${n}`);
  const rate = (s: Side) => s.samples.map((x) => x.perSecond);
  const label = `${deliveries.toLocaleString('en-US')} deliveries pre-loaded (1 topic → 3 queues)`;
  const where = kind === 'child' ? 'fauxqs in a child process' : 'fauxqs in the same process (as npm start runs it)';
  const metric = `deliveries/s through the runner, ${label}, ${where}`;
  const cpuNote = (s: Side) => {
    const client = median(s.samples.map((x) => x.clientCpuUs));
    const srv = median(s.samples.map((x) => x.serverCpuUs));
    return Number.isNaN(srv) ? `${client.toFixed(0)} µs` : `${client.toFixed(0)} µs + server ${srv.toFixed(0)} µs`;
  };
  const note =
    `CPU per delivery (median, all threads): ${sides.map((s) => `${s.name} ${cpuNote(s)}`).join(', ')}; ` +
    'environments started before the clock';
  const row = (anchor: string, side: Side, extra: Partial<Measurement>): Measurement => ({
    id,
    metric,
    unit: 'msg/s',
    better: 'higher',
    ours: rate(ours),
    anchor,
    anchorSamples: rate(side),
    ...extra,
  });
  const out: Measurement[] = [
    row(`raw ReceiveMessage(10) + DeleteMessageBatch, ${RAW_POLLERS} loops`, raw, {
      ...(kind === 'embedded' ? { goal: { text: '≥ 0.8×', ratioAtLeast: 0.8 } } : {}),
      note,
    }),
  ];
  if (single) {
    out.push(
      row(
        `${installed('sqs-consumer')}, one Consumer, handleMessageBatch, batch ${CONSUMER_BATCH} (all ${deliveries.toLocaleString('en-US')} in one queue)`,
        single,
        { goal: { text: '≥ 2×', ratioAtLeast: 2 } },
      ),
    );
  }
  if (rawAll) {
    out.push(
      row(`the raw loop asking for every attribute, as ours must for Lambda's records`, rawAll, {
        id: `${id}-raw-attributes`,
        note: 'informational: the share of the gap that the record format costs',
      }),
    );
  }
  if (triple) {
    out.push(
      row(
        `${installed('sqs-consumer')}, one Consumer per queue (3), handleMessageBatch, batch ${CONSUMER_BATCH}`,
        triple,
        {
          id: `${id}-consumer3`,
          note: 'informational: the same three queues as ours',
        },
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// P5: publish → handler start

/** p-th percentile (0–100) by nearest rank. */
function percentile(values: Float64Array | number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const clock = () => performance.timeOrigin + performance.now();
const PUBLISHER_SCRIPT = fileURLToPath(new URL('./publisher-process.ts', import.meta.url));

interface Published {
  readonly published: number;
  readonly failed: number;
  /** `t` from which samples count (the warm-up's end). */
  readonly measuredFrom: number;
  /** How far behind schedule a publish started at worst, ms. */
  readonly lateMs: number;
}

/**
 * Publishes `P5_PUBLISH_RATE` messages per second for the warm-up and `seconds` more, one Publish call each, from
 * bench/publisher-process.ts in a child process (so the load generator's CPU is not in this process).
 */
async function publishAtRate(endpoint: string, topicArn: string, seconds: number): Promise<Published> {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      '--import',
      'tsx',
      PUBLISHER_SCRIPT,
      endpoint,
      topicArn,
      String(P5_PUBLISH_RATE),
      String(P5_WARMUP_SECONDS),
      String(seconds),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`publisher-process exited ${code}`);
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Published;
  if (result.failed > 0) throw new Error(`publisher: ${result.failed} Publish calls failed`);
  return result;
}

interface LatencySample {
  readonly p99: number;
  readonly p50: number;
  readonly count: number;
  readonly lateMs: number;
  /** How this process's main thread spent the publisher's run. */
  readonly mainThread: MainThreadShare;
}

/** Publishes at the P5 rate to `topicArn`, noting how this process's main thread spent that time. */
async function publishMeasured(endpoint: string, topicArn: string, seconds: number) {
  const meter = mainThreadMeter();
  const published = await publishAtRate(endpoint, topicArn, seconds);
  return { published, mainThread: meter() };
}

function summarizeLatencies(
  pairs: readonly number[],
  { published, mainThread }: Awaited<ReturnType<typeof publishMeasured>>,
): LatencySample {
  const kept: number[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    if ((pairs[i] as number) >= published.measuredFrom) kept.push(pairs[i + 1] as number);
  }
  return {
    p99: percentile(kept, 99),
    p50: percentile(kept, 50),
    count: kept.length,
    lateMs: published.lateMs,
    mainThread,
  };
}

async function oursLatency(context: Context, kind: ServerKind, seconds: number, notices: Set<string>) {
  const server = await freshServer(kind, true);
  let runner: LocalRunner;
  try {
    runner = await startRunner(context, server.target, notices);
  } catch (error) {
    await server.close();
    throw error;
  }
  const channel = new BroadcastChannel(HANDLER_START_CHANNEL);
  const pairs: number[] = [];
  channel.onmessage = (event) => {
    for (const x of (event as unknown as { data: number[] }).data) pairs.push(x);
  };
  try {
    await warmEnvironments(runner);
    await sleep(SETTLE_MS);
    const topicArn = runner.model.topics[0]?.arn as string;
    const queues = mappedQueues(runner.model);
    const run = await publishMeasured(runner.target.endpoint, topicArn, seconds);
    await until('ours: every delivery seen', () => pairs.length >= run.published.published * queues.length * 2, 30_000);
    return summarizeLatencies(pairs, run);
  } finally {
    channel.close();
    await runner.stop();
    await server.close();
  }
}

async function rawLatency(kind: ServerKind, seconds: number) {
  const server = await freshServer(kind, false);
  const a = await anchorTopology(server.target, 'bench-latency', 3);
  const sqs = newSqsClient(server.target);
  const pairs: number[] = [];
  try {
    await sleep(SETTLE_MS);
    const drain = rawDrain(sqs, a.queueUrls, Number.POSITIVE_INFINITY, {
      onReceive: (messages) => {
        const now = clock();
        for (const m of messages) {
          const envelope = JSON.parse(m.Body as string) as { Message: string };
          const { t } = JSON.parse(envelope.Message) as { t: number };
          pairs.push(t, now - t);
        }
      },
    });
    const run = await publishMeasured(server.target, a.topicArn, seconds);
    await until('raw: every delivery seen', () => pairs.length >= run.published.published * 3 * 2, 30_000);
    await drain.stop();
    return summarizeLatencies(pairs, run);
  } finally {
    sqs.destroy();
    await server.close();
  }
}

async function handlerStartLatency(context: Context, kind: ServerKind): Promise<Measurement[]> {
  const { log } = context;
  const id = kind === 'embedded' ? 'P5' : 'P5-child';
  const seconds = P5_SECONDS[context.quick ? 'quick' : 'full'];
  const notices = new Set<string>();
  const sides = {
    ours: { run: () => oursLatency(context, kind, seconds, notices), samples: [] as LatencySample[] },
    raw: { run: () => rawLatency(kind, seconds), samples: [] as LatencySample[] },
  };
  const names = Object.keys(sides) as (keyof typeof sides)[];
  for (let run = 0; run < context.runs; run++) {
    const load = loadavg()[0] as number;
    const order = run % 2 === 0 ? names : [...names].reverse();
    for (const name of order) sides[name].samples.push(await sides[name].run());
    log(
      `  ${id} run ${run + 1} (load ${load.toFixed(1)}): ` +
        names
          .map((n) => {
            const x = sides[n].samples.at(-1) as LatencySample;
            return `${n} p99 ${x.p99.toFixed(1)} ms, p50 ${x.p50.toFixed(1)} ms (${x.count} deliveries; ${share(x.mainThread)}; publisher at worst ${x.lateMs.toFixed(0)} ms behind)`;
          })
          .join('; '),
    );
  }
  for (const n of notices) log(`  runner notice: ${n}`);
  const where = kind === 'child' ? 'fauxqs in a child process' : 'fauxqs in the same process (as npm start runs it)';
  const metric = (p: string) =>
    `publish → handler start ${p}, ${P5_DELIVERY_RATE.toLocaleString('en-US')} deliveries/s (${Math.round(P5_PUBLISH_RATE)} publishes/s × 3 queues) for ${seconds} s after ${P5_WARMUP_SECONDS} s warm-up, ${where}`;
  const anchor = `raw ReceiveMessage(10, long poll) + DeleteMessageBatch, ${RAW_POLLERS} loops (start = receive returned)`;
  return [
    {
      id,
      metric: metric('p99'),
      unit: 'ms',
      better: 'lower',
      ours: sides.ours.samples.map((x) => x.p99),
      anchor,
      anchorSamples: sides.raw.samples.map((x) => x.p99),
      ...(kind === 'embedded' ? { goal: { text: '≤ 1.5× raw (ratio ≥ 0.667)', ratioAtLeast: 1 / 1.5 } } : {}),
      note: 'start = first line of the record callback in the worker; one Publish call per message, open loop',
    },
    {
      id: `${id}-p50`,
      metric: metric('p50'),
      unit: 'ms',
      better: 'lower',
      ours: sides.ours.samples.map((x) => x.p50),
      anchor,
      anchorSamples: sides.raw.samples.map((x) => x.p50),
      note: 'informational',
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// P7: npm start → ready

const READY = /ready in ([\d.]+) s/;

/** A copy of the reference app (its sources; node_modules linked) in a temporary folder: cdk.out is ours to delete. */
function appCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'queuekit-bench-start-'));
  for (const entry of ['bin', 'lib', 'lambdas', 'cdk.json', 'package.json', 'package-lock.json', 'tsconfig.json'])
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Kills a process group (spawned detached) and waits for its leader to exit. */
async function killGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // gone
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

/** `npm start -- --watch` in `dir`: wall time from spawn to the `ready in X s` line, and X. */
async function timeToReady(dir: string): Promise<{ wallMs: number; reportedMs: number; synthesized: boolean }> {
  const started = performance.now();
  const child = spawn('npm', ['start', '--', '--watch'], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const tail: string[] = [];
  try {
    return await new Promise((resolve, reject) => {
      let synthesized = false;
      const timer = setTimeout(() => reject(new Error(`no "ready in" line after 120 s:\n${tail.join('\n')}`)), 120_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (${code}) before ready:\n${tail.join('\n')}`));
      });
      lines.on('line', (line) => {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (line.startsWith('synthesized ')) synthesized = true;
        const match = READY.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve({ wallMs: performance.now() - started, reportedMs: Number(match[1]) * 1000, synthesized });
        }
      });
    });
  } finally {
    await killGroup(child, 'SIGINT');
    lines.close();
  }
}

/** `npx cdk synth --quiet` into a fresh folder: the anchor. */
async function cdkSynth(dir: string): Promise<number> {
  const out = join(dir, 'cdk.synth.out');
  rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  const child = spawn('npx', ['cdk', 'synth', '--quiet', '-o', out], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`cdk synth exited ${code}:\n${stderr.slice(-2000)}`);
  return performance.now() - started;
}

async function startupTime(options: RunnerBenchOptions): Promise<Measurement[]> {
  const { log } = options;
  const dir = appCopy();
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    const synth: number[] = [];
    const reported = { cold: [] as number[], warm: [] as number[] };
    const coldThenWarm = async (record: boolean) => {
      rmSync(join(dir, 'cdk.out'), { recursive: true, force: true });
      const c = await timeToReady(dir);
      if (!c.synthesized) throw new Error('cold start did not synthesize');
      const w = await timeToReady(dir);
      if (w.synthesized) throw new Error('warm start synthesized (cdk.out was not reused)');
      if (record) {
        cold.push(c.wallMs);
        warm.push(w.wallMs);
        reported.cold.push(c.reportedMs);
        reported.warm.push(w.reportedMs);
      }
    };
    await coldThenWarm(false); // warm-up: file caches, tsx's cache
    const sec = (ms: number[]) => `${((ms.at(-1) as number) / 1000).toFixed(2)} s`;
    for (let run = 0; run < options.runs; run++) {
      const load = loadavg()[0] as number;
      const steps = [() => coldThenWarm(true), async () => void synth.push(await cdkSynth(dir))];
      for (const step of run % 2 === 0 ? steps : [...steps].reverse()) await step();
      log(
        `  P7 run ${run + 1} (load ${load.toFixed(1)}): cold ${sec(cold)} (its line: ${sec(reported.cold)}), ` +
          `warm ${sec(warm)} (its line: ${sec(reported.warm)}), cdk synth ${sec(synth)}`,
      );
    }
    const anchor = `${packageVersion('aws-cdk')} \`npx cdk synth --quiet\` of the same app`;
    const s = (ms: number[]) => ms.map((x) => x / 1000);
    const note = (which: 'cold' | 'warm') =>
      `wall time from spawning \`npm start -- --watch\` to its "ready in" line; the line itself says ${(median(reported[which]) / 1000).toFixed(1)} s (median; counted from the CLI's start)`;
    return [
      {
        id: 'P7-cold',
        metric: 'npm start → ready, cold (cdk.out deleted: full synth)',
        unit: 's',
        better: 'lower',
        ours: s(cold),
        anchor,
        anchorSamples: s(synth),
        goal: { text: '≤ 8 s', valueAtMost: 8 },
        note: note('cold'),
      },
      {
        id: 'P7-warm',
        metric: 'npm start → ready, warm (fresh cdk.out reused)',
        unit: 's',
        better: 'lower',
        ours: s(warm),
        anchor,
        anchorSamples: s(synth),
        goal: { text: '≤ 8 s', valueAtMost: 8 },
        note: note('warm'),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// P8: memory with 100k messages queued

const RSS_SCRIPT = fileURLToPath(new URL('./runner-rss-process.ts', import.meta.url));

export interface RssReport {
  /** RSS with the messages queued, MiB. */
  readonly queuedMiB: number;
  /** Highest RSS while the runner drained them (ours only), MiB. */
  readonly drainPeakMiB?: number;
  readonly drainPerSecond?: number;
}

/** SendMessageBatch of `count` bodies to `queueUrl` (10 per call, 16 calls in flight). */
async function sendMany(sqs: SQSClient, queueUrl: string, count: number, body: (i: number) => string) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const start = next;
      next = Math.min(count, next + 10);
      const entries = [];
      for (let i = start; i < next; i++) entries.push({ Id: String(i - start), MessageBody: body(i) });
      const { Failed } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if (Failed?.length) throw new Error(`SendMessageBatch: ${Failed.length} entries failed (${Failed[0]?.Code})`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/**
 * Runs bench/runner-rss-process.ts in a fresh process (so nothing of this one is counted); this process sends it
 * the messages.
 */
async function rssChild(mode: 'ours' | 'fauxqs', context: Context): Promise<RssReport> {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      '--expose-gc',
      '--import',
      'tsx',
      RSS_SCRIPT,
      mode,
      context.assembly,
      context.stateDir,
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const next = async <T>(): Promise<T> => {
    const line = await Promise.race([lines.next(), exited.then((code) => ({ done: true, value: `exit ${code}` }))]);
    if (line.done) throw new Error(`runner-rss-process ${mode} ended early (${line.value})`);
    return JSON.parse(line.value as string) as T;
  };
  const tell = (line: string) => child.stdin?.write(`${line}\n`);
  try {
    const { endpoint, queueUrl } = await next<{ endpoint: string; queueUrl: string }>();
    const sqs = newSqsClient(endpoint);
    try {
      await sendMany(sqs, queueUrl, P8_MESSAGES, smallBody);
      await expectDepth(sqs, [queueUrl], P8_MESSAGES);
    } finally {
      sqs.destroy();
    }
    tell('measure');
    const { queuedMiB } = await next<{ queuedMiB: number }>();
    let drain: { drainPeakMiB: number; drainPerSecond: number } | undefined;
    if (mode === 'ours') {
      tell(`drain ${P8_MESSAGES}`);
      drain = await next();
    }
    tell('exit');
    if ((await exited) !== 0) throw new Error(`runner-rss-process ${mode} failed`);
    return { queuedMiB, ...drain };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function queuedMemory(context: Context): Promise<Measurement[]> {
  const { log } = context;
  const ours: RssReport[] = [];
  const floor: RssReport[] = [];
  for (let run = 0; run < context.runs; run++) {
    const steps = [
      async () => void ours.push(await rssChild('ours', context)),
      async () => void floor.push(await rssChild('fauxqs', context)),
    ];
    for (const step of run % 2 === 0 ? steps : [...steps].reverse()) await step();
    const o = ours.at(-1) as RssReport;
    log(
      `  P8 run ${run + 1}: ours ${o.queuedMiB.toFixed(0)} MiB queued, ${o.drainPeakMiB?.toFixed(0)} MiB peak while draining ` +
        `(${Math.round(o.drainPerSecond ?? 0)}/s); fauxqs alone ${(floor.at(-1) as RssReport).queuedMiB.toFixed(0)} MiB`,
    );
  }
  const label = `${P8_MESSAGES.toLocaleString('en-US')} messages of ${smallBody(0).length} B queued`;
  const anchor = `${packageVersion('fauxqs')} alone in a process (the embedded target, nothing else), the same messages queued`;
  return [
    {
      id: 'P8',
      metric: `RSS of the runner (embedded fauxqs + runner), ${label}, pollers not started yet`,
      unit: 'MiB',
      better: 'lower',
      ours: ours.map((r) => r.queuedMiB),
      anchor,
      anchorSamples: floor.map((r) => r.queuedMiB),
      goal: { text: '≤ 300 MiB', valueAtMost: 300 },
      note: 'fresh process per measurement, after a GC',
    },
    {
      id: 'P8-drain',
      metric: `peak RSS of the runner while it drains those ${P8_MESSAGES.toLocaleString('en-US')} messages (its environments started)`,
      unit: 'MiB',
      better: 'lower',
      ours: ours.map((r) => r.drainPeakMiB as number),
      anchor,
      anchorSamples: floor.map((r) => r.queuedMiB),
      note: 'informational (P8 is the runner at rest); sampled every 50 ms; each environment is 26–30 MiB, 10 start here',
    },
  ];
}
