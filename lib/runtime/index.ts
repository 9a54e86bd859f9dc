/**
 * queuekit's Lambda runtime: what handlers import. No CDK here; the AWS SDK v3 clients come from the Lambda
 * runtime, so a bundle carries only this code, p-limit and the Powertools Logger.
 *
 * @module
 */
export { backoffDelay, RETRY_BACKOFF_DEFAULTS, type RetryBackoffOptions } from './backoff.js';
export {
  type BatchConsumerOptions,
  type BatchSummary,
  CONSUMER_DEFAULTS,
  type ConsumedMessage,
  type ConsumerContext,
  type MessageHandler,
  processBatch,
  sqsBatchHandler,
} from './batch-consumer.js';
export { packBatches } from './batch-packer.js';
export {
  type ClientConfig,
  type ClientOptions,
  type ClientTarget,
  clientConfig,
  destroyClients,
  resolveTarget,
  s3Client,
  snsClient,
  sqsClient,
} from './clients.js';
export { type ContractOutput, type StandardSchemaV1, validateContract } from './contract.js';
export * from './errors.js';
export type { RuntimeLogger } from './logger.js';
export { runtimeLogger } from './logger.js';
export type { AttributeValue, MessageAttributes, ReceivedAttributeValue } from './message-attributes.js';
export { type LargePayloadOptions, type PayloadPointer, parsePointer, pointerBody } from './payload-offload.js';
export {
  MessageProducer,
  type OutgoingMessage,
  PRODUCER_DEFAULTS,
  type ProducerOptions,
  type SendResult,
  type SentMessage,
} from './producer.js';
