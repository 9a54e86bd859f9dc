import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ComputeStack } from '../bin/compute-stack.js';
import { MessagingStack } from '../bin/messaging-stack.js';
const t0 = Date.now();
const app = new App({ outdir: '/tmp/qk-d', context: { '@aws-cdk/core:appMode': 'inmemory' } });
const messaging = new MessagingStack(app, 'QueuekitMessaging');
new ComputeStack(app, 'QueuekitCompute', { messaging });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
console.log('construct', Date.now() - t0);
try { const asm = app.synth(); console.log('OK', asm.directory, asm.stacks.map(s=>s.templateFullPath)); } catch (e) { console.log('THROWN', (e as Error).message.slice(0, 5000)); }
console.log('total', Date.now() - t0);
