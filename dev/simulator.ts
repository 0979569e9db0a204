/**
 * A day of Twilio traffic: realistic call flows, each callback signed as Twilio signs it, sent
 * with the concurrency, duplication, reordering and drops asked for, the same calls registered
 * in the local Twilio-shaped API, and the ground truth of what the ledger must end up with.
 */
import type { MissedStatus } from '../lib/ledger/calls.js';
import { callerId } from '../lib/ledger/phone.js';
import { mapLimit } from '../lib/platform/pool.js';
import { postLikeTwilio } from './sign.js';
import type { LocalCall } from './twilio-api.js';

export type Flow =
  | 'answered'
  | 'missed-direct'
  | 'dial-one-missed'
  | 'dial-three-missed'
  | 'dial-answered'
  | 'anonymous-missed'
  | 'sip-missed'
  | 'outbound-missed'
  /** Staff calling a missed caller back (planned after the day's calls, not drawn by weight). */
  | 'callback';

/** Share of each flow in a small business's day. */
export const FLOW_WEIGHTS: Readonly<Record<Flow, number>> = {
  answered: 30,
  'missed-direct': 12,
  'dial-one-missed': 14,
  'dial-three-missed': 8,
  'dial-answered': 16,
  'anonymous-missed': 4,
  'sip-missed': 2,
  'outbound-missed': 14,
  callback: 0,
};

/** A call that reached a number (Twilio knows it; its webhook may or may not arrive). */
export interface Reach {
  phone: string;
  /** When it started (the ledger reckons the same: the callback's Timestamp less its duration). */
  at: string;
  by: 'callback' | 'returned-call';
  /** Long enough, and a person answered: it resolves a callback. */
  counts: boolean;
}

export interface Callback {
  route: '/twilio/call-status' | '/twilio/dial-status';
  params: Record<string, string>;
}

export interface SimulatedCall {
  flow: Flow;
  rootCallSid: string;
  /** The Twilio-side records of every leg, as the REST API lists them. */
  legs: LocalCall[];
  callbacks: Callback[];
  /** Ground truth: the missed status, or undefined for an answered call. */
  missed: MissedStatus | undefined;
  /** Ground truth: the E.164 contact it counts for, or `anonymous`. */
  customer: string | 'anonymous' | undefined;
}

export interface Plan {
  calls: SimulatedCall[];
  truth: Truth;
  /** Answered calls with customers' numbers: staff callbacks and returned calls a person answered. */
  reaches: Reach[];
}

export interface Truth {
  missed: number;
  byStatus: Record<MissedStatus, number>;
  anonymous: number;
  /** Missed calls per contact number. */
  contacts: Map<string, number>;
}

/** mulberry32: a small seeded PRNG, so that a seed replays the same day. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const hex = (random: () => number, n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

export interface PlanOptions {
  calls: number;
  seed: number;
  accountSid: string;
  /** The business's Twilio number and its agents' phones. */
  businessNumber?: string;
  /** Calls start between these two instants. */
  from: Date;
  to: Date;
}

