/**
 * The contacts path on DynamoDB Local's real stream: ledger writes -> stream -> the mapping's
 * filter (from serverless.yml) -> the contacts batch handler -> contact items. The contact work
 * is what the ledger wrote on the call item (`contactPending`): a miss to apply once it is
 * decided, taken back when the whole call turns out answered.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readStreamEvent } from '../../dev/serverless-config.js';
import { StreamPoller } from '../../dev/stream-poller.js';
import { createTable } from '../../dev/table.js';
import { createCallbackResolver } from '../../lib/callbacks/store.js';
import { createContactsStore } from '../../lib/contacts/store.js';
import { processContactsBatch } from '../../lib/contacts/stream.js';
import { type CallReport, classifyStatusCallback } from '../../lib/ledger/calls.js';
import { createLedger } from '../../lib/ledger/store.js';
import { logger } from '../../lib/platform/log.js';
import { callKey, contactKey } from '../../lib/table/keys.js';
import { parseWebhookConfig } from '../../lib/webhook/config.js';
import { ROUTES } from '../../lib/webhook/handle.js';
import { type Delivery, type Flow, flows } from '../flows.js';
import { ACCOUNT_SID, AUTH_TOKEN, callSid, contactsPoller, dayTotals, freshTable, statusCallback, streamsClient } from '../helpers.js';

let table: Awaited<ReturnType<typeof freshTable>>;
let streamArn: string;
const mapping = readStreamEvent('contacts');
const LINE = '+14155559876';
/** The webhook's own configuration (default settings: short-abandon cut-off 10 s, Dial actions end the call). */
const config = parseWebhookConfig({ TABLE_NAME: 'unused', TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN });

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

const ledger = () => createLedger(table.as('webhook'), { tableName: table.tableName, retentionDays: 90, settings: config.ledger });
const get = async (pk: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;

/** An inbound call's own final status callback saying nobody answered (Twilio's `no-answer` on the root). */
const rootMiss = (overrides: Record<string, string>): CallReport => classifyStatusCallback(statusCallback(overrides));

/** A flow's callback as the webhook's route classifies it. */
function reportOf(delivery: Delivery): CallReport {
  const route = ROUTES.get(delivery.route);
  if (route === undefined) throw new Error(`no route ${delivery.route}`);
  return route.classify(delivery.params, config, { next: undefined });
}

/** A flow's deliveries that match `which`. */
const pick = (flow: Flow, which: (d: Delivery) => boolean): Delivery[] => flow.deliveries.filter(which);
const isRootEnd = (d: Delivery) => d.rootEnd === true;
const legStatus = (status: string) => (d: Delivery) => d.params.ParentCallSid !== undefined && d.params.CallStatus === status;
const flowNamed = (n: number, name: string): Flow => {
  const flow = flows(n).find((f) => f.name === name);
  if (flow === undefined) throw new Error(`no flow ${name}`);
  return flow;
};

/** The day's counters less a baseline, without the zeros. */
async function countersSince(day: string, before: Record<string, number>): Promise<Record<string, number>> {
  const after = await dayTotals(table.docs, table.tableName, day);
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, n]) => [name, n - (before[name] ?? 0)] as const)
      .filter(([, n]) => n !== 0),
  );
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
    const first = rootMiss({ From: number, CallStatus: 'busy', Timestamp: 'Mon, 02 Nov 2026 09:00:00 +0000' });
    const second = rootMiss({ From: number, Timestamp: 'Tue, 03 Nov 2026 09:00:00 +0000' });

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
      createdDay: '2026-11-02',
    });
    expect(contact?.createdAt).toEqual(expect.any(String));
    // Each miss keeps its reason on the callback facts.
    expect(contact?.callbacks.misses).toEqual([
      expect.objectContaining({ callSid: first.rootCallSid, status: 'busy', reason: 'busy', line: LINE }),
      expect.objectContaining({ callSid: second.rootCallSid, status: 'no-answer', reason: 'no-answer', line: LINE }),
    ]);
    // The call item says what was applied, and asks for nothing more.
    const item = await get(callKey(first.rootCallSid));
    expect(item).toMatchObject({ contactApplied: `contact:${number}:busy` });
    expect(item?.contactPending).toBeUndefined();
  });

  it('changes nothing when a record, a whole batch, or the whole stream is replayed', async () => {
    const number = newNumber();
    await ledger().record(rootMiss({ From: number }));
    await main.instance.pollOnce();
    const before = await get(contactKey(number));
    expect(before).toMatchObject({ missedCount: 1 });
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
    const calls = numbers.map((n) => rootMiss({ From: n }));
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
    const day = '2026-11-11';
    const before = await dayTotals(table.docs, table.tableName, day);
    const calls = ['anonymous', 'sip:alice@example.sip.twilio.com', '+266696687'].map((from) =>
      rootMiss({ From: from, Timestamp: 'Wed, 11 Nov 2026 10:00:00 +0000' }),
    );
    for (const call of calls) await ledger().record(call);
    await main.instance.pollOnce();
    await poller().instance.pollOnce();

    expect(await countersSince(day, before)).toMatchObject({ total: 3, anonymous: 3 });
    expect((await countersSince(day, before)).contactsCreated).toBeUndefined();
    expect(await get(contactKey('anonymous'))).toBeUndefined();
    expect(await get(contactKey('+266696687'))).toBeUndefined();
    for (const call of calls) {
      const item = await get(callKey(call.rootCallSid));
      expect(item?.contactApplied).toMatch(/^anonymous:/);
      expect(item?.contactPending).toBeUndefined();
    }
  });

  describe('TTL deletions', () => {
    const number = newNumber();
    const call = rootMiss({ From: number });
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
      expect(result.summary).toMatchObject({ skipped: 1, applied: 0, retracted: 0 });
      const seen = await observer.instance.pollOnce();
      expect(observer.invocations.flat().some((r) => r.eventName === 'REMOVE')).toBe(false);
      expect(seen.filteredOut).toBeGreaterThan(0);
      expect(await get(contactKey(number))).toMatchObject({ missedCount: 1 });
    });
  });
});

