/**
 * The ledger store on DynamoDB Local (lib/ledger/store.ts): evidence recorded as it arrives, the
 * call decided from all of it, exact day counters through duplicates, concurrency, corrections
 * and faults, the settle sweep, and call items written by version 0.1.0.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKnownCall, parsePendingCall } from '../../lib/ledger/call-item.js';
import { classifyDialAction, classifyStatusCallback } from '../../lib/ledger/calls.js';
import { readLedgerSettings } from '../../lib/ledger/settings.js';
import { settleDue } from '../../lib/ledger/settle.js';
import { createLedger, type LedgerOptions } from '../../lib/ledger/store.js';
import { TableUnavailableError } from '../../lib/table/items.js';
import { callKey, settleShard, statsKey, statsWriteKey } from '../../lib/table/keys.js';
import { callSid, dayTotals, dialAction, freshTable, LEDGER_SETTINGS, scanAll, statusCallback } from '../helpers.js';

let table: Awaited<ReturnType<typeof freshTable>>;
beforeAll(async () => {
  table = await freshTable();
});
afterAll(async () => {
  await table.drop();
});

const ledgerOf = (client: DynamoDBDocumentClient = table.as('webhook'), options: Partial<LedgerOptions> = {}) =>
  createLedger(client, { tableName: table.tableName, retentionDays: 90, settings: LEDGER_SETTINGS, ...options });

const get = async (pk: string) =>
  (await table.docs.send(new GetCommand({ TableName: table.tableName, Key: { pk }, ConsistentRead: true }))).Item;

/** The day's counters less a baseline (counters that did not move left out). */
async function countersSince(day: string, before: Record<string, number>): Promise<Record<string, number>> {
  const after = await dayTotals(table.docs, table.tableName, day);
  return Object.fromEntries(
    [...new Set([...Object.keys(after), ...Object.keys(before)])]
      .map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)] as const)
      .filter(([, n]) => n !== 0),
  );
}

/** Counts the commands a client sends, by name: an oracle for the `requests` a result reports. */
function counting(docs: DynamoDBDocumentClient) {
  const sent: Record<string, number> = {};
  const client = new Proxy(docs, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        sent[command.constructor.name] = (sent[command.constructor.name] ?? 0) + 1;
        return target.send(command);
      };
    },
  });
  const requests = () => ({
    reads: sent.GetCommand ?? 0,
    writes: (sent.UpdateCommand ?? 0) + (sent.TransactWriteCommand ?? 0) + (sent.PutCommand ?? 0),
  });
  return { client, requests, sent };
}

/** A `<Dial>` child leg's status callback. */
const leg = (parent: string, status: string, extra: Record<string, string> = {}) =>
  statusCallback({
    ParentCallSid: parent,
    Direction: 'outbound-dial',
    From: '+14155559876',
    To: '+14155550181',
    CallStatus: status,
    ...extra,
  });

