/**
 * Reads an SQS record as the handler should see it: raw delivery or an SNS envelope (recognised by shape, so
 * one consumer can read both), the inner message, its attributes from wherever they travelled, and metadata.
 *
 * @module
 */
import type { SQSRecord } from 'aws-lambda';
import { numberAttribute, type ReceivedAttributeValue } from './message-attributes.js';

/** Where a record's inner message came from. */
export type MessageSource = 'sqs' | 'sns';

/** What a record carries, before JSON parsing and contract validation. */
export interface InboundMessage {
  /** The inner message text: the SQS body, or the SNS envelope's `Message`. */
  readonly text: string;
  /** `text` already parsed, when the envelope check had to parse it anyway (raw JSON bodies). */
  readonly parsed?: unknown;
  readonly source: MessageSource;
  /** Message attributes, from the SQS record or the SNS envelope. */
  readonly attributes: Readonly<Record<string, ReceivedAttributeValue>>;
  readonly topicArn?: string;
  readonly snsMessageId?: string;
  readonly subject?: string;
  /** When SNS accepted the message (enveloped deliveries only). */
  readonly publishedAt?: Date;
}

interface SnsEnvelope {
  readonly Type: string;
  readonly Message: string;
  readonly TopicArn: string;
  readonly MessageId?: string;
  readonly Subject?: string | null;
  readonly Timestamp?: string;
  readonly MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

function isSnsEnvelope(value: unknown): value is SnsEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<SnsEnvelope>;
  return v.Type === 'Notification' && typeof v.Message === 'string' && typeof v.TopicArn === 'string';
}

function fromSqs(record: SQSRecord): Record<string, ReceivedAttributeValue> {
  const out: Record<string, ReceivedAttributeValue> = {};
  const attributes = record.messageAttributes;
  if (!attributes) return out;
  for (const name in attributes) {
    const a = attributes[name];
    if (!a) continue;
    if (a.dataType.startsWith('Binary')) {
      if (a.binaryValue !== undefined) out[name] = Buffer.from(a.binaryValue, 'base64');
    } else if (a.stringValue !== undefined) {
      out[name] = a.dataType.startsWith('Number') ? numberAttribute(a.stringValue) : a.stringValue;
    }
  }
  return out;
}

function fromSns(envelope: SnsEnvelope): Record<string, ReceivedAttributeValue> {
  const out: Record<string, ReceivedAttributeValue> = {};
  const attributes = envelope.MessageAttributes;
  if (!attributes) return out;
  for (const name in attributes) {
    const a = attributes[name];
    if (!a) continue;
    out[name] = a.Type.startsWith('Binary')
      ? Buffer.from(a.Value, 'base64')
      : a.Type.startsWith('Number')
        ? numberAttribute(a.Value)
        : a.Value;
  }
  return out;
}

/**
 * Unwraps a record. A body is taken as an SNS envelope when it is a JSON object with `Type: "Notification"`, a
 * string `Message` and a `TopicArn`; anything else is raw delivery. `parseJson` lets a raw JSON body be parsed
 * once here rather than twice.
 */
export function readRecord(record: SQSRecord, parseJson: boolean): InboundMessage {
  const body = record.body;
  let parsed: unknown;
  let hasParsed = false;
  if (body.charCodeAt(0) === 123 /* { */ || parseJson) {
    try {
      parsed = JSON.parse(body);
      hasParsed = true;
    } catch {
      // not JSON: raw text; the consumer reports it if it wanted JSON
    }
  }
  if (hasParsed && isSnsEnvelope(parsed)) {
    const envelope = parsed;
    return {
      text: envelope.Message,
      parsed: undefined,
      source: 'sns',
      attributes: fromSns(envelope),
      topicArn: envelope.TopicArn,
      snsMessageId: envelope.MessageId || undefined,
      subject: envelope.Subject || undefined,
      publishedAt: envelope.Timestamp ? new Date(envelope.Timestamp) : undefined,
    };
  }
  return {
    text: body,
    parsed: hasParsed ? parsed : undefined,
    source: 'sqs',
    attributes: fromSqs(record),
    topicArn: undefined,
    snsMessageId: undefined,
    subject: undefined,
    publishedAt: undefined,
  };
}

/** The queue name in an event source ARN (`arn:aws:sqs:<region>:<account>:<name>`). */
export function queueNameOf(eventSourceArn: string | undefined): string | undefined {
  if (!eventSourceArn) return undefined;
  const i = eventSourceArn.lastIndexOf(':');
  return i >= 0 ? eventSourceArn.slice(i + 1) : undefined;
}
