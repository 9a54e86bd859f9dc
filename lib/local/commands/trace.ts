/**
 * `queuekit trace <messageId>`: the path of one message, from the running `queuekit dev` (its live page's API) or,
 * after it stopped, from the traces it wrote: published → routed or filtered (by which policy) → each delivery and
 * handler attempt with outcome, duration and log lines → deleted or dead-lettered.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { note, runCliAction } from '../cli-target.js';
import { LocalRunnerError } from '../errors.js';
import type { FlowEvent, MessageTrace } from '../flow-events.js';
import { STATE_DIR } from '../limits.js';
import { DEFAULT_OUTPUTS_PATH, readOutputs } from '../outputs-file.js';

export interface TraceOptions {
  readonly messageId: string;
  /** @default .queuekit */
  readonly stateDir: string;
  readonly json: boolean;
}

/** One line per event. */
export function formatTrace(trace: MessageTrace): string {
  const start = trace.events[0]?.at ?? 0;
  const lines = trace.events.map((e) => `${pc.dim(`+${String(e.at - start).padStart(6)} ms`)}  ${describe(e)}`);
  if (trace.truncated) lines.push(pc.yellow('… more events were dropped (the trace keeps the first 64)'));
  return [pc.bold(`message ${trace.messageId}`), ...lines].join('\n');
}

function describe(e: FlowEvent): string {
  switch (e.type) {
    case 'published':
      return `published to ${e.targetKind} ${e.target}${e.groupId ? ` (group ${e.groupId})` : ''}${e.by ? ` by ${e.by}` : ''}`;
    case 'routed':
      return e.delivered
        ? `routed to ${e.queue} (${e.subscription})`
        : pc.yellow(`filtered out of ${e.queue}: ${e.reason}`);
    case 'received':
      return `received from ${e.queue} (delivery ${e.deliveryId}, receive #${e.receiveCount})`;
    case 'attempt': {
      const head = `${e.function} ${e.recordFailed ? pc.red('failed') : pc.green('ok')} in ${e.durationMs} ms (invocation ${e.outcome}, request ${e.requestId})${e.error ? `: ${e.error}` : ''}`;
      return [head, ...e.logs.map((l) => pc.dim(`             │ ${l}`))].join('\n');
    }
    case 'deleted':
      return pc.green(`deleted from ${e.queue} · ${e.latencyMs} ms after it was sent`);
    case 'retry-scheduled':
      return pc.yellow(`back on ${e.queue} after its visibility timeout (receive #${e.receiveCount} failed)`);
    case 'dead-lettered':
      return pc.red(`dead-lettered from ${e.queue} to ${e.deadLetterQueue} after ${e.receiveCount} receives`);
  }
}

/** Finds the trace: live from the runner when it is up, else from its last dump. */
export async function findTrace(options: TraceOptions): Promise<MessageTrace | undefined> {
  const outputsPath = join(options.stateDir, 'outputs.json');
  if (existsSync(outputsPath)) {
    const { dashboardUrl } = readOutputs(outputsPath);
    if (dashboardUrl) {
      try {
        const response = await fetch(new URL(`/api/trace/${encodeURIComponent(options.messageId)}`, dashboardUrl), {
          signal: AbortSignal.timeout(2000),
        });
        if (response.ok) return (await response.json()) as MessageTrace;
        if (response.status === 404) return undefined;
      } catch {
        // the runner has stopped: read its dump below
      }
    }
  }
  const dumpPath = join(options.stateDir, 'traces.json');
  if (!existsSync(dumpPath)) {
    throw new LocalRunnerError(
      `no running queuekit dev and no ${dumpPath}. Fix: run 'queuekit dev' (its traces are written when it stops).`,
    );
  }
  const dump = JSON.parse(readFileSync(dumpPath, 'utf8')) as {
    deliveries: Record<string, string>;
    traces: Record<string, { events: FlowEvent[]; truncated: boolean }>;
  };
  const id = dump.traces[options.messageId] ? options.messageId : dump.deliveries[options.messageId];
  const trace = id ? dump.traces[id] : undefined;
  return trace && id ? { messageId: id, ...trace } : undefined;
}

export function registerTraceCommand(program: Command): void {
  program
    .command('trace')
    .description('Show the path of one message through the local runner: routing, filters, attempts, logs, outcome.')
    .argument('<messageId>', 'the id the publisher got back (SNS or SQS message id), or a delivery id')
    .option('--state-dir <dir>', 'where queuekit dev keeps outputs.json and traces.json', STATE_DIR)
    .option('--json', 'print the trace as JSON', false)
    .addHelpText('after', `\nReads the running runner (${DEFAULT_OUTPUTS_PATH}) or its last traces.json.`)
    .action((messageId: string, options: Omit<TraceOptions, 'messageId'>) =>
      runCliAction('trace', async () => {
        const trace = await findTrace({ ...options, messageId });
        if (!trace) {
          note(`no trace of ${messageId} (the runner keeps the last 20,000 messages)`);
          return 1;
        }
        console.log(options.json ? JSON.stringify(trace, null, 2) : formatTrace(trace));
        return 0;
      }),
    );
}
