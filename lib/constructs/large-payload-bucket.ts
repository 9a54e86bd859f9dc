import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/** The environment variable that names the large-payload bucket to the runtime's producer. */
export const LARGE_PAYLOAD_BUCKET_ENV = 'QUEUEKIT_LARGE_PAYLOAD_BUCKET';

/**
 * Grants a function what the runtime needs for S3-offloaded bodies (AWS extended client format): `put` for a
 * producer (s3:PutObject), `read` for a consumer (s3:GetObject, plus s3:DeleteObject when it deletes payloads after
 * success), on the bucket's objects only, plus the bucket key's use when it has one. Explicit actions rather than
 * `grantPut`/`grantRead`, whose wildcards (`s3:GetObject*`, `s3:List*`, `s3:Abort*`) reach further than needed.
 */
export function grantLargePayloads(
  bucket: s3.IBucket,
  grantee: iam.IGrantable & IConstruct,
  access: 'put' | 'read' | 'read-delete',
): void {
  const actions =
    access === 'put' ? ['s3:PutObject'] : access === 'read' ? ['s3:GetObject'] : ['s3:GetObject', 's3:DeleteObject'];
  const statement = new iam.PolicyStatement({ actions, resources: [bucket.arnForObjects('*')] });
  grantee.grantPrincipal.addToPrincipalPolicy(statement);
  if (bucket.encryptionKey) {
    if (access === 'put') bucket.encryptionKey.grantEncrypt(grantee);
    else bucket.encryptionKey.grantDecrypt(grantee);
  }
  const role = (grantee as { role?: iam.IRole }).role;
  if (role) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(bucket)}]`,
      reason:
        'Offloaded message bodies get a fresh UUID key each, so the grant covers the objects of the one payload bucket.',
    });
  }
}

/** The objects ARN as cdk-nag prints it in a finding id: `<Logical.Arn>/*` for a bucket of the app, else the ARN. */
function nagResource(bucket: s3.IBucket): string {
  const cfn = bucket.node.defaultChild as s3.CfnBucket | undefined;
  if (cfn) return `<${Stack.of(bucket).getLogicalId(cfn)}.Arn>/*`;
  const resolved = Stack.of(bucket).resolve(bucket.arnForObjects('*')) as unknown;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return String(resolved);
  return join[1]
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref?: string }).Ref ?? '?'}>`))
    .join(join[0]);
}
