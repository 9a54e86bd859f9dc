import type { ScenarioDefinition } from '../lib/local/scenario.js';

/** Billing entries are ordered per account (the FIFO message group): twenty accounts, twenty groups in parallel. */
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => `account-${String(i + 1).padStart(2, '0')}`);
/** Job ids are unique per run: they are the billing FIFO's deduplication ids, and a persisted queue remembers them for 5 minutes. */
const RUN = Date.now().toString(36);

/**
 * The reference app's `npm start` traffic: jobs submitted through SubmitJob. One in five is high priority (its
 * body matches the PriorityJobs filter), kinds alternate, and each account's billing entries stay in order on the
 * FIFO ledger.
 */
const scenario: ScenarioDefinition = {
  producer: 'SubmitJob',
  messagesPerRequest: 2,
  payload: (first, kinds) => ({
    requests: kinds.map((kind, i) => {
      const n = first + i;
      return {
        // Runs of three per account, so poison (every 100th) and transient failures (every 50th) hit every account.
        accountId: ACCOUNTS[Math.floor(n / 3) % ACCOUNTS.length],
        kind: n % 2 === 0 ? 'image' : 'text',
        priority: n % 5 === 0 ? 'high' : 'normal',
        prompt: `scenario job ${n}: a watercolour of a lighthouse at dawn`,
        jobId: `job-${RUN}-${n}`,
        ...(kind === 'normal' ? {} : { simulate: kind }),
      };
    }),
  }),
};
export default scenario;
