import { sqsBatchHandler } from '../lib/runtime/index.js';
import { BillingEntry, simulateFailure } from './contracts.js';

const balances = new Map<string, number>();

/** Applies billing entries in order per account (FIFO message group = account id); accounts in parallel. */
export const handler = sqsBatchHandler(
  async ({ body: entry, groupId, receiveCount }, { logger }) => {
    simulateFailure(entry.simulate, receiveCount, `billing entry ${entry.jobId}`);
    const account = groupId ?? entry.accountId;
    const balance = (balances.get(account) ?? 0) + entry.units;
    balances.set(account, balance);
    logger.info('ledger entry', { account, jobId: entry.jobId, units: entry.units, balance });
  },
  { contract: BillingEntry },
);
