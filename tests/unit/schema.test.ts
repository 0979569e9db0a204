/** The table's schema: keys, items and their parsers, the day-counter update, against resources/table.yml. */
import { describe, expect, it } from 'vitest';
import { readTableDefinition } from '../../dev/table.js';
import { parseContact, parseContactSummary } from '../../lib/contacts/item.js';
import { nextContact } from '../../lib/contacts/store.js';
import {
  countChange,
  countedKey,
  evidenceUpdate,
  factsOf,
  missedCallCounters,
  type PendingCall,
  parseCallFact,
  parseCallRecord,
  parseCallSummary,
  parseCounted,
  parseKnownCall,
  parsePendingCall,
  reasonOf,
} from '../../lib/ledger/call-item.js';
import { classifyDialAction, classifyStatusCallback } from '../../lib/ledger/calls.js';
import { addToDay } from '../../lib/ledger/day-counters.js';
import { parseDayCounts } from '../../lib/operator/stats.js';
import { InvalidItemError } from '../../lib/table/items.js';
import {
  CONTACT_SHARDS,
  CONTACT_SUMMARY_ATTRIBUTES,
  CONTACTS_INDEX,
  callKey,
  contactShard,
  contactShards,
  SETTLE_INDEX,
  STATS_SHARDS,
  settleShard,
  settleShards,
  statsShardKey,
  statsShardOf,
  statsWriteKey,
} from '../../lib/table/keys.js';
import { callSid, dialAction, statusCallback } from '../helpers.js';

const RECORDED = new Date('2026-11-24T09:15:43.000Z');

