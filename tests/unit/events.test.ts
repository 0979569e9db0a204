/** Which item changes are facts for EventBridge, with their stable ids. */
import { describe, expect, it } from 'vitest';
import { eventsOf } from '../../lib/events/facts.js';

/** A call item with evidence only: not decided yet (it sits in the settle index). */
const undecided = {
  pk: 'CALL#CA1',
  type: 'call',
  callSid: 'CA1',
  customer: '+14155550123',
  line: '+14155559876',
  direction: 'inbound',
  'leg#CA2': 'no-answer',
  ev: 1,
  gsi1pk: 'SETTLE#3',
  gsi1sk: '2026-11-24T09:31:00.000Z',
};
/** The same call decided missed and counted. */
const missed = {
  ...undecided,
  gsi1pk: undefined,
  gsi1sk: undefined,
  rootStatus: 'completed',
  endedAt: '2026-11-24T09:30:00.000Z',
  ev: 2,
  outcome: 'missed',
  reason: 'abandoned',
  status: 'no-answer',
  afterHours: false,
  day: '2026-11-24',
  occurredAt: '2026-11-24T09:29:30.000Z',
  source: 'status-callback',
  countedAs: '2026-11-24|no-answer|status-callback|abandoned|0',
  contactPending: '2@2026-11-24T09:30:00.000Z',
};
/** The same call, answered after all (a late leg's callback): nothing counted. */
const answered = {
  ...missed,
  'leg#CA3': 'completed',
  ev: 3,
  outcome: 'answered',
  reason: undefined,
  afterHours: undefined,
  countedAs: undefined,
  contactPending: '3@2026-11-24T09:31:00.000Z',
};
/** A call item as version 0.1.0 wrote it: a whole counted miss, no outcome. */
const legacy = {
  pk: 'CALL#CA9',
  type: 'call',
  callSid: 'CA9',
  status: 'busy',
  source: 'webhook',
  customer: '+14155550123',
  line: '+14155559876',
  day: '2026-11-02',
  occurredAt: '2026-11-02T10:00:00.000Z',
};

const open = (openSince: string) => ({
  type: 'contact',
  phone: '+14155550123',
  callback: { openSince, openMissedCount: 1, lastStatus: 'busy', line: '+14155559876' },
});
const resolution = (missedCount: number) => ({
  type: 'resolution',
  resolution: {
    phone: '+14155550123',
    id: 'CB1',
    openSince: '2026-11-24T09:00:00.000Z',
    lastMissedAt: '2026-11-24T09:30:00.000Z',
    missedCount,
    lastStatus: 'busy',
    line: '+14155559876',
    resolvedBy: 'callback',
    resolvedAt: '2026-11-24T10:00:00.000Z',
    secondsToCallback: 3600,
  },
});

