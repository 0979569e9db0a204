import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  type Callback,
  callbackTruth,
  FLOW_WEIGHTS,
  type Flow,
  factsOf,
  factsOfLegs,
  judge,
  type PlanOptions,
  planDay,
  planDelivery,
  REASONS,
  type Reason,
  rng,
  type SimulatedCall,
  sendDay,
  textBackTruth,
  truthOf,
} from '../../dev/simulator.js';
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
const ALLOWED: Record<Callback['route'], Set<string>> = {
  '/twilio/call-status': STATUS_CALLBACK_PARAMS,
  '/twilio/dial-status': DIAL_ACTION_PARAMS,
  '/twilio/queue-status': QUEUE_ACTION_PARAMS,
};

const DAY: PlanOptions = {
  calls: 500,
  seed: 7,
  accountSid: ACCOUNT_SID,
  from: new Date('2026-11-24T08:00:00Z'),
  to: new Date('2026-11-24T18:00:00Z'),
};
const plan = planDay(DAY);

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
    expect(new Set(plan.calls.map((c) => c.flow))).toEqual(new Set(Object.keys(FLOW_WEIGHTS)));
    for (const flow of NEW_FLOWS)
      expect(
        plan.calls.some((c) => c.flow === flow),
        flow,
      ).toBe(true);
    // The demo's day: 300 calls, seed 42.
    const demo = planDay({ ...DAY, calls: 300, seed: 42 });
    for (const flow of Object.keys(FLOW_WEIGHTS)) expect(demo.calls.filter((c) => c.flow === flow).length, flow).toBeGreaterThanOrEqual(3);
  });

  it('sends only Twilio-documented parameters, with valid values', () => {
    for (const call of plan.calls) {
      for (const { route, params } of call.callbacks) {
        expect(Object.keys(params).filter((k) => !ALLOWED[route].has(k))).toEqual([]);
        expect(params.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
        expect(params.AccountSid).toBe(ACCOUNT_SID);
        expect(CALL_STATUSES).toContain(params.CallStatus);
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

  it('keys every callback of a call to its root, ends with the root’s final status, and registers each leg with Twilio', () => {
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
        // Nothing is sent after the root ended (the actions' replies end the call that second).
        expect(Date.parse(params.Timestamp ?? '')).toBeLessThanOrEqual(root?.endTime?.getTime() ?? 0);
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
  });

  it('plays each flow as Twilio reports it', () => {
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
      expect(Math.abs(seconds(call.callbacks.at(-1)?.params.CallDuration) - 45)).toBeLessThanOrEqual(2);
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

  it('knows the ground truth of every flow, written out by hand', () => {
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

  it('judges from Twilio’s facts, whatever order the callbacks arrive in', () => {
    const random = rng(99);
    for (const call of plan.calls) {
      for (let i = 0; i < 3; i++) {
        const shuffled = [...call.callbacks, ...call.callbacks].sort(() => random() - 0.5);
        expect(judge(factsOf(shuffled), plan.settings)).toEqual(judgementOf(call));
      }
    }
  });

  it('is told by the REST API’s legs but for queue results, which only the Enqueue action carries', () => {
    for (const call of plan.calls) {
      const listed = judge(factsOfLegs(call.legs), plan.settings);
      if (call.flow.startsWith('queue-')) expect(listed).toEqual(NOT_MISSED);
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

  it('sends each delivered callback signed to its route', async () => {
    const routes: string[] = [];
    const server = createServer((req, res) => {
      routes.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        res.writeHead(req.headers['x-twilio-signature'] ? 204 : 403);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const small = planDay({ ...DAY, calls: 60 });
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
      expect(routes.sort()).toEqual(expected.map((c) => c.route).sort());
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