/** The callbacks and Twilio records of `options.calls` calls, with their ground truth. */
export function planDay(options: PlanOptions): Plan {
  const random = rng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const business = options.businessNumber ?? '+14155559876';
  const agents = ['+14155550181', '+14155550182', '+14155550183'];
  // Callers of this run: a block of numbers unique to the seed, some of them calling again.
  const area = pick(['212', '312', '415', '512', '617', '646', '718', '917']);
  const block = 2000 + Math.floor(random() * 7000);
  const pool = Array.from({ length: Math.max(5, Math.floor(options.calls * 0.6)) }, (_, i) =>
    `+1${area}${block}${String(i).padStart(3, '0')}`.slice(0, 12),
  );
  const flows = Object.entries(FLOW_WEIGHTS) as [Flow, number][];
  const totalWeight = flows.reduce((sum, [, w]) => sum + w, 0);
  const chooseFlow = (): Flow => {
    let r = random() * totalWeight;
    for (const [flow, weight] of flows) {
      r -= weight;
      if (r < 0) return flow;
    }
    return 'answered';
  };
  const span = options.to.getTime() - options.from.getTime();
  const sid = () => `CA${hex(random, 32)}`;
  const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');

  const calls: SimulatedCall[] = [];
  const reaches: Reach[] = [];
  for (let i = 0; i < options.calls; i++) {
    const flow = chooseFlow();
    const start = new Date(options.from.getTime() + Math.floor(random() * span));
    const end = new Date(start.getTime() + 25_000);
    const root = sid();
    const caller = flow === 'anonymous-missed' ? 'anonymous' : flow === 'sip-missed' ? `sip:caller${i}@example.sip.twilio.com` : pick(pool);
    const base = { AccountSid: options.accountSid, ApiVersion: '2010-04-01', CallbackSource: 'call-progress-events' };
    const statusCallback = (
      callSid: string,
      status: string,
      direction: string,
      from: string,
      to: string,
      seq: number,
      parent?: string,
    ) => ({
      route: '/twilio/call-status' as const,
      params: {
        ...base,
        CallSid: callSid,
        CallStatus: status,
        Direction: direction,
        From: from,
        To: to,
        Called: to,
        Caller: from,
        CallDuration: status === 'completed' ? '42' : '0',
        Timestamp: rfc2822(end),
        SequenceNumber: String(seq),
        ...(parent ? { ParentCallSid: parent } : {}),
      },
    });
    const leg = (
      callSid: string,
      status: LocalCall['status'],
      direction: LocalCall['direction'],
      from: string,
      to: string,
      parent?: string,
    ): LocalCall => ({
      sid: callSid,
      parentCallSid: parent ?? null,
      from,
      to,
      status,
      direction,
      startTime: start,
      durationSeconds: status === 'completed' ? 42 : 0,
    });
    const missedStatus = pick(['no-answer', 'no-answer', 'busy', 'failed'] as const);
    let legs: LocalCall[] = [];
    let callbacks: Callback[] = [];
    let missed: MissedStatus | undefined;
    let customer: string | undefined = caller;

    switch (flow) {
      case 'answered':
        legs = [leg(root, 'completed', 'inbound', caller, business)];
        callbacks = [statusCallback(root, 'completed', 'inbound', caller, business, 3)];
        break;
      case 'missed-direct':
      case 'anonymous-missed':
      case 'sip-missed':
        missed = missedStatus;
        legs = [leg(root, missed, 'inbound', caller, business)];
        callbacks = [statusCallback(root, missed, 'inbound', caller, business, 3)];
        break;
      case 'outbound-missed':
        missed = pick(['no-answer', 'busy'] as const);
        legs = [leg(root, missed, 'outbound-api', business, caller)];
        callbacks = [statusCallback(root, missed, 'outbound-api', business, caller, 3)];
        break;
      case 'dial-one-missed':
      case 'dial-three-missed':
      case 'dial-answered': {
        const dialled = flow === 'dial-three-missed' ? agents : [pick(agents)];
        // Everyone rings out the same way, so the ledger's status does not depend on arrival order.
        const childStatus: LocalCall['status'] = flow === 'dial-answered' ? 'completed' : pick(['no-answer', 'no-answer', 'busy'] as const);
        const children = dialled.map((agent) => leg(sid(), childStatus, 'outbound-dial', business, agent, root));
        legs = [leg(root, 'completed', 'inbound', caller, business), ...children];
        const answered = children[0];
        callbacks = [
          ...children.map((child) => statusCallback(child.sid, childStatus, 'outbound-dial', business, child.to, 2, root)),
          {
            route: '/twilio/dial-status',
            params: {
              AccountSid: options.accountSid,
              ApiVersion: '2010-04-01',
              CallSid: root,
              CallStatus: 'in-progress',
              Direction: 'inbound',
              From: caller,
              To: business,
              DialCallStatus: childStatus,
              DialCallSid: answered?.sid ?? root,
              DialCallDuration: childStatus === 'completed' ? '42' : '0',
              // When the dialled leg ended (answered: 42 s after it started).
              Timestamp: rfc2822(childStatus === 'completed' ? new Date(start.getTime() + 42_000) : end),
            },
          },
          statusCallback(root, 'completed', 'inbound', caller, business, 4),
        ];
        missed = flow === 'dial-answered' || childStatus === 'completed' ? undefined : childStatus;
        if (missed === undefined && callerId(caller).kind === 'number') {
          reaches.push({ phone: caller, at: start.toISOString(), by: 'returned-call', counts: true });
        }
        break;
      }
    }
    if (missed === undefined) customer = undefined;
    else if (customer !== undefined && callerId(customer).kind === 'anonymous') customer = 'anonymous';
    calls.push({ flow, rootCallSid: root, legs, callbacks, missed, customer });
  }

  // Staff call half of the missed callers back, 2 to 40 minutes later: 15% hang up within 5 s,
  // 15% reach voicemail (answering machine detection says so), the rest talk 1 to 5 minutes.
  for (const missedCall of [...calls]) {
    const phone = missedCall.customer;
    const missedLeg = missedCall.legs[0];
    if (missedCall.missed === undefined || phone === undefined || phone === 'anonymous' || missedLeg === undefined) continue;
    const roll = random();
    const startMs = missedLeg.startTime.getTime() + (2 + Math.floor(random() * 38)) * 60_000;
    const outcome = random();
    if (roll >= 0.5 || startMs > options.to.getTime()) continue;
    const kind = outcome < 0.15 ? 'short' : outcome < 0.3 ? 'machine' : 'person';
    const duration = kind === 'short' ? 5 : kind === 'machine' ? 30 : 60 + Math.floor(random() * 240);
    const start = new Date(startMs);
    const callSid = sid();
    calls.push({
      flow: 'callback',
      rootCallSid: callSid,
      legs: [
        {
          sid: callSid,
          parentCallSid: null,
          from: business,
          to: phone,
          status: 'completed',
          direction: 'outbound-api',
          startTime: start,
          durationSeconds: duration,
          answeredBy: kind === 'machine' ? 'machine_end_beep' : kind === 'person' ? 'human' : null,
        },
      ],
      callbacks: [
        {
          route: '/twilio/call-status',
          params: {
            AccountSid: options.accountSid,
            ApiVersion: '2010-04-01',
            CallSid: callSid,
            CallStatus: 'completed',
            Direction: 'outbound-api',
            From: business,
            To: phone,
            CallDuration: String(duration),
            Timestamp: rfc2822(new Date(startMs + duration * 1000)),
            ...(kind === 'short' ? {} : { AnsweredBy: kind === 'machine' ? 'machine_end_beep' : 'human' }),
          },
        },
      ],
      missed: undefined,
      customer: undefined,
    });
    reaches.push({ phone, at: start.toISOString(), by: 'callback', counts: kind === 'person' });
  }

  const truth: Truth = { missed: 0, byStatus: { 'no-answer': 0, busy: 0, failed: 0, canceled: 0 }, anonymous: 0, contacts: new Map() };
  for (const call of calls) {
    if (call.missed === undefined) continue;
    truth.missed += 1;
    truth.byStatus[call.missed] += 1;
    if (call.customer === 'anonymous') truth.anonymous += 1;
    else if (call.customer !== undefined) truth.contacts.set(call.customer, (truth.contacts.get(call.customer) ?? 0) + 1);
  }
  return { calls, truth, reaches };
}

