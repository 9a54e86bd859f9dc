/**
 * The live page of the local runner: a small HTTP server (node:http, no framework) serving one static page, the
 * topology SVG, JSON snapshots and traces, and a Server-Sent Events stream of snapshots.
 *
 * Routes:
 * - `GET /`: the page (`dashboard.html`, which loads `/dashboard.js`; no build step, no CDN).
 * - `GET /api/topology`: the graph's nodes and edges ({@link TopologySummary}).
 * - `GET /topology.svg`: the graph rendered by Graphviz (rendered once).
 * - `GET /api/snapshot`: the current {@link FlowSnapshot}.
 * - `GET /api/events`: Server-Sent Events, one snapshot on connect then one every 500 ms.
 * - `GET /api/trace/:messageId`: the {@link MessageTrace}, or 404 `{ "error": … }`.
 * - `GET /api/messages?limit=50`: `{ "messageIds": [...] }`, the most recent first.
 *
 * It binds `127.0.0.1` by default and, when bound to a loopback address, answers only requests whose `Host` is a
 * loopback name, so a web page elsewhere cannot read the traces through DNS rebinding.
 *
 * @example
 * const dashboard = await startDashboard({ model, source: recorder });
 * console.log(`live page: ${dashboard.url}`);
 * // ...
 * await dashboard.close();
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppModel } from './app-model.js';
import type { FlowSnapshot, MessageTrace } from './flow-events.js';
import { buildTopology, renderSvg, type TopologyEdge, type TopologyNode } from './topology-graph.js';

/** Where the page's data comes from: the runner's flow recorder, or a fake in tests. */
export interface DashboardSource {
  snapshot(): FlowSnapshot;
  trace(messageId: string): MessageTrace | undefined;
  /** Ids of the most recently published messages, newest first. */
  recentMessageIds(limit: number): string[];
}

export interface DashboardOptions {
  readonly model: AppModel;
  readonly source: DashboardSource;
  /** @default 0 (a free port the OS picks) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** The page's address, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** Ends the event streams and stops the server. */
  close(): Promise<void>;
}

/** What `GET /api/topology` answers. */
export interface TopologySummary {
  readonly region: string;
  readonly accountId: string;
  readonly stacks: readonly string[];
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
  /** Resources the runner does not emulate, by type. */
  readonly unemulated: AppModel['unemulated'];
}

/** How often `/api/events` pushes a snapshot. */
export const SNAPSHOT_INTERVAL_MS = 500;

const DEFAULT_MESSAGE_LIMIT = 50;
const MAX_MESSAGE_LIMIT = 1000;
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;
const PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'";

/** Starts the live page's server; resolves once it listens. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { model, source } = options;
  const host = options.host ?? '127.0.0.1';
  const [html, script] = await Promise.all([
    readFile(new URL('./dashboard.html', import.meta.url), 'utf8'),
    readFile(new URL('./dashboard.js', import.meta.url), 'utf8'),
  ]);
  const graph = buildTopology(model);
  const summary: TopologySummary = {
    region: model.region,
    accountId: model.accountId,
    stacks: model.stacks,
    nodes: graph.nodes,
    edges: graph.edges,
    unemulated: model.unemulated,
  };
  let svg: Promise<string> | undefined;
  const streams = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;

  const broadcast = () => {
    let frame: string;
    try {
      frame = snapshotFrame(source);
    } catch (error) {
      // An SSE comment: the page keeps its last snapshot, the stream stays open.
      frame = `: snapshot failed: ${(error instanceof Error ? error.message : String(error)).replace(/\n/g, ' ')}\n\n`;
    }
    for (const res of streams) res.write(frame);
  };

  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    // Reconnect quickly after a runner restart.
    res.write(`retry: 1000\n${snapshotFrame(source)}`);
    streams.add(res);
    timer ??= setInterval(broadcast, SNAPSHOT_INTERVAL_MS);
    req.on('close', () => {
      streams.delete(res);
      if (streams.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    });
  };

  const loopback = isLoopback(host);
  const hostNames = new Set([...LOOPBACK_NAMES, host.includes(':') ? `[${host}]` : host]);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (loopback && !hostNames.has(hostName(req.headers.host))) {
      return sendJson(res, 403, { error: 'this page only answers on localhost' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: `${req.method} is not supported` });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/' || path === '/index.html') {
      return send(res, 200, 'text/html; charset=utf-8', html, { 'content-security-policy': PAGE_POLICY });
    }
    if (path === '/dashboard.js') return send(res, 200, 'text/javascript; charset=utf-8', script);
    if (path === '/topology.svg') {
      svg ??= renderSvg(model);
      return send(res, 200, 'image/svg+xml; charset=utf-8', await svg);
    }
    if (path === '/api/topology') return sendJson(res, 200, summary);
    if (path === '/api/snapshot') return sendJson(res, 200, source.snapshot());
    if (path === '/api/events') return openStream(req, res);
    if (path === '/api/messages') {
      const limit = Number(url.searchParams.get('limit') ?? DEFAULT_MESSAGE_LIMIT);
      const bounded = Number.isInteger(limit) && limit > 0 ? Math.min(limit, MAX_MESSAGE_LIMIT) : DEFAULT_MESSAGE_LIMIT;
      return sendJson(res, 200, { messageIds: source.recentMessageIds(bounded) });
    }
    if (path.startsWith('/api/trace/')) {
      const messageId = decodeURIComponent(path.slice('/api/trace/'.length));
      const trace = source.trace(messageId);
      return trace
        ? sendJson(res, 200, trace)
        : sendJson(res, 404, { error: `no message with id ${messageId} was seen`, messageId });
    }
    if (path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    return sendJson(res, 404, { error: `no route for ${path}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const res of streams) res.end();
      streams.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function snapshotFrame(source: DashboardSource): string {
  return `data: ${JSON.stringify(source.snapshot())}\n\n`;
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/** The host name of a `Host` header, without the port (`[::1]` keeps its brackets). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0];
  return (name ?? '').toLowerCase();
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
