/**
 * The runner's memory of the message flow: per-message traces (bounded), counters per queue, topic, subscription
 * and function, end-to-end latency, and the accounting that decides whether every published message ended
 * processed or dead-lettered.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Message } from '@aws-sdk/client-sqs';
import * as hdr from 'hdr-histogram-js';
import type { AppModel, LocalQueue } from './app-model.js';
import type { FlowEvent, FlowSnapshot, MessageTrace, QueueCounters } from './flow-events.js';
import type { SubscriptionRouter, TopicMessageAttribute } from './subscription-routing.js';

/** What the runner learns about a publish or send (from its AWS gateway or the scenario driver). */
export interface PublishRecord {
  readonly messageId: string;
  readonly topicArn?: string;
  readonly queueArn?: string;
  readonly body: string;
  readonly attributes?: Readonly<Record<string, TopicMessageAttribute>>;
  readonly groupId?: string;
  /** Function that published it. */
  readonly by?: string;
  /** When it was sent (epoch ms). @default now */
  readonly at?: number;
}

export interface FlowRecorderOptions {
  readonly router?: SubscriptionRouter;
  readonly timeScale?: number;
  /** Messages whose trace is kept; the oldest are dropped first. @default 20_000 */
  readonly maxTracedMessages?: number;
  /** Events kept per message. @default 64 */
  readonly maxEventsPerMessage?: number;
  /** Invocations running now, by function display name. */
  readonly runningOf?: (functionDisplayName: string) => number;
}

/** The `--json` summary. */
export interface RunSummary {
  readonly published: number;
  readonly queues: Record<
    string,
    { received: number; succeeded: number; retried: number; deadLettered: number; inFlight: number }
  >;
  /** Deliveries that should have happened and ended neither processed nor dead-lettered. */
  readonly lost: number;
  readonly orderViolations: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly durationMs: number;
}

type Settlement = 'pending' | 'succeeded' | 'dead-lettered';

const THROUGHPUT_WINDOW_S = 5;

interface Trace {
  events: FlowEvent[];
  truncated: boolean;
}

