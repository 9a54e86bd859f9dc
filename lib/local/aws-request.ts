/**
 * Classifies an AWS SDK HTTP request that reached the local AWS gateway: which service, which IAM action AWS would
 * authorize, on which resource ARNs, and who signed it (the access key id of the SigV4 credential).
 *
 * Protocols understood:
 * - **SQS**: the JSON protocol of current SDKs (`x-amz-target: AmazonSQS.<Op>`, JSON body) and the older query
 *   protocol (form body or query string `Action=<Op>`, queue from `QueueUrl` or from the path `/<account>/<name>`).
 * - **SNS**: the query protocol (`Action=Publish&TopicArn=…`).
 * - **S3**: REST, path-style (`/bucket/key`), as the SDK sends it to an IP-address endpoint or with
 *   `forcePathStyle`.
 * - **Lambda**: REST-JSON; the Invoke API (`POST /2015-03-31/functions/{name}/invocations`) and the legacy
 *   InvokeAsync, plus a few read operations by path.
 *
 * Batch operations map to the IAM action AWS checks for them (SendMessageBatch → `sqs:SendMessage`,
 * DeleteMessageBatch → `sqs:DeleteMessage`, ChangeMessageVisibilityBatch → `sqs:ChangeMessageVisibility`,
 * PublishBatch → `sns:Publish`). Pure functions: no I/O, no state.
 *
 * @example
 * const request = classifyAwsRequest(
 *   { method: 'POST', path: '/', headers: req.headers, body },
 *   { region: 'us-east-1', accountId: '000000000000' },
 * );
 * // { service: 'sqs', operation: 'SendMessageBatch', action: 'sqs:SendMessage',
 * //   resources: ['arn:aws:sqs:us-east-1:000000000000:orders'], accessKeyId: 'LKIA…', protocol: 'json', … }
 *
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The services the gateway tells apart; anything else is `unknown` and passes through unchecked. */
export type AwsService = 'sqs' | 'sns' | 's3' | 'lambda' | 'unknown';

/** How the request was encoded, which is also how an error response to it must be encoded. */
export type AwsWireProtocol = 'json' | 'query' | 'rest-xml' | 'rest-json' | 'unknown';

/** The parts of an HTTP request the classifier reads. */
export interface AwsHttpRequest {
  readonly method: string;
  /** Path with its query string, as in `IncomingMessage.url`, e.g. `/bucket/key?tagging`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /**
   * The request body, when it was read (see {@link classificationNeedsBody}). Without it, SQS/SNS requests are
   * classified by their headers alone (service and operation, no resources).
   * @default - not read
   */
  readonly body?: Buffer;
}

/** Where ARNs built from names (not from full ARNs or queue URLs) live. */
export interface ArnDefaults {
  readonly region: string;
  readonly accountId: string;
}

/** One IAM authorization AWS would make for a request. */
export interface IamCheck {
  /** IAM action, e.g. `s3:GetObject`. */
  readonly action: string;
  /** Resource ARN, or `*` for actions without a resource type (ListQueues, ListTopics, ListAllMyBuckets…). */
  readonly resource: string;
}

/** What a request is, as far as authorization and observability need to know. */
export interface ClassifiedRequest {
  readonly service: AwsService;
  /** Wire operation name, e.g. `SendMessageBatch`, `PutObject`, `Invoke`; empty when unknown. */
  readonly operation: string;
  /** The IAM action AWS checks, e.g. `sqs:SendMessage` for SendMessageBatch; empty when unknown. */
  readonly action: string;
  /** Resource ARNs the action is checked on (every one must be allowed); `*` for resource-less actions. */
  readonly resources: readonly string[];
  /**
   * Further authorizations with another action, e.g. `s3:GetObject` on the copy source of a CopyObject.
   * @default []
   */
  readonly extraChecks: readonly IamCheck[];
  /** Access key id from the SigV4 `Authorization` header (`Credential=<id>/…`) or a presigned URL's `X-Amz-Credential`. */
  readonly accessKeyId?: string;
  readonly protocol: AwsWireProtocol;
  /**
   * The decoded input, when the body was read: the JSON object (SQS JSON protocol, Lambda) or the flat form
   * parameters (query protocol, e.g. `{ Action: 'Publish', TopicArn: '…' }`).
   */
  readonly input?: Readonly<Record<string, unknown>>;
  /** Lambda Invoke: the function as addressed in the path. */
  readonly lambdaFunction?: FunctionReference;
}

