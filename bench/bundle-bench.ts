/**
 * P6: minified bundle bytes of the reference consumer (`lambdas/inference-worker.ts`) against the same handler
 * written with Powertools batch + parser + logger (`bench/fixtures/powertools-inference-worker.ts`).
 *
 * Both are bundled with esbuild's JS API and the settings of our Lambda bundling (`QueuekitFunction`: ESM,
 * node22, minified, `@aws-sdk/*` external as the Node 22 runtime provides it, module-first main fields and the
 * createRequire banner), without the source map, in memory. The anchor is also invoked once on a small event,
 * so the comparison is against a handler that works.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { installed } from './packages.js';
import type { Measurement } from './stats.js';

export interface BundleBenchOptions {
  readonly runs: number;
  readonly wants: (id: string) => boolean;
  readonly log: (line: string) => void;
}

const OURS = fileURLToPath(new URL('../lambdas/inference-worker.ts', import.meta.url));
const ANCHOR = fileURLToPath(new URL('./fixtures/powertools-inference-worker.ts', import.meta.url));

interface BundleSize {
  readonly bytes: number;
  readonly gzipBytes: number;
}

export async function bundleSize(entry: string): Promise<BundleSize> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['@aws-sdk/*'],
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    sourcemap: false,
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output || result.outputFiles.length !== 1) throw new Error(`${entry}: expected one output file`);
  return { bytes: output.contents.byteLength, gzipBytes: gzipSync(output.contents, { level: 9 }).byteLength };
}

/** Invokes the anchor on a valid, an invalid and a poison record: only the last two may fail. */
async function checkAnchorWorks(): Promise<void> {
  const previous = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  try {
    const { handler } = await import('./fixtures/powertools-inference-worker.js');
    const job = { jobId: 'j1', accountId: 'a1', kind: 'text', priority: 'high', prompt: 'two words' };
    const bodies = [job, { ...job, jobId: 'j2', kind: 'video' }, { ...job, jobId: 'j3', simulate: 'poison' }];
    const event: SQSEvent = {
      Records: bodies.map((body, i) => ({
        messageId: `m${i}`,
        receiptHandle: `r${i}`,
        body: JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '1733300000000',
          SenderId: 'AIDAEXAMPLE',
          ApproximateFirstReceiveTimestamp: '1733300000100',
        },
        messageAttributes: {},
        md5OfBody: 'not-checked',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:jobs',
        awsRegion: 'us-east-1',
      })),
    };
    const originalError = console.error;
    console.error = () => {};
    let response: SQSBatchResponse | undefined;
    try {
      response = (await handler(event, {} as never, () => {})) as SQSBatchResponse | undefined;
    } finally {
      console.error = originalError;
    }
    const failed = response?.batchItemFailures.map((f) => f.itemIdentifier).join(',');
    if (failed !== 'm1,m2') throw new Error(`the Powertools fixture reported failures [${failed}], expected [m1,m2]`);
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previous;
  }
}

export async function bundleBench(options: BundleBenchOptions): Promise<Measurement[]> {
  if (!['P6', 'P6-gzip'].some(options.wants)) return [];
  await checkAnchorWorks();
  const ours: BundleSize[] = [];
  const theirs: BundleSize[] = [];
  for (let run = 0; run < options.runs; run++) {
    ours.push(await bundleSize(OURS));
    theirs.push(await bundleSize(ANCHOR));
  }
  const [o, t] = [ours[0] as BundleSize, theirs[0] as BundleSize];
  options.log(`  P6: ours ${o.bytes} B (gzip ${o.gzipBytes}), powertools ${t.bytes} B (gzip ${t.gzipBytes})`);
  return [
    {
      id: 'P6',
      metric: 'minified bundle, reference consumer (inference-worker)',
      unit: 'bytes',
      better: 'lower',
      ours: ours.map((s) => s.bytes),
      anchor: `${installed('@aws-lambda-powertools/batch')} + parser + logger, zod`,
      anchorSamples: theirs.map((s) => s.bytes),
      goal: { text: 'ours ≤ 0.5× (ratio ≥ 2)', ratioAtLeast: 2 },
      note: `esbuild ESM node22 minified, @aws-sdk/* external; anchor = bench/fixtures/powertools-inference-worker.ts`,
    },
    {
      id: 'P6-gzip',
      metric: 'gzip -9 of the same bundles',
      unit: 'bytes',
      better: 'lower',
      ours: ours.map((s) => s.gzipBytes),
      anchor: `${installed('@aws-lambda-powertools/batch')} + parser + logger, zod`,
      anchorSamples: theirs.map((s) => s.gzipBytes),
      note: 'informational',
    },
  ];
}
