/**
 * The contacts path on DynamoDB Local's real stream: ledger writes -> stream -> the mapping's
 * filter (from serverless.yml) -> the contacts batch handler -> contact items.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readStreamEvent } from '../../dev/serverless-config.js';
import { StreamPoller } from '../../dev/stream-poller.js';
import { createTable } from '../../dev/table.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { processContactsBatch } from '../../lib/contacts/stream.js';
import { classifyDialAction, classifyStatusCallback, type MissedCall } from '../../lib/ledger/calls.js';
import { createLedger } from '../../lib/ledger/store.js';
import { logger } from '../../lib/platform/log.js';
import { callKey, contactKey, statsKey } from '../../lib/table/keys.js';
import { callSid, contactsPoller, dayTotals, dialAction, freshTable, statusCallback, streamsClient } from '../helpers.js';

let table: Awaited<ReturnType<typeof freshTable>>;
let streamArn: string;
const mapping = readStreamEvent('contacts');

beforeAll(async () => {
  // Without the contacts GSI: DynamoDB Local never TTL-deletes in a table with a GSI (see
  // dev/table.ts), and the TTL test below needs its real REMOVE records.
  table = await freshTable({ withoutIndexes: true });
  const described = await createTable(table.client, table.tableName, { withoutIndexes: true });
  if (described.streamArn === undefined) throw new Error('no stream');
  streamArn = described.streamArn;
});
afterAll(async () => {
  await table.drop();
});

/** A poller with the handler in-process; `tamper` may corrupt records to inject a poison one. */
const poller = (options: Parameters<typeof contactsPoller>[2] = {}) => contactsPoller(table, streamArn, options);