/** A Lambda function as the Invoke API addresses it (name, partial ARN or ARN; optional qualifier). */
export interface FunctionReference {
  /** Plain function name, e.g. `my-function`. */
  readonly name: string;
  /** How it was given: a name (region and account then come from the request), a partial ARN or an ARN. */
  readonly form: 'name' | 'partial-arn' | 'arn';
  /** Version or alias (`$LATEST`, `1`, `live`), from `name:qualifier`, the ARN or the `Qualifier` query parameter. */
  readonly qualifier?: string;
  readonly region: string;
  readonly accountId: string;
  /** Unqualified function ARN. */
  readonly arn: string;
  /** The ARN IAM checks: qualified when a qualifier was given, as AWS does. */
  readonly invokedArn: string;
}

/** Largest body the classifier is worth buffering for (SQS/SNS requests are ≤ 1 MiB; Lambda Invoke ≤ 6 MB). */
export const MAX_CLASSIFIED_BODY_BYTES = 16 * 1024 * 1024;

const LAMBDA_PATH = /^\/\d{4}-\d{2}-\d{2}\/functions(?:\/|$)/;
const SQS_TARGET_PREFIX = 'amazonsqs.';
const SQS_BATCH_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};
const SQS_RESOURCELESS = new Set(['ListQueues']);
/** SNS operations that name no topic and are authorized on `*`. */
const SNS_RESOURCELESS = new Set([
  'ListTopics',
  'ListSubscriptions',
  'ListPlatformApplications',
  'ListPhoneNumbersOptedOut',
  'ListOriginationNumbers',
  'CheckIfPhoneNumberIsOptedOut',
  'GetSMSAttributes',
  'SetSMSAttributes',
  'GetSMSSandboxAccountStatus',
  'OptInPhoneNumber',
]);
/** SQS query-protocol operations, to tell an unsigned query request for SQS from one for SNS. */
const SQS_QUERY_ACTIONS = new Set([
  'AddPermission',
  'CancelMessageMoveTask',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'CreateQueue',
  'DeleteMessage',
  'DeleteMessageBatch',
  'DeleteQueue',
  'GetQueueAttributes',
  'GetQueueUrl',
  'ListDeadLetterSourceQueues',
  'ListMessageMoveTasks',
  'ListQueueTags',
  'ListQueues',
  'PurgeQueue',
  'ReceiveMessage',
  'RemovePermission',
  'SendMessage',
  'SendMessageBatch',
  'SetQueueAttributes',
  'StartMessageMoveTask',
  'TagQueue',
  'UntagQueue',
]);
const SNS_QUERY_ACTIONS = new Set([
  'Publish',
  'PublishBatch',
  'Subscribe',
  'Unsubscribe',
  'ConfirmSubscription',
  'CreateTopic',
  'DeleteTopic',
  'GetTopicAttributes',
  'SetTopicAttributes',
  'GetSubscriptionAttributes',
  'SetSubscriptionAttributes',
  'ListSubscriptionsByTopic',
  'ListTagsForResource',
  'TagResource',
  'UntagResource',
  'GetDataProtectionPolicy',
  'PutDataProtectionPolicy',
  ...SNS_RESOURCELESS,
]);

/**
 * Whether {@link classifyAwsRequest} needs the body of this request: true for SQS, SNS, Lambda and form-encoded
 * requests (small: ≤ 1 MiB for SQS/SNS), and for S3 DeleteObjects (the keys are in the XML body); false for other
 * S3 requests, whose bodies (object uploads) the gateway streams untouched.
 */
