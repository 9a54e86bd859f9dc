import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue, Topic } from '../lib/constructs/index.js';
const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'S');
const q = new Queue(stack, 'Q', { fifo: true });
const t = new Topic(stack, 'T');
t.subscribe(q);
const q2 = new Queue(stack, 'Q2', { deadLetterQueue: false });
Validations.of(q2).acknowledge({ id: 'Queuekit::consumed-queue-without-dlq', reason: 'x' });
try { app.synth(); console.log('OK'); } catch (e) { console.log('THROWN', (e as Error).constructor.name, JSON.stringify((e as Error).message)); }
