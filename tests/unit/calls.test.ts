/** What each Twilio callback reports about its root call (lib/ledger/calls.ts): evidence, legs, end, numbers; 400s for bad input. */
import { describe, expect, it } from 'vitest';
import {
  type CallReport,
  classifyDialAction,
  classifyQueueResult,
  classifyRecordingStatus,
  classifyStatusCallback,
  classifyTranscription,
  customerNumber,
  InvalidCallbackError,
  lineNumber,
  NO_FACTS,
  parseTwilioTimestamp,
  rootCallSid,
  sourceOf,
  withEvidence,
} from '../../lib/ledger/calls.js';
import { ACCOUNT_SID, callSid, dialAction, statusCallback } from '../helpers.js';

const QUEUE_SID = `QU${'a'.repeat(32)}`;

/** An `<Enqueue action>` callback as Twilio posts it for a caller who hung up in the queue. */
const queueResult = (overrides: Record<string, string> = {}) => ({
  AccountSid: ACCOUNT_SID,
  ApiVersion: '2010-04-01',
  CallSid: callSid(),
  CallStatus: 'in-progress',
  QueueResult: 'hangup',
  QueueSid: QUEUE_SID,
  QueueTime: '95',
  Direction: 'inbound',
  From: '+14155550123',
  To: '+14155559876',
  ...overrides,
});

describe('classifyStatusCallback: the root call’s own end', () => {
  it('reports an inbound no-answer as the root’s end, keyed by its own CallSid, with its numbers', () => {
    const params = statusCallback();
    expect(classifyStatusCallback(params)).toEqual({
      rootCallSid: params.CallSid,
      accountSid: ACCOUNT_SID,
      legCallSids: [params.CallSid],
      evidence: [{ kind: 'root', status: 'no-answer', durationSeconds: 0 }],
      root: { direction: 'inbound', from: '+14155550123', to: '+14155559876' },
      ends: true,
      reportedAt: '2026-11-24T09:15:42.000Z',
      startedAt: '2026-11-24T09:15:42.000Z',
      source: 'status-callback',
    } satisfies CallReport);
  });

  it('reports a completed root (TwiML answered it) as its end too: the rule decides what that means', () => {
    const report = classifyStatusCallback(statusCallback({ CallStatus: 'completed', CallDuration: '42' }));
    expect(report.evidence).toEqual([{ kind: 'root', status: 'completed', durationSeconds: 42 }]);
    expect(report.ends).toBe(true);
    // It started its duration before Twilio sent the callback at its end.
    expect(report.startedAt).toBe('2026-11-24T09:15:00.000Z');
  });

  it.each(['canceled', 'busy', 'failed'])('reports a root %s as its end', (status) => {
    const report = classifyStatusCallback(statusCallback({ CallStatus: status }));
    expect(report.evidence).toEqual([{ kind: 'root', status, durationSeconds: 0 }]);
    expect(report.ends).toBe(true);
  });

  it.each(['queued', 'ringing', 'in-progress'])('reports nothing for %s: the call has not ended', (status) => {
    const report = classifyStatusCallback(statusCallback({ CallStatus: status }));
    expect(report).toMatchObject({ evidence: [], ends: false, startedAt: undefined });
  });

  it('takes To as the customer of an outbound-api call (its own root), From of an inbound one', () => {
    const outbound = classifyStatusCallback(statusCallback({ Direction: 'outbound-api', From: '+14155559876', To: '+442071838750' }));
    expect(outbound.root && customerNumber(outbound.root)).toBe('+442071838750');
    expect(outbound.root && lineNumber(outbound.root)).toBe('+14155559876');
    expect(outbound.rootCallSid).toBe(outbound.legCallSids[0]);
  });

  it('has no start without a Timestamp', () => {
    const report = classifyStatusCallback(statusCallback({ Timestamp: '' }));
    expect(report).toMatchObject({ reportedAt: undefined, startedAt: undefined });
  });
});

