/**
 * An embedded SQS + SNS + S3 emulator for integration tests: {@link https://github.com/kibertoad/fauxqs | fauxqs},
 * started in-process (no Docker, no separate server) and reached through the real AWS SDK v3 clients.
 *
 * @example
 * const emulator = await startEmbeddedEmulator();
 * const sqs = new SQSClient(sdkClientConfig(emulator.endpoint));
 * const s3 = new S3Client(s3ClientConfig(emulator.endpoint));
 * // ...
 * sqs.destroy();
 * s3.destroy();
 * await emulator.stop();
 *
 * @module
 */
import { buildApp } from 'fauxqs';
import { type ClientConfig, clientConfig } from '../../lib/runtime/clients.js';

/** The region every resource of the embedded emulator lives in; it is also the region of {@link sdkClientConfig}. */
export const EMULATOR_REGION = 'us-east-1';

/** A running embedded emulator. */
export interface EmbeddedEmulator {
  /** Base URL of the emulator, e.g. `http://127.0.0.1:41234`; SQS, SNS and S3 share it. */
  readonly endpoint: string;
  /** The region its ARNs and queue URLs use. */
  readonly region: string;
  /** Closes the server (and any open connections) and drops all state. */
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in this process, bound to the loopback interface on a port the OS picks, with an empty in-memory
 * state and request logging off.
 *
 * Why not `startFauxqs`: it always listens on `0.0.0.0`, whatever its `host` option says (`host` only changes the
 * host name written into queue URLs). That would expose an unauthenticated emulator, which accepts any credentials,
 * to every network the machine is on for as long as the tests run. So this helper builds the Fastify app with
 * fauxqs's `buildApp` and listens on `127.0.0.1` itself. Loopback only also means nothing else on the network can
 * create, read or purge test resources mid-run.
 *
 * Queue URLs come back as `http://sqs.us-east-1.localhost:<port>/000000000000/<name>` (fauxqs's default queue URL
 * host). That name need not resolve: an `SQSClient` given an explicit `endpoint`, as {@link sdkClientConfig} does,
 * sends every request to that endpoint and ignores the host in `QueueUrl`, and fauxqs finds the queue by the
 * region and name in the URL.
 *
 * Each call gets its own server and its own state: start one per test file (in `beforeAll`) and stop it in
 * `afterAll`.
 */
export async function startEmbeddedEmulator(): Promise<EmbeddedEmulator> {
  const app = buildApp({ logger: false, defaultRegion: EMULATOR_REGION });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error(`fauxqs did not bind a TCP port (address: ${String(address)})`);
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    region: EMULATOR_REGION,
    stop: async () => {
      await app.close();
    },
  };
}

/**
 * Configuration for an `SQSClient` or `SNSClient` talking to the emulator at `endpoint`, from the runtime's client
 * factory (the same one handlers and the CLI use), read with an empty environment so a developer's own
 * `AWS_PROFILE` or keys never leak in: placeholder credentials, region us-east-1.
 */
export function sdkClientConfig(endpoint: string): ClientConfig {
  return clientConfig({ endpoint, env: {} }, 'sqs');
}

/** Configuration for an `S3Client` talking to the emulator: {@link sdkClientConfig} plus path-style addressing. */
export function s3ClientConfig(endpoint: string): ClientConfig {
  return clientConfig({ endpoint, env: {} }, 's3');
}