const ledger = () => createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90 });
const get = async (pk: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;

function missed(result: ReturnType<typeof classifyStatusCallback>): MissedCall {
  if (result.kind !== 'missed') throw new Error('fixture is not a missed call');
  return result.call;
}

let nextNumber = 5550100;
const newNumber = () => `+1415${nextNumber++}`;

// One poller reads the table's stream from the start, as the mapping does, for the whole file.
let main: ReturnType<typeof poller>;
beforeAll(() => {
  main = poller();
});

describe('contacts from the stream', () => {
  it('creates a contact on the first missed call and updates it on the next', async () => {
    const number = newNumber();
    const first = missed(
      classifyStatusCallback(statusCallback({ From: number, CallStatus: 'busy', Timestamp: 'Mon, 02 Nov 2026 09:00:00 +0000' }), false),
    );
    const second = missed(classifyStatusCallback(statusCallback({ From: number, Timestamp: 'Tue, 03 Nov 2026 09:00:00 +0000' }), false));

    await ledger().record(first);
    await main.instance.pollOnce();
    expect(await get(contactKey(number))).toMatchObject({ missedCount: 1, statusCounts: { busy: 1 }, lastCallSid: first.rootCallSid });

    await ledger().record(second);
    await main.instance.pollOnce();
    const contact = await get(contactKey(number));
    expect(contact).toMatchObject({
      phone: number,
      missedCount: 2,
      statusCounts: { busy: 1, 'no-answer': 1 },
      firstMissedAt: '2026-11-02T09:00:00.000Z',
      lastMissedAt: '2026-11-03T09:00:00.000Z',
      lastCallSid: second.rootCallSid,
      lastStatus: 'no-answer',
    });
    expect(contact?.createdAt).toEqual(expect.any(String));
    expect(await get(callKey(first.rootCallSid))).toMatchObject({ contactOutcome: `contact:${number}` });
  });

  it('changes nothing when a record, a whole batch, or the whole stream is replayed', async () => {
    const number = newNumber();
    await ledger().record(missed(classifyStatusCallback(statusCallback({ From: number }), false)));
    await main.instance.pollOnce();
    const before = await get(contactKey(number));
    const lastBatch = main.invocations.at(-1) ?? [];
    expect(lastBatch.length).toBeGreaterThan(0);

    const store = createContactsStore(table.as('contacts'), { tableName: table.tableName });
    const replay = await processContactsBatch([...lastBatch, ...lastBatch], store);
    expect(replay.batchItemFailures).toEqual([]);
    expect(replay.summary.alreadyApplied).toBe(lastBatch.length * 2);
    // A second mapping reading the stream from TRIM_HORIZON sees every record again.
    await poller().instance.pollOnce();

    expect(await get(contactKey(number))).toEqual(before);
  });

  it('reports only the poison record failed; the others are applied once', async () => {
    const numbers = [newNumber(), newNumber(), newNumber()];
    const calls = numbers.map((n) => missed(classifyStatusCallback(statusCallback({ From: n }), false)));
    const poisonSid = calls[1]?.rootCallSid;
    for (const call of calls) await ledger().record(call);
    // A mapping whose copy of one record is corrupted (a status no code path accepts).
    const faulty = poller({
      tamper: (records) =>
        records.map((r) =>
          r.dynamodb?.NewImage?.callSid?.S === poisonSid
            ? { ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb?.NewImage, status: { S: 'exploded' } } } }
            : r,
        ),
    });

    await faulty.instance.pollOnce();

    // After the retries and the bisection, only the poison record went to the on-failure destination.
    expect(faulty.failures).toHaveLength(1);
    expect(faulty.failures[0]?.records.map((r) => r.dynamodb?.NewImage?.callSid?.S)).toEqual([poisonSid]);
    expect(await get(contactKey(numbers[0] ?? ''))).toMatchObject({ missedCount: 1 });
    expect(await get(contactKey(numbers[1] ?? ''))).toBeUndefined();
    expect(await get(contactKey(numbers[2] ?? ''))).toMatchObject({ missedCount: 1 });
    // The handler reported exactly the poison record, by its sequence number.
    const batch = faulty.invocations.find((records) => records.some((r) => r.dynamodb?.NewImage?.callSid?.S === poisonSid)) ?? [];
    const poisonSeq = batch.find((r) => r.dynamodb?.NewImage?.callSid?.S === poisonSid)?.dynamodb?.SequenceNumber;
    const response = await processContactsBatch(batch, createContactsStore(table.as('contacts'), { tableName: table.tableName }));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poisonSeq }]);
    // The untampered mapping then applies the real record once.
    await main.instance.pollOnce();
    expect(await get(contactKey(numbers[1] ?? ''))).toMatchObject({ missedCount: 1 });
  });

  it('creates no contact for anonymous and SIP callers, and counts them under anonymous once', async () => {
    const day = 'Wed, 11 Nov 2026 10:00:00 +0000';
    for (const from of ['anonymous', 'sip:alice@example.sip.twilio.com', '+266696687']) {
      await ledger().record(missed(classifyStatusCallback(statusCallback({ From: from, Timestamp: day }), false)));
    }
    await main.instance.pollOnce();
    await poller().instance.pollOnce();

    expect(await get(statsKey('2026-11-11'))).toMatchObject({ total: 3, anonymous: 3 });
    expect(await get(contactKey('anonymous'))).toBeUndefined();
    expect(await get(contactKey('+266696687'))).toBeUndefined();
  });

  describe('TTL deletions', () => {
    const number = newNumber();
    const call = missed(classifyStatusCallback(statusCallback({ From: number }), false));
    // The fixture is a real TTL deletion: the call recorded and applied, its retention run out,
    // and DynamoDB Local's TTL sweep (its own schedule, seconds) deleting it with a service REMOVE.
    beforeAll(async () => {
      await ledger().record(call);
      await main.instance.pollOnce();
      expect(await get(contactKey(number))).toMatchObject({ missedCount: 1 });
      await table.docs.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { pk: callKey(call.rootCallSid) },
          UpdateExpression: 'SET expiresAt = :past',
          ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 60 },
        }),
      );
      const deadline = Date.now() + 60_000;
      while ((await get(callKey(call.rootCallSid))) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    });

    it('ignores TTL deletions (REMOVE records from dynamodb.amazonaws.com)', async () => {
      expect(await get(callKey(call.rootCallSid))).toBeUndefined();

      const removes: DynamoDBRecord[] = [];
      const observer = poller();
      // Read the raw stream (no filter) to see the REMOVE record and hand it to the handler directly.
      const raw = new StreamPoller({
        streams: streamsClient(),
        streamArn,
        region: 'us-east-1',
        config: { ...mapping, filterPatterns: [] },
        invoke: async (event) => {
          removes.push(...event.Records.filter((r) => r.eventName === 'REMOVE'));
          return { batchItemFailures: [] };
        },
        onFailure: () => {},
      });
      await raw.pollOnce();
      const ttlRemove = removes.find((r) => r.dynamodb?.Keys?.pk?.S === callKey(call.rootCallSid));
      expect(ttlRemove?.userIdentity).toMatchObject({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });

      if (ttlRemove === undefined) throw new Error('no REMOVE record for the expired call');
      const result = await processContactsBatch([ttlRemove], createContactsStore(table.as('contacts'), { tableName: table.tableName }));
      expect(result.summary).toMatchObject({ skipped: 1, applied: 0 });
      const seen = await observer.instance.pollOnce();
      expect(observer.invocations.flat().some((r) => r.eventName === 'REMOVE')).toBe(false);
      expect(seen.filteredOut).toBeGreaterThan(0);
      expect(await get(contactKey(number))).toMatchObject({ missedCount: 1 });
    });
  });
});

