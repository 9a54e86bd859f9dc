import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { readFileSync } from 'node:fs';
import { QueuekitChecks } from '../lib/constructs/index.js';
const app = new App({ outdir: '/tmp/qk-c', context: { '@aws-cdk/core:appMode': 'inmemory' } });
const stack = new Stack(app, 'S');
const dlq = new sqs.Queue(stack, 'Dlq', {enforceSSL: true});
new sqs.Queue(stack, 'Q', { fifo: true, deadLetterQueue: { queue: dlq, maxReceiveCount: 5 }, enforceSSL: true });
Validations.of(app).addPlugins(new QueuekitChecks());
Validations.of(app).addPlugins(new QueuekitChecks());
try { app.synth(); console.log('OK'); } catch (e) { console.log('THROWN', (e as Error).message); }
console.log(readFileSync('/tmp/qk-c/validation-report.json','utf8'));
