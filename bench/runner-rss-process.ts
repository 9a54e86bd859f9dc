/**
 * Child-process entry of P8 (bench/runner-bench.ts): a fresh process whose resident memory is measured, so nothing
 * of the benchmark process is counted.
 *
 * `node --expose-gc --import tsx bench/runner-rss-process.ts <ours|fauxqs> <cloud assembly> <state dir>`
 * - `ours`: `LocalRunner.start` on the assembly with the embedded target (fauxqs in this process) and what
 *   `queuekit dev --watch` passes, its pollers held (EventSourcePoller.start deferred) so messages stay queued;
 * - `fauxqs`: the embedded target alone (the same fauxqs build), with one queue.
 *
 * Line protocol (JSON on stdout, commands on stdin), so the messages are sent by the parent, not by this process:
 * → `{"endpoint","queueUrl"}`; ← `measure`; → `{"queuedMiB"}`; ← `drain <count>` (ours);
 * → `{"drainPeakMiB","drainPerSecond"}`; ← `exit`.
 *
 * @module
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalQueue } from '../lib/local/app-model.js';
import { EventSourcePoller } from '../lib/local/event-source-poller.js';
import { LocalRunner } from '../lib/local/local-runner.js';
import { openTarget } from '../lib/local/targets.js';
import { clientConfig } from '../lib/runtime/clients.js';

const [mode, assembly, stateDir] = process.argv.slice(2);
if ((mode !== 'ours' && mode !== 'fauxqs') || !assembly || !stateDir) {
  console.error('usage: runner-rss-process.ts <ours|fauxqs> <cloud assembly> <state dir>');
  process.exit(2);
}

const MiB = 1024 * 1024;
const send = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function settledRss(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(300);
  }
  return process.memoryUsage.rss() / MiB;
}

const held: EventSourcePoller[] = [];
const start = EventSourcePoller.prototype.start;
let runner: LocalRunner | undefined;
let queue: LocalQueue | undefined;
let close: () => Promise<void>;

if (mode === 'ours') {
  EventSourcePoller.prototype.start = function hold(this: EventSourcePoller) {
    held.push(this);
  };
  runner = await LocalRunner.start({ assembly, target: 'embedded', timeScale: 1, iam: true, stateDir });
  const mapping = runner.model.mappings.find((m) => m.enabled);
  queue = runner.model.queues.find((q) => q.arn === mapping?.queueArn) as LocalQueue;
  send({ endpoint: runner.target.endpoint, queueUrl: queue.url });
  close = () => (runner as LocalRunner).stop();
} else {
  const target = await openTarget({ target: 'embedded' });
  const sqs = new SQSClient(clientConfig({ endpoint: target.endpoint, env: {} }, 'sqs'));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-rss' }));
  sqs.destroy();
  send({ endpoint: target.endpoint, queueUrl: QueueUrl });
  close = () => target.close();
}

for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(' ');
  if (command === 'measure') {
    send({ queuedMiB: await settledRss() });
  } else if (command === 'drain' && runner && queue) {
    const total = Number(arg);
    const r = runner;
    const q = queue;
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 50);
    const t0 = performance.now();
    EventSourcePoller.prototype.start = start;
    for (const poller of held.splice(0)) start.call(poller);
    while ((r.recorder.snapshot().queues[q.displayName]?.succeeded ?? 0) < total) await sleep(20);
    const ms = performance.now() - t0;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    send({ drainPeakMiB: peak / MiB, drainPerSecond: (total * 1000) / ms });
  } else if (command === 'exit') {
    break;
  }
}
await close();
process.exit(0);