describe('ledger on DynamoDB Local', () => {
  it('records a root’s no-answer as a decided miss, once, with all its fields, TTL and the day counters', async () => {
    const counted = counting(table.as('webhook'));
    const ledger = ledgerOf(counted.client);
    const params = statusCallback({ Timestamp: 'Mon, 02 Nov 2026 23:59:59 +0000' });
    const root = params.CallSid;
    const now = new Date('2026-11-03T00:00:05.000Z');

    const result = await ledger.record(classifyStatusCallback(params), now);
    expect(result).toEqual({ outcome: 'missed', reason: 'no-answer', counted: 'new', requests: counted.requests() });
    // The evidence, then the decision with its counters in one transaction.
    expect(counted.sent).toEqual({ UpdateCommand: 1, TransactWriteCommand: 1 });

    expect(await get(callKey(root))).toEqual({
      pk: callKey(root),
      type: 'call',
      callSid: root,
      legSids: new Set([root]),
      accountSid: params.AccountSid,
      direction: 'inbound',
      from: '+14155550123',
      to: '+14155559876',
      customer: '+14155550123',
      line: '+14155559876',
      rootStatus: 'no-answer',
      rootDuration: 0,
      startedAt: '2026-11-02T23:59:59.000Z',
      firstEvidenceAt: '2026-11-02T23:59:59.000Z',
      lastEvidenceAt: now.toISOString(),
      recordedAt: now.toISOString(),
      endedAt: now.toISOString(),
      // Twilio's own time of the root's end (a late apply asks Twilio what came after it).
      endReportedAt: '2026-11-02T23:59:59.000Z',
      lastReportedAt: '2026-11-02T23:59:59.000Z',
      ev: 1,
      expiresAt: Math.floor(now.getTime() / 1000) + 90 * 86_400,
      outcome: 'missed',
      reason: 'no-answer',
      status: 'no-answer',
      afterHours: false,
      day: '2026-11-02',
      occurredAt: '2026-11-02T23:59:59.000Z',
      source: 'status-callback',
      decidedAt: now.toISOString(),
      knownAt: '2026-11-02T23:59:59.000Z',
      countedAs: '2026-11-02|no-answer|status-callback|no-answer|0',
      // The contacts function's work: apply this miss to the caller's contact.
      contactPending: expect.any(String),
    });
    // Recorded the next day: 2026-11-02 is yesterday, a live day, so the count is on the CallSid's shard.
    const counters = { total: 1, 'status:no-answer': 1, 'source:status-callback': 1, 'reason:no-answer': 1 };
    expect(await get(statsWriteKey('2026-11-02', root, now.toISOString()))).toMatchObject(counters);
    expect(await dayTotals(table.docs, table.tableName, '2026-11-02')).toEqual(counters);
  });

  it('treats a repeated delivery as a duplicate: nothing counted again, the outcome, day and TTL as first written', async () => {
    const ledger = ledgerOf();
    const report = classifyStatusCallback(statusCallback({ Timestamp: 'Tue, 03 Nov 2026 10:00:00 +0000', CallStatus: 'busy' }));
    const first = new Date('2026-11-03T10:00:01.000Z');
    await ledger.record(report, first);
    const before = await get(callKey(report.rootCallSid));

    const again = await ledger.record(report, new Date('2026-11-03T10:05:00.000Z'));
    expect(again).toMatchObject({ outcome: 'missed', reason: 'busy', counted: 'unchanged' });

    const after = await get(callKey(report.rootCallSid));
    // Only the evidence bookkeeping moved (one more delivery, its time).
    expect({ ...after, ev: 0, lastEvidenceAt: '' }).toEqual({ ...before, ev: 0, lastEvidenceAt: '' });
    expect(after?.expiresAt).toBe(Math.floor(first.getTime() / 1000) + 90 * 86_400);
    expect(await dayTotals(table.docs, table.tableName, '2026-11-03')).toEqual({
      total: 1,
      'status:busy': 1,
      'source:status-callback': 1,
      'reason:busy': 1,
    });
  });

  it('keeps a hunt’s legs and Dial action as evidence, undecided, and decides it once at the root’s end', async () => {
    const ledger = ledgerOf();
    const parent = callSid();
    const day = 'Wed, 04 Nov 2026 08:00:40 +0000';
    const now = new Date('2026-11-04T08:00:41.000Z');
    const legA = classifyStatusCallback(leg(parent, 'no-answer', { Timestamp: day }));
    const legB = classifyStatusCallback(leg(parent, 'busy', { Timestamp: day }));
    // The Dial action's reply goes on (a second <Dial>): it does not end the call.
    const action = classifyDialAction(dialAction({ CallSid: parent, DialCallStatus: 'no-answer' }), false);

    for (const report of [legA, legB, action]) {
      expect(await ledger.record(report, now)).toMatchObject({ outcome: 'undecided', counted: 'unchanged' });
    }
    expect(await get(callKey(parent))).toMatchObject({ gsi1pk: expect.stringMatching(/^SETTLE#/), customer: '+14155550123' });
    expect(await dayTotals(table.docs, table.tableName, '2026-11-04')).toEqual({});

    const end = classifyStatusCallback(statusCallback({ CallSid: parent, CallStatus: 'completed', CallDuration: '40', Timestamp: day }));
    expect(await ledger.record(end, now)).toMatchObject({ outcome: 'missed', reason: 'no-answer', counted: 'new' });

    const item = await get(callKey(parent));
    expect(item?.legSids).toEqual(new Set([parent, legA.legCallSids[1], legB.legCallSids[1], action.legCallSids[1]]));
    // The child legs do not carry the caller; the Dial action filled it in.
    expect(item).toMatchObject({ customer: '+14155550123', outcome: 'missed', occurredAt: '2026-11-04T08:00:00.000Z' });
    expect(item?.gsi1pk).toBeUndefined();
    expect(await dayTotals(table.docs, table.tableName, '2026-11-04')).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:status-callback': 1,
      'reason:no-answer': 1,
    });
  });

  it('decides a hunt the second phone answered answered, one write for the answer, nothing counted', async () => {
    const counted = counting(table.as('webhook'));
    const ledger = ledgerOf(counted.client);
    const parent = callSid();
    const at = 'Thu, 05 Nov 2026 08:01:20 +0000';
    await ledger.record(classifyStatusCallback(leg(parent, 'no-answer', { Timestamp: at })));
    const before = counted.requests();
    const answered = await ledger.record(classifyStatusCallback(leg(parent, 'completed', { CallDuration: '62', Timestamp: at })));
    expect(answered).toEqual({ outcome: 'answered', counted: 'unchanged', requests: { reads: 0, writes: 1 } });
    expect(counted.requests()).toEqual({ reads: before.reads, writes: before.writes + 1 });
    const end = classifyStatusCallback(statusCallback({ CallSid: parent, CallStatus: 'completed', CallDuration: '81', Timestamp: at }));
    expect(await ledger.record(end)).toMatchObject({ outcome: 'answered', counted: 'unchanged' });

    const item = await get(callKey(parent));
    expect(item).toMatchObject({ outcome: 'answered' });
    for (const name of ['countedAs', 'reason', 'gsi1pk', 'contactPending']) expect(item).not.toHaveProperty(name);
    expect(await dayTotals(table.docs, table.tableName, '2026-11-05')).toEqual({});
  });

  it('corrects a miss when a late leg shows a person answered: counters taken back exactly, the contact asked to take it back', async () => {
    const ledger = ledgerOf();
    const parent = callSid();
    const at = 'Fri, 06 Nov 2026 08:01:21 +0000';
    const before = await dayTotals(table.docs, table.tableName, '2026-11-06');
    await ledger.record(classifyStatusCallback(leg(parent, 'no-answer', { Timestamp: at })));
    const end = classifyStatusCallback(statusCallback({ CallSid: parent, CallStatus: 'completed', CallDuration: '81', Timestamp: at }));
    expect(await ledger.record(end)).toMatchObject({ outcome: 'missed', reason: 'no-answer', counted: 'new' });
    expect(await countersSince('2026-11-06', before)).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:status-callback': 1,
      'reason:no-answer': 1,
    });
    // The contacts function applied the miss (what it writes on the call item when it does).
    const missed = await get(callKey(parent));
    await table.docs.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: callKey(parent) },
        UpdateExpression: 'SET contactApplied = :applied, contactAppliedAt = :now REMOVE contactPending',
        ConditionExpression: 'contactPending = :token',
        ExpressionAttributeValues: { ':applied': 'contact:+14155550123:no-answer', ':now': 'x', ':token': missed?.contactPending },
      }),
    );

    // The cell's leg, answered, arrives last.
    const late = await ledger.record(classifyStatusCallback(leg(parent, 'completed', { CallDuration: '62', Timestamp: at })));
    expect(late).toMatchObject({ outcome: 'answered', counted: 'removed' });
    expect(await countersSince('2026-11-06', before)).toEqual({});
    const item = await get(callKey(parent));
    expect(item).toMatchObject({ outcome: 'answered' });
    expect(item).not.toHaveProperty('countedAs');
    expect(parsePendingCall(item ?? {})).toMatchObject({ action: 'retract', rootCallSid: parent, customer: '+14155550123' });
    // Delivered again: nothing more.
    const again = await ledger.record(classifyStatusCallback(leg(parent, 'completed', { CallDuration: '62', Timestamp: at })));
    expect(again).toMatchObject({ outcome: 'answered', counted: 'unchanged' });
    expect(await countersSince('2026-11-06', before)).toEqual({});
  });

  it('counts a call once when two deliveries decide it from the same evidence at the same time', async () => {
    // Deterministic: B's evidence lands, then A's; B's first decision loses (the evidence moved),
    // B decides again from what A saw while A's own decision is still in flight.
    const signal = () => {
      let open: () => void = () => {};
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      return { open, opened };
    };
    const bFirstDecision = signal();
    const aEvidence = signal();
    const bDone = signal();
    const gated = (docs: DynamoDBDocumentClient, before: (name: string, n: number) => Promise<void>, after: (name: string) => void) => {
      const seen: Record<string, number> = {};
      return new Proxy(docs, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
            const name = command.constructor.name;
            seen[name] = (seen[name] ?? 0) + 1;
            await before(name, seen[name] ?? 0);
            const out = await target.send(command);
            after(name);
            return out;
          };
        },
      });
    };
    const a = ledgerOf(
      gated(
        table.as('webhook'),
        async (name) => {
          if (name === 'TransactWriteCommand') await bDone.opened;
        },
        (name) => {
          if (name === 'UpdateCommand') aEvidence.open();
        },
      ),
    );
    const b = ledgerOf(
      gated(
        table.as('webhook'),
        async (name, n) => {
          if (name === 'TransactWriteCommand' && n === 1) {
            bFirstDecision.open();
            await aEvidence.opened;
          }
        },
        () => {},
      ),
    );
    const report = classifyStatusCallback(statusCallback({ Timestamp: 'Tue, 17 Nov 2026 12:00:00 +0000' }));
    const bResult = b.record(report).finally(() => bDone.open());
    await bFirstDecision.opened;
    const results = await Promise.all([a.record(report), bResult]);

    expect(results.map((r) => r.counted).sort()).toEqual(['new', 'unchanged']);
    // A decision does not change the evidence count: it is guarded by what was counted too, so two
    // decisions made from the same evidence cannot both add the counters.
    expect(await dayTotals(table.docs, table.tableName, '2026-11-17')).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:status-callback': 1,
      'reason:no-answer': 1,
    });
  });

  it('leaves exactly one item and the counters +1 after 50 concurrent deliveries of one call', async () => {
    // Concurrent deliveries decide from the same evidence: one of them counts the call.
    const ledger = ledgerOf();
    const report = classifyStatusCallback(statusCallback({ Timestamp: 'Sat, 07 Nov 2026 12:00:00 +0000' }));

    const now = new Date('2026-11-07T12:00:05.000Z');
    const results = await Promise.all(Array.from({ length: 50 }, () => ledger.record(report, now)));

    expect(results.filter((r) => r.counted === 'new')).toHaveLength(1);
    expect(results.filter((r) => r.counted === 'unchanged')).toHaveLength(49);
    expect(results.every((r) => r.outcome === 'missed' && r.reason === 'no-answer')).toBe(true);
    const items = (await scanAll(table.docs, table.tableName)).filter((i) => i.pk === callKey(report.rootCallSid));
    expect(items).toHaveLength(1);
    expect(items[0]?.ev).toBe(50);
    expect(await dayTotals(table.docs, table.tableName, '2026-11-07')).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:status-callback': 1,
      'reason:no-answer': 1,
    });
  });

  it('ends answered with nothing counted when every callback of an answered hunt arrives 10 times at once', async () => {
    const ledger = ledgerOf();
    const parent = callSid();
    const at = 'Sun, 08 Nov 2026 12:01:21 +0000';
    const reports = [
      classifyStatusCallback(leg(parent, 'no-answer', { Timestamp: at })),
      classifyStatusCallback(leg(parent, 'completed', { CallDuration: '62', Timestamp: at })),
      classifyStatusCallback(statusCallback({ CallSid: parent, CallStatus: 'completed', CallDuration: '81', Timestamp: at })),
    ];
    const results = await Promise.all(reports.flatMap((report) => Array.from({ length: 10 }, () => ledger.record(report))));
    // Some deliveries may have seen the miss the root's end alone made, before the answer: never after.
    expect(results.filter((r) => r.counted === 'new').length).toBe(results.filter((r) => r.counted === 'removed').length);
    expect(await get(callKey(parent))).toMatchObject({ outcome: 'answered' });
    // A miss counted then taken back leaves its counters at 0.
    expect(Object.values(await dayTotals(table.docs, table.tableName, '2026-11-08')).every((n) => n === 0)).toBe(true);
  });

  it('counts 20 different concurrent calls of one day exactly', async () => {
    // Two deliveries of a call that decide from the same evidence: one counts it.
    const ledger = ledgerOf();
    const reports = Array.from({ length: 20 }, (_, i) =>
      classifyStatusCallback(statusCallback({ Timestamp: 'Mon, 09 Nov 2026 12:00:00 +0000', CallStatus: i % 2 === 0 ? 'busy' : 'failed' })),
    );
    // Recorded on their day (a live day: the counters spread over the day's shards, as in production).
    const now = new Date('2026-11-09T12:00:05.000Z');
    await Promise.all(reports.flatMap((report) => [ledger.record(report, now), ledger.record(report, now)]));
    expect(await dayTotals(table.docs, table.tableName, '2026-11-09')).toEqual({
      total: 20,
      'status:busy': 10,
      'status:failed': 10,
      'reason:busy': 10,
      'reason:failed': 10,
      'source:status-callback': 20,
    });
  });

  it('marks a miss outside BUSINESS_HOURS afterHours, on the item and the counters', async () => {
    const hours = createLedger(table.as('webhook'), {
      tableName: table.tableName,
      retentionDays: 90,
      settings: readLedgerSettings({ BUSINESS_HOURS: 'Mon-Fri 09:00-17:00', TIME_ZONE: 'America/New_York' }),
    });
    // 03:00 UTC on a Tuesday is 22:00 on Monday in New York: closed.
    const open = classifyStatusCallback(statusCallback({ Timestamp: 'Tue, 10 Nov 2026 15:00:00 +0000' }));
    await hours.record(open);
    expect(await get(callKey(open.rootCallSid))).toMatchObject({
      afterHours: false,
      countedAs: '2026-11-10|no-answer|status-callback|no-answer|0',
    });
    const report = classifyStatusCallback(statusCallback({ Timestamp: 'Tue, 10 Nov 2026 03:00:00 +0000' }));
    await hours.record(report);
    expect(await get(callKey(report.rootCallSid))).toMatchObject({
      afterHours: true,
      countedAs: '2026-11-10|no-answer|status-callback|no-answer|1',
    });
    expect(await dayTotals(table.docs, table.tableName, '2026-11-10')).toMatchObject({ total: 2, afterHours: 1 });
  });
});

