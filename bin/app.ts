#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ComputeStack } from './compute-stack.js';
import { MessagingStack } from './messaging-stack.js';

/** The reference app: an AI job pipeline in two stacks, checked by cdk-nag and queuekit at every synth. */
const app = new App();
const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
const messaging = new MessagingStack(app, 'QueuekitMessaging', {
  env,
  description: 'queuekit reference app: topics, queues, dead-letter queues, keys, alarms',
});
new ComputeStack(app, 'QueuekitCompute', {
  env,
  messaging,
  description: 'queuekit reference app: producer and batch consumers',
});
// queuekit constructs attach QueuekitChecks themselves; cdk-nag is one more line.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
