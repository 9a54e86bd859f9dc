import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppModel } from '../../lib/local/app-model.js';
import {
  type Dashboard,
  type DashboardSource,
  startDashboard,
  type TopologySummary,
} from '../../lib/local/dashboard-server.js';
import type { FlowEvent, FlowSnapshot, MessageTrace } from '../../lib/local/flow-events.js';
import { chromiumPath, launchBrowser, readNumber, screenshotIfAsked } from '../support/browser.js';

const ARN = 'arn:aws:sqs:us-east-1:000000000000';
const element = (displayName: string) => ({
  logicalId: displayName,
  stackName: 'Demo',
  path: `Demo/${displayName}`,
  displayName,
});

/** Uploads → (filtered) Images → ImageWorker, Images → ImagesDlq after 3 receives; Uploads → (raw) Audit. */
const model: AppModel = {
  region: 'us-east-1',
  accountId: '000000000000',
  stacks: ['Demo'],
  topics: [
    {
      ...element('Uploads'),
      name: 'Demo-Uploads',
      arn: 'arn:aws:sns:us-east-1:000000000000:Demo-Uploads',
      fifo: false,
      attributes: {},
    },
  ],
  queues: [
    {
      ...element('Images'),
      name: 'Demo-Images',
      arn: `${ARN}:Demo-Images`,
      url: 'http://127.0.0.1:1/000000000000/Demo-Images',
      fifo: false,
      attributes: {},
      deadLetter: { arn: `${ARN}:Demo-ImagesDlq`, maxReceiveCount: 3 },
      deadLetterFor: [],
    },
    {
      ...element('ImagesDlq'),
      name: 'Demo-ImagesDlq',
      arn: `${ARN}:Demo-ImagesDlq`,
      url: 'http://127.0.0.1:1/000000000000/Demo-ImagesDlq',
      fifo: false,
      attributes: {},
      deadLetterFor: [`${ARN}:Demo-Images`],
    },
    {
      ...element('Audit'),
      name: 'Demo-Audit',
      arn: `${ARN}:Demo-Audit`,
      url: 'http://127.0.0.1:1/000000000000/Demo-Audit',
      fifo: false,
      attributes: {},
      deadLetterFor: [],
    },
  ],
  subscriptions: [
    {
      ...element('ImagesSub'),
      topicArn: 'arn:aws:sns:us-east-1:000000000000:Demo-Uploads',
      queueArn: `${ARN}:Demo-Images`,
      rawMessageDelivery: false,
      filterPolicy: { kind: ['image'] },
      filterPolicyScope: 'MessageAttributes',
    },
    {
      ...element('AuditSub'),
      topicArn: 'arn:aws:sns:us-east-1:000000000000:Demo-Uploads',
      queueArn: `${ARN}:Demo-Audit`,
      rawMessageDelivery: true,
      filterPolicyScope: 'MessageAttributes',
    },
  ],
  functions: [
    {
      ...element('ImageWorker'),
      name: 'Demo-ImageWorker',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:Demo-ImageWorker',
      handler: 'index.handler',
      codeDir: '/tmp/asset',
      runtime: 'nodejs22.x',
      timeoutSeconds: 30,
      memoryMb: 256,
      environment: {},
    },
  ],
  mappings: [
    {
      ...element('ImageWorkerSource'),
      functionName: 'Demo-ImageWorker',
      queueArn: `${ARN}:Demo-Images`,
      batchSize: 5,
      maxBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      maxConcurrency: 5,
      enabled: true,
    },
  ],
  unemulated: [],
};

/** The trace of one message that was filtered from Audit, failed once, then succeeded. */
function traceOf(messageId: string, t0: number): MessageTrace {
  const delivery = { messageId, deliveryId: `d-${messageId}`, queue: 'Images' };
  const events: FlowEvent[] = [
    { type: 'published', at: t0, messageId, target: 'Uploads', targetKind: 'topic' },
    { type: 'routed', at: t0 + 1, messageId, subscription: 'ImagesSub', queue: 'Images', delivered: true },
    {
      type: 'routed',
      at: t0 + 1,
      messageId,
      subscription: 'AuditSub',
      queue: 'Audit',
      delivered: false,
      reason: 'kind: audit (MessageAttributes) did not match',
    },
    { type: 'received', at: t0 + 5, ...delivery, receiveCount: 1 },
    {
      type: 'attempt',
      at: t0 + 40,
      ...delivery,
      function: 'ImageWorker',
      requestId: 'r1',
      receiveCount: 1,
      outcome: 'failed',
      recordFailed: true,
      durationMs: 35,
      error: 'Error: thumbnail service <unavailable>',
      logs: ['INFO resizing <img> 1/1', 'ERROR thumbnail service unavailable'],
    },
    { type: 'retry-scheduled', at: t0 + 41, ...delivery, receiveCount: 1 },
    { type: 'received', at: t0 + 1500, ...delivery, receiveCount: 2 },
    {
      type: 'attempt',
      at: t0 + 1520,
      ...delivery,
      function: 'ImageWorker',
      requestId: 'r2',
      receiveCount: 2,
      outcome: 'succeeded',
      recordFailed: false,
      durationMs: 18,
      logs: ['INFO resized'],
    },
    { type: 'deleted', at: t0 + 1521, ...delivery, latencyMs: 1520 },
  ];
  return { messageId, events, truncated: false };
}