describe('the settle sweep', () => {
  let own: Awaited<ReturnType<typeof freshTable>>;
  beforeAll(async () => {
    own = await freshTable();
  });
  afterAll(async () => {
    await own.drop();
  });

  it('decides a call whose final callback never came, settleSeconds after its last evidence and not before', async () => {
    const ledger = createLedger(own.as('webhook'), { tableName: own.tableName, retentionDays: 90, settings: LEDGER_SETTINGS });
    const parent = callSid();
    const t0 = new Date('2026-11-11T10:00:00.000Z');
    const report = classifyStatusCallback(leg(parent, 'no-answer', { Timestamp: 'Wed, 11 Nov 2026 10:00:00 +0000' }));
    await ledger.record(report, t0);
    // A second leg 30 s later moves the settle time.
    const t1 = new Date(t0.getTime() + 30_000);
    await ledger.record(classifyStatusCallback(leg(parent, 'no-answer', { Timestamp: 'Wed, 11 Nov 2026 10:00:30 +0000' })), t1);
    const settleAt = t1.getTime() + LEDGER_SETTINGS.settleSeconds * 1000;

    expect(await settleDue(own.as('webhook'), own.tableName, ledger, new Date(settleAt - 1000))).toMatchObject({
      due: 0,
      missed: 0,
      answered: 0,
      notMissed: 0,
      moved: 0,
    });
    expect(await ledger.settle(parent, new Date(settleAt - 1000))).toMatchObject({ due: false, outcome: 'undecided' });

    const summary = await settleDue(own.as('webhook'), own.tableName, ledger, new Date(settleAt));
    expect(summary).toMatchObject({ due: 1, missed: 1, answered: 0, notMissed: 0, moved: 0 });
    const item = (await own.docs.send(new GetCommand({ TableName: own.tableName, Key: { pk: callKey(parent) }, ConsistentRead: true })))
      .Item;
    expect(item).toMatchObject({ outcome: 'missed', reason: 'no-answer', source: 'settle', settledAt: new Date(settleAt).toISOString() });
    expect(item?.gsi1pk).toBeUndefined();
    expect(await dayTotals(own.docs, own.tableName, '2026-11-11')).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:settle': 1,
      'reason:no-answer': 1,
    });
    // Nothing left to settle.
    expect((await settleDue(own.as('webhook'), own.tableName, ledger, new Date(settleAt + 3_600_000))).due).toBe(0);
    // The root's end, late after all, corrects nothing that was right, and counts nothing again.
    const end = classifyStatusCallback(
      statusCallback({ CallSid: parent, CallStatus: 'completed', CallDuration: '75', Timestamp: 'Wed, 11 Nov 2026 10:01:15 +0000' }),
    );
    expect(await ledger.record(end, new Date(settleAt + 5_000))).toMatchObject({ outcome: 'missed', counted: 'unchanged' });
    expect((await dayTotals(own.docs, own.tableName, '2026-11-11')).total).toBe(1);
  });
});

