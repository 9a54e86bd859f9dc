/**
 * P3a (FIFO batch wall time with I/O-bound handlers) and P3b (CPU per record on a large standard batch) for the
 * batch consumer, against Powertools batch, in this process on hand-built Lambda SQS events.
 *
 * Fairness: ours gets a silent logger (its per-batch summary line would otherwise go to stdout); Powertools'
 * processors log only on failures and parse errors (through `console`), and no record fails here, so neither
 * side writes anything. Each handler does the same useful work: ours receives the body already parsed (the
 * runtime parses it and checks for an SNS envelope) and reads it; Powertools' handler parses `record.body`.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processBatch, type RuntimeLogger } from '../lib/runtime/index.js';
import { installed } from './packages.js';
import { type Measurement, median } from './stats.js';

export interface ConsumerBenchOptions {
  readonly quick: boolean;
  readonly runs: number;
  readonly wants: (id: string) => boolean;
  readonly log: (line: string) => void;
}

const SILENT: RuntimeLogger = { debug() {}, info() {}, warn() {}, error() {} };
const FIFO_RECORDS = 10;
const IO_MS = 20;
const STANDARD_RECORDS = 10_000;

/** A Lambda SQS record as the event source mapping delivers it. */
function record(i: number, body: string, groupId?: string): SQSRecord {
  return {
    messageId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    receiptHandle: `receipt-${i}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1733300000000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1733300000100',
      ...(groupId ? { MessageGroupId: groupId, MessageDeduplicationId: `dedup-${i}`, SequenceNumber: String(i) } : {}),
    },
    messageAttributes: {},
    md5OfBody: 'not-checked',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:bench${groupId ? '.fifo' : ''}`,
    awsRegion: 'us-east-1',
  };
}

const jobBody = (i: number) =>
  JSON.stringify({
    jobId: `job-${String(i).padStart(6, '0')}`,
    accountId: `acct-${i % 97}`,
    kind: 'text',
    priority: 'normal',
    prompt: 'summarize the quarterly report',
  });

/** Keeps the handlers' work observable so it cannot be optimized away. */
let sink = 0;
function consume(value: unknown): void {
  if (value === null || typeof value !== 'object') throw new Error('body is not an object');
  sink += (value as { jobId?: string }).jobId?.length ?? 0;
}

function assertAllSucceeded(what: string, response: SQSBatchResponse): void {
  if (response.batchItemFailures.length > 0)
    throw new Error(`${what}: ${response.batchItemFailures.length} records failed in a benchmark that expects none`);
}

export async function consumerBench(options: ConsumerBenchOptions): Promise<Measurement[]> {
  const out: Measurement[] = [];
  if (options.wants('P3a')) out.push(await fifoWallTime(options));
  if (['P3b', 'P3b-wall', 'P3b-c10000'].some(options.wants)) out.push(...(await cpuPerRecord(options)));
  if (sink < 0) options.log(String(sink));
  return out;
}

/** P3a: 10 records in 10 groups, each handler awaiting 20 ms; median of several iterations per run. */
async function fifoWallTime(options: ConsumerBenchOptions): Promise<Measurement> {
  const event: SQSEvent = {
    Records: Array.from({ length: FIFO_RECORDS }, (_, i) => record(i, jobBody(i), `group-${i}`)),
  };
  const processor = new SqsFifoPartialProcessorAsync();
  const ours = async () =>
    assertAllSucceeded(
      'ours',
      await processBatch(
        event,
        async ({ body }) => {
          consume(body);
          await sleep(IO_MS);
        },
        { logger: SILENT },
      ),
    );
  const theirs = async () =>
    assertAllSucceeded(
      'powertools',
      await processPartialResponse(
        event,
        async (r: SQSRecord) => {
          consume(JSON.parse(r.body));
          await sleep(IO_MS);
        },
        processor,
      ),
    );
  const iterations = options.quick ? 5 : 10;
  await ours();
  await theirs();
  const oursRuns: number[] = [];
  const theirsRuns: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let k = 0; k < iterations; k++) {
      const sides = [
        [ours, a],
        [theirs, b],
      ] as const;
      for (const [fn, samples] of (run + k) % 2 === 0 ? sides : [...sides].reverse()) {
        const start = performance.now();
        await fn();
        samples.push(performance.now() - start);
      }
    }
    oursRuns.push(median(a));
    theirsRuns.push(median(b));
    options.log(
      `  P3a run ${run + 1}: ours ${median(a).toFixed(1)} ms, powertools ${median(b).toFixed(1)} ms (median of ${iterations})`,
    );
  }
  return {
    id: 'P3a',
    metric: `FIFO batch wall time, ${FIFO_RECORDS} records in ${FIFO_RECORDS} groups, ${IO_MS} ms I/O each`,
    unit: 'ms',
    better: 'lower',
    ours: oursRuns,
    anchor: `${installed('@aws-lambda-powertools/batch')} SqsFifoPartialProcessorAsync`,
    anchorSamples: theirsRuns,
    goal: { text: `≥ 9× faster (floor ${IO_MS} ms)`, ratioAtLeast: 9 },
    note: `each run's value is the median of ${iterations} iterations`,
  };
}

