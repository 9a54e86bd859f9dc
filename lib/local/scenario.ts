/**
 * The traffic `queuekit dev` drives through an app's producer: a steady rate, a burst of ten times that rate, then
 * steady again, with a small share of poison and transiently failing messages, all through the Lambda Invoke API of
 * the producer function, as a calling service would.
 *
 * An app names its scenario module in cdk.json (`"context": { "queuekit:scenario": "bin/scenario.ts" }`) or with
 * `--scenario`; the module's default export is a {@link ScenarioDefinition}.
 *
 * @module
 */

/** What a request in the scenario should do. */
export type RequestKind = 'normal' | 'poison' | 'transient-error';

export interface ScenarioDefinition {
  /** The producer function to invoke: display name (e.g. `SubmitJob`), construct path or physical name. */
  readonly producer: string;
  /** Builds the invocation payload for a batch of requests; `kinds[i]` says what request i should do. */
  payload(firstIndex: number, kinds: readonly RequestKind[]): unknown;
  /** Messages each request publishes (for the terminal's expectations). @default 1 */
  readonly messagesPerRequest?: number;
}

export interface ScenarioPlan {
  /** Requests in total. */
  readonly requests: number;
  /** Steady rate, requests per second. */
  readonly rate: number;
  /** Share of poison requests (fail on every delivery, end in a DLQ). @default 0.01 */
  readonly poisonShare?: number;
  /** Share of requests that fail once and succeed on retry. @default 0.02 */
  readonly transientShare?: number;
}

/** Seconds of steady traffic before the burst, and the burst's length and factor. */
export const SCENARIO_SHAPE = { steadyBeforeBurstS: 5, burstS: 3, burstFactor: 10, tickMs: 100 } as const;

/** The default plan: about 15 s of traffic at 20 requests/s with a 3 s burst at 200/s. */
export function defaultPlan(rate = 20, requests?: number): ScenarioPlan {
  const { steadyBeforeBurstS, burstS, burstFactor } = SCENARIO_SHAPE;
  const steadyAfterS = 15 - steadyBeforeBurstS - burstS;
  return {
    rate,
    requests: requests ?? Math.round(rate * (steadyBeforeBurstS + steadyAfterS) + rate * burstFactor * burstS),
  };
}

/** Requests per second at `elapsedMs` into the scenario. */
export function rateAt(plan: ScenarioPlan, elapsedMs: number): number {
  const { steadyBeforeBurstS, burstS, burstFactor } = SCENARIO_SHAPE;
  const s = elapsedMs / 1000;
  return s >= steadyBeforeBurstS && s < steadyBeforeBurstS + burstS ? plan.rate * burstFactor : plan.rate;
}

/**
 * Request kinds, deterministic: every 1/poisonShare-th request is poison, and so on, spread evenly. A transient slot
 * that falls on a poison request moves to the next request, so both shares hold (every 100th and every 50th
 * collide on every other transient slot).
 */
export function kindOf(plan: ScenarioPlan, index: number): RequestKind {
  const poisonEvery = Math.round(1 / (plan.poisonShare ?? 0.01));
  const transientEvery = Math.round(1 / (plan.transientShare ?? 0.02));
  const poison = (i: number) => i % poisonEvery === poisonEvery - 1;
  const transientSlot = (i: number) => i >= 0 && i % transientEvery === transientEvery - 1;
  if (poison(index)) return 'poison';
  if (transientSlot(index) || (transientSlot(index - 1) && poison(index - 1))) return 'transient-error';
  return 'normal';
}

export interface DriveResult {
  readonly requests: number;
  readonly invocations: number;
  readonly failedInvocations: number;
  readonly errors: readonly string[];
}

/**
 * Sends the plan's requests through `invoke` (one invocation per 100 ms tick carrying that tick's requests) and
 * resolves when all are sent. `signal` stops it early.
 */
export async function driveScenario(
  definition: ScenarioDefinition,
  plan: ScenarioPlan,
  invoke: (payload: unknown) => Promise<{ ok: boolean; error?: string }>,
  signal?: AbortSignal,
): Promise<DriveResult> {
  const started = Date.now();
  let sent = 0;
  let carry = 0;
  let invocations = 0;
  let failedInvocations = 0;
  const errors: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let lastTick = started;
  while (sent < plan.requests && !signal?.aborted) {
    const tickStart = Date.now();
    // Integrate the rate over the time that really passed: a tick the event loop delayed sends more, not less.
    carry += (rateAt(plan, tickStart - started) * (tickStart - lastTick)) / 1000;
    lastTick = tickStart;
    const count = Math.min(plan.requests - sent, Math.floor(carry));
    carry -= count;
    if (count > 0) {
      const first = sent;
      const kinds = Array.from({ length: count }, (_, i) => kindOf(plan, first + i));
      sent += count;
      invocations++;
      const p = invoke(definition.payload(first, kinds)).then((r) => {
        if (!r.ok) {
          failedInvocations++;
          if (errors.length < 10 && r.error) errors.push(r.error);
        }
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    const wait = SCENARIO_SHAPE.tickMs - (Date.now() - tickStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inFlight);
  return { requests: sent, invocations, failedInvocations, errors };
}
