import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyDialAction, classifyStatusCallback, type MissedCall } from '../../lib/ledger/calls.js';
import { createLedger } from '../../lib/ledger/store.js';
import { TableUnavailableError } from '../../lib/table/items.js';
import { callKey, statsKey, statsWriteKey } from '../../lib/table/keys.js';
import { callSid, dayTotals, dialAction, freshTable, scanAll, statusCallback } from '../helpers.js';

function missed(params: Record<string, string>, classify = classifyStatusCallback): MissedCall {
  const result = classify(params, false);
  if (result.kind !== 'missed') throw new Error('fixture is not a missed call');
  return result.call;
}

let table: Awaited<ReturnType<typeof freshTable>>;
beforeAll(async () => {
  table = await freshTable();
});
afterAll(async () => {
  await table.drop();
});

const get = async (pk: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;

describe('ledger on DynamoDB Local', () => {
  it('records a missed call once with all its fields, TTL and the day counters', async () => {
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
    const call = missed(statusCallback({ Timestamp: 'Mon, 02 Nov 2026 23:59:59 +0000' }));
    const now = new Date('2026-11-03T00:00:05.000Z');

    await expect(ledger.record(call, now)).resolves.toEqual({ outcome: 'recorded', day: '2026-11-02' });

    const item = await get(callKey(call.rootCallSid));
    expect(item).toEqual({
      pk: callKey(call.rootCallSid),
      type: 'call',
      callSid: call.rootCallSid,
      legSids: new Set([call.rootCallSid]),
      accountSid: call.accountSid,
      status: 'no-answer',
      direction: 'inbound',
      from: '+14155550123',
      to: '+14155559876',
      customer: '+14155550123',
      line: '+14155559876',
      source: 'status-callback',
      reportedAt: '2026-11-02T23:59:59.000Z',
      occurredAt: '2026-11-02T23:59:59.000Z',
      recordedAt: '2026-11-03T00:00:05.000Z',
      day: '2026-11-02',
      expiresAt: Math.floor(now.getTime() / 1000) + 90 * 86_400,
    });
    // Recorded the next day: 2026-11-02 is yesterday, a live day, so the count is on the CallSid's shard.
    expect(await get(statsWriteKey('2026-11-02', call.rootCallSid, '2026-11-03T00:00:05.000Z'))).toMatchObject({
      total: 1,
      'status:no-answer': 1,
      'source:status-callback': 1,
    });
    expect(await dayTotals(table.docs, table.tableName, '2026-11-02')).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:status-callback': 1,
    });
  });

  it('treats a second delivery as a duplicate and counts nothing', async () => {
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 30 });
    const call = missed(statusCallback({ Timestamp: 'Tue, 03 Nov 2026 10:00:00 +0000', CallStatus: 'busy' }));
    await ledger.record(call);
    const before = await get(callKey(call.rootCallSid));

    await expect(ledger.record(call)).resolves.toEqual({ outcome: 'duplicate', merged: false });
    await expect(ledger.record({ ...call, status: 'failed', source: 'reconcile' })).resolves.toEqual({
      outcome: 'duplicate',
      merged: false,
    });

    expect(await get(callKey(call.rootCallSid))).toEqual(before);
    expect(await get(statsKey('2026-11-03'))).toMatchObject({ total: 1, 'status:busy': 1, 'source:status-callback': 1 });
    expect((await get(statsKey('2026-11-03')))?.['status:failed']).toBeUndefined();
  });

  it('counts two child legs and the Dial action of one caller once, and keeps every leg', async () => {
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
    const parent = callSid();
    const day = 'Wed, 04 Nov 2026 08:00:00 +0000';
    const legA = missed(statusCallback({ ParentCallSid: parent, Direction: 'outbound-dial', CallStatus: 'no-answer', Timestamp: day }));
    const legB = missed(statusCallback({ ParentCallSid: parent, Direction: 'outbound-dial', CallStatus: 'busy', Timestamp: day }));
    const action = missed(dialAction({ CallSid: parent, Timestamp: day }), classifyDialAction);

    expect((await ledger.record(legA)).outcome).toBe('recorded');
    expect(await ledger.record(legB)).toEqual({ outcome: 'duplicate', merged: true });
    expect(await ledger.record(action)).toEqual({ outcome: 'duplicate', merged: true });

    const item = await get(callKey(parent));
    expect(item?.legSids).toEqual(new Set([parent, legA.legCallSids[1], legB.legCallSids[1], action.legCallSids[1]]));
    // The child leg does not carry the caller; the Dial action fills it in.
    expect(item?.customer).toBe('+14155550123');
    expect(item?.status).toBe('no-answer');
    expect(await get(statsKey('2026-11-04'))).toMatchObject({ total: 1, 'status:no-answer': 1, 'source:status-callback': 1 });
  });

  it('leaves exactly one item and counters +1 after 50 concurrent deliveries of one call', async () => {
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
    const call = missed(statusCallback({ Timestamp: 'Thu, 05 Nov 2026 12:00:00 +0000' }));

    const results = await Promise.all(Array.from({ length: 50 }, () => ledger.record(call)));

    expect(results.filter((r) => r.outcome === 'recorded')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(49);
    const items = (await scanAll(table.docs, table.tableName)).filter((i) => i.pk === callKey(call.rootCallSid));
    expect(items).toHaveLength(1);
    expect(await get(statsKey('2026-11-05'))).toMatchObject({ total: 1, 'status:no-answer': 1, 'source:status-callback': 1 });
  });

  it('counts 20 different concurrent calls of one day exactly', async () => {
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
    const calls = Array.from({ length: 20 }, (_, i) =>
      missed(statusCallback({ Timestamp: 'Fri, 06 Nov 2026 12:00:00 +0000', CallStatus: i % 2 === 0 ? 'busy' : 'failed' })),
    );
    await Promise.all(calls.flatMap((call) => [ledger.record(call), ledger.record(call)]));
    expect(await get(statsKey('2026-11-06'))).toMatchObject({
      total: 20,
      'status:busy': 10,
      'status:failed': 10,
      'source:status-callback': 20,
    });
  });

  it('writes nothing when the counter update fails inside the transaction', async () => {
    const ledger = createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
    // A counters item whose `total` is a string: ADD fails, so the whole transaction must.
    await table.docs.send(new PutCommand({ TableName: table.tableName, Item: { pk: statsKey('2026-11-07'), total: 'corrupt' } }));
    const call = missed(statusCallback({ Timestamp: 'Sat, 07 Nov 2026 12:00:00 +0000' }));

    await expect(ledger.record(call)).rejects.toThrow(TableUnavailableError);

    expect(await get(callKey(call.rootCallSid))).toBeUndefined();
    expect(await get(statsKey('2026-11-07'))).toEqual({ pk: statsKey('2026-11-07'), total: 'corrupt' });
  });
});

