/**
 * The AWS managed policies Lambda apps attach most, with the statements that matter to the permission check (SQS,
 * SNS, S3, Lambda). A role's managed policy that is neither here nor defined in the app grants nothing locally, and
 * the runner says so once at start.
 *
 * Source: the AWS managed policy reference (docs.aws.amazon.com/aws-managed-policy), checked 2026.
 *
 * @module
 */
import type { PolicyDocument } from './app-model.js';

const allow = (Action: string | string[], Resource: string | string[] = '*'): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource }],
});

const LOGS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'];

/** By policy name (the part after `policy/` or `policy/service-role/`). */
export const AWS_MANAGED_POLICIES: Readonly<Record<string, PolicyDocument>> = {
  AWSLambdaBasicExecutionRole: allow(LOGS),
  AWSLambdaSQSQueueExecutionRole: allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', ...LOGS]),
  AWSLambdaRole: allow('lambda:InvokeFunction'),
  AmazonSQSFullAccess: allow('sqs:*'),
  AmazonSQSReadOnlyAccess: allow([
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
    'sqs:ListDeadLetterSourceQueues',
    'sqs:ListQueues',
    'sqs:ListMessageMoveTasks',
    'sqs:ListQueueTags',
  ]),
  AmazonSNSFullAccess: allow('sns:*'),
  AmazonSNSReadOnlyAccess: allow([
    'sns:GetTopicAttributes',
    'sns:List*',
    'sns:CheckIfPhoneNumberIsOptedOut',
    'sns:GetEndpointAttributes',
    'sns:GetDataProtectionPolicy',
    'sns:GetPlatformApplicationAttributes',
    'sns:GetSMSAttributes',
    'sns:GetSMSSandboxAccountStatus',
    'sns:GetSubscriptionAttributes',
  ]),
  AmazonS3FullAccess: allow(['s3:*', 's3-object-lambda:*']),
  AmazonS3ReadOnlyAccess: allow([
    's3:Get*',
    's3:List*',
    's3:Describe*',
    's3-object-lambda:Get*',
    's3-object-lambda:List*',
  ]),
  AWSLambda_FullAccess: allow(['lambda:*', 'sqs:*', 'sns:*', 's3:*']),
};

/** The managed policy document for an ARN like `arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`. */
export function awsManagedPolicy(arn: string): PolicyDocument | undefined {
  if (!/^arn:[^:]+:iam::aws:policy\//.test(arn)) return undefined;
  return AWS_MANAGED_POLICIES[arn.slice(arn.lastIndexOf('/') + 1)];
}
