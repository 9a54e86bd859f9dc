/**
 * Runs a synthesized app locally: provisions its queues, topics and subscriptions on a target, runs each Lambda
 * function from its bundled asset in isolated execution environments, polls each SQS event source mapping with
 * Lambda's semantics, checks every AWS call a function makes against its role, serves the Lambda Invoke API, and
 * records the message flow for the terminal, the live page and `queuekit trace`.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from '../runtime/clients.js';
import { type AppModel, findElement, type LocalFunction } from './app-model.js';
import { loadAppModel } from './app-model-loader.js';
import { startAwsGateway } from './aws-gateway.js';
import { readCloudAssembly } from './cloud-assembly.js';
import { type Dashboard, startDashboard } from './dashboard-server.js';
import { LocalRunnerError } from './errors.js';
import { EventSourcePoller } from './event-source-poller.js';
import { FlowRecorder } from './flow-recorder.js';
import { FunctionHost, type FunctionHostOptions, type InvokeResult } from './function-host.js';
import { DEFAULT_LOCAL_CONCURRENCY, LOCAL_ACCOUNT_ID, LOCAL_REGION, STATE_DIR } from './limits.js';
import { type RunnerOutputs, writeOutputs } from './outputs-file.js';
import { accessKeyIdFor, PermissionCheck } from './permission-check.js';
import { createProvisioner } from './provisioner.js';
import { SubscriptionRouter } from './subscription-routing.js';
import { openTarget, type Target } from './targets.js';

export interface LocalRunnerOptions {
  /** The cloud assembly folder (`cdk.out`). */
  readonly assembly: string;
  /** `embedded` (default), `localstack` or an endpoint URL. */
  readonly target?: string;
  /** Embedded target: keep state in this folder. @default - in memory */
  readonly persistDir?: string;
  /** Factor applied to visibility timeouts, retry backoff, batching windows and delays. @default 1 */
  readonly timeScale?: number;
  /** Check every AWS call a function makes against its role. @default true */
  readonly iam?: boolean;
  /** Concurrent invocations per function when neither mapping nor function caps it. @default DEFAULT_LOCAL_CONCURRENCY */
  readonly maxConcurrency?: number;
  /** Port of the Lambda API / AWS gateway. @default 0 (any free port) */
  readonly lambdaPort?: number;
  /** Port of the live page. @default 0 */
  readonly dashboardPort?: number;
  /** Start the live page. @default true */
  readonly dashboard?: boolean;
  /** Where outputs.json goes. @default '.queuekit' */
  readonly stateDir?: string;
  /** One line per notable thing (warnings, handler swaps). @default - dropped */
  readonly onNotice?: (line: string) => void;
}

/** A running app. */
export class LocalRunner {
  /** Provisions the app on the target and starts everything; resolves when it is ready. */
  static async start(options: LocalRunnerOptions): Promise<LocalRunner> {
    const target = await openTarget({ target: options.target, persistDir: options.persistDir });
    try {
      return await LocalRunner.startOn(target, options);
    } catch (error) {
      await target.close();
      throw error;
    }
  }

  private static async startOn(target: Target, options: LocalRunnerOptions): Promise<LocalRunner> {
    const timeScale = options.timeScale ?? 1;
    if (!(timeScale > 0 && timeScale <= 1)) {
      throw new LocalRunnerError(`--time-scale ${timeScale} is out of range. Fix: pass a factor in (0, 1], e.g. 0.05.`);
    }
    const provisioner = createProvisioner({
      endpoint: target.endpoint,
      region: LOCAL_REGION,
      timeScale,
      queueUrlsFromEndpoint: target.kind === 'embedded',
    });
    let model: AppModel;
    try {
      model = await loadAppModel(readCloudAssembly(options.assembly), {
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT_ID,
        hooks: provisioner,
      });
    } finally {
      provisioner.destroy();
    }
    return new LocalRunner(target, model, options, await SubscriptionRouter.create(model)).init();
  }

  readonly recorder: FlowRecorder;
  readonly hosts = new Map<string, FunctionHost>();
  private readonly hostOptions = new Map<string, FunctionHostOptions>();
  private readonly pollers: EventSourcePoller[] = [];
  private readonly sqs: SQSClient;
  private gateway?: { endpoint: string; close(): Promise<void> };
  private dashboard?: Dashboard;
  private depthTimer?: NodeJS.Timeout;
  private stopped?: Promise<void>;
  readonly timeScale: number;

