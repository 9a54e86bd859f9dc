import type { RuntimeLogger } from '../../lib/runtime/index.js';

/** One line a {@link RecordingLogger} received. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps its lines, so tests assert on what the runtime logged. */
export class RecordingLogger implements RuntimeLogger {
  readonly lines: LogLine[] = [];
  debug = (message: string, ...extra: Record<string, unknown>[]) => this.add('debug', message, extra);
  info = (message: string, ...extra: Record<string, unknown>[]) => this.add('info', message, extra);
  warn = (message: string, ...extra: Record<string, unknown>[]) => this.add('warn', message, extra);
  error = (message: string, ...extra: Record<string, unknown>[]) => this.add('error', message, extra);

  /** Lines with this message. */
  named(message: string): LogLine[] {
    return this.lines.filter((l) => l.message === message);
  }

  private add(level: LogLine['level'], message: string, extra: Record<string, unknown>[]): void {
    this.lines.push({ level, message, fields: Object.assign({}, ...extra) });
  }
}
