import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  ContractViolationError,
  processBatch,
  type StandardSchemaV1,
  validateContract,
} from '../../lib/runtime/index.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { sqsEvent } from '../support/sqs-records.js';

interface Order {
  id: string;
  qty: number;
  tag: string;
  customer: { email: string };
}

// The same contract in three libraries: `id` is upper-cased (a transform) and `tag` defaults to 'none'.
const schemas: [string, StandardSchemaV1<unknown, Order>][] = [
  [
    'zod',
    z.object({
      id: z.string().transform((s) => s.toUpperCase()),
      qty: z.number().int().positive(),
      tag: z.string().default('none'),
      customer: z.object({ email: z.email() }),
    }),
  ],
  [
    'valibot',
    v.object({
      id: v.pipe(
        v.string(),
        v.transform((s) => s.toUpperCase()),
      ),
      qty: v.pipe(v.number(), v.integer(), v.minValue(1)),
      tag: v.optional(v.string(), 'none'),
      customer: v.object({ email: v.pipe(v.string(), v.email()) }),
    }),
  ],
  [
    'arktype',
    type({
      id: type('string').pipe((s) => s.toUpperCase()),
      qty: 'number.integer > 0',
      tag: "string = 'none'",
      customer: { email: 'string.email' },
    }) as unknown as StandardSchemaV1<unknown, Order>,
  ],
];

const good = { id: 'ord-1', qty: 2, customer: { email: 'ann@example.com' } };
const bad = { id: 'ord-2', qty: -1, customer: { email: 'not-an-email' } };

describe.each(schemas)('a %s contract', (vendor, contract) => {
  it('hands the handler the schema output; invalid and non-JSON records fail alone and are logged', async () => {
    const logger = new RecordingLogger();
    const seen: { messageId: string; body: Order }[] = [];
    const result = await processBatch<Order>(
      sqsEvent(
        { body: JSON.stringify(good), messageId: 'good' },
        { body: JSON.stringify(bad), messageId: 'bad' },
        { body: '{not json', messageId: 'garbled' },
        { body: JSON.stringify({ ...good, id: 'ord-3', tag: 'vip' }), messageId: 'tagged' },
      ),
      (m) => {
        seen.push({ messageId: m.messageId, body: m.body });
      },
      { logger, contract },
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }, { itemIdentifier: 'garbled' }] });
    expect(seen.sort((a, b) => a.messageId.localeCompare(b.messageId))).toEqual([
      { messageId: 'good', body: { id: 'ORD-1', qty: 2, tag: 'none', customer: { email: 'ann@example.com' } } },
      { messageId: 'tagged', body: { id: 'ORD-3', qty: 2, tag: 'vip', customer: { email: 'ann@example.com' } } },
    ]);

    const failed = logger.named('record failed');
    expect(failed.map((l) => [l.level, l.fields.messageId, l.fields.reason, l.fields.errorName])).toEqual(
      expect.arrayContaining([
        ['error', 'bad', 'contract', 'ContractViolationError'],
        ['error', 'garbled', 'contract', 'ContractViolationError'],
      ]),
    );
    expect(failed).toHaveLength(2);
    const badLine = failed.find((l) => l.fields.messageId === 'bad');
    const issues = badLine?.fields.issues as string[];
    expect(issues).toHaveLength(2);
    expect(issues).toEqual(
      expect.arrayContaining([expect.stringMatching(/^qty: \S/), expect.stringMatching(/^customer\.email: \S/)]),
    );
    expect(badLine?.fields.error).toContain(`(${vendor})`);
    const garbled = failed.find((l) => l.fields.messageId === 'garbled');
    expect(garbled?.fields.issues).toEqual([]);
    expect(garbled?.fields.error).toMatch(/^Body is not JSON/);
  });
});

describe('async contracts', () => {
  it('works with a zod async refine', async () => {
    const contract = z
      .object({ id: z.string() })
      .refine(async (o) => o.id !== 'taken', { message: 'id taken', path: ['id'] });
    const logger = new RecordingLogger();
    const seen: string[] = [];
    const result = await processBatch(
      sqsEvent({ body: '{"id":"free"}', messageId: 'ok' }, { body: '{"id":"taken"}', messageId: 'dup' }),
      (m) => {
        seen.push(m.body.id);
      },
      { logger, contract },
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'dup' }] });
    expect(seen).toEqual(['free']);
    expect(logger.named('record failed')[0]?.fields).toMatchObject({
      messageId: 'dup',
      reason: 'contract',
      issues: ['id: id taken'],
    });
  });

  it('works with a valibot pipeAsync', async () => {
    const contract = v.pipeAsync(
      v.object({ id: v.string() }),
      v.checkAsync(async (o) => o.id !== 'taken', 'id taken'),
      v.transformAsync(async (o) => ({ ...o, checked: true })),
    );
    const logger = new RecordingLogger();
    const seen: unknown[] = [];
    const result = await processBatch(
      sqsEvent({ body: '{"id":"free"}', messageId: 'ok' }, { body: '{"id":"taken"}', messageId: 'dup' }),
      (m) => {
        seen.push(m.body);
      },
      { logger, contract },
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'dup' }] });
    expect(seen).toEqual([{ id: 'free', checked: true }]);
    expect(logger.named('record failed')[0]?.fields).toMatchObject({
      messageId: 'dup',
      reason: 'contract',
      issues: ['id taken'],
    });
  });
});

describe('validateContract', () => {
  it('returns the output, or throws ContractViolationError with every issue', async () => {
    const contract = z.object({ a: z.number(), b: z.object({ c: z.string() }) });
    await expect(validateContract(contract, { a: 1, b: { c: 'x' } })).resolves.toEqual({ a: 1, b: { c: 'x' } });
    const error = await validateContract(contract, { a: 'one', b: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractViolationError);
    expect((error as ContractViolationError).issues).toEqual([
      expect.stringMatching(/^a: \S/),
      expect.stringMatching(/^b\.c: \S/),
    ]);
  });
});
