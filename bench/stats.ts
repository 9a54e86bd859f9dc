/**
 * Samples to comparisons: medians, spread, the "times better" ratio and the goal check shared by every benchmark.
 *
 * @module
 */

/** Median, min and max of one side's repetitions. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** Which way a metric improves. */
export type Better = 'lower' | 'higher';

/** What a benchmark promises; each bound given must hold. Informational rows have none. */
export interface Goal {
  readonly text: string;
  /** Ours must be at least this many times better than the anchor. */
  readonly ratioAtLeast?: number;
  /** Our median must be at most this. */
  readonly valueAtMost?: number;
  /** Our median must be at least this. */
  readonly valueAtLeast?: number;
}

/** The raw outcome of one (benchmark, anchor) pair: one sample per repetition for each side. */
export interface Measurement {
  readonly id: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: Better;
  readonly ours: readonly number[];
  readonly anchor: string;
  readonly anchorSamples: readonly number[];
  readonly goal?: Goal;
  readonly note?: string;
}

/** A measurement summarized: medians, spread, ratio and whether the goal is met. */
export interface Comparison {
  readonly id: string;
  readonly metric: string;
  readonly unit: string;
  readonly anchor: string;
  readonly ours: Summary;
  readonly theirs: Summary;
  /** How many times better ours is (> 1 is better); null when the anchor's median makes it undefined (0). */
  readonly ratio: number | null;
  readonly goal?: string;
  /** Absent for informational rows. */
  readonly met?: boolean;
  readonly note?: string;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs: samples.length };
}

/**
 * How many times better `ours` is than `anchor`: anchor/ours when lower is better, ours/anchor when higher is.
 * Null when the division is undefined or infinite.
 */
export function timesBetter(ours: number, anchor: number, better: Better): number | null {
  const ratio = better === 'lower' ? anchor / ours : ours / anchor;
  return Number.isFinite(ratio) ? ratio : null;
}

export function compare(m: Measurement): Comparison {
  const ours = summarize(m.ours);
  const theirs = summarize(m.anchorSamples);
  const ratio = timesBetter(ours.median, theirs.median, m.better);
  let met: boolean | undefined;
  if (m.goal) {
    const { ratioAtLeast, valueAtMost, valueAtLeast } = m.goal;
    met =
      (ratioAtLeast === undefined || (ratio !== null && ratio >= ratioAtLeast)) &&
      (valueAtMost === undefined || ours.median <= valueAtMost) &&
      (valueAtLeast === undefined || ours.median >= valueAtLeast);
  }
  return {
    id: m.id,
    metric: m.metric,
    unit: m.unit,
    anchor: m.anchor,
    ours,
    theirs,
    ratio,
    ...(m.goal ? { goal: m.goal.text, met } : {}),
    ...(m.note ? { note: m.note } : {}),
  };
}

/** Runs `fn` and returns its wall time in milliseconds. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
