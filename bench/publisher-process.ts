/**
 * Child-process entry of P5 (bench/runner-bench.ts): publishes to an SNS topic at a steady rate, one Publish call
 * per message, each body carrying `t`, the time the call was made (`performance.timeOrigin + performance.now()`,
 * epoch ms with sub-millisecond precision, comparable across the processes of one machine). Runs in its own
 * process so the load generator's CPU is not charged to what is measured.
 *
 * `node --import tsx bench/publisher-process.ts <endpoint> <topicArn> <rate/s> <warm-up s> <seconds>`; prints one
 * JSON line when done: `{"published","failed","measuredFrom","lateMs"}`, where `measuredFrom` is the `t` the
 * measured part starts at (after the warm-up) and `lateMs` how far behind schedule a publish started at worst.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { clientConfig } from '../lib/runtime/clients.js';

const [endpoint, topicArn, rateArg, warmupArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const warmup = Number(warmupArg);
const seconds = Number(secondsArg);
if (!endpoint || !topicArn || !(rate > 0) || !(warmup >= 0) || !(seconds > 0)) {
  console.error('usage: publisher-process.ts <endpoint> <topicArn> <rate/s> <warm-up s> <seconds>');
  process.exit(2);
}

const sns = new SNSClient({ ...clientConfig({ endpoint, env: {} }, 'sns') });
const clock = () => performance.timeOrigin + performance.now();
const total = Math.round(rate * (warmup + seconds));
const started = performance.now();
const measuredFrom = clock() + warmup * 1000;
const inFlight = new Set<Promise<void>>();
let sent = 0;
let failed = 0;
let lateMs = 0;
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
  if (due > sent) lateMs = Math.max(lateMs, performance.now() - started - (sent * 1000) / rate);
  while (sent < due) {
    const i = sent++;
    const p: Promise<void> = sns
      .send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify({ jobId: `job-${i}`, t: clock() }) }))
      .then(
        () => {},
        () => {
          failed++;
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await sleep(1);
}
await Promise.all(inFlight);
sns.destroy();
process.stdout.write(`${JSON.stringify({ published: total - failed, failed, measuredFrom, lateMs })}\n`);
