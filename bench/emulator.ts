/**
 * The parent's side of the emulator: spawns `bench/emulator-process.ts` in a child process, waits for its port,
 * and gives the SQS operations the benchmarks need around a measurement (fresh queues, queue depth, cleanup).
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from '../lib/runtime/clients.js';

const SCRIPT = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const START_TIMEOUT_MS = 20_000;
/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A fauxqs server in a child process. */
export interface ChildEmulator {
  /** e.g. `http://127.0.0.1:41234` */
  readonly endpoint: string;
  readonly pid: number;
  /** An SQS client for setup and checks (never the one being measured). */
  readonly admin: SQSClient;
  createQueue(name: string, attributes?: Record<string, string>): Promise<string>;
  deleteQueue(queueUrl: string): Promise<void>;
  /** ApproximateNumberOfMessages (fauxqs counts exactly). */
  depth(queueUrl: string): Promise<number>;
  /** CPU time (user + system) the child has used so far, in ms; NaN where /proc is not available. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** A fresh SQS client for `endpoint`, configured exactly as the runtime's client factory would. */
export function newSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ ...clientConfig({ endpoint }) });
}

/** Starts fauxqs in a child process (`node --import tsx bench/emulator-process.ts`). */
export async function spawnEmulator(): Promise<ChildEmulator> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--import', 'tsx', SCRIPT], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await readPort(child);
  child.stdout?.resume(); // drain anything else it prints
  const endpoint = `http://127.0.0.1:${port}`;
  const admin = newSqsClient(endpoint);
  return {
    endpoint,
    pid: child.pid as number,
    admin,
    async createQueue(name, attributes) {
      const { QueueUrl } = await admin.send(
        new CreateQueueCommand({ QueueName: name, ...(attributes ? { Attributes: attributes } : {}) }),
      );
      if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
      return QueueUrl;
    },
    async deleteQueue(queueUrl) {
      await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    },
    async depth(queueUrl) {
      const { Attributes } = await admin.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages ?? Number.NaN);
    },
    cpuMs() {
      try {
        // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the parenthesized command name.
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
      } catch {
        return Number.NaN;
      }
    },
    async stop() {
      admin.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function readPort(child: ChildProcess): Promise<number> {
  const stdout = child.stdout;
  if (!stdout) throw new Error('emulator child has no stdout');
  const lines = createInterface({ input: stdout });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`fauxqs child did not report its port within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      child.once('exit', (code, signal) =>
        reject(new Error(`fauxqs child exited before reporting its port (code ${code}, signal ${signal})`)),
      );
      child.once('error', reject);
      lines.on('line', (line) => {
        try {
          const { port } = JSON.parse(line) as { port?: unknown };
          if (typeof port === 'number') resolve(port);
        } catch {
          // not the port line
        }
      });
    });
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}
