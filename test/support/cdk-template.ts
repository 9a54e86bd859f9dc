import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { expect, vi } from 'vitest';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON, read by path
export type Json = Record<string, any>;

/** A stack in a fresh app that skips bundling (the templates are what these tests look at). */
export function newStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Stack');
}

/** Logical ID of a construct's CloudFormation resource. */
export function idOf(construct: IConstruct): string {
  const cfn = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(cfn);
}

/** The synthesized resource of a construct; fails the test when it is missing. */
export function resource(template: Template, construct: IConstruct): Json {
  const found = template.toJSON().Resources[idOf(construct)];
  expect(found, `resource of ${construct.node.path}`).toBeDefined();
  return found;
}

/** The synthesized Properties of a construct's resource. */
export const props = (template: Template, construct: IConstruct): Json => resource(template, construct).Properties;

/** Runs `fn` with console.error captured (CDK prints validation warnings there); returns what was printed. */
export function capturingConsoleError(fn: () => void): string {
  const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    fn();
    return spy.mock.calls.map((args) => args.join(' ')).join('\n');
  } finally {
    spy.mockRestore();
  }
}