describe('a <Dial> nobody answered: child leg, Dial action and reconciliation in every order', () => {
  type Delivery = 'child-leg' | 'dial-action' | 'reconcile';
  const orders: Delivery[][] = [
    ['child-leg', 'dial-action', 'reconcile'],
    ['child-leg', 'reconcile', 'dial-action'],
    ['dial-action', 'child-leg', 'reconcile'],
    ['dial-action', 'reconcile', 'child-leg'],
    ['reconcile', 'child-leg', 'dial-action'],
    ['reconcile', 'dial-action', 'child-leg'],
  ];

  function deliveries(caller: string): Record<Delivery, MissedCall> {
    const parent = callSid();
    const child = missed(
      classifyStatusCallback(
        statusCallback({
          ParentCallSid: parent,
          Direction: 'outbound-dial',
          From: '+14155559876',
          To: '+14155550999',
          Timestamp: 'Thu, 12 Nov 2026 10:00:20 +0000',
        }),
        false,
      ),
    );
    const action = missed(classifyDialAction(dialAction({ CallSid: parent, From: caller, To: '+14155559876' }), false));
    const reconcile: MissedCall = {
      rootCallSid: parent,
      legCallSids: [parent],
      line: '+14155559876',
      accountSid: child.accountSid,
      status: 'no-answer',
      direction: 'inbound',
      from: caller,
      to: '+14155559876',
      customer: caller,
      source: 'reconcile',
      startedAt: '2026-11-12T10:00:00.000Z',
      reportedAt: undefined,
    };
    return { 'child-leg': child, 'dial-action': action, reconcile };
  }

  for (const [i, order] of orders.entries()) {
    it(`counts one increment for the caller: ${order.join(' -> ')}`, async () => {
      const caller = newNumber();
      const calls = deliveries(caller);
      // The day is the first delivery's: the child leg's Timestamp, the reconciled start time,
      // or (a Dial action carries no Timestamp) the day it was recorded.
      const days = ['2026-11-12', new Date().toISOString().slice(0, 10)];
      const totals = async () => {
        let sum = 0;
        for (const day of days) sum += (await dayTotals(table.docs, table.tableName, day)).total ?? 0;
        return sum;
      };
      const before = await totals();
      // Stream processing between deliveries (the most interleaved schedule) on even orders,
      // after all of them on odd ones.
      for (const delivery of order) {
        await ledger().record(calls[delivery]);
        if (i % 2 === 0) await main.instance.pollOnce();
      }
      await main.instance.pollOnce();
      await poller().instance.pollOnce();

      expect(await get(contactKey(caller))).toMatchObject({ missedCount: 1, lastCallSid: calls['dial-action'].rootCallSid });
      expect(await get(contactKey('+14155559876'))).toBeUndefined();
      expect(await get(contactKey('+14155550999'))).toBeUndefined();
      const item = await get(callKey(calls['dial-action'].rootCallSid));
      expect(item).toMatchObject({ customer: caller, contactOutcome: `contact:${caller}` });
      expect(await totals()).toBe(before + 1);
    });
  }
});

describe('contacts logs', () => {
  it('mask the caller and never print a full number', async () => {
    const number = newNumber();
    await ledger().record(missed(classifyStatusCallback(statusCallback({ From: number }), false)));
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    logger.setLogLevel('INFO');
    try {
      await main.instance.pollOnce();
    } finally {
      logger.setLogLevel('SILENT');
      spy.mockRestore();
    }
    const text = lines.join('');
    expect(await get(contactKey(number))).toMatchObject({ missedCount: 1 });
    expect(text).toContain(`"customer":"+*******${number.slice(-4)}"`);
    expect(text).not.toContain(number);
  });
});

describe('concurrent batches for one number', () => {
  it('counts every call once when two batches race on the same contact', async () => {
    const number = newNumber();
    await main.instance.pollOnce();
    const calls = Array.from({ length: 10 }, () => missed(classifyStatusCallback(statusCallback({ From: number }), false)));
    for (const call of calls) await ledger().record(call);
    const records: DynamoDBRecord[] = [];
    const collector = new StreamPoller({
      streams: streamsClient(),
      streamArn,
      region: 'us-east-1',
      config: mapping,
      invoke: async (event) => {
        records.push(...event.Records.filter((r) => calls.some((c) => c.rootCallSid === r.dynamodb?.NewImage?.callSid?.S)));
        return { batchItemFailures: [] };
      },
      onFailure: () => {},
    });
    await collector.pollOnce();
    expect(records).toHaveLength(10);

    const store = createContactsStore(table.as('contacts'), { tableName: table.tableName });
    const [a, b] = await Promise.all([processContactsBatch(records.slice(0, 5), store), processContactsBatch(records.slice(5), store)]);
    const again = await processContactsBatch(records, store);

    expect([...a.batchItemFailures, ...b.batchItemFailures, ...again.batchItemFailures]).toEqual([]);
    expect(await get(contactKey(number))).toMatchObject({ missedCount: 10, version: 10 });
  });
});