describe('a <Dial> nobody answered: child leg, Dial action, root end and reconciliation in every order', () => {
  type Kind = 'child-leg' | 'dial-action' | 'root-end';
  const orders: Kind[][] = [
    ['child-leg', 'dial-action', 'root-end'],
    ['child-leg', 'root-end', 'dial-action'],
    ['dial-action', 'child-leg', 'root-end'],
    ['dial-action', 'root-end', 'child-leg'],
    ['root-end', 'child-leg', 'dial-action'],
    ['root-end', 'dial-action', 'child-leg'],
  ];
  const OFFICE = '+14155550999';
  /** When the callbacks arrive: at the call's end. */
  const ARRIVAL = new Date('2026-11-12T10:00:31.000Z');

  /** One call's callbacks, and the same call as the reconciliation finds it in Twilio's list. */
  function deliveries(caller: string): { root: string; reports: Record<Kind | 'reconcile', CallReport> } {
    const root = callSid();
    const leg = callSid();
    const childLeg = classifyStatusCallback(
      statusCallback({
        CallSid: leg,
        ParentCallSid: root,
        Direction: 'outbound-dial',
        From: LINE,
        To: OFFICE,
        Timestamp: 'Thu, 12 Nov 2026 10:00:30 +0000',
      }),
    );
    const dialAction = reportOf({
      route: '/twilio/dial-status',
      params: {
        AccountSid: ACCOUNT_SID,
        CallSid: root,
        CallStatus: 'in-progress',
        DialCallStatus: 'no-answer',
        DialCallSid: leg,
        DialCallDuration: '0',
        Direction: 'inbound',
        From: caller,
        To: LINE,
      },
    });
    const rootEnd = classifyStatusCallback(
      statusCallback({
        CallSid: root,
        CallStatus: 'completed',
        CallDuration: '31',
        From: caller,
        To: LINE,
        Timestamp: 'Thu, 12 Nov 2026 10:00:31 +0000',
      }),
    );
    // What the reconciliation reports of it: the leg and the root as Twilio's Calls list shows them.
    const reconcile: CallReport = {
      rootCallSid: root,
      accountSid: ACCOUNT_SID,
      legCallSids: [root, leg],
      evidence: [
        { kind: 'leg', legSid: leg, status: 'no-answer', machine: false },
        { kind: 'root', status: 'completed', durationSeconds: 31 },
      ],
      root: { direction: 'inbound', from: caller, to: LINE },
      ends: true,
      reportedAt: undefined,
      startedAt: '2026-11-12T10:00:00.000Z',
      source: 'reconcile',
    };
    return { root, reports: { 'child-leg': childLeg, 'dial-action': dialAction, 'root-end': rootEnd, reconcile } };
  }

  for (const [i, order] of orders.entries()) {
    // The reconciliation's report lands at a different place in each order.
    const full: (Kind | 'reconcile')[] = [...order];
    full.splice(i % 4, 0, 'reconcile');
    it(`counts one miss and one contact increment for the caller: ${full.join(' -> ')}`, async () => {
      const caller = newNumber();
      const { root, reports } = deliveries(caller);
      const day = '2026-11-12';
      const before = await dayTotals(table.docs, table.tableName, day);
      // Stream processing between deliveries (the most interleaved schedule) on even orders,
      // after all of them on odd ones.
      for (const kind of full) {
        await ledger().record(reports[kind], ARRIVAL);
        if (i % 2 === 0) await main.instance.pollOnce();
      }
      await main.instance.pollOnce();
      await poller().instance.pollOnce();

      const contact = await get(contactKey(caller));
      expect(contact).toMatchObject({ missedCount: 1, lastCallSid: root, statusCounts: { 'no-answer': 1 }, createdDay: day });
      // A Dial action carries no Timestamp: a miss it decided (its reply ended the call) is dated
      // when it arrived until the root's end tells when the call started; the contact keeps the
      // time it was applied with (see the report: the call item moves to the start, the contact not).
      expect(['2026-11-12T10:00:00.000Z', ARRIVAL.toISOString()]).toContain(contact?.firstMissedAt);
      expect(await get(contactKey(LINE))).toBeUndefined();
      expect(await get(contactKey(OFFICE))).toBeUndefined();
      const item = await get(callKey(root));
      expect(item).toMatchObject({
        outcome: 'missed',
        reason: 'no-answer',
        customer: caller,
        contactApplied: `contact:${caller}:no-answer`,
      });
      expect(item?.contactPending).toBeUndefined();
      const counters = await countersSince(day, before);
      expect(counters).toMatchObject({ total: 1, 'status:no-answer': 1, 'reason:no-answer': 1, contactsCreated: 1 });
      expect(Object.entries(counters).filter(([name]) => name.startsWith('source:'))).toHaveLength(1);
    });
  }
});

