/**
 * P1 (API requests per message) and P2 (throughput, plus delivery of mixed-size messages) for the producer,
 * against fauxqs running in a child process.
 *
 * Every sender gets its own SQS client built from the same configuration, with a middleware that counts each
 * HTTP attempt (it sits below the SDK's retry middleware, so retries count too). P1 comes from the same runs as
 * P2: the request count of a timed send divided by the messages sent. Each run sends to a fresh queue that is
 * deleted afterwards (fauxqs keeps messages in memory), and checks the queue holds exactly what was sent.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { Producer } from 'sqs-producer';
import { MessageProducer } from '../lib/runtime/index.js';
import { type ChildEmulator, newSqsClient, spawnEmulator } from './emulator.js';
import { installed } from './packages.js';
import { type Measurement, timeMs } from './stats.js';

export interface ProducerBenchOptions {
  readonly quick: boolean;
  readonly runs: number;
  readonly wants: (id: string) => boolean;
  readonly log: (line: string) => void;
}

/** Messages per timed send: the 20,000; fewer in quick mode. */
const MESSAGES = { full: 20_000, quick: 10_000 } as const;
const BODY_BYTES = 100;
const LIMIT_IN_FLIGHT = 32;
/** Pause after the warm-up, so its garbage (client and emulator) is not collected during the first timed send. */
const SETTLE_MS = 500;
const WARMUP_ROUNDS = 2;
const MIXED_COUNT = 200;
const MIXED_MIN_BYTES = 1024;
const MIXED_MAX_BYTES = 900 * 1024;

interface CountingClient {
  readonly client: SQSClient;
  readonly requests: number;
  reset(): void;
}

/** An SQS client that counts HTTP attempts (one per try, below the retry middleware). */
function countingClient(endpoint: string): CountingClient {
  const client = newSqsClient(endpoint);
  let requests = 0;
  client.middlewareStack.add(
    (next) => (args) => {
      requests++;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchRequestCounter' },
  );
  return {
    client,
    get requests() {
      return requests;
    },
    reset() {
      requests = 0;
    },
  };
}

/** A 100-byte JSON body, distinct per index. */
export function smallBody(i: number): string {
  const head = `{"jobId":"job-${String(i).padStart(6, '0')}","kind":"text","prompt":"`;
  const body = `${head}${'x'.repeat(BODY_BYTES - head.length - 2)}"}`;
  if (body.length !== BODY_BYTES) throw new Error(`body of ${body.length} bytes`);
  return body;
}

/** Deterministic PRNG (mulberry32), so the mixed sizes are the same on every run and machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sender under test: sends every message to `queueUrl`, returns how many the API accepted. */
interface Sender {
  readonly name: string;
  readonly counter: CountingClient;
  send(queueUrl: string, bodies: readonly string[]): Promise<number>;
}

function oursSender(endpoint: string): Sender {
  const counter = countingClient(endpoint);
  const producer = new MessageProducer({ clients: { sqs: counter.client } });
  return {
    name: 'ours (MessageProducer, defaults)',
    counter,
    async send(queueUrl, bodies) {
      const results = await producer.send(
        queueUrl,
        bodies.map((body) => ({ body })),
      );
      return results.filter((r) => r.ok).length;
    },
  };
}

/** The "limit": pre-built entries of 10, SendMessageBatch with 32 requests in flight, nothing else. */
function limitSender(endpoint: string): Sender & { prepare(bodies: readonly string[]): void } {
  const counter = countingClient(endpoint);
  let batches: SendMessageBatchRequestEntry[][] = [];
  let prepared: readonly string[] | undefined;
  return {
    name: `raw SendMessageBatch, ${LIMIT_IN_FLIGHT} in flight (limit)`,
    counter,
    prepare(bodies) {
      if (prepared === bodies) return;
      batches = [];
      for (let i = 0; i < bodies.length; i += 10)
        batches.push(bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(i + j), MessageBody })));
      prepared = bodies;
    },
    async send(queueUrl, bodies) {
      this.prepare(bodies);
      let next = 0;
      let accepted = 0;
      const worker = async () => {
        while (next < batches.length) {
          const Entries = batches[next++];
          const response = await counter.client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }));
          accepted += response.Successful?.length ?? 0;
        }
      };
      await Promise.all(Array.from({ length: LIMIT_IN_FLIGHT }, worker));
      return accepted;
    },
  };
}

