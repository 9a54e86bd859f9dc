/**
 * What the local runner observes about each message, as events: the message trace, the counters, the terminal
 * progress and the live page are all built from these.
 *
 * `messageId` is always the id the publisher got back: the SNS message id for a publish, the SQS message id for a
 * direct send. A delivery to a queue carries its own SQS id as `deliveryId`.
 *
 * @module
 */

/** Why an attempt ended the way it did. */
export type AttemptOutcome =
  /** The handler returned and reported no failure: every record is deleted. */
  | 'succeeded'
  /** The handler reported some records in `batchItemFailures`: the others are deleted. */
  | 'partial'
  /** The handler threw or returned an error: nothing is deleted, the batch comes back after the visibility timeout. */
  | 'failed'
  /** The handler ran past the function timeout and was stopped. */
  | 'timed-out'
  /** The execution environment died (process.exit, out of memory, uncaught error). */
  | 'crashed'
  /** The response was not a valid partial batch response (empty, null or unknown `itemIdentifier`): the whole batch fails, as in AWS. */
  | 'invalid-response';

export type FlowEvent =
  | {
      readonly type: 'published';
      readonly at: number;
      readonly messageId: string;
      /** Display name of the topic or queue it was sent to. */
      readonly target: string;
      readonly targetKind: 'topic' | 'queue';
      readonly groupId?: string;
      /** Function that published it, when it went through the runner's AWS gateway. */
      readonly by?: string;
    }
  | {
      /** A topic message reached (or was filtered away from) one subscribed queue. */
      readonly type: 'routed';
      readonly at: number;
      readonly messageId: string;
      readonly subscription: string;
      readonly queue: string;
      readonly delivered: boolean;
      /** For a filtered message: the policy and scope that did not match. */
      readonly reason?: string;
    }
  | {
      readonly type: 'received';
      readonly at: number;
      readonly messageId: string;
      readonly deliveryId: string;
      readonly queue: string;
      readonly receiveCount: number;
      readonly groupId?: string;
      /** FIFO queues: the SQS sequence number, to check order within the group. */
      readonly sequenceNumber?: string;
    }
  | {
      readonly type: 'attempt';
      readonly at: number;
      readonly messageId: string;
      readonly deliveryId: string;
      readonly queue: string;
      readonly function: string;
      readonly requestId: string;
      readonly receiveCount: number;
      /** Outcome of the invocation as a whole. */
      readonly outcome: AttemptOutcome;
      /** Whether this record failed (reported, or the whole batch failed). */
      readonly recordFailed: boolean;
      readonly durationMs: number;
      readonly error?: string;
      /** The invocation's log lines (bounded). */
      readonly logs: readonly string[];
    }
  | {
      readonly type: 'deleted';
      readonly at: number;
      readonly messageId: string;
      readonly deliveryId: string;
      readonly queue: string;
      /** From the SQS `SentTimestamp` to the end of the successful attempt. */
      readonly latencyMs: number;
    }
  | {
      /** The delivery will come back after its visibility timeout (or the backoff the handler set). */
      readonly type: 'retry-scheduled';
      readonly at: number;
      readonly messageId: string;
      readonly deliveryId: string;
      readonly queue: string;
      readonly receiveCount: number;
    }
  | {
      /** The delivery failed its last allowed receive: the queue's redrive policy moves it to its DLQ. */
      readonly type: 'dead-lettered';
      readonly at: number;
      readonly messageId: string;
      readonly deliveryId: string;
      readonly queue: string;
      readonly deadLetterQueue: string;
      readonly receiveCount: number;
    };

/** Counters of one queue, as the summary, the terminal and the live page show them. */
export interface QueueCounters {
  /** Messages waiting (ApproximateNumberOfMessages + delayed), as last sampled. */
  depth: number;
  /** Received and not yet deleted or returned. */
  inFlight: number;
  /** Deliveries received by the runner (a retry counts again). */
  received: number;
  /** Deliveries deleted after success. */
  succeeded: number;
  /** Failed attempts that will be retried. */
  retried: number;
  /** Deliveries that reached the queue's DLQ. */
  deadLettered: number;
}

/** Point-in-time view of the whole flow, pushed to the live page and drawn in the terminal. */
export interface FlowSnapshot {
  readonly at: number;
  readonly elapsedMs: number;
  readonly timeScale: number;
  readonly published: number;
  /** Successful deliveries per second over the last 5 s. */
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** By queue display name. */
  readonly queues: Readonly<Record<string, QueueCounters>>;
  /** By topic display name. */
  readonly topics: Readonly<Record<string, { published: number }>>;
  /** By subscription display name. */
  readonly subscriptions: Readonly<Record<string, { delivered: number; filtered: number }>>;
  /** By function display name. */
  readonly functions: Readonly<Record<string, { invocations: number; errors: number; running: number }>>;
}

/** Everything the runner saw of one message, oldest first. */
export interface MessageTrace {
  readonly messageId: string;
  readonly events: readonly FlowEvent[];
  /** Events were dropped to keep the trace bounded. */
  readonly truncated: boolean;
}
