/**
 * The local runner's AWS gateway: one HTTP endpoint, on loopback, that every function's SDK clients use as
 * `AWS_ENDPOINT_URL`, and that external clients (the developer's scripts, tests, `aws lambda invoke
 * --endpoint-url`) can use too.
 *
 * - **Lambda Invoke API** (`POST /2015-03-31/functions/{name}/invocations`) is served here, by the local function
 *   host: `RequestResponse`, `Event` (202, run in the background with AWS's two retries) and `DryRun` (204), `Tail`
 *   logs, `X-Amz-Function-Error: Unhandled` error payloads, Lambda's status codes and error types.
 * - **Everything else** (SQS, SNS, S3…) is proxied to `target` (the embedded emulator, LocalStack, any endpoint)
 *   unchanged but for the `Host` header, streaming both ways over keep-alive connections.
 * - **IAM**: a request signed with a function's access key (see {@link PermissionCheck.accessKeyFor}) is checked
 *   against that function's role before it is forwarded or served; a denied call gets the error AWS would return
 *   for that service and protocol (SQS `AccessDenied`, SNS `AuthorizationError`, S3 `AccessDenied`, Lambda
 *   `AccessDeniedException`). Other callers are not checked. Without `permissions` nothing is checked (`--no-iam`).
 * - **Observability**: successful SQS SendMessage(Batch) and SNS Publish(Batch) responses are read as they stream
 *   through, and each message id becomes a `published` {@link FlowEvent}.
 *
 * The target must accept requests whose SigV4 signature no longer matches the `Host` header (emulators do not
 * verify signatures). S3 is classified path-style (`/bucket/key`), which the SDK uses for an IP-address endpoint
 * such as this gateway's.
 *
 * @example
 * const gateway = await startAwsGateway({
 *   target: emulator.endpoint,
 *   permissions: new PermissionCheck({ functions: model.functions, accountId, region }),
 *   functions: (name) => host.target(name),
 *   region,
 *   accountId,
 *   onEvent: (e) => flow.record(e),
 * });
 * // each function: AWS_ENDPOINT_URL=gateway.endpoint, AWS_ACCESS_KEY_ID=permissions.accessKeyFor(fn)
 * await gateway.close();
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  type ClassifiedRequest,
  classificationNeedsBody,
  classifyAwsRequest,
  MAX_CLASSIFIED_BODY_BYTES,
  safeDecodeURIComponent,
} from './aws-request.js';
import { AwsGatewayError } from './errors.js';
import type { FlowEvent } from './flow-events.js';
import type { InvokeResult } from './function-host.js';
import {
  LAMBDA_ASYNC_PAYLOAD_LIMIT_BYTES,
  LAMBDA_ASYNC_RETRIES,
  LAMBDA_LOG_TAIL_BYTES,
  LAMBDA_RESPONSE_LIMIT_BYTES,
  LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES,
} from './limits.js';
import type { PermissionCheck } from './permission-check.js';

// ---------------------------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------------------------

export type { InvokeResult };

/** A function the gateway can invoke. */
export interface LambdaTarget {
  /** Physical function name. */
  readonly name: string;
  readonly arn: string;
  /** Runs the handler once with `payload` (the parsed JSON event). Should not reject; if it does, the failure is reported as a crash. */
  invoke(payload: unknown, opts: { readonly requestId: string }): Promise<InvokeResult>;
}

/** A message sent or published through the gateway, as {@link AwsGatewayOptions.onPublish} receives it. */
export interface PublishedMessage {
  /** The id the sender got back (SNS message id for a publish, SQS message id for a send). */
  readonly messageId: string;
  /** Set for an SNS publish (`TopicArn`, or `TargetArn`). */
  readonly topicArn?: string;
  /** Set for an SQS send. */
  readonly queueArn?: string;
  readonly queueUrl?: string;
  readonly body: string;
  /** Message attributes as sent (`DataType` and, for String/Number, `StringValue`). */
  readonly attributes?: Readonly<Record<string, { readonly DataType: string; readonly StringValue?: string }>>;
  readonly groupId?: string;
  /** Display name of the function that sent it, when a function did. */
  readonly by?: string;
  /** When the gateway forwarded the call (epoch ms): the message may reach a consumer before the answer is back. */
  readonly at: number;
}

