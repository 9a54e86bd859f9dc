import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The Lambda runtime of every queuekit function; its major version is the `engines.node` of the project. */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** What every queuekit function takes. */
export interface QueuekitFunctionProps {
  /** Path of the TypeScript handler file, bundled locally by esbuild (never in Docker). */
  readonly entry: string;
  /** Exported handler name. @default 'handler' */
  readonly handler?: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Extra environment variables. @default none */
  readonly environment?: Record<string, string>;
  /** @default - the construct path */
  readonly description?: string;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** Log retention of the function's own log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A NodejsFunction with queuekit's defaults: Node 22 on arm64, ESM bundle minified with source maps by the
 * local esbuild, JSON logs into its own log group with a retention, and a role that can write only there.
 */
export class QueuekitFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: QueuekitFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${scope.node.path}/${id}`,
    });
    logGroup.grantWrite(role);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup)}.Arn>:*]`,
      reason:
        "CloudWatch Logs names log streams at run time: writing to the function's own log group needs its streams wildcard.",
    });
    super(scope, id, {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime: LAMBDA_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      description: props.description,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
      role,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        forceDockerBundling: false,
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the major version matches the project engines (Node >= 22) and the local runner, so code tested locally is the code deployed.',
    });
  }
}