describe('classifyStatusCallback: a <Dial> child leg', () => {
  const parent = callSid();
  const leg = (overrides: Record<string, string>) =>
    statusCallback({ ParentCallSid: parent, Direction: 'outbound-dial', From: '+14155559876', To: '+14155550199', ...overrides });

  it('keys the leg by its parent, names both, and does not end the call', () => {
    const params = leg({ CallStatus: 'no-answer' });
    expect(classifyStatusCallback(params)).toEqual({
      rootCallSid: parent,
      accountSid: ACCOUNT_SID,
      legCallSids: [parent, params.CallSid],
      evidence: [{ kind: 'leg', legSid: params.CallSid, status: 'no-answer', machine: false }],
      // A child leg does not carry the caller: the root's numbers are not its.
      root: undefined,
      ends: false,
      reportedAt: '2026-11-24T09:15:42.000Z',
      startedAt: undefined,
      source: 'status-callback',
    } satisfies CallReport);
  });

  it('reports a completed leg a person answered, and one a machine answered', () => {
    const person = leg({ CallStatus: 'completed', CallDuration: '62' });
    // Answered at its Timestamp (09:15:42) less its CallDuration.
    expect(classifyStatusCallback(person).evidence).toEqual([
      {
        kind: 'leg',
        legSid: person.CallSid,
        status: 'completed',
        machine: false,
        durationSeconds: 62,
        answeredAt: '2026-11-24T09:14:40.000Z',
      },
    ]);
    for (const answeredBy of ['machine_end_beep', 'machine_start', 'fax']) {
      const machine = leg({ CallStatus: 'completed', CallDuration: '28', AnsweredBy: answeredBy });
      expect(classifyStatusCallback(machine).evidence).toEqual([
        {
          kind: 'leg',
          legSid: machine.CallSid,
          status: 'completed',
          machine: true,
          durationSeconds: 28,
          answeredAt: '2026-11-24T09:15:14.000Z',
        },
      ]);
    }
    // A leg that was not answered carries no duration (Twilio sends 0).
    expect(classifyStatusCallback(leg({ CallStatus: 'no-answer', CallDuration: '0' })).evidence).toEqual([
      { kind: 'leg', legSid: expect.any(String), status: 'no-answer', machine: false },
    ]);
    const human = leg({ CallStatus: 'completed', CallDuration: '28', AnsweredBy: 'human' });
    expect(classifyStatusCallback(human).evidence).toMatchObject([{ machine: false }]);
  });

  it('reports a ringing leg as nothing', () => {
    expect(classifyStatusCallback(leg({ CallStatus: 'ringing' }))).toMatchObject({ rootCallSid: parent, evidence: [], ends: false });
  });
});

describe('classifyStatusCallback: bad input', () => {
  it.each([
    [{ CallSid: '' }, 'CallSid is required'],
    [{ CallSid: 'CA123' }, 'CallSid is not a valid Twilio SID'],
    [{ CallStatus: '' }, 'CallStatus is required'],
    [{ CallStatus: 'exploded' }, 'CallStatus "exploded" is not a Twilio call status'],
    [{ AccountSid: 'nope' }, 'AccountSid is not a valid Twilio SID'],
    [{ AccountSid: '' }, 'AccountSid is required'],
    [{ ParentCallSid: 'CA' }, 'ParentCallSid is not a valid Twilio SID'],
    [{ CallDuration: '-3' }, 'CallDuration is not a whole number of seconds'],
    [{ CallDuration: '4.5' }, 'CallDuration is not a whole number of seconds'],
  ])('refuses %o', (overrides, message) => {
    expect(() => classifyStatusCallback(statusCallback(overrides))).toThrow(new InvalidCallbackError(message));
  });

  it('quotes at most 32 characters of a bad value', () => {
    expect(() => classifyStatusCallback(statusCallback({ CallStatus: 'x'.repeat(500) }))).toThrow(
      new InvalidCallbackError(`CallStatus "${'x'.repeat(32)}" is not a Twilio call status`),
    );
  });
});

describe('classifyDialAction', () => {
  it('reports the Dial’s result under the parent CallSid, with both legs, and ends the call when its reply does', () => {
    const params = dialAction();
    expect(classifyDialAction(params, true)).toEqual({
      rootCallSid: params.CallSid,
      accountSid: ACCOUNT_SID,
      legCallSids: [params.CallSid, params.DialCallSid],
      evidence: [{ kind: 'dial', dialSid: params.DialCallSid, status: 'no-answer' }],
      root: { direction: 'inbound', from: '+14155550123', to: '+14155559876' },
      ends: true,
      reportedAt: undefined,
      startedAt: undefined,
      source: 'dial-action',
    } satisfies CallReport);
    expect(classifyDialAction(params, false).ends).toBe(false);
  });

  it.each(['answered', 'completed', 'busy', 'failed', 'canceled'])('reports DialCallStatus=%s as evidence', (status) => {
    expect(classifyDialAction(dialAction({ DialCallStatus: status }), false).evidence).toMatchObject([{ kind: 'dial', status }]);
  });

  it('keys by CallSid, never by DialCallSid', () => {
    const params = dialAction({ DialCallStatus: 'busy' });
    expect(classifyDialAction(params, false).rootCallSid).toBe(params.CallSid);
  });

  it('reports a Dial that dialled nobody (no DialCallSid) with the parent alone', () => {
    const { DialCallSid: _, ...params } = dialAction({ DialCallStatus: 'failed' });
    const report = classifyDialAction(params, true);
    expect(report.legCallSids).toEqual([params.CallSid]);
    expect(report.evidence).toEqual([{ kind: 'dial', dialSid: undefined, status: 'failed' }]);
  });

  it.each([
    [{ DialCallStatus: '' }, 'DialCallStatus is required'],
    [{ DialCallStatus: 'ok' }, 'DialCallStatus "ok" is not a Twilio call status'],
    [{ DialCallSid: 'CAxyz' }, 'DialCallSid is not a valid Twilio SID'],
    [{ DialCallDuration: 'long' }, 'DialCallDuration is not a whole number of seconds'],
    [{ CallSid: '' }, 'CallSid is required'],
  ])('refuses %o', (overrides, message) => {
    expect(() => classifyDialAction(dialAction(overrides), true)).toThrow(new InvalidCallbackError(message));
  });
});

