import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { readFileSync } from 'node:fs';
import { QueuekitChecks, Queue, Topic } from '../lib/constructs/index.js';
{
const app = new App({ outdir: '/tmp/qk-e', context: { '@aws-cdk/core:appMode': 'inmemory' } });
const stack = new Stack(app, 'S');
const a = new sqs.Queue(stack, 'A', { enforceSSL: true });
new sqs.Queue(stack, 'B', { enforceSSL: true });
Validations.of(app).addPlugins(new QueuekitChecks());
Validations.of(a).acknowledge({ id: 'Queuekit::queue-not-encrypted', reason: 'legacy' });
const t0 = Date.now();
try { app.synth(); console.log('OK', Date.now()-t0); } catch (e) { console.log('THROWN', (e as Error).message); }
console.log(readFileSync('/tmp/qk-e/validation-report.json','utf8'));
}
{
const app = new App({ outdir: '/tmp/qk-f', context: { '@aws-cdk/core:appMode': 'inmemory' } });
const stack = new Stack(app, 'S');
const q = new Queue(stack, 'Q', { fifo: true });
const t = new Topic(stack, 'T');
t.subscribe(q);
Validations.of(app).addPlugins(new QueuekitChecks());
try { app.synth(); console.log('OK'); } catch (e) { console.log('THROWN2', (e as Error).message.split('standard-topic-to-fifo-queue').length-1); }
const r = JSON.parse(readFileSync('/tmp/qk-f/validation-report.json','utf8'));
console.log(JSON.stringify(r.pluginReports.map((p: any) => [p.pluginName, p.conclusion, p.violations.map((v: any) => v.ruleName)])));
}
