/**
 * Where the runner's time goes in P4: one drain as bench/runner-bench.ts runs it, with the main thread's CPU
 * profile taken from the moment the pollers start to the moment the runner stops (set-up, pre-loading and the
 * environments' start are left out). Open the file in Chrome DevTools (Performance → Load profile) or VS Code.
 *
 * `npx tsx bench/runner-profile.ts [embedded|child] [deliveries per queue, default 10000] [out, default
 * runner-drain.cpuprofile]`
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventSourcePoller } from '../lib/local/event-source-poller.js';
import { LocalRunner } from '../lib/local/local-runner.js';
import { fixtureAssembly, oursDrain } from './runner-bench.js';

const [kindArg = 'embedded', perQueueArg = '10000', outArg = 'runner-drain.cpuprofile'] = process.argv.slice(2);
if (kindArg !== 'embedded' && kindArg !== 'child') {
  console.error('usage: runner-profile.ts [embedded|child] [deliveries per queue] [out.cpuprofile]');
  process.exit(2);
}
const kind = kindArg;
const perQueue = Number(perQueueArg);
const out = resolve(outArg);

const log = (line: string) => console.log(line);
const assembly = await fixtureAssembly(log);
const stateDir = mkdtempSync(join(tmpdir(), 'queuekit-profile-state-'));
const context = { quick: true, runs: 1, wants: () => true, log, assembly, stateDir };
const notices = new Set<string>();
try {
  await oursDrain(context, kind, 1_000, notices); // warm-up, not profiled

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  const start = EventSourcePoller.prototype.start;
  const stop = LocalRunner.prototype.stop;
  let profiling: Promise<unknown> | undefined;
  let written: Promise<void> | undefined;
  EventSourcePoller.prototype.start = function startProfiled(this: EventSourcePoller) {
    profiling ??= session.post('Profiler.start');
    start.call(this);
  };
  LocalRunner.prototype.stop = function stopProfiled(this: LocalRunner) {
    written ??= (async () => {
      await profiling;
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(out, JSON.stringify(profile));
    })();
    return written.then(() => stop.call(this));
  };
  const sample = await oursDrain(context, kind, perQueue, notices);
  EventSourcePoller.prototype.start = start;
  LocalRunner.prototype.stop = stop;
  session.disconnect();
  log(
    `${Math.round(sample.perSecond)} deliveries/s, ${sample.clientCpuUs.toFixed(0)} µs CPU per delivery (all threads), ` +
      `main thread on CPU ${Math.round(sample.mainThread.onCpu * 100)}%; profile of the main thread: ${out}`,
  );
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(0);