  private constructor(
    readonly target: Target,
    readonly model: AppModel,
    private readonly options: LocalRunnerOptions,
    router: SubscriptionRouter,
  ) {
    this.timeScale = options.timeScale ?? 1;
    this.sqs = new SQSClient(clientConfig({ endpoint: target.endpoint, env: {}, region: model.region }, 'sqs'));
    this.recorder = new FlowRecorder(model, {
      router,
      timeScale: this.timeScale,
      runningOf: (name) => {
        const fn = model.functions.find((f) => f.displayName === name);
        return fn ? (this.hosts.get(fn.name)?.stats().running ?? 0) : 0;
      },
    });
  }

  /** The Lambda Invoke API (and the endpoint functions' SDK clients use). */
  get lambdaEndpoint(): string {
    return this.gateway?.endpoint ?? '';
  }

  get dashboardUrl(): string | undefined {
    return this.dashboard?.url;
  }

  private async init(): Promise<this> {
    const notice = this.options.onNotice ?? (() => {});
    const permissions =
      this.options.iam === false
        ? undefined
        : new PermissionCheck({
            functions: this.model.functions,
            accountId: this.model.accountId,
            region: this.model.region,
            onWarning: notice,
          });
    const callers = new Map(this.model.functions.map((fn) => [accessKeyIdFor(fn.arn), fn.displayName]));
    this.gateway = await startAwsGateway({
      target: this.target.endpoint,
      port: this.options.lambdaPort,
      permissions,
      region: this.model.region,
      accountId: this.model.accountId,
      functions: (name) => {
        const fn = this.findFunction(name);
        return fn
          ? { name: fn.name, arn: fn.arn, invoke: (payload, o) => this.invoke(fn, payload, o.requestId) }
          : undefined;
      },
      onPublish: (p) => this.recorder.recordPublish(p),
      onDenied: (d) => notice(`denied: ${d.function} may not ${d.action} on ${d.resource}. Fix: ${d.fix}`),
      // Who published, for the trace, with or without the IAM check: each function has its own access key.
      byFunction: (accessKeyId) => callers.get(accessKeyId),
    });
    const maxConcurrency = this.options.maxConcurrency ?? DEFAULT_LOCAL_CONCURRENCY;
    for (const fn of this.model.functions) {
      const mapped = this.model.mappings.filter((m) => m.functionName === fn.name && m.enabled);
      const mappedCap = mapped.reduce((n, m) => n + (m.maxConcurrency ?? maxConcurrency), 0);
      const options: FunctionHostOptions = {
        maxEnvironments: fn.reservedConcurrency ?? (mapped.length ? mappedCap : maxConcurrency),
        region: this.model.region,
        extraEnv: {
          AWS_ENDPOINT_URL: this.lambdaEndpoint,
          AWS_ACCESS_KEY_ID: accessKeyIdFor(fn.arn),
          AWS_SECRET_ACCESS_KEY: 'queuekit-local',
          QUEUEKIT_TIME_SCALE: String(this.timeScale),
        },
      };
      this.hostOptions.set(fn.name, options);
      this.hosts.set(fn.name, new FunctionHost(fn, options));
    }
    for (const mapping of this.model.mappings) {
      if (!mapping.enabled) continue;
      const queue = this.model.queues.find((q) => q.arn === mapping.queueArn);
      const fn = this.model.functions.find((f) => f.name === mapping.functionName);
      if (!queue || !fn) {
        notice(`${mapping.path}: its queue ${mapping.queueArn} is not part of the app; mapping not run.`);
        continue;
      }
      const poller = new EventSourcePoller({
        mapping,
        queue,
        fn,
        sqs: this.sqs,
        region: this.model.region,
        timeScale: this.timeScale,
        maxConcurrency,
        invoke: (event, o) => this.invoke(fn, event, undefined, o.deadlineMs),
        deadLetterQueue: this.model.queues.find((q) => q.arn === queue.deadLetter?.arn),
        messageIdOf: (q, m) => this.recorder.messageIdOf(q, m),
        onEvent: (e) => this.recorder.record(e),
        onError: (error, during) => notice(`${mapping.displayName}: ${during} failed: ${(error as Error).message}`),
      });
      this.pollers.push(poller);
      poller.start();
    }
    if (this.options.dashboard !== false) {
      this.dashboard = await startDashboard({
        model: this.model,
        source: this.recorder,
        port: this.options.dashboardPort,
      });
    }
    this.depthTimer = setInterval(() => void this.sampleDepths(), 1000);
    this.depthTimer.unref();
    this.writeOutputs();
    return this;
  }