describe('ledger under injected faults', () => {
  /** Cancels the first `failures` transactions with a conflict, then passes through to DynamoDB Local. */
  function conflicting(docs: DynamoDBDocumentClient, failures: number): { client: DynamoDBDocumentClient; attempts: () => number } {
    let attempts = 0;
    const client = new Proxy(docs, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
          if (command.constructor.name === 'TransactWriteCommand') {
            attempts += 1;
            if (attempts <= failures) {
              throw new TransactionCanceledException({
                message: 'Transaction cancelled',
                $metadata: {},
                CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
              });
            }
          }
          return target.send(command);
        };
      },
    });
    return { client, attempts: () => attempts };
  }

  it('retries a transaction conflict and records the call once', async () => {
    const fault = conflicting(table.as('webhook'), 2);
    const ledger = createLedger(fault.client, { tableName: table.tableName, retentionDays: 90, sleep: async () => {} });
    const call = missed(statusCallback({ Timestamp: 'Sun, 08 Nov 2026 12:00:00 +0000' }));

    await expect(ledger.record(call)).resolves.toEqual({ outcome: 'recorded', day: '2026-11-08' });

    expect(fault.attempts()).toBe(3);
    expect(await get(statsKey('2026-11-08'))).toMatchObject({ total: 1 });
  });

  it('gives up after maxAttempts with TableUnavailableError and writes nothing', async () => {
    const fault = conflicting(table.as('webhook'), 100);
    const ledger = createLedger(fault.client, { tableName: table.tableName, retentionDays: 90, maxAttempts: 4, sleep: async () => {} });
    const call = missed(statusCallback({ Timestamp: 'Mon, 09 Nov 2026 12:00:00 +0000' }));

    await expect(ledger.record(call)).rejects.toThrow('The ledger transaction was cancelled (TransactionConflict, None)');

    expect(fault.attempts()).toBe(4);
    expect(await get(callKey(call.rootCallSid))).toBeUndefined();
  });
});