function sqsProducerSender(endpoint: string): Sender {
  const counter = countingClient(endpoint);
  return {
    name: installed('sqs-producer'),
    counter,
    async send(queueUrl, bodies) {
      const producer = Producer.create({ queueUrl, sqs: counter.client, batchSize: 10 });
      const sent = await producer.send(bodies.map((body, i) => ({ id: String(i), body })));
      return sent.length;
    },
  };
}

export async function producerBench(options: ProducerBenchOptions): Promise<Measurement[]> {
  const emulator = await spawnEmulator();
  options.log(`fauxqs child process pid ${emulator.pid} at ${emulator.endpoint}`);
  try {
    const out: Measurement[] = [];
    if (['P1', 'P2', 'P2-cpu'].some(options.wants)) out.push(...(await smallMessages(emulator, options)));
    if (options.wants('P2-mixed')) out.push(await mixedSizes(emulator, options));
    return out;
  } finally {
    await emulator.stop();
  }
}

let queueSeq = 0;
const queueName = (what: string) => `bench-${what}-${++queueSeq}`;

async function smallMessages(emulator: ChildEmulator, options: ProducerBenchOptions): Promise<Measurement[]> {
  const n = options.quick ? MESSAGES.quick : MESSAGES.full;
  const bodies = Array.from({ length: n }, (_, i) => smallBody(i));
  const ours = oursSender(emulator.endpoint);
  const limit = limitSender(emulator.endpoint);
  const sqsProducer = sqsProducerSender(emulator.endpoint);
  const senders = [ours, limit, sqsProducer];

  // Warm-up: two untimed full-size rounds (JIT of the SDK and of fauxqs with all three senders' shapes, keep-alive
  // connections); with one round, whichever sender went first after it was measurably slower.
  for (let round = 0; round < WARMUP_ROUNDS; round++) {
    for (const sender of senders) {
      const queueUrl = await emulator.createQueue(queueName('warmup'));
      await sender.send(queueUrl, bodies);
      await emulator.deleteQueue(queueUrl);
    }
  }
  await sleep(SETTLE_MS);
  limit.prepare(bodies); // entries were built during its warm-up and are reused: not part of the timed work

  const throughput = new Map<Sender, number[]>(senders.map((s) => [s, []]));
  const requestsPerMessage = new Map<Sender, number[]>(senders.map((s) => [s, []]));
  const clientCpu = new Map<Sender, number[]>(senders.map((s) => [s, []]));
  const problems: string[] = [];
  for (let run = 0; run < options.runs; run++) {
    const order = senders.map((_, i) => senders[(i + run) % senders.length] as Sender);
    for (const sender of order) {
      const queueUrl = await emulator.createQueue(queueName('p2'));
      sender.counter.reset();
      let accepted = 0;
      const cpu0 = process.cpuUsage();
      const serverCpu0 = emulator.cpuMs();
      const ms = await timeMs(async () => {
        accepted = await sender.send(queueUrl, bodies);
      });
      const cpu = process.cpuUsage(cpu0);
      const serverCpuMs = emulator.cpuMs() - serverCpu0;
      const requests = sender.counter.requests;
      const depth = await emulator.depth(queueUrl);
      await emulator.deleteQueue(queueUrl);
      if (accepted !== n || depth !== n)
        problems.push(`${sender.name} run ${run + 1}: accepted ${accepted}, queue holds ${depth} of ${n}`);
      throughput.get(sender)?.push(n / (ms / 1000));
      requestsPerMessage.get(sender)?.push(requests / n);
      clientCpu.get(sender)?.push((cpu.user + cpu.system) / n);
      options.log(
        `  P2 run ${run + 1} ${sender.name}: ${Math.round(ms)} ms, ${Math.round(n / (ms / 1000))} msg/s, ` +
          `${requests} requests, CPU per msg: client ${((cpu.user + cpu.system) / n).toFixed(1)} µs, ` +
          `fauxqs ${((serverCpuMs * 1000) / n).toFixed(1)} µs`,
      );
    }
  }
  for (const sender of senders) sender.counter.client.destroy();

  const note = problems.length > 0 ? `DELIVERY PROBLEMS: ${problems.join('; ')}` : undefined;
  const label = `${n.toLocaleString('en-US')} × ${BODY_BYTES} B`;
  const samples = (map: Map<Sender, number[]>, sender: Sender) => map.get(sender) ?? [];
  const out: Measurement[] = [];
  if (options.wants('P1'))
    out.push({
      id: 'P1',
      metric: `API requests per message (${label}, standard queue)`,
      unit: 'req/msg',
      better: 'lower',
      ours: samples(requestsPerMessage, ours),
      anchor: sqsProducer.name,
      anchorSamples: samples(requestsPerMessage, sqsProducer),
      goal: { text: 'ours ≤ 0.101 req/msg', valueAtMost: 0.101 },
      ...(note ? { note } : {}),
    });
  if (options.wants('P2'))
    out.push(
      {
        id: 'P2',
        metric: `producer throughput (${label}, fauxqs in child process)`,
        unit: 'msg/s',
        better: 'higher',
        ours: samples(throughput, ours),
        anchor: limit.name,
        anchorSamples: samples(throughput, limit),
        goal: { text: 'ours ≥ 0.95× limit', ratioAtLeast: 0.95 },
        ...(note ? { note } : {}),
      },
      {
        id: 'P2',
        metric: `producer throughput (${label}, fauxqs in child process)`,
        unit: 'msg/s',
        better: 'higher',
        ours: samples(throughput, ours),
        anchor: sqsProducer.name,
        anchorSamples: samples(throughput, sqsProducer),
        goal: { text: 'ours ≥ 1.5× sqs-producer', ratioAtLeast: 1.5 },
        ...(note ? { note } : {}),
      },
    );
  if (options.wants('P2-cpu'))
    out.push(
      ...[limit, sqsProducer].map(
        (anchor): Measurement => ({
          id: 'P2-cpu',
          metric: `client CPU per message during the P2 sends (${label})`,
          unit: 'µs/msg',
          better: 'lower',
          ours: samples(clientCpu, ours),
          anchor: anchor.name,
          anchorSamples: samples(clientCpu, anchor),
          note: 'informational: process.cpuUsage() of the client process (the emulator runs in its child)',
        }),
      ),
    );
  return out;
}