export function classificationNeedsBody(request: Omit<AwsHttpRequest, 'body'>): boolean {
  const { pathname, query } = splitPath(request.path);
  const scope = credentialScopeOf(request.headers, query);
  if (LAMBDA_PATH.test(pathname) && scope?.service !== 's3') return true;
  if (scope?.service === 's3') return request.method.toUpperCase() === 'POST' && query.has('delete');
  if (scope?.service === 'sqs' || scope?.service === 'sns') return true;
  if (headerOf(request.headers, 'x-amz-target') !== undefined) return true;
  const type = headerOf(request.headers, 'content-type') ?? '';
  return type.includes('x-www-form-urlencoded') || type.includes('amz-json');
}

/** Classifies one request. Never throws: whatever it cannot read comes back as `service: 'unknown'` or without resources. */
export function classifyAwsRequest(request: AwsHttpRequest, defaults: ArnDefaults): ClassifiedRequest {
  const { pathname, query } = splitPath(request.path);
  const scope = credentialScopeOf(request.headers, query);
  const accessKeyId = scope?.accessKeyId;
  const region = scope?.region && scope.region !== '' ? scope.region : defaults.region;
  const where: ArnDefaults = { region, accountId: defaults.accountId };

  const target = headerOf(request.headers, 'x-amz-target');
  if (target?.toLowerCase().startsWith(SQS_TARGET_PREFIX)) {
    return classifySqs(
      target.slice(SQS_TARGET_PREFIX.length),
      parseJsonObject(request.body),
      'json',
      pathname,
      where,
      accessKeyId,
    );
  }
  if ((scope?.service === 'lambda' || scope === undefined) && LAMBDA_PATH.test(pathname)) {
    return classifyLambda(request.method, pathname, query, parseJsonObject(request.body), where, accessKeyId);
  }
  if (scope?.service === 's3') {
    return classifyS3(request.method, pathname, query, request.headers, request.body, accessKeyId);
  }

  const params = queryParamsOf(request, query);
  const operation = typeof params?.Action === 'string' ? params.Action : '';
  const service: AwsService =
    scope?.service === 'sqs' || scope?.service === 'sns'
      ? scope.service
      : SQS_QUERY_ACTIONS.has(operation)
        ? 'sqs'
        : SNS_QUERY_ACTIONS.has(operation)
          ? 'sns'
          : 'unknown';
  if (service === 'sqs') return classifySqs(operation, params, 'query', pathname, where, accessKeyId);
  if (service === 'sns') return classifySns(operation, params, where, accessKeyId);
  if (scope?.service === 'lambda') {
    return classifyLambda(request.method, pathname, query, parseJsonObject(request.body), where, accessKeyId);
  }
  return {
    service: 'unknown',
    operation,
    action: '',
    resources: [],
    extraChecks: [],
    protocol: 'unknown',
    ...(accessKeyId !== undefined && { accessKeyId }),
    ...(params !== undefined && { input: params }),
  };
}

/**
 * The ARN of the queue at `queueUrl`: `arn:aws:sqs:<region>:<account>:<name>`, account and name from the URL
 * path, region from an `sqs.<region>.` / `<region>.queue.` host when there is one, else `defaults.region`.
 * Undefined when the URL has no `/<account>/<name>` path.
 */
