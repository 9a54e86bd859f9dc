import type { ScenarioDefinition } from '../../../lib/local/scenario.js';
import type { OutgoingMessage } from './handlers/publisher.js';

/** Unique per run: LocalStack keeps queues between runs. */
const RUN = Date.now().toString(36);

/**
 * The dashboard test's traffic through Publisher: each request puts one item on Work (poison and transient kinds
 * as the scenario asks) and publishes one event on the topic.
 */
const scenario: ScenarioDefinition = {
  producer: 'Publisher',
  messagesPerRequest: 2,
  payload: (first, kinds) => ({
    messages: kinds.flatMap((kind, i): OutgoingMessage[] => {
      const id = `scenario-${RUN}-${first + i}`;
      return [
        { to: 'work', body: { id, poison: kind === 'poison', failOnce: kind === 'transient-error' } },
        { to: 'events', body: { id, priority: i % 3 === 0 ? 'high' : 'normal' }, attributes: { kind: 'image' } },
      ];
    }),
  }),
};
export default scenario;
