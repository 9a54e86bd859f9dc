/**
 * The flow recorder on a hand-built app model with a real SubscriptionRouter (fauxqs's own filter-policy matcher):
 * routing and filtering of topic messages, the settlement of every expected delivery (including deliveries
 * processed before their publish record arrives, and raw deliveries matched by body), FIFO order checks, bounded
 * traces, the snapshot's throughput and latency percentiles, and the dump `queuekit trace` reads.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AppModel,
  LocalEventSourceMapping,
  LocalFunction,
  LocalQueue,
  LocalSubscription,
  LocalTopic,
} from '../../lib/local/app-model.js';
import { findTrace } from '../../lib/local/commands/trace.js';
import { LocalRunnerError } from '../../lib/local/errors.js';
import type { FlowEvent } from '../../lib/local/flow-events.js';
import { FlowRecorder, type PublishRecord } from '../../lib/local/flow-recorder.js';
import { SubscriptionRouter } from '../../lib/local/subscription-routing.js';

const STACK = 'App';
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

const element = (displayName: string, kind: string) => ({
  logicalId: `${displayName.replace(/\W/g, '')}${kind}`,
  stackName: STACK,
  path: `${STACK}/${displayName}/${kind}`,
  displayName,
});

function queue(displayName: string, fifo = false): LocalQueue {
  const name = `${STACK}-${displayName}${fifo ? '.fifo' : ''}`;
  return {
    ...element(displayName, 'Queue'),
    name,
    arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
    url: `http://127.0.0.1:1/${ACCOUNT}/${name}`,
    fifo,
    attributes: fifo ? { FifoQueue: 'true' } : {},
    deadLetterFor: [],
  };
}

function topic(displayName: string): LocalTopic {
  const name = `${STACK}-${displayName}`;
  return {
    ...element(displayName, 'Topic'),
    name,
    arn: `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`,
    fifo: false,
    attributes: {},
  };
}

function subscription(
  from: LocalTopic,
  to: LocalQueue,
  opts: Partial<Pick<LocalSubscription, 'rawMessageDelivery' | 'filterPolicy' | 'filterPolicyScope'>> = {},
): LocalSubscription {
  return {
    ...element(`${from.displayName} → ${to.displayName}`, 'Subscription'),
    topicArn: from.arn,
    queueArn: to.arn,
    rawMessageDelivery: opts.rawMessageDelivery ?? false,
    filterPolicyScope: opts.filterPolicyScope ?? 'MessageAttributes',
    ...(opts.filterPolicy && { filterPolicy: opts.filterPolicy }),
  };
}

function fn(displayName: string): LocalFunction {
  const name = `${STACK}-${displayName}`;
  return {
    ...element(displayName, 'Function'),
    name,
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    handler: 'index.handler',
    codeDir: '/nonexistent',
    runtime: 'nodejs22.x',
    timeoutSeconds: 3,
    memoryMb: 128,
    environment: {},
  };
}

function mapping(from: LocalQueue, to: LocalFunction, enabled = true): LocalEventSourceMapping {
  return {
    ...element(`${from.displayName} → ${to.displayName}`, 'Mapping'),
    functionName: to.name,
    queueArn: from.arn,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    reportBatchItemFailures: true,
    enabled,
  };
}

// The app: one topic fanning out to four queues (attribute filter, body filter, raw with a filter, and one nobody
// consumes), a FIFO queue fed directly, a DLQ, one worker consuming the four consumed queues.
const events = topic('Events');
const jobs = queue('Jobs');
const priority = queue('Priority');
const audit = queue('Audit');
const store = queue('Store');
const orders = queue('Orders', true);
const jobsDlq = queue('Jobs/DeadLetterQueue');
const worker = fn('Worker');
const JOBS_POLICY = { kind: ['image', 'text'] };
const PRIORITY_POLICY = { priority: ['high'] };
const subs = {
  jobs: subscription(events, jobs, { filterPolicy: JOBS_POLICY }),
  priority: subscription(events, priority, { filterPolicy: PRIORITY_POLICY, filterPolicyScope: 'MessageBody' }),
  audit: subscription(events, audit, { rawMessageDelivery: true, filterPolicy: { audit: ['yes'] } }),
  store: subscription(events, store),
};
const model: AppModel = {
  region: REGION,
  accountId: ACCOUNT,
  stacks: [STACK],
  queues: [jobs, priority, audit, store, orders, jobsDlq],
  topics: [events],
  subscriptions: Object.values(subs),
  functions: [worker],
  mappings: [mapping(jobs, worker), mapping(priority, worker), mapping(audit, worker), mapping(orders, worker)],
  unemulated: [],
};

let router: SubscriptionRouter;
beforeAll(async () => {
  router = await SubscriptionRouter.create(model);
});

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const recorder = (options: ConstructorParameters<typeof FlowRecorder>[1] = {}) =>
  new FlowRecorder(model, { router, ...options });

const attr = (value: string) => ({ DataType: 'String', StringValue: value });

function publish(r: FlowRecorder, messageId: string, opts: Partial<PublishRecord> = {}): void {
  r.recordPublish({ messageId, topicArn: events.arn, body: '{}', ...opts });
}

/** An SNS envelope as a subscribed queue receives it without raw delivery. */
function envelope(deliveryId: string, messageId: string, message = 'payload'): Message {
  return {
    MessageId: deliveryId,
    Body: JSON.stringify({ Type: 'Notification', MessageId: messageId, TopicArn: events.arn, Message: message }),
  };
}

