/**
 * Physical ids (queue URLs, topic ARNs) of a stack deployed to LocalStack, keyed by construct path inside the stack
 * (e.g. `InferenceJobs/Queue`), read from the synthesized template's `aws:cdk:path` metadata and CloudFormation's
 * ListStackResources. Fails loudly, naming the fix, when the stack is not there.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { type CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';

export async function deployedResources(
  cfn: CloudFormationClient,
  stack: string,
  assembly: string,
  endpoint: string,
): Promise<(path: string) => string> {
  const template = JSON.parse(readFileSync(`${assembly}/${stack}.template.json`, 'utf8')) as {
    Resources: Record<string, { Metadata?: Record<string, string> }>;
  };
  const pathOf = new Map<string, string>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const path = r.Metadata?.['aws:cdk:path'];
    if (path) pathOf.set(id, path.replace(`${stack}/`, '').replace(/\/Resource$/, ''));
  }
  const physical = new Map<string, string>();
  let next: string | undefined;
  try {
    do {
      const page = await cfn.send(new ListStackResourcesCommand({ StackName: stack, NextToken: next }));
      for (const r of page.StackResourceSummaries ?? []) {
        const path = pathOf.get(r.LogicalResourceId ?? '');
        if (path && r.PhysicalResourceId) physical.set(path, r.PhysicalResourceId);
      }
      next = page.NextToken;
    } while (next);
  } catch (error) {
    throw new Error(
      `LocalStack at ${endpoint} has no ${stack} stack (${(error as Error).message}). ` +
        'Fix: run `npm run test:localstack`, which starts LocalStack and deploys it, or deploy it yourself with cdklocal.',
    );
  }
  return (path: string) => {
    const id = physical.get(path);
    if (!id) throw new Error(`no deployed resource at ${stack}/${path}; deployed: ${[...physical.keys()].join(', ')}`);
    return id;
  };
}