describe('eventsOf: calls', () => {
  it('says "Recording forgotten" once per completed recording when a call item is removed, with no phone number in it', () => {
    const recorded = {
      ...missed,
      [`rec#RE${'a'.repeat(32)}`]: 'completed:21:1',
      [`tx#RE${'a'.repeat(32)}`]: 'completed:Please call me back',
      // Nothing was recorded (the caller hung up at the beep): Twilio holds nothing.
      [`rec#RE${'b'.repeat(32)}`]: 'absent:0:1',
      // A recorded conversation (<Dial record>) is media at Twilio too.
      [`rec#RE${'c'.repeat(32)}`]: 'completed:95:0',
      recordingSeenAt: '2026-11-24T09:30:30.000Z',
    };
    const events = eventsOf('REMOVE', recorded, undefined);
    expect(events).toEqual(
      ['a', 'c'].map((x) => ({
        id: `recording-forgotten:RE${x.repeat(32)}`,
        detailType: 'Recording forgotten',
        detail: { id: `recording-forgotten:RE${x.repeat(32)}`, recordingSid: `RE${x.repeat(32)}`, callSid: 'CA1' },
      })),
    );
    expect(JSON.stringify(events)).not.toMatch(/\+1415/);
    // A removal of a call without recordings, of a contact: nothing.
    expect(eventsOf('REMOVE', missed, undefined)).toEqual([]);
    expect(eventsOf('REMOVE', { type: 'contact', phone: '+14155550123' }, undefined)).toEqual([]);
  });

  it('says "Callback attempted" once per outcome a call back through Twilio gets (a changed outcome again), nothing while it rings', () => {
    const calling = (outcome?: string) => ({
      pk: 'CALLING#+14155550123',
      type: 'calling',
      phone: '+14155550123',
      version: 3,
      attempts: [
        { id: 'a0', at: '2026-12-06T10:00:00.000Z', agent: '+14155550199', outcome: 'voicemail', facts: {} },
        { id: 'a1', at: '2026-12-06T11:00:00.000Z', agent: '+14155550199', callSid: 'CA1', facts: {}, ...(outcome ? { outcome } : {}) },
      ],
    });
    expect(eventsOf('MODIFY', calling('voicemail'), calling())).toEqual([]);
    expect(eventsOf('MODIFY', calling(), calling())).toEqual([]);
    const id = 'callback-attempted:+14155550123:a1:reached';
    expect(eventsOf('MODIFY', calling(), calling('reached'))).toEqual([
      {
        id,
        detailType: 'Callback attempted',
        detail: {
          id,
          phone: '+14155550123',
          attemptId: 'a1',
          at: '2026-12-06T11:00:00.000Z',
          agent: '+14155550199',
          outcome: 'reached',
          callSid: 'CA1',
        },
      },
    ]);
    expect(eventsOf('MODIFY', calling('reached'), calling('reached'))).toEqual([]);
    expect(eventsOf('MODIFY', calling('agent-missed'), calling('reached')).map((e) => e.id)).toEqual([id]);
  });

  it('says nothing of a call while it is not decided, nor of one decided answered or not missed', () => {
    expect(eventsOf('INSERT', undefined, undecided)).toEqual([]);
    expect(eventsOf('MODIFY', undecided, { ...undecided, 'leg#CA4': 'busy', ev: 2 })).toEqual([]);
    expect(eventsOf('MODIFY', undecided, { ...undecided, outcome: 'answered', gsi1pk: undefined })).toEqual([]);
    expect(eventsOf('MODIFY', undecided, { ...undecided, endedAt: 'x', gsi1pk: undefined })).toEqual([]);
  });

  it('makes a call decided missed "Missed call recorded", once, with its reason: a later change of it is not a new fact', () => {
    expect(eventsOf('MODIFY', undecided, missed)).toEqual([
      {
        id: 'missed-call-recorded:CA1',
        detailType: 'Missed call recorded',
        detail: expect.objectContaining({
          id: 'missed-call-recorded:CA1',
          callSid: 'CA1',
          status: 'no-answer',
          reason: 'abandoned',
          source: 'status-callback',
          customer: '+14155550123',
          day: '2026-11-24',
        }),
      },
    ]);
    // Decided by the first write (a root's end that arrives first): an INSERT.
    expect(eventsOf('INSERT', undefined, missed).map((e) => e.id)).toEqual(['missed-call-recorded:CA1']);
    // The contacts function's mark, another leg that changes nothing counted, a TTL deletion.
    expect(eventsOf('MODIFY', missed, { ...missed, contactApplied: 'contact:+14155550123:no-answer', contactPending: undefined })).toEqual(
      [],
    );
    expect(eventsOf('MODIFY', missed, { ...missed, 'leg#CA4': 'no-answer', ev: 3 })).toEqual([]);
    expect(eventsOf('REMOVE', missed, undefined)).toEqual([]);
  });

  it('says "Outcome corrected" when a counted miss turns out answered, with what it was', () => {
    expect(eventsOf('MODIFY', missed, answered)).toEqual([
      {
        id: 'outcome-corrected:CA1:none',
        detailType: 'Outcome corrected',
        detail: {
          id: 'outcome-corrected:CA1:none',
          callSid: 'CA1',
          outcome: 'answered',
          was: { outcome: 'missed', reason: 'abandoned', status: 'no-answer' },
          customer: '+14155550123',
          line: '+14155559876',
          day: '2026-11-24',
        },
      },
    ]);
    // Replayed: the same id.
    expect(eventsOf('MODIFY', missed, answered)[0]?.id).toBe('outcome-corrected:CA1:none');
    // And nothing more once it is answered.
    expect(eventsOf('MODIFY', answered, { ...answered, contactPending: undefined })).toEqual([]);
  });

  it('says "Outcome corrected" when a counted miss is counted for another reason', () => {
    const short = { ...missed, reason: 'short-abandoned', countedAs: '2026-11-24|no-answer|status-callback|short-abandoned|0' };
    expect(eventsOf('MODIFY', missed, short)).toEqual([
      expect.objectContaining({
        id: 'outcome-corrected:CA1:2026-11-24|no-answer|status-callback|short-abandoned|0',
        detailType: 'Outcome corrected',
        detail: expect.objectContaining({
          outcome: 'missed',
          reason: 'short-abandoned',
          status: 'no-answer',
          afterHours: false,
          was: { outcome: 'missed', reason: 'abandoned', status: 'no-answer' },
        }),
      }),
    ]);
  });

  it('makes a 0.1.0 item "Missed call recorded" when it appears, and corrects it when it turns out answered', () => {
    expect(eventsOf('INSERT', undefined, legacy)).toEqual([
      expect.objectContaining({
        id: 'missed-call-recorded:CA9',
        detail: expect.objectContaining({ status: 'busy', reason: 'busy', source: 'status-callback' }),
      }),
    ]);
    const corrected = { ...legacy, 'leg#CA8': 'completed', outcome: 'answered', contactPending: '1@x' };
    expect(eventsOf('MODIFY', legacy, corrected)).toEqual([
      expect.objectContaining({
        id: 'outcome-corrected:CA9:none',
        detail: expect.objectContaining({
          outcome: 'answered',
          was: { outcome: 'missed', reason: 'busy', status: 'busy' },
          day: '2026-11-02',
        }),
      }),
    ]);
  });

  it('says nothing when a 0.1.0 item changes but stays the miss it was counted as', () => {
    // BUG: lib/events/facts.ts compares `countedAs` only; a 0.1.0 item has none, so the contacts
    // function's mark on it (or a late leg's evidence) is read as a correction "to none" and a
    // false "Outcome corrected" (missed → missed) is published.
    expect(eventsOf('MODIFY', legacy, { ...legacy, contactAppliedAt: 'x', contactOutcome: 'contact:+14155550123' })).toEqual([]);
    expect(eventsOf('MODIFY', legacy, { ...legacy, 'leg#CA8': 'no-answer', ev: 1 })).toEqual([]);
    // Settled after late evidence: the ledger writes the key 0.1.0 counted it under, no outcome.
    expect(eventsOf('MODIFY', legacy, { ...legacy, countedAs: '2026-11-02|busy|webhook|-|0', decidedAt: 'x' })).toEqual([]);
  });
});

