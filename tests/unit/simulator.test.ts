import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { signLikeTwilio } from '../../dev/sign.js';
import {
  type Callback,
  callbackTruth,
  FLOW_WEIGHTS,
  type Flow,
  factsOf,
  factsOfLegs,
  judge,
  type Plan,
  type PlanOptions,
  planDay,
  planDelivery,
  REASONS,
  type Reason,
  registerRecordings,
  rng,
  type SimulatedCall,
  sendDay,
  textBackTruth,
  truthOf,
  VOICEMAIL_FLOWS,
  voicemailOfFacts,
} from '../../dev/simulator.js';
import { startTwilioApi } from '../../dev/twilio-api.js';
import { CALL_STATUSES, DIAL_CALL_STATUSES } from '../../lib/twilio/call-status.js';
import { ACCOUNT_SID } from '../helpers.js';

// Twilio's documented parameters (DESIGN.md, "Status callback parameters" and the <Dial> action),
// plus AnsweredBy (sent with answering machine detection) and the actions' Timestamp below.
const STATUS_CALLBACK_PARAMS = new Set([
  'CallSid',
  'AccountSid',
  'From',
  'To',
  'CallStatus',
  'ApiVersion',
  'Direction',
  'ForwardedFrom',
  'CallerName',
  'ParentCallSid',
  'CallDuration',
  'Timestamp',
  'SequenceNumber',
  'SipResponseCode',
  'CallbackSource',
  'Called',
  'Caller',
  'AnsweredBy',
]);
// The parameters of every TwiML request about the call, which the actions carry too.
const CALL_REQUEST_PARAMS = ['CallSid', 'AccountSid', 'From', 'To', 'CallStatus', 'ApiVersion', 'Direction'];
// Not among the actions' documented parameters: the simulator replays a day that happened up to
// 50 minutes ago and stamps its Dial and Enqueue actions, so that what the ledger reckons from them
// (when a miss or a returned call happened) keeps the replayed timeline. From live Twilio the
// ledger falls back to the time it received the callback, seconds after the fact.
const REPLAY_STAMP = 'Timestamp';
const DIAL_ACTION_PARAMS = new Set([...CALL_REQUEST_PARAMS, 'DialCallStatus', 'DialCallSid', 'DialCallDuration', REPLAY_STAMP]);
// <Enqueue action>: QueueResult, QueueSid, QueueTime (only when the caller was queued).
const QUEUE_ACTION_PARAMS = new Set([...CALL_REQUEST_PARAMS, 'QueueResult', 'QueueSid', 'QueueTime', REPLAY_STAMP]);
const QUEUE_RESULTS = [
  'bridged',
  'bridging-in-process',
  'error',
  'hangup',
  'leave',
  'redirected',
  'redirected-from-bridged',
  'queue-full',
  'system-error',
];
// <Record recordingStatusCallback>: the recording's parameters (no call parameters but its SIDs).
const RECORDING_STATUS_PARAMS = new Set([
  'AccountSid',
  'CallSid',
  'RecordingSid',
  'RecordingUrl',
  'RecordingStatus',
  'RecordingDuration',
  'RecordingChannels',
  'RecordingStartTime',
  'RecordingSource',
  'ErrorCode',
  REPLAY_STAMP,
]);
// <Record transcribeCallback>: the transcription's parameters and those of every request about the call.
const TRANSCRIPTION_PARAMS = new Set([
  ...CALL_REQUEST_PARAMS,
  'Called',
  'Caller',
  'ForwardedFrom',
  'CallerName',
  'TranscriptionSid',
  'TranscriptionText',
  'TranscriptionStatus',
  'TranscriptionUrl',
  'RecordingSid',
  'RecordingUrl',
]);
const ALLOWED: Record<Callback['route'], Set<string>> = {
  '/twilio/call-status': STATUS_CALLBACK_PARAMS,
  '/twilio/dial-status': DIAL_ACTION_PARAMS,
  '/twilio/queue-status': QUEUE_ACTION_PARAMS,
  '/twilio/recording-status': RECORDING_STATUS_PARAMS,
  '/twilio/transcription': TRANSCRIPTION_PARAMS,
};

const DAY: PlanOptions = {
  calls: 500,
  seed: 7,
  accountSid: ACCOUNT_SID,
  from: new Date('2026-11-24T08:00:00Z'),
  to: new Date('2026-11-24T18:00:00Z'),
};
const plan = planDay(DAY);
/** The same day with callers leaving voicemails (the demo's). */
const vmPlan = planDay({ ...DAY, voicemail: true });
/** Both days: what holds of every day. */
const DAYS: [string, Plan][] = [
  ['without voicemail', plan],
  ['with voicemail', vmPlan],
];

const NEW_FLOWS: Flow[] = [
  'hunt-answered',
  'hunt-missed',
  'simring-answered',
  'ring-abandoned',
  'short-abandoned',
  'queue-abandoned',
  'queue-short',
  'queue-bridged',
  'queue-left',
  'queue-full',
  'forwarded-voicemail',
  'ivr-only',
];

const children = (call: SimulatedCall) => call.legs.filter((l) => l.parentCallSid);
const onRoute = (call: SimulatedCall, route: Callback['route']) => call.callbacks.filter((c) => c.route === route);
/** The recording status callback of the call's message, if it went on to `<Record>`. */
const recordingOf = (call: SimulatedCall) => onRoute(call, '/twilio/recording-status')[0]?.params;
/** A message by hand: recorded (`completed`) and at least VOICEMAIL_MIN_SECONDS (3) long. */
const leftMessage = (call: SimulatedCall) =>
  recordingOf(call)?.RecordingStatus === 'completed' && Number(recordingOf(call)?.RecordingDuration) >= 3;
const seconds = (value: string | undefined) => Number(value ?? Number.NaN);

type Expected = { outcome: 'answered' | 'not-missed' } | { outcome: 'missed'; reason: Reason };
const missed = (reason: Reason): Expected => ({ outcome: 'missed', reason });
const ANSWERED: Expected = { outcome: 'answered' };
const NOT_MISSED: Expected = { outcome: 'not-missed' };
/** The status a root or its legs ended with, for the flows whose reason is what Twilio said. */
const rootStatus = (call: SimulatedCall) => call.legs[0]?.status as Reason;
const legStatus = (call: SimulatedCall) => children(call)[0]?.status as Reason;

