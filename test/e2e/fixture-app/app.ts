#!/usr/bin/env node
/**
 * The end-to-end fixture app: small, but with every path the local runner has to get right. Synthesized once per
 * test run by test/e2e/global-setup.ts (with `CDK_OUTDIR`, like lib/local/synth.ts), never deployed.
 *
 * - Topic `Events` fans out to `Images` (attribute filter `kind: image`), `Urgent` (body filter
 *   `priority: high`) and `Audit` (raw delivery, everything). None of the three has a consumer: the tests read
 *   them with the real SQS client.
 * - `Work` (standard, DLQ after 3 receives) → `Worker`: fails `poison` records every time, `failOnce` records on
 *   their first receive.
 * - `Ledger` (FIFO, DLQ after 4 receives) → `LedgerWriter`: in order per group, fails marked records and everything
 *   behind them in their group, logs `ORDER <group> <seq>` for each record it applies.
 * - `Sleepy` → `Sleeper` (timeout 2 s): sleeps past its timeout on a record's first receive only.
 * - `Slow` → `SlowWorker`: 150 ms per record, at most 2 batches at once (the Ctrl-C test).
 * - `Publisher` (a queuekit Producer): granted sns:Publish on `Events` and sqs:SendMessage on the queues.
 * - `Rogue`: the same publish code path, with no grant at all (the IAM test).
 *
 * The stack name comes from the context key `queuekit-e2e:stack` (default `QueuekitE2e`): the runner names
 * resources after it, so a shared target (LocalStack) gets fresh names per test run.
 */
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { BatchConsumer, Producer, Queue, QueuekitFunction, Topic } from '../../../lib/constructs/index.js';
import { STACK_CONTEXT_KEY } from './constants.js';

const handler = (name: string) => fileURLToPath(new URL(`./handlers/${name}.ts`, import.meta.url));

const app = new App();
const stackName = (app.node.tryGetContext(STACK_CONTEXT_KEY) as string | undefined) ?? 'QueuekitE2e';
const stack = new Stack(app, stackName, { description: 'queuekit end-to-end fixture (local runner only)' });

const events = new Topic(stack, 'Events');
const images = new Queue(stack, 'Images', { alarms: false });
const urgent = new Queue(stack, 'Urgent', { alarms: false });
const audit = new Queue(stack, 'Audit', { alarms: false });
events.subscribe(images, { filter: { kind: ['image'] } });
events.subscribe(urgent, { filter: { priority: ['high'] }, filterScope: 'body' });
events.subscribe(audit, { raw: true });

const work = new Queue(stack, 'Work', { maxReceiveCount: 3, alarms: false });
new BatchConsumer(stack, 'Worker', {
  queue: work,
  entry: handler('worker'),
  timeout: Duration.seconds(5),
  batchSize: 5,
});

const ledger = new Queue(stack, 'Ledger', { fifo: true, maxReceiveCount: 4, alarms: false });
new BatchConsumer(stack, 'LedgerWriter', {
  queue: ledger,
  entry: handler('ledger-writer'),
  timeout: Duration.seconds(5),
  batchSize: 5,
});

// Few receives on purpose: poison reaches its DLQ in a few (scaled) visibility timeouts.
for (const queue of [work, ledger]) {
  Validations.of(queue.queue).acknowledge({
    id: 'Queuekit::max-receive-count-low',
    reason: 'A test fixture: poison messages must reach the DLQ within seconds.',
  });
}

const sleepy = new Queue(stack, 'Sleepy', { maxReceiveCount: 5, alarms: false });
new BatchConsumer(stack, 'Sleeper', {
  queue: sleepy,
  entry: handler('sleeper'),
  timeout: Duration.seconds(2),
  batchSize: 1,
});

const slow = new Queue(stack, 'Slow', { alarms: false });
new BatchConsumer(stack, 'SlowWorker', {
  queue: slow,
  entry: handler('slow-worker'),
  timeout: Duration.seconds(5),
  batchSize: 2,
  maxConcurrency: 2,
});

new Producer(stack, 'Publisher', {
  entry: handler('publisher'),
  topics: { events },
  queues: { work, ledger, sleepy, slow },
  timeout: Duration.seconds(10),
});

// Publishes to the topic like Publisher does, but nothing grants it sns:Publish.
new QueuekitFunction(stack, 'Rogue', {
  entry: handler('rogue'),
  timeout: Duration.seconds(10),
  environment: { QUEUEKIT_TOPIC_EVENTS_ARN: events.topicArn },
});

app.synth();