/** Everything the poller reports for one delivery: received, the attempt, then deleted or retried/dead-lettered. */
function deliver(
  r: FlowRecorder,
  q: LocalQueue,
  messageId: string,
  deliveryId: string,
  end: 'deleted' | 'retry-scheduled' | 'dead-lettered' | 'none' = 'deleted',
  extra: { groupId?: string; sequenceNumber?: string; latencyMs?: number; requestId?: string } = {},
): void {
  const at = Date.now();
  const base = { at, messageId, deliveryId, queue: q.displayName };
  r.record({
    type: 'received',
    ...base,
    receiveCount: 1,
    ...(extra.groupId && { groupId: extra.groupId }),
    ...(extra.sequenceNumber && { sequenceNumber: extra.sequenceNumber }),
  });
  if (end === 'none') return;
  r.record({
    type: 'attempt',
    ...base,
    function: worker.displayName,
    requestId: extra.requestId ?? `req-${deliveryId}`,
    receiveCount: 1,
    outcome: end === 'deleted' ? 'succeeded' : 'failed',
    recordFailed: end !== 'deleted',
    durationMs: 5,
    logs: [],
  });
  if (end === 'deleted') r.record({ type: 'deleted', ...base, latencyMs: extra.latencyMs ?? 10 });
  if (end === 'retry-scheduled') r.record({ type: 'retry-scheduled', ...base, receiveCount: 1 });
  if (end === 'dead-lettered') {
    r.record({ type: 'dead-lettered', ...base, deadLetterQueue: jobsDlq.displayName, receiveCount: 3 });
  }
}

const types = (events: readonly FlowEvent[] | undefined): string[] => (events ?? []).map((e) => e.type);
const deliveryTypes = (events: readonly FlowEvent[] | undefined) =>
  types(events).filter((t) => t !== 'published' && t !== 'routed');