describe('the table schema', () => {
  it('declares the contacts index as resources/table.yml creates it: shard key, sort key, projected attributes', () => {
    const index = readTableDefinition('t').GlobalSecondaryIndexes.find((gsi) => gsi.IndexName === CONTACTS_INDEX);
    expect(index?.KeySchema?.map((key) => key.AttributeName)).toEqual(['gsi1pk', 'gsi1sk']);
    expect(index?.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: [...CONTACT_SUMMARY_ATTRIBUTES] });
  });

  it('spreads numbers over the 8 contact shards, the same shard for the same number', () => {
    const numbers = Array.from({ length: 400 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`);
    const used = new Set(numbers.map(contactShard));
    expect([...used].sort()).toEqual(contactShards().sort());
    expect(contactShards()).toHaveLength(CONTACT_SHARDS);
    expect(contactShard('+14155550123')).toBe(contactShard('+14155550123'));
  });

  it('shards the counters of today and yesterday by a stable hash of the seed, and writes older days to the day item', () => {
    const now = '2026-11-24T00:00:01.000Z';
    const sid = 'CA0123456789abcdef0123456789abcdef';
    expect(statsWriteKey('2026-11-24', sid, now)).toBe(statsShardKey('2026-11-24', statsShardOf(sid)));
    expect(statsWriteKey('2026-11-23', sid, now)).toBe(statsShardKey('2026-11-23', statsShardOf(sid)));
    expect(statsWriteKey('2026-11-22', sid, now)).toBe('STATS#2026-11-22');
    expect(statsShardOf(sid)).toBe(statsShardOf(sid));
    // 6,400 CallSids spread over the 64 shards: none gets more than twice its share.
    const counts = new Array<number>(STATS_SHARDS).fill(0);
    for (let i = 0; i < 6_400; i++) {
      const shard = statsShardOf(`CA${i.toString(16).padStart(32, '0')}`);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThan(200);
  });

  it('adds 1 to each named counter of a day, and reads absent counters as 0', () => {
    const update = addToDay(
      't',
      '2026-11-24',
      new Map([
        ['anonymous', 1],
        ['callbacks:opened', -1],
      ]),
      RECORDED.toISOString(),
      '+14155550100',
    );
    expect(update.UpdateExpression).toBe('SET #type = :type, #day = :day, updatedAt = :now ADD writes :one, #c0 :n0, #c1 :n1');
    expect(update.ExpressionAttributeNames).toMatchObject({ '#c0': 'anonymous', '#c1': 'callbacks:opened' });
    expect(update.ExpressionAttributeValues).toMatchObject({ ':n0': 1, ':n1': -1 });
    const counts = parseDayCounts({
      total: 7,
      'status:busy': 2,
      'status:no-answer': 5,
      'source:reconcile': 1,
      'source:settle': 1,
      'source:queue-action': 1,
      // Counted by version 0.1.0 under the status callback's old name.
      'source:webhook': 3,
      'source:status-callback': 1,
      'reason:busy': 2,
      'reason:queue-abandoned': 1,
      'reason:short-abandoned': 1,
      afterHours: 2,
      anonymous: 'x',
    });
    expect(counts.totals).toEqual({ total: 7, 'no-answer': 5, busy: 2, failed: 0, canceled: 0 });
    expect(counts.bySource).toEqual({ 'status-callback': 4, 'dial-action': 0, 'queue-action': 1, recording: 0, settle: 1, reconcile: 1 });
    expect(counts.byReason).toEqual({
      'no-answer': 0,
      busy: 2,
      failed: 0,
      abandoned: 0,
      'short-abandoned': 1,
      'queue-abandoned': 1,
      'queue-full': 0,
      'queue-left': 0,
      ivr: 0,
      voicemail: 0,
      canceled: 0,
    });
    expect(counts.afterHours).toBe(2);
    expect(counts.anonymous).toBe(0);
    expect(parseDayCounts(undefined).totals.total).toBe(0);
  });

  it('reads a contact back as written, and refuses a malformed one without naming its number', () => {
    const pending: PendingCall = {
      rootCallSid: `CA${'2'.repeat(32)}`,
      action: 'apply',
      customer: '+14155550123',
      line: '+14155559876',
      status: 'busy',
      reason: 'busy',
      occurredAt: RECORDED.toISOString(),
      day: '2026-11-24',
      knownAt: RECORDED.toISOString(),
      token: `3@${RECORDED.toISOString()}`,
      applied: undefined,
      reached: undefined,
    };
    const contact = nextContact(undefined, '+14155550123', pending, RECORDED.toISOString());
    expect(parseContact({ ...contact })).toEqual(contact);
    expect(parseContactSummary(contact)).toEqual({
      phone: '+14155550123',
      missedCount: 1,
      firstMissedAt: RECORDED.toISOString(),
      lastMissedAt: RECORDED.toISOString(),
      lastCallSid: pending.rootCallSid,
      lastStatus: 'busy',
    });
    for (const broken of [{ version: '1' }, { missedCount: undefined }, { lastStatus: 'completed' }, { phone: '' }]) {
      const attempt = () => parseContact({ ...contact, ...broken });
      expect(attempt).toThrow(InvalidItemError);
      expect(attempt).not.toThrow(/4155550123/);
    }
  });

  it('reads a contact call summary with its reason, and refuses an unknown source or a call that is not a miss', () => {
    const item = {
      callSid: `CA${'3'.repeat(32)}`,
      outcome: 'missed',
      status: 'no-answer',
      reason: 'queue-abandoned',
      afterHours: true,
      occurredAt: RECORDED.toISOString(),
      source: 'queue-action',
      direction: 'inbound',
    };
    const { outcome: _, ...summary } = item;
    expect(parseCallSummary(item)).toEqual(summary);
    expect(() => parseCallSummary({ ...item, source: 'guess' })).toThrow(new InvalidItemError('source is not a known source'));
    expect(() => parseCallSummary({ ...item, outcome: 'answered' })).toThrow(InvalidItemError);
    expect(() => parseCallSummary({ ...item, reason: 'bored' })).toThrow(new InvalidItemError('reason is not a missed-call reason'));
    // A 0.1.0 miss: no outcome, no reason (its status stands for it), source webhook, not after hours.
    const legacy = { callSid: item.callSid, status: 'busy', occurredAt: item.occurredAt, source: 'webhook', direction: 'inbound' };
    expect(parseCallSummary(legacy)).toEqual({ ...legacy, reason: 'busy', afterHours: false, source: 'status-callback' });
  });
});

/** The counters an update adds, by name (the names and amounts of an `addToDay` update). */
function amounts(update: { ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> }) {
  return Object.fromEntries(
    Object.entries(update.ExpressionAttributeNames)
      .filter(([alias]) => alias.startsWith('#c'))
      .map(([alias, name]) => [name, update.ExpressionAttributeValues[`:n${alias.slice(2)}`]]),
  );
}

/** What an update SETs each attribute to (by name), for the simple `#x = :x` and `a = :v` forms. */
function sets(update: {
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}) {
  const names = update.ExpressionAttributeNames ?? {};
  const values = update.ExpressionAttributeValues ?? {};
  const clause = (update.UpdateExpression ?? '').split(/ (?:ADD|REMOVE) /)[0]?.replace(/^SET /, '') ?? '';
  const out: Record<string, unknown> = {};
  for (const assignment of clause.split(/, (?![^(]*\))/)) {
    const [left = '', right = ''] = assignment.split(' = ');
    const value = /:\w+\)?$/.exec(right)?.[0].replace(')', '') ?? '';
    out[names[left] ?? left] = right.startsWith('if_not_exists') ? { ifNotExists: values[value] } : values[value];
  }
  return out;
}

const ROOT = `CA${'4'.repeat(32)}`;
const LEG = `CA${'5'.repeat(32)}`;
const NOW = new Date('2026-11-24T09:16:00.000Z');

/** A call item as version 0.1.0 wrote it: a whole missed call, no evidence, no outcome. */
const legacyItem = (extra: Record<string, unknown> = {}) => ({
  pk: callKey(ROOT),
  type: 'call',
  callSid: ROOT,
  legSids: new Set([ROOT]),
  accountSid: `AC${'1'.repeat(32)}`,
  status: 'no-answer',
  direction: 'inbound',
  from: '+14155550123',
  to: '+14155559876',
  customer: '+14155550123',
  line: '+14155559876',
  source: 'webhook',
  reportedAt: '2026-11-02T10:00:00.000Z',
  occurredAt: '2026-11-02T10:00:00.000Z',
  recordedAt: '2026-11-02T10:00:01.000Z',
  day: '2026-11-02',
  expiresAt: 1_800_000_000,
  ...extra,
});

/** A call item of this version decided missed, as the ledger writes it (lib/ledger/store.ts). */
const decidedItem = (extra: Record<string, unknown> = {}) => ({
  pk: callKey(ROOT),
  type: 'call',
  callSid: ROOT,
  legSids: new Set([ROOT, LEG]),
  direction: 'inbound',
  customer: '+14155550123',
  line: '+14155559876',
  [`leg#${LEG}`]: 'canceled',
  rootStatus: 'completed',
  rootDuration: 24,
  endedAt: '2026-11-24T09:15:42.000Z',
  ev: 2,
  firstEvidenceAt: '2026-11-24T09:15:42.000Z',
  startedAt: '2026-11-24T09:15:18.000Z',
  outcome: 'missed',
  reason: 'abandoned',
  status: 'no-answer',
  afterHours: false,
  day: '2026-11-24',
  occurredAt: '2026-11-24T09:15:18.000Z',
  source: 'status-callback',
  knownAt: '2026-11-24T09:15:43.000Z',
  countedAs: '2026-11-24|no-answer|status-callback|abandoned|0',
  contactPending: `2@2026-11-24T09:15:43.000Z`,
  ...extra,
});

describe('the call item', () => {
  it('keeps undecided calls in the settle partitions of the same index, 8 of them, a call always in the same', () => {
    const index = readTableDefinition('t').GlobalSecondaryIndexes.find((gsi) => gsi.IndexName === SETTLE_INDEX);
    expect(index?.KeySchema?.map((key) => key.AttributeName)).toEqual(['gsi1pk', 'gsi1sk']);
    expect(settleShards()).toHaveLength(8);
    expect(settleShards()).toContain(settleShard(ROOT));
    expect(settleShard(ROOT)).toBe(settleShard(ROOT));
    // Apart from the contacts' partitions: a settle query never reads a contact.
    expect(settleShards().some((shard) => contactShards().includes(shard))).toBe(false);
  });

  it('records a leg’s evidence in one update: its own attribute, both legs, TTL from the first write, settle keys', () => {
    const params = statusCallback({ CallSid: LEG, ParentCallSid: ROOT, Direction: 'outbound-dial', CallStatus: 'no-answer' });
    const settleAt = new Date(NOW.getTime() + 60_000);
    const update = evidenceUpdate(classifyStatusCallback(params), NOW, { tableName: 't', retentionDays: 90, settleAt, answered: false });
    expect(update).toMatchObject({ TableName: 't', Key: { pk: callKey(ROOT) }, ReturnValues: 'ALL_NEW' });
    // Its one condition: the call was not erased (an erased caller's tombstone takes no evidence).
    expect(update.ConditionExpression).toBe('attribute_not_exists(erasedAt)');
    expect(sets(update)).toMatchObject({
      type: 'call',
      callSid: ROOT,
      [`leg#${LEG}`]: 'no-answer',
      expiresAt: { ifNotExists: Math.floor(NOW.getTime() / 1000) + 90 * 86_400 },
      gsi1pk: settleShard(ROOT),
      gsi1sk: settleAt.toISOString(),
      lastEvidenceAt: NOW.toISOString(),
    });
    // A child leg knows neither the caller nor the line, and does not end the call.
    expect(Object.keys(sets(update))).not.toContain('customer');
    expect(Object.keys(sets(update))).not.toContain('endedAt');
    expect(update.UpdateExpression).toContain('ADD ev :one, legSids :legs');
    expect(update.ExpressionAttributeValues?.[':legs']).toEqual(new Set([ROOT, LEG]));
  });

  it('records the root’s end with its numbers (kept from the first report that has them) and the end, outside the settle index', () => {
    const params = statusCallback({ CallSid: ROOT, CallStatus: 'completed', CallDuration: '24' });
    const update = evidenceUpdate(classifyStatusCallback(params), NOW, {
      tableName: 't',
      retentionDays: 30,
      settleAt: undefined,
      answered: false,
    });
    expect(sets(update)).toMatchObject({
      rootStatus: 'completed',
      rootDuration: 24,
      customer: { ifNotExists: '+14155550123' },
      line: { ifNotExists: '+14155559876' },
      direction: { ifNotExists: 'inbound' },
      startedAt: { ifNotExists: '2026-11-24T09:15:18.000Z' },
      endedAt: { ifNotExists: NOW.toISOString() },
    });
    expect(Object.keys(sets(update))).not.toContain('gsi1pk');
  });

  it('decides an answered Dial in the same update, only while no miss is counted and its leg is not known to be a machine', () => {
    const params = dialAction({ CallSid: ROOT, DialCallSid: LEG, DialCallStatus: 'completed', DialCallDuration: '64' });
    const update = evidenceUpdate(classifyDialAction(params, false), NOW, {
      tableName: 't',
      retentionDays: 90,
      settleAt: undefined,
      answered: true,
    });
    expect(sets(update)).toMatchObject({ outcome: 'answered', [`dial#${LEG}`]: 'completed' });
    expect(update.UpdateExpression).toMatch(/REMOVE gsi1pk, gsi1sk$/);
    expect(update.ConditionExpression).toBe(
      'attribute_not_exists(countedAs) AND attribute_not_exists(#status) AND (attribute_not_exists(#dialLeg) OR NOT contains(#dialLeg, :machine)) AND attribute_not_exists(erasedAt)',
    );
    expect(update.ExpressionAttributeNames).toMatchObject({ '#status': 'status', '#dialLeg': `leg#${LEG}` });
  });

  it('reads the facts back from the evidence attributes, and refuses a malformed one', () => {
    const facts = factsOf({
      direction: 'inbound',
      [`leg#${LEG}`]: 'completed:machine',
      'leg#CA2': 'no-answer',
      'dial#-': 'busy',
      [`queue#QU${'a'.repeat(32)}`]: 'hangup:95',
      'queue#-': 'queue-full',
      rootStatus: 'completed',
      rootDuration: 97,
      endedAt: NOW.toISOString(),
      // A message and its transcript (in either order of attributes), and a recorded conversation.
      [`tx#RE${'b'.repeat(32)}`]: 'completed:call me: back',
      [`rec#RE${'b'.repeat(32)}`]: 'completed:21:1',
      [`rec#RE${'c'.repeat(32)}`]: 'completed:300:0',
    });
    expect(facts).toEqual({
      legs: new Map([
        [LEG, { status: 'completed', machine: true }],
        ['CA2', { status: 'no-answer', machine: false }],
      ]),
      dials: new Map([['-', 'busy']]),
      queues: new Map([
        [`QU${'a'.repeat(32)}`, { result: 'hangup', seconds: 95 }],
        ['-', { result: 'queue-full', seconds: undefined }],
      ]),
      recordings: new Map([
        [`RE${'b'.repeat(32)}`, { status: 'completed', seconds: 21, voice: true, transcript: 'call me: back' }],
        [`RE${'c'.repeat(32)}`, { status: 'completed', seconds: 300, voice: false }],
      ]),
      root: { status: 'completed', durationSeconds: 97 },
      ended: true,
      inbound: true,
    });
    expect(() => factsOf({ 'rec#RE1': 'lost:3:1' })).toThrow(new InvalidItemError('a recording status is malformed'));
    expect(() => factsOf({ 'tx#RE1': 'pending' })).toThrow(new InvalidItemError('a transcription is malformed'));
    expect(factsOf({ direction: 'outbound-api' })).toMatchObject({ root: undefined, ended: false, inbound: false });
    expect(() => factsOf({ 'leg#CA2': 'ringing' })).toThrow(new InvalidItemError('a leg status is malformed'));
    expect(() => factsOf({ 'dial#-': 'maybe' })).toThrow(new InvalidItemError('a Dial status is malformed'));
    expect(() => factsOf({ 'queue#-': 'lost:3' })).toThrow(new InvalidItemError('a queue result is malformed'));
  });

  it('keeps an answered leg’s duration and answer time (its Timestamp less CallDuration), and reads both forms back', () => {
    const params = statusCallback({
      CallSid: LEG,
      ParentCallSid: ROOT,
      Direction: 'outbound-dial',
      CallStatus: 'completed',
      CallDuration: '45',
      Timestamp: 'Tue, 24 Nov 2026 09:16:05 +0000',
    });
    const update = evidenceUpdate(classifyStatusCallback(params), NOW, {
      tableName: 't',
      retentionDays: 90,
      settleAt: undefined,
      answered: true,
    });
    // 09:16:05 less 45 s is 09:15:20, epoch 1795511720.
    expect(Date.parse('2026-11-24T09:15:20.000Z') / 1000).toBe(1795511720);
    expect(sets(update)).toMatchObject({ [`leg#${LEG}`]: 'completed::45:1795511720' });
    const machine = classifyStatusCallback({ ...params, AnsweredBy: 'machine_end_beep' });
    expect(sets(evidenceUpdate(machine, NOW, { tableName: 't', retentionDays: 90, settleAt: undefined, answered: false }))).toMatchObject({
      [`leg#${LEG}`]: 'completed:machine:45:1795511720',
    });
    expect(factsOf({ [`leg#${LEG}`]: 'completed::45:1795511720', 'leg#CA2': 'completed:machine:28', 'leg#CA3': 'completed' }).legs).toEqual(
      new Map([
        [LEG, { status: 'completed', machine: false, durationSeconds: 45, answeredAt: '2026-11-24T09:15:20.000Z' }],
        ['CA2', { status: 'completed', machine: true, durationSeconds: 28 }],
        ['CA3', { status: 'completed', machine: false }],
      ]),
    );
    expect(() => factsOf({ 'leg#CA2': 'completed:robot:28' })).toThrow(new InvalidItemError('a leg status is malformed'));
  });

  it('reads a 0.1.0 item as a decided miss counted under source webhook without a reason, its contact mark kept', () => {
    const record = parseCallRecord(legacyItem({ contactAppliedAt: '2026-11-02T10:00:03.000Z', contactOutcome: 'contact:+14155550123' }));
    expect(record).toMatchObject({
      rootCallSid: ROOT,
      legacy: true,
      outcome: 'missed',
      countedAs: '2026-11-02|no-answer|webhook|-|0',
      source: 'status-callback',
      ev: 0,
      firstEvidenceAt: '2026-11-02T10:00:00.000Z',
      contactApplied: 'contact:+14155550123',
      contactPending: undefined,
      settling: false,
    });
    expect(record.facts.legs.size + record.facts.dials.size + record.facts.queues.size).toBe(0);
    expect(parseCallRecord(legacyItem()).contactApplied).toBeUndefined();
    expect(reasonOf(legacyItem({ status: 'busy' }))).toBe('busy');
    expect(() => parseCallRecord(legacyItem({ source: 'guess' }))).toThrow(new InvalidItemError('source is not a known source'));
    expect(() => parseCallRecord(legacyItem({ status: 'completed' }))).toThrow(new InvalidItemError('status is not a missed-call status'));
  });

  it('reads an undecided item as undecided and settling, a decided one as what it says', () => {
    const undecided = parseCallRecord({
      type: 'call',
      callSid: ROOT,
      ev: 1,
      'leg#CA2': 'no-answer',
      gsi1pk: settleShard(ROOT),
      gsi1sk: 'x',
    });
    expect(undecided).toMatchObject({ outcome: 'undecided', settling: true, legacy: false, countedAs: undefined, ev: 1 });
    expect(parseCallRecord(decidedItem())).toMatchObject({
      outcome: 'missed',
      countedAs: '2026-11-24|no-answer|status-callback|abandoned|0',
      settling: false,
      legacy: false,
      startedAt: '2026-11-24T09:15:18.000Z',
    });
    expect(() => parseCallRecord({ type: 'contact', callSid: ROOT })).toThrow(new InvalidItemError('not a call item'));
  });

  it('tells the reconciliation which calls are decided and which answered', () => {
    const known = (item: Record<string, unknown>) => parseKnownCall({ pk: callKey(ROOT), ...item }).known;
    expect(known(legacyItem())).toMatchObject({ decided: true, answered: false, hasCustomer: true, legSids: new Set([ROOT]) });
    expect(known({ outcome: 'answered' })).toMatchObject({ decided: true, answered: true, hasCustomer: false });
    expect(known({ outcome: 'missed', endedAt: NOW.toISOString() })).toMatchObject({ decided: true, answered: false });
    // A call TwiML alone handled: ended, no outcome written, out of the settle index.
    expect(known({ endedAt: NOW.toISOString() })).toMatchObject({ decided: true, answered: false });
    expect(known({ gsi1pk: settleShard(ROOT) })).toMatchObject({ decided: false });
    expect(parseKnownCall({ pk: callKey(ROOT) }).rootCallSid).toBe(ROOT);
  });
});

describe('the contact work a call item asks for', () => {
  it('applies a decided miss the contact does not have yet', () => {
    expect(parsePendingCall(decidedItem())).toEqual({
      rootCallSid: ROOT,
      action: 'apply',
      customer: '+14155550123',
      line: '+14155559876',
      status: 'no-answer',
      reason: 'abandoned',
      occurredAt: '2026-11-24T09:15:18.000Z',
      day: '2026-11-24',
      knownAt: '2026-11-24T09:15:43.000Z',
      token: '2@2026-11-24T09:15:43.000Z',
      applied: undefined,
      reached: undefined,
    } satisfies PendingCall);
  });

  it('only clears the mark when the contact already has what the outcome asks for', () => {
    const token = '2@2026-11-24T09:15:43.000Z';
    expect(parsePendingCall(decidedItem({ contactApplied: 'contact:+14155550123:no-answer' }))).toEqual({
      action: 'clear',
      rootCallSid: ROOT,
      token,
    });
    // A short hang-up is counted but opens no callback: the contact never gets it.
    const short = decidedItem({ reason: 'short-abandoned', countedAs: '2026-11-24|no-answer|status-callback|short-abandoned|0' });
    expect(parsePendingCall(short)).toEqual({ action: 'clear', rootCallSid: ROOT, token });
    // Answered before the contact ever saw it.
    expect(parsePendingCall(decidedItem({ outcome: 'answered', countedAs: undefined, reason: undefined }))).toEqual({
      action: 'clear',
      rootCallSid: ROOT,
      token,
    });
  });

  it('takes back a miss the contact has when the call turns out answered, with the status it applied', () => {
    const answered = decidedItem({
      outcome: 'answered',
      countedAs: undefined,
      reason: undefined,
      contactApplied: 'contact:+14155550123:busy',
    });
    expect(parsePendingCall(answered)).toMatchObject({
      action: 'retract',
      rootCallSid: ROOT,
      status: 'busy',
      applied: 'contact:+14155550123:busy',
    });
  });

  it('asks nothing of a call with no pending work or no customer', () => {
    const { contactPending: _, ...done } = decidedItem();
    expect(parsePendingCall(done)).toBeUndefined();
    const { customer: __, ...anonymous } = decidedItem();
    expect(parsePendingCall(anonymous)).toBeUndefined();
    expect(parsePendingCall({ type: 'stats', customer: '+14155550123' })).toBeUndefined();
  });

  it('applies a 0.1.0 miss not applied yet (its status as its reason), and nothing once applied', () => {
    expect(parsePendingCall(legacyItem())).toEqual({
      rootCallSid: ROOT,
      action: 'apply',
      customer: '+14155550123',
      line: '+14155559876',
      status: 'no-answer',
      reason: 'no-answer',
      occurredAt: '2026-11-02T10:00:00.000Z',
      day: '2026-11-02',
      knownAt: '2026-11-02T10:00:00.000Z',
      token: undefined,
      applied: undefined,
      reached: undefined,
    } satisfies PendingCall);
    expect(
      parsePendingCall(legacyItem({ contactAppliedAt: RECORDED.toISOString(), contactOutcome: 'contact:+14155550123' })),
    ).toBeUndefined();
  });

  it('refuses a call item it cannot read', () => {
    expect(() => parsePendingCall(decidedItem({ status: 'completed' }))).toThrow(
      new InvalidItemError('status is not a missed-call status'),
    );
    expect(() => parsePendingCall(decidedItem({ occurredAt: 'yesterday' }))).toThrow(new InvalidItemError('occurredAt is not a timestamp'));
    expect(() => parsePendingCall(decidedItem({ reached: '{' }))).toThrow(new InvalidItemError('reached is malformed'));
  });

  it('reads the reconciliation’s answered calls with the number', () => {
    const reached = [{ id: LEG, at: '2026-11-24T10:00:00.000Z', by: 'callback' }];
    expect(parsePendingCall(decidedItem({ reached: JSON.stringify(reached) }))).toMatchObject({ reached });
  });
});

describe('what the day counters hold for a call', () => {
  it('writes and reads the counted key', () => {
    const counted = { day: '2026-11-24', status: 'no-answer', source: 'settle', reason: 'queue-abandoned', afterHours: true } as const;
    expect(countedKey(counted)).toBe('2026-11-24|no-answer|settle|queue-abandoned|1');
    expect(parseCounted(countedKey(counted))).toEqual(counted);
    expect(() => parseCounted('2026-11-24|completed|settle|-|0')).toThrow(new InvalidItemError('countedAs is malformed'));
    expect(() => parseCounted('|no-answer|settle|-|0')).toThrow(InvalidItemError);
  });

  it('counts a miss under total, status, source, reason and afterHours; a 0.1.0 miss without a reason', () => {
    expect(Object.fromEntries(missedCallCounters(parseCounted('2026-11-24|busy|dial-action|busy|1')))).toEqual({
      total: 1,
      'status:busy': 1,
      'source:dial-action': 1,
      'reason:busy': 1,
      afterHours: 1,
    });
    expect(Object.fromEntries(missedCallCounters(parseCounted('2026-11-02|no-answer|webhook|-|0')))).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:webhook': 1,
    });
  });

  it('changes the counters by the difference only, on the day of each', () => {
    const now = '2026-11-24T10:00:00.000Z';
    const [added] = countChange('t', undefined, '2026-11-24|no-answer|settle|abandoned|0', now, ROOT);
    expect(added?.Update.Key).toEqual({ pk: statsWriteKey('2026-11-24', ROOT, now) });
    expect(amounts(added?.Update ?? { ExpressionAttributeNames: {}, ExpressionAttributeValues: {} })).toEqual({
      total: 1,
      'status:no-answer': 1,
      'source:settle': 1,
      'reason:abandoned': 1,
    });
    // The same outcome again: nothing to write.
    expect(countChange('t', 'a|busy|settle|busy|0', 'a|busy|settle|busy|0', now, ROOT)).toEqual([]);
    // Another reason: the reasons move, the rest stays.
    const [moved, ...more] = countChange(
      't',
      '2026-11-24|no-answer|status-callback|abandoned|0',
      '2026-11-24|no-answer|status-callback|short-abandoned|0',
      now,
      ROOT,
    );
    expect(more).toEqual([]);
    expect(amounts(moved?.Update ?? { ExpressionAttributeNames: {}, ExpressionAttributeValues: {} })).toEqual({
      'reason:abandoned': -1,
      'reason:short-abandoned': 1,
    });
    // A 0.1.0 miss answered after all: exactly what 0.1.0 counted is taken back, on its own (older) day item.
    const [legacy] = countChange('t', '2026-11-02|no-answer|webhook|-|0', undefined, now, ROOT);
    expect(legacy?.Update.Key).toEqual({ pk: 'STATS#2026-11-02' });
    expect(amounts(legacy?.Update ?? { ExpressionAttributeNames: {}, ExpressionAttributeValues: {} })).toEqual({
      total: -1,
      'status:no-answer': -1,
      'source:webhook': -1,
    });
  });

  it('says in an event what a call item says: its reason, its source, after hours', () => {
    expect(parseCallFact(decidedItem({ afterHours: true, from: '+14155550123' }))).toEqual({
      callSid: ROOT,
      occurredAt: '2026-11-24T09:15:18.000Z',
      day: '2026-11-24',
      customer: '+14155550123',
      line: '+14155559876',
      from: '+14155550123',
      direction: 'inbound',
      status: 'no-answer',
      reason: 'abandoned',
      source: 'status-callback',
      afterHours: true,
    });
    expect(parseCallFact(legacyItem())).toMatchObject({ reason: 'no-answer', status: 'no-answer', source: 'status-callback' });
    expect(parseCallFact({ callSid: callSid() })).not.toHaveProperty('reason');
  });
});
