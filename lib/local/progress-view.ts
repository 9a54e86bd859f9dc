/**
 * The terminal view of `queuekit dev`: redrawn in place on a TTY (log-update), one plain line every few seconds
 * otherwise (CI logs), and the final summary table.
 *
 * @module
 */
import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import type { FlowSnapshot } from './flow-events.js';
import type { RunSummary } from './flow-recorder.js';

export interface ProgressViewOptions {
  /** First line: target and time scale. */
  readonly heading: string;
  /** Redraw in place (on stderr, so stdout stays for `--json`). @default process.stderr.isTTY */
  readonly live?: boolean;
  /** Where plain lines go when not live. @default console.error */
  readonly write?: (line: string) => void;
}

const COLUMNS = ['depth', 'in flight', 'processed', 'retried', 'dead-lettered'] as const;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The live table as text. */
export function renderProgress(heading: string, s: FlowSnapshot): string {
  const names = Object.keys(s.queues);
  const width = Math.max(12, ...names.map((n) => n.length)) + 2;
  const header = `${'queue'.padEnd(width)}${COLUMNS.map((c) => c.padStart(14)).join('')}`;
  const rows = names.map((name) => {
    const q = s.queues[name] as FlowSnapshot['queues'][string];
    const cells = [q.depth, q.inFlight, q.succeeded, q.retried, q.deadLettered].map((v) => String(v).padStart(14));
    const line = `${name.padEnd(width)}${cells.join('')}`;
    return q.received === 0 && q.depth === 0 ? pc.dim(line) : line;
  });
  return [
    pc.bold(heading),
    `${seconds(s.elapsedMs)} · published ${s.published} · ${s.throughput} msg/s processed · latency p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms`,
    pc.dim(header),
    ...rows,
  ].join('\n');
}

/** The end-of-run summary as text. */
export function renderSummary(summary: RunSummary): string {
  const names = Object.keys(summary.queues);
  const width = Math.max(12, ...names.map((n) => n.length)) + 2;
  const cols = ['received', 'succeeded', 'retried', 'dead-lettered', 'in flight'];
  const lines = [
    `${'queue'.padEnd(width)}${cols.map((c) => c.padStart(14)).join('')}`,
    ...names.map((name) => {
      const q = summary.queues[name] as RunSummary['queues'][string];
      return `${name.padEnd(width)}${[q.received, q.succeeded, q.retried, q.deadLettered, q.inFlight].map((v) => String(v).padStart(14)).join('')}`;
    }),
  ];
  const verdict =
    summary.lost === 0 && summary.orderViolations === 0
      ? pc.green(`every message accounted for: processed or dead-lettered (0 lost, 0 FIFO order violations)`)
      : pc.red(`${summary.lost} deliveries unaccounted for, ${summary.orderViolations} FIFO order violations`);
  return [
    pc.bold('summary'),
    `published ${summary.published} in ${seconds(summary.durationMs)} · end-to-end latency p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms`,
    ...lines,
    verdict,
  ].join('\n');
}

/** Draws snapshots as they come; `done()` leaves the last frame on screen. */
export class ProgressView {
  private readonly live: boolean;
  private readonly write: (line: string) => void;
  private lastPlain = 0;
  private readonly logUpdate = createLogUpdate(process.stderr);

  constructor(private readonly options: ProgressViewOptions) {
    this.live = options.live ?? process.stderr.isTTY === true;
    this.write = options.write ?? ((line) => console.error(line));
  }

  update(snapshot: FlowSnapshot): void {
    if (this.live) {
      this.logUpdate(renderProgress(this.options.heading, snapshot));
      return;
    }
    if (snapshot.at - this.lastPlain < 3000) return;
    this.lastPlain = snapshot.at;
    const totals = Object.values(snapshot.queues).reduce(
      (t, q) => ({
        processed: t.processed + q.succeeded,
        retried: t.retried + q.retried,
        dlq: t.dlq + q.deadLettered,
        inFlight: t.inFlight + q.inFlight,
      }),
      { processed: 0, retried: 0, dlq: 0, inFlight: 0 },
    );
    this.write(
      `[${seconds(snapshot.elapsedMs)}] published ${snapshot.published} · processed ${totals.processed} · retried ${totals.retried} · dead-lettered ${totals.dlq} · in flight ${totals.inFlight} · ${snapshot.throughput} msg/s · p99 ${snapshot.p99Ms} ms`,
    );
  }

  /** Prints a line above the live table without tearing it. */
  log(line: string): void {
    if (this.live) {
      this.logUpdate.clear();
      this.write(line);
    } else this.write(line);
  }

  done(): void {
    if (this.live) this.logUpdate.done();
  }
}
