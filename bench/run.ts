/**
 * `npm run bench [-- --quick] [-- --only P1,P3]`: runs the benchmarks, ours and each anchor side by side in the
 * same run, prints a table of medians (with min/max over the runs, the "times better" ratio and the goal) and
 * writes `bench/results.json`.
 *
 * - `--quick`: 3 runs per benchmark and smaller producer workloads (the metric names say how many); under 60 s.
 * - full (default): 5 runs, the issue's workloads.
 * - `--only`: comma-separated id prefixes (`P1`, `P2`, `P2-cpu`, `P2-mixed`, `P3`, `P3a`, `P3b`, `P4`, `P4-child`,
 *   `P5`, `P5-child`, `P6`, `P7`, `P8`).
 *
 * Exits 0 when a goal is not met (this is a report); non-zero only when a benchmark crashes.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleBench } from './bundle-bench.js';
import { consumerBench } from './consumer-bench.js';
import { producerBench } from './producer-bench.js';
import { runnerBench } from './runner-bench.js';
import { type Comparison, compare, type Measurement, type Summary } from './stats.js';

const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

/** One entry of `bench/results.json`: `value`/`anchorValue` are medians; `ratio` > 1 means ours is better. */
interface ResultEntry {
  readonly id: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly anchor: string;
  readonly anchorValue: number;
  readonly ratio: number | null;
  readonly goal?: string;
  readonly met?: boolean;
  readonly note?: string;
  readonly runs: number;
  readonly min: number;
  readonly max: number;
  readonly anchorMin: number;
  readonly anchorMax: number;
}

function format(value: number | null): string {
  if (value === null) return '—';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

const spread = (s: Summary) => `${format(s.median)} [${format(s.min)}–${format(s.max)}]`;

function printTable(rows: readonly Comparison[]): void {
  const header = [
    'id',
    'metric',
    'unit',
    'ours median [min–max]',
    'anchor',
    'anchor median [min–max]',
    'ratio',
    'goal',
    'met?',
  ];
  const lines = rows.map((r) => [
    r.id,
    r.metric,
    r.unit,
    spread(r.ours),
    r.anchor,
    spread(r.theirs),
    r.ratio === null ? '—' : `${format(r.ratio)}×`,
    r.goal ?? '(info)',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const render = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ');
  console.log(render(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const line of lines) console.log(render(line));
  const notes = rows.filter((r) => r.note);
  if (notes.length > 0) {
    console.log('\nnotes:');
    for (const r of notes) console.log(`  ${r.id} vs ${r.anchor}: ${r.note}`);
  }
}

const round = (value: number) => Number(value.toPrecision(6));

function toEntry(r: Comparison): ResultEntry {
  return {
    id: r.id,
    metric: r.metric,
    value: round(r.ours.median),
    unit: r.unit,
    anchor: r.anchor,
    anchorValue: round(r.theirs.median),
    ratio: r.ratio === null ? null : round(r.ratio),
    ...(r.goal !== undefined ? { goal: r.goal, met: r.met } : {}),
    ...(r.note ? { note: r.note } : {}),
    runs: r.ours.runs,
    min: round(r.ours.min),
    max: round(r.ours.max),
    anchorMin: round(r.theirs.min),
    anchorMax: round(r.theirs.max),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
    strict: true,
  });
  const quick = values.quick === true;
  const only = (values.only ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const wants = (id: string) => only.length === 0 || only.some((prefix) => id.toUpperCase().startsWith(prefix));
  const wantsAny = (...ids: string[]) => ids.some(wants);
  const runs = quick ? 3 : 5;
  const log = (line: string) => console.log(line);

  const cpu = cpus();
  const started = new Date();
  console.log(`queuekit bench — ${started.toISOString()} — ${quick ? 'quick' : 'full'} mode, ${runs} runs each`);
  console.log(`machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}`);
  if (only.length > 0) console.log(`only: ${only.join(', ')}`);

  const measurements: Measurement[] = [];
  if (wantsAny('P1', 'P2', 'P2-cpu', 'P2-mixed')) {
    console.log('\nproducer (P1, P2)…');
    measurements.push(...(await producerBench({ quick, runs, wants, log })));
  }
  if (wantsAny('P3a', 'P3b', 'P3b-wall', 'P3b-c10000')) {
    console.log('\nconsumer (P3a, P3b)…');
    measurements.push(...(await consumerBench({ quick, runs, wants, log })));
  }
  if (wantsAny('P4', 'P4-child', 'P5', 'P5-child', 'P7', 'P8', 'P8-drain')) {
    console.log('\nlocal runner (P4, P5, P7, P8)…');
    measurements.push(...(await runnerBench({ quick, runs, wants, log })));
  }
  if (wantsAny('P6', 'P6-gzip')) {
    console.log('\nbundle (P6)…');
    measurements.push(...(await bundleBench({ runs, wants, log })));
  }

  const rows = measurements.filter((m) => wants(m.id)).map(compare);
  console.log('');
  printTable(rows);
  writeFileSync(RESULTS, `${JSON.stringify(rows.map(toEntry), null, 2)}\n`);
  const unmet = rows.filter((r) => r.met === false);
  console.log(
    `\n${rows.filter((r) => r.met === true).length} goals met, ${unmet.length} not met` +
      `${unmet.length > 0 ? ` (${unmet.map((r) => `${r.id} vs ${r.anchor}`).join('; ')})` : ''}; ` +
      `${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`,
  );
  console.log(`results written to ${RESULTS}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('bench crashed:', error);
    process.exit(1);
  },
);
