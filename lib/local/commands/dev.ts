/**
 * `queuekit dev` (what `npm start` runs): synthesize the app, provision it on a target, run its functions and
 * event source mappings, drive the scenario through its producer with live progress, and exit 0 only when every
 * message was processed or dead-lettered. `--watch` keeps it running and swaps a handler when its source changes.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { watch } from 'chokidar';
import { type Command, InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { findElement } from '../app-model.js';
import { loadAppModel } from '../app-model-loader.js';
import { readCloudAssembly } from '../cloud-assembly.js';
import { LocalRunnerError } from '../errors.js';
import type { RunSummary } from '../flow-recorder.js';
import { STATE_DIR } from '../limits.js';
import { LocalRunner } from '../local-runner.js';
import { ProgressView, renderSummary } from '../progress-view.js';
import { defaultPlan, driveScenario, type ScenarioDefinition } from '../scenario.js';
import { readCdkApp, synthesize } from '../synth.js';

export interface DevOptions {
  readonly assembly?: string;
  readonly target: string;
  readonly persist?: string;
  readonly timeScale?: number;
  readonly iam: boolean;
  readonly messages?: number;
  readonly rate: number;
  readonly watch: boolean;
  readonly json: boolean;
  readonly scenario?: string;
  readonly maxConcurrency?: number;
  readonly lambdaPort?: number;
  readonly dashboardPort?: number;
  readonly drainTimeout: number;
  readonly stateDir: string;
}

/** The scenario's time scale when none is given: a 180 s visibility timeout becomes 2 s, so poison messages reach their DLQ in seconds. */
export const SCENARIO_TIME_SCALE = 0.01;