/** A source whose counters grow with time (one step every 100 ms) and which knows a few messages. */
function growingSource(): DashboardSource & { calls: number } {
  const started = Date.now();
  const ids = Array.from({ length: 5 }, (_, i) => `msg-${String(i + 1).padStart(4, '0')}`);
  const source = {
    calls: 0,
    snapshot(): FlowSnapshot {
      source.calls++;
      const n = Math.floor((Date.now() - started) / 100);
      return {
        at: Date.now(),
        elapsedMs: Date.now() - started,
        timeScale: 0.05,
        published: 3 * n,
        throughput: n / 4,
        p50Ms: 12,
        p99Ms: 240,
        queues: {
          Images: {
            depth: n % 7,
            inFlight: n % 3,
            received: 2 * n,
            succeeded: 2 * n - (n > 0 ? 1 : 0),
            retried: Math.floor(n / 10),
            deadLettered: Math.floor(n / 20),
          },
          ImagesDlq: { depth: Math.floor(n / 20), inFlight: 0, received: 0, succeeded: 0, retried: 0, deadLettered: 0 },
          Audit: { depth: 0, inFlight: 0, received: n, succeeded: n, retried: 0, deadLettered: 0 },
        },
        topics: { Uploads: { published: 3 * n } },
        subscriptions: { ImagesSub: { delivered: 2 * n, filtered: n }, AuditSub: { delivered: n, filtered: 2 * n } },
        functions: { ImageWorker: { invocations: n, errors: Math.floor(n / 10), running: n % 2 } },
      };
    },
    trace: (messageId: string) => (ids.includes(messageId) ? traceOf(messageId, started) : undefined),
    recentMessageIds: (limit: number) => ids.slice(0, limit),
  };
  return source;
}