/** P2 correctness: 200 messages of 1–900 KiB (deterministic sizes), sent as one array by each producer. */
async function mixedSizes(emulator: ChildEmulator, options: ProducerBenchOptions): Promise<Measurement> {
  const random = mulberry32(0x5eed);
  const sizes = Array.from(
    { length: MIXED_COUNT },
    () => MIXED_MIN_BYTES + Math.floor(random() * (MIXED_MAX_BYTES - MIXED_MIN_BYTES + 1)),
  );
  const filler = 'm'.repeat(MIXED_MAX_BYTES);
  const bodies = sizes.map((size) => filler.slice(0, size));
  const ours = oursSender(emulator.endpoint);
  const sqsProducer = sqsProducerSender(emulator.endpoint);
  const oursDelivered: number[] = [];
  const theirsDelivered: number[] = [];
  const errors = new Set<string>();
  for (let run = 0; run < options.runs; run++) {
    for (const [sender, delivered] of [
      [ours, oursDelivered],
      [sqsProducer, theirsDelivered],
    ] as const) {
      const queueUrl = await emulator.createQueue(queueName('mixed'), { MaximumMessageSize: '1048576' });
      try {
        await sender.send(queueUrl, bodies);
      } catch (error) {
        errors.add(`${sender.name}: ${(error as Error).name}: ${(error as Error).message}`);
      }
      delivered.push(await emulator.depth(queueUrl));
      await emulator.deleteQueue(queueUrl);
    }
    options.log(
      `  P2-mixed run ${run + 1}: ours ${oursDelivered.at(-1)}, ${sqsProducer.name} ${theirsDelivered.at(-1)} of ${MIXED_COUNT}`,
    );
  }
  ours.counter.client.destroy();
  sqsProducer.counter.client.destroy();
  const total = sizes.reduce((a, b) => a + b, 0);
  const notes = [
    `sizes from mulberry32(0x5eed), ${(total / 2 ** 20).toFixed(1)} MiB in all; delivered = ApproximateNumberOfMessages`,
    ...[...errors].map((e) => `threw ${e}`),
  ];
  if (theirsDelivered.every((d) => d === 0)) notes.push('ratio null: the anchor delivered 0 (ours/0 is undefined)');
  return {
    id: 'P2-mixed',
    metric: `messages delivered of ${MIXED_COUNT} mixed 1–900 KiB`,
    unit: 'messages',
    better: 'higher',
    ours: oursDelivered,
    anchor: sqsProducer.name,
    anchorSamples: theirsDelivered,
    goal: { text: `ours delivers ${MIXED_COUNT}/${MIXED_COUNT}`, valueAtLeast: MIXED_COUNT },
    note: notes.join('; '),
  };
}