describe('classifyQueueResult', () => {
  it('reports how the caller left the queue and how long they waited, under their CallSid', () => {
    const params = queueResult();
    expect(classifyQueueResult(params, true)).toEqual({
      rootCallSid: params.CallSid,
      accountSid: ACCOUNT_SID,
      legCallSids: [params.CallSid],
      evidence: [{ kind: 'queue', queueSid: QUEUE_SID, result: 'hangup', seconds: 95 }],
      root: { direction: 'inbound', from: '+14155550123', to: '+14155559876' },
      ends: true,
      reportedAt: undefined,
      startedAt: undefined,
      source: 'queue-action',
    } satisfies CallReport);
    expect(classifyQueueResult(params, false).ends).toBe(false);
  });

  it.each(['bridged', 'bridging-in-process', 'error', 'hangup', 'leave', 'redirected-from-bridged', 'queue-full', 'system-error'])(
    'reports QueueResult=%s as evidence',
    (result) => {
      expect(classifyQueueResult(queueResult({ QueueResult: result }), true).evidence).toMatchObject([{ kind: 'queue', result }]);
    },
  );

  it('reports nothing and ends nothing for redirected: the call went on elsewhere', () => {
    expect(classifyQueueResult(queueResult({ QueueResult: 'redirected' }), true)).toMatchObject({ evidence: [], ends: false });
  });

  it('keys a result without QueueSid (the caller never got into a queue) as "-", without QueueTime as unknown', () => {
    const report = classifyQueueResult(queueResult({ QueueResult: 'queue-full', QueueSid: '', QueueTime: '' }), true);
    expect(report.evidence).toEqual([{ kind: 'queue', queueSid: '-', result: 'queue-full', seconds: undefined }]);
  });

  it.each([
    [{ QueueResult: '' }, 'QueueResult is required'],
    [{ QueueResult: 'exploded' }, 'QueueResult "exploded" is not a Twilio queue result'],
    [{ QueueSid: 'QU1' }, 'QueueSid is not a valid Twilio SID'],
    [{ QueueSid: `CA${'a'.repeat(32)}` }, 'QueueSid is not a valid Twilio SID'],
    [{ QueueTime: 'soon' }, 'QueueTime is not a whole number of seconds'],
    [{ AccountSid: 'AC1' }, 'AccountSid is not a valid Twilio SID'],
  ])('refuses %o', (overrides, message) => {
    expect(() => classifyQueueResult(queueResult(overrides), true)).toThrow(new InvalidCallbackError(message));
  });
});