describe('publishing to a topic', () => {
  it('records the publish and one routed event per subscription, filtered ones with their policy as reason', () => {
    const r = recorder();
    publish(r, 'm1', {
      body: JSON.stringify({ priority: 'low' }),
      attributes: { kind: attr('image') },
      by: worker.displayName,
    });
    const trace = r.trace('m1');
    expect(trace?.messageId).toBe('m1');
    expect(trace?.truncated).toBe(false);
    const [published, ...routed] = trace?.events ?? [];
    expect(published).toMatchObject({
      type: 'published',
      messageId: 'm1',
      target: 'Events',
      targetKind: 'topic',
      by: 'Worker',
    });
    const byQueue = Object.fromEntries(routed.map((e) => [e.type === 'routed' ? e.queue : '?', e]));
    expect(Object.keys(byQueue).sort()).toEqual(['Audit', 'Jobs', 'Priority', 'Store']);
    expect(byQueue.Jobs).toMatchObject({ type: 'routed', delivered: true, subscription: subs.jobs.displayName });
    expect(byQueue.Jobs).not.toHaveProperty('reason', expect.anything());
    expect(byQueue.Store).toMatchObject({ delivered: true });
    expect(byQueue.Priority).toMatchObject({
      delivered: false,
      reason: `filter policy ${JSON.stringify(PRIORITY_POLICY)} on the message body did not match`,
    });
    expect(byQueue.Audit).toMatchObject({
      delivered: false,
      reason: 'filter policy {"audit":["yes"]} on the message attributes did not match',
    });

    const snapshot = r.snapshot();
    expect(snapshot.published).toBe(1);
    expect(snapshot.topics).toEqual({ Events: { published: 1 } });
    expect(snapshot.subscriptions[subs.jobs.displayName]).toEqual({ delivered: 1, filtered: 0 });
    expect(snapshot.subscriptions[subs.priority.displayName]).toEqual({ delivered: 0, filtered: 1 });
    expect(snapshot.subscriptions[subs.audit.displayName]).toEqual({ delivered: 0, filtered: 1 });
    expect(snapshot.subscriptions[subs.store.displayName]).toEqual({ delivered: 1, filtered: 0 });
  });

  it('routes on the body for a MessageBody policy', () => {
    const r = recorder();
    publish(r, 'm1', { body: JSON.stringify({ priority: 'high' }) });
    const routed = r.trace('m1')?.events.filter((e) => e.type === 'routed') ?? [];
    expect(routed.find((e) => e.type === 'routed' && e.queue === 'Priority')).toMatchObject({ delivered: true });
    expect(routed.find((e) => e.type === 'routed' && e.queue === 'Jobs')).toMatchObject({ delivered: false });
  });

  it('records a direct send to a queue, with its group', () => {
    const r = recorder();
    r.recordPublish({ messageId: 's1', queueArn: orders.arn, body: 'x', groupId: 'acme' });
    expect(r.trace('s1')?.events).toEqual([
      expect.objectContaining({ type: 'published', target: 'Orders', targetKind: 'queue', groupId: 'acme' }),
    ]);
    expect(r.snapshot().topics.Events?.published).toBe(0);
    expect(r.pendingDeliveries()).toBe(1);
  });

  it('records a publish without routing when there is no router', () => {
    const r = new FlowRecorder(model);
    publish(r, 'm1', { attributes: { kind: attr('image') } });
    expect(types(r.trace('m1')?.events)).toEqual(['published']);
    expect(r.pendingDeliveries()).toBe(0);
  });
});