describe('the settle sweep and a call it cannot decide', () => {
  let own: Awaited<ReturnType<typeof freshTable>>;
  beforeAll(async () => {
    own = await freshTable();
  });
  afterAll(async () => {
    await own.drop();
  });

  it('decides every other due call when one of them cannot be read', async () => {
    const ledger = createLedger(own.as('webhook'), { tableName: own.tableName, retentionDays: 90, settings: LEDGER_SETTINGS });
    const t0 = new Date('2026-11-12T10:00:00.000Z');
    // A call item this code cannot read (a malformed evidence attribute), due first in the first settle partition.
    let poison = callSid();
    while (settleShard(poison) !== 'SETTLE#0') poison = callSid();
    await own.docs.send(
      new PutCommand({
        TableName: own.tableName,
        Item: {
          pk: callKey(poison),
          type: 'call',
          callSid: poison,
          ev: 1,
          [`leg#${callSid()}`]: 'exploded',
          gsi1pk: 'SETTLE#0',
          gsi1sk: t0.toISOString(),
        },
      }),
    );
    const calls = Array.from({ length: 12 }, () => callSid());
    for (const parent of calls)
      await ledger.record(classifyStatusCallback(leg(parent, 'no-answer', { Timestamp: 'Thu, 12 Nov 2026 10:00:00 +0000' })), t0);

    const later = new Date(t0.getTime() + (LEDGER_SETTINGS.settleSeconds + 1) * 1000);
    await settleDue(own.as('webhook'), own.tableName, ledger, later).catch(() => undefined);
    const decided = [];
    for (const parent of calls) {
      const item = (await own.docs.send(new GetCommand({ TableName: own.tableName, Key: { pk: callKey(parent) }, ConsistentRead: true })))
        .Item;
      if (item?.outcome === 'missed') decided.push(parent);
    }
    // BUG: settleDue runs the calls through mapLimit, which stops at the first error: the unreadable
    // call (first in the list, and first again every minute) keeps the calls listed after it from
    // ever being decided. Catch per call (count it as failed, log it) and go on.
    expect(decided).toHaveLength(calls.length);
  });
});