describe('dashboard server', () => {
  let dashboard: Dashboard;
  let source: ReturnType<typeof growingSource>;
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, dashboard.url), init);

  beforeAll(async () => {
    source = growingSource();
    dashboard = await startDashboard({ model, source });
  });
  afterAll(() => dashboard.close());

  it('listens on loopback on a free port', () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the page, its script and the SVG', async () => {
    const page = await get('/');
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('data-testid="message-list"');
    const script = await get('/dashboard.js');
    expect(script.headers.get('content-type')).toContain('text/javascript');
    const svg = await get('/topology.svg');
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    expect(await svg.text()).toContain('<g id="queue:Images" class="node">');
  });

  it('answers the topology, a snapshot and recent message ids as JSON', async () => {
    const topology = (await (await get('/api/topology')).json()) as TopologySummary;
    expect(topology.nodes.map((n) => n.id)).toEqual([
      'topic:Uploads',
      'queue:Images',
      'queue:ImagesDlq',
      'queue:Audit',
      'function:ImageWorker',
    ]);
    expect(topology.edges.find((e) => e.id === 'subscription:ImagesSub')?.label).toEqual(['kind: image']);
    const snapshot = (await (await get('/api/snapshot')).json()) as FlowSnapshot;
    expect(snapshot.timeScale).toBe(0.05);
    expect(snapshot.queues.Images).toHaveProperty('succeeded');
    expect(await (await get('/api/messages?limit=2')).json()).toEqual({ messageIds: ['msg-0001', 'msg-0002'] });
    expect(((await (await get('/api/messages')).json()) as { messageIds: string[] }).messageIds).toHaveLength(5);
  });

  it('answers a trace, and 404 JSON for an unknown message', async () => {
    const trace = (await (await get('/api/trace/msg-0003')).json()) as MessageTrace;
    expect(trace.events.map((e) => e.type)).toEqual([
      'published',
      'routed',
      'routed',
      'received',
      'attempt',
      'retry-scheduled',
      'received',
      'attempt',
      'deleted',
    ]);
    const missing = await get('/api/trace/nope%2Fnot-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ messageId: 'nope/not-here' });
  });

  it('streams a snapshot on connect, then every 500 ms', async () => {
    const controller = new AbortController();
    const res = await get('/api/events', { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const started = Date.now();
    while ((text.match(/^data: /gm) ?? []).length < 3) text += (await reader.read()).value ?? '';
    controller.abort();
    const frames = text.split('\n\n').filter((f) => f.includes('data: '));
    const snapshots = frames.map((f) => JSON.parse(f.slice(f.indexOf('data: ') + 6)) as FlowSnapshot);
    expect(snapshots[2]!.at - snapshots[0]!.at).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses other hosts (DNS rebinding) and other methods', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(new URL('/api/snapshot', dashboard.url), { headers: { host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    expect((await get('/api/snapshot', { method: 'POST' })).status).toBe(405);
    expect((await get('/nowhere')).status).toBe(404);
  });
});

describe('browser helper', () => {
  it('names the fix when the Chromium executable is missing', () => {
    expect(() => chromiumPath({ QUEUEKIT_CHROMIUM: '/nonexistent/chromium' })).toThrow(
      /No Chromium executable at \/nonexistent\/chromium \(from QUEUEKIT_CHROMIUM\).*apt-get install chromium.*QUEUEKIT_CHROMIUM/,
    );
  });
});

describe('live page in Chromium', () => {
  let browser: Browser;
  let dashboard: Dashboard;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    dashboard = await startDashboard({ model, source: growingSource() });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(dashboard.url);
  });
  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
  });

  it('shows counters that move', async () => {
    await expect.poll(() => readNumber(page, '[data-testid="published"]')).toBeGreaterThan(0);
    const first = await readNumber(page, '[data-testid="published"]');
    const succeeded = await readNumber(page, '[data-testid="queue-row-Images"] [data-field=succeeded]');
    await expect.poll(() => readNumber(page, '[data-testid="published"]'), { timeout: 5000 }).toBeGreaterThan(first);
    await expect
      .poll(() => readNumber(page, '[data-testid="queue-row-Images"] [data-field=succeeded]'), { timeout: 5000 })
      .toBeGreaterThan(succeeded);
    expect(await readNumber(page, '[data-testid="throughput"]')).toBeGreaterThan(0);
    expect(await page.locator('#time-scale').textContent()).toBe('×0.05');
  });

  it('has a row per queue, DLQ included', async () => {
    for (const name of ['Images', 'ImagesDlq', 'Audit']) {
      await expect.poll(() => page.locator(`[data-testid="queue-row-${name}"]`).count()).toBe(1);
    }
    expect(await page.locator('[data-testid="queue-row-ImagesDlq"] .tag').textContent()).toBe('DLQ');
  });

  it('writes live counters into the graph', async () => {
    const slot = (id: string, line = 0) => page.locator(`#graph text.slot[data-slot="${id}"][data-line="${line}"]`);
    await expect.poll(() => slot('topic:Uploads').textContent()).toMatch(/^[\d,]+ published$/);
    await expect.poll(() => slot('queue:Images').textContent()).toMatch(/waiting · [\d,]+ in flight$/);
    await expect.poll(() => slot('queue:Images', 1).textContent()).toMatch(/ok · [\d,]+ retried · [\d,]+ DLQ$/);
    await expect.poll(() => slot('function:ImageWorker').textContent()).toMatch(/runs · [\d,]+ errors · \d running$/);
    await expect.poll(() => slot('subscription:ImagesSub').textContent()).toMatch(/delivered · [\d,]+ filtered$/);
  });

  it('shows the trace of a message picked from the list', async () => {
    const list = page.getByTestId('message-list');
    await list.getByRole('button', { name: 'msg-0002' }).click();
    const trace = page.getByTestId('trace');
    await expect.poll(() => trace.locator('li').count()).toBe(9);
    expect(await trace.locator('li .type').allTextContents()).toEqual([
      'published',
      'routed',
      'filtered',
      'received',
      'attempt',
      'retry',
      'received',
      'attempt',
      'deleted',
    ]);
    const text = await trace.textContent();
    expect(text).toContain('msg-0002');
    expect(text).not.toContain('undefined');
    expect(text).toContain('by AuditSub (queue Audit): kind: audit (MessageAttributes) did not match');
    expect(text).toContain('ImageWorker on Images: failed in 35 ms, receive #1');
    // Log lines and errors are shown as text, never as markup.
    expect(await trace.locator('pre').first().textContent()).toBe(
      'error: Error: thumbnail service <unavailable>\nINFO resizing <img> 1/1\nERROR thumbnail service unavailable',
    );
    expect(await trace.locator('img').count()).toBe(0);
    expect(page.url()).toMatch(/#message=msg-0002$/);
    await screenshotIfAsked(page, 'docs/live-page.png');
  });

  it('logs no errors in the page', () => {
    expect(problems).toEqual([]);
  });
});