/** A call the gateway refused, for the runner's own output. */
export interface DeniedCall {
  /** Display name of the calling function. */
  readonly function: string;
  readonly action: string;
  readonly resource: string;
  /** The message the function's SDK got. */
  readonly message: string;
  /** What to change in the CDK app. */
  readonly fix: string;
}

/** One attempt of an asynchronous (`Event`) invocation. */
export interface AsyncInvocation {
  readonly function: string;
  readonly requestId: string;
  /** 1 for the first attempt, up to 1 + {@link AwsGatewayOptions.asyncRetries}. */
  readonly attempt: number;
  readonly result: InvokeResult;
  /** No further attempt follows (it succeeded, or it was the last). */
  readonly final: boolean;
}

export interface AwsGatewayOptions {
  /** Base URL SQS/SNS/S3 requests are forwarded to, e.g. the embedded emulator's `http://127.0.0.1:41234`. */
  readonly target: string;
  /**
   * Checks the calls of functions against their roles.
   * @default - nothing is checked (`--no-iam`)
   */
  readonly permissions?: PermissionCheck;
  /**
   * The function a Lambda Invoke addresses. Called with the plain function name: the gateway has already parsed a
   * full or partial ARN, checked its region and account, and accepted only no qualifier or `$LATEST`.
   */
  readonly functions: (name: string) => LambdaTarget | undefined;
  readonly region: string;
  readonly accountId: string;
  /**
   * Port on 127.0.0.1.
   * @default 0 - any free port
   */
  readonly port?: number;
  /**
   * Receives a `published` event for every message a SendMessage(Batch) or Publish(Batch) through the gateway
   * returned an id for.
   * @default - no events (responses are then not read at all)
   */
  readonly onEvent?: (event: FlowEvent) => void;
  /**
   * Display name of a queue (by URL or ARN) or topic (by ARN), for `published` events.
   * @default - the ARN
   */
  readonly displayNameOf?: (arnOrUrl: string) => string | undefined;
  /**
   * Receives every message a SendMessage(Batch) or Publish(Batch) through the gateway returned an id for, with
   * its raw target ARN, body and attributes (what a recorder needs to follow it through subscriptions).
   * @default - ignored
   */
  readonly onPublish?: (message: PublishedMessage) => void;
  /**
   * Name of the function an access key belongs to, for `by`.
   * @default - the display name of `permissions.principalOf(accessKeyId)`
   */
  readonly byFunction?: (accessKeyId: string) => string | undefined;
  /** Called for every call the gateway denied. @default - ignored */
  readonly onDenied?: (call: DeniedCall) => void;
  /** Called after every attempt of an `Event` invocation. @default - ignored */
  readonly onAsyncInvocation?: (invocation: AsyncInvocation) => void;
  /**
   * Delay before the first retry of a failed `Event` invocation; the second waits twice as long. AWS waits about
   * 1 and 2 minutes; locally a short delay keeps the feedback loop fast.
   * @default 1000
   */
  readonly asyncRetryDelayMs?: number;
  /**
   * Retries of a failed `Event` invocation (AWS's `MaximumRetryAttempts`, 0–2).
   * @default 2
   */
  readonly asyncRetries?: number;
}