/** Each flow's truth under the default settings, written out by hand from the rule. */
const EXPECTED: Record<Flow, (call: SimulatedCall) => Expected> = {
  // TwiML alone answered and ended it: not missed (an IVR by Twilio's facts).
  answered: () => NOT_MISSED,
  'missed-direct': (c) => missed(rootStatus(c)),
  'anonymous-missed': (c) => missed(rootStatus(c)),
  'sip-missed': (c) => missed(rootStatus(c)),
  'outbound-missed': (c) => missed(rootStatus(c)),
  // Every dialled leg rang out alike (no-answer after 31 s, or busy).
  'dial-one-missed': (c) => missed(legStatus(c)),
  'dial-three-missed': (c) => missed(legStatus(c)),
  'dial-answered': () => ANSWERED,
  // The office's no-answer does not make it missed: the cell answered.
  'hunt-answered': () => ANSWERED,
  'hunt-missed': () => missed('no-answer'),
  'simring-answered': () => ANSWERED,
  // Canceled legs: abandoned; legs that say no-answer with a root of 20 s or more: no-answer.
  'ring-abandoned': (c) => missed(legStatus(c) === 'canceled' ? 'abandoned' : 'no-answer'),
  'short-abandoned': () => missed('short-abandoned'),
  'queue-abandoned': () => missed('queue-abandoned'),
  'queue-short': () => missed('short-abandoned'),
  'queue-bridged': () => ANSWERED,
  'queue-left': () => missed('queue-left'),
  'queue-full': () => missed('queue-full'),
  // The carrier's voicemail took it: a machine's `completed` is a no-answer.
  'forwarded-voicemail': () => missed('no-answer'),
  'ivr-only': () => NOT_MISSED,
  // TwiML alone handled it: a message makes it a miss; a hang-up at the beep or 1-2 s does not.
  'after-hours-voicemail': (c) => (leftMessage(c) ? missed('voicemail') : NOT_MISSED),
  callback: () => NOT_MISSED,
};

const judgementOf = (call: SimulatedCall): Expected =>
  call.outcome === 'missed' ? missed(call.reason ?? 'no-answer') : { outcome: call.outcome };
/** The `status:` counters by hand: what Twilio said, no-answer for the reasons it has no word for. */
const STATUS_OF: Record<Reason, string> = {
  'no-answer': 'no-answer',
  busy: 'busy',
  failed: 'failed',
  canceled: 'canceled',
  abandoned: 'no-answer',
  'short-abandoned': 'no-answer',
  'queue-abandoned': 'no-answer',
  'queue-full': 'no-answer',
  'queue-left': 'no-answer',
  ivr: 'no-answer',
  voicemail: 'no-answer',
};