export function queueArnFromUrl(queueUrl: string, defaults: ArnDefaults): string | undefined {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    return undefined;
  }
  const parts = url.pathname.split('/').filter((p) => p !== '');
  if (parts.length < 2) return undefined;
  const [account, name] = parts.slice(-2) as [string, string];
  const host = url.hostname.toLowerCase();
  const region =
    /(?:^|\.)sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)\./.exec(host)?.[1] ??
    /^([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\./.exec(host)?.[1] ??
    defaults.region;
  return `arn:aws:sqs:${region}:${account}:${decodeURIComponent(name)}`;
}

/**
 * Parses a Lambda function reference as the Invoke API accepts it: `name`, `name:qualifier`,
 * `123456789012:function:name[:qualifier]`, or a full ARN; `qualifier` (the `Qualifier` query parameter) wins
 * over none. Undefined when it is not a function reference.
 */
export function parseFunctionReference(
  raw: string,
  defaults: ArnDefaults,
  qualifier?: string,
): FunctionReference | undefined {
  if (raw === '') return undefined;
  let region = defaults.region;
  let accountId = defaults.accountId;
  let rest = raw;
  const arn = /^arn:aws[a-z-]*:lambda:([^:]+):(\d{12}):function:(.+)$/.exec(raw);
  const partial = /^(\d{12}):function:(.+)$/.exec(raw);
  if (arn) {
    region = arn[1] as string;
    accountId = arn[2] as string;
    rest = arn[3] as string;
  } else if (partial) {
    accountId = partial[1] as string;
    rest = partial[2] as string;
  } else if (raw.startsWith('arn:')) {
    return undefined;
  }
  const [name, inlineQualifier, ...extra] = rest.split(':');
  if (name === undefined || name === '' || extra.length > 0) return undefined;
  const q = qualifier !== undefined && qualifier !== '' ? qualifier : inlineQualifier;
  const unqualified = `arn:aws:lambda:${region}:${accountId}:function:${name}`;
  return {
    name,
    form: arn ? 'arn' : partial ? 'partial-arn' : 'name',
    ...(q !== undefined && q !== '' && { qualifier: q }),
    region,
    accountId,
    arn: unqualified,
    invokedArn: q !== undefined && q !== '' ? `${unqualified}:${q}` : unqualified,
  };
}

/**
 * The access key id and credential scope of a SigV4-signed request: from `Authorization: AWS4-HMAC-SHA256
 * Credential=<id>/<date>/<region>/<service>/aws4_request, …`, or from a presigned URL's `X-Amz-Credential`.
 */
export function credentialScopeOf(
  headers: IncomingHttpHeaders,
  query?: URLSearchParams,
): { accessKeyId: string; region: string; service: string } | undefined {
  const authorization = headerOf(headers, 'authorization');
  const credential =
    (authorization !== undefined ? /Credential=([^,\s]+)/.exec(authorization)?.[1] : undefined) ??
    query?.get('X-Amz-Credential') ??
    undefined;
  if (credential === undefined) return undefined;
  const [accessKeyId = '', , region = '', service = ''] = credential.split('/');
  if (accessKeyId === '') return undefined;
  return { accessKeyId, region, service: service.toLowerCase() };
}

// ---------------------------------------------------------------------------------------------------------------
// SQS
// ---------------------------------------------------------------------------------------------------------------

function classifySqs(
  operation: string,
  input: Record<string, unknown> | undefined,
  protocol: 'json' | 'query',
  pathname: string,
  where: ArnDefaults,
  accessKeyId: string | undefined,
): ClassifiedRequest {
  const action = operation === '' ? '' : `sqs:${SQS_BATCH_ACTIONS[operation] ?? operation}`;
  const resources: string[] = [];
  const queueUrl = stringField(input, 'QueueUrl');
  const queueName = stringField(input, 'QueueName');
  const sourceArn = stringField(input, 'SourceArn');
  if (SQS_RESOURCELESS.has(operation)) {
    resources.push('*');
  } else if (queueUrl !== undefined) {
    const arn = queueArnFromUrl(queueUrl, where);
    if (arn !== undefined) resources.push(arn);
  } else if (queueName !== undefined) {
    // GetQueueUrl and CreateQueue name the queue; GetQueueUrl may name another account's.
    const owner = stringField(input, 'QueueOwnerAWSAccountId') ?? where.accountId;
    resources.push(`arn:aws:sqs:${where.region}:${owner}:${queueName}`);
  } else if (sourceArn !== undefined) {
    resources.push(sourceArn);
  } else if (protocol === 'query') {
    // Query protocol may address the queue by path: POST /<account>/<name>.
    const parts = pathname.split('/').filter((p) => p !== '');
    if (parts.length === 2 && /^\d{12}$/.test(parts[0] as string)) {
      resources.push(`arn:aws:sqs:${where.region}:${parts[0]}:${decodeURIComponent(parts[1] as string)}`);
    }
  }
  return {
    service: 'sqs',
    operation,
    action,
    resources,
    extraChecks: [],
    protocol,
    ...(accessKeyId !== undefined && { accessKeyId }),
    ...(input !== undefined && { input }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// SNS
// ---------------------------------------------------------------------------------------------------------------

function classifySns(
  operation: string,
  input: Record<string, unknown> | undefined,
  where: ArnDefaults,
  accessKeyId: string | undefined,
): ClassifiedRequest {
  const action = operation === '' ? '' : `sns:${operation === 'PublishBatch' ? 'Publish' : operation}`;
  const resources: string[] = [];
  const subscriptionArn = stringField(input, 'SubscriptionArn');
  const resource =
    stringField(input, 'TopicArn') ??
    stringField(input, 'TargetArn') ??
    stringField(input, 'ResourceArn') ??
    (subscriptionArn !== undefined ? topicOfSubscription(subscriptionArn) : undefined) ??
    (operation === 'CreateTopic' && stringField(input, 'Name') !== undefined
      ? `arn:aws:sns:${where.region}:${where.accountId}:${stringField(input, 'Name')}`
      : undefined);
  if (resource !== undefined) resources.push(resource);
  else if (SNS_RESOURCELESS.has(operation) || stringField(input, 'PhoneNumber') !== undefined) resources.push('*');
  return {
    service: 'sns',
    operation,
    action,
    resources,
    extraChecks: [],
    protocol: 'query',
    ...(accessKeyId !== undefined && { accessKeyId }),
    ...(input !== undefined && { input }),
  };
}

/** A subscription ARN is its topic's ARN plus `:<id>`; AWS authorizes subscription operations on the topic. */
function topicOfSubscription(subscriptionArn: string): string | undefined {
  const parts = subscriptionArn.split(':');
  return parts.length === 7 && parts[2] === 'sns' ? parts.slice(0, 6).join(':') : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// S3
// ---------------------------------------------------------------------------------------------------------------

type S3Method = 'GET' | 'PUT' | 'DELETE' | 'POST' | 'HEAD';
type S3Table = Readonly<Record<string, Partial<Record<S3Method, string>>>>;

/** Bucket sub-resources (`/bucket?<name>`) and the IAM action per method. */
const S3_BUCKET_SUBRESOURCES: S3Table = {
  acl: { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' },
  cors: { GET: 'GetBucketCORS', PUT: 'PutBucketCORS', DELETE: 'PutBucketCORS' },
  encryption: {
    GET: 'GetEncryptionConfiguration',
    PUT: 'PutEncryptionConfiguration',
    DELETE: 'PutEncryptionConfiguration',
  },
  lifecycle: {
    GET: 'GetLifecycleConfiguration',
    PUT: 'PutLifecycleConfiguration',
    DELETE: 'PutLifecycleConfiguration',
  },
  location: { GET: 'GetBucketLocation' },
  logging: { GET: 'GetBucketLogging', PUT: 'PutBucketLogging' },
  notification: { GET: 'GetBucketNotification', PUT: 'PutBucketNotification' },
  'object-lock': { GET: 'GetBucketObjectLockConfiguration', PUT: 'PutBucketObjectLockConfiguration' },
  ownershipControls: {
    GET: 'GetBucketOwnershipControls',
    PUT: 'PutBucketOwnershipControls',
    DELETE: 'PutBucketOwnershipControls',
  },
  policy: { GET: 'GetBucketPolicy', PUT: 'PutBucketPolicy', DELETE: 'DeleteBucketPolicy' },
  publicAccessBlock: {
    GET: 'GetBucketPublicAccessBlock',
    PUT: 'PutBucketPublicAccessBlock',
    DELETE: 'PutBucketPublicAccessBlock',
  },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'PutBucketTagging' },
  uploads: { GET: 'ListBucketMultipartUploads' },
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  versions: { GET: 'ListBucketVersions' },
  website: { GET: 'GetBucketWebsite', PUT: 'PutBucketWebsite', DELETE: 'DeleteBucketWebsite' },
};

/** Object sub-resources (`/bucket/key?<name>`) and the IAM action per method. */
const S3_OBJECT_SUBRESOURCES: S3Table = {
  acl: { GET: 'GetObjectAcl', PUT: 'PutObjectAcl' },
  attributes: { GET: 'GetObjectAttributes' },
  'legal-hold': { GET: 'GetObjectLegalHold', PUT: 'PutObjectLegalHold' },
  restore: { POST: 'RestoreObject' },
  retention: { GET: 'GetObjectRetention', PUT: 'PutObjectRetention' },
  tagging: { GET: 'GetObjectTagging', PUT: 'PutObjectTagging', DELETE: 'DeleteObjectTagging' },
  // Multipart uploads: CreateMultipartUpload, UploadPart and CompleteMultipartUpload are all s3:PutObject.
  uploads: { POST: 'PutObject' },
  uploadId: { GET: 'ListMultipartUploadParts', PUT: 'PutObject', POST: 'PutObject', DELETE: 'AbortMultipartUpload' },
};
/** With `versionId`, these act on a version and AWS checks the `…Version…` action. */
const S3_VERSIONED: Readonly<Record<string, string>> = {
  GetObject: 'GetObjectVersion',
  DeleteObject: 'DeleteObjectVersion',
  GetObjectTagging: 'GetObjectVersionTagging',
  PutObjectTagging: 'PutObjectVersionTagging',
  DeleteObjectTagging: 'DeleteObjectVersionTagging',
  GetObjectAcl: 'GetObjectVersionAcl',
  PutObjectAcl: 'PutObjectVersionAcl',
};

function classifyS3(
  rawMethod: string,
  pathname: string,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
  body: Buffer | undefined,
  accessKeyId: string | undefined,
): ClassifiedRequest {
  const method = rawMethod.toUpperCase() as S3Method;
  const slash = pathname.indexOf('/', 1);
  const bucket = safeDecodeURIComponent(slash === -1 ? pathname.slice(1) : pathname.slice(1, slash));
  const key = slash === -1 ? '' : safeDecodeURIComponent(pathname.slice(slash + 1));
  const base = {
    service: 's3' as const,
    protocol: 'rest-xml' as const,
    ...(accessKeyId !== undefined && { accessKeyId }),
  };
  const s3 = (operation: string, resources: string[], extraChecks: IamCheck[] = []): ClassifiedRequest => ({
    ...base,
    operation,
    action: `s3:${operation}`,
    resources,
    extraChecks,
  });

  if (bucket === '') return s3('ListAllMyBuckets', ['*']);
  const bucketArn = `arn:aws:s3:::${bucket}`;

  if (key === '') {
    if (method === 'POST' && query.has('delete')) {
      const keys = [...(body?.toString('utf8') ?? '').matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) =>
        decodeXmlText(m[1] as string),
      );
      return {
        ...s3(
          'DeleteObject',
          keys.map((k) => `${bucketArn}/${k}`),
        ),
        operation: 'DeleteObjects',
      };
    }
    for (const [sub, actions] of Object.entries(S3_BUCKET_SUBRESOURCES)) {
      if (!query.has(sub)) continue;
      const operation = actions[method];
      if (operation !== undefined) return s3(operation, [bucketArn]);
    }
    const operation =
      method === 'PUT'
        ? 'CreateBucket'
        : method === 'DELETE'
          ? 'DeleteBucket'
          : method === 'GET' || method === 'HEAD'
            ? 'ListBucket'
            : '';
    return operation === '' ? { ...s3('', [bucketArn]), action: '' } : s3(operation, [bucketArn]);
  }

  const objectArn = `${bucketArn}/${key}`;
  let operation = '';
  for (const [sub, actions] of Object.entries(S3_OBJECT_SUBRESOURCES)) {
    if (!query.has(sub)) continue;
    operation = actions[method] ?? '';
    if (operation !== '') break;
  }
  if (operation === '') {
    operation =
      method === 'GET' || method === 'HEAD'
        ? 'GetObject'
        : method === 'PUT'
          ? 'PutObject'
          : method === 'DELETE'
            ? 'DeleteObject'
            : '';
  }
  if (query.has('versionId')) operation = S3_VERSIONED[operation] ?? operation;
  if (operation === '') return { ...s3('', [objectArn]), action: '' };

  // CopyObject / UploadPartCopy: PutObject on the destination and GetObject on the source.
  const extra: IamCheck[] = [];
  const copySource = headerOf(headers, 'x-amz-copy-source');
  if (method === 'PUT' && copySource !== undefined) {
    const [sourcePath = '', sourceQuery = ''] = safeDecodeURIComponent(copySource).split('?');
    const source = sourcePath.replace(/^\//, '');
    const versioned = new URLSearchParams(sourceQuery).has('versionId');
    if (source !== '')
      extra.push({ action: versioned ? 's3:GetObjectVersion' : 's3:GetObject', resource: `arn:aws:s3:::${source}` });
  }
  return s3(operation, [objectArn], extra);
}

// ---------------------------------------------------------------------------------------------------------------
// Lambda
// ---------------------------------------------------------------------------------------------------------------

function classifyLambda(
  rawMethod: string,
  pathname: string,
  query: URLSearchParams,
  input: Record<string, unknown> | undefined,
  where: ArnDefaults,
  accessKeyId: string | undefined,
): ClassifiedRequest {
  const method = rawMethod.toUpperCase();
  const segments = pathname.split('/').filter((p) => p !== '');
  // ['2015-03-31', 'functions', '<name>', 'invocations']
  const rawName = segments[2] !== undefined ? safeDecodeURIComponent(segments[2]) : undefined;
  const tail = segments.slice(3).join('/');
  const fn =
    rawName !== undefined ? parseFunctionReference(rawName, where, query.get('Qualifier') ?? undefined) : undefined;
  const base = {
    service: 'lambda' as const,
    protocol: 'rest-json' as const,
    extraChecks: [],
    ...(accessKeyId !== undefined && { accessKeyId }),
    ...(input !== undefined && { input }),
    ...(fn !== undefined && { lambdaFunction: fn }),
  };
  const resources = fn !== undefined ? [fn.invokedArn] : [];
  if (method === 'POST' && (tail === 'invocations' || tail === 'response-streaming-invocations')) {
    return {
      ...base,
      operation: tail === 'invocations' ? 'Invoke' : 'InvokeWithResponseStream',
      action: 'lambda:InvokeFunction',
      resources,
    };
  }
  if (method === 'POST' && tail === 'invoke-async') {
    return { ...base, operation: 'InvokeAsync', action: 'lambda:InvokeFunction', resources };
  }
  if (method === 'GET' && rawName === undefined) {
    return { ...base, operation: 'ListFunctions', action: 'lambda:ListFunctions', resources: ['*'] };
  }
  if (method === 'GET' && tail === '') {
    return { ...base, operation: 'GetFunction', action: 'lambda:GetFunction', resources };
  }
  if (method === 'GET' && tail === 'configuration') {
    return {
      ...base,
      operation: 'GetFunctionConfiguration',
      action: 'lambda:GetFunctionConfiguration',
      resources,
    };
  }
  return { ...base, operation: '', action: '', resources };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

function splitPath(path: string): { pathname: string; query: URLSearchParams } {
  const q = path.indexOf('?');
  return q === -1
    ? { pathname: path, query: new URLSearchParams() }
    : { pathname: path.slice(0, q), query: new URLSearchParams(path.slice(q + 1)) };
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Query-protocol parameters: the URL's query string plus, for a form body, the form fields (the body wins). */
function queryParamsOf(request: AwsHttpRequest, query: URLSearchParams): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [k, v] of query) params[k] = v;
  const type = headerOf(request.headers, 'content-type') ?? '';
  if (request.body !== undefined && request.body.length > 0 && type.includes('x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(request.body.toString('utf8'))) params[k] = v;
  }
  return Object.keys(params).length > 0 ? params : undefined;
}

function parseJsonObject(body: Buffer | undefined): Record<string, unknown> | undefined {
  if (body === undefined || body.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function stringField(input: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = input?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `decodeURIComponent`, or the text as is when it is not valid percent-encoding. */
export function safeDecodeURIComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function decodeXmlText(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
    .replace(/&amp;/g, '&');
}