interface CpuSample {
  readonly cpuUsPerRecord: number;
  readonly wallMs: number;
}

async function measureCpu(fn: () => Promise<void>): Promise<CpuSample> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await fn();
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return { cpuUsPerRecord: (cpu.user + cpu.system) / STANDARD_RECORDS, wallMs };
}

/** P3b: 10,000 standard records, trivial handlers; CPU per record and wall time. */
async function cpuPerRecord(options: ConsumerBenchOptions): Promise<Measurement[]> {
  const event: SQSEvent = { Records: Array.from({ length: STANDARD_RECORDS }, (_, i) => record(i, jobBody(i))) };
  const processor = new BatchProcessor(EventType.SQS);
  const oursWith = (concurrency?: number) => async () =>
    assertAllSucceeded(
      'ours',
      await processBatch(
        event,
        async ({ body }) => {
          consume(body);
        },
        { logger: SILENT, ...(concurrency ? { concurrency } : {}) },
      ),
    );
  const sides = {
    ours: oursWith(),
    oursUnbounded: oursWith(STANDARD_RECORDS),
    theirs: async () =>
      assertAllSucceeded(
        'powertools',
        await processPartialResponse(
          event,
          async (r: SQSRecord) => {
            consume(JSON.parse(r.body));
          },
          processor,
        ),
      ),
  };
  const names = Object.keys(sides) as (keyof typeof sides)[];
  for (const name of names) await sides[name](); // warm-up, untimed
  const iterations = options.quick ? 5 : 9;
  const runs = Object.fromEntries(names.map((n) => [n, { cpu: [] as number[], wall: [] as number[] }])) as Record<
    keyof typeof sides,
    { cpu: number[]; wall: number[] }
  >;
  for (let run = 0; run < options.runs; run++) {
    const perIteration = Object.fromEntries(names.map((n) => [n, [] as CpuSample[]])) as Record<
      keyof typeof sides,
      CpuSample[]
    >;
    for (let k = 0; k < iterations; k++) {
      const shift = (run * iterations + k) % names.length;
      const order = names.map((_, i) => names[(i + shift) % names.length] as keyof typeof sides);
      for (const name of order) perIteration[name].push(await measureCpu(sides[name]));
    }
    for (const name of names) {
      runs[name].cpu.push(median(perIteration[name].map((s) => s.cpuUsPerRecord)));
      runs[name].wall.push(median(perIteration[name].map((s) => s.wallMs)));
    }
    options.log(
      `  P3b run ${run + 1}: ` +
        names
          .map((n) => `${n} ${runs[n].cpu.at(-1)?.toFixed(2)} µs/record ${runs[n].wall.at(-1)?.toFixed(1)} ms`)
          .join(', '),
    );
  }
  const anchor = `${installed('@aws-lambda-powertools/batch')} BatchProcessor(SQS)`;
  const label = `${STANDARD_RECORDS.toLocaleString('en-US')}-record standard batch`;
  const note = `each run's value is the median of ${iterations} iterations; order rotated between iterations`;
  return [
    {
      id: 'P3b',
      metric: `CPU per record, ${label}, ours default options (concurrency 10)`,
      unit: 'µs/record',
      better: 'lower',
      ours: runs.ours.cpu,
      anchor,
      anchorSamples: runs.theirs.cpu,
      goal: { text: 'ratio ≥ 1 (no more CPU per record)', ratioAtLeast: 1 },
      note,
    },
    {
      id: 'P3b-wall',
      metric: `wall time, ${label}, ours default options (concurrency 10)`,
      unit: 'ms',
      better: 'lower',
      ours: runs.ours.wall,
      anchor,
      anchorSamples: runs.theirs.wall,
      note: `informational; ${note}`,
    },
    {
      id: 'P3b-c10000',
      metric: `CPU per record, ${label}, ours with concurrency 10000`,
      unit: 'µs/record',
      better: 'lower',
      ours: runs.oursUnbounded.cpu,
      anchor,
      anchorSamples: runs.theirs.cpu,
      note: `informational (Powertools runs all records at once; this matches it); ${note}`,
    },
  ];
}