describe('settlement', () => {
  it('expects a delivery on every consumed queue the message reaches, and settles it on delete or dead-letter', () => {
    const r = recorder();
    // Reaches Jobs (kind), Priority (body), Audit (audit) and Store (not consumed: stored, not expected).
    publish(r, 'm1', {
      body: JSON.stringify({ priority: 'high' }),
      attributes: { kind: attr('text'), audit: attr('yes') },
    });
    expect(r.pendingDeliveries()).toBe(3);
    expect(r.summary().lost).toBe(3);

    const jobsId = r.messageIdOf(jobs, envelope('d-jobs', 'm1'));
    expect(jobsId).toBe('m1');
    deliver(r, jobs, jobsId, 'd-jobs');
    expect(r.pendingDeliveries()).toBe(2);

    // A failed attempt that will be retried leaves it pending.
    const priorityId = r.messageIdOf(priority, envelope('d-prio', 'm1'));
    deliver(r, priority, priorityId, 'd-prio', 'retry-scheduled');
    expect(r.pendingDeliveries()).toBe(2);
    deliver(r, priority, priorityId, 'd-prio', 'dead-lettered');
    expect(r.pendingDeliveries()).toBe(1);

    const auditId = r.messageIdOf(audit, { MessageId: 'd-audit', Body: JSON.stringify({ priority: 'high' }) });
    expect(auditId).toBe('m1');
    deliver(r, audit, auditId, 'd-audit');
    expect(r.pendingDeliveries()).toBe(0);

    const summary = r.summary();
    expect(summary.lost).toBe(0);
    expect(summary.published).toBe(1);
    expect(summary.queues.Jobs).toEqual({ received: 1, succeeded: 1, retried: 0, deadLettered: 0, inFlight: 0 });
    expect(summary.queues.Priority).toEqual({ received: 2, succeeded: 0, retried: 1, deadLettered: 1, inFlight: 0 });
    expect(summary.queues.Audit).toEqual({ received: 1, succeeded: 1, retried: 0, deadLettered: 0, inFlight: 0 });
    // Consumed queues are listed even without receipts; a queue nobody consumes only once it received something.
    expect(summary.queues.Orders).toEqual({ received: 0, succeeded: 0, retried: 0, deadLettered: 0, inFlight: 0 });
    expect(summary.queues).not.toHaveProperty('Store');
    expect(summary.queues).not.toHaveProperty('Jobs/DeadLetterQueue');
  });

  it('counts a delivery still in flight as pending and in flight', () => {
    const r = recorder();
    publish(r, 'm1', { attributes: { kind: attr('image') } });
    deliver(r, jobs, r.messageIdOf(jobs, envelope('d1', 'm1')), 'd1', 'none');
    expect(r.pendingDeliveries()).toBe(1);
    expect(r.snapshot().queues.Jobs).toMatchObject({ received: 1, inFlight: 1, succeeded: 0 });
    expect(r.summary()).toMatchObject({ lost: 1, queues: { Jobs: { inFlight: 1 } } });
  });

  it('settles a delivery processed before its publish record arrives (race)', () => {
    const r = recorder();
    const id = r.messageIdOf(jobs, envelope('d1', 'm1'));
    expect(id).toBe('m1');
    deliver(r, jobs, id, 'd1');
    expect(r.pendingDeliveries()).toBe(0);
    publish(r, 'm1', { attributes: { kind: attr('image') } });
    expect(r.pendingDeliveries()).toBe(0);
    expect(r.summary().lost).toBe(0);
    expect(types(r.trace('m1')?.events)).toEqual([
      'received',
      'attempt',
      'deleted',
      'published',
      ...Array(4).fill('routed'),
    ]);
  });

  it('settles a direct send processed before its send record arrives', () => {
    const r = recorder();
    const id = r.messageIdOf(orders, { MessageId: 's1', Body: 'order' });
    expect(id).toBe('s1');
    deliver(r, orders, id, 's1');
    r.recordPublish({ messageId: 's1', queueArn: orders.arn, body: 'order' });
    expect(r.pendingDeliveries()).toBe(0);
  });

  it('maps a delivery id seen before back to its message id, and finds the trace by either', () => {
    const r = recorder();
    publish(r, 'm1', { attributes: { kind: attr('image') } });
    expect(r.messageIdOf(jobs, envelope('d1', 'm1'))).toBe('m1');
    // The second receive of the same delivery id need not be parsed again.
    expect(r.messageIdOf(jobs, { MessageId: 'd1', Body: 'not an envelope any more' })).toBe('m1');
    deliver(r, jobs, 'm1', 'd1');
    expect(r.trace('d1')?.messageId).toBe('m1');
    expect(r.trace('d1')?.events).toEqual(r.trace('m1')?.events);
    expect(r.trace('unknown')).toBeUndefined();
  });

  it('uses the SQS id for a body that only looks like an envelope', () => {
    const r = recorder();
    expect(r.messageIdOf(jobs, { MessageId: 'd1', Body: '{"TopicArn": broken' })).toBe('d1');
    expect(
      r.messageIdOf(jobs, { MessageId: 'd2', Body: JSON.stringify({ Type: 'Other', TopicArn: 'x', MessageId: 'z' }) }),
    ).toBe('d2');
  });
});