export class FlowRecorder {
  readonly startedAt = Date.now();
  private readonly traces = new Map<string, Trace>();
  /**
   * Traces in the order they were created, for dropping the oldest. `traces.keys().next()` would find it, but a Map
   * appended to at the end and deleted from at the front keeps the deleted slots until it rehashes, and that
   * iteration walks over all of them: about 10 µs per delivery once 20,000 messages are traced. An entry whose
   * trace is no longer the one in `traces` (deleted, or created again since) is skipped.
   */
  private traceOrder: { id: string; trace: Trace }[] = [];
  private traceOrderHead = 0;
  private readonly queueCounters = new Map<string, QueueCounters>();
  private readonly topicCounters = new Map<string, { published: number }>();
  private readonly subscriptionCounters = new Map<string, { delivered: number; filtered: number }>();
  private readonly functionCounters = new Map<
    string,
    { invocations: number; errors: number; requestIds: Set<string> }
  >();
  private readonly latency = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 2,
  });
  private readonly deliveries = new Map<string, string>();
  private readonly rawPending = new Map<string, string[]>();
  private readonly orphans = new Map<string, string[]>();
  private readonly rawQueues: Set<string>;
  private readonly settlements = new Map<string, Settlement>();
  private readonly fifoProgress = new Map<string, bigint>();
  private readonly sequenceOf = new Map<string, { group: string; sequence: bigint }>();
  private readonly succeededPerSecond = new Map<number, number>();
  private readonly queueByArn: Map<string, LocalQueue>;
  private readonly consumed: Set<string>;
  private published = 0;
  private violations = 0;
  private readonly maxTraced: number;
  private readonly maxEvents: number;

  constructor(
    private readonly model: AppModel,
    private readonly options: FlowRecorderOptions = {},
  ) {
    this.maxTraced = options.maxTracedMessages ?? 20_000;
    this.maxEvents = options.maxEventsPerMessage ?? 64;
    this.queueByArn = new Map(model.queues.map((q) => [q.arn, q]));
    this.rawQueues = new Set(model.subscriptions.filter((s) => s.rawMessageDelivery).map((s) => s.queueArn));
    this.consumed = new Set(model.mappings.filter((m) => m.enabled).map((m) => m.queueArn));
    for (const q of model.queues) {
      this.queueCounters.set(q.displayName, {
        depth: 0,
        inFlight: 0,
        received: 0,
        succeeded: 0,
        retried: 0,
        deadLettered: 0,
      });
    }
    for (const t of model.topics) this.topicCounters.set(t.displayName, { published: 0 });
    for (const s of model.subscriptions) this.subscriptionCounters.set(s.displayName, { delivered: 0, filtered: 0 });
    for (const f of model.functions)
      this.functionCounters.set(f.displayName, { invocations: 0, errors: 0, requestIds: new Set() });
  }

  /** Records a publish or send: the `published` event, the routing of a topic message, and what is now expected. */
  recordPublish(p: PublishRecord): void {
    const topic = p.topicArn ? this.model.topics.find((t) => t.arn === p.topicArn) : undefined;
    const queue = p.queueArn ? this.queueByArn.get(p.queueArn) : undefined;
    const at = p.at ?? Date.now();
    this.record({
      type: 'published',
      at,
      messageId: p.messageId,
      target: topic?.displayName ?? queue?.displayName ?? p.topicArn ?? p.queueArn ?? '?',
      targetKind: topic || p.topicArn ? 'topic' : 'queue',
      groupId: p.groupId,
      by: p.by,
    });
    if (queue) {
      this.expect(queue, p.messageId);
      return;
    }
    if (!p.topicArn || !this.options.router) return;
    for (const route of this.options.router.route(p.topicArn, { body: p.body, attributes: p.attributes ?? {} })) {
      this.record({
        type: 'routed',
        at,
        messageId: p.messageId,
        subscription: route.subscription.displayName,
        queue: route.queue.displayName,
        delivered: route.delivered,
        reason: route.reason,
      });
      if (!route.delivered) continue;
      this.expect(route.queue, p.messageId);
      if (route.subscription.rawMessageDelivery) {
        const key = `${route.queue.arn}|${digest(p.body)}`;
        const orphan = this.orphans.get(key)?.shift();
        if (orphan) this.link(orphan, p.messageId, route.queue.displayName);
        else {
          const waiting = this.rawPending.get(key) ?? [];
          waiting.push(p.messageId);
          this.rawPending.set(key, waiting);
        }
      }
    }
  }

  /**
   * The published id a delivery belongs to: the SNS message id inside an envelope, the publish matched by body for
   * raw delivery, else the SQS message id (a direct send).
   */
  messageIdOf(queue: LocalQueue, message: Message): string {
    const deliveryId = message.MessageId ?? '';
    const known = this.deliveries.get(deliveryId);
    if (known) return known;
    const body = message.Body ?? '';
    let id = deliveryId;
    if (body.startsWith('{') && body.includes('"TopicArn"')) {
      const plain = plainEnvelopeMessageId(body);
      if (plain !== undefined) id = plain;
      else {
        try {
          const envelope = JSON.parse(body) as { Type?: string; MessageId?: string };
          if (envelope.Type === 'Notification' && envelope.MessageId) id = envelope.MessageId;
        } catch {
          // not an envelope
        }
      }
    } else {
      const key = `${queue.arn}|${digest(body)}`;
      const waiting = this.rawPending.get(key);
      if (waiting?.length) {
        id = waiting.shift() as string;
        if (waiting.length === 0) this.rawPending.delete(key);
      } else if (this.rawQueues.has(queue.arn)) {
        // Delivered before the publisher's response reached the gateway: linked when it does.
        const orphans = this.orphans.get(key) ?? [];
        orphans.push(deliveryId);
        this.orphans.set(key, orphans);
      }
    }
    this.deliveries.set(deliveryId, id);
    return id;
  }

  /** Records one event: trace, counters, settlement. */
  record(recorded: FlowEvent): void {
    let event = recorded;
    // A raw delivery's trace id is taken at receive time: when its publish record linked it since (an orphan),
    // its later events still carry the delivery id and must count for the publish.
    if ('deliveryId' in event && event.messageId === event.deliveryId) {
      const linked = this.deliveries.get(event.deliveryId);
      if (linked !== undefined && linked !== event.messageId) event = { ...event, messageId: linked };
    }
    this.trace_(event);
    switch (event.type) {
      case 'published':
        this.published++;
        if (event.targetKind === 'topic') this.bump(this.topicCounters, event.target, 'published');
        break;
      case 'routed': {
        const c = this.subscriptionCounters.get(event.subscription);
        if (c) event.delivered ? c.delivered++ : c.filtered++;
        break;
      }
      case 'received': {
        const c = this.counters(event.queue);
        c.received++;
        c.inFlight++;
        if (event.sequenceNumber && event.groupId) {
          this.sequenceOf.set(event.deliveryId, {
            group: `${event.queue}|${event.groupId}`,
            sequence: BigInt(event.sequenceNumber),
          });
        }
        break;
      }
      case 'attempt': {
        const f = this.functionCounters.get(event.function);
        if (f && !f.requestIds.has(event.requestId)) {
          f.requestIds.add(event.requestId);
          f.invocations++;
          if (event.outcome !== 'succeeded' && event.outcome !== 'partial') f.errors++;
          if (f.requestIds.size > 1000) f.requestIds.clear();
        }
        break;
      }
      case 'deleted': {
        const c = this.counters(event.queue);
        c.succeeded++;
        c.inFlight = Math.max(0, c.inFlight - 1);
        this.latency.recordValue(Math.max(1, Math.round(event.latencyMs)));
        const second = Math.floor(event.at / 1000);
        this.succeededPerSecond.set(second, (this.succeededPerSecond.get(second) ?? 0) + 1);
        this.settle(event.queue, event.messageId, 'succeeded');
        this.checkOrder(event.deliveryId);
        break;
      }
      case 'retry-scheduled': {
        const c = this.counters(event.queue);
        c.retried++;
        c.inFlight = Math.max(0, c.inFlight - 1);
        break;
      }
      case 'dead-lettered': {
        const c = this.counters(event.queue);
        c.deadLettered++;
        c.inFlight = Math.max(0, c.inFlight - 1);
        this.settle(event.queue, event.messageId, 'dead-lettered');
        this.sequenceOf.delete(event.deliveryId);
        break;
      }
    }
  }

  /** Updates queue depths from the target (ApproximateNumberOfMessages + delayed). */
  setDepth(queueDisplayName: string, depth: number): void {
    this.counters(queueDisplayName).depth = depth;
  }

  snapshot(): FlowSnapshot {
    const now = Date.now();
    const nowSecond = Math.floor(now / 1000);
    let recent = 0;
    for (const [second, n] of this.succeededPerSecond) {
      if (second > nowSecond - THROUGHPUT_WINDOW_S && second <= nowSecond) recent += n;
      else if (second <= nowSecond - THROUGHPUT_WINDOW_S) this.succeededPerSecond.delete(second);
    }
    const window = Math.min(THROUGHPUT_WINDOW_S, Math.max(1, (now - this.startedAt) / 1000));
    return {
      at: now,
      elapsedMs: now - this.startedAt,
      timeScale: this.options.timeScale ?? 1,
      published: this.published,
      throughput: Math.round(recent / window),
      p50Ms: this.latency.totalCount ? this.latency.getValueAtPercentile(50) : 0,
      p99Ms: this.latency.totalCount ? this.latency.getValueAtPercentile(99) : 0,
      queues: Object.fromEntries([...this.queueCounters].map(([k, v]) => [k, { ...v }])),
      topics: Object.fromEntries([...this.topicCounters].map(([k, v]) => [k, { ...v }])),
      subscriptions: Object.fromEntries([...this.subscriptionCounters].map(([k, v]) => [k, { ...v }])),
      functions: Object.fromEntries(
        [...this.functionCounters].map(([k, v]) => [
          k,
          { invocations: v.invocations, errors: v.errors, running: this.options.runningOf?.(k) ?? 0 },
        ]),
      ),
    };
  }

  trace(messageId: string): MessageTrace | undefined {
    const direct = this.traces.get(messageId) ?? this.traces.get(this.deliveries.get(messageId) ?? '');
    if (!direct) return undefined;
    const id = this.traces.has(messageId) ? messageId : (this.deliveries.get(messageId) as string);
    return { messageId: id, events: [...direct.events], truncated: direct.truncated };
  }

  recentMessageIds(limit: number): string[] {
    const ids = [...this.traces.keys()];
    return ids.slice(Math.max(0, ids.length - limit)).reverse();
  }

  /** Deliveries still expected (not yet processed or dead-lettered). */
  pendingDeliveries(): number {
    let pending = 0;
    for (const state of this.settlements.values()) if (state === 'pending') pending++;
    return pending;
  }

  summary(): RunSummary {
    const queues: RunSummary['queues'] = {};
    for (const [name, c] of this.queueCounters) {
      if (c.received === 0 && !this.isConsumed(name)) continue;
      queues[name] = {
        received: c.received,
        succeeded: c.succeeded,
        retried: c.retried,
        deadLettered: c.deadLettered,
        inFlight: c.inFlight,
      };
    }
    const snapshot = this.snapshot();
    return {
      published: this.published,
      queues,
      lost: this.pendingDeliveries(),
      orderViolations: this.violations,
      p50Ms: snapshot.p50Ms,
      p99Ms: snapshot.p99Ms,
      durationMs: Date.now() - this.startedAt,
    };
  }

  /** Writes every kept trace to `path` (for `queuekit trace` after the run). */
  dump(path: string): void {
    const traces = Object.fromEntries([...this.traces].map(([id, t]) => [id, t]));
    writeFileSync(
      path,
      JSON.stringify({ writtenAt: new Date().toISOString(), deliveries: Object.fromEntries(this.deliveries), traces }),
    );
  }

  /** Moves what was recorded under a raw delivery's own id to the publish it turned out to belong to. */
  private link(deliveryId: string, messageId: string, queue: string): void {
    this.deliveries.set(deliveryId, messageId);
    const orphan = this.traces.get(deliveryId);
    if (!orphan) return;
    this.traces.delete(deliveryId);
    for (const event of orphan.events) {
      this.trace_({ ...event, messageId } as FlowEvent);
      if (event.type === 'deleted') this.settle(queue, messageId, 'succeeded');
      if (event.type === 'dead-lettered') this.settle(queue, messageId, 'dead-lettered');
    }
  }

  private isConsumed(displayName: string): boolean {
    const queue = this.model.queues.find((q) => q.displayName === displayName);
    return queue !== undefined && this.consumed.has(queue.arn);
  }

  private expect(queue: LocalQueue, messageId: string): void {
    // A queue nobody consumes keeps its messages: they are accounted for as stored.
    const key = `${queue.displayName}|${messageId}`;
    // The delivery may have been processed before the publisher's response came back: keep what it became.
    if (this.consumed.has(queue.arn) && !this.settlements.has(key)) this.settlements.set(key, 'pending');
  }

  private settle(queue: string, messageId: string, state: Settlement): void {
    this.settlements.set(`${queue}|${messageId}`, state);
  }

  private checkOrder(deliveryId: string): void {
    const seq = this.sequenceOf.get(deliveryId);
    if (!seq) return;
    this.sequenceOf.delete(deliveryId);
    const last = this.fifoProgress.get(seq.group);
    if (last !== undefined && seq.sequence < last) this.violations++;
    else this.fifoProgress.set(seq.group, seq.sequence);
  }

  private counters(queue: string): QueueCounters {
    let c = this.queueCounters.get(queue);
    if (!c) {
      c = { depth: 0, inFlight: 0, received: 0, succeeded: 0, retried: 0, deadLettered: 0 };
      this.queueCounters.set(queue, c);
    }
    return c;
  }

  private bump(map: Map<string, { published: number }>, key: string, field: 'published'): void {
    const c = map.get(key);
    if (c) c[field]++;
  }

  private trace_(event: FlowEvent): void {
    let trace = this.traces.get(event.messageId);
    if (!trace) {
      trace = { events: [], truncated: false };
      this.traces.set(event.messageId, trace);
      this.traceOrder.push({ id: event.messageId, trace });
      if (this.traces.size > this.maxTraced) this.dropOldestTrace();
    }
    if (trace.events.length >= this.maxEvents) {
      trace.truncated = true;
      return;
    }
    // Events come in time order, except a publish whose answer reached the runner after its delivery did.
    let i = trace.events.length;
    while (i > 0 && (trace.events[i - 1] as FlowEvent).at > event.at) i--;
    trace.events.splice(i, 0, event);
  }

  /** Drops the oldest trace still kept (see {@link traceOrder}). */
  private dropOldestTrace(): void {
    const order = this.traceOrder;
    while (this.traceOrderHead < order.length) {
      const { id, trace } = order[this.traceOrderHead++] as { id: string; trace: Trace };
      if (this.traces.get(id) === trace) {
        this.traces.delete(id);
        break;
      }
    }
    // Let go of the part already walked now and then: amortized O(1) per trace.
    if (this.traceOrderHead > 1024 && this.traceOrderHead * 2 > order.length) {
      this.traceOrder = order.slice(this.traceOrderHead);
      this.traceOrderHead = 0;
    }
  }
}

const ENVELOPE_START = '{"Type":"Notification","MessageId":"';

/**
 * The MessageId of an SNS notification written compactly with `Type` and `MessageId` first (as the embedded emulator
 * writes it), read without parsing the whole body (parsing it was about a sixth of the recorder's time per delivery);
 * undefined for any other shape, which is then parsed.
 */
function plainEnvelopeMessageId(body: string): string | undefined {
  if (!body.startsWith(ENVELOPE_START)) return undefined;
  const end = body.indexOf('"', ENVELOPE_START.length);
  if (end === -1) return undefined;
  const id = body.slice(ENVELOPE_START.length, end);
  return id !== '' && !id.includes('\\') ? id : undefined;
}

function digest(body: string): string {
  return createHash('sha1').update(body).digest('base64');
}