describe("classifyRecordingStatus and classifyTranscription (the caller's message)", () => {
  const root = callSid();
  const recordingSid = `RE${'d'.repeat(32)}`;
  const recording = (extra: Record<string, string> = {}) => ({
    AccountSid: ACCOUNT_SID,
    CallSid: root,
    RecordingSid: recordingSid,
    RecordingStatus: 'completed',
    RecordingDuration: '21',
    RecordingSource: 'RecordVerb',
    ...extra,
  });

  it('reports a finished recording as evidence about the recorded call, which it does not end', () => {
    expect(classifyRecordingStatus(recording())).toMatchObject({
      rootCallSid: root,
      ends: false,
      source: 'recording',
      evidence: [{ kind: 'recording', recordingSid, status: 'completed', durationSeconds: 21, voice: true }],
    });
    expect(classifyRecordingStatus(recording({ RecordingStatus: 'absent', RecordingDuration: '0' })).evidence).toMatchObject([
      { status: 'absent' },
    ]);
    // Not finished yet: nothing to keep.
    expect(classifyRecordingStatus(recording({ RecordingStatus: 'in-progress' })).evidence).toEqual([]);
  });

  it('reports a transcription with its text (cut at 4,000 characters), or its failure', () => {
    const params = { AccountSid: ACCOUNT_SID, CallSid: root, RecordingSid: recordingSid, TranscriptionStatus: 'completed' };
    expect(classifyTranscription({ ...params, TranscriptionText: 'call me back' }).evidence).toEqual([
      { kind: 'transcription', recordingSid, status: 'completed', text: 'call me back' },
    ]);
    expect(classifyTranscription({ ...params, TranscriptionText: 'x'.repeat(5_000) }).evidence[0]).toMatchObject({
      text: 'x'.repeat(4_000),
    });
    expect(classifyTranscription({ ...params, TranscriptionStatus: 'failed' }).evidence[0]).toMatchObject({
      status: 'failed',
      text: undefined,
    });
    // Either order gives the same facts.
    const both = [classifyRecordingStatus(recording()).evidence, classifyTranscription({ ...params, TranscriptionText: 'hi' }).evidence];
    const facts = (order: typeof both) => withEvidence(NO_FACTS, order.flat(), true).recordings;
    expect(facts(both)).toEqual(facts([...both].reverse()));
    expect(facts(both)?.get(recordingSid)).toEqual({ status: 'completed', seconds: 21, voice: true, transcript: 'hi' });
  });

  it.each([
    ['no RecordingSid', { RecordingSid: '' }, 'RecordingSid'],
    ['a RecordingSid that is not one', { RecordingSid: 'RE123' }, 'RecordingSid'],
    ['an unknown status', { RecordingStatus: 'lost' }, 'RecordingStatus'],
    ['a duration that is not seconds', { RecordingDuration: 'long' }, 'RecordingDuration'],
  ])('refuses %s', (_, extra, name) => {
    expect(() => classifyRecordingStatus(recording(extra))).toThrow(InvalidCallbackError);
    expect(() => classifyRecordingStatus(recording(extra))).toThrow(name);
  });
});

describe('helpers', () => {
  it('knows the root of a leg: its parent, else itself', () => {
    expect(rootCallSid('CA2', 'CA1')).toBe('CA1');
    expect(rootCallSid('CA2', undefined)).toBe('CA2');
    expect(rootCallSid('CA2', null)).toBe('CA2');
  });

  it('knows the customer and the line by direction, and neither for a child leg', () => {
    expect(customerNumber({ direction: 'inbound', from: '+1', to: '+2' })).toBe('+1');
    expect(lineNumber({ direction: 'inbound', from: '+1', to: '+2' })).toBe('+2');
    expect(customerNumber({ direction: 'outbound-api', from: '+1', to: '+2' })).toBe('+2');
    expect(lineNumber({ direction: 'outbound-api', from: '+1', to: '+2' })).toBe('+1');
    expect(customerNumber({ direction: 'outbound-dial', from: '+1', to: '+2' })).toBeUndefined();
    expect(customerNumber({ direction: 'inbound', from: '', to: '+2' })).toBeUndefined();
  });

  it('reads the sources, with the name 0.1.0 gave the status callback', () => {
    expect(sourceOf('webhook')).toBe('status-callback');
    expect(sourceOf('settle')).toBe('settle');
    expect(sourceOf('queue-action')).toBe('queue-action');
    expect(sourceOf('guess')).toBeUndefined();
    expect(sourceOf(3)).toBeUndefined();
  });

  it('parses RFC 2822 timestamps and ignores garbage', () => {
    expect(parseTwilioTimestamp('Tue, 24 Nov 2026 09:15:42 +0100')).toBe('2026-11-24T08:15:42.000Z');
    expect(parseTwilioTimestamp('not a date')).toBeUndefined();
    expect(parseTwilioTimestamp(undefined)).toBeUndefined();
  });

  it('adds evidence to facts without changing them, a repeated fact once', () => {
    const legEnd = classifyStatusCallback(statusCallback({ ParentCallSid: callSid(), CallStatus: 'no-answer' })).evidence;
    const once = withEvidence(NO_FACTS, legEnd, false);
    const twice = withEvidence(once, legEnd, false);
    expect(twice.legs.size).toBe(1);
    expect(NO_FACTS.legs.size).toBe(0);
    expect(withEvidence(twice, [], true).ended).toBe(true);
    expect(withEvidence(withEvidence(twice, [], true), [], false).ended).toBe(true);
  });
});