/** What the callback worklist must end up with, from the plan and which source recorded each miss. */
export interface CallbackTruth {
  opened: number;
  resolved: Record<'callback' | 'returned-call' | 'operator', number>;
  openNow: number;
  /** The open callbacks: number → when its first unresolved miss happened. */
  open: Map<string, string>;
  /** Each resolution's seconds to callback. */
  seconds: number[];
}

/**
 * The worklist by its definition, computed here on its own: each miss of a callable number
 * belongs to the first counting call with that number that started after it; misses that none
 * follows stay open. A miss happened when the ledger says: the callback's Timestamp (the call's
 * end) when a webhook recorded it, the call's start when the reconciliation did.
 */
export function callbackTruth(plan: Plan, sourceOf: ReadonlyMap<string, 'webhook' | 'dial-action' | 'reconcile'>): CallbackTruth {
  const truth: CallbackTruth = {
    opened: 0,
    resolved: { callback: 0, 'returned-call': 0, operator: 0 },
    openNow: 0,
    open: new Map(),
    seconds: [],
  };
  const byPhone = new Map<string, string[]>();
  for (const call of plan.calls) {
    const leg = call.legs[0];
    if (call.missed === undefined || call.customer === undefined || call.customer === 'anonymous' || leg === undefined) continue;
    const at = sourceOf.get(call.rootCallSid) === 'reconcile' ? leg.startTime : new Date(leg.startTime.getTime() + 25_000);
    byPhone.set(call.customer, [...(byPhone.get(call.customer) ?? []), at.toISOString()]);
  }
  for (const [phone, misses] of byPhone) {
    const reaches = plan.reaches.filter((r) => r.phone === phone && r.counts).sort((a, b) => a.at.localeCompare(b.at));
    const groups = new Map<Reach | undefined, string[]>();
    for (const at of misses) {
      const reach = reaches.find((r) => r.at > at);
      groups.set(reach, [...(groups.get(reach) ?? []), at]);
    }
    for (const [reach, group] of groups) {
      truth.opened += 1;
      const first = [...group].sort()[0] ?? '';
      if (reach === undefined) {
        truth.openNow += 1;
        truth.open.set(phone, first);
      } else {
        truth.resolved[reach.by] += 1;
        truth.seconds.push(Math.round((Date.parse(reach.at) - Date.parse(first)) / 1000));
      }
    }
  }
  return truth;
}