describe('raw delivery', () => {
  it('matches a raw delivery to its publish by body', () => {
    const r = recorder();
    publish(r, 'm1', { body: 'first raw body', attributes: { audit: attr('yes') } });
    publish(r, 'm2', { body: 'second raw body', attributes: { audit: attr('yes') } });
    expect(r.pendingDeliveries()).toBe(2);
    expect(r.messageIdOf(audit, { MessageId: 'd2', Body: 'second raw body' })).toBe('m2');
    expect(r.messageIdOf(audit, { MessageId: 'd1', Body: 'first raw body' })).toBe('m1');
    deliver(r, audit, 'm2', 'd2');
    deliver(r, audit, 'm1', 'd1');
    expect(r.pendingDeliveries()).toBe(0);
    expect(r.trace('d1')?.messageId).toBe('m1');
  });

  it('matches identical raw bodies to their publishes in order', () => {
    const r = recorder();
    publish(r, 'm1', { body: 'same', attributes: { audit: attr('yes') } });
    publish(r, 'm2', { body: 'same', attributes: { audit: attr('yes') } });
    expect(r.messageIdOf(audit, { MessageId: 'd1', Body: 'same' })).toBe('m1');
    expect(r.messageIdOf(audit, { MessageId: 'd2', Body: 'same' })).toBe('m2');
    expect(r.messageIdOf(audit, { MessageId: 'd3', Body: 'same' })).toBe('d3');
  });

  it('links a raw delivery received before its publish record (orphan) once the publish arrives', () => {
    const r = recorder();
    const early = r.messageIdOf(audit, { MessageId: 'd1', Body: 'early bird' });
    expect(early).toBe('d1');
    deliver(r, audit, early, 'd1');
    expect(r.trace('d1')?.messageId).toBe('d1');

    publish(r, 'm1', { body: 'early bird', attributes: { audit: attr('yes') } });
    expect(r.pendingDeliveries()).toBe(0);
    expect(r.summary().lost).toBe(0);
    const trace = r.trace('m1');
    // The linked delivery's events join the publish's trace, in the order they happened.
    expect(types(trace?.events).sort()).toEqual(
      ['published', 'routed', 'routed', 'routed', 'routed', 'received', 'attempt', 'deleted'].sort(),
    );
    expect(deliveryTypes(trace?.events)).toEqual(['received', 'attempt', 'deleted']);
    expect(trace?.events.every((e) => e.messageId === 'm1')).toBe(true);
    // The delivery id now leads to the publish's trace, and the orphan trace is gone.
    expect(r.trace('d1')?.messageId).toBe('m1');
    expect(r.recentMessageIds(10)).toEqual(['m1']);
  });

  it('links an orphan that is still pending and settles it later', () => {
    const r = recorder();
    const early = r.messageIdOf(audit, { MessageId: 'd1', Body: 'slow' });
    deliver(r, audit, early, 'd1', 'none');
    publish(r, 'm1', { body: 'slow', attributes: { audit: attr('yes') } });
    expect(r.pendingDeliveries()).toBe(1);
    expect(r.messageIdOf(audit, { MessageId: 'd1', Body: 'slow' })).toBe('m1');
    r.record({ type: 'deleted', at: Date.now(), messageId: 'm1', deliveryId: 'd1', queue: 'Audit', latencyMs: 3 });
    expect(r.pendingDeliveries()).toBe(0);
  });
  it('settles an orphan linked while in flight, whose later events still carry the delivery id', () => {
    // The poller takes the trace id at receive time: an orphan's attempt and delete come with the delivery id
    // even when the publish record arrived (and linked it) in between.
    const r = recorder();
    const early = r.messageIdOf(audit, { MessageId: 'd1', Body: 'in flight' });
    expect(early).toBe('d1');
    deliver(r, audit, early, 'd1', 'none');
    publish(r, 'm1', { body: 'in flight', attributes: { audit: attr('yes') } });
    expect(r.pendingDeliveries()).toBe(1);
    const base = { at: Date.now(), messageId: early, deliveryId: 'd1', queue: 'Audit' };
    r.record({
      type: 'attempt',
      ...base,
      function: 'Worker',
      requestId: 'r1',
      receiveCount: 1,
      outcome: 'succeeded',
      recordFailed: false,
      durationMs: 2,
      logs: [],
    });
    r.record({ type: 'deleted', ...base, latencyMs: 3 });
    expect(r.pendingDeliveries()).toBe(0);
    expect(r.summary().lost).toBe(0);
    expect(deliveryTypes(r.trace('m1')?.events)).toEqual(['received', 'attempt', 'deleted']);
    expect(r.trace('d1')?.messageId).toBe('m1');
  });
});

describe('FIFO order', () => {
  const seq = (n: number) => `1884949646046769${String(n).padStart(4, '0')}`;

  it('counts a violation when a lower sequence number succeeds after a higher one in the same group', () => {
    const r = recorder();
    deliver(r, orders, 's1', 's1', 'none', { groupId: 'acme', sequenceNumber: seq(100) });
    deliver(r, orders, 's2', 's2', 'none', { groupId: 'acme', sequenceNumber: seq(200) });
    deliver(r, orders, 's3', 's3', 'none', { groupId: 'globex', sequenceNumber: seq(150) });
    const del = (id: string) =>
      r.record({ type: 'deleted', at: Date.now(), messageId: id, deliveryId: id, queue: 'Orders', latencyMs: 1 });
    del('s2');
    del('s3'); // lower than s2, but another group
    expect(r.summary().orderViolations).toBe(0);
    del('s1');
    expect(r.summary().orderViolations).toBe(1);
    deliver(r, orders, 's4', 's4', 'deleted', { groupId: 'acme', sequenceNumber: seq(300) });
    expect(r.summary().orderViolations).toBe(1);
  });

  it('does not count in-order successes, nor a dead-lettered delivery', () => {
    const r = recorder();
    deliver(r, orders, 's1', 's1', 'deleted', { groupId: 'acme', sequenceNumber: seq(1) });
    deliver(r, orders, 's2', 's2', 'deleted', { groupId: 'acme', sequenceNumber: seq(2) });
    deliver(r, orders, 's0', 's0', 'dead-lettered', { groupId: 'acme', sequenceNumber: seq(0) });
    deliver(r, orders, 's3', 's3', 'deleted', { groupId: 'acme', sequenceNumber: seq(3) });
    expect(r.summary().orderViolations).toBe(0);
  });

  it('compares sequence numbers as numbers, not strings', () => {
    const r = recorder();
    deliver(r, orders, 'a', 'a', 'deleted', { groupId: 'g', sequenceNumber: '9' });
    deliver(r, orders, 'b', 'b', 'deleted', { groupId: 'g', sequenceNumber: '10' });
    expect(r.summary().orderViolations).toBe(0);
  });
});