const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number.`);
  return n;
};
const wholePositive = (name: string) => (value: string) => {
  const n = positive(name)(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number.`);
  return n;
};

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description(
      'Run the CDK app locally with no Docker: synthesize it, provision its queues, topics and subscriptions on the ' +
        'embedded emulator (or LocalStack, or an endpoint), run its Lambda functions from their bundled assets with ' +
        "Lambda's SQS event-source semantics, serve the Lambda Invoke API and a live page, and drive the app's " +
        'scenario with live progress. Exits 0 only when every message was processed or dead-lettered.',
    )
    .option('--assembly <dir>', 'use this cloud assembly instead of synthesizing cdk.json’s app')
    .option('--target <target>', 'embedded | localstack | http(s)://endpoint', 'embedded')
    .option('--persist <dir>', 'embedded target: keep queues, topics and messages in this folder across restarts')
    .option(
      '--time-scale <factor>',
      `shrink visibility timeouts, retry backoff, batching windows and delays by this factor (default ${SCENARIO_TIME_SCALE} with a scenario, 1 with --watch)`,
      positive('--time-scale'),
    )
    .option('--no-iam', 'do not check AWS calls of functions against their roles')
    .option('--messages <n>', 'requests the scenario sends (default: about 15 s worth)', wholePositive('--messages'))
    .option('--rate <r>', 'steady scenario rate, requests per second (the burst is 10×)', positive('--rate'), 20)
    .option('--watch', 'keep running for manual use; rebuild and swap a handler when its source changes', false)
    .option('--json', 'print the summary as one JSON object on the last line of stdout', false)
    .option('--scenario <module>', 'scenario module (default: cdk.json context "queuekit:scenario")')
    .option(
      '--max-concurrency <n>',
      'invocations per function when nothing else caps it',
      wholePositive('--max-concurrency'),
    )
    .option(
      '--lambda-port <port>',
      'port of the Lambda Invoke API (default: any free port)',
      wholePositive('--lambda-port'),
    )
    .option(
      '--dashboard-port <port>',
      'port of the live page (default: any free port)',
      wholePositive('--dashboard-port'),
    )
    .option('--state-dir <dir>', 'where outputs.json and traces.json go', STATE_DIR)
    .addOption(
      new Option('--drain-timeout <seconds>', 'how long to wait for the last messages after the scenario')
        .argParser(positive('--drain-timeout'))
        .default(90),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ queuekit dev                               # npm start: the scenario on the embedded emulator, then a summary
  $ queuekit dev --watch                       # keep running; invoke with 'queuekit invoke', watch the live page
  $ queuekit dev --messages 2000 --rate 50 --json
  $ queuekit dev --target localstack           # LocalStack at AWS_ENDPOINT_URL or http://127.0.0.1:4566
  $ queuekit dev --persist .queuekit/state --watch

Outputs (.queuekit/outputs.json) give the endpoint, the Lambda endpoint, the live page and every queue, topic and
function, for 'queuekit send|peek|redrive|invoke|trace' and for your own SDK clients.`,
    )
    .action(async (options: DevOptions) => {
      try {
        process.exitCode = await runDev(options);
      } catch (error) {
        if (error instanceof LocalRunnerError) {
          console.error(`${pc.red('queuekit dev:')} ${error.message}`);
          process.exitCode = 2;
          return;
        }
        throw error;
      }
    });
}

async function loadScenario(path: string): Promise<ScenarioDefinition> {
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
  const module = (await import(url)) as { default?: ScenarioDefinition };
  const scenario = module.default;
  if (!scenario || typeof scenario.payload !== 'function' || typeof scenario.producer !== 'string') {
    throw new LocalRunnerError(
      `${path} does not default-export a scenario ({ producer, payload }). Fix: see bin/scenario.ts of the reference app.`,
    );
  }
  return scenario;
}

/** Runs `queuekit dev`; resolves to the exit code. */
export async function runDev(options: DevOptions): Promise<number> {
  const started = Date.now();
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const app = options.assembly ? undefined : readCdkApp();
  const context = app?.context ?? (existsSync('cdk.json') ? readCdkApp().context : {});
  const scenarioPath = options.scenario ?? (context['queuekit:scenario'] as string | undefined);
  const runScenario = scenarioPath !== undefined && (!options.watch || options.messages !== undefined);
  const timeScale = options.timeScale ?? (runScenario ? SCENARIO_TIME_SCALE : 1);

  let assembly = options.assembly ? resolve(options.assembly) : '';
  if (app) {
    const synth = await synthesize(app);
    assembly = synth.assembly;
    err(
      synth.synthesized
        ? `synthesized ${app.app} in ${(synth.durationMs / 1000).toFixed(1)} s`
        : 'cdk.out is newer than every source file: reusing it (touch a source or delete cdk.out to synthesize)',
    );
  }
  const scenario = runScenario && scenarioPath ? await loadScenario(scenarioPath) : undefined;

  const runner = await LocalRunner.start({
    assembly,
    target: options.target,
    persistDir: options.persist,
    timeScale,
    iam: options.iam,
    maxConcurrency: options.maxConcurrency,
    lambdaPort: options.lambdaPort,
    dashboardPort: options.dashboardPort,
    stateDir: options.stateDir,
    onNotice: err,
  });
  const m = runner.model;
  err(
    [
      pc.green(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`) +
        ` · ${runner.target.description} · time scale ${timeScale}${options.iam ? '' : ' · IAM checks off'}`,
      `  ${m.queues.length} queues, ${m.topics.length} topics, ${m.subscriptions.length} subscriptions, ${m.functions.length} functions, ${m.mappings.length} event source mappings`,
      `  endpoint        ${runner.target.endpoint}`,
      `  Lambda API      ${runner.lambdaEndpoint}`,
      `  live page       ${runner.dashboardUrl}`,
      `  outputs         ${join(options.stateDir, 'outputs.json')}`,
      ...(m.unemulated.length
        ? [`  not emulated    ${m.unemulated.map((u) => `${u.type} ×${u.paths.length}`).join(', ')}`]
        : []),
    ].join('\n'),
  );

  const view = new ProgressView({
    heading: `queuekit dev · ${runner.target.description} · time scale ${timeScale}`,
    live: process.stderr.isTTY === true && !options.json,
    write: err,
  });
  const ticker = setInterval(() => view.update(runner.recorder.snapshot()), 250);
  const stopSignal = new AbortController();
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted > 1) {
      err('second Ctrl-C: exiting now; messages in flight come back after their visibility timeout.');
      process.exit(130);
    }
    err('stopping: letting in-flight invocations finish (Ctrl-C again to force)…');
    stopSignal.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  let code = 0;
  let summary: RunSummary | undefined;
  try {
    if (scenario) {
      const producer = findElement(m.functions, scenario.producer);
      if (!producer) {
        throw new LocalRunnerError(
          `the scenario's producer "${scenario.producer}" is not a function of the app (functions: ${m.functions.map((f) => f.displayName).join(', ')}). Fix: set "producer" in ${scenarioPath}.`,
        );
      }
      const plan = defaultPlan(options.rate, options.messages);
      const drive = await driveScenario(
        scenario,
        plan,
        async (payload) => {
          const result = await runner.invoke(producer, payload);
          if (!result.ok) return { ok: false, error: `${result.errorType}: ${result.errorMessage}` };
          const failed = [result.result].flat().filter((r) => (r as { ok?: boolean } | null)?.ok === false);
          return failed.length ? { ok: false, error: JSON.stringify(failed[0]) } : { ok: true };
        },
        stopSignal.signal,
      );
      const drained = await runner.drain(options.drainTimeout * 1000, stopSignal.signal);
      await runner.sampleDepths();
      view.update(runner.recorder.snapshot());
      summary = runner.recorder.summary();
      if (drive.failedInvocations > 0) {
        view.log(pc.red(`${drive.failedInvocations} producer invocations failed, e.g. ${drive.errors[0]}`));
        code = 1;
      }
      if (stopSignal.signal.aborted) {
        view.log(
          pc.yellow(
            `interrupted: ${summary.lost} deliveries not processed yet; they stay in their queues (what was received comes back after its visibility timeout)`,
          ),
        );
        code = 130;
      } else {
        if (!drained)
          view.log(pc.yellow(`still waiting on ${summary.lost} deliveries after ${options.drainTimeout} s`));
        if (summary.lost > 0 || summary.orderViolations > 0) code = 1;
      }
    }
    if (options.watch) {
      err(pc.dim('watching sources; Ctrl-C stops cleanly'));
      const watcher = app ? watchSources(runner, app, err) : undefined;
      await new Promise<void>((r) => stopSignal.signal.addEventListener('abort', () => r(), { once: true }));
      await watcher?.close();
    }
  } finally {
    clearInterval(ticker);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await runner.stop();
    view.update(runner.recorder.snapshot());
    view.done();
    const traces = runner.dumpTraces();
    summary ??= runner.recorder.summary();
    err(`${renderSummary(summary)}\n${pc.dim(`traces: ${traces} ('queuekit trace <messageId>')`)}`);
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  return code;
}