describe('a call first decided missed that turns out answered (a hunt: the cell answered)', () => {
  const DAY = '2026-11-24';
  // The callbacks arrive around the call's end (15:01:21).
  const NOW = new Date('2026-11-24T15:01:30.000Z');
  const deliver = async (deliveries: readonly Delivery[]) => {
    for (const d of deliveries) await ledger().record(reportOf(d), NOW);
  };
  /** What a decided miss adds to its day: the call counters, the new contact and its open callback. */
  const MISS_ON_NEW_CONTACT = {
    total: 1,
    'status:no-answer': 1,
    'source:status-callback': 1,
    'reason:no-answer': 1,
    contactsCreated: 1,
    'callbacks:opened': 1,
  };

  it('takes back the contact (deleted: it was its only miss), the callback and every count', async () => {
    const hunt = flowNamed(30, 'hunt answered by the cell');
    const before = await dayTotals(table.docs, table.tableName, DAY);
    // The root's end and the office leg first: nobody answered, so far.
    await deliver([...pick(hunt, isRootEnd), ...pick(hunt, legStatus('no-answer'))]);
    await main.instance.pollOnce();
    expect(await get(callKey(hunt.root))).toMatchObject({ outcome: 'missed', reason: 'no-answer' });
    expect(await get(contactKey(hunt.caller))).toMatchObject({
      missedCount: 1,
      lastCallSid: hunt.root,
      // The callback is open: on the worklist (its index key) and an opening for the text-back.
      callback: { openSince: '2026-11-24T15:00:00.000Z', openMissedCount: 1, lastReason: 'no-answer' },
      gsi2pk: expect.any(String),
    });
    expect(await countersSince(DAY, before)).toEqual(MISS_ON_NEW_CONTACT);

    // The cell's leg: a person answered after all.
    await deliver(pick(hunt, legStatus('completed')));
    await main.instance.pollOnce();

    // BUG: serverless.yml's ContactsRole allows no dynamodb:DeleteItem, which the retraction's
    // transaction needs to delete a contact left with no miss: refused (AccessDenied), the record
    // is retried and then given up on, and the contact keeps its phantom miss.
    expect(await get(contactKey(hunt.caller))).toBeUndefined();
    expect(await countersSince(DAY, before)).toEqual({});
    const item = await get(callKey(hunt.root));
    expect(item).toMatchObject({ outcome: 'answered' });
    for (const gone of ['countedAs', 'reason', 'contactApplied', 'contactPending']) expect(item?.[gone]).toBeUndefined();
    // Replays of the whole stream change nothing.
    await poller().instance.pollOnce();
    expect(await get(contactKey(hunt.caller))).toBeUndefined();
    expect(await countersSince(DAY, before)).toEqual({});
  });

  it('takes back one miss of a contact that has others: the count, the latest call and the open callback', async () => {
    const hunt = flowNamed(31, 'hunt answered by the cell');
    const earlier = rootMiss({ From: hunt.caller, To: LINE, Timestamp: 'Tue, 24 Nov 2026 14:00:00 +0000' });
    await ledger().record(earlier, new Date('2026-11-24T14:00:05.000Z'));
    await main.instance.pollOnce();
    const withEarlier = await get(contactKey(hunt.caller));
    const before = await dayTotals(table.docs, table.tableName, DAY);

    await deliver([...pick(hunt, legStatus('no-answer')), ...pick(hunt, isRootEnd)]);
    await main.instance.pollOnce();
    expect(await get(contactKey(hunt.caller))).toMatchObject({
      missedCount: 2,
      lastCallSid: hunt.root,
      callback: { openSince: '2026-11-24T14:00:00.000Z', openMissedCount: 2 },
    });

    await deliver(pick(hunt, legStatus('completed')));
    await main.instance.pollOnce();
    const contact = await get(contactKey(hunt.caller));
    expect(contact).toMatchObject({
      missedCount: 1,
      statusCounts: { 'no-answer': 1 },
      lastCallSid: earlier.rootCallSid,
      lastMissedAt: '2026-11-24T14:00:00.000Z',
      recentCallSids: [earlier.rootCallSid],
      callback: { openSince: '2026-11-24T14:00:00.000Z', openMissedCount: 1, lastMissedAt: '2026-11-24T14:00:00.000Z' },
      gsi2pk: withEarlier?.gsi2pk,
      gsi2sk: withEarlier?.gsi2sk,
      gsi1sk: withEarlier?.gsi1sk,
    });
    expect(contact?.callbacks).toEqual(withEarlier?.callbacks);
    // The hunt's counts are gone; the contact was not created by it.
    expect(await countersSince(DAY, before)).toEqual({});
  });

  it('closes the callback the miss opened when the contact keeps an older, resolved one', async () => {
    const hunt = flowNamed(32, 'hunt answered by the cell');
    const earlier = rootMiss({ From: hunt.caller, To: LINE, Timestamp: 'Tue, 24 Nov 2026 13:00:00 +0000' });
    await ledger().record(earlier, new Date('2026-11-24T13:00:05.000Z'));
    await main.instance.pollOnce();
    // Called back at 13:30: that callback is resolved.
    const resolving = callSid();
    await createCallbackResolver(table.as('webhook'), { tableName: table.tableName }).resolve(hunt.caller, {
      id: resolving,
      at: '2026-11-24T13:30:00.000Z',
      by: 'callback',
    });
    const resolved = await get(contactKey(hunt.caller));
    expect(resolved?.callback).toBeUndefined();
    const before = await dayTotals(table.docs, table.tableName, DAY);

    await deliver([...pick(hunt, isRootEnd), ...pick(hunt, legStatus('no-answer'))]);
    await main.instance.pollOnce();
    expect(await get(contactKey(hunt.caller))).toMatchObject({ missedCount: 2, callback: { openSince: '2026-11-24T15:00:00.000Z' } });

    await deliver(pick(hunt, legStatus('completed')));
    await main.instance.pollOnce();
    const contact = await get(contactKey(hunt.caller));
    expect(contact).toMatchObject({ missedCount: 1, lastCallSid: earlier.rootCallSid });
    // BUG: lib/contacts/store.ts withoutMiss spreads `...existing`, so the callback it no longer
    // has stays on the contact (`callback`, `gsi2pk`, `gsi2sk`): it stays on the worklist.
    expect(contact?.callback).toBeUndefined();
    expect(contact?.gsi2pk).toBeUndefined();
    expect(contact?.callbacks).toEqual(resolved?.callbacks);
    expect(await countersSince(DAY, before)).toEqual({});
  });

  it('applies nothing when the answer arrives before the contacts function saw the miss', async () => {
    const hunt = flowNamed(33, 'hunt answered by the cell');
    const before = await dayTotals(table.docs, table.tableName, DAY);
    // Decided missed, then answered, with no stream processing in between.
    await deliver([...pick(hunt, isRootEnd), ...pick(hunt, legStatus('no-answer')), ...pick(hunt, legStatus('completed'))]);
    await main.instance.pollOnce();
    await poller().instance.pollOnce();

    // The decision to `answered` gives the pending contact work a new token: the miss's stream
    // record no longer matches it, and the answered one only clears the mark.
    expect(await get(contactKey(hunt.caller))).toBeUndefined();
    const item = await get(callKey(hunt.root));
    expect(item).toMatchObject({ outcome: 'answered' });
    expect(item?.contactApplied).toBeUndefined();
    expect(item?.contactPending).toBeUndefined();
    expect(await countersSince(DAY, before)).toEqual({});
  });
});