describe('bounded traces', () => {
  it('keeps the newest maxTracedMessages traces', () => {
    const r = recorder({ maxTracedMessages: 3 });
    for (let i = 1; i <= 5; i++) r.recordPublish({ messageId: `s${i}`, queueArn: store.arn, body: `${i}` });
    expect(r.trace('s1')).toBeUndefined();
    expect(r.trace('s2')).toBeUndefined();
    for (const id of ['s3', 's4', 's5']) expect(r.trace(id)?.messageId).toBe(id);
    expect(r.recentMessageIds(10)).toEqual(['s5', 's4', 's3']);
    expect(r.recentMessageIds(2)).toEqual(['s5', 's4']);
    // Counters do not forget.
    expect(r.snapshot().published).toBe(5);
  });

  it('keeps the first maxEventsPerMessage events of a message and marks it truncated', () => {
    const r = recorder({ maxEventsPerMessage: 4 });
    r.recordPublish({ messageId: 'm1', queueArn: jobs.arn, body: 'x' });
    for (let i = 0; i < 3; i++) deliver(r, jobs, 'm1', 'd1', 'retry-scheduled');
    const trace = r.trace('m1');
    expect(trace?.events).toHaveLength(4);
    expect(trace?.truncated).toBe(true);
    expect(types(trace?.events)).toEqual(['published', 'received', 'attempt', 'retry-scheduled']);
    // The counters still saw every event.
    expect(r.snapshot().queues.Jobs).toMatchObject({ received: 3, retried: 3 });
    expect(r.trace('m2')).toBeUndefined();
  });

  it('returns a copy of the events', () => {
    const r = recorder();
    r.recordPublish({ messageId: 'm1', queueArn: jobs.arn, body: 'x' });
    (r.trace('m1')?.events as FlowEvent[]).length = 0;
    expect(r.trace('m1')?.events).toHaveLength(1);
  });
});