/** A running gateway. */
export interface AwsGateway {
  /** `http://127.0.0.1:<port>`: give it to SDK clients as `endpoint` / `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  /** Stops listening, closes open connections and cancels pending `Event` retries. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------------------

/** Starts the gateway on 127.0.0.1. */
export async function startAwsGateway(options: AwsGatewayOptions): Promise<AwsGateway> {
  let target: URL;
  try {
    target = new URL(options.target);
  } catch {
    throw new AwsGatewayError(
      `AWS gateway target "${options.target}" is not a URL. Fix: pass the endpoint of the SQS/SNS/S3 server, e.g. http://127.0.0.1:4566.`,
    );
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new AwsGatewayError(
      `AWS gateway target "${options.target}" uses ${target.protocol}; only http: and https: are supported.`,
    );
  }
  const gateway = new Gateway(options, target);
  const server = http.createServer((req, res) => {
    gateway.handle(req, res).catch((error: unknown) => gateway.fail(res, error));
  });
  // The SDK keeps connections open between calls; outlive its idle sockets so it rarely hits a closed one.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) =>
      reject(
        new AwsGatewayError(
          `AWS gateway could not listen on 127.0.0.1:${options.port ?? 0}: ${error.message}. Fix: choose another port or stop what uses it.`,
        ),
      );
    server.once('error', onError);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      gateway.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Per-service shape of an error response. */
interface ServiceError {
  readonly status: number;
  /** Error code: the query/XML `Code`, Lambda's `x-amzn-ErrorType`, SQS JSON's `x-amzn-query-error` code. */
  readonly code: string;
  /** SQS JSON protocol `__type`. */
  readonly jsonType?: string;
  readonly fault: 'Sender' | 'Receiver';
  readonly message: string;
}

class Gateway {
  readonly #options: AwsGatewayOptions;
  readonly #target: URL;
  readonly #transport: typeof http | typeof https;
  readonly #agent: http.Agent;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #defaults: { region: string; accountId: string };
  #stopped = false;

  constructor(options: AwsGatewayOptions, target: URL) {
    this.#options = options;
    this.#target = target;
    this.#transport = target.protocol === 'https:' ? https : http;
    this.#agent = new this.#transport.Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 });
    this.#defaults = { region: options.region, accountId: options.accountId };
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#agent.destroy();
  }

  /** Last resort for a bug in the gateway itself: answer 500 rather than leave the request hanging. */
  fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy(error instanceof Error ? error : undefined);
      return;
    }
    const message = `queuekit AWS gateway failed on this request: ${errorText(error)}`;
    res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceException' });
    res.end(JSON.stringify({ Type: 'Service', message }));
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const head = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    let body: Buffer | undefined;
    let bodySize = 0;
    if (classificationNeedsBody(head)) {
      const read = await readBody(req, MAX_CLASSIFIED_BODY_BYTES);
      if (read === undefined) return; // client went away
      body = read.body;
      bodySize = read.size;
    }
    const request = classifyAwsRequest({ ...head, body }, this.#defaults);
    if (request.service === 'lambda') {
      await this.#lambda(req, res, request, body, bodySize, requestId);
      return;
    }
    if (body !== undefined && bodySize > MAX_CLASSIFIED_BODY_BYTES) {
      sendError(res, request, requestId, {
        status: 413,
        code: 'RequestEntityTooLarge',
        fault: 'Sender',
        message: `Request body is ${bodySize} bytes; the queuekit AWS gateway reads at most ${MAX_CLASSIFIED_BODY_BYTES} for ${request.service} requests (SQS and SNS accept far less). Fix: send a smaller request.`,
      });
      return;
    }
    const denied = await this.#authorize(request);
    if (denied !== undefined) {
      sendError(res, request, requestId, accessDenied(request.service, denied));
      return;
    }
    this.#proxy(req, res, request, body, requestId);
  }

  /** The first denial among the request's checks, or undefined when allowed (or not checked). */
  async #authorize(request: ClassifiedRequest): Promise<string | undefined> {
    const permissions = this.#options.permissions;
    if (permissions === undefined || request.accessKeyId === undefined || request.action === '') return undefined;
    const fn = permissions.principalOf(request.accessKeyId);
    if (fn === undefined) return undefined;
    const checks = [
      ...request.resources.map((resource) => ({ action: request.action, resource })),
      ...request.extraChecks,
    ];
    for (const { action, resource } of checks) {
      const decision = await permissions.check(fn, action, resource);
      if (decision.allowed) continue;
      safely(() =>
        this.#options.onDenied?.({
          function: fn.displayName,
          action,
          resource,
          message: decision.message,
          fix: decision.fix,
        }),
      );
      return decision.message;
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Proxy
  // -------------------------------------------------------------------------------------------------------------