describe('the simulator', () => {
  it('plays every flow of a small business day, each several times in a day of 300 calls', () => {
    const withoutVoicemail = Object.keys(FLOW_WEIGHTS).filter((f) => !VOICEMAIL_FLOWS.includes(f as Flow));
    expect(new Set(plan.calls.map((c) => c.flow))).toEqual(new Set(withoutVoicemail));
    expect(new Set(vmPlan.calls.map((c) => c.flow))).toEqual(new Set(Object.keys(FLOW_WEIGHTS)));
    for (const flow of NEW_FLOWS)
      expect(
        plan.calls.some((c) => c.flow === flow),
        flow,
      ).toBe(true);
    // The demo's day: 300 calls, seed 42, with voicemail.
    const demo = planDay({ ...DAY, calls: 300, seed: 42, voicemail: true });
    for (const flow of Object.keys(FLOW_WEIGHTS)) expect(demo.calls.filter((c) => c.flow === flow).length, flow).toBeGreaterThanOrEqual(3);
  });

  it('draws the same day as before voicemail while voicemail is off', () => {
    const off = planDay({ ...DAY, voicemail: false });
    expect(off.calls.map((c) => c.callbacks)).toEqual(plan.calls.map((c) => c.callbacks));
    expect(plan.calls.every((c) => c.recordings.length === 0 && c.voicemail === undefined)).toBe(true);
    expect(plan.calls.flatMap((c) => c.callbacks).filter((c) => c.route.startsWith('/twilio/rec') || c.query !== undefined)).toEqual([]);
    expect(() => planDay({ ...DAY, flows: ['after-hours-voicemail'] })).toThrow('names no flow');
  });

  it.each(DAYS)('sends only Twilio-documented parameters, with valid values (%s)', (_, plan) => {
    for (const call of plan.calls) {
      for (const { route, params } of call.callbacks) {
        expect(Object.keys(params).filter((k) => !ALLOWED[route].has(k))).toEqual([]);
        expect(params.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
        expect(params.AccountSid).toBe(ACCOUNT_SID);
        if (route === '/twilio/recording-status') {
          expect(params.RecordingSid).toMatch(/^RE[0-9a-f]{32}$/);
          expect(params.RecordingUrl).toBe(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${params.RecordingSid}`);
          expect(['completed', 'absent']).toContain(params.RecordingStatus);
          expect(params.RecordingDuration).toMatch(/^\d+$/);
          expect(params.RecordingSource).toBe('RecordVerb');
          expect(Number.isNaN(Date.parse(params.RecordingStartTime ?? ''))).toBe(false);
          expect(Number.isNaN(Date.parse(params.Timestamp ?? ''))).toBe(false);
          continue;
        }
        expect(CALL_STATUSES).toContain(params.CallStatus);
        if (route === '/twilio/transcription') {
          // Sent once the call has ended; Twilio stamps no Timestamp on it.
          expect(params.CallStatus).toBe('completed');
          expect(params.RecordingSid).toMatch(/^RE[0-9a-f]{32}$/);
          expect(params.TranscriptionSid).toMatch(/^TR[0-9a-f]{32}$/);
          expect(params.TranscriptionUrl).toBe(`${params.RecordingUrl}/Transcriptions/${params.TranscriptionSid}`);
          expect(['completed', 'failed']).toContain(params.TranscriptionStatus);
          expect(params.TranscriptionText !== undefined).toBe(params.TranscriptionStatus === 'completed');
          continue;
        }
        expect(Number.isNaN(Date.parse(params.Timestamp ?? ''))).toBe(false);
        if (route === '/twilio/dial-status') {
          expect(DIAL_CALL_STATUSES).toContain(params.DialCallStatus);
          expect(params.DialCallSid).toMatch(/^CA[0-9a-f]{32}$/);
          expect(params.DialCallDuration).toMatch(/^\d+$/);
        } else if (route === '/twilio/queue-status') {
          expect(QUEUE_RESULTS).toContain(params.QueueResult);
          expect(params.QueueSid).toMatch(/^QU[0-9a-f]{32}$/);
          // QueueTime only if the caller was queued (a full queue queues nobody).
          expect(params.QueueTime === undefined).toBe(params.QueueResult === 'queue-full');
          if (params.QueueTime !== undefined) expect(params.QueueTime).toMatch(/^\d+$/);
        } else {
          expect(params.CallDuration).toMatch(/^\d+$/);
          // Only <Dial> child legs carry ParentCallSid, and they are outbound-dial.
          expect(params.ParentCallSid !== undefined).toBe(params.Direction === 'outbound-dial');
          if (params.AnsweredBy !== undefined) {
            expect(['human', 'machine_start', 'machine_end_beep', 'machine_end_silence', 'machine_end_other', 'fax', 'unknown']).toContain(
              params.AnsweredBy,
            );
          }
        }
      }
    }
  });

  it.each(DAYS)(
    'keys every callback of a call to its root, ends with the root’s final status, and registers each leg with Twilio (%s)',
    (_, plan) => {
      for (const call of plan.calls) {
        for (const { params } of call.callbacks) expect(params.ParentCallSid ?? params.CallSid).toBe(call.rootCallSid);
        expect(call.legs.map((l) => l.parentCallSid ?? l.sid).every((sid) => sid === call.rootCallSid)).toBe(true);
        const [root] = call.legs;
        expect(root?.sid).toBe(call.rootCallSid);
        // The root's final status callback is the last Twilio sends, sent when the root ended.
        const last = call.callbacks.at(-1);
        expect(last?.route).toBe('/twilio/call-status');
        expect(last?.params.CallSid).toBe(call.rootCallSid);
        expect(last?.params.CallStatus).toBe(root?.status);
        expect(last?.params.CallDuration).toBe(String(root?.durationSeconds));
        expect(Date.parse(last?.params.Timestamp ?? '')).toBe(root?.endTime?.getTime());
        for (const { route, params } of call.callbacks) {
          // Nothing is sent after the root ended (the actions' replies end the call that second, or
          // go on to voicemail); a message's recording is ready when the caller hung up.
          if (route === '/twilio/transcription') continue;
          expect(Date.parse(params.Timestamp ?? '')).toBeLessThanOrEqual(root?.endTime?.getTime() ?? 0);
          if (route === '/twilio/recording-status') expect(Date.parse(params.Timestamp ?? '')).toBe(root?.endTime?.getTime());
          if (route !== '/twilio/call-status') continue;
          const leg = call.legs.find((l) => l.sid === params.CallSid);
          expect(leg).toBeDefined();
          // The REST API lists what the callbacks say: status, duration, answered_by, end.
          expect(params.CallStatus).toBe(leg?.status);
          expect(params.CallDuration).toBe(String(leg?.durationSeconds));
          expect(params.AnsweredBy ?? null).toBe(leg?.answeredBy ?? null);
          expect(Date.parse(params.Timestamp ?? '')).toBe(leg?.endTime?.getTime());
        }
        for (const leg of call.legs) {
          expect(leg.endTime?.getTime()).toBeGreaterThanOrEqual(leg.startTime.getTime());
          // Connected time only for a completed leg; dialled legs start within the root.
          expect((leg.durationSeconds ?? 0) > 0).toBe(leg.status === 'completed');
          if (leg.parentCallSid) {
            expect(leg.direction).toBe('outbound-dial');
            expect(leg.startTime.getTime()).toBeGreaterThanOrEqual(root?.startTime.getTime() ?? 0);
            expect(leg.endTime?.getTime()).toBeLessThanOrEqual(root?.endTime?.getTime() ?? 0);
          }
        }
      }
    },
  );

  it.each(DAYS)('plays each flow as Twilio reports it (%s)', (_, plan) => {
    const of = (flow: Flow) => plan.calls.filter((c) => c.flow === flow);
    for (const call of of('hunt-answered')) {
      const [office, cell] = children(call);
      expect([office?.status, cell?.status]).toEqual(['no-answer', 'completed']);
      expect(cell?.answeredBy).toBeNull();
      expect(cell?.durationSeconds).toBeGreaterThanOrEqual(50);
      expect(cell?.durationSeconds).toBeLessThanOrEqual(70);
      expect(onRoute(call, '/twilio/dial-status')).toEqual([]);
      const parent = seconds(call.callbacks.at(-1)?.params.CallDuration);
      expect(parent - 15 - (cell?.durationSeconds ?? 0)).toBeGreaterThanOrEqual(5);
      expect(parent - 15 - (cell?.durationSeconds ?? 0)).toBeLessThanOrEqual(15);
    }
    for (const call of of('hunt-missed')) {
      expect(children(call).map((l) => l.status)).toEqual(['no-answer', 'no-answer']);
      expect(onRoute(call, '/twilio/dial-status')).toEqual([]);
      // Then voicemail, maybe: a greeting of 3 to 8 s before the beep, and the recording.
      const recorded = seconds(recordingOf(call)?.RecordingDuration ?? '0');
      const greeting = recordingOf(call) === undefined ? [0, 0] : [3, 8];
      expect(seconds(call.callbacks.at(-1)?.params.CallDuration) - 45 - recorded).toBeGreaterThanOrEqual(greeting[0] ?? 0);
      expect(seconds(call.callbacks.at(-1)?.params.CallDuration) - 45 - recorded).toBeLessThanOrEqual((greeting[1] ?? 0) + 2);
    }
    for (const call of of('simring-answered')) {
      expect(
        children(call)
          .map((l) => l.status)
          .sort(),
      ).toEqual(['canceled', 'canceled', 'completed']);
      const [action] = onRoute(call, '/twilio/dial-status');
      expect(action?.params.DialCallStatus).toBe('completed');
      expect(action?.params.DialCallSid).toBe(children(call).find((l) => l.status === 'completed')?.sid);
    }
    let noAnswerVariant = 0;
    let abandoned = 0;
    for (const flow of ['ring-abandoned', 'short-abandoned'] as const) {
      for (const call of of(flow)) {
        const legs = children(call);
        expect(legs.length === 1 || legs.length === 3).toBe(true);
        expect(new Set(legs.map((l) => l.status)).size).toBe(1);
        expect(['canceled', 'no-answer']).toContain(legs[0]?.status);
        expect(onRoute(call, '/twilio/dial-status')).toEqual([]);
        const parent = call.callbacks.at(-1)?.params;
        expect(parent?.CallStatus).toBe('completed');
        const [low, high] = flow === 'ring-abandoned' ? [20, 28] : [2, 9];
        expect(seconds(parent?.CallDuration)).toBeGreaterThanOrEqual(low);
        expect(seconds(parent?.CallDuration)).toBeLessThanOrEqual(high);
        // The legs rang until the caller hung up.
        for (const leg of legs) expect(leg.endTime?.getTime()).toBe(call.legs[0]?.endTime?.getTime());
        abandoned += 1;
        if (legs[0]?.status === 'no-answer') noAnswerVariant += 1;
      }
    }
    // One abandoned call in four reports its legs no-answer.
    expect(noAnswerVariant / abandoned).toBeGreaterThan(0.1);
    expect(noAnswerVariant / abandoned).toBeLessThan(0.45);
    const queueTimes: Record<string, [string, number, number] | [string]> = {
      'queue-abandoned': ['hangup', 30, 120],
      'queue-short': ['hangup', 1, 9],
      'queue-bridged': ['bridged', 5, 60],
      'queue-left': ['leave', 60, 300],
      'queue-full': ['queue-full'],
    };
    for (const [flow, [result, low, high]] of Object.entries(queueTimes)) {
      for (const call of of(flow as Flow)) {
        // The agent's <Dial><Queue> leg is a call of its own: no legs under this root.
        expect(call.legs).toHaveLength(1);
        expect(call.legs[0]?.status).toBe('completed');
        const [action, ...more] = onRoute(call, '/twilio/queue-status');
        expect(more).toEqual([]);
        expect(action?.params.QueueResult).toBe(result);
        if (low !== undefined) {
          expect(seconds(action?.params.QueueTime)).toBeGreaterThanOrEqual(low);
          expect(seconds(action?.params.QueueTime)).toBeLessThanOrEqual(high ?? 0);
        }
      }
    }
    for (const call of of('forwarded-voicemail')) {
      const [leg, ...more] = children(call);
      expect(more).toEqual([]);
      expect(leg?.status).toBe('completed');
      expect(['machine_start', 'machine_end_beep']).toContain(leg?.answeredBy);
      expect(leg?.durationSeconds).toBeGreaterThanOrEqual(20);
      expect(leg?.durationSeconds).toBeLessThanOrEqual(40);
      const [action] = onRoute(call, '/twilio/dial-status');
      expect(action?.params.DialCallStatus).toBe('completed');
      expect(action?.params.DialCallSid).toBe(leg?.sid);
    }
    for (const call of [...of('ivr-only'), ...of('answered')]) {
      expect(call.callbacks.map((c) => c.params.CallStatus)).toEqual(['completed']);
      expect(call.legs).toHaveLength(1);
    }
  });

  it.each(DAYS)('knows the ground truth of every flow, written out by hand (%s)', (_, plan) => {
    for (const call of plan.calls) {
      expect(judgementOf(call), call.flow).toEqual(EXPECTED[call.flow](call));
      expect(call.missed ?? null).toBe(call.reason === undefined ? null : STATUS_OF[call.reason]);
      if (call.flow === 'anonymous-missed' || call.flow === 'sip-missed') expect(call.customer).toBe('anonymous');
      if (call.flow === 'outbound-missed') expect(call.customer).toBe(call.legs[0]?.to);
      if (call.outcome !== 'missed') expect(call.customer).toBeUndefined();
    }
  });

  it('adds the truth up: by reason and by status to the missed calls, short-abandoned on no contact', () => {
    const { truth } = plan;
    const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
    expect(sum(Object.values(truth.byReason))).toBe(truth.missed);
    expect(sum(Object.values(truth.byStatus))).toBe(truth.missed);
    expect(sum(Object.values(truth.byOutcome))).toBe(plan.calls.length);
    expect(truth.missed).toBe(plan.calls.filter((c) => c.outcome === 'missed').length);
    expect(sum(truth.contacts.values()) + truth.anonymous + truth.byReason['short-abandoned']).toBe(truth.missed);
    expect(Math.max(...truth.contacts.values())).toBeGreaterThan(1);
    for (const reason of [
      'no-answer',
      'busy',
      'failed',
      'abandoned',
      'short-abandoned',
      'queue-abandoned',
      'queue-full',
      'queue-left',
    ] as const) {
      expect(truth.byReason[reason], reason).toBeGreaterThan(0);
    }
    expect(truth.byReason.ivr + truth.byReason.canceled).toBe(0);
    expect(Object.keys(truth.byReason).sort()).toEqual([...REASONS].sort());
    expect(truthOf(plan.calls)).toEqual(truth);
  });

  it('applies SHORT_ABANDON_SECONDS, MISSED_INCLUDE_CANCELED and IVR_HANGUPS_MISSED', () => {
    const canceled = planDay({ ...DAY, includeCanceled: true });
    for (const call of canceled.calls) {
      if (call.flow !== 'ring-abandoned' && call.flow !== 'short-abandoned') {
        expect(judgementOf(call)).toEqual(EXPECTED[call.flow](call));
        continue;
      }
      // Canceled legs keep their old meaning; legs that say no-answer are unchanged.
      const expected = legStatus(call) === 'canceled' ? 'canceled' : call.flow === 'ring-abandoned' ? 'no-answer' : 'short-abandoned';
      expect(call.reason).toBe(expected);
    }
    expect(canceled.truth.byStatus.canceled).toBe(canceled.truth.byReason.canceled);
    expect(canceled.truth.byReason.canceled).toBeGreaterThan(0);

    const ivr = planDay({ ...DAY, ivrHangupsMissed: true });
    for (const call of ivr.calls) {
      if (call.flow === 'answered' || call.flow === 'ivr-only') expect(judgementOf(call)).toEqual(missed('ivr'));
      // A call we placed that the customer took is not an IVR hang-up.
      else expect(judgementOf(call)).toEqual(EXPECTED[call.flow](call));
    }
    expect(ivr.truth.byReason.ivr).toBe(ivr.calls.filter((c) => c.flow === 'answered' || c.flow === 'ivr-only').length);

    // 30 s: a hang-up after 20 to 28 s of ringing is short too, a queue wait of 30 s or more is not.
    const long = planDay({ ...DAY, shortAbandonSeconds: 30 });
    for (const call of long.calls) {
      if (call.flow === 'ring-abandoned') expect(call.reason).toBe('short-abandoned');
      else if (call.flow === 'queue-abandoned') expect(call.reason).toBe('queue-abandoned');
      else if (call.flow === 'hunt-missed' || call.flow === 'forwarded-voicemail') expect(call.reason).toBe('no-answer');
    }
    const none = planDay({ ...DAY, shortAbandonSeconds: 0 });
    expect(none.truth.byReason['short-abandoned']).toBe(0);
    expect(none.truth.missed).toBe(plan.truth.missed);
  });

  it.each(DAYS)('judges from Twilio’s facts, whatever order the callbacks arrive in (%s)', (_, plan) => {
    const random = rng(99);
    for (const call of plan.calls) {
      for (let i = 0; i < 3; i++) {
        const shuffled = [...call.callbacks, ...call.callbacks].sort(() => random() - 0.5);
        expect(judge(factsOf(shuffled), plan.settings)).toEqual(judgementOf(call));
        expect(voicemailOfFacts(factsOf(shuffled), 3)).toEqual(call.voicemail);
      }
    }
  });

  it.each(DAYS)('is told by the REST API’s legs but for queue results and messages, which only their callbacks carry (%s)', (_, plan) => {
    for (const call of plan.calls) {
      const listed = judge(factsOfLegs(call.legs), plan.settings);
      if (call.flow.startsWith('queue-') || call.flow === 'after-hours-voicemail') expect(listed).toEqual(NOT_MISSED);
      else expect(listed, call.flow).toEqual(judgementOf(call));
    }
  });

  it('keeps the truth whatever is delivered, and says what the delivered callbacks alone cannot tell', () => {
    const all = planDelivery(plan, { drop: 0, duplicates: 0.5, seed: 1 });
    expect(all.summary.differing.size).toBe(0);
    expect(all.summary.unrecoverable.size).toBe(0);
    expect(all.summary.expectedBySource.reconcile).toBe(0);

    const queueMisses = plan.calls.filter((c) => c.outcome === 'missed' && c.flow.startsWith('queue-'));
    const none = planDelivery(plan, { drop: 1, duplicates: 0, seed: 1 });
    expect(none.work.flat()).toEqual([]);
    expect([...none.summary.unrecoverable].sort()).toEqual(queueMisses.map((c) => c.rootCallSid).sort());
    expect(none.summary.expectedBySource.reconcile).toBe(plan.truth.missed - queueMisses.length);
    expect([...none.summary.sourceOf.values()].every((s) => s === 'reconcile')).toBe(true);

    const before = structuredClone(plan.truth);
    const some = planDelivery(plan, { drop: 0.3, duplicates: 0.1, seed: 3 });
    expect(plan.truth).toEqual(before);
    expect(some.summary.differing.size).toBeGreaterThan(0);
    const byRoot = new Map(plan.calls.map((c, i) => [c.rootCallSid, { call: c, delivered: some.work[i] ?? [] }]));
    for (const [root, seen] of some.summary.differing) {
      const entry = byRoot.get(root);
      // Only a lost callback can make the delivered ones tell another story.
      expect(new Set(entry?.delivered).size).toBeLessThan(entry?.call.callbacks.length ?? 0);
      expect(judge(factsOf(entry?.delivered ?? []), plan.settings)).toEqual(seen);
    }
    for (const root of some.summary.unrecoverable) {
      expect(byRoot.get(root)?.delivered.some((c) => c.route === '/twilio/queue-status')).toBe(false);
    }
    for (const [root, source] of some.summary.sourceOf) {
      const entry = byRoot.get(root);
      const rootFinal = entry?.delivered.some((c) => c.route === '/twilio/call-status' && c.params.CallSid === root);
      expect(source).toBe(entry?.delivered.length === 0 ? 'reconcile' : rootFinal ? 'root' : 'evidence');
    }
    expect(new Set(some.summary.sourceOf.values())).toEqual(new Set(['root', 'evidence', 'reconcile']));
  });

  it('plays only the flows asked for, by their weights', () => {
    const queues = planDay({ ...DAY, calls: 200, flows: ['queue-abandoned', 'queue-bridged'] });
    expect(new Set(queues.calls.map((c) => c.flow))).toEqual(new Set(['queue-abandoned', 'queue-bridged', 'callback']));
    const bridged = queues.calls.filter((c) => c.flow === 'queue-bridged').length;
    // Weights 5 and 8.
    expect(bridged / (bridged + queues.truth.byReason['queue-abandoned'])).toBeGreaterThan(0.45);
    expect(() => planDay({ ...DAY, flows: [] })).toThrow('names no flow');
  });

  it('replays the same day from the same seed', () => {
    const again = planDay(DAY);
    expect(again.calls.map((c) => c.rootCallSid)).toEqual(plan.calls.map((c) => c.rootCallSid));
    expect(again.calls.map((c) => c.callbacks)).toEqual(plan.calls.map((c) => c.callbacks));
    expect(again.truth).toEqual(plan.truth);
    expect(planDelivery(again, { drop: 0.1, duplicates: 0.1, seed: 5 }).work).toEqual(
      planDelivery(plan, { drop: 0.1, duplicates: 0.1, seed: 5 }).work,
    );
  });

  it('plans staff callbacks (some too short, some to voicemail) and counts the worklist by its definition', () => {
    const callbacks = plan.calls.filter((c) => c.flow === 'callback');
    expect(callbacks.length).toBeGreaterThan(0);
    const outcomes = new Set(callbacks.map((c) => c.callbacks[0]?.params.AnsweredBy ?? 'short'));
    expect(outcomes).toEqual(new Set(['short', 'machine_end_beep', 'human']));
    const sourceOf = new Map(plan.calls.filter((c) => c.outcome === 'missed').map((c) => [c.rootCallSid, 'root' as const]));
    const truth = callbackTruth(plan, sourceOf);
    expect(truth.opened).toBe(truth.resolved.callback + truth.resolved['returned-call'] + truth.openNow);
    expect(truth.seconds).toHaveLength(truth.resolved.callback + truth.resolved['returned-call']);
    expect(truth.seconds.every((s) => s > 0)).toBe(true);
    expect(truth.resolved.callback).toBeGreaterThan(0);
    expect(truth.resolved['returned-call']).toBeGreaterThan(0);
    // Short-abandoned misses open no callback, and staff call back no one for them.
    const short = plan.calls.filter((c) => c.reason === 'short-abandoned');
    const worklisted = new Set(plan.calls.filter((c) => c.outcome === 'missed' && c.reason !== 'short-abandoned').map((c) => c.customer));
    const onlyShort = new Set(short.map((c) => c.customer).filter((p) => p !== 'anonymous' && !worklisted.has(p)));
    expect(onlyShort.size).toBeGreaterThan(0);
    for (const phone of onlyShort) {
      expect(truth.open.has(phone ?? '')).toBe(false);
      expect(callbacks.some((c) => c.legs[0]?.to === phone)).toBe(false);
    }
    const texts = textBackTruth(plan);
    for (const phone of onlyShort) expect([...texts.inboundOnly, ...texts.outboundOnly, ...texts.mixed]).not.toContain(phone);
    // A miss the reconciliation recorded is reckoned at the call's start; one left out is not counted.
    const reconciled = callbackTruth(plan, new Map([...sourceOf.keys()].map((root) => [root, 'reconcile' as const])));
    expect(reconciled.opened).toBe(reconciled.resolved.callback + reconciled.resolved['returned-call'] + reconciled.openNow);
    const firstOpen = [...reconciled.open.values()].sort()[0] ?? '';
    const starts = new Set(plan.calls.map((c) => c.legs[0]?.startTime.toISOString()));
    expect(starts.has(firstOpen)).toBe(true);
    const unknown = new Set(plan.calls.filter((c) => c.outcome === 'missed').map((c) => c.rootCallSid));
    expect(callbackTruth(plan, sourceOf, unknown).opened).toBe(0);
    // An answered call left out (a bridge whose Enqueue action was lost) resolves nothing.
    const returned = new Set(plan.reaches.filter((r) => r.by === 'returned-call').map((r) => r.rootCallSid ?? ''));
    expect(returned.has('')).toBe(false);
    expect(callbackTruth(plan, sourceOf, returned).resolved['returned-call']).toBe(0);
  });

  it('sends each delivered callback signed to its route (and its query: a Dial action that goes on to voicemail)', async () => {
    const routes: string[] = [];
    const server = createServer((req, res) => {
      routes.push(req.url ?? '');
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        // Signed as Twilio signs: the whole URL requested (query included) and the form's parameters.
        const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url}`;
        res.writeHead(req.headers['x-twilio-signature'] === signLikeTwilio('token', url, params) ? 204 : 403);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const small = planDay({ ...DAY, calls: 60, voicemail: true });
      const options = { drop: 0.1, duplicates: 0.2, seed: 2 };
      const sent = await sendDay(small, {
        ...options,
        target: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        authToken: 'token',
        concurrency: 4,
      });
      const expected = planDelivery(small, options).work.flat();
      expect(sent.sent).toBe(expected.length);
      expect(sent.failed).toBe(0);
      expect(sent.statuses).toEqual({ 204: expected.length });
      expect(sent.callbacks).toBe(small.calls.reduce((n, c) => n + c.callbacks.length, 0));
      expect(routes.sort()).toEqual(expected.map((c) => `${c.route}${c.query ?? ''}`).sort());
      expect(routes.filter((r) => r.includes('?'))).not.toEqual([]);
      expect(routes.filter((r) => r.startsWith('/twilio/recording-status'))).not.toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  describe('voicemail (issue 28)', () => {
    const recordingCalls = vmPlan.calls.filter((c) => recordingOf(c) !== undefined);
    const transcriptionOf = (call: SimulatedCall) => onRoute(call, '/twilio/transcription')[0]?.params;
    /** Each miss's voicemail by hand: its recording, if a message, with the transcript a completed transcription brought. */
    const byHand = (call: SimulatedCall) => {
      const recording = recordingOf(call);
      if (call.outcome !== 'missed' || !leftMessage(call) || recording === undefined) return undefined;
      const transcription = transcriptionOf(call);
      return {
        recordingSid: recording.RecordingSid,
        durationSeconds: Number(recording.RecordingDuration),
        ...(transcription?.TranscriptionStatus === 'completed' ? { transcript: transcription.TranscriptionText } : {}),
      };
    };

    it('leaves messages after some calls rang out and on the after-hours line, with hang-ups at the beep and 1-2 s recordings', () => {
      expect(new Set(recordingCalls.map((c) => c.flow))).toEqual(
        new Set(['dial-one-missed', 'dial-three-missed', 'hunt-missed', 'after-hours-voicemail']),
      );
      // Every after-hours call reaches <Record>; about 60% of the rung-out ones go on to it.
      const afterHours = vmPlan.calls.filter((c) => c.flow === 'after-hours-voicemail');
      expect(afterHours.every((c) => recordingOf(c) !== undefined)).toBe(true);
      const rungOut = vmPlan.calls.filter((c) => ['dial-one-missed', 'dial-three-missed', 'hunt-missed'].includes(c.flow));
      const share = rungOut.filter((c) => recordingOf(c) !== undefined).length / rungOut.length;
      expect(share).toBeGreaterThan(0.4);
      expect(share).toBeLessThan(0.8);
      const kinds = { message: 0, absent: 0, short: 0, transcribed: 0, failed: 0, untranscribed: 0 };
      for (const call of recordingCalls) {
        const recording = recordingOf(call);
        const duration = Number(recording?.RecordingDuration);
        const transcription = transcriptionOf(call);
        expect(onRoute(call, '/twilio/recording-status')).toHaveLength(1);
        expect(onRoute(call, '/twilio/transcription').length).toBeLessThanOrEqual(1);
        if (transcription !== undefined) {
          expect(transcription.RecordingSid).toBe(recording?.RecordingSid);
          expect(transcription.TranscriptionSid).toBe(`TR${recording?.RecordingSid?.slice(2)}`);
        }
        // The recording ran until the caller hung up: the root's end.
        const root = call.legs[0];
        expect(Date.parse(recording?.RecordingStartTime ?? '')).toBe((root?.endTime?.getTime() ?? 0) - duration * 1000);
        // Twilio keeps what it recorded: the REST API serves it (registered with the local API).
        expect(call.recordings).toEqual(
          recording?.RecordingStatus === 'completed'
            ? [{ sid: recording.RecordingSid, callSid: call.rootCallSid, durationSeconds: duration }]
            : [],
        );
        if (recording?.RecordingStatus === 'absent') {
          kinds.absent += 1;
          expect(duration).toBe(0);
          expect(transcription).toBeUndefined();
        } else if (duration < 3) {
          kinds.short += 1;
          expect(duration).toBeGreaterThanOrEqual(1);
        } else {
          kinds.message += 1;
          expect(duration).toBeGreaterThanOrEqual(4);
          expect(duration).toBeLessThanOrEqual(60);
          if (transcription === undefined) kinds.untranscribed += 1;
          else if (transcription.TranscriptionStatus === 'failed') kinds.failed += 1;
          else kinds.transcribed += 1;
        }
        // A Dial action goes on to voicemail (`next`); the reply to one that does not ends the call.
        for (const action of onRoute(call, '/twilio/dial-status')) {
          expect(action.query).toBe('?next=/voicemail');
          expect(Date.parse(action.params.Timestamp ?? '')).toBeLessThan(root?.endTime?.getTime() ?? 0);
        }
      }
      for (const [kind, n] of Object.entries(kinds)) expect(n, kind).toBeGreaterThan(0);
      expect(kinds.transcribed).toBeGreaterThan(kinds.failed + kinds.untranscribed);
      for (const call of vmPlan.calls.filter((c) => recordingOf(c) === undefined)) {
        expect(call.recordings).toEqual([]);
        expect(onRoute(call, '/twilio/transcription')).toEqual([]);
        for (const action of onRoute(call, '/twilio/dial-status')) expect(action.query).toBeUndefined();
      }
    });

    it('knows each miss’s voicemail: reason voicemail only straight to voicemail, none for a hang-up at the beep or under 3 s', () => {
      for (const call of vmPlan.calls) expect(call.voicemail, call.flow).toEqual(byHand(call));
      const messages = vmPlan.calls.filter((c) => c.voicemail !== undefined);
      expect(messages.some((c) => c.voicemail?.transcript !== undefined)).toBe(true);
      expect(messages.some((c) => c.voicemail?.transcript === undefined)).toBe(true);
      // After ringing out, a message leaves the reason as it was (no-answer or busy).
      const rungOut = messages.filter((c) => c.flow !== 'after-hours-voicemail');
      expect(rungOut.length).toBeGreaterThan(0);
      for (const call of rungOut) expect(call.reason).toBe(legStatus(call));
      const afterHours = vmPlan.calls.filter((c) => c.flow === 'after-hours-voicemail');
      expect(vmPlan.truth.byReason.voicemail).toBe(afterHours.filter(leftMessage).length);
      expect(vmPlan.truth.byReason.voicemail).toBeGreaterThan(0);
      // Nothing recorded, or 1-2 s: TwiML alone handled it, no miss, no voicemail.
      const none = [...afterHours, ...rungOut].filter((c) => recordingOf(c) !== undefined && !leftMessage(c));
      for (const call of afterHours.filter((c) => !leftMessage(c))) {
        expect(call.outcome).toBe('not-missed');
        expect(call.customer).toBeUndefined();
      }
      for (const call of none) expect(call.voicemail).toBeUndefined();
      // A transcript alone (its recording's status unknown) is no message.
      const transcribed = messages.find((c) => transcriptionOf(c)?.TranscriptionStatus === 'completed');
      expect(transcribed).toBeDefined();
      if (transcribed) expect(voicemailOfFacts(factsOf(onRoute(transcribed, '/twilio/transcription')), 3)).toBeUndefined();
    });

    it('applies VOICEMAIL_MIN_SECONDS', () => {
      const long = planDay({ ...DAY, voicemail: true, voicemailMinSeconds: 30 });
      // The same calls (the staff callbacks planned after them follow the misses, which differ).
      const day = long.calls.filter((c) => c.flow !== 'callback');
      const vmDay = vmPlan.calls.filter((c) => c.flow !== 'callback');
      expect(day.map((c) => c.rootCallSid)).toEqual(vmDay.map((c) => c.rootCallSid));
      day.forEach((call, i) => {
        const recorded = Number(recordingOf(call)?.RecordingDuration ?? 0);
        const before = vmDay[i];
        if (call.flow === 'after-hours-voicemail') {
          expect(call.reason).toBe(before?.reason === 'voicemail' && recorded >= 30 ? 'voicemail' : undefined);
        }
        expect(call.voicemail).toEqual(recorded >= 30 ? before?.voicemail : undefined);
      });
      expect(long.truth.byReason.voicemail).toBeGreaterThan(0);
      expect(long.truth.byReason.voicemail).toBeLessThan(vmPlan.truth.byReason.voicemail);
    });

    it('expects of the ledger only the voicemails, and transcripts, whose callbacks were delivered', () => {
      const withMessage = vmPlan.calls.filter((c) => c.voicemail !== undefined);
      const queueMisses = vmPlan.calls.filter((c) => c.outcome === 'missed' && c.flow.startsWith('queue-')).map((c) => c.rootCallSid);
      const straight = withMessage.filter((c) => c.reason === 'voicemail').map((c) => c.rootCallSid);

      const all = planDelivery(vmPlan, { drop: 0, duplicates: 0.5, seed: 1 });
      expect(all.summary.voicemails).toEqual(new Map(withMessage.map((c) => [c.rootCallSid, c.voicemail])));
      expect(all.summary.lostVoicemails.size + all.summary.lostTranscripts.size + all.summary.unrecoverable.size).toBe(0);
      expect(all.summary.differing.size).toBe(0);

      // Nothing delivered: no voicemail can be known, and a call straight to voicemail is no miss to the ledger.
      const none = planDelivery(vmPlan, { drop: 1, duplicates: 0, seed: 1 });
      expect(none.summary.voicemails.size).toBe(0);
      expect([...none.summary.lostVoicemails].sort()).toEqual(withMessage.map((c) => c.rootCallSid).sort());
      expect([...none.summary.unrecoverable].sort()).toEqual([...queueMisses, ...straight].sort());
      expect(none.summary.expectedBySource.reconcile).toBe(vmPlan.truth.missed - queueMisses.length - straight.length);

      // Some lost: by hand from what was delivered.
      const some = planDelivery(vmPlan, { drop: 0.3, duplicates: 0.1, seed: 3 });
      let lostRecordings = 0;
      let lostTranscripts = 0;
      vmPlan.calls.forEach((call, i) => {
        const delivered = some.work[i] ?? [];
        const expected = some.summary.voicemails.get(call.rootCallSid);
        if (call.voicemail === undefined) {
          expect(expected).toBeUndefined();
          expect(some.summary.lostVoicemails.has(call.rootCallSid)).toBe(false);
          return;
        }
        const recordingCame = delivered.some((c) => c.route === '/twilio/recording-status');
        const transcriptCame = delivered.some((c) => c.route === '/twilio/transcription' && c.params.TranscriptionStatus === 'completed');
        expect(some.summary.lostVoicemails.has(call.rootCallSid)).toBe(!recordingCame);
        expect(some.summary.unrecoverable.has(call.rootCallSid)).toBe(!recordingCame && call.reason === 'voicemail');
        if (!recordingCame) {
          lostRecordings += 1;
          expect(expected).toBeUndefined();
          return;
        }
        const { transcript, ...recorded } = call.voicemail;
        expect(expected).toEqual(transcriptCame ? call.voicemail : recorded);
        expect(some.summary.lostTranscripts.has(call.rootCallSid)).toBe(transcript !== undefined && !transcriptCame);
        if (transcript !== undefined && !transcriptCame) lostTranscripts += 1;
      });
      expect(lostRecordings).toBeGreaterThan(0);
      expect(lostTranscripts).toBeGreaterThan(0);
      expect(some.summary.lostTranscripts.size).toBe(lostTranscripts);
    });

    it('a lost recording callback: no voicemail to expect, and straight to voicemail no miss; a lost transcription: no transcript', () => {
      const straight = vmPlan.calls.find((c) => c.reason === 'voicemail' && c.voicemail?.transcript !== undefined);
      const rungOut = vmPlan.calls.find((c) => c.reason === 'no-answer' && c.voicemail?.transcript !== undefined);
      expect(straight).toBeDefined();
      expect(rungOut).toBeDefined();
      for (const call of [straight, rungOut]) {
        if (call === undefined) continue;
        const one: Plan = { ...vmPlan, calls: [call] };
        const routes = (seed: number) => new Set(planDelivery(one, { drop: 0.5, duplicates: 0, seed }).work[0]?.map((c) => c.route) ?? []);
        const seeds = Array.from({ length: 200 }, (_, i) => i);
        const recordingLost = seeds.find(
          (seed) => !routes(seed).has('/twilio/recording-status') && routes(seed).has('/twilio/transcription'),
        );
        const transcriptLost = seeds.find(
          (seed) => routes(seed).has('/twilio/recording-status') && !routes(seed).has('/twilio/transcription'),
        );
        expect(recordingLost).toBeDefined();
        expect(transcriptLost).toBeDefined();
        // The transcript came, its recording's status did not: nothing the ledger can show.
        const lost = planDelivery(one, { drop: 0.5, duplicates: 0, seed: recordingLost ?? 0 }).summary;
        expect(lost.voicemails.size).toBe(0);
        expect([...lost.lostVoicemails]).toEqual([call.rootCallSid]);
        expect(lost.unrecoverable.has(call.rootCallSid)).toBe(call.reason === 'voicemail');
        // The recording's status came, the transcript did not: the voicemail without it.
        const untranscribed = planDelivery(one, { drop: 0.5, duplicates: 0, seed: transcriptLost ?? 0 }).summary;
        expect(untranscribed.voicemails.get(call.rootCallSid)).toEqual({
          recordingSid: call.voicemail?.recordingSid,
          durationSeconds: call.voicemail?.durationSeconds,
        });
        expect([...untranscribed.lostTranscripts]).toEqual([call.rootCallSid]);
        expect(untranscribed.unrecoverable.size).toBe(0);
      }
    });

    it('registers every recording Twilio keeps with the local Twilio API', async () => {
      const api = await startTwilioApi({ accountSid: ACCOUNT_SID, authTokens: ['token'] });
      try {
        const count = await registerRecordings(api.baseUrl, vmPlan.calls);
        const kept = vmPlan.calls.flatMap((c) => c.recordings);
        expect(count).toBe(kept.length);
        expect(kept.length).toBeGreaterThan(0);
        expect([...api.recordings.keys()].sort()).toEqual(kept.map((r) => r.sid).sort());
        for (const r of kept) expect(api.recordings.get(r.sid)).toMatchObject({ callSid: r.callSid, durationSeconds: r.durationSeconds });
      } finally {
        await api.stop();
      }
    });

    it('adds to the day without redrawing it: the same calls, lost and duplicated alike, some going on to voicemail, and after-hours calls', () => {
      const base = (p: Plan) => p.calls.filter((c) => c.flow !== 'after-hours-voicemail' && !afterHoursCallers(p).has(c.rootCallSid));
      // The staff callbacks of the after-hours misses come after those of the day's.
      const afterHoursCallers = (p: Plan) => {
        const first = p.calls.findIndex((c) => c.flow === 'after-hours-voicemail');
        return new Set(first < 0 ? [] : p.calls.slice(first).map((c) => c.rootCallSid));
      };
      const day = base(vmPlan);
      expect(day.map((c) => [c.rootCallSid, c.flow, c.outcome, c.reason, c.customer, c.legs[0]?.startTime])).toEqual(
        plan.calls.map((c) => [c.rootCallSid, c.flow, c.outcome, c.reason, c.customer, c.legs[0]?.startTime]),
      );
      expect(vmPlan.calls.filter((c) => c.flow === 'after-hours-voicemail')).toHaveLength(Math.ceil(DAY.calls * 0.04));
      // The callbacks but the message's (and the lengths its recording adds) are the same.
      const shape = (c: Callback) => [c.route, c.params.CallSid, c.params.CallStatus, c.params.DialCallStatus, c.params.QueueResult];
      expect(
        day.map((c) => c.callbacks.filter((cb) => !cb.route.startsWith('/twilio/rec') && cb.route !== '/twilio/transcription').map(shape)),
      ).toEqual(plan.calls.map((c) => c.callbacks.map(shape)));
      // Delivered alike: the same callbacks lost, duplicated, in the same order.
      const options = { drop: 0.2, duplicates: 0.2, seed: 9 };
      const withVoicemail = planDelivery(vmPlan, options).work;
      const without = planDelivery(plan, options).work;
      const ofDay = new Set(day.map((c) => c.rootCallSid));
      expect(
        vmPlan.calls
          .map((c, i) => [c, withVoicemail[i] ?? []] as const)
          .filter(([c]) => ofDay.has(c.rootCallSid))
          .map(([, delivered]) =>
            delivered.filter((cb) => !cb.route.startsWith('/twilio/rec') && cb.route !== '/twilio/transcription').map(shape),
          ),
      ).toEqual(without.map((delivered) => delivered.map(shape)));
      // Only the after-hours line, when asked for alone.
      const closed = planDay({ ...DAY, calls: 40, voicemail: true, flows: ['after-hours-voicemail'] });
      expect(new Set(closed.calls.map((c) => c.flow))).toEqual(new Set(['after-hours-voicemail', 'callback']));
      expect(closed.calls.filter((c) => c.flow === 'after-hours-voicemail')).toHaveLength(40);
      expect(planDay({ ...DAY, voicemail: true, flows: ['queue-full'] }).calls.some((c) => c.flow === 'after-hours-voicemail')).toBe(false);
    });

    it('replays the same voicemails from the same seed', () => {
      const again = planDay({ ...DAY, voicemail: true });
      expect(again.calls.map((c) => [c.callbacks, c.recordings, c.voicemail])).toEqual(
        vmPlan.calls.map((c) => [c.callbacks, c.recordings, c.voicemail]),
      );
    });
  });
});
