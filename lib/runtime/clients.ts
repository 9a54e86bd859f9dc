/**
 * The one place SDK clients are configured and built: the runtime, the tests and the benchmarks come here (the
 * CLI's SDK commands will too), so a handler talks to real AWS, LocalStack or the embedded emulator by environment alone.
 *
 * Target resolution, first match wins:
 * 1. `endpoint` given in the options: that endpoint (the embedded emulator, or any SQS/SNS-compatible server);
 * 2. `AWS_ENDPOINT_URL`: that endpoint (LocalStack's documented setting; the SDK's own variable);
 * 3. `LOCALSTACK_HOST` (e.g. `localhost.localstack.cloud:4566`): `http://<LOCALSTACK_HOST>`;
 * 4. otherwise real AWS, configured by the SDK itself (`AWS_REGION`, `AWS_PROFILE`, role credentials…).
 *
 * For an endpoint target the factory adds what an emulator needs and AWS must never get: path-style S3
 * addressing, a default region (`us-east-1`) when `AWS_REGION` is unset, and dummy credentials when neither
 * `AWS_ACCESS_KEY_ID` nor `AWS_PROFILE` is set (emulators accept any). Clients are built once per container per
 * configuration and reused across invocations.
 *
 * @example
 * const sqs = sqsClient();                          // AWS, or LocalStack when AWS_ENDPOINT_URL is set
 * const sns = snsClient({ endpoint: 'http://127.0.0.1:4566' });
 *
 * @module
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

/** Region used for an endpoint target when none is configured (LocalStack's and fauxqs's default). */
export const DEFAULT_EMULATOR_REGION = 'us-east-1';
/** Credentials given to an endpoint target when the environment has none: emulators accept any. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export interface ClientOptions {
  /**
   * Endpoint URL of an SQS/SNS/S3-compatible server, e.g. the embedded emulator's.
   * @default - from the environment (see the module docs), else real AWS
   */
  readonly endpoint?: string;
  /**
   * Region.
   * @default - `AWS_REGION`/`AWS_DEFAULT_REGION`, else the SDK's own resolution (AWS) or `us-east-1` (endpoint)
   */
  readonly region?: string;
  /** Environment to read; tests pass their own. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Where clients point, and why. */
export type ClientTarget =
  | { readonly kind: 'aws' }
  | { readonly kind: 'endpoint'; readonly endpoint: string; readonly source: 'option' | 'AWS_ENDPOINT_URL' }
  | { readonly kind: 'localstack'; readonly endpoint: string; readonly source: 'LOCALSTACK_HOST' };

/** Configuration shared by the SQS, SNS and S3 clients (S3 adds `forcePathStyle` for endpoint targets). */
export interface ClientConfig {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly forcePathStyle?: boolean;
}

/** Resolves the target from the options and the environment (see the module docs for the order). */
export function resolveTarget(options: ClientOptions = {}): ClientTarget {
  const env = options.env ?? process.env;
  if (options.endpoint) return { kind: 'endpoint', endpoint: trimSlash(options.endpoint), source: 'option' };
  if (env.AWS_ENDPOINT_URL)
    return { kind: 'endpoint', endpoint: trimSlash(env.AWS_ENDPOINT_URL), source: 'AWS_ENDPOINT_URL' };
  if (env.LOCALSTACK_HOST) {
    const host = env.LOCALSTACK_HOST;
    const endpoint = /^https?:\/\//.test(host) ? host : `http://${host}`;
    return { kind: 'localstack', endpoint: trimSlash(endpoint), source: 'LOCALSTACK_HOST' };
  }
  return { kind: 'aws' };
}

/**
 * The client configuration for the resolved target. For real AWS it holds only an explicit region (if any), so
 * the SDK's own chain (`AWS_REGION`, `AWS_PROFILE`, SSO, IMDS…) applies unchanged.
 */
export function clientConfig(options: ClientOptions = {}, service: 'sqs' | 'sns' | 's3' = 'sqs'): ClientConfig {
  const env = options.env ?? process.env;
  const target = resolveTarget(options);
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (target.kind === 'aws') return region ? { region } : {};
  const hasOwnCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  return {
    endpoint: target.endpoint,
    region: region ?? DEFAULT_EMULATOR_REGION,
    ...(hasOwnCredentials ? {} : { credentials: { ...EMULATOR_CREDENTIALS } }),
    ...(service === 's3' ? { forcePathStyle: true } : {}),
  };
}

const cache = new Map<string, SQSClient | SNSClient | S3Client>();

function cached<C extends SQSClient | SNSClient | S3Client>(
  service: 'sqs' | 'sns' | 's3',
  options: ClientOptions,
  build: (config: ClientConfig) => C,
): C {
  const config = clientConfig(options, service);
  const key = `${service}|${JSON.stringify(config)}`;
  let client = cache.get(key) as C | undefined;
  if (!client) {
    client = build(config);
    cache.set(key, client);
  }
  return client;
}

/** The SQS client for the resolved target, built once per container and configuration. */
export const sqsClient = (options: ClientOptions = {}): SQSClient =>
  cached('sqs', options, (c) => new SQSClient({ ...c }));
/** The SNS client for the resolved target, built once per container and configuration. */
export const snsClient = (options: ClientOptions = {}): SNSClient =>
  cached('sns', options, (c) => new SNSClient({ ...c }));
/** The S3 client for the resolved target (path-style on endpoints), built once per container and configuration. */
export const s3Client = (options: ClientOptions = {}): S3Client => cached('s3', options, (c) => new S3Client({ ...c }));

/** Destroys every cached client (closing their sockets); tests and the CLI call it before exiting. */
export function destroyClients(): void {
  for (const client of cache.values()) client.destroy();
  cache.clear();
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
