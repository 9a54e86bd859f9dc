/**
 * Large payloads through S3 ("claim check"), in the format AWS's extended clients use, so a Java, Python or
 * .NET extended client reads what we send and we read what they send:
 *
 * - body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"<bucket>","s3Key":"<key>"}]`
 * - attribute `ExtendedPayloadSize` (Number): the original body's size in bytes.
 *
 * Older Java clients wrote `com.amazon.sqs.javamessaging.MessageS3Pointer` and `SQSLargePayloadSize`; both are
 * read. The same format travels through SNS (the SNS extended client), enveloped or raw.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { QueuekitRuntimeError } from './errors.js';
import {
  EXTENDED_PAYLOAD_SIZE_ATTRIBUTE,
  LEGACY_EXTENDED_PAYLOAD_SIZE_ATTRIBUTE,
  LEGACY_PAYLOAD_POINTER_CLASS,
  PAYLOAD_POINTER_CLASS,
} from './limits.js';

/** Where an offloaded body lives. */
export interface PayloadPointer {
  readonly bucket: string;
  readonly key: string;
}

/** Large-payload settings of a producer. */
export interface LargePayloadOptions {
  /** Bucket that holds offloaded bodies. @default - `QUEUEKIT_LARGE_PAYLOAD_BUCKET`, else large messages fail */
  readonly bucket?: string;
  /**
   * Offload bodies whose message (body + attributes) is larger than this many bytes. Lower it to 262,144 for
   * consumers that still expect the old 256 KiB SQS limit.
   * @default - the service limit: 1,048,576 (SQS) or 262,144 (SNS)
   */
  readonly thresholdBytes?: number;
  /** Offload every body, whatever its size. @default false */
  readonly always?: boolean;
  /** Prefix of object keys. @default '' (a UUID per object, like the extended clients) */
  readonly keyPrefix?: string;
}

/** Names that mark an offloaded body, current and legacy. */
export const PAYLOAD_SIZE_ATTRIBUTES = [EXTENDED_PAYLOAD_SIZE_ATTRIBUTE, LEGACY_EXTENDED_PAYLOAD_SIZE_ATTRIBUTE];

/** The pointer body for an offloaded payload. */
export function pointerBody(pointer: PayloadPointer): string {
  return JSON.stringify([PAYLOAD_POINTER_CLASS, { s3BucketName: pointer.bucket, s3Key: pointer.key }]);
}

/** Reads a pointer body; `undefined` when `body` is not one. */
export function parsePointer(body: string): PayloadPointer | undefined {
  if (!body.startsWith('["')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
  const [cls, ref] = parsed as [unknown, { s3BucketName?: unknown; s3Key?: unknown } | null];
  if (cls !== PAYLOAD_POINTER_CLASS && cls !== LEGACY_PAYLOAD_POINTER_CLASS) return undefined;
  if (!ref || typeof ref.s3BucketName !== 'string' || typeof ref.s3Key !== 'string') return undefined;
  return { bucket: ref.s3BucketName, key: ref.s3Key };
}

/** Uploads `body` and returns its pointer. */
export async function offloadPayload(
  s3: S3Client,
  options: LargePayloadOptions & { readonly bucket: string },
  body: string,
): Promise<PayloadPointer> {
  const key = `${options.keyPrefix ?? ''}${randomUUID()}`;
  await s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body }));
  return { bucket: options.bucket, key };
}

/** A pointed-to payload could not be read: the record fails and is retried (the object may not be there yet). */
export class PayloadFetchError extends QueuekitRuntimeError {
  override name = 'PayloadFetchError';
}

/** Downloads an offloaded body. */
export async function fetchPayload(s3: S3Client, pointer: PayloadPointer): Promise<string> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
    if (!object.Body) throw new Error('empty response body');
    return await object.Body.transformToString('utf-8');
  } catch (error) {
    throw new PayloadFetchError(
      `Could not read the offloaded payload s3://${pointer.bucket}/${pointer.key}: ${(error as Error).message}. ` +
        'Fix: grant s3:GetObject on the bucket to this function, and keep objects longer than the queue retention.',
    );
  }
}

/** Deletes an offloaded body (only when no other subscriber still needs it). */
export async function deletePayload(s3: S3Client, pointer: PayloadPointer): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
}