describe('call items written by version 0.1.0', () => {
  /** A missed call as 0.1.0 put it, with the counters its transaction added on its day item. */
  async function legacyCall(day: string, extra: Record<string, unknown> = {}): Promise<string> {
    const root = callSid();
    await table.docs.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: callKey(root),
          type: 'call',
          callSid: root,
          legSids: new Set([root]),
          accountSid: `AC${'1'.repeat(32)}`,
          status: 'no-answer',
          direction: 'inbound',
          from: '+14155550123',
          to: '+14155559876',
          customer: '+14155550123',
          line: '+14155559876',
          source: 'webhook',
          reportedAt: `${day}T10:00:00.000Z`,
          occurredAt: `${day}T10:00:00.000Z`,
          recordedAt: `${day}T10:00:01.000Z`,
          day,
          expiresAt: Math.floor(Date.parse(`${day}T10:00:01.000Z`) / 1000) + 90 * 86_400,
          ...extra,
        },
      }),
    );
    await table.docs.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: statsKey(day) },
        UpdateExpression: 'SET #type = :stats, #day = :day ADD #total :one, #status :one, #source :one',
        ExpressionAttributeNames: {
          '#type': 'type',
          '#day': 'day',
          '#total': 'total',
          '#status': 'status:no-answer',
          '#source': 'source:webhook',
        },
        ExpressionAttributeValues: { ':stats': 'stats', ':day': day, ':one': 1 },
      }),
    );
    return root;
  }
  const legacyCounters = { total: 1, 'status:no-answer': 1, 'source:webhook': 1 };

  it('reads as the counted miss it was: late unanswered evidence changes nothing', async () => {
    const ledger = ledgerOf();
    const root = await legacyCall('2026-10-01');
    expect(await dayTotals(table.docs, table.tableName, '2026-10-01')).toEqual(legacyCounters);

    // A Twilio retry of its end, a leg the reconciliation finds: still the miss 0.1.0 counted.
    const end = classifyStatusCallback(statusCallback({ CallSid: root, CallStatus: 'no-answer' }));
    expect(await ledger.record(end)).toMatchObject({ outcome: 'missed', reason: 'no-answer', counted: 'unchanged' });
    expect(await ledger.record(classifyStatusCallback(leg(root, 'no-answer')))).toMatchObject({
      outcome: 'missed',
      counted: 'unchanged',
    });
    expect(await dayTotals(table.docs, table.tableName, '2026-10-01')).toEqual(legacyCounters);
    const item = await get(callKey(root));
    expect(item).toMatchObject({ status: 'no-answer', source: 'webhook', day: '2026-10-01', occurredAt: '2026-10-01T10:00:00.000Z' });
    expect(parsePendingCall(item ?? {})).toMatchObject({ action: 'apply', status: 'no-answer', reason: 'no-answer' });
  });

  it('is corrected by a late answered leg: exactly what 0.1.0 counted is taken back, source:webhook included', async () => {
    const ledger = ledgerOf();
    const root = await legacyCall('2026-10-02');
    const result = await ledger.record(classifyStatusCallback(leg(root, 'completed', { CallDuration: '62' })));
    expect(result).toMatchObject({ outcome: 'answered', counted: 'removed' });
    expect(await dayTotals(table.docs, table.tableName, '2026-10-02')).toEqual({ total: 0, 'status:no-answer': 0, 'source:webhook': 0 });
    const item = await get(callKey(root));
    expect(item).toMatchObject({ outcome: 'answered' });
    expect(item).not.toHaveProperty('countedAs');
    // Never applied to a contact: nothing to take back.
    expect(parsePendingCall(item ?? {})?.action ?? 'none').not.toBe('retract');
    // Delivered again: nothing more.
    expect(await ledger.record(classifyStatusCallback(leg(root, 'completed', { CallDuration: '62' })))).toMatchObject({
      outcome: 'answered',
      counted: 'unchanged',
    });
    expect(await dayTotals(table.docs, table.tableName, '2026-10-02')).toEqual({ total: 0, 'status:no-answer': 0, 'source:webhook': 0 });
  });

  it('corrected after 0.1.0 applied it to the contact, asks the contacts function to take it back', async () => {
    const ledger = ledgerOf();
    const root = await legacyCall('2026-10-03', { contactAppliedAt: '2026-10-03T10:00:02.000Z', contactOutcome: 'contact:+14155550123' });
    expect(parsePendingCall((await get(callKey(root))) ?? {})).toBeUndefined();
    await ledger.record(classifyStatusCallback(leg(root, 'completed', { CallDuration: '62' })));
    const item = await get(callKey(root));
    expect(item).toMatchObject({ outcome: 'answered' });
    // BUG: lib/ledger/call-item.ts parseCallRecord derives the 0.1.0 contact mark (contactAppliedAt)
    // only while the item is still legacy (no outcome); once corrected to answered it reads as never
    // applied, so parsePendingCall asks only to 'clear' and the caller stays on the worklist.
    expect(parsePendingCall(item ?? {})).toMatchObject({
      action: 'retract',
      rootCallSid: root,
      customer: '+14155550123',
      status: 'no-answer',
    });
  });

  it('is corrected by a late answered leg after earlier late evidence on it has settled', async () => {
    const ledger = ledgerOf();
    const root = await legacyCall('2026-10-05');
    const now = new Date('2026-10-05T10:05:00.000Z');
    await ledger.record(classifyStatusCallback(leg(root, 'no-answer')), now);
    // What the sweep does for it once its settle time has passed (the sweep itself: 'the settle sweep' above).
    await ledger.settle(root, new Date(now.getTime() + (LEDGER_SETTINGS.settleSeconds + 1) * 1000));
    expect(await dayTotals(table.docs, table.tableName, '2026-10-05')).toEqual(legacyCounters);

    // BUG: late unanswered evidence on a 0.1.0 miss writes `countedAs` (its 0.1.0 key, to take it
    // out of the settle index: store.ts `decision`) and leaves it without `outcome`;
    // a later decision of a 0.1.0 item is conditioned on `attribute_not_exists(countedAs)`
    // (store.ts `write`), which now always fails: the correction is retried until maxAttempts and
    // ends in TableUnavailableError (503 to Twilio, forever), the miss never taken back.
    const late = await ledger
      .record(classifyStatusCallback(leg(root, 'completed', { CallDuration: '62' })), new Date(now.getTime() + 600_000))
      .catch((error: Error) => `${error.name}: ${error.message}`);
    expect(late).toMatchObject({ outcome: 'answered', counted: 'removed' });
    expect(await dayTotals(table.docs, table.tableName, '2026-10-05')).toEqual({ total: 0, 'status:no-answer': 0, 'source:webhook': 0 });
  });

  it('leaves nothing in the settle index once late evidence on it has settled', async () => {
    const ledger = ledgerOf();
    const root = await legacyCall('2026-10-04');
    const now = new Date('2026-10-04T10:05:00.000Z');
    await ledger.record(classifyStatusCallback(leg(root, 'no-answer')), now);
    const later = new Date(now.getTime() + (LEDGER_SETTINGS.settleSeconds + 1) * 1000);
    await ledger.settle(root, later);
    expect(await dayTotals(table.docs, table.tableName, '2026-10-04')).toEqual(legacyCounters);
    // Its count kept as 0.1.0 counted it, and nothing left for the sweep to read again.
    expect(await get(callKey(root))).not.toHaveProperty('gsi1pk');
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

  it('retries a transaction conflict and counts the call once', async () => {
    const fault = conflicting(table.as('webhook'), 2);
    const counted = counting(fault.client);
    const ledger = ledgerOf(counted.client, { sleep: async () => {} });
    const report = classifyStatusCallback(statusCallback({ Timestamp: 'Wed, 18 Nov 2026 12:00:00 +0000' }));

    const result = await ledger.record(report);
    expect(result).toEqual({ outcome: 'missed', reason: 'no-answer', counted: 'new', requests: counted.requests() });
    // The evidence once, the decision three times, the call read again before each retry.
    expect(counted.sent).toEqual({ UpdateCommand: 1, TransactWriteCommand: 3, GetCommand: 2 });
    expect(fault.attempts()).toBe(3);
    expect(await dayTotals(table.docs, table.tableName, '2026-11-18')).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:status-callback': 1,
      'reason:no-answer': 1,
    });
  });

  it('gives up after maxAttempts with TableUnavailableError and counts nothing', async () => {
    const fault = conflicting(table.as('webhook'), 100);
    const ledger = ledgerOf(fault.client, { maxAttempts: 4, sleep: async () => {} });
    const report = classifyStatusCallback(statusCallback({ Timestamp: 'Thu, 19 Nov 2026 12:00:00 +0000' }));

    await expect(ledger.record(report)).rejects.toThrow(TableUnavailableError);

    expect(fault.attempts()).toBe(4);
    const item = await get(callKey(report.rootCallSid));
    expect(item).not.toHaveProperty('outcome');
    expect(item).not.toHaveProperty('countedAs');
    expect(await dayTotals(table.docs, table.tableName, '2026-11-19')).toEqual({});
    // Twilio retries the 503: once the table takes writes again, the call is counted once.
    expect(await ledgerOf().record(report)).toMatchObject({ outcome: 'missed', counted: 'new' });
    expect((await dayTotals(table.docs, table.tableName, '2026-11-19')).total).toBe(1);
  });

  it('decides nothing and counts nothing when the counter update fails inside the transaction', async () => {
    const ledger = ledgerOf();
    // A counters item whose `total` is a string: ADD fails, so the whole transaction must.
    await table.docs.send(new PutCommand({ TableName: table.tableName, Item: { pk: statsKey('2026-11-20'), total: 'corrupt' } }));
    const report = classifyStatusCallback(statusCallback({ Timestamp: 'Fri, 20 Nov 2026 12:00:00 +0000' }));
    const now = new Date('2026-11-22T12:00:00.000Z');

    await expect(ledger.record(report, now)).rejects.toThrow(TableUnavailableError);

    // Its evidence is kept; no outcome and no count were written.
    const item = await get(callKey(report.rootCallSid));
    expect(item).toMatchObject({ rootStatus: 'no-answer' });
    expect(item).not.toHaveProperty('outcome');
    expect(item).not.toHaveProperty('countedAs');
    expect(await get(statsKey('2026-11-20'))).toEqual({ pk: statsKey('2026-11-20'), total: 'corrupt' });
    // Repaired, so that no later sweep of this table meets it.
    await table.docs.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: statsKey('2026-11-20'), type: 'stats', day: '2026-11-20' } }),
    );
  });

  it('does not lose a call whose decision failed: once the table heals, the sweep decides it even if Twilio never retries', async () => {
    const ledger = ledgerOf();
    await table.docs.send(new PutCommand({ TableName: table.tableName, Item: { pk: statsKey('2026-11-21'), total: 'corrupt' } }));
    const report = classifyStatusCallback(statusCallback({ Timestamp: 'Sat, 21 Nov 2026 12:00:00 +0000' }));
    const now = new Date('2026-11-23T12:00:00.000Z');
    await expect(ledger.record(report, now)).rejects.toThrow(TableUnavailableError);
    // The counters item is repaired (what an operator would do); Twilio has given up retrying.
    await table.docs.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: statsKey('2026-11-21'), type: 'stats', day: '2026-11-21' } }),
    );

    // What the sweep does for it an hour later (settle() decides only a call the settle index holds as due).
    await ledger.settle(report.rootCallSid, new Date(now.getTime() + 3_600_000));
    const item = (await get(callKey(report.rootCallSid))) ?? {};
    // Decided by the sweep, or at least left for the reconciliation to decide (it skips calls it reads as decided).
    const recoverable = item.outcome === 'missed' || !parseKnownCall(item).known.decided;
    // BUG: a root's final callback is written without settle keys (store.ts `record`: settleAt is
    // undefined when the report ends the call), so when its decision fails the item is ended,
    // undecided and out of the settle index: the sweep never sees it, and the reconciliation
    // skips it as decided (call-item.ts parseKnownCall: ended and not settling). The miss is lost.
    expect(recoverable).toBe(true);
  });
});