describe('a short-abandoned call (the caller hung up within SHORT_ABANDON_SECONDS)', () => {
  it('is counted, with its reason, but makes no contact and no callback', async () => {
    const flow = flowNamed(34, 'caller hangs up within 10 s (a misdial)');
    const day = '2026-11-24';
    const before = await dayTotals(table.docs, table.tableName, day);
    for (const d of flow.deliveries) await ledger().record(reportOf(d), new Date('2026-11-24T15:00:10.000Z'));
    await main.instance.pollOnce();
    await poller().instance.pollOnce();

    const item = await get(callKey(flow.root));
    expect(item).toMatchObject({ outcome: 'missed', reason: 'short-abandoned', status: 'no-answer', customer: flow.caller });
    expect(item?.contactPending).toBeUndefined();
    expect(item?.contactApplied).toBeUndefined();
    expect(await get(contactKey(flow.caller))).toBeUndefined();
    expect(await countersSince(day, before)).toEqual({
      total: 1,
      'status:no-answer': 1,
      'reason:short-abandoned': 1,
      'source:status-callback': 1,
    });
  });
});

describe('contacts logs', () => {
  it('mask the caller and never print a full number', async () => {
    const number = newNumber();
    await ledger().record(rootMiss({ From: number }));
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
    const calls = Array.from({ length: 10 }, () => rootMiss({ From: number }));
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
    // One record per call passes the filter: its decision (the evidence write asks for no contact work).
    expect(records).toHaveLength(10);

    const store = createContactsStore(table.as('contacts'), { tableName: table.tableName });
    const [a, b] = await Promise.all([processContactsBatch(records.slice(0, 5), store), processContactsBatch(records.slice(5), store)]);
    const again = await processContactsBatch(records, store);

    expect([...a.batchItemFailures, ...b.batchItemFailures, ...again.batchItemFailures]).toEqual([]);
    expect(await get(contactKey(number))).toMatchObject({ missedCount: 10, version: 10 });
  });
});
