/**
 * The stream mappings' filter patterns (serverless.yml), as the local stream poller applies them
 * (dev/event-filter.ts), on call items as the ledger writes them: the contacts function sees a
 * call only while its contact must catch up (`contactPending`, or a 0.1.0 miss not applied yet);
 * the events function sees a call only while it is, or was, a counted miss (`countedAs`).
 */
import { describe, expect, it } from 'vitest';
import { matchesPattern, passesFilters } from '../../dev/event-filter.js';
import { readStreamEvent } from '../../dev/serverless-config.js';
import { eventsOf } from '../../lib/events/facts.js';
import { fromImage } from '../../lib/table/stream-image.js';

type Image = Record<string, unknown>;
const record = (eventName: string, images: { NewImage?: Image; OldImage?: Image }) => ({
  eventName,
  eventSource: 'aws:dynamodb',
  dynamodb: images,
});

const S = (value: string) => ({ S: value });
/** A call item's evidence and numbers, decided nothing yet. */
const undecided = {
  pk: S('CALL#CA1'),
  type: S('call'),
  callSid: S('CA1'),
  customer: S('+14155550123'),
  direction: S('inbound'),
  'leg#CA2': S('no-answer'),
  ev: { N: '1' },
  gsi1pk: S('SETTLE#1'),
  gsi1sk: S('2026-11-24T15:02:00.000Z'),
};
/** Decided missed and counted, its contact work asked for. */
const missedPending = {
  ...undecided,
  rootStatus: S('completed'),
  endedAt: S('2026-11-24T15:01:21.000Z'),
  outcome: S('missed'),
  reason: S('no-answer'),
  status: S('no-answer'),
  countedAs: S('2026-11-24|no-answer|status-callback|no-answer|0'),
  contactPending: S('2@2026-11-24T15:01:21.000Z'),
};
/** The same once the contacts function applied it (the mark set, the work done). */
const { contactPending: _, ...missedApplied } = {
  ...missedPending,
  contactApplied: S('contact:+14155550123:no-answer'),
  contactAppliedAt: S('2026-11-24T15:01:22.000Z'),
};
/** Corrected: a person answered after all; the contact must take the miss back. */
const { countedAs: _c, reason: _r, ...answeredRetract } = { ...missedApplied, outcome: S('answered'), contactPending: S('3@x') };
/** A short-abandoned miss: counted, no contact work. */
const shortAbandoned = {
  ...missedApplied,
  reason: S('short-abandoned'),
  countedAs: S('2026-11-24|no-answer|status-callback|short-abandoned|0'),
};
const { contactApplied: _a, contactAppliedAt: _t, ...shortAbandonedItem } = shortAbandoned;
/** A 0.1.0 item: a whole missed call, no outcome; `contactAppliedAt` once applied. */
const legacy = {
  pk: S('CALL#CA9'),
  type: S('call'),
  callSid: S('CA9'),
  customer: S('+14155550123'),
  status: S('no-answer'),
  source: S('webhook'),
  day: S('2026-10-01'),
  occurredAt: S('2026-10-01T09:00:00.000Z'),
};

describe('the contacts mapping filter from serverless.yml', () => {
  const { filterPatterns } = readStreamEvent('contacts');
  const passes = (eventName: string, NewImage: Image | undefined) =>
    passesFilters(filterPatterns, record(eventName, NewImage === undefined ? {} : { NewImage }));

  it('passes a call item whose contact must catch up (contactPending): a miss to apply or to take back', () => {
    expect(passes('MODIFY', missedPending)).toBe(true);
    expect(passes('INSERT', missedPending)).toBe(true);
    expect(passes('MODIFY', answeredRetract)).toBe(true);
  });

  it('drops call items that ask for no contact work: undecided, applied, short-abandoned, without a customer', () => {
    expect(passes('INSERT', undecided)).toBe(false);
    expect(passes('MODIFY', undecided)).toBe(false);
    expect(passes('MODIFY', missedApplied)).toBe(false);
    expect(passes('MODIFY', shortAbandonedItem)).toBe(false);
    const { customer: _, ...withoutCustomer } = missedPending;
    expect(passes('MODIFY', withoutCustomer)).toBe(false);
  });

  it('passes a 0.1.0 missed call not applied yet, and drops it once applied', () => {
    expect(passes('INSERT', legacy)).toBe(true);
    expect(passes('MODIFY', legacy)).toBe(true);
    expect(
      passes('MODIFY', { ...legacy, contactAppliedAt: S('2026-10-01T09:00:01.000Z'), contactOutcome: S('contact:+14155550123') }),
    ).toBe(false);
    // A 0.1.0 item the new code decided since (it has an outcome) follows the new rule.
    expect(passes('MODIFY', { ...legacy, outcome: S('answered') })).toBe(false);
  });

  it('drops TTL deletions, counters, contacts and other items', () => {
    expect(
      passesFilters(filterPatterns, {
        ...record('REMOVE', { OldImage: missedPending }),
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      }),
    ).toBe(false);
    expect(passes('MODIFY', { pk: S('STATS#2026-11-24'), type: S('stats') })).toBe(false);
    expect(passes('INSERT', { ...missedPending, type: S('contact') })).toBe(false);
    expect(passes('INSERT', { ...legacy, type: S('textback') })).toBe(false);
  });

  it('refuses operators it cannot evaluate rather than guessing', () => {
    expect(() => matchesPattern({ eventName: [{ prefix: 'INS' }] }, record('INSERT', { NewImage: undecided }))).toThrow(
      'not supported by the local matcher',
    );
  });
});

