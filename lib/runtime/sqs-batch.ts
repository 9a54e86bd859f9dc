import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** A message as a handler sees it: the inner body (SNS envelope removed) and where it came from. */
export interface ConsumedMessage<T = unknown> {
  readonly body: T;
  readonly messageId: string;
  readonly groupId?: string;
  readonly receiveCount: number;
  /** The SNS topic ARN, when the message came through an enveloped SNS subscription. */
  readonly topicArn?: string;
  /** String message attributes, from SQS or from the SNS envelope. */
  readonly attributes: Readonly<Record<string, string>>;
}

interface SnsEnvelope {
  Type: 'Notification';
  Message: string;
  TopicArn: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

function isSnsEnvelope(value: unknown): value is SnsEnvelope {
  const v = value as Partial<SnsEnvelope> | null;
  return !!v && v.Type === 'Notification' && typeof v.Message === 'string' && typeof v.TopicArn === 'string';
}

/** Parses a record: JSON body, SNS envelope detected and unwrapped. Throws when the body is not JSON. */
export function parseRecord(record: SQSRecord): ConsumedMessage {
  const outer: unknown = JSON.parse(record.body);
  const attributes: Record<string, string> = {};
  for (const [name, a] of Object.entries(record.messageAttributes ?? {})) {
    if (a.stringValue !== undefined) attributes[name] = a.stringValue;
  }
  let body = outer;
  let topicArn: string | undefined;
  if (isSnsEnvelope(outer)) {
    topicArn = outer.TopicArn;
    for (const [name, a] of Object.entries(outer.MessageAttributes ?? {})) attributes[name] = a.Value;
    try {
      body = JSON.parse(outer.Message);
    } catch {
      body = outer.Message;
    }
  }
  return {
    body,
    messageId: record.messageId,
    ...(record.attributes.MessageGroupId ? { groupId: record.attributes.MessageGroupId } : {}),
    receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
    ...(topicArn ? { topicArn } : {}),
    attributes,
  };
}

/**
 * Runs `handle` for each record and returns the partial batch response Lambda expects. FIFO records run in
 * order within their message group; after a failure the rest of that group is reported failed without running,
 * so the group's order survives the retry. Other groups, and standard queues, run concurrently.
 */
export async function processBatch(
  event: SQSEvent,
  handle: (message: ConsumedMessage, record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> {
  const groups = new Map<string, SQSRecord[]>();
  event.Records.forEach((record, i) => {
    const key = record.attributes.MessageGroupId ?? `#${i}`;
    const list = groups.get(key) ?? [];
    list.push(record);
    groups.set(key, list);
  });
  const failed = new Set<string>();
  await Promise.all(
    [...groups.values()].map(async (records) => {
      for (const [i, record] of records.entries()) {
        try {
          await handle(parseRecord(record), record);
        } catch (error) {
          console.error(
            JSON.stringify({
              level: 'ERROR',
              message: 'record failed',
              messageId: record.messageId,
              group: record.attributes.MessageGroupId,
              receiveCount: record.attributes.ApproximateReceiveCount,
              error: (error as Error).message,
            }),
          );
          for (const rest of records.slice(i)) failed.add(rest.messageId);
          return;
        }
      }
    }),
  );
  return {
    batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  };
}