  #proxy(
    req: IncomingMessage,
    res: ServerResponse,
    request: ClassifiedRequest,
    body: Buffer | undefined,
    requestId: string,
  ): void {
    const headers: IncomingHttpHeaders = { ...req.headers, host: this.#target.host };
    for (const name of HOP_BY_HOP) delete headers[name];
    // The client already got its 100 Continue from this server; the body follows at once.
    delete headers.expect;
    if (body !== undefined) {
      headers['content-length'] = String(body.length);
      delete headers['transfer-encoding'];
    }
    const base = this.#target.pathname.replace(/\/$/, '');
    const forwardedAt = Date.now();
    const upstream = this.#transport.request({
      protocol: this.#target.protocol,
      hostname: this.#target.hostname,
      port: this.#target.port,
      method: req.method,
      path: base + (req.url ?? '/'),
      headers,
      agent: this.#agent,
    });
    const observe =
      (this.#options.onEvent !== undefined || this.#options.onPublish !== undefined) &&
      OBSERVED.has(`${request.service}:${request.operation}`);
    upstream.on('response', (up) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(up.headers)) {
        if (value !== undefined && !HOP_BY_HOP.includes(name)) out[name] = value;
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      if (observe && up.statusCode === 200 && up.headers['content-encoding'] === undefined) {
        const chunks: Buffer[] = [];
        up.on('data', (chunk: Buffer) => chunks.push(chunk));
        up.on('end', () => safely(() => this.#published(request, Buffer.concat(chunks).toString('utf8'), forwardedAt)));
      }
      up.on('error', (error) => res.destroy(error));
      up.pipe(res);
    });
    upstream.on('error', (error) => {
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      sendError(res, request, requestId, {
        status: 502,
        code: 'ServiceUnavailable',
        jsonType: 'com.amazonaws.sqs#ServiceUnavailable',
        fault: 'Receiver',
        message: `queuekit AWS gateway could not reach the target ${this.#target.origin}: ${errorText(error)}. Fix: check that the emulator (or LocalStack) is running and reachable there.`,
      });
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (body !== undefined) upstream.end(body);
    else req.pipe(upstream);
  }

  /** Reports the messages of a successful send or publish: `published` events and {@link PublishedMessage}s. */
  #published(request: ClassifiedRequest, responseText: string, at: number): void {
    const ids = messageIdsOf(request, responseText);
    if (ids.length === 0) return;
    const input = request.input ?? {};
    const key = request.accessKeyId;
    const by =
      key === undefined
        ? undefined
        : (this.#options.byFunction?.(key) ?? this.#options.permissions?.principalOf(key)?.displayName);
    const sent = sentMessagesOf(request);
    const displayNameOf = this.#options.displayNameOf ?? (() => undefined);
    let where: Pick<PublishedMessage, 'topicArn' | 'queueArn' | 'queueUrl'>;
    let target: string | undefined;
    if (request.service === 'sqs') {
      const queueUrl = stringOf(input.QueueUrl);
      const queueArn = request.resources[0];
      where = { ...(queueArn !== undefined && { queueArn }), ...(queueUrl !== undefined && { queueUrl }) };
      target =
        (queueUrl !== undefined ? displayNameOf(queueUrl) : undefined) ??
        (queueArn !== undefined ? displayNameOf(queueArn) : undefined) ??
        queueArn ??
        queueUrl;
    } else {
      const topicArn = request.resources[0];
      where = topicArn !== undefined ? { topicArn } : {};
      target = (topicArn !== undefined ? displayNameOf(topicArn) : undefined) ?? topicArn;
    }
    if (target === undefined) return;
    for (const { id, messageId } of ids) {
      const message = sent.get(id ?? '');
      const groupId = message?.groupId;
      safely(() =>
        this.#options.onEvent?.({
          type: 'published',
          at,
          messageId,
          target,
          targetKind: request.service === 'sqs' ? 'queue' : 'topic',
          ...(groupId !== undefined && { groupId }),
          ...(by !== undefined && { by }),
        }),
      );
      safely(() =>
        this.#options.onPublish?.({
          messageId,
          ...where,
          body: message?.body ?? '',
          at,
          ...(message?.attributes !== undefined && { attributes: message.attributes }),
          ...(groupId !== undefined && { groupId }),
          ...(by !== undefined && { by }),
        }),
      );
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Lambda Invoke API
  // -------------------------------------------------------------------------------------------------------------

  async #lambda(
    req: IncomingMessage,
    res: ServerResponse,
    request: ClassifiedRequest,
    body: Buffer | undefined,
    bodySize: number,
    requestId: string,
  ): Promise<void> {
    const lambdaError = (status: number, code: string, message: string) =>
      sendError(res, request, requestId, { status, code, fault: 'Sender', message });
    const asyncApi = request.operation === 'InvokeAsync';
    if (request.operation !== 'Invoke' && !asyncApi) {
      lambdaError(
        501,
        'UnsupportedOperationException',
        `The queuekit local runner serves only the Lambda Invoke API (RequestResponse, Event, DryRun); ${request.operation || `${req.method} ${req.url}`} is not emulated. Fix: call Invoke, or run this against AWS.`,
      );
      return;
    }
    const denied = await this.#authorize(request);
    if (denied !== undefined) {
      sendError(res, request, requestId, accessDenied('lambda', denied));
      return;
    }
    const ref = request.lambdaFunction;
    const notFound = (arn: string, hint = '') =>
      lambdaError(404, 'ResourceNotFoundException', `Function not found: ${arn}${hint}`);
    if (ref === undefined) {
      const raw = (req.url ?? '').split('?')[0]?.split('/')[3] ?? '';
      lambdaError(
        400,
        'InvalidParameterValueException',
        `1 validation error detected: Value '${safeDecodeURIComponent(raw)}' at 'functionName' failed to satisfy constraint: it must be a function name, a partial ARN (123456789012:function:name) or a function ARN, with an optional :qualifier`,
      );
      return;
    }
    // A plain name means "in the region and account of this endpoint"; only an ARN can point elsewhere.
    const elsewhere =
      (ref.form === 'arn' && ref.region !== this.#options.region) ||
      (ref.form !== 'name' && ref.accountId !== this.#options.accountId);
    if (elsewhere) {
      notFound(
        ref.invokedArn,
        ` (the local runner serves functions of ${this.#options.accountId} in ${this.#options.region})`,
      );
      return;
    }
    const shownArn =
      ref.form === 'name'
        ? `arn:aws:lambda:${this.#options.region}:${this.#options.accountId}:function:${ref.name}${ref.qualifier !== undefined ? `:${ref.qualifier}` : ''}`
        : ref.invokedArn;
    const fn = this.#options.functions(ref.name);
    if (fn === undefined) {
      notFound(shownArn);
      return;
    }
    if (ref.qualifier !== undefined && ref.qualifier !== '$LATEST') {
      notFound(shownArn, ' (the local runner serves $LATEST only; versions and aliases are not emulated)');
      return;
    }

    const invocationType = asyncApi
      ? 'Event'
      : (headerValue(req.headers, 'x-amz-invocation-type') ?? 'RequestResponse');
    if (invocationType !== 'RequestResponse' && invocationType !== 'Event' && invocationType !== 'DryRun') {
      lambdaError(
        400,
        'InvalidParameterValueException',
        `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
      return;
    }
    const limit = invocationType === 'Event' ? LAMBDA_ASYNC_PAYLOAD_LIMIT_BYTES : LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES;
    if (bodySize > limit) {
      lambdaError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${limit} bytes for the ${invocationType === 'Event' ? 'InvokeAsync' : 'InvokeFunction'} operation`,
      );
      return;
    }
    let payload: unknown = {};
    const text = body?.toString('utf8') ?? '';
    if (text.trim() !== '') {
      try {
        payload = JSON.parse(text);
      } catch (error) {
        lambdaError(
          400,
          'InvalidRequestContentException',
          `Could not parse request body into json: Could not parse payload into json: ${errorText(error)}`,
        );
        return;
      }
    }
    const baseHeaders = {
      'x-amzn-requestid': requestId,
      'x-amz-executed-version': '$LATEST',
    };
    if (invocationType === 'DryRun') {
      res.writeHead(204, baseHeaders).end();
      return;
    }
    if (invocationType === 'Event') {
      if (asyncApi) {
        res.writeHead(202, { ...baseHeaders, 'content-type': 'application/json' }).end('{"Status":202}');
      } else {
        res.writeHead(202, { ...baseHeaders, 'content-length': '0' }).end();
      }
      this.#invokeAsync(fn, payload, requestId, 1);
      return;
    }

    const result = await invokeSafely(fn, payload, requestId);
    const headers: Record<string, string> = { ...baseHeaders, 'content-type': 'application/json' };
    if (headerValue(req.headers, 'x-amz-log-type') === 'Tail') {
      headers['x-amz-log-result'] = logTail(result);
    }
    let responseBody: string;
    if (result.ok) {
      try {
        responseBody = JSON.stringify(result.result === undefined ? null : result.result);
      } catch (error) {
        headers['x-amz-function-error'] = 'Unhandled';
        responseBody = JSON.stringify({
          errorType: 'Runtime.MarshalError',
          errorMessage: `Unable to marshal response: ${errorText(error)}`,
        });
      }
      if (Buffer.byteLength(responseBody) > LAMBDA_RESPONSE_LIMIT_BYTES) {
        headers['x-amz-function-error'] = 'Unhandled';
        responseBody = JSON.stringify({
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${LAMBDA_RESPONSE_LIMIT_BYTES} bytes).`,
        });
      }
    } else {
      headers['x-amz-function-error'] = 'Unhandled';
      responseBody = JSON.stringify(errorPayload(result));
    }
    if (!res.destroyed) res.writeHead(200, headers).end(responseBody);
  }

  /** One attempt of an `Event` invocation; schedules the next after a failure, as AWS's async retries do. */
  #invokeAsync(fn: LambdaTarget, payload: unknown, requestId: string, attempt: number): void {
    const retries = Math.min(Math.max(this.#options.asyncRetries ?? LAMBDA_ASYNC_RETRIES, 0), LAMBDA_ASYNC_RETRIES);
    const delay = this.#options.asyncRetryDelayMs ?? 1000;
    void invokeSafely(fn, payload, requestId).then((result) => {
      const final = result.ok || attempt > retries || this.#stopped;
      safely(() => this.#options.onAsyncInvocation?.({ function: fn.name, requestId, attempt, result, final }));
      if (final) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!this.#stopped) this.#invokeAsync(fn, payload, requestId, attempt + 1);
      }, delay * attempt);
      this.#timers.add(timer);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

/** Headers that describe one connection, not the message: never forwarded. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** Operations whose responses become `published` events. */
const OBSERVED = new Set(['sqs:SendMessage', 'sqs:SendMessageBatch', 'sns:Publish', 'sns:PublishBatch']);

/** Reads a body, keeping at most `limit` bytes (the rest is drained and counted). Undefined if the client went away. */
function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; size: number } | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), size }));
    req.on('error', () => resolve(undefined));
    req.on('close', () => {
      if (!req.complete) resolve(undefined);
    });
  });
}

function accessDenied(service: ClassifiedRequest['service'], message: string): ServiceError {
  switch (service) {
    case 'sns':
      return { status: 403, code: 'AuthorizationError', fault: 'Sender', message };
    case 'lambda':
      return { status: 403, code: 'AccessDeniedException', fault: 'Sender', message };
    case 'sqs':
      return {
        status: 403,
        code: 'AccessDenied',
        jsonType: 'com.amazon.coral.service#AccessDeniedException',
        fault: 'Sender',
        message,
      };
    default:
      return { status: 403, code: 'AccessDenied', fault: 'Sender', message };
  }
}

/** Writes an error the way the service of `request` would, so the SDK raises the matching exception. */
function sendError(res: ServerResponse, request: ClassifiedRequest, requestId: string, error: ServiceError): void {
  if (res.headersSent || res.destroyed) return;
  const common = { 'x-amzn-requestid': requestId };
  if (request.service === 'sqs' && request.protocol === 'json') {
    res.writeHead(error.status, {
      ...common,
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-query-error': `${error.code};${error.fault}`,
    });
    res.end(JSON.stringify({ __type: error.jsonType ?? `com.amazonaws.sqs#${error.code}`, message: error.message }));
    return;
  }
  if (request.service === 'sqs' || request.service === 'sns') {
    res.writeHead(error.status, { ...common, 'content-type': 'text/xml' });
    res.end(
      `<ErrorResponse><Error><Type>${error.fault}</Type><Code>${xml(error.code)}</Code><Message>${xml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
    return;
  }
  if (request.service === 's3') {
    res.writeHead(error.status, { ...common, 'x-amz-request-id': requestId, 'content-type': 'application/xml' });
    // HEAD responses have no body; the SDK maps the status code alone.
    res.end(
      res.req.method === 'HEAD'
        ? undefined
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xml(error.code)}</Code><Message>${xml(error.message)}</Message><RequestId>${requestId}</RequestId></Error>`,
    );
    return;
  }
  res.writeHead(error.status, {
    ...common,
    'content-type': 'application/json',
    'x-amzn-errortype': error.code,
  });
  res.end(JSON.stringify({ Type: error.fault === 'Sender' ? 'User' : 'Service', message: error.message }));
}

async function invokeSafely(fn: LambdaTarget, payload: unknown, requestId: string): Promise<InvokeResult> {
  const started = performance.now();
  try {
    return await fn.invoke(payload, { requestId });
  } catch (error) {
    return {
      requestId,
      ok: false,
      errorType: 'Runtime.Unknown',
      errorMessage: `The local function host failed to run ${fn.name}: ${errorText(error)}`,
      stackTrace: error instanceof Error && error.stack ? error.stack.split('\n') : [],
      durationMs: performance.now() - started,
      logs: [],
      reason: 'crash',
    };
  }
}

/** The body Lambda returns with `X-Amz-Function-Error: Unhandled`. */
function errorPayload(result: Extract<InvokeResult, { ok: false }>): Record<string, unknown> {
  if (result.reason === 'timeout') {
    return {
      errorType: 'Sandbox.Timedout',
      errorMessage: result.errorMessage.startsWith('RequestId:')
        ? result.errorMessage
        : `RequestId: ${result.requestId} Error: ${result.errorMessage}`,
    };
  }
  if (result.reason === 'crash') {
    return {
      errorType: result.errorType || 'Runtime.ExitError',
      errorMessage: result.errorMessage.startsWith('RequestId:')
        ? result.errorMessage
        : `RequestId: ${result.requestId} Error: ${result.errorMessage}`,
    };
  }
  return { errorType: result.errorType, errorMessage: result.errorMessage, trace: [...result.stackTrace] };
}

/** `X-Amz-Log-Result`: base64 of the last 4 KB of the invocation's log, framed like Lambda's START/END/REPORT. */
function logTail(result: InvokeResult): string {
  const id = result.requestId;
  const duration = result.durationMs.toFixed(2);
  const lines = [
    `START RequestId: ${id} Version: $LATEST`,
    ...result.logs,
    `END RequestId: ${id}`,
    `REPORT RequestId: ${id}\tDuration: ${duration} ms\tBilled Duration: ${Math.max(1, Math.ceil(result.durationMs))} ms`,
  ];
  const log = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  return log.subarray(Math.max(0, log.length - LAMBDA_LOG_TAIL_BYTES)).toString('base64');
}

/** Message ids (with their batch entry id) from a send/publish response, JSON or XML. */
function messageIdsOf(request: ClassifiedRequest, text: string): { id?: string; messageId: string }[] {
  const batch = request.operation.endsWith('Batch');
  if (request.protocol === 'json') {
    try {
      const parsed = JSON.parse(text) as { MessageId?: string; Successful?: { Id?: string; MessageId?: string }[] };
      if (!batch) return parsed.MessageId ? [{ messageId: parsed.MessageId }] : [];
      return (parsed.Successful ?? []).flatMap((s) =>
        s.MessageId ? [{ ...(s.Id !== undefined && { id: s.Id }), messageId: s.MessageId }] : [],
      );
    } catch {
      return [];
    }
  }
  if (!batch) {
    const id = /<MessageId>([^<]+)<\/MessageId>/.exec(text)?.[1];
    return id ? [{ messageId: id }] : [];
  }
  // SNS: <Successful><member><Id/>…</member></Successful>; SQS query: <SendMessageBatchResultEntry>…</…>.
  const successful = /<Successful>([\s\S]*?)<\/Successful>/.exec(text)?.[1] ?? text;
  const entries = successful.match(/<(member|SendMessageBatchResultEntry)>[\s\S]*?<\/\1>/g) ?? [];
  return entries.flatMap((entry) => {
    const messageId = /<MessageId>([^<]+)<\/MessageId>/.exec(entry)?.[1];
    const id = /<Id>([^<]+)<\/Id>/.exec(entry)?.[1];
    return messageId ? [{ ...(id !== undefined && { id }), messageId }] : [];
  });
}

type SentMessage = Pick<PublishedMessage, 'body' | 'attributes' | 'groupId'>;
type Attributes = Record<string, { DataType: string; StringValue?: string }>;

/** The messages of a send or publish request, by batch entry id (`''` for a single message). */
function sentMessagesOf(request: ClassifiedRequest): Map<string, SentMessage> {
  const messages = new Map<string, SentMessage>();
  const input = request.input ?? {};
  if (request.protocol === 'json') {
    const fromJson = (m: Record<string, unknown>): SentMessage => {
      const attributes: Attributes = {};
      const raw = m.MessageAttributes;
      if (typeof raw === 'object' && raw !== null) {
        for (const [name, value] of Object.entries(raw as Record<string, Record<string, unknown>>)) {
          const dataType = stringOf(value?.DataType);
          const stringValue = stringOf(value?.StringValue);
          if (dataType !== undefined)
            attributes[name] = { DataType: dataType, ...(stringValue !== undefined && { StringValue: stringValue }) };
        }
      }
      const groupId = stringOf(m.MessageGroupId);
      return {
        body: stringOf(m.MessageBody) ?? '',
        ...(Object.keys(attributes).length > 0 && { attributes }),
        ...(groupId !== undefined && { groupId }),
      };
    };
    if (Array.isArray(input.Entries)) {
      for (const entry of input.Entries as Record<string, unknown>[]) {
        const id = stringOf(entry?.Id);
        if (id !== undefined) messages.set(id, fromJson(entry));
      }
    } else {
      messages.set('', fromJson(input));
    }
    return messages;
  }
  // Query protocol, flat keys. SQS: MessageBody, MessageAttribute.N.Name/Value.DataType/Value.StringValue,
  // batch SendMessageBatchRequestEntry.N.…; SNS: Message, MessageAttributes.entry.N.…, batch
  // PublishBatchRequestEntries.member.N.…
  const sns = request.service === 'sns';
  const bodyKey = sns ? 'Message' : 'MessageBody';
  const attributePrefix = sns ? 'MessageAttributes.entry.' : 'MessageAttribute.';
  const fromQuery = (prefix: string): SentMessage => {
    const attributes: Attributes = {};
    for (let n = 1; ; n++) {
      const name = stringOf(input[`${prefix}${attributePrefix}${n}.Name`]);
      if (name === undefined) break;
      const dataType = stringOf(input[`${prefix}${attributePrefix}${n}.Value.DataType`]) ?? 'String';
      const stringValue = stringOf(input[`${prefix}${attributePrefix}${n}.Value.StringValue`]);
      attributes[name] = { DataType: dataType, ...(stringValue !== undefined && { StringValue: stringValue }) };
    }
    const groupId = stringOf(input[`${prefix}MessageGroupId`]);
    return {
      body: stringOf(input[`${prefix}${bodyKey}`]) ?? '',
      ...(Object.keys(attributes).length > 0 && { attributes }),
      ...(groupId !== undefined && { groupId }),
    };
  };
  if (!request.operation.endsWith('Batch')) {
    messages.set('', fromQuery(''));
    return messages;
  }
  const entryPrefix = sns ? 'PublishBatchRequestEntries.member.' : 'SendMessageBatchRequestEntry.';
  for (let n = 1; ; n++) {
    const id = stringOf(input[`${entryPrefix}${n}.Id`]);
    if (id === undefined) break;
    messages.set(id, fromQuery(`${entryPrefix}${n}.`));
  }
  return messages;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a listener; a listener's bug must never break a request. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignored: listeners are the runner's, and a request must not fail because of one
  }
}