/** Re-synthesizes on source changes and swaps the code of every function whose asset changed. */
function watchSources(runner: LocalRunner, app: ReturnType<typeof readCdkApp>, log: (line: string) => void) {
  let running: Promise<void> | undefined;
  let again = false;
  const rebuild = async () => {
    try {
      const synth = await synthesize(app, { force: true });
      const next = await loadAppModel(readCloudAssembly(synth.assembly));
      for (const fn of next.functions) {
        const current = runner.model.functions.find(
          (f) => f.logicalId === fn.logicalId && f.stackName === fn.stackName,
        );
        if (current && current.codeDir !== fn.codeDir) {
          await runner.swapCode(current, fn.codeDir);
          log(pc.cyan(`swapped ${fn.displayName} (${(synth.durationMs / 1000).toFixed(1)} s rebuild)`));
        }
      }
      const shape = (model: typeof next) => model.queues.length + model.topics.length + model.subscriptions.length;
      if (shape(next) !== shape(runner.model))
        log(pc.yellow('queues, topics or subscriptions changed: restart queuekit dev to provision them'));
    } catch (error) {
      log(pc.red(`rebuild failed, still running the previous code: ${(error as Error).message}`));
    }
  };
  const trigger = () => {
    if (running) {
      again = true;
      return;
    }
    running = rebuild().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        trigger();
      }
    });
  };
  const watcher = watch(
    app.include.map((g) => g.replace(/\/\*\*.*$/, '')),
    { cwd: app.directory, ignoreInitial: true, ignored: (p: string) => /node_modules|cdk\.out|\.queuekit/.test(p) },
  );
  watcher.on('all', trigger);
  return { close: () => watcher.close() };
}