  /** Finds a function by display name, construct path, logical id, physical name or ARN (qualifier allowed). */
  findFunction(key: string): LocalFunction | undefined {
    const bare = key.replace(/:(\$LATEST|\d+)$/, '');
    return (
      findElement(this.model.functions, bare) ?? this.model.functions.find((f) => bare.endsWith(`:function:${f.name}`))
    );
  }

  /** Invokes a function as Lambda would (RequestResponse). */
  async invoke(fn: LocalFunction, payload: unknown, requestId?: string, deadlineMs?: number): Promise<InvokeResult> {
    const host = this.hosts.get(fn.name);
    if (!host) throw new LocalRunnerError(`function ${fn.displayName} is not running.`);
    return host.invoke(payload, { requestId, deadlineMs });
  }

  /**
   * Runs a function from a rebuilt asset: new invocations go to fresh environments loading `codeDir`, invocations
   * under way finish on the old code.
   */
  async swapCode(fn: LocalFunction, codeDir: string): Promise<void> {
    const old = this.hosts.get(fn.name);
    const options = this.hostOptions.get(fn.name);
    if (!old || !options) return;
    this.hosts.set(fn.name, new FunctionHost({ ...fn, codeDir }, options));
    await old.close();
  }

  /** What outputs.json holds. */
  outputs(): RunnerOutputs {
    const m = this.model;
    return {
      endpoint: this.target.endpoint,
      lambdaEndpoint: this.lambdaEndpoint,
      dashboardUrl: this.dashboardUrl ?? '',
      region: m.region,
      queues: Object.fromEntries(
        m.queues.map((q) => [
          q.displayName,
          {
            url: q.url,
            arn: q.arn,
            fifo: q.fifo,
            ...(q.deadLetter ? { dlqUrl: m.queues.find((d) => d.arn === q.deadLetter?.arn)?.url } : {}),
          },
        ]),
      ),
      topics: Object.fromEntries(m.topics.map((t) => [t.displayName, { arn: t.arn, fifo: t.fifo }])),
      functions: Object.fromEntries(m.functions.map((f) => [f.displayName, { name: f.name, arn: f.arn }])),
    };
  }

  private writeOutputs(): void {
    const dir = resolve(this.options.stateDir ?? STATE_DIR);
    mkdirSync(dir, { recursive: true });
    writeOutputs(dir, this.outputs());
  }

  /** Samples every queue's depth (visible + delayed) into the recorder. */
  async sampleDepths(): Promise<void> {
    await Promise.all(
      this.model.queues.map(async (q) => {
        try {
          const { Attributes } = await this.sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: q.url,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
            }),
          );
          this.recorder.setDepth(
            q.displayName,
            Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
              Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0),
          );
        } catch {
          // a sample missed is not worth a line; the next one comes in a second
        }
      }),
    );
  }

  /** Waits until no expected delivery is pending (or `timeoutMs` passes); true when everything settled. */
  async drain(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !signal?.aborted) {
      if (this.recorder.pendingDeliveries() === 0) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.recorder.pendingDeliveries() === 0;
  }

  /** Dumps the traces for `queuekit trace` after the run. */
  dumpTraces(): string {
    const path = join(resolve(this.options.stateDir ?? STATE_DIR), 'traces.json');
    this.recorder.dump(path);
    return path;
  }

  /**
   * Stops cleanly: no new receives, in-flight invocations finish and their deletes land (what is not deleted comes
   * back after its visibility timeout: nothing is lost), then the environments, servers and target close.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearInterval(this.depthTimer);
      await Promise.all(this.pollers.map((p) => p.stop()));
      await Promise.all([...this.hosts.values()].map((h) => h.close()));
      await this.dashboard?.close();
      await this.gateway?.close();
      this.sqs.destroy();
      await this.target.close();
    })();
    return this.stopped;
  }
}
