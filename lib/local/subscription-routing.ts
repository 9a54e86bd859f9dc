/**
 * Which subscribed queues a topic message reaches, and which filter policy kept it from the others: what the
 * message trace shows as "routed" or "filtered out". Evaluated with the embedded emulator's own SNS filter-policy
 * matcher (fauxqs), so on the embedded target the trace and the actual deliveries agree by construction.
 *
 * @module
 */
import type { AppModel, LocalQueue, LocalSubscription } from './app-model.js';
import { importFauxqsModule } from './fauxqs-internals.js';

/** A message attribute as SNS sees it. */
export interface TopicMessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
}

export interface TopicMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, TopicMessageAttribute>>;
}

export interface Route {
  readonly subscription: LocalSubscription;
  readonly queue: LocalQueue;
  readonly delivered: boolean;
  /** For a filtered message: the policy and its scope. */
  readonly reason?: string;
}

interface FilterModule {
  matchesFilterPolicy(policy: unknown, attributes: unknown): boolean;
  matchesFilterPolicyOnBody(policy: unknown, body: string): boolean;
}

/** Routes topic messages of `model` to its subscribed queues. */
export class SubscriptionRouter {
  static async create(model: AppModel): Promise<SubscriptionRouter> {
    return new SubscriptionRouter(model, await importFauxqsModule<FilterModule>('./sns/filter.js'));
  }

  private readonly byTopic = new Map<string, { subscription: LocalSubscription; queue: LocalQueue }[]>();

  private constructor(
    model: AppModel,
    private readonly filters: FilterModule,
  ) {
    for (const subscription of model.subscriptions) {
      const queue = model.queues.find((q) => q.arn === subscription.queueArn);
      if (!queue) continue;
      const list = this.byTopic.get(subscription.topicArn) ?? [];
      list.push({ subscription, queue });
      this.byTopic.set(subscription.topicArn, list);
    }
  }

  route(topicArn: string, message: TopicMessage): Route[] {
    return (this.byTopic.get(topicArn) ?? []).map(({ subscription, queue }) => {
      const policy = subscription.filterPolicy;
      if (!policy) return { subscription, queue, delivered: true };
      const onBody = subscription.filterPolicyScope === 'MessageBody';
      const delivered = onBody
        ? this.filters.matchesFilterPolicyOnBody(policy, message.body)
        : this.filters.matchesFilterPolicy(policy, message.attributes);
      return delivered
        ? { subscription, queue, delivered }
        : {
            subscription,
            queue,
            delivered,
            reason: `filter policy ${JSON.stringify(policy)} on the message ${onBody ? 'body' : 'attributes'} did not match`,
          };
    });
  }
}