describe('the events mapping filter from serverless.yml', () => {
  const { filterPatterns } = readStreamEvent('events');
  const passes = (eventName: string, images: { NewImage?: Image; OldImage?: Image }) =>
    passesFilters(filterPatterns, record(eventName, images));

  it('passes call items counted as missed, short-abandoned ones included', () => {
    expect(passes('MODIFY', { OldImage: undecided, NewImage: missedPending })).toBe(true);
    expect(passes('INSERT', { NewImage: missedPending })).toBe(true);
    expect(passes('MODIFY', { OldImage: missedPending, NewImage: missedApplied })).toBe(true);
    expect(passes('MODIFY', { OldImage: undecided, NewImage: shortAbandonedItem })).toBe(true);
  });

  it('passes a call item counted as missed no more (its OldImage was): a correction', () => {
    expect(passes('MODIFY', { OldImage: missedApplied, NewImage: answeredRetract })).toBe(true);
  });

  it('drops call items never counted: undecided, answered at once, not missed', () => {
    expect(passes('INSERT', { NewImage: undecided })).toBe(false);
    expect(passes('MODIFY', { OldImage: undecided, NewImage: { ...undecided, 'leg#CA3': S('completed'), outcome: S('answered') } })).toBe(
      false,
    );
    const { countedAs: _, contactPending: _p, reason: _r, status: _s, ...notMissed } = { ...missedPending, outcome: S('not-missed') };
    expect(passes('MODIFY', { OldImage: undecided, NewImage: notMissed })).toBe(false);
  });

  it("lets a corrected call's later changes through (its status stays), which publish nothing", () => {
    // The price of 5 patterns: one pattern (OldImage has a status) stands for "was counted" and
    // "was a 0.1.0 miss". The function reads both images and finds nothing counted in either.
    const later = { OldImage: answeredRetract, NewImage: { ...answeredRetract, contactPending: S('4@y') } };
    expect(passes('MODIFY', later)).toBe(true);
    expect(eventsOf('MODIFY', fromImage(later.OldImage as never), fromImage(later.NewImage as never))).toEqual([]);
  });

  it('passes the removal of a call Twilio holds a recording of (its TTL, an erasure), and no other removal', () => {
    const recorded = { ...missedApplied, 'rec#RE1': S('completed:21:1'), recordingSeenAt: S('2026-11-24T15:01:30.000Z') };
    expect(passes('REMOVE', { OldImage: recorded })).toBe(true);
    expect(passes('REMOVE', { OldImage: missedApplied })).toBe(false);
    expect(passes('REMOVE', { OldImage: { type: S('contact'), gsi2pk: S('CALLBACK#open#1') } })).toBe(false);
    expect(passes('MODIFY', { OldImage: undecided, NewImage: { ...undecided, recordingSeenAt: S('2026-11-24T15:01:30.000Z') } })).toBe(
      false,
    );
  });

  it('stays within the 5 patterns Lambda takes per event source mapping by default (each mapping)', () => {
    expect(filterPatterns.length).toBeLessThanOrEqual(5);
    expect(readStreamEvent('contacts').filterPatterns.length).toBeLessThanOrEqual(5);
  });

  it('passes contacts with an open callback, resolutions (not their tombstones), text-back and calling items', () => {
    expect(passes('MODIFY', { NewImage: { type: S('contact'), gsi2pk: S('CALLBACK#open#1') } })).toBe(true);
    expect(passes('MODIFY', { NewImage: { type: S('contact') } })).toBe(false);
    expect(passes('INSERT', { NewImage: { type: S('resolution'), gsi2pk: S('CALLBACK#resolved#1') } })).toBe(true);
    expect(passes('MODIFY', { NewImage: { type: S('resolution'), supersededBy: S('a call that reached the number earlier') } })).toBe(
      false,
    );
    expect(passes('MODIFY', { NewImage: { type: S('textback'), episode: { M: { state: S('sent') } } } })).toBe(true);
    // Every text-back change passes (one pattern for them and the calling items: 5 at most); only a sent one is a fact.
    const claimed = { type: S('textback'), phone: S('+14155550123'), version: { N: '2' }, episode: { M: { state: S('claimed') } } };
    expect(passes('MODIFY', { NewImage: claimed })).toBe(true);
    expect(eventsOf('MODIFY', undefined, fromImage(claimed as never))).toEqual([]);
    expect(passes('MODIFY', { NewImage: { type: S('calling'), phone: S('+14155550123') } })).toBe(true);
    expect(passes('REMOVE', { OldImage: missedApplied })).toBe(false);
  });
});