describe('eventsOf: callbacks', () => {
  it('opens a callback when it appears or starts later than before, not when it only grows', () => {
    expect(eventsOf('INSERT', undefined, open('2026-11-24T09:00:00.000Z')).map((e) => e.id)).toEqual([
      'callback-opened:+14155550123:2026-11-24T09:00:00.000Z',
    ]);
    expect(eventsOf('MODIFY', { type: 'contact', phone: '+14155550123' }, open('2026-11-24T09:00:00.000Z'))).toHaveLength(1);
    expect(eventsOf('MODIFY', open('2026-11-24T09:00:00.000Z'), open('2026-11-24T09:00:00.000Z'))).toEqual([]);
    expect(eventsOf('MODIFY', open('2026-11-24T09:00:00.000Z'), open('2026-11-24T08:00:00.000Z'))).toEqual([]);
    expect(eventsOf('MODIFY', open('2026-11-24T09:00:00.000Z'), open('2026-11-24T11:00:00.000Z'))).toHaveLength(1);
  });

  it('resolves once per resolution as it is, again only when it changes', () => {
    expect(eventsOf('INSERT', undefined, resolution(1))).toEqual([
      expect.objectContaining({ id: 'callback-resolved:+14155550123:CB1:1', detailType: 'Callback resolved' }),
    ]);
    expect(eventsOf('MODIFY', resolution(1), resolution(1))).toEqual([]);
    expect(eventsOf('MODIFY', resolution(1), resolution(2)).map((e) => e.id)).toEqual(['callback-resolved:+14155550123:CB1:2']);
    expect(eventsOf('MODIFY', resolution(1), { type: 'resolution', supersededBy: 'x' })).toEqual([]);
  });
});
