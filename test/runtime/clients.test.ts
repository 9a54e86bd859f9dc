import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  clientConfig,
  destroyClients,
  resolveTarget,
  s3Client,
  snsClient,
  sqsClient,
} from '../../lib/runtime/index.js';

afterEach(() => {
  destroyClients();
  vi.unstubAllEnvs();
});

describe('resolveTarget and clientConfig', () => {
  it('targets AWS with an empty config for an empty environment', () => {
    expect(resolveTarget({ env: {} })).toEqual({ kind: 'aws' });
    for (const service of ['sqs', 'sns', 's3'] as const) expect(clientConfig({ env: {} }, service)).toEqual({});
  });

  it('gives AWS only the region, and only when AWS_REGION (or AWS_DEFAULT_REGION) is set', () => {
    expect(clientConfig({ env: { AWS_REGION: 'eu-west-1' } })).toEqual({ region: 'eu-west-1' });
    expect(clientConfig({ env: { AWS_DEFAULT_REGION: 'ap-south-1' } })).toEqual({ region: 'ap-south-1' });
    expect(clientConfig({ env: { AWS_PROFILE: 'p', AWS_ACCESS_KEY_ID: 'AKIA' } }, 's3')).toEqual({});
    expect(clientConfig({ env: {}, region: 'sa-east-1' })).toEqual({ region: 'sa-east-1' });
  });

  it('uses AWS_ENDPOINT_URL without its trailing slash, with emulator defaults', () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566/' };
    expect(resolveTarget({ env })).toEqual({
      kind: 'endpoint',
      endpoint: 'http://127.0.0.1:4566',
      source: 'AWS_ENDPOINT_URL',
    });
    const dummy = { accessKeyId: 'test', secretAccessKey: 'test' };
    expect(clientConfig({ env }, 'sqs')).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      credentials: dummy,
    });
    expect(clientConfig({ env }, 'sns')).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      credentials: dummy,
    });
    expect(clientConfig({ env }, 's3')).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      credentials: dummy,
      forcePathStyle: true,
    });
    expect(clientConfig({ env: { ...env, AWS_REGION: 'eu-west-2' } }).region).toBe('eu-west-2');
  });

  it('builds an http URL from LOCALSTACK_HOST', () => {
    const env = { LOCALSTACK_HOST: 'localhost.localstack.cloud:4566' };
    expect(resolveTarget({ env })).toEqual({
      kind: 'localstack',
      endpoint: 'http://localhost.localstack.cloud:4566',
      source: 'LOCALSTACK_HOST',
    });
    expect(clientConfig({ env })).toMatchObject({
      endpoint: 'http://localhost.localstack.cloud:4566',
      region: 'us-east-1',
    });
    expect(resolveTarget({ env: { LOCALSTACK_HOST: 'https://ls.example:443/' } })).toMatchObject({
      endpoint: 'https://ls.example:443',
    });
  });

  it('prefers an explicit endpoint over the environment, and AWS_ENDPOINT_URL over LOCALSTACK_HOST', () => {
    const env = { AWS_ENDPOINT_URL: 'http://env:4566', LOCALSTACK_HOST: 'ls:4566' };
    expect(resolveTarget({ env, endpoint: 'http://127.0.0.1:9324/' })).toEqual({
      kind: 'endpoint',
      endpoint: 'http://127.0.0.1:9324',
      source: 'option',
    });
    expect(clientConfig({ env, endpoint: 'http://127.0.0.1:9324' }).endpoint).toBe('http://127.0.0.1:9324');
    expect(resolveTarget({ env })).toMatchObject({ endpoint: 'http://env:4566', source: 'AWS_ENDPOINT_URL' });
  });

  it.each([
    ['AWS_ACCESS_KEY_ID', { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' }],
    ['AWS_PROFILE', { AWS_PROFILE: 'dev' }],
  ])('gives no dummy credentials when %s is set', (_, extra) => {
    const config = clientConfig({ env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', ...extra } });
    expect(config).toEqual({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1' });
    expect('credentials' in config).toBe(false);
  });
});

describe('client factory', () => {
  it('honours AWS_PROFILE from the shared files for the AWS target', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qk-clients-'));
    try {
      const credentialsFile = join(dir, 'credentials');
      const configFile = join(dir, 'config');
      writeFileSync(
        credentialsFile,
        '[qk-test]\naws_access_key_id = AKIAQKTESTPROFILE01\naws_secret_access_key = qkTestSecretKeyNotReal\n',
      );
      writeFileSync(configFile, '[profile qk-test]\nregion = eu-west-3\n');
      for (const name of [
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_ENDPOINT_URL',
        'AWS_ENDPOINT_URL_SQS',
        'LOCALSTACK_HOST',
        'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
        'AWS_CONTAINER_CREDENTIALS_FULL_URI',
        'AWS_WEB_IDENTITY_TOKEN_FILE',
      ])
        vi.stubEnv(name, undefined);
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', credentialsFile);
      vi.stubEnv('AWS_CONFIG_FILE', configFile);
      vi.stubEnv('AWS_PROFILE', 'qk-test');

      expect(resolveTarget({ env: process.env })).toEqual({ kind: 'aws' });
      const client = sqsClient({ env: process.env });
      const credentials = await client.config.credentials();
      expect(credentials.accessKeyId).toBe('AKIAQKTESTPROFILE01');
      expect(credentials.secretAccessKey).toBe('qkTestSecretKeyNotReal');
      expect(await client.config.region()).toBe('eu-west-3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns the same client for the same configuration, and a new one after destroyClients', () => {
    const options = { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' } };
    const first = sqsClient(options);
    expect(sqsClient({ env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566/' } })).toBe(first);
    expect(sqsClient({ ...options, region: 'eu-west-1' })).not.toBe(first);
    expect(snsClient(options)).not.toBe(first);
    expect(snsClient(options)).toBe(snsClient(options));
    expect(s3Client(options)).toBe(s3Client(options));
    destroyClients();
    expect(sqsClient(options)).not.toBe(first);
  });

  it('builds clients with the resolved endpoint, region and credentials', async () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566/' };
    const sqs = sqsClient({ env });
    expect(await sqs.config.region()).toBe('us-east-1');
    expect(await sqs.config.credentials()).toMatchObject({ accessKeyId: 'test', secretAccessKey: 'test' });
    const endpoint = await sqs.config.endpoint?.();
    expect(endpoint && `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}${endpoint.path}`).toBe(
      'http://127.0.0.1:4566/',
    );
    expect(s3Client({ env }).config.forcePathStyle).toBe(true);
  });
});