export interface SendOptions {
  target: string;
  authToken: string;
  /** Share of callbacks never delivered (lost webhooks), 0..1. */
  drop: number;
  /** Share of delivered callbacks delivered twice, 0..1. */
  duplicates: number;
  concurrency: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SendSummary {
  /** Ground truth per source: which delivery records each missed call first. */
  expectedBySource: Record<'webhook' | 'dial-action' | 'reconcile', number>;
  /** Which delivery records each missed call first (by root CallSid). */
  sourceOf: Map<string, 'webhook' | 'dial-action' | 'reconcile'>;
  callbacks: number;
  sent: number;
  dropped: number;
  duplicated: number;
  failed: number;
  statuses: Record<string, number>;
}

/**
 * Sends each call's callbacks in a shuffled order (callbacks are separate requests: Twilio does
 * not guarantee their order), calls in parallel up to `concurrency`.
 */
export async function sendDay(plan: Plan, options: SendOptions): Promise<SendSummary> {
  const random = rng(options.seed ^ 0x5eed);
  const summary: SendSummary = {
    expectedBySource: { webhook: 0, 'dial-action': 0, reconcile: 0 },
    sourceOf: new Map(),
    callbacks: 0,
    sent: 0,
    dropped: 0,
    duplicated: 0,
    failed: 0,
    statuses: {},
  };
  const target = options.target.replace(/\/+$/, '');
  const post = async (callback: Callback) => {
    const url = `${target}${callback.route}`;
    const response = await postLikeTwilio(url, callback.params, options.authToken);
    await response.arrayBuffer();
    summary.sent += 1;
    summary.statuses[response.status] = (summary.statuses[response.status] ?? 0) + 1;
    if (response.status >= 400) summary.failed += 1;
  };
  // Decide drops, duplicates and order up front, from the seed, so a seed replays exactly.
  const records = (callback: Callback) =>
    callback.route === '/twilio/dial-status'
      ? ['no-answer', 'busy', 'failed'].includes(callback.params.DialCallStatus ?? '')
      : ['no-answer', 'busy', 'failed'].includes(callback.params.CallStatus ?? '');
  const work = plan.calls.map((call) => {
    const order = [...call.callbacks].sort(() => random() - 0.5);
    const delivered = order.flatMap((callback) => {
      summary.callbacks += 1;
      if (random() < options.drop) {
        summary.dropped += 1;
        return [];
      }
      if (random() < options.duplicates) {
        summary.duplicated += 1;
        return [callback, callback];
      }
      return [callback];
    });
    if (call.missed !== undefined) {
      // Sent one after another, so the first delivered callback that records decides the source.
      const first = delivered.find(records);
      const source = first === undefined ? 'reconcile' : first.route === '/twilio/dial-status' ? 'dial-action' : 'webhook';
      summary.expectedBySource[source] += 1;
      summary.sourceOf.set(call.rootCallSid, source);
    }
    return delivered;
  });
  let done = 0;
  await mapLimit(work, options.concurrency, async (callbacks) => {
    for (const callback of callbacks) await post(callback);
    done += 1;
    options.onProgress?.(done, work.length);
  });
  return summary;
}

/**
 * Who may get a text-back (TEXT_BACK=on, cooldown longer than the day): a caller whose every
 * missed call was inbound gets exactly one outcome (sent, or failed for a number marked opted out
 * or not mobile); a number we only called (outbound misses) never gets a text. A number missed
 * both ways gets at most one: whether its callback opened on an inbound or an outbound miss
 * depends on the order the ledger learned of them, so the truth is a bound there.
 */
export function textBackTruth(plan: Plan): { inboundOnly: string[]; outboundOnly: string[]; mixed: string[] } {
  const directions = new Map<string, Set<string>>();
  for (const call of plan.calls) {
    const direction = call.legs[0]?.direction;
    if (call.missed === undefined || call.customer === undefined || call.customer === 'anonymous' || direction === undefined) continue;
    directions.set(call.customer, (directions.get(call.customer) ?? new Set()).add(direction));
  }
  const of = (test: (d: Set<string>) => boolean) =>
    [...directions]
      .filter(([, d]) => test(d))
      .map(([phone]) => phone)
      .sort();
  return {
    inboundOnly: of((d) => d.size === 1 && d.has('inbound')),
    outboundOnly: of((d) => !d.has('inbound')),
    mixed: of((d) => d.size > 1 && d.has('inbound')),
  };
}
