/**
 * The live page of a running app, in headless Chromium: traffic from the scenario driver (lib/local/scenario.ts
 * `driveScenario`, with the fixture's scenario through Publisher) must move its counters, and a message picked
 * from its list must show that message's trace.
 *
 * With `QUEUEKIT_SCREENSHOT` set, the last test runs the REFERENCE app (its `cdk.out`, synthesized by `npm run
 * synth`, on the embedded target whatever QUEUEKIT_TARGET says: its physical names are those of the stack the
 * LocalStack suite deploys) under its own scenario and saves `docs/live-page.png`; without a reference `cdk.out`
 * only that screenshot is skipped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bin from '../../bin/scenario.js';
import { findElement } from '../../lib/local/app-model.js';
import { LocalRunner } from '../../lib/local/local-runner.js';
import { driveScenario, type ScenarioDefinition } from '../../lib/local/scenario.js';
import { launchBrowser, readNumber, screenshotIfAsked } from '../support/browser.js';
import scenario from './fixture-app/scenario.js';
import { allTraces, e2eContext, eventsOf, type FixtureRunner, startFixtureRunner } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REFERENCE_ASSEMBLY = join(ROOT, 'cdk.out');

/** Runs a scenario through the runner's own invoke, as `queuekit dev` does. */
function drive(runner: LocalRunner, definition: ScenarioDefinition, requests: number) {
  const producer = findElement(runner.model.functions, definition.producer);
  if (!producer) throw new Error(`no producer ${definition.producer}`);
  return driveScenario(definition, { requests, rate: 20, poisonShare: 0.1, transientShare: 0.2 }, async (payload) => {
    const result = await runner.invoke(producer, payload);
    return result.ok ? { ok: true } : { ok: false, error: `${result.errorType}: ${result.errorMessage}` };
  });
}

describe(`the live page of a running app (${e2eContext().target})`, () => {
  let f: FixtureRunner;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    f = await startFixtureRunner({ dashboard: true });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(f.runner.dashboardUrl as string);
  });
  afterAll(async () => {
    await browser?.close();
    await f?.stop();
  });

  it('moves its counters while the scenario drives traffic', async () => {
    const published = () => readNumber(page, '[data-testid="published"]');
    const workSucceeded = () => readNumber(page, '[data-testid="queue-row-Work"] [data-field=succeeded]');
    expect(await published()).toBe(0);
    const driving = drive(f.runner, scenario, 40);
    await expect.poll(published, { timeout: 10_000 }).toBeGreaterThan(0);
    const early = await published();
    await expect.poll(workSucceeded, { timeout: 10_000 }).toBeGreaterThan(0);
    const earlySucceeded = await workSucceeded();
    const result = await driving;
    expect(result).toMatchObject({ requests: 40, failedInvocations: 0 });
    await expect.poll(published, { timeout: 10_000 }).toBe(80);
    expect(early).toBeLessThan(80);
    await expect.poll(workSucceeded, { timeout: 15_000 }).toBeGreaterThan(earlySucceeded);
    // The page shows what the runner counts.
    await f.runner.drain(15_000);
    const counters = f.runner.recorder.snapshot().queues.Work;
    await expect.poll(workSucceeded, { timeout: 5_000 }).toBe(counters?.succeeded);
    await expect
      .poll(() => readNumber(page, '[data-testid="queue-row-Work"] [data-field=retried]'), { timeout: 5_000 })
      .toBeGreaterThan(0);
  });

  it('shows the trace of a message clicked in its list', async () => {
    const list = page.getByTestId('message-list');
    await expect.poll(() => list.locator('button').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    // A Work item that failed once and then succeeded, when the list still shows one; else the newest message.
    const retried = allTraces(f.runner).find(
      (t) => eventsOf(t, 'retry-scheduled').length > 0 && eventsOf(t, 'deleted').length > 0,
    );
    const ids = await list.locator('button').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('title')));
    const id = retried && ids.includes(retried.messageId) ? retried.messageId : (ids[0] as string);
    await list.locator(`button[title="${id}"]`).click();
    const trace = page.getByTestId('trace');
    await expect.poll(() => trace.locator('h2 .id').textContent(), { timeout: 5_000 }).toBe(id);
    const expected = f.runner.recorder.trace(id)?.events.length ?? 0;
    expect(expected).toBeGreaterThan(1);
    await expect.poll(() => trace.locator('li').count(), { timeout: 5_000 }).toBe(expected);
    const types = await trace.locator('li .type').allTextContents();
    // Usually first; a fast target can deliver before the publish response is recorded (a known ordering race).
    expect(types).toContain('published');
    if (id === retried?.messageId) {
      expect(types).toEqual(expect.arrayContaining(['received', 'attempt', 'retry', 'deleted']));
    }
    expect(await trace.textContent()).not.toContain('undefined');
    expect(page.url()).toContain(`#message=${encodeURIComponent(id)}`);
  });

  it('logs no errors in the page', () => {
    expect(problems).toEqual([]);
  });

  it.skipIf(!process.env.QUEUEKIT_SCREENSHOT)(
    'saves docs/live-page.png of the reference app (QUEUEKIT_SCREENSHOT)',
    async (context) => {
      if (!existsSync(join(REFERENCE_ASSEMBLY, 'manifest.json'))) {
        context.skip(`no reference cdk.out at ${REFERENCE_ASSEMBLY} (npm run synth makes one): screenshot skipped`);
      }
      const runner = await LocalRunner.start({
        assembly: REFERENCE_ASSEMBLY,
        target: 'embedded',
        timeScale: 0.01,
        stateDir: f.stateDir,
      });
      const shot = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await drive(runner, bin, 60);
        await runner.drain(20_000);
        // A message that failed once and then succeeded, each delivery received and attempted once.
        const retried = allTraces(runner).find(
          (t) =>
            eventsOf(t, 'retry-scheduled').length > 0 &&
            eventsOf(t, 'deleted').length === 1 &&
            eventsOf(t, 'received').length === eventsOf(t, 'attempt').length,
        );
        const id = retried?.messageId ?? runner.recorder.recentMessageIds(1)[0];
        expect(id).toBeDefined();
        // Opened after the run, on the message named in its hash (the page selects it).
        await shot.goto(`${runner.dashboardUrl}#message=${encodeURIComponent(id as string)}`);
        await expect
          .poll(() => shot.getByTestId('trace').locator('li').count(), { timeout: 10_000 })
          .toBeGreaterThan(3);
        await new Promise((r) => setTimeout(r, 1200)); // one more snapshot, counters settled
        expect(await screenshotIfAsked(shot, join(ROOT, 'docs/live-page.png'))).toBe(true);
      } finally {
        await shot.close();
        await runner.stop();
      }
    },
  );
});