describe('snapshot', () => {
  it('reports throughput over the last seconds and latency percentiles', () => {
    const r = recorder({ timeScale: 0.1 });
    const now = Date.now();
    for (let i = 1; i <= 100; i++) {
      r.record({ type: 'deleted', at: now, messageId: `m${i}`, deliveryId: `d${i}`, queue: 'Jobs', latencyMs: i });
    }
    const snapshot = r.snapshot();
    const window = Math.min(5, Math.max(1, snapshot.elapsedMs / 1000));
    expect(snapshot.throughput).toBe(Math.round(100 / window));
    expect(snapshot.p50Ms).toBe(50);
    expect(snapshot.p99Ms).toBe(99);
    expect(snapshot.timeScale).toBe(0.1);
    const summary = r.summary();
    expect(summary.p50Ms).toBe(50);
    expect(summary.p99Ms).toBe(99);

    // An old success (outside the 5 s window) counts for latency and counters but not for throughput.
    r.record({ type: 'deleted', at: now - 60_000, messageId: 'old', deliveryId: 'old', queue: 'Jobs', latencyMs: 1 });
    const later = r.snapshot();
    expect(later.throughput).toBe(Math.round(100 / Math.min(5, Math.max(1, later.elapsedMs / 1000))));
    expect(later.queues.Jobs?.succeeded).toBe(101);
    expect(summary.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reports p99 of a skewed distribution, and zeros with no successes', () => {
    const r = recorder();
    expect(r.snapshot()).toMatchObject({ throughput: 0, p50Ms: 0, p99Ms: 0, published: 0, timeScale: 1 });
    for (let i = 0; i < 990; i++) {
      r.record({
        type: 'deleted',
        at: Date.now(),
        messageId: `f${i}`,
        deliveryId: `f${i}`,
        queue: 'Jobs',
        latencyMs: 10,
      });
    }
    for (let i = 0; i < 10; i++) {
      r.record({
        type: 'deleted',
        at: Date.now(),
        messageId: `s${i}`,
        deliveryId: `s${i}`,
        queue: 'Jobs',
        latencyMs: 2000,
      });
    }
    const { p50Ms, p99Ms } = r.snapshot();
    expect(p50Ms).toBe(10);
    expect(p99Ms).toBe(10);
    r.record({ type: 'deleted', at: Date.now(), messageId: 'x', deliveryId: 'x', queue: 'Jobs', latencyMs: 2000 });
    expect(r.snapshot().p99Ms).toBeGreaterThanOrEqual(1990);
    expect(r.snapshot().p99Ms).toBeLessThanOrEqual(2010);
  });

  it('counts function invocations once per request and errors for failed outcomes, with running from the callback', () => {
    const r = recorder({ runningOf: (name) => (name === 'Worker' ? 2 : 0) });
    const attempt = (
      requestId: string,
      outcome: 'succeeded' | 'partial' | 'failed' | 'timed-out',
      deliveryId: string,
    ) =>
      r.record({
        type: 'attempt',
        at: Date.now(),
        messageId: deliveryId,
        deliveryId,
        queue: 'Jobs',
        function: 'Worker',
        requestId,
        receiveCount: 1,
        outcome,
        recordFailed: outcome !== 'succeeded',
        durationMs: 1,
        logs: [],
      });
    attempt('r1', 'succeeded', 'a');
    attempt('r1', 'succeeded', 'b'); // same invocation, second record
    attempt('r2', 'partial', 'c');
    attempt('r3', 'failed', 'd');
    attempt('r4', 'timed-out', 'e');
    expect(r.snapshot().functions).toEqual({ Worker: { invocations: 4, errors: 2, running: 2 } });
  });

  it('takes queue depths as sampled', () => {
    const r = recorder();
    r.setDepth('Jobs', 42);
    expect(r.snapshot().queues.Jobs?.depth).toBe(42);
    // A snapshot is a copy.
    const snapshot = r.snapshot();
    (snapshot.queues.Jobs as { depth: number }).depth = 0;
    expect(r.snapshot().queues.Jobs?.depth).toBe(42);
  });
});

describe('dump and queuekit trace', () => {
  it('writes JSON that findTrace reads, by message id and by delivery id', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'queuekit-trace-'));
    dirs.push(stateDir);
    const r = recorder();
    publish(r, 'm1', { attributes: { kind: attr('image') } });
    deliver(r, jobs, r.messageIdOf(jobs, envelope('d1', 'm1')), 'd1');
    r.recordPublish({ messageId: 's1', queueArn: orders.arn, body: 'x', groupId: 'g' });
    r.dump(join(stateDir, 'traces.json'));

    const dump = JSON.parse(readFileSync(join(stateDir, 'traces.json'), 'utf8'));
    expect(Number.isNaN(Date.parse(dump.writtenAt))).toBe(false);
    expect(dump.deliveries).toEqual({ d1: 'm1' });
    expect(Object.keys(dump.traces).sort()).toEqual(['m1', 's1']);

    const byMessage = await findTrace({ messageId: 'm1', stateDir, json: true });
    expect(byMessage).toEqual(r.trace('m1'));
    const byDelivery = await findTrace({ messageId: 'd1', stateDir, json: true });
    expect(byDelivery?.messageId).toBe('m1');
    expect(types(byDelivery?.events)).toEqual([
      'published',
      'routed',
      'routed',
      'routed',
      'routed',
      'received',
      'attempt',
      'deleted',
    ]);
    expect(await findTrace({ messageId: 's1', stateDir, json: false })).toMatchObject({
      messageId: 's1',
      truncated: false,
    });
    expect(await findTrace({ messageId: 'nope', stateDir, json: false })).toBeUndefined();
  });

  it('findTrace fails saying the fix when there is neither a runner nor a dump', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'queuekit-trace-'));
    dirs.push(stateDir);
    const error = await findTrace({ messageId: 'm1', stateDir, json: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalRunnerError);
    expect((error as Error).message).toContain("Fix: run 'queuekit dev'");
  });
});
