/**
 * Where the local runner provisions queues and topics: the embedded emulator (fauxqs, in this process), a running
 * LocalStack, or any SQS/SNS-compatible endpoint.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type BuildAppOptions, buildApp } from 'fauxqs';
import { clientConfig } from '../runtime/clients.js';
import { TargetError } from './errors.js';
import { importFauxqsModule } from './fauxqs-internals.js';
import { LOCAL_REGION } from './limits.js';

export type TargetKind = 'embedded' | 'localstack' | 'endpoint';

/** A reachable SQS/SNS/S3 endpoint the runner provisions on. */
export interface Target {
  readonly kind: TargetKind;
  /** Base URL for every SDK client (SQS, SNS, S3). */
  readonly endpoint: string;
  /** One line for the terminal, e.g. `embedded fauxqs 2.4.1 (in memory)`. */
  readonly description: string;
  /** Whether the target implements SQS StartMessageMoveTask (fauxqs 2.4.1 does not). */
  readonly supportsMessageMove: boolean;
  /** Stops what this process started (the embedded emulator); a no-op for external targets. */
  close(): Promise<void>;
}

export interface TargetOptions {
  /** `embedded` (default), `localstack`, or an http(s) URL. */
  readonly target?: string;
  /** Embedded only: keep queues, topics and messages in this folder across restarts (SQLite). */
  readonly persistDir?: string;
  /** Embedded only: port to listen on. @default 0 (any free port) */
  readonly port?: number;
  /** Environment to read AWS_ENDPOINT_URL from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

const LOCALSTACK_DEFAULT = 'http://127.0.0.1:4566';

/** Starts or connects to the target and checks it answers. */
export async function openTarget(options: TargetOptions = {}): Promise<Target> {
  const target = options.target ?? 'embedded';
  const env = options.env ?? process.env;
  if (target === 'embedded') return startEmbedded(options);
  if (options.persistDir) {
    throw new TargetError(
      `--persist works with the embedded emulator only; ${target} keeps its own state. Fix: drop --persist, or use --target embedded.`,
    );
  }
  if (target === 'localstack') {
    const endpoint = env.AWS_ENDPOINT_URL ?? LOCALSTACK_DEFAULT;
    await checkLocalStack(endpoint);
    return {
      kind: 'localstack',
      endpoint,
      description: `LocalStack at ${endpoint}`,
      supportsMessageMove: true,
      close: async () => {},
    };
  }
  if (/^https?:\/\//.test(target)) {
    await checkSqs(target, `Fix: start the service at ${target}, or use --target embedded.`);
    return {
      kind: 'endpoint',
      endpoint: target,
      description: `endpoint ${target}`,
      supportsMessageMove: true,
      close: async () => {},
    };
  }
  throw new TargetError(
    `unknown target "${target}". Fix: use --target embedded, --target localstack or --target http://host:port.`,
  );
}

async function checkLocalStack(endpoint: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(3000) });
  } catch (error) {
    throw new TargetError(
      `LocalStack does not answer at ${endpoint} (${(error as Error).message}). Fix: start it (bash .ci/localstack-up.sh, or 'localstack start --host'), or set AWS_ENDPOINT_URL to where it runs.`,
    );
  }
  const health = (await response.json()) as { services?: Record<string, string> };
  const missing = ['sqs', 'sns'].filter((s) => !['available', 'running'].includes(health.services?.[s] ?? ''));
  if (missing.length) {
    throw new TargetError(
      `LocalStack at ${endpoint} does not serve ${missing.join(', ')}. Fix: add them to its SERVICES setting.`,
    );
  }
}

async function checkSqs(endpoint: string, fix: string): Promise<void> {
  const sqs = new SQSClient(clientConfig({ endpoint, env: {} }, 'sqs'));
  try {
    await sqs.send(new ListQueuesCommand({ MaxResults: 1 }), { abortSignal: AbortSignal.timeout(3000) });
  } catch (error) {
    throw new TargetError(`no SQS API at ${endpoint}: ${(error as Error).message}. ${fix}`);
  } finally {
    sqs.destroy();
  }
}

/**
 * fauxqs in this process, bound to 127.0.0.1 only (its `startFauxqs` listens on every interface). With a persist
 * folder, its SQLite persistence is wired the way `startFauxqs` wires it; fauxqs does not export those classes, so
 * they are loaded from its package folder (the version is pinned).
 */
async function startEmbedded(options: TargetOptions): Promise<Target> {
  let stores: BuildAppOptions['stores'];
  let closePersistence = () => {};
  if (options.persistDir) {
    const dir = resolve(options.persistDir);
    mkdirSync(dir, { recursive: true });
    const load = importFauxqsModule;
    const { SqsStore } = await load<{
      SqsStore: new () => { allQueues(): Iterable<{ persistence?: unknown }>; persistence?: unknown };
    }>('./sqs/sqsStore.js');
    const { SnsStore } = await load<{ SnsStore: new () => { persistence?: unknown } }>('./sns/snsStore.js');
    const { S3Store } = await load<{ S3Store: new () => { persistence?: unknown } }>('./s3/s3Store.js');
    const { PersistenceManager } = await load<{
      PersistenceManager: new (dir: string) => { load(a: unknown, b: unknown, c: unknown): void; close(): void };
    }>('./persistence.js');
    const sqsStore = new SqsStore();
    const snsStore = new SnsStore();
    const s3Store = new S3Store();
    let persistence: InstanceType<typeof PersistenceManager>;
    try {
      persistence = new PersistenceManager(dir);
      persistence.load(sqsStore, snsStore, s3Store);
    } catch (error) {
      throw new TargetError(
        `cannot open the persisted state in ${dir}: ${(error as Error).message}. Fix: delete the folder to start empty, or pick another --persist folder.`,
      );
    }
    sqsStore.persistence = persistence;
    snsStore.persistence = persistence;
    s3Store.persistence = persistence;
    for (const queue of sqsStore.allQueues()) queue.persistence = persistence;
    stores = { sqsStore, snsStore, s3Store } as unknown as BuildAppOptions['stores'];
    closePersistence = () => persistence.close();
  }
  const app = buildApp({ logger: false, defaultRegion: LOCAL_REGION, stores });
  app.addHook('preClose', () => closePersistence());
  try {
    await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  } catch (error) {
    throw new TargetError(
      `the embedded emulator cannot listen on 127.0.0.1:${options.port}: ${(error as Error).message}. Fix: pick another --port.`,
    );
  }
  const address = app.server.address();
  if (address === null || typeof address === 'string')
    throw new TargetError('the embedded emulator bound no TCP port.');
  return {
    kind: 'embedded',
    endpoint: `http://127.0.0.1:${address.port}`,
    description: `embedded fauxqs (${options.persistDir ? `persisted in ${options.persistDir}` : 'in memory'})`,
    supportsMessageMove: false,
    close: async () => {
      await app.close();
    },
  };
}
